package backends

import "testing"

func TestLooksLike(t *testing.T) {
	for in, want := range map[string]string{
		"":                                     "an empty file",
		"  \n\t":                               "an empty file",
		"<?xml version=\"1.0\"?>\n<pfsense>\n": "a pfSense config.xml",
		"\xef\xbb\xbf<?xml version=\"1.0\"?><opnsense/>": "an OPNsense config.xml",
		"<rules><rule/></rules>":                         "XML with root <rules>",
		"#config-version=FGT60F-7.2.8-FW-build1639-240313:opmode=0\nconfig system global\nend\n": "a FortiOS configuration",
		"config firewall policy\n    edit 1\n    next\nend\n":                                    "a FortiOS configuration",
		"sys sip_alg -e 0\nipf rule 2 1 -e 1\n":                                                  "a DrayTek Vigor command script",
		"Vigor> srv nat openport 1 1 -a 1\n":                                                     "a DrayTek Vigor command script",
		"\x1f\x8b\x08\x00\x00":                                                                   "binary data (an encrypted or compressed backup?)",
		"hello world\n":                                                                          "text of an unknown kind",
	} {
		if got := LooksLike([]byte(in)); got != want {
			t.Errorf("LooksLike(%q) = %q, want %q", in, got, want)
		}
	}
}
