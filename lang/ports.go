package lang

// The port and service algebra: protocols, port ranges and services, and
// the set operations lowering, the evaluator and the backends share.

import (
	"sort"
	"strconv"
)

// Proto is a transport protocol number as used on the wire.
type Proto uint8

const (
	TCP Proto = 6
	UDP Proto = 17
)

func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return strconv.Itoa(int(p))
}

// ParseProto accepts "udp" or "tcp".
func ParseProto(s string) (Proto, bool) {
	switch s {
	case "udp":
		return UDP, true
	case "tcp":
		return TCP, true
	}
	return 0, false
}

// PortRange is an inclusive range; a single port has First == Last.
type PortRange struct{ First, Last uint16 }

func (r PortRange) String() string {
	if r.First == r.Last {
		return strconv.Itoa(int(r.First))
	}
	return strconv.Itoa(int(r.First)) + "-" + strconv.Itoa(int(r.Last))
}

func (r PortRange) Contains(p uint16) bool { return p >= r.First && p <= r.Last }
func (r PortRange) Size() int              { return int(r.Last) - int(r.First) + 1 }

// Overlaps reports whether the two ranges share a port.
func (r PortRange) Overlaps(o PortRange) bool { return r.First <= o.Last && o.First <= r.Last }

// Service is a protocol bound to a port range: voicewall never shares a port
// set between udp and tcp rules (5061 is tcp only).
type Service struct {
	Proto Proto
	Ports PortRange
}

func (s Service) String() string { return s.Ports.String() + "/" + s.Proto.String() }

func (s Service) Matches(proto Proto, port uint16) bool {
	return s.Proto == proto && s.Ports.Contains(port)
}

// SortServices orders by protocol (tcp before udp), then port.
func SortServices(s []Service) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Proto != s[j].Proto {
			return s[i].Proto < s[j].Proto
		}
		if s[i].Ports.First != s[j].Ports.First {
			return s[i].Ports.First < s[j].Ports.First
		}
		return s[i].Ports.Last < s[j].Ports.Last
	})
}

// IntersectServices keeps the parts of a that b also matches (empty b: all).
func IntersectServices(a, b []Service) []Service {
	if len(b) == 0 {
		return a
	}
	var out []Service
	for _, x := range a {
		for _, y := range b {
			if x.Proto != y.Proto {
				continue
			}
			lo, hi := max(x.Ports.First, y.Ports.First), min(x.Ports.Last, y.Ports.Last)
			if lo <= hi {
				out = append(out, Service{Proto: x.Proto, Ports: PortRange{First: lo, Last: hi}})
			}
		}
	}
	return out
}

// SubtractServices keeps the parts of a that no service of b matches.
func SubtractServices(a, b []Service) []Service {
	var out []Service
	for _, x := range a {
		pieces := []PortRange{x.Ports}
		for _, y := range b {
			if y.Proto != x.Proto {
				continue
			}
			var next []PortRange
			for _, r := range pieces {
				if y.Ports.Last < r.First || y.Ports.First > r.Last {
					next = append(next, r)
					continue
				}
				if y.Ports.First > r.First {
					next = append(next, PortRange{First: r.First, Last: y.Ports.First - 1})
				}
				if y.Ports.Last < r.Last {
					next = append(next, PortRange{First: y.Ports.Last + 1, Last: r.Last})
				}
			}
			pieces = next
		}
		for _, r := range pieces {
			out = append(out, Service{Proto: x.Proto, Ports: r})
		}
	}
	return out
}

// ServicesCover reports whether every service in b lies inside one of a
// (empty a matches everything; empty b is everything).
func ServicesCover(a, b []Service) bool {
	if len(a) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	for _, y := range b {
		ok := false
		for _, x := range a {
			if x.Proto == y.Proto && x.Ports.First <= y.Ports.First && y.Ports.Last <= x.Ports.Last {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// MergePortRanges sorts and merges overlapping or adjacent ranges into a
// new slice (the argument is not changed).
func MergePortRanges(rs []PortRange) []PortRange {
	return mergePortRanges(append([]PortRange(nil), rs...))
}

// mergePortRanges merges in place.
func mergePortRanges(rs []PortRange) []PortRange {
	sort.Slice(rs, func(i, j int) bool { return rs[i].First < rs[j].First })
	var out []PortRange
	for _, r := range rs {
		if n := len(out); n > 0 && int(r.First) <= int(out[n-1].Last)+1 {
			if r.Last > out[n-1].Last {
				out[n-1].Last = r.Last
			}
			continue
		}
		out = append(out, r)
	}
	return out
}
