package live

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	vw "github.com/voicewall/voicewall/backends/nftables"
	"github.com/voicewall/voicewall/lang"
)

// Lockout describes an apply that would cut the admin's own connection.
type Lockout struct {
	Client   netip.Addr
	Port     uint16 // the gateway's SSH port
	Zone     string
	Decision string // the evaluator's decision, with the rule and its source
}

func (l *Lockout) Error() string {
	return fmt.Sprintf("the policy would drop your own connection: SSH from %s to port %d/tcp arriving on %s: %s", l.Client, l.Port, l.Zone, l.Decision)
}

// ParseSSHConnection reads $SSH_CONNECTION ("client port server port").
func ParseSSHConnection(v string) (client, server netip.Addr, port uint16, ok bool) {
	f := strings.Fields(v)
	if len(f) != 4 {
		return
	}
	var err error
	if client, err = netip.ParseAddr(f[0]); err != nil {
		return
	}
	if server, err = netip.ParseAddr(f[2]); err != nil {
		return
	}
	p, err := strconv.ParseUint(f[3], 10, 16)
	if err != nil {
		return
	}
	client = client.WithZone("").Unmap()
	server = server.WithZone("").Unmap()
	return client, server, uint16(p), true
}

// SSHWarning is the warning for a $SSH_CONNECTION that is set but cannot be
// read: the lock-out guard cannot run, and saying nothing would let the
// admin believe it did. "" when the variable is unset or readable.
func SSHWarning(v string) string {
	if v == "" {
		return ""
	}
	if _, _, _, ok := ParseSSHConnection(v); ok {
		return ""
	}
	return fmt.Sprintf("Warning: $SSH_CONNECTION is set but cannot be read (%q; expected \"client port server port\"), so the lock-out guard cannot check that this apply keeps your SSH session: make sure the policy lets you back in", v)
}

// CheckLockout evaluates the admin's SSH connection (from $SSH_CONNECTION)
// against the policy: the packet arrives on the zone of the device holding
// the server address in the target namespace (wan when none does, the
// conservative guess). It returns nil when the connection survives.
func CheckLockout(t *Target, p *lang.Policy, sshConnection string) *Lockout {
	client, server, port, ok := ParseSSHConnection(sshConnection)
	if !ok {
		return nil
	}
	zone := lang.ZoneWAN
	if dev := LinkOf(t, server); dev != "" {
		tgt := p.Target(vw.Spec.TargetSpec)
		for _, z := range p.Zones() {
			if tgt.Interface(z, p) == dev {
				zone = z
				break
			}
		}
	}
	res := p.Evaluate(lang.Packet{Src: client, Zone: zone, Proto: lang.TCP, DstPort: port})
	if res.Verdict != lang.Drop {
		return nil
	}
	return &Lockout{Client: client, Port: port, Zone: zone, Decision: res.Decision()}
}
