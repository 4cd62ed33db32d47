package lang_test

import (
	"strings"
	"testing"

	"github.com/voicewall/voicewall/backends/registry"
	"github.com/voicewall/voicewall/lang"
)

const relationsSrc = `
provider "carrier" {
  signaling  = ["192.0.2.10/32"]
  media      = ["192.0.2.0/24"]
  transports = ["udp", "tcp"]
}
pbx "office" {
  address   = "10.0.0.5"
  providers = ["carrier"]
}
voice_vlan "phones" {
  id         = 20
  subnet     = "10.20.0.0/24"
  providers  = ["carrier"]
  management = ["10.0.0.0/24"]
  dscp       = "ef"
}
blocklist "scanners" {
  addresses = ["198.51.100.0/24"]
}
`

// Sets and rules carry their relations as fields, decided in lower, so no
// backend has to parse a name to learn them.
func TestLoweredRelations(t *testing.T) {
	p := mustLoadSource(t, "rel.hcl", relationsSrc)
	roles := map[string]lang.SetRole{}
	for _, ref := range p.Sets() {
		roles[ref.Name] = ref.Role
		if ref.Owner.Kind == "" || ref.Owner.Name == "" || ref.Owner.Range.Filename == "" {
			t.Errorf("set %s has no owner block: %+v", ref.Name, ref.Owner)
		}
		if !strings.Contains(ref.Name, ref.OwnerID()) {
			t.Errorf("set %s: owner %q is not the block it is named after", ref.Name, ref.Owner.Name)
		}
	}
	want := map[string]lang.SetRole{
		"blocklist_scanners":         lang.RoleBlocklist,
		"provider_carrier_signaling": lang.RoleSignaling,
		"provider_carrier_media":     lang.RoleMedia,
		"vlan_phones_subnets":        lang.RoleVLANSubnets,
		"vlan_phones_management":     lang.RoleManagement,
	}
	for n, r := range want {
		if roles[n] != r {
			t.Errorf("set %s: role %q, want %q", n, roles[n], r)
		}
	}
	byID := map[string]*lang.Rule{}
	for _, r := range p.Rules {
		byID[r.ID] = r
	}
	for _, r := range p.RulesIn(lang.ChainNAT) {
		if r.PBX == nil || r.PBX.Name != "office" || r.PBX.Address != r.DNAT {
			t.Errorf("DNAT %s: PBX %+v", r.ID, r.PBX)
		}
	}
	fw := func(id string) []string {
		var out []string
		for _, n := range byID[id].Forwards {
			out = append(out, n.ID)
		}
		return out
	}
	if got := fw("provider_carrier_sip_udp"); len(got) != 1 || got[0] != "dnat_office_carrier_sip_udp" {
		t.Errorf("provider_carrier_sip_udp forwards %v", got)
	}
	if got := fw("provider_carrier_rtp"); len(got) != 1 || got[0] != "dnat_office_carrier_rtp" {
		t.Errorf("provider_carrier_rtp forwards %v", got)
	}
	if got := fw("established"); len(got) != 0 {
		t.Errorf("established forwards %v", got)
	}
	if m := byID["vlan_phones_carrier_rtp"].Mark; m == nil || m.DSCP != "ef" {
		t.Errorf("phone RTP mark %+v, want ef", m)
	}
	if m := byID["vlan_phones_carrier_sip"].Mark; m == nil || m.DSCP != lang.SIPDSCP {
		t.Errorf("phone SIP mark %+v, want %s", m, lang.SIPDSCP)
	}
	if m := byID["vlan_phones_management"].Mark; m != nil {
		t.Errorf("management has mark %s", m.ID)
	}
}

// Every target writes the same gateway address for a voice VLAN.
func TestVLANGateway(t *testing.T) {
	for _, c := range []struct{ subnets, v4, v6 string }{
		{`"10.20.0.0/24"`, "10.20.0.1/24", ""},
		{`"10.20.0.254/24"`, "10.20.0.254/24", ""},
		{`"10.20.0.0/24", "2001:db8:20::/64"`, "10.20.0.1/24", "2001:db8:20::1/64"},
	} {
		p := mustLoadSource(t, "gw.hcl", `
provider "a" {
  signaling = ["192.0.2.1"]
  media     = ["192.0.2.0/24"]
}
voice_vlan "phones" {
  id        = 20
  subnets   = [`+c.subnets+`]
  providers = ["a"]
}
`)
		v := p.VoiceVLANs[0]
		for _, f := range []struct {
			v6   bool
			want string
		}{{false, c.v4}, {true, c.v6}} {
			gw, ok := v.Gateway(f.v6)
			if got := map[bool]string{true: gw.String(), false: ""}[ok]; got != f.want {
				t.Errorf("%s: gateway(v6=%v) = %q, want %q", c.subnets, f.v6, got, f.want)
			}
		}
	}
}

// Every named set of every example says what it is for and whose it is:
// a set lowering adds without a role would send backends back to its name.
func TestEverySetHasRoleAndOwner(t *testing.T) {
	policies := map[string]*lang.Policy{
		"allow_out": mustLoadSource(t, "rel.hcl", strings.Replace(relationsSrc, `dscp       = "ef"`, `dscp       = "ef"
  allow_out  = ["53/udp", "203.0.113.99:443/tcp"]`, 1)),
	}
	for _, dir := range examplePaths(t) {
		p, diags := registry.Load(dir)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", dir, diags)
		}
		policies[dir] = p
	}
	if len(policies["allow_out"].Sets()) <= 5 {
		t.Fatal("the allow_out policy has no allow_out set")
	}
	for dir, p := range policies {
		for _, ref := range p.Sets() {
			unlabelled := ref.Owner.Kind == "remote_phones" || ref.Owner.Kind == "ban" // singleton blocks
			if ref.Role == "" || ref.Owner.Kind == "" || ref.Owner.Name == "" && !unlabelled {
				t.Errorf("%s: set %s has role %q, owner %+v", dir, ref.Name, ref.Role, ref.Owner)
			}
		}
	}
}
