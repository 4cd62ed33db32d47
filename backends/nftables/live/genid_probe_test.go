package live

// Ruleset generation ids and stale-plan refusal: a probe kept with its tests.
// These helpers are not on voicewall's path (Apply reads the generation with
// nlwire.GenID and puts NFNL_BATCH_GENID in its own batch, batch.go); they prove
// the kernel behaviour that path relies on, through google/nftables.
//
// Findings (kernel 6.18, google/nftables v0.3.0, mdlayher/netlink v1.11.2;
// proven end to end by genid_test.go inside a throwaway network namespace):
//
// Reading the generation id. google/nftables v0.3.0 has a GenMsg type but no
// way to request it. GenID sends one NFT_MSG_GETGEN request
// (type NFNL_SUBSYS_NFTABLES<<8 | NFT_MSG_GETGEN, flags NLM_F_REQUEST, an
// nlwire.Nfgenmsg {AF_UNSPEC, NFNETLINK_V0, res_id 0} and no attributes) on a
// NETLINK_NETFILTER socket. The kernel answers one NFT_MSG_NEWGEN message
// whose attributes are NFTA_GEN_ID (nlwire.BE32, the namespace's nft base_seq),
// NFTA_GEN_PROC_PID and NFTA_GEN_PROC_NAME (the last committer). No
// NLM_F_ACK is asked for, so exactly one datagram comes back and a socket can
// be reused. The id is per network namespace (the socket's), starts at 1,
// grows by one for every committed batch (a batch that changes nothing, or a
// batch the kernel rejected or rolled back, does not move it), and skips 0.
//
// Refusing a stale batch. The kernel's nfnetlink batch receiver
// (nfnetlink_rcv_skb_batch) parses attributes after the nlwire.Nfgenmsg of the
// NFNL_MSG_BATCH_BEGIN message; NFNL_BATCH_GENID (= 1, a nlwire.BE32; uapi
// linux/netfilter/nfnetlink.h, enum nfnl_batch_attributes) is the
// generation the batch was planned against. nf_tables_valid_genid compares
// it with the current base_seq while taking the commit mutex, which it keeps
// until the batch is committed or aborted, so check and commit are atomic: no
// other batch can slip in between. 0 means "do not check". When it differs
// the kernel answers one NLMSG_ERROR, for the batch-begin message only, with
// errno -ERESTART (85, "interrupted system call should be restarted",
// syscall.ERESTART), drops the rest of the batch unprocessed (no acks for
// the other messages) and changes nothing: the generation stays the same.
//
// Wiring it into google/nftables. v0.3.0 builds the batch-begin message
// itself (extraHeader(0, NFNL_SUBSYS_NFTABLES), no attributes) inside
// Conn.Flush and offers no hook but the test dial (nftables.WithTestDial,
// an nltest.Func that sees every request). GenIDGuard uses that hook as a
// transparent proxy to a real NETLINK_NETFILTER socket in the chosen
// namespace: on the way out it appends NFNL_BATCH_GENID to every
// NFNL_MSG_BATCH_BEGIN (AddBatchGenID), on the way back it hands the kernel's
// replies to the Conn. Two details matter:
//
//   - Flush waits for one ack per message it queued, but a stale batch gets a
//     single error. After ERESTART the guard answers the Conn's remaining
//     receives with "no message" (io.EOF to nltest), so Flush returns at once
//     with the error instead of blocking forever on the socket. A read
//     deadline (GenIDGuard.RecvTimeout) bounds every receive in any case.
//   - The Conn sees its own fake port id (nltest.PID); the guard rewrites the
//     real port id in replies and clears the multi-part flag (the real socket
//     already assembled the dump), so reads (ListTables, GetRules,
//     GetSetElements...) also work through a guarded Conn.
//
// What a stale Flush returns: an error for which
// errors.Is(err, syscall.ERESTART) and IsStaleGenID(err) are true; its text
// is "conn.Receive: netlink receive: interrupted system call should be
// restarted". Apply should say "the ruleset changed since the plan was made
// (generation N, now M): plan again" and read nothing else into it: nothing
// was applied.
//
// Socket options given with nftables.WithSockOptions do not reach the real
// socket when a test dial is used (nltest sockets do not support them): set
// GenIDGuard.ReadBuffer and WriteBuffer instead (large batches need them, see
// the reference's pitfall 2).
//
// Typical use in apply:
//
//	gen, err := live.ReadGenID(nsFD) // at plan time, saved with the plan
//	...
//	g := live.NewGenIDGuard(nsFD, gen)
//	defer g.Close()
//	c, err := nftables.New(g.ConnOption())
//	... queue the changes on c ...
//	if err := c.Flush(); live.IsStaleGenID(err) { refuse: plan is stale }
//
// voicewall's apply (apply.go) does not go through a guarded Conn: it
// sends its own batches (batch.go: one sendmsg, acks matched to messages,
// set elements encoded directly) and puts NFNL_BATCH_GENID into the batch
// begin the same way; a refusal comes back as *StaleError, for which
// IsStaleGenID is true as well. Read uses the same GETGEN request (nlwire.GenID)
// before and after reading the table, so a plan never mixes two
// generations.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/netlink/nltest"
	"golang.org/x/sys/unix"
)

const (
	getGenType = netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETGEN)
	newGenType = netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWGEN)
	batchBegin = netlink.HeaderType(unix.NFNL_MSG_BATCH_BEGIN)
	nfgenLen   = 4 // struct nlwire.Nfgenmsg: family u8, version u8, res_id be16
)

// IsStaleGenID reports whether err is the kernel's refusal of a batch whose
// NFNL_BATCH_GENID no longer matches the ruleset generation (ERESTART).
func IsStaleGenID(err error) bool {
	return errors.Is(err, syscall.ERESTART) || errors.Is(err, ErrStaleGenID)
}

// DialNetfilter opens a NETLINK_NETFILTER socket in the network namespace
// netnsFD (0: the calling thread's namespace).
func DialNetfilter(netnsFD int) (*netlink.Conn, error) {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: netnsFD})
	if err != nil {
		return nil, fmt.Errorf("dial netfilter netlink: %w", err)
	}
	return c, nil
}

// GenID reads the nftables ruleset generation id of c's network namespace
// with a raw NFT_MSG_GETGEN request. c must be a NETLINK_NETFILTER socket
// (see DialNetfilter).
func GenID(c *netlink.Conn) (uint32, error) {
	req := netlink.Message{
		Header: netlink.Header{Type: getGenType, Flags: netlink.Request},
		Data:   []byte{unix.AF_UNSPEC, unix.NFNETLINK_V0, 0, 0},
	}
	msgs, err := c.Execute(req)
	if err != nil {
		return 0, fmt.Errorf("NFT_MSG_GETGEN: %w", err)
	}
	for _, m := range msgs {
		if m.Header.Type != newGenType || len(m.Data) < nfgenLen {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[nfgenLen:])
		if err != nil {
			return 0, fmt.Errorf("NFT_MSG_NEWGEN: %w", err)
		}
		ad.ByteOrder = binary.BigEndian
		for ad.Next() {
			if ad.Type() == unix.NFTA_GEN_ID {
				id := ad.Uint32()
				if err := ad.Err(); err != nil {
					return 0, err
				}
				return id, nil
			}
		}
		if err := ad.Err(); err != nil {
			return 0, fmt.Errorf("NFT_MSG_NEWGEN: %w", err)
		}
	}
	return 0, errors.New("NFT_MSG_GETGEN: no NFTA_GEN_ID in the reply")
}

// ReadGenID opens a socket in the namespace netnsFD (0: current), reads the
// generation id and closes the socket.
func ReadGenID(netnsFD int) (uint32, error) {
	c, err := DialNetfilter(netnsFD)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return GenID(c)
}

// AddBatchGenID appends an NFNL_BATCH_GENID attribute carrying genid to
// every NFNL_MSG_BATCH_BEGIN message in msgs (in place) and clears its
// length so the socket recomputes it. It reports how many messages it
// changed. A begin message that already carries attributes is an error.
func AddBatchGenID(msgs []netlink.Message, genid uint32) (int, error) {
	attr, err := netlink.MarshalAttributes([]netlink.Attribute{{
		Type: unix.NFNL_BATCH_GENID,
		Data: binary.BigEndian.AppendUint32(nil, genid),
	}})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type != batchBegin {
			continue
		}
		if len(m.Data) != nfgenLen {
			return n, fmt.Errorf("batch begin message has %d bytes of payload, want a bare nlwire.Nfgenmsg", len(m.Data))
		}
		m.Data = append(append(make([]byte, 0, nfgenLen+len(attr)), m.Data...), attr...)
		m.Header.Length = 0
		n++
	}
	return n, nil
}

// GenIDGuard makes the batches of a google/nftables Conn carry an expected
// ruleset generation id, so the kernel refuses them (ERESTART) when the
// ruleset changed since that id was read. Use ConnOption with nftables.New.
// A guard keeps one real socket open until Close; use it from one Conn at a
// time (as nftables.Conn does).
type GenIDGuard struct {
	// NetNS is the namespace fd the real socket is opened in (0: current).
	NetNS int
	// ReadBuffer and WriteBuffer, when positive, size the real socket's
	// buffers (nftables.WithSockOptions cannot reach it).
	ReadBuffer, WriteBuffer int
	// RecvTimeout bounds every receive on the real socket (default 30s).
	RecvTimeout time.Duration

	mu      sync.Mutex
	genid   uint32
	conn    *netlink.Conn
	aborted bool   // the kernel refused the batch in flight: no more replies
	sent    uint32 // batches sent, for tests and logs
}

// NewGenIDGuard returns a guard for namespace netnsFD pinned to genid.
func NewGenIDGuard(netnsFD int, genid uint32) *GenIDGuard {
	return &GenIDGuard{NetNS: netnsFD, genid: genid}
}

// SetGenID changes the expected generation (e.g. after a successful Flush,
// which itself moves the generation on).
func (g *GenIDGuard) SetGenID(genid uint32) {
	g.mu.Lock()
	g.genid = genid
	g.mu.Unlock()
}

// ConnOption returns the option that routes a Conn through the guard:
// nftables.New(g.ConnOption(), ...). Do not combine it with WithNetNSFd or
// another WithTestDial.
func (g *GenIDGuard) ConnOption() nftables.ConnOption {
	return nftables.WithTestDial(g.roundTrip)
}

// Close closes the real socket. The guard can be used again afterwards.
func (g *GenIDGuard) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn == nil {
		return nil
	}
	err := g.conn.Close()
	g.conn = nil
	return err
}

func (g *GenIDGuard) dial() error {
	if g.conn != nil {
		return nil
	}
	c, err := DialNetfilter(g.NetNS)
	if err != nil {
		return err
	}
	if g.ReadBuffer > 0 {
		if err := c.SetReadBuffer(g.ReadBuffer); err != nil {
			c.Close()
			return fmt.Errorf("set read buffer: %w", err)
		}
	}
	if g.WriteBuffer > 0 {
		if err := c.SetWriteBuffer(g.WriteBuffer); err != nil {
			c.Close()
			return fmt.Errorf("set write buffer: %w", err)
		}
	}
	g.conn = c
	return nil
}

// roundTrip is the nltest.Func: a non-nil req is sent to the kernel (batch
// begins rewritten); a nil req means the Conn wants to receive.
func (g *GenIDGuard) roundTrip(req []netlink.Message) ([]netlink.Message, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := g.dial(); err != nil {
		return nil, err
	}
	if req != nil {
		msgs := make([]netlink.Message, len(req))
		copy(msgs, req)
		for i := range msgs {
			msgs[i].Header.PID = 0 // the real socket fills in its port id
		}
		if g.genid != 0 {
			n, err := AddBatchGenID(msgs, g.genid)
			if err != nil {
				return nil, err
			}
			g.sent += uint32(n)
		}
		g.aborted = false
		if _, err := g.conn.SendMessages(msgs); err != nil {
			return nil, err
		}
		return nil, nil // replies are read when the Conn receives
	}

	if g.aborted {
		return nil, io.EOF // nltest: no message, no error
	}
	timeout := g.RecvTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if err := g.conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return nil, err
	}
	msgs, err := g.conn.Receive()
	if err != nil {
		if errors.Is(err, syscall.ERESTART) {
			// Only the batch begin is answered; the rest of the batch
			// was dropped unprocessed.
			g.aborted = true
		}
		var oe *netlink.OpError
		if errors.As(err, &oe) && oe.Message == "" && oe.Offset == 0 {
			err = oe.Err // the Conn wraps it again
		}
		return nil, err
	}
	pid := g.conn.PID()
	for i := range msgs {
		if msgs[i].Header.PID == pid {
			msgs[i].Header.PID = nltest.PID
		}
		msgs[i].Header.Flags &^= netlink.Multi
	}
	if len(msgs) == 0 {
		return nil, io.EOF
	}
	return msgs, nil
}
