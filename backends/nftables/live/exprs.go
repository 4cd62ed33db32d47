package live

import (
	"fmt"

	"github.com/voicewall/voicewall/backends/nftables/live/nlwire"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// newExpr returns an empty google/nftables expression for the kernel's
// expression name, for the expressions voicewall writes. Any other name is
// an error: the rule is then not in voicewall's form (google/nftables'
// own reader skips expressions it does not know, which would hide them).
func newExpr(name string) (expr.Any, error) {
	switch name {
	case "meta":
		return &expr.Meta{}, nil
	case "cmp":
		return &expr.Cmp{}, nil
	case "ct":
		return &expr.Ct{}, nil
	case "bitwise":
		return &expr.Bitwise{}, nil
	case "payload":
		return &expr.Payload{}, nil
	case "lookup":
		return &expr.Lookup{}, nil
	case "dynset":
		return &expr.Dynset{}, nil
	case "limit":
		return &expr.Limit{}, nil
	case "log":
		return &expr.Log{}, nil
	case "counter":
		return &expr.Counter{}, nil
	case "immediate":
		return &expr.Immediate{}, nil
	case "nat":
		return &expr.NAT{}, nil
	case "range":
		return &expr.Range{}, nil
	}
	return nil, fmt.Errorf("%s expression", name)
}

// exprAttrs splits one NFTA_LIST_ELEM of NFTA_RULE_EXPRESSIONS into the
// expression's name and its NFTA_EXPR_DATA.
func exprAttrs(b []byte) (name string, data []byte) {
	for _, a := range nlwire.ParseAttrs(b) {
		switch a.Type {
		case unix.NFTA_EXPR_NAME:
			name = nlwire.CString(a.Data)
		case unix.NFTA_EXPR_DATA:
			data = a.Data
		}
	}
	return name, data
}

// parseExprs decodes NFTA_RULE_EXPRESSIONS.
func parseExprs(b []byte) ([]expr.Any, error) {
	var out []expr.Any
	for _, el := range nlwire.ParseAttrs(b) {
		name, data := exprAttrs(el.Data)
		e, err := newExpr(name)
		if err != nil {
			return nil, err
		}
		if err := expr.Unmarshal(unix.NFPROTO_INET, data, e); err != nil {
			return nil, fmt.Errorf("%s expression: %w", name, err)
		}
		// A verdict is an immediate into the verdict register.
		if imm, ok := e.(*expr.Immediate); ok && imm.Register == unix.NFT_REG_VERDICT && len(imm.Data) == 0 {
			v := &expr.Verdict{}
			if err := expr.Unmarshal(unix.NFPROTO_INET, data, v); err != nil {
				return nil, fmt.Errorf("verdict: %w", err)
			}
			e = v
		}
		out = append(out, e)
	}
	return out, nil
}
