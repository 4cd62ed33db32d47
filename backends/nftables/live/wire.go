package live

import "github.com/voicewall/voicewall/backends/nftables/live/nlwire"

// The netlink codec lives in package nlwire; these are the parts of it
// live's own API hands out.
type (
	// Msg is one nftables netlink message of a batch.
	Msg = nlwire.Msg
	// BatchStats describes a sent batch.
	BatchStats = nlwire.BatchStats
	// BatchError is a batch the kernel refused, naming the message.
	BatchError = nlwire.BatchError
	// StaleError is a batch refused because the ruleset moved on.
	StaleError = nlwire.StaleError
)

var (
	// ErrStaleGenID matches StaleError with errors.Is.
	ErrStaleGenID = nlwire.ErrStaleGenID
	// ErrOutcomeUnknown wraps a failure after which the kernel may or may
	// not have committed the batch.
	ErrOutcomeUnknown = nlwire.ErrOutcomeUnknown
)

// BufferSize is the netlink socket buffer voicewall asks for.
const BufferSize = nlwire.BufferSize
