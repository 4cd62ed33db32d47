// Package nlwire is voicewall's netlink codec for nftables: attributes,
// messages, a small raw NETLINK_NETFILTER socket, dumps and batches.
// voicewall sends its own batches (one sendmsg, genid in the batch begin,
// acks mapped back to the message that caused them) and dumps big sets
// without google/nftables' per-element decoding. Every message of a batch
// is written with this package's attribute writer (live/build.go); only a
// rule's expressions come from google/nftables' expression encoder. Package
// live decides what to send and reads what comes back into its State.
package nlwire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Netlink header flags and sizes used below.
const (
	HdrLen      = unix.SizeofNlMsghdr // 16
	FlagRequest = unix.NLM_F_REQUEST
	FlagAck     = unix.NLM_F_ACK
	FlagEcho    = unix.NLM_F_ECHO
	FlagDump    = unix.NLM_F_DUMP
	// BufferSize is the send and receive buffer voicewall asks for
	// (a 100,000-element batch needs about 8 MB, or the kernel answers
	// ENOBUFS; bigger batches get more).
	BufferSize = 8 << 20
)

// Msg is one nftables netlink message of a batch: header type and flags,
// the payload after the netlink header (Nfgenmsg + attributes), and what it
// does in words (for error messages: "add rule wan_in/closed_2000_tcp").
type Msg struct {
	Type  uint16
	Flags uint16
	Data  []byte
	What  string
	// Elems is the number of set elements the message carries (0 for
	// messages that are not element messages), for statistics.
	Elems int
}

func NftType(msg int) uint16 { return uint16(unix.NFNL_SUBSYS_NFTABLES<<8 | msg) }

// sock is a raw netlink socket of the NETLINK_NETFILTER family, created in
// one network namespace.
type Sock struct {
	fd     int
	portID uint32
	seq    uint32
	buf    []byte
}

// Open opens a netfilter netlink socket inside namespace nsFD (0 or
// negative: the calling thread's namespace), with buffers of at least bufSize
// bytes (forced when running as root, as nft does).
func Open(nsFD int, bufSize int) (*Sock, error) {
	var fd int
	var err error
	if nsFD > 0 {
		fd, err = socketInNS(nsFD)
	} else {
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	}
	if err != nil {
		return nil, fmt.Errorf("netfilter netlink socket: %w", err)
	}
	s := &Sock{fd: fd, seq: uint32(time.Now().UnixNano())}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		s.Close()
		return nil, fmt.Errorf("bind netlink socket: %w", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		s.Close()
		return nil, err
	}
	if nl, ok := sa.(*unix.SockaddrNetlink); ok {
		s.portID = nl.Pid
	}
	// Errors carry only the header of the failing message, not its
	// (possibly 60 KB) payload; extended acks carry the kernel's reason.
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, 1)
	if bufSize > 0 {
		if err := s.SetBuffers(bufSize); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.SetTimeout(30 * time.Second); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// socketInNS creates the socket on a locked OS thread that has entered the
// namespace; the socket stays in that namespace for its lifetime. If the
// thread cannot return to its namespace it stays locked and the runtime
// discards it, so no other goroutine ever runs in the wrong namespace.
func socketInNS(nsFD int) (int, error) {
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			ch <- result{-1, err}
			return
		}
		defer orig.Close()
		if err := netns.Set(netns.NsHandle(nsFD)); err != nil {
			ch <- result{-1, fmt.Errorf("enter network namespace: %w", err)}
			return
		}
		fd, serr := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
		if err := netns.Set(orig); err != nil {
			if serr == nil {
				unix.Close(fd)
			}
			ch <- result{-1, fmt.Errorf("leave network namespace: %w", err)}
			return // the thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		ch <- result{fd, serr}
	}()
	r := <-ch
	return r.fd, r.err
}

func (s *Sock) SetBuffers(n int) error {
	for _, o := range [][2]int{{unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}, {unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}} {
		if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, o[0], n); err != nil {
			// Not root: ask within the system's limits.
			if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, o[1], n); err != nil {
				return fmt.Errorf("netlink socket buffer: %w", err)
			}
		}
	}
	return nil
}

func (s *Sock) SetTimeout(d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	return unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
}

func (s *Sock) Close() error {
	if s == nil || s.fd < 0 {
		return nil
	}
	err := unix.Close(s.fd)
	s.fd = -1
	return err
}

func (s *Sock) NextSeq() uint32 {
	s.seq++
	if s.seq == 0 {
		s.seq = 1
	}
	return s.seq
}

// AppendMsg appends one netlink message (header, payload, padding).
func AppendMsg(b []byte, typ, flags uint16, seq uint32, data []byte) []byte {
	l := HdrLen + len(data)
	b = binary.NativeEndian.AppendUint32(b, uint32(l))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (s *Sock) Send(b []byte) error {
	for {
		err := unix.Sendto(s.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

// Message is one received message.
type Message struct {
	Type  uint16
	Flags uint16
	Seq   uint32
	Data  []byte // after the netlink header
}

// recv reads one datagram and splits it into messages. The returned data
// aliases s.buf until the next recv.
func (s *Sock) Recv() ([]Message, error) {
	if s.buf == nil {
		s.buf = make([]byte, 1<<20)
	}
	for {
		n, _, err := unix.Recvfrom(s.fd, s.buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		return ParseMsgs(s.buf[:n])
	}
}

func ParseMsgs(b []byte) ([]Message, error) {
	var out []Message
	for len(b) >= HdrLen {
		l := int(binary.NativeEndian.Uint32(b[0:4]))
		if l < HdrLen || l > len(b) {
			return out, fmt.Errorf("netlink: malformed message (length %d of %d)", l, len(b))
		}
		out = append(out, Message{
			Type:  binary.NativeEndian.Uint16(b[4:6]),
			Flags: binary.NativeEndian.Uint16(b[6:8]),
			Seq:   binary.NativeEndian.Uint32(b[8:12]),
			Data:  b[HdrLen:l],
		})
		a := (l + 3) &^ 3
		if a > len(b) {
			a = len(b)
		}
		b = b[a:]
	}
	return out, nil
}

// NLError decodes an NLMSG_ERROR payload: errno (0 for an ack), the seq of
// the message it answers and the kernel's extended-ack text, if any.
func NLError(m Message) (errno syscall.Errno, seq uint32, text string) {
	if len(m.Data) < 4+HdrLen {
		return syscall.EIO, 0, ""
	}
	code := int32(binary.NativeEndian.Uint32(m.Data[0:4]))
	if code < 0 {
		errno = syscall.Errno(-code)
	}
	seq = binary.NativeEndian.Uint32(m.Data[4+8 : 4+12])
	if m.Flags&unix.NLM_F_ACK_TLVS == 0 {
		return errno, seq, ""
	}
	// With NETLINK_CAP_ACK only the original header follows the errno.
	off := 4 + HdrLen
	if m.Flags&unix.NLM_F_CAPPED == 0 {
		ol := int(binary.NativeEndian.Uint32(m.Data[4:8]))
		off = 4 + ((ol + 3) &^ 3)
	}
	for _, a := range ParseAttrs(m.Data[min(off, len(m.Data)):]) {
		if a.Type == unix.NLMSGERR_ATTR_MSG {
			text = CString(a.Data)
		}
	}
	return errno, seq, text
}

// ErrOutcomeUnknown wraps a failure after which the kernel may or may not
// have committed the batch (ENOBUFS: replies were lost). Re-read the table.
var ErrOutcomeUnknown = errors.New("outcome unknown")

// dump sends one dump request and calls fn for every reply until DONE.
func (s *Sock) Dump(typ uint16, data []byte, fn func(Message) error) error {
	seq := s.NextSeq()
	if err := s.Send(AppendMsg(nil, typ, FlagRequest|FlagDump|FlagAck, seq, data)); err != nil {
		return err
	}
	for {
		msgs, err := s.Recv()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Seq != seq {
				continue
			}
			switch m.Type {
			case unix.NLMSG_DONE:
				if len(m.Data) >= 4 {
					if code := int32(binary.NativeEndian.Uint32(m.Data)); code < 0 {
						return unix.Errno(-code)
					}
				}
				return nil
			case unix.NLMSG_ERROR:
				errno, _, text := NLError(m)
				if errno != 0 {
					if text != "" {
						return fmt.Errorf("%w (%s)", errno, text)
					}
					return errno
				}
				return nil
			}
			if err := fn(m); err != nil {
				return err
			}
		}
	}
}

// GenID reads the generation id on a raw socket.
func GenID(s *Sock) (uint32, error) {
	seq := s.NextSeq()
	if err := s.Send(AppendMsg(nil, NftType(unix.NFT_MSG_GETGEN), FlagRequest, seq, Nfgenmsg(unix.AF_UNSPEC, 0))); err != nil {
		return 0, fmt.Errorf("NFT_MSG_GETGEN: %w", err)
	}
	for {
		msgs, err := s.Recv()
		if err != nil {
			return 0, fmt.Errorf("NFT_MSG_GETGEN: %w", err)
		}
		for _, m := range msgs {
			if m.Seq != seq {
				continue
			}
			if m.Type == unix.NLMSG_ERROR {
				if errno, _, _ := NLError(m); errno != 0 {
					return 0, fmt.Errorf("NFT_MSG_GETGEN: %w", errno)
				}
				continue
			}
			if m.Type == NftType(unix.NFT_MSG_NEWGEN) && len(m.Data) >= 4 {
				for _, a := range ParseAttrs(m.Data[4:]) {
					if a.Type == unix.NFTA_GEN_ID {
						return BE32(a.Data), nil
					}
				}
			}
			return 0, errors.New("NFT_MSG_GETGEN: no NFTA_GEN_ID in the reply")
		}
	}
}
