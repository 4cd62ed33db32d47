package live

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestResolvers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(p, []byte("# generated\nsearch example.org\nnameserver 192.0.2.53\nnameserver 127.0.0.53\nnameserver ::1\nnameserver fe80::1%eth0\nnameserver 2001:db8::53 # v6\nnameserver bogus\noptions edns0\n"), 0o644)
	got, err := Resolvers(p)
	if err != nil || fmt.Sprint(got) != "[192.0.2.53 fe80::1 2001:db8::53]" {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := Resolvers(filepath.Join(t.TempDir(), "none")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	if ResolvConf("") != "/etc/resolv.conf" || ResolvConf("vw-no-such-netns") != "/etc/resolv.conf" {
		t.Error("ResolvConf without /etc/netns/NAME")
	}
}
