package audit

import (
	"github.com/voicewall/voicewall/devmodel"
	"github.com/voicewall/voicewall/lang"
)

func drift(d *devmodel.Device, p *lang.Policy) ([]Finding, int) { return nil, 0 }
