// Package ansible holds the end-to-end test of the voicewall.gateway
// collection: the collection is built with ansible-galaxy, installed into
// a temporary collections path, and driven by real ansible-playbook runs
// over three fleet sites, each a network-namespace gateway reached with
// ansible_connection=local.
package ansible

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/internal/netnstest"
	"github.com/voicewall/voicewall/internal/testenv"
)

const repo = "../.."

// gateway is one site: its namespace and policy directory.
type gateway struct {
	name string
	ns   *netnstest.NS
	dir  string
}

type fleetEnv struct {
	t        *testing.T
	tmp      string
	bin      string
	env      []string
	fleet    string
	gateways []gateway
	// inventory is the inventory file; default tmp/inventory.ini.
	inventory string
}

func TestCollectionRollsOutFleet(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	f := setupFleet(t)

	// Check mode: every site has changes, nothing is applied.
	recap, out := f.playbook(t, "site.yml", "--check", "--diff")
	f.wantRecap(t, recap, out, map[string][2]int{"site-a": {1, 0}, "site-b": {1, 0}, "site-c": {1, 0}})
	if !strings.Contains(out, "Plan: ") {
		t.Errorf("--diff did not show voicewall's plan:\n%s", out)
	}
	for _, g := range f.gateways {
		if tab := f.table(t, g); tab != "" {
			t.Errorf("%s: check mode created the table:\n%s", g.name, tab)
		}
	}

	// A run applies all three: each table is its site's compiled output.
	recap, out = f.playbook(t, "site.yml")
	f.wantRecap(t, recap, out, map[string][2]int{"site-a": {1, 0}, "site-b": {1, 0}, "site-c": {1, 0}})
	applied := map[string]string{}
	for _, g := range f.gateways {
		applied[g.name] = f.compiled(t, g)
		if got := f.table(t, g); got != applied[g.name] {
			t.Errorf("%s: the kernel's table differs from the site's compiled output:\ngot:\n%s\nwant:\n%s", g.name, got, applied[g.name])
		}
		if pending, _ := filepath.Glob(filepath.Join(f.tmp, "state", "pending", "*.json")); len(pending) > 0 {
			t.Errorf("the role left a confirm pending: %v", pending)
		}
	}

	// A second run changes nothing.
	recap, out = f.playbook(t, "site.yml")
	f.wantRecap(t, recap, out, map[string][2]int{"site-a": {0, 0}, "site-b": {0, 0}, "site-c": {0, 0}})

	// The common rate limit changes for every site, and site-b is broken:
	// site-b fails alone with voicewall's located error, keeps its table,
	// and the others apply.
	f.edit(t, "common/protection.hcl", `sip   = "10/second"`, `sip   = "12/second"`)
	f.edit(t, "sites/site-b/site.hcl", `address   = "10.2.0.10"`, `address   = "10.2.0.300"`)
	recap, out = f.playbook(t, "site.yml")
	f.wantRecap(t, recap, out, map[string][2]int{"site-a": {1, 0}, "site-b": {0, 1}, "site-c": {1, 0}})
	if !regexp.MustCompile(`site-b/site\.hcl:\d+:\d+: error\[VW010\]: Bad PBX address`).MatchString(out) {
		t.Errorf("site-b's failure does not carry voicewall's located error:\n%s", out)
	}
	for _, g := range f.gateways {
		want := applied[g.name]
		if g.name != "site-b" {
			want = f.compiled(t, g)
			if want == applied[g.name] {
				t.Fatalf("%s: the common edit changed nothing (test bug)", g.name)
			}
		}
		if got := f.table(t, g); got != want {
			t.Errorf("%s: table after the run with a broken site-b:\ngot:\n%s\nwant:\n%s", g.name, got, want)
		}
	}

	// The collection's rollout playbook: canary first, stop on failure.
	// site-a (the canary) is broken; site-b and site-c must not be touched
	// although their policies changed.
	f.edit(t, "sites/site-b/site.hcl", `address   = "10.2.0.300"`, `address   = "10.2.0.10"`)
	f.edit(t, "sites/site-a/site.hcl", `address   = "10.1.0.10"`, `address   = "10.1.0.300"`)
	before := map[string]string{}
	for _, g := range f.gateways {
		before[g.name] = f.table(t, g)
	}
	recap, out = f.playbook(t, "voicewall.gateway.rollout")
	f.wantRecap(t, recap, out, map[string][2]int{"site-a": {0, 1}})
	for _, g := range f.gateways {
		if got := f.table(t, g); got != before[g.name] {
			t.Errorf("%s: the rollout went on after the canary failed", g.name)
		}
	}
}

// built is voicewall and the installed collection, made once for every
// test of the package (TestMain).
var built struct {
	dir, bin, collections string
	err                   error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "voicewall-ansible-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	built.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles voicewall and builds and installs the collection as a
// release would (ansible-galaxy collection build, then install of the
// tarball into a private collections path), once.
func build(t *testing.T) {
	t.Helper()
	netnstest.Require(t, "ansible-playbook", "ansible-galaxy", "go")
	if built.bin != "" || built.err != nil {
		if built.err != nil {
			t.Fatal(built.err)
		}
		return
	}
	bin := filepath.Join(built.dir, "voicewall")
	dist := filepath.Join(built.dir, "dist")
	collections := filepath.Join(built.dir, "collections")
	steps := [][]string{
		{repo, "go", "build", "-o", bin, "./cmd/voicewall"},
		{".", "ansible-galaxy", "collection", "build", ".", "--output-path", dist},
	}
	for _, s := range steps {
		if out, err := command(s[0], s[1], s[2:]...); err != nil {
			built.err = fmt.Errorf("%s: %v\n%s", strings.Join(s[1:], " "), err, out)
			t.Fatal(built.err)
		}
	}
	tarballs, _ := filepath.Glob(filepath.Join(dist, "voicewall-gateway-*.tar.gz"))
	if len(tarballs) != 1 {
		built.err = fmt.Errorf("ansible-galaxy collection build made %v", tarballs)
		t.Fatal(built.err)
	}
	if out, err := command(".", "ansible-galaxy", "collection", "install", tarballs[0], "-p", collections); err != nil {
		built.err = fmt.Errorf("ansible-galaxy collection install: %v\n%s", err, out)
		t.Fatal(built.err)
	}
	built.bin, built.collections = bin, collections
}

// newEnv is a test's working directory and ansible-playbook environment.
func newEnv(t *testing.T) *fleetEnv {
	t.Helper()
	build(t)
	f := &fleetEnv{t: t, tmp: t.TempDir(), bin: built.bin}
	f.fleet = filepath.Join(f.tmp, "fleet")
	// The fleet is a repository, as in docs/fleet.md: its sites may read
	// ../../common (a policy reads only inside its repository, its own
	// tree, /etc/voicewall or VOICEWALL_READ_PATH).
	if err := os.MkdirAll(filepath.Join(f.fleet, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.env = append(os.Environ(),
		"ANSIBLE_COLLECTIONS_PATH="+built.collections,
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(f.tmp, "ansible-local"),
		"ANSIBLE_REMOTE_TEMP="+filepath.Join(f.tmp, "ansible-remote"),
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_FORCE_COLOR=0",
		"ANSIBLE_FORKS=3",
		"ANSIBLE_RETRY_FILES_ENABLED=0",
		"ANSIBLE_DEPRECATION_WARNINGS=0",
		// voicewall's state (cache, pending confirms, last good tables,
		// ban records) stays in the test.
		"VOICEWALL_STATE_DIR="+filepath.Join(f.tmp, "state"),
		"VOICEWALL_LIB_DIR="+filepath.Join(f.tmp, "lib"),
	)
	return f
}

func setupFleet(t *testing.T) *fleetEnv {
	t.Helper()
	f := newEnv(t)
	// The fleet: examples/fleet's common directory and three Linux sites.
	testenv.CopyDir(t, filepath.Join(repo, "examples", "fleet", "common"), filepath.Join(f.fleet, "common"))
	var inv strings.Builder
	inv.WriteString("[voicewall_gateways]\n")
	for i, name := range []string{"site-a", "site-b", "site-c"} {
		g := f.addSite(t, name, i+1, "gw"+name[len(name)-1:])
		ns := g.ns
		f.gateways = append(f.gateways, g)
		fmt.Fprintf(&inv, "%s ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ansible_become=false voicewall_netns=%s voicewall_policy=%s voicewall_binary=%s\n",
			name, ns.Name, g.dir, f.bin)
	}
	writeFile(t, filepath.Join(f.tmp, "inventory.ini"), inv.String())
	writeFile(t, filepath.Join(f.tmp, "site.yml"), `---
- name: Roll voicewall out to every site at once
  hosts: voicewall_gateways
  gather_facts: false
  roles:
    - role: voicewall.gateway.rollout
      vars:
        voicewall_confirm_timeout: 60s
`)
	return f
}

// addSite writes sites/<name>/site.hcl (siteHCL(n)) into the fleet and
// gives it a gateway namespace named nsLabel whose eth0 (the WAN) is up.
func (f *fleetEnv) addSite(t *testing.T, name string, n int, nsLabel string) gateway {
	t.Helper()
	dir := filepath.Join(f.fleet, "sites", name)
	writeFile(t, filepath.Join(dir, "site.hcl"), siteHCL(n))
	ns := netnstest.NewNS(t, nsLabel)
	for _, c := range [][]string{
		{"ip", "link", "add", "eth0", "type", "veth", "peer", "name", "eth1"},
		{"ip", "link", "set", "eth0", "up"},
		{"ip", "link", "set", "eth1", "up"},
	} {
		if out, err := ns.Run(c...); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	return gateway{name: name, ns: ns, dir: dir}
}

// siteHCL is a Linux gateway site using the common directory.
func siteHCL(n int) string {
	return fmt.Sprintf(`use "common" {
  path = "../../common"
}

target "nftables" {
  wan = "eth0"
  lan = "eth1"
}

pbx "asterisk" {
  address   = "10.%d.0.10"
  providers = ["carrier"]
  rtp_ports = "10000-%d"
}

rtp {
  ports = "10000-%d"
}
`, n, 10000+n*1000, 10000+n*1000)
}

var recapRe = regexp.MustCompile(`(?m)^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)`)

// playbook runs ansible-playbook and returns each host's [changed, failed]
// from the play recap, and the whole output.
func (f *fleetEnv) playbook(t *testing.T, playbook string, args ...string) (map[string][2]int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	inv := f.inventory
	if inv == "" {
		inv = filepath.Join(f.tmp, "inventory.ini")
	}
	argv := append([]string{"-i", inv, playbook}, args...)
	cmd := exec.CommandContext(ctx, "ansible-playbook", argv...)
	cmd.Dir, cmd.Env = f.tmp, f.env
	start := time.Now()
	b, err := cmd.CombinedOutput()
	out := string(b)
	t.Logf("ansible-playbook %s: %v in %v", strings.Join(argv[2:], " "), err, time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("ansible-playbook timed out:\n%s", out)
	}
	recap := map[string][2]int{}
	for _, m := range recapRe.FindAllStringSubmatch(out, -1) {
		changed, _ := strconv.Atoi(m[2])
		unreachable, _ := strconv.Atoi(m[3])
		failed, _ := strconv.Atoi(m[4])
		recap[m[1]] = [2]int{changed, failed + unreachable}
	}
	if len(recap) == 0 {
		t.Fatalf("no play recap in the output (%v):\n%s", err, out)
	}
	return recap, out
}

func (f *fleetEnv) wantRecap(t *testing.T, got map[string][2]int, out string, want map[string][2]int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("play recap [changed failed] per host = %v, want %v\n%s", got, want, out)
	}
}

// table is the namespace's table inet voicewall as nft lists it (counters
// zeroed), or "" when there is none.
func (f *fleetEnv) table(t *testing.T, g gateway) string {
	t.Helper()
	out, err := g.ns.Run("nft", "list", "tables")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "table inet voicewall") {
		return ""
	}
	out, err = g.ns.Run("nft", "list", "table", "inet", "voicewall")
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`counter packets \d+ bytes \d+`).ReplaceAllString(out, "counter packets 0 bytes 0")
}

// compiled is the table of `voicewall compile SITE --target nftables`.
func (f *fleetEnv) compiled(t *testing.T, g gateway) string {
	t.Helper()
	out := run(t, ".", f.bin, "compile", g.dir, "--target", "nftables")
	table, ok := strings.CutPrefix(out, vw.FileHeader)
	if !ok {
		t.Fatalf("compiled output does not start with the file header:\n%s", out)
	}
	return table
}

func (f *fleetEnv) edit(t *testing.T, rel, from, to string) {
	t.Helper()
	p := filepath.Join(f.fleet, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), from) {
		t.Fatalf("%s does not contain %q", rel, from)
	}
	writeFile(t, p, strings.Replace(string(b), from, to, 1))
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func command(dir, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The rollout role with voicewall_sync_from copies the fleet to the
// gateway (common/ and sites/<host>/ under voicewall_root), removes .hcl
// files the repository no longer has, and plans the copied policy even in
// check mode, without touching the firewall.
func TestRolloutSyncsPolicy(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	f := newEnv(t)
	testenv.CopyDir(t, filepath.Join(repo, "examples", "fleet", "common"), filepath.Join(f.fleet, "common"))
	g := f.addSite(t, "site-a", 1, "gwsync")
	ns := g.ns
	// The gateway's filesystem root. A file left by an old release must be
	// removed, or its duplicate provider would break the load.
	root := filepath.Join(f.tmp, "gateway", "etc", "voicewall")
	stale := filepath.Join(root, "common", "old-carrier.hcl")
	writeFile(t, stale, "provider \"carrier\" {\n  signaling = [\"192.0.2.1\"]\n}\n")
	writeFile(t, filepath.Join(f.tmp, "inventory.ini"), fmt.Sprintf("[voicewall_gateways]\nsite-a ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ansible_become=false voicewall_netns=%s voicewall_root=%s voicewall_sync_from=%s voicewall_binary=%s voicewall_confirm_timeout=\"\"\n",
		ns.Name, root, f.fleet, f.bin))
	writeFile(t, filepath.Join(f.tmp, "site.yml"), "---\n- hosts: voicewall_gateways\n  gather_facts: false\n  roles:\n    - voicewall.gateway.rollout\n")

	recap, out := f.playbook(t, "site.yml")
	f.wantRecap(t, recap, out, map[string][2]int{"site-a": {1, 0}})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale policy file is still on the gateway (%v)", err)
	}
	copied, err := os.ReadFile(filepath.Join(root, "sites", "site-a", "site.hcl"))
	if err != nil || string(copied) != siteHCL(1) {
		t.Errorf("the site's policy was not copied to the gateway (%v)", err)
	}
	applied := f.compiled(t, g)
	if got := f.table(t, g); got != applied {
		t.Errorf("the kernel's table differs from the site's compiled output:\ngot:\n%s\nwant:\n%s", got, applied)
	}

	// Check mode plans the new policy (copied), and leaves the firewall.
	f.edit(t, "common/protection.hcl", `sip   = "10/second"`, `sip   = "12/second"`)
	recap, out = f.playbook(t, "site.yml", "--check")
	f.wantRecap(t, recap, out, map[string][2]int{"site-a": {1, 0}})
	if got := f.table(t, g); got != applied {
		t.Errorf("check mode changed the table")
	}
}

// A synced policy that does not validate is refused in the staging
// directory: the live policy on the gateway stays exactly as it was (so the
// boot unit still loads it), the table is untouched, and the host fails.
func TestRolloutRefusesInvalidPolicy(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	f := newEnv(t)
	testenv.CopyDir(t, filepath.Join(repo, "examples", "fleet", "common"), filepath.Join(f.fleet, "common"))
	g := f.addSite(t, "site-a", 1, "gwstage")
	root := filepath.Join(f.tmp, "gateway", "etc", "voicewall")
	writeFile(t, filepath.Join(f.tmp, "inventory.ini"), fmt.Sprintf("[voicewall_gateways]\nsite-a ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ansible_become=false voicewall_netns=%s voicewall_root=%s voicewall_sync_from=%s voicewall_binary=%s voicewall_confirm_timeout=\"\"\n",
		g.ns.Name, root, f.fleet, f.bin))
	writeFile(t, filepath.Join(f.tmp, "site.yml"), "---\n- hosts: voicewall_gateways\n  gather_facts: false\n  roles:\n    - voicewall.gateway.rollout\n")
	recap, out := f.playbook(t, "site.yml")
	f.wantRecap(t, recap, out, map[string][2]int{"site-a": {1, 0}})
	applied := f.table(t, g)
	live := filepath.Join(root, "sites", "site-a", "site.hcl")
	before, _ := os.ReadFile(live)

	// A broken commit: a bad CIDR in the site, and a new file in common.
	f.edit(t, "sites/site-a/site.hcl", `address   = "10.1.0.10"`, `address   = "10.1.0.300"`)
	writeFile(t, filepath.Join(f.fleet, "common", "extra.hcl"), "blocklist \"extra\" {\n  addresses = [\"198.51.100.0/24\"]\n}\n")
	recap, out = f.playbook(t, "site.yml")
	f.wantRecap(t, recap, out, map[string][2]int{"site-a": {0, 1}})
	if !strings.Contains(out, "does not validate; the live policy") || !strings.Contains(out, "10.1.0.300") {
		t.Errorf("the refusal does not say why:\n%s", out)
	}
	if now, _ := os.ReadFile(live); string(now) != string(before) {
		t.Errorf("the live policy changed:\n%s", now)
	}
	if _, err := os.Stat(filepath.Join(root, "common", "extra.hcl")); !os.IsNotExist(err) {
		t.Errorf("a file of the refused commit reached the live policy (%v)", err)
	}
	if got := f.table(t, g); got != applied {
		t.Errorf("the table changed")
	}
	// Fixed: it goes through.
	f.edit(t, "sites/site-a/site.hcl", `address   = "10.1.0.300"`, `address   = "10.1.0.10"`)
	recap, out = f.playbook(t, "site.yml")
	f.wantRecap(t, recap, out, map[string][2]int{"site-a": {1, 0}})
	if _, err := os.Stat(filepath.Join(root, "common", "extra.hcl")); err != nil {
		t.Errorf("the fixed commit did not reach the gateway: %v", err)
	}
}

// An apply with confirm_timeout that nobody confirms is rolled back by
// voicewall's helper, and voicewall.gateway.confirm then fails: a rollout
// whose gateway went silent stops instead of counting it as done.
func TestUnconfirmedApplyRollsBack(t *testing.T) {
	netnstest.Require(t, "root", "ip", "nft")
	f := newEnv(t)
	testenv.CopyDir(t, filepath.Join(repo, "examples", "fleet", "common"), filepath.Join(f.fleet, "common"))
	g := f.addSite(t, "site-a", 1, "gwroll")
	site, ns := g.dir, g.ns
	writeFile(t, filepath.Join(f.tmp, "inventory.ini"), fmt.Sprintf("[gw]\nsite-a ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"))
	writeFile(t, filepath.Join(f.tmp, "site.yml"), fmt.Sprintf(`---
- hosts: gw
  gather_facts: false
  tasks:
    - voicewall.gateway.apply:
        path: %q
        netns: %q
        binary: %q
        confirm_timeout: 2s
      register: vw
    - ansible.builtin.assert:
        that: [vw.changed, vw.pending_confirm]
    - ansible.builtin.pause:
        seconds: 5
    - voicewall.gateway.confirm:
        netns: %q
        binary: %q
`, site, ns.Name, f.bin, ns.Name, f.bin))
	recap, out := f.playbook(t, "site.yml")
	f.wantRecap(t, recap, out, map[string][2]int{"site-a": {1, 1}})
	if !strings.Contains(out, "voicewall confirm failed") {
		t.Errorf("the confirm after the deadline did not fail with voicewall's message:\n%s", out)
	}
	if tab := f.table(t, gateway{name: "site-a", ns: ns}); tab != "" {
		t.Errorf("the unconfirmed table was not rolled back:\n%s", tab)
	}
}

// ansible-doc renders every module's and role's documentation from the
// installed collection (a YAML slip in DOCUMENTATION would break it).
func TestCollectionDocs(t *testing.T) {
	f := newEnv(t)
	for _, args := range [][]string{
		{"voicewall.gateway.apply"}, {"voicewall.gateway.confirm"},
		{"-t", "role", "voicewall.gateway.rollout"}, {"-t", "role", "voicewall.gateway.pfsense"}, {"-t", "role", "voicewall.gateway.fortigate"},
	} {
		cmd := exec.Command("ansible-doc", args...)
		cmd.Env = f.env
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(strings.ToLower(string(out)), strings.ToLower(args[len(args)-1])) || strings.Contains(string(out), "ERROR") {
			t.Errorf("ansible-doc %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// The pfSense playbook against a stand-in firewall on this machine: the
// firewall's config.xml, config cache and reload command are files and a
// command here (the real ones are /cf/conf/config.xml, /tmp/config.cache
// and /etc/rc.reload_all; docs/fleet.md says where that comes from).
func TestPfSensePlaybook(t *testing.T) {
	f := newEnv(t)
	testenv.CopyDir(t, filepath.Join(repo, "examples", "fleet"), f.fleet)
	fw := filepath.Join(f.tmp, "firewall")
	base, err := os.ReadFile(filepath.Join(repo, "backends", "pfsense", "testdata", "base-config.xml"))
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(fw, "config.xml")
	cache := filepath.Join(fw, "config.cache")
	reloaded := filepath.Join(fw, "reloaded")
	writeFile(t, config, string(base))
	writeFile(t, cache, "cached")
	f.inventory = filepath.Join(f.fleet, "inventory.yml")
	writeFile(t, f.inventory, fmt.Sprintf(`voicewall_pfsense:
  hosts:
    store-pfsense:
      ansible_connection: local
      ansible_python_interpreter: /usr/bin/python3
      voicewall_compiler: %q
      pfsense_config: %q
      pfsense_config_cache: %q
      pfsense_reload: ["touch", %q]
`, f.bin, config, cache, reloaded))

	// What the firewall must end up with: the site merged into its config.
	want := run(t, ".", f.bin, "compile", filepath.Join(f.fleet, "sites", "store-pfsense"), "--target", "pfsense", "--base", config)

	// Changed tasks: the config.xml and the cache (and, for real, the reload).
	recap, out := f.playbook(t, "voicewall.gateway.pfsense", "--check", "--diff")
	f.wantRecap(t, recap, out, map[string][2]int{"store-pfsense": {2, 0}})
	if got, _ := os.ReadFile(config); string(got) != string(base) {
		t.Errorf("check mode changed the firewall's config.xml")
	}
	if !strings.Contains(out, "voicewall:") {
		t.Errorf("--diff does not show voicewall's items:\n%s", out)
	}

	recap, out = f.playbook(t, "voicewall.gateway.pfsense")
	f.wantRecap(t, recap, out, map[string][2]int{"store-pfsense": {3, 0}})
	if got, _ := os.ReadFile(config); string(got) != want {
		t.Errorf("the firewall's config.xml is not the site merged into its config")
	}
	if _, err := os.Stat(cache); !os.IsNotExist(err) {
		t.Errorf("the config cache was not dropped (%v)", err)
	}
	if _, err := os.Stat(reloaded); err != nil {
		t.Errorf("the reload command did not run: %v", err)
	}
	if backups, _ := filepath.Glob(config + ".*~"); len(backups) != 1 {
		t.Errorf("want one backup of the previous config.xml, got %v", backups)
	}

	// Again: voicewall's merge of its own output is the same file, so
	// nothing changes and nothing is reloaded.
	os.Remove(reloaded)
	recap, out = f.playbook(t, "voicewall.gateway.pfsense")
	f.wantRecap(t, recap, out, map[string][2]int{"store-pfsense": {0, 0}})
	if _, err := os.Stat(reloaded); !os.IsNotExist(err) {
		t.Errorf("an unchanged config was reloaded")
	}
}

// The FortiGate playbook in check mode: compile on the controller, report
// changed when the script differs from the last push, contact no device.
// It needs fortinet.fortios (not in ansible-core) to resolve its modules.
func TestFortiGatePlaybookCheckMode(t *testing.T) {
	f := newEnv(t)
	if out, err := command(".", "ansible-doc", "-t", "module", "fortinet.fortios.fortios_monitor"); err != nil {
		t.Skipf("fortinet.fortios is not installed (ansible-galaxy collection install fortinet.fortios): %s", firstLine(out))
	}
	testenv.CopyDir(t, filepath.Join(repo, "examples", "fleet"), f.fleet)
	f.inventory = filepath.Join(f.fleet, "inventory.yml")
	// 127.0.0.1:9 (discard): nothing is sent in check mode; were it, the
	// connection would fail and so would the test.
	writeFile(t, f.inventory, fmt.Sprintf(`voicewall_fortigate:
  hosts:
    branch-fortigate:
      ansible_host: 127.0.0.1
      ansible_httpapi_port: 9
      voicewall_compiler: %q
  vars:
    ansible_connection: httpapi
    ansible_network_os: fortinet.fortios.fortios
    ansible_httpapi_use_ssl: true
`, f.bin))
	recap, out := f.playbook(t, "voicewall.gateway.fortigate", "--check")
	f.wantRecap(t, recap, out, map[string][2]int{"branch-fortigate": {1, 0}})
	script := filepath.Join(f.fleet, "build", "branch-fortigate", "fortigate.conf")
	// The first push compiles against the site's own first compile.
	first := filepath.Join(f.tmp, "first")
	run(t, ".", f.bin, "compile", filepath.Join(f.fleet, "sites", "branch-fortigate"), "--target", "fortigate", "-o", first)
	want := run(t, ".", f.bin, "compile", filepath.Join(f.fleet, "sites", "branch-fortigate"), "--target", "fortigate", "--base", filepath.Join(first, "fortigate.conf"))
	if got, err := os.ReadFile(script); err != nil || string(got) != want {
		t.Errorf("the compiled script %s is not the site's compile output (%v)", script, err)
	}

	// As if that script had been pushed: the next compile runs against it
	// (--base) and, the policy being the same, nothing is to be pushed.
	writeFile(t, filepath.Join(f.fleet, "build", "branch-fortigate", "fortigate.pushed.conf"), want)
	recap, out = f.playbook(t, "voicewall.gateway.fortigate", "--check")
	f.wantRecap(t, recap, out, map[string][2]int{"branch-fortigate": {0, 0}})
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
