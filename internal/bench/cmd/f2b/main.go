// Command f2b changes the ruleset of a network namespace the way fail2ban
// does, in its own table only, for bench/compare.sh:
//
//	f2b NETNS init        table inet f2b, set banned, a drop rule
//	f2b NETNS ban ADDR    add ADDR to the set
//
// It speaks netlink itself (google/nftables): nft would first dump every
// set of the namespace for its cache, which with a 1,000,000-entry table
// inet voicewall takes minutes (the kernel's interval set dumps are
// quadratic), and would time nft rather than the change.
package main

import (
	"fmt"
	"net/netip"
	"os"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "f2b:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: f2b NETNS init | f2b NETNS ban ADDR")
	}
	fd, err := unix.Open("/run/netns/"+args[0], unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	c, err := nftables.New(nftables.WithNetNSFd(fd))
	if err != nil {
		return err
	}
	table := &nftables.Table{Family: nftables.TableFamilyINet, Name: "f2b"}
	set := &nftables.Set{Table: table, Name: "banned", KeyType: nftables.TypeIPAddr}
	switch args[1] {
	case "init":
		c.AddTable(table)
		if err := c.AddSet(set, nil); err != nil {
			return err
		}
		prio := nftables.ChainPriority(-1)
		ch := c.AddChain(&nftables.Chain{Table: table, Name: "input", Type: nftables.ChainTypeFilter, Hooknum: nftables.ChainHookInput, Priority: &prio})
		c.AddRule(&nftables.Rule{Table: table, Chain: ch, Exprs: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
			&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}})
	case "ban":
		if len(args) != 3 {
			return fmt.Errorf("usage: f2b NETNS ban ADDR")
		}
		a, err := netip.ParseAddr(args[2])
		if err != nil || !a.Is4() {
			return fmt.Errorf("not an IPv4 address: %q", args[2])
		}
		if err := c.SetAddElements(set, []nftables.SetElement{{Key: a.AsSlice()}}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown command %q", args[1])
	}
	return c.Flush()
}
