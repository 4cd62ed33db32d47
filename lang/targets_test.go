package lang_test

// lang names no target: the targets a policy may name are the ones the
// backends declare, registered by backends/registry as in the program.
import _ "github.com/voicewall/voicewall/backends/registry"
