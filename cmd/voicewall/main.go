// Command voicewall validates VoIP firewall policies written in HCL and
// compiles them for nftables, FortiGate, pfSense and DrayTek, or applies
// them to a Linux gateway.
package main

import (
	"os"

	"github.com/voicewall/voicewall/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
