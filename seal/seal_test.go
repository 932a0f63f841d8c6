package seal_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slogaudit/audit/seal"
)

// The tests in this file verify logs that a test writes and then tampers
// with. They run in the order of the threat model: what changes to a log
// are detected, then what logs verify clean.

var testKey = []byte("an initial key of 32 random bytes")

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logID returns a source of the log id id, id, ... id.
func logID(id byte) io.Reader { return bytes.NewReader(bytes.Repeat([]byte{id}, 16)) }

// testLog is a writer on a buffer, with a fake clock, and a JSON logger on
// the writer whose records carry no time, so that logs are reproducible.
type testLog struct {
	w     *seal.Writer
	log   *slog.Logger
	clock *clock
	buf   bytes.Buffer
	cps   []seal.Checkpoint
}

func newTestLog(t testing.TB, id byte, opts *seal.Options) *testLog {
	t.Helper()
	l := &testLog{clock: newClock()}
	var o seal.Options
	if opts != nil {
		o = *opts
	}
	o.NoTicker = true
	o.Now = l.clock.Now
	if o.Rand == nil && o.Resume == nil {
		o.Rand = logID(id)
	}
	if o.Checkpoint == nil {
		o.Checkpoint = func(c seal.Checkpoint) { l.cps = append(l.cps, c) }
	}
	l.w = seal.NewWriter(&l.buf, testKey, &o)
	l.log = slog.New(slog.NewJSONHandler(l.w, &slog.HandlerOptions{ReplaceAttr: noTime}))
	return l
}

func noTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// records logs n audit records, numbered from first.
func (l *testLog) records(first, n int) {
	for i := first; i < first+n; i++ {
		l.log.Info("File uploaded", "event", "file.upload", "user", "ada", "n", i)
	}
}

// tick moves the clock by d and calls Tick.
func (l *testLog) tick(t testing.TB, d time.Duration) {
	t.Helper()
	l.clock.Add(d)
	if err := l.w.Tick(); err != nil {
		t.Fatalf("Tick: %v", err)
	}
}

func (l *testLog) close(t testing.TB) []byte {
	t.Helper()
	if err := l.w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return l.buf.Bytes()
}

// standardLog writes the log the tamper matrix starts from, 13 lines:
//
//	line  1     open, epoch 0 (sequence number = line - 1)
//	lines 2-4   records 1-3
//	line  5     seal of epoch 0
//	lines 6-8   records 4-6
//	line  9     seal of epoch 1
//	lines 10-12 records 7-9
//	line  13    close, epoch 2
//
// It returns the writer's state after line 9: what a thief who takes the
// host in epoch 2 holds.
func standardLog(t testing.TB, id byte, opts *seal.Options) (*testLog, []byte, seal.State) {
	t.Helper()
	l := newTestLog(t, id, opts)
	l.records(1, 3)
	l.tick(t, time.Minute)
	l.records(4, 3)
	l.tick(t, time.Minute)
	stolen := l.w.State()
	l.records(7, 3)
	l.clock.Add(10 * time.Second)
	return l, l.close(t), stolen
}

func splitLines(b []byte) [][]byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func joinLines(lines [][]byte) []byte { return bytes.Join(lines, nil) }

// verify verifies the log b, one file.
func verify(t testing.TB, b []byte, opts *seal.VerifyOptions) *seal.Report {
	t.Helper()
	r, err := seal.Verify(testKey, opts, bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return r
}

// problems lists a report's problems as kind@line.
func problems(r *seal.Report) []string {
	var s []string
	for _, p := range r.Problems {
		s = append(s, fmt.Sprintf("%s@%d", p.Kind, p.Line))
	}
	return s
}

// edit returns a copy of line with old replaced by new, once.
func edit(t testing.TB, line []byte, old, new string) []byte {
	t.Helper()
	if !bytes.Contains(line, []byte(old)) {
		t.Fatalf("%q not in %s", old, line)
	}
	return bytes.Replace(bytes.Clone(line), []byte(old), []byte(new), 1)
}

// flip returns a copy of line with one bit of byte i flipped, i counted from
// the end if negative.
func flip(line []byte, i int) []byte {
	line = bytes.Clone(line)
	if i < 0 {
		i += len(line)
	}
	line[i] ^= 0x01
	return line
}

// reseal recomputes the MACs of lines from..end with key, as a thief holding
// that key would after changing line from: each line keeps its body and
// sequence number and takes the chain from the line before it. The thief
// cannot derive the keys of earlier epochs, so he uses his key for all.
func reseal(t testing.TB, lines [][]byte, from int, key [32]byte) [][]byte {
	t.Helper()
	out := append([][]byte(nil), lines...)
	_, _, _, prev, ok := seal.ParseLine(bytes.TrimSuffix(lines[from-2], []byte("\n")))
	if !ok {
		t.Fatalf("line %d is not sealed", from-1)
	}
	for i := from - 1; i < len(lines); i++ {
		body, seq, kind, _, ok := seal.ParseLine(bytes.TrimSuffix(lines[i], []byte("\n")))
		if !ok {
			t.Fatalf("line %d is not sealed", i+1)
		}
		var line []byte
		line, prev = seal.ForgeLine(key, prev, seq, kind, body)
		out[i] = append(line, '\n')
	}
	return out
}

func TestTamperMatrix(t *testing.T) {
	l, clean, stolen := standardLog(t, 1, nil)
	anchors := l.cps
	other, _, _ := standardLog(t, 2, nil)
	otherLines := splitLines(other.buf.Bytes())
	afterEnd := &seal.VerifyOptions{Now: t0.Add(10 * time.Minute)}
	withAnchors := &seal.VerifyOptions{Checkpoints: anchors}

	tests := []struct {
		name   string
		tamper func(lines [][]byte) [][]byte
		opts   *seal.VerifyOptions
		want   []string // kind@line of every problem, in order
	}{
		{"untouched", nil, nil, nil},
		{"untouched, with anchors", nil, withAnchors, nil},
		{"a byte of a record's content", func(ls [][]byte) [][]byte {
			ls[2] = edit(t, ls[2], `"n":2`, `"n":3`)
			return ls
		}, nil, []string{"edited@3"}},
		{"a byte of a record's seal field (its MAC)", func(ls [][]byte) [][]byte {
			ls[2] = flip(ls[2], -6)
			return ls
		}, nil, []string{"edited@3"}},
		{"a record's sequence number", func(ls [][]byte) [][]byte {
			ls[2] = edit(t, ls[2], `"seq":2,`, `"seq":7,`)
			return ls
		}, nil, []string{"edited@3"}},
		{"a byte of a seal record", func(ls [][]byte) [][]byte {
			ls[4] = edit(t, ls[4], `"epoch":0`, `"epoch":1`)
			return ls
		}, nil, []string{"edited@5"}},
		{"the kind in a seal record's seal field", func(ls [][]byte) [][]byte {
			ls[4] = edit(t, ls[4], `"kind":"seal"`, `"kind":"close"`)
			return ls
		}, nil, []string{"edited@5"}},
		{"a middle record deleted", func(ls [][]byte) [][]byte {
			return append(ls[:6:6], ls[7:]...)
		}, nil, []string{"deleted@7"}},
		{"a seal record deleted", func(ls [][]byte) [][]byte {
			return append(ls[:4:4], ls[5:]...)
		}, nil, []string{"deleted@5", "missing-seal@8"}},
		{"the tail deleted up to a seal", func(ls [][]byte) [][]byte {
			return ls[:9]
		}, nil, []string{"not-closed@0"}},
		{"the tail deleted up to a seal, verified later as a live log", func(ls [][]byte) [][]byte {
			return ls[:9]
		}, afterEnd, []string{"missing-seal@0"}},
		{"the tail deleted up to a seal, with anchors", func(ls [][]byte) [][]byte {
			return ls[:9]
		}, withAnchors, []string{"not-closed@0", "checkpoint@0"}},
		{"the tail deleted past a seal", func(ls [][]byte) [][]byte {
			return ls[:7]
		}, nil, []string{"not-closed@0"}},
		{"the tail deleted past a seal, with anchors", func(ls [][]byte) [][]byte {
			return ls[:7]
		}, withAnchors, []string{"not-closed@0", "checkpoint@0", "checkpoint@0"}},
		{"two records swapped", func(ls [][]byte) [][]byte {
			ls[5], ls[6] = ls[6], ls[5]
			return ls
		}, nil, []string{"reordered@6"}},
		{"a record moved three places on", func(ls [][]byte) [][]byte {
			r := ls[5]
			ls = append(ls[:5:5], ls[6:]...)
			return append(ls[:8:8], append([][]byte{r}, ls[8:]...)...)
		}, nil, []string{"reordered@6"}},
		{"a record duplicated", func(ls [][]byte) [][]byte {
			return append(ls[:7:7], ls[6:]...)
		}, nil, []string{"reordered@8"}},
		{"a forged record inserted", func(ls [][]byte) [][]byte {
			forged := edit(t, ls[6], `"n":5`, `"n":55`)
			return append(ls[:6:6], append([][]byte{forged}, ls[6:]...)...)
		}, nil, []string{"inserted@7"}},
		{"an unsealed line inserted", func(ls [][]byte) [][]byte {
			line := []byte(`{"level":"INFO","msg":"File deleted","user":"mallory"}` + "\n")
			return append(ls[:6:6], append([][]byte{line}, ls[6:]...)...)
		}, nil, []string{"inserted@7"}},
		{"a line appended after the close record", func(ls [][]byte) [][]byte {
			return append(ls, ls[11])
		}, nil, []string{"inserted@14"}},
		{"two logs spliced at a record", func(ls [][]byte) [][]byte {
			return append(ls[:7:7], otherLines[7:]...)
		}, nil, []string{"edited@8", "foreign-log@9"}},
		{"two logs spliced at a seal record", func(ls [][]byte) [][]byte {
			return append(ls[:8:8], otherLines[8:]...)
		}, nil, []string{"foreign-log@9"}},
		{"another log appended", func(ls [][]byte) [][]byte {
			return append(ls, otherLines...)
		}, nil, []string{"foreign-log@14"}},
		{"an old copy replayed (rollback)", func(ls [][]byte) [][]byte {
			return ls[:5]
		}, withAnchors, []string{"not-closed@0", "checkpoint@0", "checkpoint@0"}},
		{"another closed log replayed in its place, with anchors", func(ls [][]byte) [][]byte {
			return otherLines
		}, withAnchors, []string{"checkpoint@0", "checkpoint@0", "checkpoint@0", "checkpoint@0"}},
		{"the log deleted, with anchors", func(ls [][]byte) [][]byte {
			return nil
		}, withAnchors, []string{"deleted@0", "checkpoint@0", "checkpoint@0", "checkpoint@0", "checkpoint@0"}},
		{"an earlier epoch rewritten with the stolen current key", func(ls [][]byte) [][]byte {
			ls[2] = edit(t, ls[2], `"n":2`, `"n":3`)
			return reseal(t, ls, 3, stolen.Key)
		}, nil, []string{"edited@3", "edited@4", "edited@5", "edited@6", "edited@7", "edited@8", "edited@9"}},
		{"a record of an earlier epoch forged with the stolen current key", func(ls [][]byte) [][]byte {
			ls[6] = edit(t, ls[6], `"n":5`, `"n":6`)
			return reseal(t, ls, 7, stolen.Key)[:9]
		}, nil, []string{"edited@7", "edited@8", "edited@9", "not-closed@0"}},
		// What no MAC can show: the thief holds the key of the current
		// epoch, so records not yet sealed are his to rewrite. Anchors
		// shipped before he came show it at the close.
		{"the unsealed tail rewritten with the stolen current key", func(ls [][]byte) [][]byte {
			ls[10] = edit(t, ls[10], `"n":8`, `"n":9`)
			return reseal(t, ls, 11, stolen.Key)
		}, nil, nil},
		{"the unsealed tail rewritten with the stolen current key, with anchors", func(ls [][]byte) [][]byte {
			ls[10] = edit(t, ls[10], `"n":8`, `"n":9`)
			return reseal(t, ls, 11, stolen.Key)
		}, withAnchors, []string{"checkpoint@13"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := clean
			if tt.tamper != nil {
				b = joinLines(tt.tamper(splitLines(bytes.Clone(clean))))
			}
			r := verify(t, b, tt.opts)
			if diff := cmp.Diff(tt.want, problems(r)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%v", diff, r.Problems)
			}
			if got, want := r.OK(), len(tt.want) == 0; got != want {
				t.Errorf("OK() = %v, want %v", got, want)
			}
		})
	}
}
