package lang

import (
	"fmt"
	"testing"
)

func TestSubtractServices(t *testing.T) {
	udp := func(a, b uint16) Service { return Service{Proto: UDP, Ports: PortRange{First: a, Last: b}} }
	tcp := func(a, b uint16) Service { return Service{Proto: TCP, Ports: PortRange{First: a, Last: b}} }
	for _, c := range []struct{ a, b, want []Service }{
		{[]Service{udp(10000, 20000)}, []Service{udp(10000, 10999)}, []Service{udp(11000, 20000)}},
		{[]Service{udp(10000, 20000)}, []Service{udp(12000, 12999)}, []Service{udp(10000, 11999), udp(13000, 20000)}},
		{[]Service{udp(5060, 5060), tcp(5060, 5060)}, []Service{udp(5060, 5060)}, []Service{tcp(5060, 5060)}},
		{[]Service{udp(1, 65535)}, []Service{udp(1, 65535)}, nil},
		{[]Service{udp(1, 65535)}, []Service{udp(1, 1), udp(65535, 65535)}, []Service{udp(2, 65534)}},
		{[]Service{udp(10000, 20000)}, []Service{tcp(10000, 20000)}, []Service{udp(10000, 20000)}},
	} {
		if got := SubtractServices(c.a, c.b); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%v - %v = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
