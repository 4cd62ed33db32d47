// Package responsive is voicewall's responsive firewall: it reads a PBX's
// security log (Asterisk's res_security_log), trusts the addresses of
// phones that register successfully for remote_phones.trust_for, bans
// sources that fail to authenticate watch.failures times within
// watch.within, and carries the timed bans of `voicewall ban`, the
// watcher and fail2ban into the kernel's run-time sets through netlink.
//
// It never bans what the policy protects (lang.Policy.Protected: the
// providers, management networks, PBXes, voice VLANs and ban.never) and
// never trusts on a line it cannot read unambiguously. The decisions are
// pure (Tracker, given the time); the kernel side (Kernel) and the log
// follower (Follow) are thin around them.
package responsive

import (
	"net/netip"
	"strings"
)

// EventKind is an Asterisk security event name (SecurityEvent="...").
type EventKind string

// The security events the watcher acts on. The names are the ones
// Asterisk's main/security_events.c gives them.
const (
	EventSuccessfulAuth    EventKind = "SuccessfulAuth"
	EventInvalidPassword   EventKind = "InvalidPassword"
	EventChallengeFailed   EventKind = "ChallengeResponseFailed"
	EventInvalidAccountID  EventKind = "InvalidAccountID"
	EventFailedACL         EventKind = "FailedACL"
	EventChallengeSent     EventKind = "ChallengeSent"
	EventRequestNotAllowed EventKind = "RequestNotAllowed"
)

// Failure reports whether the event is a failed authentication attempt
// (what a scanner guessing passwords or extensions causes).
func (k EventKind) Failure() bool {
	switch k {
	case EventInvalidPassword, EventChallengeFailed, EventInvalidAccountID, EventFailedACL, EventRequestNotAllowed:
		return true
	}
	return false
}

// Event is one security log line, read.
type Event struct {
	Kind    EventKind
	Service string     // "PJSIP", "SIP" (chan_sip), "AMI", ...
	Account string     // AccountID, as logged (not trusted for anything)
	Remote  netip.Addr // the source of the request (RemoteAddress)
}

// ParseAsterisk reads one line of Asterisk's security log. The line is
// what res_security_log writes through the logger:
//
//	[Jan  1 00:00:00] SECURITY[1234] res_security_log.c: SecurityEvent="InvalidPassword",EventTV="...",Severity="Error",Service="PJSIP",EventVersion="2",AccountID="100",SessionID="...",LocalAddress="IPV4/UDP/10.0.0.1/5060",RemoteAddress="IPV4/UDP/203.0.113.5/5060",...
//
// The logger's prefix (date format, level, file) varies with logger.conf,
// so only the part from SecurityEvent= on is read. Values are written
// unescaped (a quote inside one is not escaped), and some (AccountID, the
// received hash) come from the remote side: a line holding more than one
// SecurityEvent or RemoteAddress field could have been forged through
// them and is refused (ok false, ambiguous true). RemoteAddress is
// "IPV4/UDP/203.0.113.5/5060", "IPV6/TLS/[2001:db8::1]/5061", or without
// the transport part ("IPV4/203.0.113.5/5060").
func ParseAsterisk(line string) (ev Event, ok, ambiguous bool) {
	i := strings.Index(line, `SecurityEvent="`)
	if i < 0 {
		return Event{}, false, false
	}
	body := line[i:]
	if strings.Count(body, `SecurityEvent="`) != 1 || strings.Count(body, `,RemoteAddress="`) != 1 {
		return Event{}, false, true
	}
	ev.Kind = EventKind(field(body, "SecurityEvent"))
	ev.Service = field(body, "Service")
	ev.Account = field(body, "AccountID")
	addr, ok := remoteAddr(field(body, "RemoteAddress"))
	if !ok || ev.Kind == "" {
		return Event{}, false, true
	}
	ev.Remote = addr
	return ev, true, false
}

// field is the value of Key="..." in a line of comma-separated fields
// (the first occurrence; the key starts the body or follows a comma).
func field(body, key string) string {
	var start int
	if strings.HasPrefix(body, key+`="`) {
		start = len(key) + 2
	} else {
		j := strings.Index(body, ","+key+`="`)
		if j < 0 {
			return ""
		}
		start = j + len(key) + 3
	}
	rest := body[start:]
	// A value ends at the quote that closes it: one followed by a comma
	// and the next key, or by the end of the line.
	for k := 0; k < len(rest); k++ {
		if rest[k] != '"' {
			continue
		}
		if after := rest[k+1:]; after == "" || strings.TrimRight(after, "\r\n ") == "" || after[0] == ',' {
			return rest[:k]
		}
	}
	return ""
}

// remoteAddr reads "IPV4/UDP/203.0.113.5/5060" (transport optional; IPv6
// with or without brackets).
func remoteAddr(s string) (netip.Addr, bool) {
	parts := strings.Split(s, "/")
	if len(parts) < 3 || len(parts) > 4 || (parts[0] != "IPV4" && parts[0] != "IPV6") {
		return netip.Addr{}, false
	}
	host := strings.TrimSuffix(strings.TrimPrefix(parts[len(parts)-2], "["), "]")
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	if (parts[0] == "IPV4") != a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}
