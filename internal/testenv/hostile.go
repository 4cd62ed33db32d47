package testenv

// HostileFileNames are policy file names that try to end a comment or a
// quoted string in a target's output and start a rule, a table or a command
// of their own (issue 12: a name with `"` and a newline added an accept
// rule ahead of every drop in the nftables output). Every target's tests
// load a policy from files named so and check that the output has the same
// shape as with a plain name.
var HostileFileNames = []string{
	"a\"\niifname \"eth0\" accept comment \"b.hcl",
	"x\" }\n}\ntable ip evil {\n chain c {\n  type filter hook input priority -500; policy accept;\n }\n}\ntable inet voicewall {\n chain y { comment \"z.hcl",
	"a\\\" accept #\u202e\u2028\r\x1b]0;pwned\a.hcl",
	"n\"\nend\nconfig firewall policy\nedit 1\nset action accept\nnext\nend\n#.hcl",
	"p --><rule><type>pass<!-- ]]><x>&amp;.hcl", // no "/": it cannot be in a file name
	"d\"\nipf rule 2 1 -e 1 -F \"0 0\"\n#.hcl",
}
