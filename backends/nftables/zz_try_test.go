package nftables

import (
	"fmt"
	"os"
	"testing"
)

func TestZZTry(t *testing.T) {
	p := os.Getenv("VW_TRY")
	if p == "" {
		t.Skip()
	}
	src, _ := os.ReadFile(p)
	d, err := ReadDevice(p, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Rules {
		fmt.Printf("R %s %v in=%v out=%v src=%s dst=%s fam=%d hook=%d svcs=%+v fwds=%v\n", r.Loc, r.Action, r.In, r.Out, r.Src.Text, r.Dst.Text, r.Family, r.Hook, r.Services, r.DstForwards)
	}
	for _, f := range d.Forwards {
		fmt.Printf("F %s %s in=%v src=%s proto=%d ports=%v to=%v\n", f.Loc, f.Ref, f.In, f.Src.Text, f.Proto, f.Ports, f.To)
	}
	fmt.Println(d.DefaultForward, d.DefaultLocal, d.Notes)
	for _, i := range d.Interfaces {
		fmt.Println("I", i.Name, i.Role)
	}
}
