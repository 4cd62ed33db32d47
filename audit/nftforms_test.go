package audit

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/internal/testenv"
)

// dnatLine is a dnat rule of voicewall's nftables output: the matches up
// to the protocol, the protocol, its ports and the target.
var dnatLine = regexp.MustCompile(`^(\s*iifname "[^"]+" (?:meta nfproto ipv[46] )?)((?:ip6? saddr @\S+ )?)(tcp|udp) dport (\{ [^}]* \}|\S+) (counter packets 0 bytes 0 )dnat (ip6?) to (\S+)(.*)$`)

// handWritten rewrites every dnat rule of voicewall's nftables output into
// a form a hand-written ruleset uses for the same forward: "l4proto" (meta
// l4proto P th dport), "map" (dnat ip to P dport map { PORT : ADDR, ... })
// or "named" (a named map of iifname . P dport, flags interval, declared
// after the chains: the rule's interface and ports as keys). open drops each forward's
// source set (every forward from any source).
func handWritten(src, form string, open bool) (string, int) {
	lines := strings.Split(src, "\n")
	var maps []string
	n := 0
	for i, l := range lines {
		m := dnatLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n++
		head, saddr, proto, ports, counter, fam, to, rest := m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
		if open {
			saddr = ""
		}
		var keys []string
		for _, p := range strings.Split(strings.Trim(ports, "{} "), ",") {
			keys = append(keys, strings.TrimSpace(p))
		}
		addr, port, hasPort := to, "", false
		if strings.HasPrefix(to, "[") {
			addr, port, hasPort = strings.Cut(strings.TrimPrefix(to, "["), "]:")
			addr = strings.TrimSuffix(addr, "]")
		} else if strings.Count(to, ":") == 1 {
			addr, port, hasPort = strings.Cut(to, ":")
		}
		value := addr
		if hasPort {
			value += " . " + port
		}
		var elems []string
		for _, k := range keys {
			elems = append(elems, k+" : "+value)
		}
		switch form {
		case "":
			lines[i] = fmt.Sprintf("%s%s%s dport %s %sdnat %s to %s%s", head, saddr, proto, ports, counter, fam, to, rest)
		case "l4proto":
			lines[i] = fmt.Sprintf("%s%smeta l4proto %s th dport %s %sdnat %s to %s%s", head, saddr, proto, ports, counter, fam, to, rest)
		case "map":
			lines[i] = fmt.Sprintf("%s%s%sdnat %s to %s dport map { %s }%s", head, saddr, counter, fam, proto, strings.Join(elems, ", "), rest)
		case "named":
			name := fmt.Sprintf("fwd_%d", n)
			typ := "ifname . inet_service : ipv4_addr"
			if fam == "ip6" {
				typ = "ifname . inet_service : ipv6_addr"
			}
			if hasPort {
				typ += " . inet_service"
			}
			var kv []string
			for _, e := range elems {
				kv = append(kv, `"eth0" . `+e)
			}
			maps = append(maps, fmt.Sprintf("\tmap %s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = { %s }\n\t}\n", name, typ, strings.Join(kv, ",\n\t\t\t     ")))
			lines[i] = fmt.Sprintf("%s%s%sdnat %s to iifname . %s dport map @%s%s", head, saddr, counter, fam, proto, name, rest)
		}
	}
	out := strings.Join(lines, "\n")
	if len(maps) > 0 {
		k := strings.LastIndex(out, "}") // the table's: maps after the chains, no line moves
		out = out[:k] + strings.Join(maps, "\n") + out[k:]
	}
	return out, n
}

// findingKeys are a report's findings as ID, severity, line and message,
// the map element a forward came from left out of its name.
func findingKeys(r *Report) []string {
	elem := regexp.MustCompile(` \(map element [^)]*\)`)
	var out []string
	for _, f := range r.Findings {
		out = append(out, fmt.Sprintf("%s %v %d %s | %s", f.ID, f.Severity, f.Loc.Line, elem.ReplaceAllString(f.Message, ""), f.Fix))
	}
	slices.Sort(out)
	return out
}

// TestHandWrittenNftablesForms: voicewall's nftables output of every
// example, each dnat rule rewritten as a hand-written ruleset writes the
// same forward (meta l4proto P th dport; dnat through an anonymous map of
// its ports; through a named map of interface and port), as written
// and opened to any source, with and without the policy, audits exactly
// as the output itself: the same findings on the same lines.
func TestHandWrittenNftablesForms(t *testing.T) {
	cases, found := 0, 0
	for _, ex := range testenv.Examples(t, "..") {
		p, diags := registry.Load(ex.Dir)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", ex.Name, diags)
		}
		src := string(compile(t, p, "nftables"))
		for _, open := range []bool{false, true} {
			base, n := handWritten(src, "", open)
			if n == 0 {
				continue
			}
			d, err := Read("nftables", "gw.nft", []byte(base))
			if err != nil {
				t.Fatalf("%s: %v", ex.Name, err)
			}
			for _, pol := range []bool{false, true} {
				o := Options{Target: "nftables"}
				if pol {
					o.Policy = p
				}
				want := findingKeys(Check(d, []byte(base), o))
				found += len(want)
				for _, form := range []string{"l4proto", "map", "named"} {
					text, _ := handWritten(src, form, open)
					cases++
					d, err := Read("nftables", "gw.nft", []byte(text))
					if err != nil {
						t.Errorf("%s/%s open=%v: %v", ex.Name, form, open, err)
						continue
					}
					if len(d.Forwards) < n {
						t.Errorf("%s/%s: %d forwards read of %d rules", ex.Name, form, len(d.Forwards), n)
					}
					got := findingKeys(Check(d, []byte(text), o))
					if !slices.Equal(got, want) {
						t.Errorf("%s/%s open=%v policy=%v: findings differ\ngot  %q\nwant %q", ex.Name, form, open, pol, got, want)
					}
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("no finding on any opened output: the test compares nothing")
	}
	t.Logf("%d rewritten outputs audit as written (%d findings compared)", cases, found)
}

// TestRedirectAudited: an nftables redirect sends the packet to the
// gateway itself (Forward.ToSelf): a redirect of SIP from any source on
// the WAN is reported as a forward of it is, naming the device itself;
// restricted to the providers it is not open (only the rate limit is
// missing), dropped before it it is the note VW312.
func TestRedirectAudited(t *testing.T) {
	const table = `table inet gw {
	set providers {
		type ipv4_addr
		flags interval
		elements = { 203.0.113.0/24 }
	}

	chain wan_in {
		type filter hook prerouting priority mangle; policy accept;
		DROP
	}

	chain wan_nat {
		type nat hook prerouting priority dstnat; policy accept;
		RULE
	}
}
`
	for _, c := range []struct {
		drop, rule string
		want       []string // ID and message part of each finding, in order
	}{
		{"", `iifname "eth0" udp dport 5080 redirect to :5060`, []string{"VW306 redirect rule: WAN 5080/udp is forwarded to the device itself, port 5060 (SIP) from any source", "VW307 redirect rule: WAN 5080/udp is forwarded to the device itself, port 5060 (SIP) with no per-source rate limit"}},
		{"", `iifname "eth0" udp dport 5060 counter redirect`, []string{"VW306 redirect rule forwards 5060/udp to the device itself with no source restriction", "VW307 redirect rule forwards SIP 5060/udp with no per-source rate limit"}},
		{"", `iifname "eth0" ip saddr @providers udp dport 5080 redirect to :5060`, []string{"VW307 redirect rule: WAN 5080/udp is forwarded to the device itself, port 5060 (SIP) with no per-source rate limit"}},
		{`iifname "eth0" udp dport 5080 drop`, `iifname "eth0" udp dport 5080 redirect to :5060`, []string{"VW307", "VW312 redirect rule admits 5080/udp to the device itself, port 5060 (SIP) from any source on the WAN, but no packet"}},
		{"", `iifname "eth0" tcp dport 8443 redirect to :443`, nil},
	} {
		text := strings.Replace(strings.Replace(table, "RULE", c.rule, 1), "DROP", c.drop, 1)
		d, err := Read("nftables", "gw.nft", []byte(text))
		if err != nil {
			t.Fatalf("%s: %v", c.rule, err)
		}
		r := Check(d, []byte(text), Options{Target: "nftables"})
		var got []string
		for _, f := range r.Findings {
			got = append(got, f.ID+" "+f.Message)
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: %q, want %q", c.rule, got, c.want)
			continue
		}
		for i, w := range c.want {
			if !strings.HasPrefix(got[i], w) {
				t.Errorf("%s: %q, want %q", c.rule, got[i], w)
			}
		}
	}
}
