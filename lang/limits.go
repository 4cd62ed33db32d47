package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// MaxPolicyFileSize bounds one .hcl file. A policy is a few kilobytes;
// the HCL parser holds a whole file and its syntax tree in memory (a 50 MB
// file of inline addresses took 7 GB), so long address lists belong in a
// blocklist file, which is streamed.
const MaxPolicyFileSize = 1 << 20

// MaxNesting bounds how deeply brackets, blocks, templates and unary
// operators nest. A policy needs four or five levels; the HCL parser
// recurses once per level, and 100,000 nested '[' overflow its stack,
// which kills the process.
const MaxNesting = 64

// MaxOperators bounds the operators and traversals (a.b, x[0], 1 + 2,
// c ? a : b) in one file. voicewall reads literal values and evaluates no
// expression, so a policy has next to none; the parser builds a node for
// each, and a megabyte of "x[0][0]..." took 900 MB and seconds.
const MaxOperators = 1000

// maxParseDiags bounds the syntax errors reported per file: after the
// first few, the parser mostly reports the consequences of the first.
const maxParseDiags = 20

// checkLimits reports a source over MaxPolicyFileSize or nested deeper
// than MaxNesting, before the parser sees it. It lexes (the HCL lexer is
// not recursive) and counts levels; lexical errors are left to the parser.
func checkLimits(name string, src []byte) *hcl.Diagnostic {
	if len(src) > MaxPolicyFileSize {
		return tooLarge(name, int64(len(src)))
	}
	toks, _ := hclsyntax.LexConfig(src, name, hcl.InitialPos)
	depth, control, unary, splats, ops := 0, 0, 0, 0, 0
	prev := hclsyntax.TokenNil
	for _, tk := range toks {
		if isOperator(tk.Type, prev) {
			ops++
			if ops > MaxOperators {
				r := tk.Range
				return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Too many operators", Subject: &r, Extra: Finding{IDSyntax},
					Detail: fmt.Sprintf("The file has more than %d operators, attribute accesses or index expressions. voicewall reads literal values and evaluates no expression: write addresses, ports and names as quoted strings and numbers.", MaxOperators)}
			}
		}
		switch tk.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenTemplateInterp,
			hclsyntax.TokenTemplateControl, hclsyntax.TokenOQuote, hclsyntax.TokenOHeredoc:
			depth++
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd,
			hclsyntax.TokenCQuote, hclsyntax.TokenCHeredoc:
			depth = max(depth-1, 0)
		case hclsyntax.TokenIdent:
			if prev == hclsyntax.TokenTemplateControl { // %{if} ... %{endif} nest too
				switch string(tk.Bytes) {
				case "if", "for":
					control++
				case "endif", "endfor":
					control = max(control-1, 0)
				}
			}
		case hclsyntax.TokenStar:
			if prev == hclsyntax.TokenOBrack || prev == hclsyntax.TokenDot {
				splats++ // each splat nests the rest of its traversal
			}
		}
		if tk.Type == hclsyntax.TokenBang || tk.Type == hclsyntax.TokenMinus {
			unary++
		} else {
			unary = 0
		}
		if depth+control+unary > MaxNesting || splats > MaxNesting {
			r := tk.Range
			return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Nesting too deep", Subject: &r, Extra: Finding{IDSyntax},
				Detail: fmt.Sprintf("Brackets, blocks, templates or operators nest more than %d levels deep here. A policy needs a few levels: look for unbalanced brackets or a generated file gone wrong.", MaxNesting)}
		}
		prev = tk.Type
	}
	return nil
}

// isOperator reports a token that makes an operator, attribute access or
// index expression; '[' indexes when it follows a value, else it opens a
// list.
func isOperator(t, prev hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenDot, hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash,
		hclsyntax.TokenPercent, hclsyntax.TokenAnd, hclsyntax.TokenOr, hclsyntax.TokenBang, hclsyntax.TokenEqualOp,
		hclsyntax.TokenNotEqual, hclsyntax.TokenLessThan, hclsyntax.TokenGreaterThan, hclsyntax.TokenLessThanEq,
		hclsyntax.TokenGreaterThanEq, hclsyntax.TokenQuestion, hclsyntax.TokenEllipsis, hclsyntax.TokenDoubleColon:
		return true
	case hclsyntax.TokenOBrack:
		return prev == hclsyntax.TokenIdent || prev == hclsyntax.TokenCBrack || prev == hclsyntax.TokenCParen || prev == hclsyntax.TokenCBrace
	}
	return false
}

func tooLarge(name string, size int64) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Policy file too large",
		Subject: &hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos}, Extra: Finding{IDSyntax},
		Detail: fmt.Sprintf("The file has %s; a policy file may have at most %d bytes (1 MiB). Move long address lists into a blocklist file: blocklist \"name\" { file = \"list.txt\" } reads one address or CIDR a line and streams files of any size.", sizeText(size), MaxPolicyFileSize)}
}

func sizeText(n int64) string {
	if n < 0 {
		return "more bytes than that"
	}
	return fmt.Sprintf("%d bytes", n)
}

// capParseDiags keeps the first maxParseDiags diagnostics of one file and
// says how many more there were.
func capParseDiags(name string, ds hcl.Diagnostics) hcl.Diagnostics {
	if len(ds) <= maxParseDiags {
		return ds
	}
	out := append(hcl.Diagnostics(nil), ds[:maxParseDiags]...)
	return append(out, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "More syntax errors",
		Detail: fmt.Sprintf("%s has %d syntax errors in all; only the first %d are shown. Fix those first: the rest often follow from them.", name, len(ds), maxParseDiags), Extra: Finding{IDSyntax}})
}
