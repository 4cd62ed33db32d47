package citest

import (
	"strings"
	"testing"
	"unicode"
)

// The expressions action.yml uses in `if:` and `${{ }}`: string literals,
// context references, ==, !=, !, &&, || and parentheses, and the status
// functions. A small evaluator of that subset of GitHub's expression
// syntax, so that the test runs the steps GitHub would run.

type tokKind int

const (
	tokIdent tokKind = iota
	tokString
	tokOp
	tokFunc
)

type token struct {
	kind tokKind
	text string
}

func tokens(expr string) []token {
	var out []token
	s := strings.TrimSpace(expr)
	for len(s) > 0 {
		switch c := s[0]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '$' || c == '{' || c == '}':
			s = s[1:]
		case c == '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return append(out, token{tokOp, "?unterminated"})
			}
			out = append(out, token{tokString, s[1 : end+1]})
			s = s[end+2:]
		case strings.HasPrefix(s, "==") || strings.HasPrefix(s, "!=") || strings.HasPrefix(s, "&&") || strings.HasPrefix(s, "||"):
			out = append(out, token{tokOp, s[:2]})
			s = s[2:]
		case c == '(' || c == ')' || c == '!':
			out = append(out, token{tokOp, s[:1]})
			s = s[1:]
		default:
			i := strings.IndexFunc(s, func(r rune) bool {
				return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-')
			})
			if i < 0 {
				i = len(s)
			}
			if i == 0 {
				return append(out, token{tokOp, "?" + s[:1]})
			}
			word := s[:i]
			s = s[i:]
			if strings.HasPrefix(s, "()") {
				out = append(out, token{tokFunc, word})
				s = s[2:]
				continue
			}
			out = append(out, token{tokIdent, word})
		}
	}
	return out
}

func truthy(v string) bool { return v != "" && v != "false" && v != "0" }

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

type parser struct {
	r    *runner
	toks []token
}

func (r *runner) eval(expr string) string {
	p := &parser{r: r, toks: tokens(expr)}
	v := p.or()
	if len(p.toks) > 0 {
		r.t.Fatalf("expression %q: unexpected %q", expr, p.toks[0].text)
	}
	return v
}

func (p *parser) peek(op string) bool {
	return len(p.toks) > 0 && p.toks[0].kind == tokOp && p.toks[0].text == op
}

func (p *parser) or() string {
	v := p.and()
	for p.peek("||") {
		p.toks = p.toks[1:]
		w := p.and()
		if !truthy(v) {
			v = w
		}
	}
	return v
}

func (p *parser) and() string {
	v := p.cmp()
	for p.peek("&&") {
		p.toks = p.toks[1:]
		w := p.cmp()
		if truthy(v) {
			v = w
		}
	}
	return v
}

func (p *parser) cmp() string {
	v := p.unary()
	for p.peek("==") || p.peek("!=") {
		op := p.toks[0].text
		p.toks = p.toks[1:]
		w := p.unary()
		eq := strings.EqualFold(v, w)
		v = boolStr(eq == (op == "=="))
	}
	return v
}

func (p *parser) unary() string {
	if p.peek("!") {
		p.toks = p.toks[1:]
		return boolStr(!truthy(p.unary()))
	}
	if p.peek("(") {
		p.toks = p.toks[1:]
		v := p.or()
		if !p.peek(")") {
			p.r.t.Fatalf("expression: missing )")
		}
		p.toks = p.toks[1:]
		return v
	}
	if len(p.toks) == 0 {
		p.r.t.Fatalf("expression: missing operand")
	}
	t := p.toks[0]
	p.toks = p.toks[1:]
	switch t.kind {
	case tokString:
		return t.text
	case tokFunc:
		switch t.text {
		case "always":
			return "true"
		case "success":
			return boolStr(!p.r.failed)
		case "failure":
			return boolStr(p.r.failed)
		}
		p.r.t.Fatalf("expression: unknown function %s()", t.text)
	case tokIdent:
		return p.r.lookup(t.text)
	}
	p.r.t.Fatalf("expression: unexpected %q", t.text)
	return ""
}

func TestExpressions(t *testing.T) {
	r := &runner{t: t, inputs: map[string]string{"a": "x", "b": ""}, github: map[string]string{"event_name": "pull_request"},
		outcome: map[string]string{"s": "success"}, outputs: map[string]map[string]string{}}
	r.a.Inputs = map[string]actionInput{"a": {}, "b": {}}
	for expr, want := range map[string]bool{
		"inputs.a == 'x'": true, "inputs.b == ''": true, "inputs.b != ''": false,
		"always() && inputs.a == 'X' && steps.s.outcome == 'success'":      true,
		"github.event_name == 'push' || inputs.b != '' || inputs.a == 'x'": true,
		"!(inputs.a == 'x')": false, "success()": true, "failure()": false,
	} {
		if got := truthy(r.eval(expr)); got != want {
			t.Errorf("%s = %v, want %v", expr, got, want)
		}
	}
}
