package lang

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ParsePrefix reads a host ("192.0.2.1", "2001:db8::1") or a CIDR. Host bits
// set in a CIDR are an error in policies (the admin likely mistyped) and are
// reported with the corrected value.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "%") {
		return netip.Prefix{}, fmt.Errorf("%q has an IPv6 zone; firewall rules take plain addresses", s)
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a valid CIDR (write e.g. 192.0.2.0/24 or 2001:db8::/48)", s)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			if p.Bits() < 0 {
				return netip.Prefix{}, fmt.Errorf("%q is not a valid CIDR", s)
			}
		}
		if m := p.Masked(); m != p {
			return m, errHostBits{m}
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a valid IP address or CIDR (write e.g. 192.0.2.10, 192.0.2.0/24 or 2001:db8::/48)", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

type errHostBits struct{ masked netip.Prefix }

func (e errHostBits) Error() string {
	return fmt.Sprintf("host bits are set; the network is %s", e.masked)
}

// ParsePortRange reads "5060" or "10000-20000".
func ParsePortRange(s string) (PortRange, error) {
	s = strings.TrimSpace(s)
	first, last, isRange := strings.Cut(s, "-")
	a, err := parsePort(first)
	if err != nil {
		return PortRange{}, err
	}
	if !isRange {
		return PortRange{a, a}, nil
	}
	b, err := parsePort(last)
	if err != nil {
		return PortRange{}, err
	}
	if b < a {
		return PortRange{}, errInverted{a, b}
	}
	return PortRange{a, b}, nil
}

type errInverted struct{ a, b uint16 }

func (e errInverted) Error() string {
	return fmt.Sprintf("the range %d-%d is inverted; write %d-%d", e.a, e.b, e.b, e.a)
}

type errPortRange struct{ s string }

func (e errPortRange) Error() string {
	return fmt.Sprintf("port %s is outside 1..65535", e.s)
}

func parsePort(s string) (uint16, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a port number (write e.g. 5060 or 10000-20000)", s)
	}
	if n < 1 || n > 65535 {
		return 0, errPortRange{s}
	}
	return uint16(n), nil
}

// ParseService reads "5060/udp" or "10000-20000/udp".
func ParseService(s string) (Service, error) {
	ports, proto, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Service{}, fmt.Errorf("%q has no protocol; write PORT/PROTO, e.g. \"5060/udp\"", s)
	}
	pr, ok := ParseProto(strings.ToLower(proto))
	if !ok {
		return Service{}, fmt.Errorf("protocol %q is not udp or tcp; write e.g. \"5060/udp\"", proto)
	}
	r, err := ParsePortRange(ports)
	if err != nil {
		return Service{}, err
	}
	return Service{pr, r}, nil
}

// ParseRate reads "10/second" (units second, minute, hour, day).
func ParseRate(s string) (Rate, error) {
	n, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	bad := fmt.Errorf("%q is not a rate; write COUNT/UNIT with UNIT second, minute, hour or day, e.g. \"10/second\"", s)
	if !ok {
		return Rate{}, bad
	}
	c, err := strconv.ParseUint(strings.TrimSpace(n), 10, 32)
	if err != nil || c == 0 {
		return Rate{}, bad
	}
	u := strings.TrimSuffix(strings.TrimSpace(unit), "s")
	switch u {
	case "second", "minute", "hour", "day":
	case "sec":
		u = "second"
	case "min":
		u = "minute"
	default:
		return Rate{}, bad
	}
	return Rate{uint32(c), u}, nil
}

// ParseOutService reads an allow_out entry: [ADDRESS[/PREFIX]:]PORT[-PORT]/PROTO,
// IPv6 addresses in brackets ("[2001:db8::53]:53/udp"). The prefix is
// invalid when no address is written (any destination).
func ParseOutService(s string) (netip.Prefix, Service, error) {
	s = strings.TrimSpace(s)
	svcPart := s
	var dst netip.Prefix
	addrText := ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]:")
		if end < 0 {
			return dst, Service{}, fmt.Errorf("%q: write an IPv6 destination as [ADDRESS[/PREFIX]]:PORT/PROTO", s)
		}
		addrText, svcPart = s[1:end], s[end+2:]
	} else if i := strings.LastIndex(s, ":"); i >= 0 {
		addrText, svcPart = s[:i], s[i+1:]
		if strings.Contains(addrText, ":") {
			return dst, Service{}, fmt.Errorf("%q: write an IPv6 destination in brackets, [ADDRESS[/PREFIX]]:PORT/PROTO", s)
		}
	}
	if addrText != "" {
		p, err := ParsePrefix(addrText)
		if err != nil {
			return dst, Service{}, err
		}
		dst = p
	}
	svc, err := ParseService(svcPart)
	if err != nil {
		return dst, Service{}, err
	}
	return dst, svc, nil
}

// ParseDestination reads "[ADDRESS:]PORT/PROTO"; IPv6 addresses are written
// in brackets: "[2001:db8::1]:5060/udp". Without them "2001:db8::1:5060/udp"
// is ambiguous (2001:db8::1:5060 is an address too): refused, as in allow_out.
func ParseDestination(s string) (netip.Addr, Service, error) {
	s = strings.TrimSpace(s)
	svcPart := s
	var addr netip.Addr
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]:")
		if end < 0 {
			return addr, Service{}, fmt.Errorf("%q: write an IPv6 destination as [ADDRESS]:PORT/PROTO", s)
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil {
			return addr, Service{}, fmt.Errorf("%q is not a valid IPv6 address", s[1:end])
		}
		addr, svcPart = a, s[end+2:]
	} else if i := strings.LastIndex(s, ":"); i >= 0 {
		if strings.Contains(s[:i], ":") {
			return addr, Service{}, fmt.Errorf("%q: write an IPv6 destination in brackets, [ADDRESS]:PORT/PROTO, e.g. \"[2001:db8::10]:5060/udp\"", s)
		}
		a, err := netip.ParseAddr(s[:i])
		if err != nil {
			return addr, Service{}, fmt.Errorf("%q is not a valid address; write [ADDRESS:]PORT/PROTO, e.g. \"10.20.0.10:5060/udp\"", s[:i])
		}
		addr, svcPart = a.Unmap(), s[i+1:]
	}
	svc, err := ParseService(svcPart)
	if err != nil {
		return addr, Service{}, err
	}
	if svc.Ports.First != svc.Ports.Last {
		return addr, Service{}, fmt.Errorf("a test packet has one destination port, not a range")
	}
	return addr, svc, nil
}
