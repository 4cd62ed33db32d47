package nftables

import (
	"fmt"
	"strings"

	"github.com/voicewall/voicewall/backends"
	"github.com/voicewall/voicewall/lang"
)

// langSpec is what lang reads a target "nftables" block by. nftables
// expresses every protection natively: its capability table is empty.
var langSpec = lang.TargetSpec{
	Name: "nftables", WAN: "eth0", LAN: "eth1",
	CheckInterface: linuxDevice,
}

// Spec declares the nftables target.
var Spec = backends.Spec{TargetSpec: &langSpec, File: FileName, Compile: Compile, ReadDevice: ReadDevice, Audited: true}

// linuxDevice: IFNAMSIZ is 16 with the NUL; '/' and ':' cannot be in a device name.
func linuxDevice(dev string) (summary, detail string) {
	if len(dev) > 15 || strings.ContainsAny(dev, "/: ") {
		return "Bad Linux interface name", fmt.Sprintf("%q is not a valid Linux device name (at most 15 characters, no '/', ':' or spaces).", dev)
	}
	return "", ""
}
