package nlwire

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// BatchError says which message of a batch the kernel refused and why. The
// kernel rolled the whole batch back: nothing of it was applied.
type BatchError struct {
	Index int    // index of the first refused message; -1: the batch as a whole
	What  string // what that message does
	Errno syscall.Errno
	Text  string // the kernel's extended-ack text, when it gave one
	Count int    // how many messages were refused
}

func (e *BatchError) Error() string {
	var b strings.Builder
	if e.Index < 0 {
		b.WriteString("the kernel refused the batch")
	} else {
		fmt.Fprintf(&b, "the kernel refused message %d (%s)", e.Index+1, e.What)
	}
	fmt.Fprintf(&b, ": %v", e.Errno)
	if e.Text != "" {
		b.WriteString(" (" + e.Text + ")")
	}
	if e.Count > 1 {
		fmt.Fprintf(&b, "; %d messages refused in all", e.Count)
	}
	b.WriteString("; nothing was applied")
	return b.String()
}

func (e *BatchError) Unwrap() error { return e.Errno }

// ErrStaleGenID is matched by errors.Is for an error returned when the
// kernel refused a batch because the ruleset generation changed.
var ErrStaleGenID = errors.New("nftables ruleset generation changed since the plan was made")

// StaleError is returned when the kernel refused a batch because the
// ruleset generation moved since the plan was read.
type StaleError struct {
	Planned, Now uint32
}

func (e *StaleError) Error() string {
	if e.Now != 0 {
		return fmt.Sprintf("the ruleset changed since the plan was made (generation %d, now %d): nothing was applied; plan again", e.Planned, e.Now)
	}
	return fmt.Sprintf("the ruleset changed since the plan was made (generation %d): nothing was applied; plan again", e.Planned)
}

func (e *StaleError) Is(target error) bool {
	return target == ErrStaleGenID || target == syscall.ERESTART
}

// BatchStats describes a sent batch.
type BatchStats struct {
	Messages int           // messages between batch begin and end
	Elements int           // set elements carried
	Bytes    int           // bytes sent in the one sendmsg
	Kernel   time.Duration // time from send to the last ack (kernel work)
}

// TestRecvBuffer, when set by a test, shrinks the receive buffer of the
// batch socket so the kernel's acks overflow it (ENOBUFS).
var TestRecvBuffer int

// SendBatch sends msgs as one nfnetlink batch (one sendmsg, so the kernel
// applies all of it or nothing). genid != 0 makes the kernel refuse the
// batch if the ruleset generation is no longer genid. Every message asks for
// an ack; the acks are matched to the messages, so a refusal names the
// message that caused it.
func SendBatch(nsFD int, msgs []Msg, genid uint32) (BatchStats, error) {
	var st BatchStats
	if len(msgs) == 0 {
		return st, nil
	}
	size := 64
	for _, m := range msgs {
		size += HdrLen + (len(m.Data)+3)&^3
		st.Elements += m.Elems
	}
	bufSize := BufferSize
	if size+(1<<20) > bufSize {
		bufSize = size + 1<<20
	}
	s, err := Open(nsFD, bufSize)
	if err != nil {
		return st, err
	}
	defer s.Close()
	if TestRecvBuffer > 0 {
		_ = unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, TestRecvBuffer)
	}

	b := make([]byte, 0, size+64)
	beginSeq := s.NextSeq()
	begin := Nfgenmsg(unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES)
	if genid != 0 {
		begin = AppendU32Attr(begin, unix.NFNL_BATCH_GENID, genid)
	}
	b = AppendMsg(b, unix.NFNL_MSG_BATCH_BEGIN, FlagRequest, beginSeq, begin)
	first := beginSeq + 1
	for _, m := range msgs {
		flags := (m.Flags | FlagRequest | FlagAck) &^ FlagEcho
		b = AppendMsg(b, m.Type, flags, s.NextSeq(), m.Data)
	}
	b = AppendMsg(b, unix.NFNL_MSG_BATCH_END, FlagRequest, s.NextSeq(), Nfgenmsg(unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES))
	st.Messages, st.Bytes = len(msgs), len(b)

	start := time.Now()
	if err := s.Send(b); err != nil {
		if errors.Is(err, unix.EMSGSIZE) {
			return st, fmt.Errorf("batch of %d bytes too large for the netlink socket: %w; nothing was applied", len(b), err)
		}
		return st, fmt.Errorf("%w: sending the batch failed: %v", ErrOutcomeUnknown, err)
	}
	pending := len(msgs)
	acked := make([]bool, len(msgs))
	var berr *BatchError
	for pending > 0 {
		replies, err := s.Recv()
		if err != nil {
			if errors.Is(err, unix.ENOBUFS) {
				return st, fmt.Errorf("%w: the kernel's replies overflowed the socket buffer (ENOBUFS)", ErrOutcomeUnknown)
			}
			if errors.Is(err, unix.EAGAIN) {
				return st, fmt.Errorf("%w: no answer from the kernel within the timeout", ErrOutcomeUnknown)
			}
			return st, fmt.Errorf("%w: reading the kernel's answer: %v", ErrOutcomeUnknown, err)
		}
		for _, r := range replies {
			if r.Type != unix.NLMSG_ERROR {
				continue // echoes of new objects
			}
			errno, seq, text := NLError(r)
			if seq == beginSeq {
				if errno == syscall.ERESTART {
					st.Kernel = time.Since(start)
					return st, &StaleError{Planned: genid}
				}
				if errno != 0 {
					st.Kernel = time.Since(start)
					return st, &BatchError{Index: -1, Errno: errno, Text: text, Count: 1}
				}
				continue
			}
			i := int(seq - first)
			if i < 0 || i >= len(msgs) || acked[i] {
				continue
			}
			acked[i] = true
			pending--
			if errno != 0 {
				if berr == nil {
					berr = &BatchError{Index: i, What: msgs[i].What, Errno: errno, Text: text}
				}
				berr.Count++
			}
		}
	}
	st.Kernel = time.Since(start)
	if berr != nil {
		return st, berr
	}
	return st, nil
}
