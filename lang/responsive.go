package lang

// The responsive part of the language: remote_phones (SIP from anywhere to
// one PBX, rate-limited per source, RTP only from trusted addresses), ban
// (timed bans of single sources) and watch (which log the watcher reads to
// trust and ban). The addresses trusted or banned at run time never enter
// the policy: lowering only declares the sets that hold them, and the
// evaluator takes "is this source trusted / banned" as an input of the
// packet (Packet.Trusted, Packet.Banned).

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"go4.org/netipx"
)

var (
	remotePhonesSchema = attrs([]string{"pbx"}, "transports", "rate", "burst", "trust_for")
	banSchema          = attrs(nil, "default", "never")
	watchSchema        = attrs(nil, "log", "failures", "within", "ban_for")
)

// RemotePhones admits phones and softphones outside the office: their SIP
// is forwarded from any source to one PBX, new flows limited per untrusted
// source; a source the watcher saw register successfully is trusted for
// TrustFor: its SIP is no longer limited and its RTP reaches the PBX. RTP
// is never accepted from an untrusted source.
type RemotePhones struct {
	PBX        *PBX
	Transports []Transport // sorted in TransportOrder
	Rate       RateLimit   // new SIP flows per untrusted source
	TrustFor   time.Duration
	Origin     Origin
}

// Standard ports remote phones use: the gateway's WAN SIP ports, forwarded
// with the port kept.
const (
	RemoteSIPPort = 5060
	RemoteTLSPort = 5061
)

// TransportService is the wire protocol and port of one transport.
func (r *RemotePhones) TransportService(t Transport) Service {
	switch t {
	case TransportTCP:
		return Service{TCP, PortRange{RemoteSIPPort, RemoteSIPPort}}
	case TransportTLS:
		return Service{TCP, PortRange{RemoteTLSPort, RemoteTLSPort}}
	}
	return Service{UDP, PortRange{RemoteSIPPort, RemoteSIPPort}}
}

// SIPServices are the services of every transport.
func (r *RemotePhones) SIPServices() []Service {
	var out []Service
	for _, t := range r.Transports {
		out = append(out, r.TransportService(t))
	}
	return out
}

// Ban configures timed bans: a set of sources dropped on every WAN port
// right after the blocklists, filled at run time (voicewall ban, the
// watcher, fail2ban) with a timeout per element.
type Ban struct {
	Default time.Duration // a ban without --for lasts this long
	Never   AddrSet       // never banned, besides what Protected always covers
	NeverAt []neverEntry  // each never entry as written, for naming it
	Origin  Origin
}

type neverEntry struct {
	Prefix netip.Prefix
	Range  hcl.Range
}

// Watch is one log the watcher follows.
type Watch struct {
	Name     string // the log's format: "asterisk" (res_security_log)
	Log      string // path as written (absolute)
	Failures int    // failed authentications from one source...
	Within   time.Duration
	BanFor   time.Duration // ...ban it this long
	Origin   Origin
}

// WatchFormats are the log formats watch understands.
var WatchFormats = []string{"asterisk"}

// Defaults of the responsive blocks.
const (
	DefaultBan      = time.Hour
	DefaultTrustFor = 2 * time.Hour
	DefaultFailures = 5
	DefaultWithin   = 10 * time.Minute
	// MaxTimeout is the longest ban or trust: the kernel keeps element
	// timeouts in milliseconds, and a year is longer than any sane ban.
	MaxTimeout = 365 * 24 * time.Hour
)

// DefaultRemoteRate: a phone registers every few minutes and sends a few
// new flows when it does; a scanner sends thousands.
var DefaultRemoteRate = RateLimit{SIP: Rate{2, "minute"}, Burst: 5}

// ParseDuration reads "90s", "10m", "2h", "1h30m" or "7d" (days added for
// bans; Go's own units otherwise). Whole seconds or more, positive.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(t, "d"); ok && n != "" && !strings.ContainsAny(n, "hms") {
		days, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (write e.g. \"10m\", \"2h\" or \"7d\")", s)
		}
		t = strconv.FormatUint(days*24, 10) + "h"
	}
	d, err := time.ParseDuration(t)
	if err != nil || strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") {
		return 0, fmt.Errorf("%q is not a duration (write e.g. \"10m\", \"2h\" or \"7d\")", s)
	}
	if d < time.Second || d%time.Second != 0 {
		return 0, fmt.Errorf("%q: durations are whole seconds, at least 1s", s)
	}
	if d > MaxTimeout {
		return 0, fmt.Errorf("%q is longer than a year (365d)", s)
	}
	return d, nil
}

// FormatDuration writes a duration the way ParseDuration reads it back,
// shortest first: "2h", "1h30m", "90s" becomes "1m30s".
func FormatDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 && d >= 24*time.Hour {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	var b strings.Builder
	for _, u := range []struct {
		d time.Duration
		s string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.s)
			d -= n * u.d
		}
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

func (d *decoder) duration(a *hcl.Attribute) (time.Duration, bool) {
	s, ok := d.str(a)
	if !ok {
		return 0, false
	}
	v, err := ParseDuration(s.s)
	if err != nil {
		d.add(errorf(IDBadValue, s.rng, "Bad duration", "%s: %s.", a.Name, err))
		return 0, false
	}
	return v, true
}

func (d *decoder) remotePhones(p *Policy, b *rawBlock) {
	rp := &RemotePhones{Transports: []Transport{TransportTLS}, Rate: DefaultRemoteRate, TrustFor: DefaultTrustFor, Origin: origin("remote_phones", b)}
	rp.Rate.Origin = rp.Origin
	if a := b.attrs["pbx"]; a != nil {
		if s, ok := d.str(a); ok {
			for _, x := range p.PBXes {
				if x.Name == s.s {
					rp.PBX = x
				}
			}
			if rp.PBX == nil {
				var names []string
				for _, x := range p.PBXes {
					names = append(names, x.Name)
				}
				hint := suggest(s.s, names)
				if hint == "" {
					hint = " Declare it with a pbx block: remote phones register to a PBX behind the gateway."
				}
				d.add(errorf(IDUnknownRef, s.rng, "Unknown PBX", "remote_phones refers to pbx %q, which is not declared.%s", s.s, hint))
			} else if !rp.PBX.Address.IsValid() {
				rp.PBX = nil // its own error was reported
			}
		}
	}
	if a := b.attrs["transports"]; a != nil {
		if items, ok := d.strList(a); ok {
			rp.Transports = d.transports(items, a, nil)
		}
	}
	for _, t := range rp.Transports {
		if t != TransportTLS {
			d.add(warnf(IDCleartext, rp.Origin.Range, "Cleartext SIP from anywhere",
				"remote_phones accepts SIP over %s from any address: passwords' digests and call metadata cross the Internet readable, and scanners find the port first. Use transports = [\"tls\"] with TLS-capable phones.", t))
		}
	}
	if a := b.attrs["rate"]; a != nil {
		if s, ok := d.str(a); ok {
			r, err := ParseRate(s.s)
			switch {
			case err != nil:
				d.add(errorf(IDBadValue, s.rng, "Bad rate", "%s.", err))
			case !kernelRateOK(r, r.Count):
				d.add(errorf(IDBadValue, s.rng, "Rate too large", "%s cannot be expressed by Linux limits; use a shorter unit.", r))
			default:
				rp.Rate.SIP, rp.Rate.Burst = r, r.Count
			}
		}
	}
	if a := b.attrs["burst"]; a != nil {
		if n, ok := d.integer(a, 1, 1000000); ok {
			rp.Rate.Burst = uint32(n)
			if !kernelRateOK(rp.Rate.SIP, rp.Rate.Bucket()) {
				d.add(errorf(IDBadValue, a.Expr.Range(), "Burst too large for the rate", "%d + %d per %s overflows Linux's limit; use a shorter unit or a smaller burst.", rp.Rate.SIP.Count, rp.Rate.Burst, rp.Rate.SIP.Unit))
			}
		}
	}
	if a := b.attrs["trust_for"]; a != nil {
		if v, ok := d.duration(a); ok {
			rp.TrustFor = v
		}
	}
	if rp.PBX != nil {
		p.RemotePhones = rp
	}
}

// transports reads a transports list (providers' and remote_phones'):
// each word once, in the order udp, tcp, tls; seen, when given, is called
// for each transport at the item that first names it.
func (d *decoder) transports(items []strItem, a *hcl.Attribute, seen func(Transport, hcl.Range)) []Transport {
	have := map[Transport]bool{}
	for _, it := range items {
		t := Transport(strings.ToLower(it.s))
		switch t {
		case TransportUDP, TransportTCP, TransportTLS:
		default:
			d.add(errorf(IDBadValue, it.rng, "Unknown transport", "%q is not a SIP transport; use \"udp\", \"tcp\" or \"tls\".%s", it.s, suggest(it.s, []string{"udp", "tcp", "tls"})))
			continue
		}
		if have[t] {
			d.add(errorf(IDDuplicate, it.rng, "Duplicate transport", "%q is listed twice.", it.s))
			continue
		}
		have[t] = true
		if seen != nil {
			seen(t, it.rng)
		}
	}
	if len(items) == 0 {
		d.add(errorf(IDBadValue, a.Expr.Range(), "No transports", "transports must list at least one of \"udp\", \"tcp\", \"tls\"."))
	}
	var out []Transport
	for _, t := range []Transport{TransportUDP, TransportTCP, TransportTLS} {
		if have[t] {
			out = append(out, t)
		}
	}
	return out
}

func (d *decoder) ban(p *Policy, b *rawBlock) {
	bn := &Ban{Default: DefaultBan, Origin: origin("ban", b)}
	if a := b.attrs["default"]; a != nil {
		if v, ok := d.duration(a); ok {
			bn.Default = v
		}
	}
	if a := b.attrs["never"]; a != nil {
		if pfx, items, ok := d.addrList(a, "ban.never", IDBadValue); ok {
			var sb netipx.IPSetBuilder
			for i, x := range pfx {
				sb.AddPrefix(x)
				bn.NeverAt = append(bn.NeverAt, neverEntry{Prefix: x, Range: items[i].rng})
			}
			s, _ := sb.IPSet()
			bn.Never = AddrSetOf(s)
		}
	}
	p.Ban = bn
}

func (d *decoder) watch(p *Policy, b *rawBlock) {
	w := &Watch{Name: b.label, Log: "/var/log/asterisk/security", Failures: DefaultFailures, Within: DefaultWithin, Origin: origin("watch", b)}
	if w.Name != "asterisk" {
		d.add(errorf(IDBadValue, b.labelR, "Unknown log format", "watch reads %s logs; %q is not one.%s", strings.Join(WatchFormats, ", "), w.Name, suggest(w.Name, WatchFormats)))
		return
	}
	if a := b.attrs["log"]; a != nil {
		if s, ok := d.str(a); ok {
			switch {
			case !strings.HasPrefix(s.s, "/"):
				d.add(errorf(IDBadValue, s.rng, "Relative log path", "log must be an absolute path (the watcher runs as a service), e.g. \"/var/log/asterisk/security\"."))
			case strings.ContainsFunc(s.s, func(r rune) bool { return r < 0x20 || r == 0x7f }) || len(s.s) > 4096:
				d.add(errorf(IDBadValue, s.rng, "Bad log path", "log must be a path without control characters."))
			default:
				w.Log = s.s
			}
		}
	}
	if a := b.attrs["failures"]; a != nil {
		if n, ok := d.integer(a, 1, 1000); ok {
			w.Failures = int(n)
		}
	}
	if a := b.attrs["within"]; a != nil {
		if v, ok := d.duration(a); ok {
			w.Within = v
		}
	}
	if a := b.attrs["ban_for"]; a != nil {
		if v, ok := d.duration(a); ok {
			w.BanFor = v
		}
	}
	p.Watches = append(p.Watches, w)
}

// responsiveChecks are the responsive blocks' findings that need the
// whole policy, and the defaults one block takes from another.
func (d *decoder) responsiveChecks(p *Policy) {
	if p.Ban == nil && (len(p.Watches) > 0 || p.RemotePhones != nil) {
		// The watcher bans and the remote phones' failures are banned
		// into the same set: without a ban block it exists with defaults.
		o := Origin{Kind: "ban"}
		p.Ban = &Ban{Default: DefaultBan, Origin: o}
	}
	for _, w := range p.Watches {
		if w.BanFor == 0 {
			w.BanFor = p.Ban.Default
		}
	}
	rp := p.RemotePhones
	if rp == nil {
		return
	}
	for _, c := range p.Closed {
		for _, s := range rp.SIPServices() {
			if !c.Auto && c.Service.Proto == s.Proto && c.Service.Ports.Overlaps(s.Ports) {
				d.add(errorf(IDClosedConflict, c.Origin.Range, "Closed port is the remote phones' SIP port", "%s is closed, but remote_phones (%s) accepts SIP on %s. Remove it from close, or change remote_phones.transports.", c.Service, rp.Origin.Pos(), s))
			}
		}
	}
}

// Protection names the block that makes an address unbannable.
type Protection struct {
	Origin Origin // the block; for ban.never, the entry's own position
	What   string // what in it: "signaling", "media", "management", "address", "subnets", "never"
}

// String is `provider "telnyx" signaling (gw.hcl:12)`.
func (x Protection) String() string {
	return x.Origin.Block() + " " + x.What + " (" + x.Origin.Pos() + ")"
}

// Protected reports whether any address of pfx must never be banned or
// blocked by a feed, and by which block: a provider's signaling or media,
// a voice VLAN's management or subnets, a PBX's addresses, ban.never.
// Checked in that order; the first block found is named.
func (p *Policy) Protected(pfx netip.Prefix) (Protection, bool) {
	if !pfx.IsValid() {
		return Protection{}, false
	}
	pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-map[bool]int{true: 96, false: 0}[pfx.Addr().Is4In6()]).Masked()
	for _, pr := range p.Providers {
		if pr.Signaling.OverlapsPrefix(pfx) {
			return Protection{pr.Origin, "signaling"}, true
		}
		if pr.Media.OverlapsPrefix(pfx) {
			return Protection{pr.Origin, "media"}, true
		}
	}
	for _, v := range p.VoiceVLANs {
		if v.Management.OverlapsPrefix(pfx) {
			return Protection{v.Origin, "management"}, true
		}
		if v.Subnets.OverlapsPrefix(pfx) {
			return Protection{v.Origin, "subnets"}, true
		}
	}
	for _, x := range p.PBXes {
		for _, a := range x.Addresses() {
			if pfx.Contains(a) {
				return Protection{x.Origin, "address"}, true
			}
		}
	}
	if p.Ban != nil {
		for _, n := range p.Ban.NeverAt {
			if n.Prefix.Overlaps(pfx) {
				o := p.Ban.Origin
				o.Range = n.Range
				return Protection{o, "never"}, true
			}
		}
	}
	return Protection{}, false
}
