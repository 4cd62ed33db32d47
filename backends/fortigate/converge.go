package fortigate

// Convergence with what the FortiGate already holds. A FortiOS script can
// only say what to set: it cannot list a table and delete what voicewall no
// longer needs. So `--base` takes the FortiGate's configuration (a backup,
// `show` output, or simply the fortigate.conf voicewall wrote last time) and
// the script then also
//   - deletes every voicewall-owned object and policy the base has and the
//     new policy does not, after the new ones are in place, policies before
//     the objects they name (FortiOS refuses to delete a referenced object);
//   - moves voicewall's firewall, local-in and local-in6 policies above the
//     first policy of the admin's own in each table;
//   - deletes the SIP session helper by the id the base gives it.
// Owned means: the name starts with "vw-" and the comment with "voicewall",
// or (policies) the id is in voicewall's range and the comment says so.

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/voicewall/voicewall/backends"
)

// ownedTables are the tables voicewall writes, in the order their stale
// entries are deleted: whatever references an entry is deleted before it.
var ownedTables = []struct {
	path string
	byID bool // keyed by a policy id rather than a vw- name
}{
	{"firewall policy", true},
	{"firewall local-in-policy", true},
	{"firewall local-in-policy6", true},
	{"firewall DoS-policy", true},
	{"firewall DoS-policy6", true},
	{"firewall vip", false},
	{"firewall vip6", false},
	{"firewall addrgrp", false},
	{"firewall addrgrp6", false},
	{"firewall address", false},
	{"firewall address6", false},
	{"system external-resource", false},
	{"firewall service group", false},
	{"firewall service custom", false},
}

// baseConfig is what the compile needs from --base.
type baseConfig struct {
	tree *cfgTree
	vdom string
}

// looksXML tells a pfSense config.xml (for the pfsense target of the same
// compile) from FortiOS text.
func looksXML(b []byte) bool {
	return bytes.HasPrefix(bytes.TrimSpace(b), []byte("<"))
}

const baseHelp = "Give a configuration backup of the FortiGate (System > Configuration > Backup, unencrypted), `show` output, or the fortigate.conf voicewall wrote last time."

// readBase parses --base. Anything but a FortiOS configuration (a pfSense
// config.xml, an empty file, a Vigor script) is refused: the script would
// otherwise claim to converge with a configuration it never read.
func (c *compiler) readBase() bool {
	if c.opts.Base == nil {
		return true
	}
	if kind := backends.LooksLike(c.opts.Base); kind != "a FortiOS configuration" && (looksXML(c.opts.Base) || kind == "an empty file" || strings.HasPrefix(kind, "binary") || kind == "a DrayTek Vigor command script") {
		c.Errorf(c.t.Origin, "--base is not a FortiOS configuration", "this looks like %s, not a FortiGate configuration. %s", kind, baseHelp)
		return false
	}
	t, err := readTree("base", c.opts.Base)
	if err != nil {
		c.Errorf(c.t.Origin, "cannot read the --base FortiOS configuration", "%v. %s", err, baseHelp)
		return false
	}
	if len(t.blocks) == 0 {
		c.Errorf(c.t.Origin, "--base is not a FortiOS configuration", "it has no config ... end block: this looks like %s. %s", backends.LooksLike(c.opts.Base), baseHelp)
		return false
	}
	if c.vdom == "" {
		if v := multiVDOM(t); v != "" {
			c.Errorf(c.t.Origin, "--base is a multi-VDOM configuration", "the --base configuration has config global and config vdom sections (VDOM %q), so the FortiGate runs in multi-VDOM mode and refuses firewall commands outside a VDOM; the script would not load. Set vdom = %q (the VDOM that carries the voice traffic) in target \"fortigate\": the script is then wrapped in config vdom / edit %s and the VLAN interfaces go under config global.", v, v, v)
			return false
		}
	}
	c.checkBaseInterfaces(t)
	c.checkBaseVersion()
	c.base = &baseConfig{tree: t, vdom: c.vdom}
	return true
}

// multiVDOM names a VDOM of a multi-VDOM configuration (one whose tables
// sit inside config vdom / edit NAME), or "" for a single-VDOM one.
func multiVDOM(t *cfgTree) string {
	for _, b := range t.blocks {
		if b.path != "vdom" {
			continue
		}
		for _, e := range b.entries {
			if len(e.subs) > 0 {
				return e.key
			}
		}
	}
	return ""
}

// tables returns the blocks of path that belong to the compile's VDOM.
func (b *baseConfig) tables(path string) []*cfgBlock {
	var out []*cfgBlock
	for _, blk := range b.tree.find(path) {
		if blk.vdom == b.vdom || (b.vdom == "" && blk.vdom == "root") {
			out = append(out, blk)
		}
	}
	return out
}

func attr(e *cfgEntry, k string) string {
	return strings.Join(e.attrs[k].vals, " ")
}

// ownedEntry reports whether a table entry is voicewall's.
func ownedEntry(path string, byID bool, e *cfgEntry) bool {
	comment := attr(e, "comment") + attr(e, "comments")
	if byID {
		id, err := strconv.Atoi(e.key)
		if err != nil || !strings.HasPrefix(comment, "voicewall") {
			return false
		}
		switch path {
		case "firewall policy":
			return id >= policyIDBase && id < policyIDBase+policyIDSpan
		case "firewall local-in-policy", "firewall local-in-policy6":
			return id >= localInIDBase
		default:
			return id >= dosIDBase
		}
	}
	return strings.HasPrefix(e.key, "vw-") && strings.HasPrefix(comment, "voicewall")
}

// owned lists voicewall's entries of each table of a configuration.
func owned(tables func(string) []*cfgBlock) map[string][]*cfgEntry {
	out := map[string][]*cfgEntry{}
	for _, tb := range ownedTables {
		for _, blk := range tables(tb.path) {
			for _, e := range blk.entries {
				if ownedEntry(tb.path, tb.byID, e) {
					out[tb.path] = append(out[tb.path], e)
				}
			}
		}
	}
	return out
}

// staleDelete is one table's deletes.
type staleDelete struct {
	path string
	keys []string // as the CLI takes them: ids bare, names quoted
}

// planStale computes the deletes: what the base owns that the new script
// (script, already rendered once without deletes) does not.
func (c *compiler) planStale(script string) error {
	if c.base == nil {
		return nil
	}
	now, err := readTree("script", []byte(script))
	if err != nil {
		return fmt.Errorf("voicewall's own script does not read back: %v", err)
	}
	fresh := &baseConfig{tree: now, vdom: c.vdom}
	keep := owned(fresh.tables)
	had := owned(c.base.tables)
	c.stale = nil
	for _, tb := range ownedTables {
		kept := map[string]bool{}
		for _, e := range keep[tb.path] {
			kept[e.key] = true
		}
		var gone []*cfgEntry
		for _, e := range had[tb.path] {
			if !kept[e.key] {
				gone = append(gone, e)
			}
		}
		if len(gone) == 0 {
			continue
		}
		if strings.HasPrefix(tb.path, "firewall addrgrp") {
			gone = parentsFirst(gone)
		}
		d := staleDelete{path: tb.path}
		for _, e := range gone {
			if tb.byID {
				d.keys = append(d.keys, e.key)
			} else {
				d.keys = append(d.keys, q(e.key))
			}
		}
		c.stale = append(c.stale, d)
	}
	// Voice VLAN interfaces are listed, never deleted: the admin may have
	// given one a DHCP server, addresses or policies of their own.
	isOwnedIf := func(e *cfgEntry) bool {
		return strings.HasPrefix(e.key, "vw-") && strings.HasPrefix(attr(e, "description"), "voicewall")
	}
	keptIf := map[string]bool{}
	for _, blk := range now.find("system interface") {
		for _, e := range blk.entries {
			keptIf[e.key] = true
		}
	}
	c.staleIfs = nil
	for _, blk := range c.base.tree.find("system interface") {
		for _, e := range blk.entries {
			if isOwnedIf(e) && !keptIf[e.key] {
				c.staleIfs = append(c.staleIfs, e.key)
			}
		}
	}
	return nil
}

// parentsFirst orders groups so that a group is deleted before any group it
// has as a member (voicewall splits large groups into sub-groups).
func parentsFirst(gs []*cfgEntry) []*cfgEntry {
	left := slices.Clone(gs)
	var out []*cfgEntry
	for len(left) > 0 {
		progressed := false
		for i := 0; i < len(left); i++ {
			g := left[i]
			referenced := false
			for _, o := range left {
				if o != g && slices.Contains(o.attrs["member"].vals, g.key) {
					referenced = true
					break
				}
			}
			if !referenced {
				out = append(out, g)
				left = append(left[:i], left[i+1:]...)
				i--
				progressed = true
			}
		}
		if !progressed { // a cycle cannot come from voicewall; keep the order
			return append(out, left...)
		}
	}
	return out
}

// firstForeignPolicy is the id of the first firewall policy in the base that
// is not voicewall's, in evaluation order; "" when there is none.
func (c *compiler) firstForeignPolicy() string { return c.firstForeign("firewall policy") }

// firstForeign is the id of the first entry of an ordered policy table
// (firewall policy, local-in-policy, local-in-policy6) in the base that is
// not voicewall's, in evaluation order; "" when there is none.
func (c *compiler) firstForeign(path string) string {
	if c.base == nil {
		return ""
	}
	for _, blk := range c.base.tables(path) {
		for _, e := range blk.ordered() {
			if !ownedEntry(path, true, e) {
				return e.key
			}
		}
	}
	return ""
}

// baseSIPHelpers are the ids of the base's SIP session helper entries
// (name sip); found is false when the base has no session-helper table.
func (c *compiler) baseSIPHelpers() (ids []string, found bool) {
	if c.base == nil {
		return nil, false
	}
	for _, blk := range c.base.tree.find("system session-helper") {
		found = true
		for _, e := range blk.entries {
			if attr(e, "name") == "sip" {
				ids = append(ids, e.key)
			}
		}
	}
	return ids, found
}

// renderStale writes the deletes, last in the script.
func (c *compiler) renderStale(w *writer) {
	for _, name := range c.staleIfs {
		w.comment("Voice VLAN interface " + name + " is no longer in the policy. It is not deleted (it may carry")
		w.comment("settings of yours): once nothing uses it, config system interface / delete \"" + name + "\" / end.")
	}
	if len(c.stale) == 0 {
		if c.base != nil {
			w.comment("Nothing of an earlier voicewall version is left in the base configuration to delete.")
			w.blank()
		}
		return
	}
	w.comment("Stale: voicewall objects and policies the base configuration has and this policy no longer")
	w.comment("needs. Deleted last, policies before the objects they name, so pasting converges.")
	for _, d := range c.stale {
		w.config(d.path)
		for _, k := range d.keys {
			w.line("delete " + k)
		}
		w.end()
	}
	w.blank()
}

// checkBaseInterfaces warns when the base declares its interfaces (a
// backup) but not the ones the script names: FortiOS refuses a policy or
// VIP on an interface it does not have, and the paste stops there.
func (c *compiler) checkBaseInterfaces(t *cfgTree) {
	have := map[string]bool{"any": true}
	declared := false
	for _, path := range []string{"system interface", "system zone"} {
		for _, b := range t.find(path) {
			declared = declared || path == "system interface"
			for _, e := range b.entries {
				have[e.key] = true
			}
		}
	}
	if !declared {
		return // a script or `show` of some tables: nothing to check against
	}
	for _, b := range append(t.find("system sdwan"), t.find("system virtual-wan-link")...) {
		have["virtual-wan-link"] = true
		for _, s := range b.subs {
			if s.path == "zone" {
				for _, e := range s.entries {
					have[e.key] = true
				}
			}
		}
	}
	var missing []string
	for _, n := range []struct{ attr, name string }{{"wan", c.t.WAN}, {"lan", c.t.LAN}} {
		if !have[n.name] {
			missing = append(missing, fmt.Sprintf("%s = %q", n.attr, n.name))
		}
	}
	if len(missing) > 0 {
		c.Warnf(c.t.Origin, "interfaces missing from --base", "the --base configuration declares no interface named by %s in target %q: FortiOS refuses the policies and VIPs on it when the script is pasted. Set wan/lan to interfaces the FortiGate has (config system interface in the backup lists them).", strings.Join(missing, " or "), target)
	}
}

// configVersion reads a backup's header: #config-version=FGT60F-7.2.8-FW-...
var configVersion = regexp.MustCompile(`(?m)^#config-version=[^-\s]+-([0-9]+\.[0-9]+\.[0-9]+)-`)

// checkBaseVersion warns when the base comes from another FortiOS release
// than the target's version: the script's syntax follows the version.
func (c *compiler) checkBaseVersion() {
	m := configVersion.FindSubmatch(c.opts.Base)
	if m == nil {
		return
	}
	bv, err := parseVersion(string(m[1]))
	if err != nil {
		return
	}
	same := bv.Major == c.ver.Major && bv.Minor == c.ver.Minor && (!c.ver.PatchGiven || bv.Patch == c.ver.Patch)
	if !same {
		given := c.t.Extra["version"]
		if given == "" {
			given = DefaultVersion + " (the default)"
		}
		c.Warnf(c.t.Origin, "--base is another FortiOS version", "the --base configuration is FortiOS %s (its #config-version header), target %q has version = %s: the script is written for %s and may use commands or defaults the FortiGate's release does not have. Set version = %q in target %q.", bv, target, given, c.ver, bv.String(), target)
	}
}
