package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// DefaultEpoch is the epoch length when [Options.Epoch] is zero.
const DefaultEpoch = time.Minute

// MinKeySize is the shortest key NewWriter and Verify accept, in bytes. A
// key should be 32 bytes from crypto/rand.
const MinKeySize = 16

// ErrClosed is returned by a Writer's methods after Close.
var ErrClosed = errors.New("seal: writer closed")

// Options configure a Writer. A nil *Options, like a zero Options, gives
// one-minute epochs, the system clock, a random log id, a ticker goroutine
// and no checkpoints.
type Options struct {
	// Epoch is how long one sealing key lives: at the end of each epoch the
	// writer writes a seal record and replaces the key. Zero means
	// DefaultEpoch.
	Epoch time.Duration

	// Now returns the current time. Nil means time.Now. Tests set it, with
	// NoTicker, to make epochs deterministic.
	Now func() time.Time

	// Rand is the source of the log id. Nil means crypto/rand.Reader.
	Rand io.Reader

	// NoTicker stops NewWriter from starting the goroutine that calls Tick
	// at the end of every epoch. The application must then call Tick (or
	// Seal) at least once an epoch, or the verifier reports missing seals.
	NoTicker bool

	// Resume, if set, continues the log whose state it is (see
	// [Writer.State]): the same log id, the next sequence number, the
	// chain value and the current epoch and key. Use it after a restart,
	// or to rotate to a new file; the key given to NewWriter is then not
	// used. Nil starts a new log.
	Resume *State

	// Checkpoint, if set, is called with a checkpoint after each of the
	// writer's own records (open, every seal, close) is written, for the
	// application to store off the host. Calls are made one at a time, in
	// order, by Tick, Seal and Close (so from the ticker goroutine, too),
	// outside the writer's lock, so the hook may itself log through the
	// writer; the open record's checkpoint, when a Write opened the log,
	// comes with the next of them. A panic in the hook is recovered and
	// passed to OnError; no record is lost.
	Checkpoint func(Checkpoint)

	// SigningKey, if set, signs every checkpoint (see [Checkpoint.Verify]).
	SigningKey ed25519.PrivateKey

	// OnError, if set, receives the errors no caller can receive: a write
	// failure of the ticker goroutine, a panic in Checkpoint. Nil drops
	// them.
	OnError func(error)
}

// State is what a Writer needs to continue a log: pass it as
// [Options.Resume]. It holds the current epoch key, which forges records of
// the current and later epochs: keep it where the log's host keeps its
// own secrets, and clear Key once it has been used.
type State struct {
	LogID LogID
	Epoch uint64            // the current epoch
	Seq   uint64            // the sequence number of the next record
	Chain Sum               // the MAC of the last record written
	Key   [sha256.Size]byte // the current epoch's key
}

const stateVersion = 1

// MarshalBinary encodes s in 97 bytes.
func (s State) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 1+len(s.LogID)+8+8+len(s.Chain)+len(s.Key))
	b = append(b, stateVersion)
	b = append(b, s.LogID[:]...)
	b = binary.BigEndian.AppendUint64(b, s.Epoch)
	b = binary.BigEndian.AppendUint64(b, s.Seq)
	b = append(b, s.Chain[:]...)
	return append(b, s.Key[:]...), nil
}

// UnmarshalBinary decodes a State encoded by MarshalBinary.
func (s *State) UnmarshalBinary(b []byte) error {
	if len(b) != 1+len(s.LogID)+8+8+len(s.Chain)+len(s.Key) || b[0] != stateVersion {
		return errors.New("seal: not an encoded State")
	}
	b = b[1+copy(s.LogID[:], b[1:]):]
	s.Epoch = binary.BigEndian.Uint64(b)
	s.Seq = binary.BigEndian.Uint64(b[8:])
	b = b[16+copy(s.Chain[:], b[16:]):]
	copy(s.Key[:], b)
	return nil
}

// A Writer seals the lines written to it and writes them, each with its
// seal field, to an underlying writer. It is safe for concurrent use.
type Writer struct {
	mu       sync.Mutex
	w        io.Writer
	now      func() time.Time
	epochLen time.Duration
	hook     func(Checkpoint)
	sign     ed25519.PrivateKey
	onError  func(error)

	key     [sha256.Size]byte
	mac     *macer
	logID   LogID
	epoch   uint64
	seq     uint64
	chain   Sum
	resumed bool

	opened   bool
	closed   bool
	asJSON   bool      // the writer's own records take the form of the last line
	epochEnd time.Time // when the current epoch ends

	pending []byte // a line not yet ended by '\n'
	out     []byte
	ctl     []byte
	sum     [sha256.Size]byte

	hookMu sync.Mutex
	queue  []Checkpoint

	stop chan struct{}
	done chan struct{}
}

// NewWriter returns a Writer that seals lines with key and writes them to
// w. The key is what the verifier needs: keep it off the host (the writer
// derives its own key from it and never writes it). NewWriter panics if key
// is shorter than MinKeySize or if opts.Rand fails. Unless opts.NoTicker is
// set it starts a goroutine, which Close stops.
//
// The log's first line is its open record, written with the first line the
// application writes, or by the first Tick, Seal or Close.
func NewWriter(w io.Writer, key []byte, opts *Options) *Writer {
	if len(key) < MinKeySize {
		panic("seal: key shorter than MinKeySize")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	sw := &Writer{
		w:        w,
		now:      o.Now,
		epochLen: o.Epoch,
		hook:     o.Checkpoint,
		sign:     o.SigningKey,
		onError:  o.OnError,
		mac:      newMacer(),
		asJSON:   true,
	}
	if sw.now == nil {
		sw.now = time.Now
	}
	if sw.epochLen <= 0 {
		sw.epochLen = DefaultEpoch
	}
	if st := o.Resume; st != nil {
		sw.logID, sw.epoch, sw.seq, sw.chain, sw.key = st.LogID, st.Epoch, st.Seq, st.Chain, st.Key
		sw.resumed = st.Seq > 0
	} else {
		r := o.Rand
		if r == nil {
			r = rand.Reader
		}
		if _, err := io.ReadFull(r, sw.logID[:]); err != nil {
			panic("seal: reading a log id: " + err.Error())
		}
		sw.key = initialKey(key)
	}
	sw.mac.setKey(&sw.key)
	if !o.NoTicker {
		sw.stop, sw.done = make(chan struct{}), make(chan struct{})
		go sw.tick(sw.stop, sw.done)
	}
	return sw
}

// Write seals each complete line in p and writes it, with its seal field,
// to the underlying writer, one Write call per line. Bytes after the last
// '\n' wait for the rest of their line. A line that fails to be written is
// not part of the chain: the next line follows the last one written.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return 0, ErrClosed
	}
	n := 0
	var err error
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.pending = append(w.pending, p...)
			n += len(p)
			break
		}
		line := p[:i]
		if len(w.pending) > 0 {
			w.pending = append(w.pending, line...)
			line = w.pending
		}
		if err = w.record(line); err != nil {
			w.pending = w.pending[:0] // the line is lost, and the error says so
			break
		}
		w.pending = w.pending[:0]
		n += i + 1
		p = p[i+1:]
	}
	w.mu.Unlock()
	// The open record's checkpoint waits for the next Tick, Seal or Close:
	// a handler calls Write holding its own lock, and a hook that logs
	// would take that lock again.
	return n, err
}

// record seals and writes one line of the application's.
func (w *Writer) record(line []byte) error {
	if !w.opened {
		w.asJSON = isJSON(line)
		if err := w.open(w.now()); err != nil {
			return err
		}
	}
	if err := w.writeLine(line, kindRecord); err != nil {
		return err
	}
	w.asJSON = isJSON(line)
	return nil
}

// writeLine seals body as the next record of the chain and writes it.
func (w *Writer) writeLine(body []byte, kind byte) error {
	// The MAC input is built in front of the line, to be hashed in one
	// piece; the line is then sealed in place.
	out := append(w.out[:0], make([]byte, headerLen)...)
	putHeader(out, (*[sha256.Size]byte)(&w.chain), w.seq, kind, len(body))
	out = append(out, body...)
	w.mac.restore()
	w.mac.h.Write(out)
	w.mac.sum(&w.sum)
	out = sealBody(out, headerLen, w.seq, kind, &w.sum)
	out = append(out, '\n')
	w.out = out
	if _, err := w.w.Write(out[headerLen:]); err != nil {
		return err
	}
	w.chain = w.sum
	w.seq++
	return nil
}

// control writes one of the writer's own records and queues its checkpoint.
// A seal or close record ends the epoch: the key is replaced by the next
// epoch's, and the old one overwritten.
func (w *Writer) control(kind byte, now time.Time) error {
	c := control{Time: now, LogID: w.logID, Epoch: w.epoch}
	if kind == kindOpen {
		c.EpochLength = w.epochLen
		if w.resumed {
			c.Resumed, c.PrevSeq, c.PrevMAC = true, w.seq-1, w.chain
		}
	}
	w.ctl = appendControl(w.ctl[:0], w.asJSON, kind, &c)
	if err := w.writeLine(w.ctl, kind); err != nil {
		return err
	}
	if w.hook != nil {
		cp := Checkpoint{LogID: w.logID, Kind: kindNames[kind], Epoch: w.epoch, Seq: w.seq - 1, Chain: w.chain, Time: now}
		if w.sign != nil {
			cp.Sign(w.sign)
		}
		w.queue = append(w.queue, cp)
	}
	if kind != kindOpen {
		evolve(&w.key)
		w.mac.setKey(&w.key)
		w.epoch++
	}
	return nil
}

func (w *Writer) open(now time.Time) error {
	if err := w.control(kindOpen, now); err != nil {
		return err
	}
	w.opened = true
	w.epochEnd = now.Add(w.epochLen)
	return nil
}

// Tick writes a seal record if the current epoch has ended, opening the log
// first if nothing has been written yet. The ticker goroutine calls it at
// the end of every epoch; with [Options.NoTicker] the application does. If
// Tick comes more than an epoch late, it writes one seal, not one per
// epoch missed, and the verifier reports the seals missing.
func (w *Writer) Tick() error {
	now := w.now()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	var err error
	if !w.opened {
		err = w.open(now)
	} else if !now.Before(w.epochEnd) {
		if err = w.control(kindSeal, now); err == nil {
			w.epochEnd = w.epochEnd.Add(w.epochLen)
			if !now.Before(w.epochEnd) {
				w.epochEnd = now.Add(w.epochLen)
			}
		}
	}
	w.mu.Unlock()
	w.deliver()
	return err
}

// Seal ends the current epoch now, whatever the time: it writes a seal
// record and replaces the key. The next epoch ends an epoch length later.
func (w *Writer) Seal() error {
	now := w.now()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	err := w.sealNow(now, kindSeal)
	if err == nil {
		w.epochEnd = now.Add(w.epochLen)
	}
	w.mu.Unlock()
	w.deliver()
	return err
}

func (w *Writer) sealNow(now time.Time, kind byte) error {
	if !w.opened {
		if err := w.open(now); err != nil {
			return err
		}
	}
	return w.control(kind, now)
}

// Close stops the ticker, seals a partial last line as a line, and writes
// the close record, which ends the epoch like a seal. It does not close the
// underlying writer. After Close, State returns what a writer continuing
// the log in another file needs.
func (w *Writer) Close() error {
	w.mu.Lock()
	stop := w.stop
	w.stop = nil
	w.mu.Unlock()
	if stop != nil {
		close(stop)
		<-w.done
	}
	now := w.now()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	var err error
	if len(w.pending) > 0 {
		err = w.record(w.pending)
		w.pending = w.pending[:0]
	}
	if err == nil {
		err = w.sealNow(now, kindClose)
	}
	w.closed = true
	w.mu.Unlock()
	w.deliver()
	return err
}

// State returns the writer's state: after Close, the state a writer
// continuing the log starts from; before, a snapshot that a writer
// resuming after a crash can start from (records written after the
// snapshot then show up as a break in the chain).
func (w *Writer) State() State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return State{LogID: w.logID, Epoch: w.epoch, Seq: w.seq, Chain: w.chain, Key: w.key}
}

// LogID returns the id of the log the writer writes.
func (w *Writer) LogID() LogID {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logID
}

func (w *Writer) tick(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTimer(w.untilEpochEnd())
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if err := w.Tick(); err != nil && err != ErrClosed {
				w.report(err)
			}
			t.Reset(w.untilEpochEnd())
		}
	}
}

func (w *Writer) untilEpochEnd() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.opened {
		return w.epochLen
	}
	return max(w.epochEnd.Sub(w.now()), time.Millisecond)
}

// deliver passes queued checkpoints to the hook, one call at a time and in
// order. Whoever holds hookMu delivers; a checkpoint queued meanwhile, even
// by the hook itself, is picked up before that goroutine leaves.
func (w *Writer) deliver() {
	if w.hook == nil {
		return
	}
	for w.hookMu.TryLock() {
		for {
			w.mu.Lock()
			if len(w.queue) == 0 {
				w.queue = w.queue[:0]
				w.mu.Unlock()
				break
			}
			cp := w.queue[0]
			w.queue = append(w.queue[:0], w.queue[1:]...)
			w.mu.Unlock()
			w.callHook(cp)
		}
		w.hookMu.Unlock()
		w.mu.Lock()
		empty := len(w.queue) == 0
		w.mu.Unlock()
		if empty {
			return
		}
	}
}

func (w *Writer) callHook(cp Checkpoint) {
	defer func() {
		if r := recover(); r != nil {
			w.report(fmt.Errorf("seal: checkpoint hook panicked: %v", r))
		}
	}()
	w.hook(cp)
}

func (w *Writer) report(err error) {
	if w.onError == nil {
		return
	}
	defer func() { _ = recover() }()
	w.onError(err)
}
