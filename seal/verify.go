package seal

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"
)

// VerifyOptions configure Verify. A nil *VerifyOptions, like a zero one,
// checks a closed log without checkpoints.
type VerifyOptions struct {
	// Checkpoints are checkpoints of the log kept off its host (see
	// [Options.Checkpoint]). Each must match the record it names; a
	// checkpoint beyond the log's end shows a truncation or a rollback to
	// an older copy, one naming a log the files do not hold shows a
	// deleted or replaced log. Checkpoints that precede the first file
	// given are skipped.
	Checkpoints []Checkpoint

	// PublicKey, if set, is the key the checkpoints must be signed with: a
	// checkpoint without a valid signature is a problem and is not used.
	PublicKey ed25519.PublicKey

	// Now, if set, is the time of verification, and the log may still be
	// being written: it passes if its last seal is no more than an epoch
	// and Grace old. If zero, the log must end with its close record.
	Now time.Time

	// Grace is how late a seal may be before it counts as missing. Zero
	// means half an epoch.
	Grace time.Duration
}

// ProblemKind says what is wrong with a log.
type ProblemKind string

// The kinds of Problem.
const (
	Edited             ProblemKind = "edited"       // a record's content or seal field was changed
	Inserted           ProblemKind = "inserted"     // a line that is not part of the log
	Deleted            ProblemKind = "deleted"      // records are missing
	Reordered          ProblemKind = "reordered"    // a record is out of place, or appears twice
	ForeignLog         ProblemKind = "foreign-log"  // a record of another log
	Fork               ProblemKind = "fork"         // a resumed file does not continue where the previous one ended
	MissingSeal        ProblemKind = "missing-seal" // an epoch passed without a seal record
	NotClosed          ProblemKind = "not-closed"   // the log ends without its close record
	Malformed          ProblemKind = "malformed"    // a record the writer cannot have written
	CheckpointMismatch ProblemKind = "checkpoint"   // a checkpoint does not match the log
)

// A Problem is one finding of Verify.
type Problem struct {
	Kind   ProblemKind `json:"kind"`
	File   string      `json:"file,omitempty"`
	Line   int         `json:"line,omitempty"` // 1-based; 0 if the problem is not at a line
	Seq    uint64      `json:"seq"`            // the sequence number expected at that point
	Detail string      `json:"detail"`
}

// String formats p as file:line: kind: detail.
func (p Problem) String() string {
	pos := p.File
	if p.Line > 0 {
		pos = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if pos == "" {
		return fmt.Sprintf("%s: %s", p.Kind, p.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", pos, p.Kind, p.Detail)
}

// maxProblems caps Report.Problems; Report.MoreProblems counts the rest.
const maxProblems = 100

// A Report is what Verify found.
type Report struct {
	LogID   LogID `json:"log_id"`  // the log's id, from its last open record
	Records int   `json:"records"` // complete lines read
	// Verified counts the lines whose MAC matched the chain.
	Verified int `json:"verified"`
	// Intact counts the lines before the first problem, all verified;
	// IntactSeq is the last one's sequence number.
	Intact    int    `json:"intact"`
	IntactSeq uint64 `json:"intact_seq"`
	// SealedSeq is the sequence number of the last seal or close record:
	// records up to it cannot be changed, even by a thief of the current
	// key, without the change showing.
	SealedSeq uint64 `json:"sealed_seq"`
	Seals     int    `json:"seals"` // seal and close records verified
	// UnsealedTail counts the records after the last seal or close record:
	// they can be dropped or rewritten by whoever holds the current key.
	UnsealedTail int `json:"unsealed_tail"`
	// FirstSeq is the sequence number of the first record: 0 when the
	// files hold the log from its start, more when they continue files not
	// given.
	FirstSeq uint64 `json:"first_seq"`
	Closed   bool   `json:"closed"` // the log ends with its close record
	// PartialLine counts the bytes of a last line cut short by a crash, in
	// any file; they are not verified.
	PartialLine  int `json:"partial_line"`
	MissingSeals int `json:"missing_seals"` // epochs that ended without a seal
	Checkpoints  int `json:"checkpoints"`   // checkpoints matched
	// Problems lists the findings in the order found, the first one at the
	// first bad record. A log verifies when there are none.
	Problems     []Problem `json:"problems"`
	MoreProblems int       `json:"more_problems,omitempty"`
	// Notes are observations that are not problems: files continuing a log
	// from earlier files, a crash followed by a resumed file, skipped
	// checkpoints.
	Notes []string `json:"notes,omitempty"`
}

// OK reports whether the log verified: no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 && r.MoreProblems == 0 }

// maxEpochSkip bounds how far a verifier evolves a key to reach the epoch
// an open record names (4M epochs: eight years of one-minute epochs), so a
// forged epoch number cannot keep it busy.
const maxEpochSkip = 1 << 22

// lookahead is how many lines Verify reads ahead to tell a moved record
// from a deleted one.
const lookahead = 8

// Verify checks a sealed log, given as its files in order, with the key the
// writer was given, and reports what it found. A reader's name, if it has a
// Name method like *os.File, names it in problems. The error is non-nil
// only when the key is too short or a file cannot be read; a log that does
// not verify is a Report with problems.
func Verify(key []byte, opts *VerifyOptions, files ...io.Reader) (*Report, error) {
	if len(key) < MinKeySize {
		return nil, errors.New("seal: key shorter than MinKeySize")
	}
	v := &verifier{rep: &Report{}, mac: newMacer(), root: initialKey(key)}
	if opts != nil {
		v.opts = *opts
	}
	v.indexCheckpoints()
	for i, f := range files {
		name := fmt.Sprintf("file %d", i+1)
		if n, ok := f.(interface{ Name() string }); ok {
			name = n.Name()
		}
		r := &lineReader{br: bufio.NewReaderSize(f, 64<<10)}
		v.file = name
		v.fileStart = true
		for {
			l, ok := r.next()
			if !ok {
				break
			}
			v.line(r, l)
		}
		if r.err != nil {
			return v.rep, fmt.Errorf("seal: reading %s: %v", name, r.err)
		}
		if len(r.partial) > 0 {
			v.rep.PartialLine += len(r.partial)
			if v.closed {
				v.problem(Inserted, r.lineNo+1, "bytes after the close record")
			} else {
				v.note("%s:%d: a last line cut short (%d bytes, a crash?) is not verified", name, r.lineNo+1, len(r.partial))
			}
		}
	}
	v.finish()
	clear(v.root[:])
	clear(v.key[:])
	v.mac.erase()
	if v.next != nil {
		v.next.erase()
	}
	return v.rep, nil
}

type line struct {
	no int
	b  []byte
}

// lineReader reads lines, and lines ahead when asked.
type lineReader struct {
	br      *bufio.Reader
	lineNo  int    // the number of the last line read from br
	long    []byte // a line longer than br's buffer
	ahead   []line // lines read ahead, with their own storage
	partial []byte // bytes after the last '\n', at the end of the file
	err     error
}

// next returns the next line, without its '\n'. Its bytes are valid until
// the next call.
func (r *lineReader) next() (line, bool) {
	if len(r.ahead) > 0 {
		l := r.ahead[0]
		r.ahead = r.ahead[1:]
		return l, true
	}
	return r.read()
}

func (r *lineReader) read() (line, bool) {
	if r.err != nil || r.partial != nil {
		return line{}, false
	}
	b, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = r.br.ReadSlice('\n')
			r.long = append(r.long, b...)
		}
		b = r.long
	}
	if err != nil {
		if err != io.EOF {
			r.err = err
		} else if len(b) > 0 {
			r.partial = append([]byte(nil), b...)
		}
		return line{}, false
	}
	r.lineNo++
	return line{no: r.lineNo, b: b[:len(b)-1]}, true
}

// peek returns the line i places after the one next returned last.
func (r *lineReader) peek(i int) (line, bool) {
	for len(r.ahead) <= i {
		l, ok := r.read()
		if !ok {
			return line{}, false
		}
		l.b = append([]byte(nil), l.b...)
		r.ahead = append(r.ahead, l)
	}
	return r.ahead[i], true
}

// take removes the line peek(i) returned.
func (r *lineReader) take(i int) line {
	l := r.ahead[i]
	r.ahead = append(r.ahead[:i:i], r.ahead[i+1:]...)
	return l
}

// unread puts l back, to be returned by next.
func (r *lineReader) unread(l line) {
	l.b = append([]byte(nil), l.b...)
	r.ahead = append([]line{l}, r.ahead...)
}

type verifier struct {
	opts VerifyOptions
	rep  *Report
	mac  *macer
	root [sha256.Size]byte // the key of epoch 0

	key       [sha256.Size]byte
	keyEpoch  uint64
	keyed     bool
	next      *macer // keyed for epoch nextEpoch
	nextEpoch uint64
	nextKeyed bool

	file      string
	fileStart bool

	started  bool // an open record has been seen
	closed   bool
	logID    LogID
	epoch    uint64
	seq      uint64 // the sequence number expected next
	chain    Sum
	epochLen time.Duration
	lastCtl  time.Time // the time of the last open, seal or close record
	broken   bool      // a problem has been found
	loose    bool      // the last line was adopted unverified: the next may be an epoch ahead
	resync   bool      // the last line was unreadable: take the next one's chain value on trust

	computed Sum
	brace    [1]byte

	cps     map[uint64][]int // checkpoint indexes by sequence number
	matched []bool
	logs    map[LogID]*seqRange // the sequence numbers seen of each log
	cur     *seqRange           // this log's
}

type seqRange struct{ first, last uint64 }

func (v *verifier) problem(kind ProblemKind, lineNo int, format string, args ...any) {
	v.broken = true
	if len(v.rep.Problems) >= maxProblems {
		v.rep.MoreProblems++
		return
	}
	v.rep.Problems = append(v.rep.Problems, Problem{Kind: kind, File: v.file, Line: lineNo, Seq: v.seq, Detail: fmt.Sprintf(format, args...)})
}

func (v *verifier) note(format string, args ...any) {
	if len(v.rep.Notes) < maxProblems {
		v.rep.Notes = append(v.rep.Notes, fmt.Sprintf(format, args...))
	}
}

// keyFor keys the MAC for epoch e, evolving from the root key or from the
// current key, whichever is nearer.
func (v *verifier) keyFor(e uint64) bool {
	if v.keyed && v.keyEpoch == e {
		return true
	}
	if !v.keyed || e < v.keyEpoch {
		v.key, v.keyEpoch = v.root, 0
	}
	if e-v.keyEpoch > maxEpochSkip {
		return false
	}
	for v.keyEpoch < e {
		evolve(&v.key)
		v.keyEpoch++
	}
	v.mac.setKey(&v.key)
	v.keyed = true
	return true
}

// macOK reports whether s is the record after prev with sequence number seq,
// under the current epoch's key, and leaves its MAC in v.computed.
func (v *verifier) macOK(s *sealedLine, prev *Sum, seq uint64) bool {
	return v.macOKWith(v.mac, s, prev, seq)
}

func (v *verifier) macOKWith(m *macer, s *sealedLine, prev *Sum, seq uint64) bool {
	m.begin((*[sha256.Size]byte)(prev), seq, s.kind, s.bodyLen())
	m.h.Write(s.body)
	if s.brace {
		v.brace[0] = '}'
		m.h.Write(v.brace[:])
	}
	m.sum((*[sha256.Size]byte)(&v.computed))
	return v.computed == s.mac
}

// nextMacer returns a MAC keyed for the epoch after the current one, to
// check whether a record follows a seal record that is not there.
func (v *verifier) nextMacer() *macer {
	if v.next == nil {
		v.next = newMacer()
	}
	if !v.nextKeyed || v.nextEpoch != v.keyEpoch+1 {
		k := v.key
		evolve(&k)
		v.next.setKey(&k)
		clear(k[:])
		v.nextEpoch, v.nextKeyed = v.keyEpoch+1, true
	}
	return v.next
}

// fits reports whether l is the record expected next.
func (v *verifier) fits(l line) bool {
	var s sealedLine
	return !v.closed && parseLine(l.b, &s) && s.kind != kindOpen && s.seq == v.seq && v.macOK(&s, &v.chain, v.seq)
}

func (v *verifier) line(r *lineReader, l line) {
	v.rep.Records++
	start := v.fileStart
	v.fileStart = false
	var s sealedLine
	if !parseLine(l.b, &s) {
		if !bytes.Contains(l.b, []byte(jsonKey)) && !bytes.Contains(l.b, []byte(textKey)) {
			v.problem(Inserted, l.no, "line has no seal field")
			return
		}
		v.problem(Edited, l.no, "the seal field of record %d is damaged", v.seq)
		if v.started && !v.closed {
			// Take the line for the record expected, and the next
			// line's chain value on trust.
			v.seq++
			v.resync = true
		}
		return
	}
	if s.kind == kindOpen {
		v.open(r, l, &s)
		return
	}
	if start {
		v.problem(Deleted, l.no, "the file does not start with an open record: its head is missing")
	}
	if !v.started {
		return // nothing to verify against before an open record
	}
	if v.closed {
		v.problem(Inserted, l.no, "record %d after the close record", s.seq)
		return
	}
	if s.seq == v.seq && v.macOK(&s, &v.chain, v.seq) {
		v.accept(l, &s, v.computed)
		return
	}
	if v.resync && s.seq == v.seq {
		v.adopt(&s, s.mac)
		return
	}
	if v.loose && s.seq == v.seq && v.macOKWith(v.nextMacer(), &s, &v.chain, v.seq) {
		// The records deleted before the last line took a seal with
		// them; the chain goes on under the next epoch's key.
		v.endEpoch()
		v.accept(l, &s, v.computed)
		return
	}
	v.loose = false
	v.mismatch(r, l, &s)
}

// mismatch classifies a record that is not the one expected.
func (v *verifier) mismatch(r *lineReader, l line, s *sealedLine) {
	// Reading ahead reuses the reader's buffer: l needs its own bytes.
	l.b = append([]byte(nil), l.b...)
	parseLine(l.b, s)
	v.resync = false
	if s.seq != v.seq && v.macOK(s, &v.chain, v.seq) {
		v.problem(Edited, l.no, "the seal field's sequence number reads %d", s.seq)
		s.seq = v.seq
		v.accept(l, s, v.computed)
		return
	}
	switch {
	case s.seq == v.seq:
		v.macOK(s, &v.chain, v.seq)
		computed := v.computed // what the MAC should have been
		if id, ok := v.otherLog(s); ok {
			v.problem(ForeignLog, l.no, "a %s record of log %s in log %s", kindNames[s.kind], id, v.logID)
			v.logID, v.cur = id, v.logs[id]
			v.adopt(s, s.mac)
			return
		}
		if next, ok := r.peek(0); ok && v.fits(next) {
			v.problem(Inserted, l.no, "a line that is not record %d stands before it", v.seq)
			return
		}
		if next, ok := r.peek(0); ok && v.followsFrom(next, computed, s) {
			v.problem(Edited, l.no, "the MAC in record %d's seal field was changed", s.seq)
			v.adopt(s, computed)
			return
		}
		v.problem(Edited, l.no, "record %d was changed", s.seq)
		v.adopt(s, s.mac)
	case s.seq > v.seq:
		for j := 0; j < lookahead; j++ {
			next, ok := r.peek(j)
			if !ok {
				break
			}
			if v.fits(next) {
				v.problem(Reordered, l.no, "record %d stands before record %d", s.seq, v.seq)
				v.line(r, r.take(j))
				r.unread(l)
				v.rep.Records-- // the line is counted again when read
				return
			}
		}
		if s.seq == v.seq+1 {
			v.problem(Deleted, l.no, "record %d is missing", v.seq)
		} else {
			v.problem(Deleted, l.no, "records %d to %d are missing", v.seq, s.seq-1)
		}
		v.adopt(s, s.mac)
		v.loose = true
	default:
		v.problem(Reordered, l.no, "record %d appears again, or out of place, after record %d", s.seq, v.seq-1)
	}
}

// followsFrom reports whether next is the record after s if s's MAC were
// mac.
func (v *verifier) followsFrom(next line, mac Sum, s *sealedLine) bool {
	var n sealedLine
	if !parseLine(next.b, &n) || n.kind == kindOpen || n.seq != s.seq+1 {
		return false
	}
	m := v.mac
	if s.kind == kindSeal || s.kind == kindClose {
		m = v.nextMacer()
	}
	return v.macOKWith(m, &n, &mac, n.seq)
}

// adopt continues the chain after a record that did not verify, from the
// chain value mac, so that one bad record does not hide what follows.
func (v *verifier) adopt(s *sealedLine, mac Sum) {
	v.chain = mac
	v.seq = s.seq + 1
	v.rep.UnsealedTail++
	if s.kind == kindSeal || s.kind == kindClose {
		// Its time cannot be trusted: the next seal's is not compared.
		v.lastCtl = time.Time{}
		v.endEpoch()
	}
}

// otherLog returns the log id a seal or close record that did not verify
// names, if it is not this log's.
func (v *verifier) otherLog(s *sealedLine) (LogID, bool) {
	if s.kind != kindSeal && s.kind != kindClose {
		return LogID{}, false
	}
	var c control
	if parseControl(s.fullBody(), s.kind, &c) != nil || c.LogID == v.logID {
		return LogID{}, false
	}
	return c.LogID, true
}

// accept takes a verified record into the chain.
func (v *verifier) accept(l line, s *sealedLine, mac Sum) {
	v.rep.Verified++
	if !v.broken {
		v.rep.Intact++
		v.rep.IntactSeq = s.seq
	}
	v.chain = mac
	v.seq = s.seq + 1
	v.loose = false
	v.checkpoints(s.seq, l.no)
	if v.cur != nil {
		v.cur.last = s.seq
	}
	if s.kind == kindRecord || s.kind == kindOpen {
		v.rep.UnsealedTail++
		return
	}
	var c control
	switch err := parseControl(s.fullBody(), s.kind, &c); {
	case err != nil || c.Epoch != v.epoch:
		v.problem(Malformed, l.no, "%s record %d does not name epoch %d", kindNames[s.kind], s.seq, v.epoch)
	case c.LogID != v.logID:
		v.problem(ForeignLog, l.no, "a %s record of log %s in log %s", kindNames[s.kind], c.LogID, v.logID)
		v.logID, v.cur = c.LogID, v.logs[c.LogID]
	default:
		v.gap(l.no, c.Time)
	}
	v.rep.Seals++
	v.rep.SealedSeq = s.seq
	v.rep.UnsealedTail = 0
	if s.kind == kindClose {
		v.closed = true
	}
	v.endEpoch()
}

func (v *verifier) endEpoch() {
	v.epoch++
	v.keyFor(v.epoch)
}

// gap reports the seals missing between the last control record and t.
func (v *verifier) gap(lineNo int, t time.Time) {
	grace := v.opts.Grace
	if grace <= 0 {
		grace = v.epochLen / 2
	}
	if d := t.Sub(v.lastCtl); !v.lastCtl.IsZero() && d > v.epochLen+grace {
		n := max(int(d/v.epochLen)-1, 1)
		v.rep.MissingSeals += n
		v.problem(MissingSeal, lineNo, "no seal for %d epoch(s) between %s and %s", n, v.lastCtl.Format(time.RFC3339), t.Format(time.RFC3339))
	}
	if t.After(v.lastCtl) {
		v.lastCtl = t
	}
}

// open handles an open record: the start of the log, or of a file that
// continues it.
func (v *verifier) open(r *lineReader, l line, s *sealedLine) {
	var c control
	if err := parseControl(s.fullBody(), kindOpen, &c); err != nil {
		v.problem(Malformed, l.no, "unreadable open record")
		return
	}
	prev, wantSeq := Sum{}, uint64(0)
	if c.Resumed {
		prev, wantSeq = c.PrevMAC, c.PrevSeq+1
	}
	if v.started {
		switch {
		case c.LogID != v.logID:
			v.problem(ForeignLog, l.no, "an open record of log %s in log %s", c.LogID, v.logID)
		case !c.Resumed:
			v.problem(Reordered, l.no, "log %s starts again: a copy of its beginning?", c.LogID)
		case wantSeq != v.seq || prev != v.chain:
			if wantSeq < v.seq {
				v.problem(Fork, l.no, "the log resumes after record %d, not after record %d: the records in between are not part of it", c.PrevSeq, v.seq-1)
			} else {
				v.problem(Deleted, l.no, "the log resumes after record %d: records %d to %d are missing", c.PrevSeq, v.seq, c.PrevSeq)
			}
		case c.Epoch != v.epoch:
			v.problem(Malformed, l.no, "the log resumes in epoch %d, not %d", c.Epoch, v.epoch)
		default:
			if !v.closed {
				v.note("%s:%d: resumes after a file that ended without a close record (a crash?)", v.file, l.no)
			}
			if !v.keyFor(c.Epoch) || !v.macOK(s, &v.chain, v.seq) {
				v.problem(Edited, l.no, "the open record was changed")
				v.adopt(s, s.mac)
				v.closed = false
				return
			}
			v.closed = false
			v.epochLen = c.EpochLength
			v.lastCtl = c.Time
			v.accept(l, s, v.computed)
			return
		}
	} else if c.Resumed {
		v.rep.FirstSeq = wantSeq - 1
		v.note("%s:%d: the log continues from record %d, in files not given", v.file, l.no, c.PrevSeq)
	}
	// Start, or start over at a log that is not the one so far.
	v.started, v.closed = true, false
	v.logID, v.epoch, v.seq, v.chain = c.LogID, c.Epoch, wantSeq, prev
	v.rep.LogID = c.LogID
	v.epochLen, v.lastCtl = c.EpochLength, c.Time
	if v.logs == nil {
		v.logs = map[LogID]*seqRange{}
	}
	if v.logs[c.LogID] == nil {
		v.logs[c.LogID] = &seqRange{first: wantSeq, last: wantSeq}
	}
	v.cur = v.logs[c.LogID]
	if s.seq != wantSeq {
		v.problem(Malformed, l.no, "the open record is record %d, not %d", s.seq, wantSeq)
	}
	if !v.keyFor(c.Epoch) {
		v.problem(Malformed, l.no, "the open record names epoch %d", c.Epoch)
		v.keyed = false
		v.started = false
		return
	}
	if !v.macOK(s, &v.chain, s.seq) {
		v.problem(Edited, l.no, "the open record was changed")
		v.adopt(s, s.mac)
		return
	}
	v.accept(l, s, v.computed)
}

func (v *verifier) indexCheckpoints() {
	cps := v.opts.Checkpoints
	if len(cps) == 0 {
		return
	}
	v.cps = make(map[uint64][]int, len(cps))
	v.matched = make([]bool, len(cps))
	for i := range cps {
		if v.opts.PublicKey != nil && !cps[i].Verify(v.opts.PublicKey) {
			v.problem(CheckpointMismatch, 0, "checkpoint %d (log %s, record %d) has no valid signature", i+1, cps[i].LogID, cps[i].Seq)
			v.matched[i] = true
			continue
		}
		v.cps[cps[i].Seq] = append(v.cps[cps[i].Seq], i)
	}
}

// checkpoints compares the checkpoints naming record seq of this log with
// the chain.
func (v *verifier) checkpoints(seq uint64, lineNo int) {
	if v.cps == nil {
		return
	}
	for _, i := range v.cps[seq] {
		cp := &v.opts.Checkpoints[i]
		if cp.LogID != v.logID || v.matched[i] {
			continue
		}
		v.matched[i] = true
		if cp.Chain != v.chain {
			v.problem(CheckpointMismatch, lineNo, "record %d differs from checkpoint %d of %s", seq, i+1, cp.Time.Format(time.RFC3339))
			continue
		}
		v.rep.Checkpoints++
	}
}

func (v *verifier) finish() {
	v.file = ""
	v.rep.Closed = v.started && v.closed
	switch {
	case !v.started:
		v.problem(Deleted, 0, "no open record: the log is empty or its beginning is missing")
	case v.closed:
	case v.opts.Now.IsZero():
		v.problem(NotClosed, 0, "the log ends after record %d without a close record: truncated, crashed, or still being written", v.seq-1)
	default:
		v.gap(0, v.opts.Now)
	}
	for i, cp := range v.opts.Checkpoints {
		if v.matched[i] {
			continue
		}
		r := v.logs[cp.LogID]
		switch {
		case r == nil:
			v.problem(CheckpointMismatch, 0, "checkpoint %d names log %s, which the files do not hold: deleted or replaced?", i+1, cp.LogID)
		case cp.Seq < r.first:
			v.note("checkpoint %d names record %d, before the files given", i+1, cp.Seq)
		default:
			v.problem(CheckpointMismatch, 0, "checkpoint %d of %s names record %d, beyond the log's end at record %d: truncated or rolled back", i+1, cp.Time.Format(time.RFC3339), cp.Seq, r.last)
		}
	}
}
