package audit

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestHandWrittenGateways audits gateway rulesets as an administrator
// writes them (/etc/nftables.conf) or as `nft list ruleset` prints them,
// and edits of them, each with exactly the findings it must have (ID and
// line): audit/testdata/nft/asterisk-dnat.nft (an input chain, a PBX behind
// a dnat of SIP and RTP from anyone, ct status dnat in forward),
// vmap-jump.nft (the SIP service on the gateway itself, dispatched by
// verdict maps and jumps to user chains), defines.nft (define/$var,
// forwards restricted to the providers, a per-source limit before the
// dnat, goto to a chain ending in reject).
func TestHandWrittenGateways(t *testing.T) {
	for _, c := range []struct {
		file, name string
		edits      []string // old, new, ...
		want       []string // ID:line
	}{
		{"asterisk-dnat.nft", "as written", nil, []string{"VW302:23", "VW302:35", "VW306:34", "VW307:34"}},
		// restricted to the providers: only the missing rate limit
		{"asterisk-dnat.nft", "restricted", []string{"iifname $WAN udp dport", "iifname $WAN ip saddr { 198.51.100.10, 203.0.113.0/28 } udp dport"}, []string{"VW307:34"}},
		// the forward filter takes only the providers' forwarded packets:
		// strangers meet the policy drop (the forwards are not open; the
		// rate limit is still missing)
		{"asterisk-dnat.nft", "forward from providers", []string{"ct status dnat accept", "ct status dnat ip saddr { 198.51.100.10, 203.0.113.0/28 } accept"}, []string{"VW307:34"}},
		{"vmap-jump.nft", "as written", nil, nil},
		// SIP accepted from anyone by the verdict map itself
		{"vmap-jump.nft", "vmap accept", []string{"5060 : jump sip_in", "5060 : accept"}, []string{"VW302:22"}},
		// ssh from anyone in the chain jumped to
		{"vmap-jump.nft", "ssh open", []string{"tcp dport 22 ip saddr 192.0.2.0/24 accept", "tcp dport 22 accept"}, []string{"VW303:23"}},
		// the chain jumped to returns strangers to wan_in, then input's policy drop
		{"vmap-jump.nft", "return", []string{"counter drop\n", "return\n"}, nil},
		// ... and with policy accept, a later accept of every UDP port takes them
		{"vmap-jump.nft", "return then accept", []string{"counter drop\n", "return\n", "tcp dport 22 ip saddr 192.0.2.0/24 accept", "meta l4proto udp accept"}, []string{"VW302:23"}},
		// input's policy accepts what no rule decides: SIP over TCP and the
		// management reach the gateway from anyone (UDP SIP stays dropped
		// by sip_in)
		{"vmap-jump.nft", "policy accept", []string{"type filter hook input priority filter; policy drop;", "type filter hook input priority filter; policy accept;"}, []string{"VW302:14", "VW303:14"}},
		{"defines.nft", "as written", nil, nil},
		{"defines.nft", "no rate limit", []string{"iifname $WAN ct state new udp dport $SIP update", "# iifname $WAN ct state new udp dport $SIP update"}, []string{"VW307:55"}},
		// the goto's chain accepts SIP from anyone
		{"defines.nft", "voice from any", []string{"ip saddr $PROVIDERS udp dport { $SIP, $RTP } accept", "udp dport { $SIP, $RTP } accept"}, []string{"VW302:47"}},
	} {
		t.Run(c.file+"/"+c.name, func(t *testing.T) {
			src, err := os.ReadFile("testdata/nft/" + c.file)
			if err != nil {
				t.Fatal(err)
			}
			text := string(src)
			for i := 0; i+1 < len(c.edits); i += 2 {
				if !strings.Contains(text, c.edits[i]) {
					t.Fatalf("edit %q: not in the file", c.edits[i])
				}
				text = strings.ReplaceAll(text, c.edits[i], c.edits[i+1])
			}
			d, err := Read("nftables", c.file, []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			r := Check(d, []byte(text), Options{Target: "nftables"})
			var got []string
			for _, f := range r.Findings {
				got = append(got, fmt.Sprintf("%s:%d", f.ID, f.Loc.Line))
			}
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				for _, f := range r.Findings {
					t.Logf("%s %s:%d %s", f.ID, f.Loc.File, f.Loc.Line, f.Message)
				}
				t.Errorf("findings %v, want %v", got, c.want)
			}
		})
	}
}

// A SIP helper assigned in a hand-written ruleset is VW301, with the
// nftables fix.
func TestHandWrittenSIPHelper(t *testing.T) {
	src := []byte(`table inet filter {
	ct helper sip-5060 {
		type "sip" protocol udp
		l3proto inet
	}
	chain prerouting {
		type filter hook prerouting priority filter; policy accept;
		udp dport 5060 ct helper set "sip-5060"
	}
	chain input {
		type filter hook input priority filter; policy drop;
		udp dport 5060 ip saddr 203.0.113.10 accept
	}
}
`)
	d, err := Read("nftables", "gw.nft", src)
	if err != nil {
		t.Fatal(err)
	}
	r := Check(d, src, Options{Target: "nftables", WAN: []string{"eth0"}})
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.ID)
		if f.ID == IDSIPHelper && (f.Loc.Line != 8 || !strings.Contains(f.Fix, "ct helper set")) {
			t.Errorf("VW301 at %d, fix %q", f.Loc.Line, f.Fix)
		}
	}
	if strings.Join(got, ",") != IDSIPHelper {
		t.Errorf("findings %v, want only %s", got, IDSIPHelper)
	}
}
