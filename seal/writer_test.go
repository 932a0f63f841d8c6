package seal_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slogaudit/audit/seal"
)

func TestCleanLogs(t *testing.T) {
	tests := []struct {
		name  string
		files func(t *testing.T) [][]byte
		opts  *seal.VerifyOptions
		want  seal.Report // the fields compared: Records, Seals, UnsealedTail, Closed, PartialLine, FirstSeq
	}{
		{"no record", func(t *testing.T) [][]byte {
			return [][]byte{newTestLog(t, 1, nil).close(t)}
		}, nil, seal.Report{Records: 2, Seals: 1, Closed: true}},
		{"one record", func(t *testing.T) [][]byte {
			l := newTestLog(t, 1, nil)
			l.records(1, 1)
			return [][]byte{l.close(t)}
		}, nil, seal.Report{Records: 3, Seals: 1, Closed: true}},
		{"many epochs, some idle", func(t *testing.T) [][]byte {
			l := newTestLog(t, 1, nil)
			for e := 0; e < 50; e++ {
				l.records(e, e%3)
				l.tick(t, time.Minute)
			}
			return [][]byte{l.close(t)}
		}, nil, seal.Report{Records: 2 + 49 + 49, Seals: 50, Closed: true}}, // the first tick opens the log
		{"the standard log", func(t *testing.T) [][]byte {
			_, b, _ := standardLog(t, 1, nil)
			return [][]byte{b}
		}, nil, seal.Report{Records: 13, Seals: 3, Closed: true}},
		{"text lines", func(t *testing.T) [][]byte {
			l := newTestLog(t, 1, nil)
			l.log = slog.New(slog.NewTextHandler(l.w, &slog.HandlerOptions{ReplaceAttr: noTime}))
			l.records(1, 3)
			l.tick(t, time.Minute)
			l.records(4, 1)
			return [][]byte{l.close(t)}
		}, nil, seal.Report{Records: 7, Seals: 2, Closed: true}},
		{"lines written a byte at a time", func(t *testing.T) [][]byte {
			l := newTestLog(t, 1, nil)
			for _, c := range []byte("first line\n{\"a\":1}\n\n{}\nlast, unended") {
				l.w.Write([]byte{c})
			}
			return [][]byte{l.close(t)}
		}, nil, seal.Report{Records: 7, Seals: 1, Closed: true}},
		{"a live log, within its epoch", func(t *testing.T) [][]byte {
			l := newTestLog(t, 1, nil)
			l.records(1, 3)
			l.tick(t, time.Minute)
			l.records(4, 2)
			return [][]byte{l.buf.Bytes()}
		}, &seal.VerifyOptions{Now: t0.Add(90 * time.Second)}, seal.Report{Records: 7, Seals: 1, UnsealedTail: 2}},
		{"a crash-truncated last line, verified live", func(t *testing.T) [][]byte {
			l := newTestLog(t, 1, nil)
			l.records(1, 3)
			b := l.buf.Bytes()
			return [][]byte{append(bytes.Clone(b), `{"level":"INFO","msg":"File upl`...)}
		}, &seal.VerifyOptions{Now: t0.Add(time.Second)}, seal.Report{Records: 4, UnsealedTail: 4, PartialLine: 31}},
		{"rotated files", func(t *testing.T) [][]byte {
			return rotated(t, 3)
		}, nil, seal.Report{Records: 3 * 7, Seals: 3 * 2, Closed: true}},
		{"the last of rotated files, alone", func(t *testing.T) [][]byte {
			return rotated(t, 3)[2:]
		}, nil, seal.Report{Records: 7, Seals: 2, Closed: true, FirstSeq: 13}},
		{"resumed after a crash that cut a line short", func(t *testing.T) [][]byte {
			l := newTestLog(t, 1, nil)
			l.records(1, 3)
			st := l.w.State() // as an application might save it after each record
			crashed := append(bytes.Clone(l.buf.Bytes()), `{"level":"IN`...)
			l2 := newTestLog(t, 0, &seal.Options{Resume: &st})
			l2.clock.Add(time.Hour)
			l2.records(4, 2)
			return [][]byte{crashed, l2.close(t)}
		}, nil, seal.Report{Records: 4 + 4, Seals: 1, Closed: true, PartialLine: 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rs []io.Reader
			for _, f := range tt.files(t) {
				rs = append(rs, bytes.NewReader(f))
			}
			r, err := seal.Verify(testKey, tt.opts, rs...)
			if err != nil {
				t.Fatal(err)
			}
			if !r.OK() {
				t.Errorf("problems: %v", r.Problems)
			}
			got := seal.Report{Records: r.Records, Seals: r.Seals, UnsealedTail: r.UnsealedTail, Closed: r.Closed, PartialLine: r.PartialLine, FirstSeq: r.FirstSeq}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			if r.Verified != r.Records {
				t.Errorf("Verified = %d, want all %d records", r.Verified, r.Records)
			}
		})
	}
}

// rotated writes a log in n files of 7 lines: open, 3 records, seal, 1
// record, close; each file resumes from the state the last one closed with.
func rotated(t testing.TB, n int) [][]byte {
	t.Helper()
	var files [][]byte
	var st *seal.State
	for i := 0; i < n; i++ {
		l := newTestLog(t, 1, &seal.Options{Resume: st})
		l.clock.Add(time.Duration(i) * time.Hour)
		l.records(10*i, 3)
		l.tick(t, time.Minute)
		l.records(10*i+3, 1)
		files = append(files, l.close(t))
		s := l.w.State()
		st = &s
	}
	return files
}

// A JSON reader sees each record as the handler wrote it, plus one member.
func TestSealField(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"JSON object", `{"msg":"hi","n":1}`, `{"msg":"hi","n":1,"seal":{"seq":1,"mac":"`},
		{"empty JSON object", `{}`, `{"seal":{"seq":1,"mac":"`},
		{"JSON object with its own seal key", `{"seal":"wax"}`, `{"seal":"wax","seal":{"seq":1,"mac":"`},
		{"text", `level=INFO msg=hi`, `level=INFO msg=hi seal.seq=1 seal.mac=`},
		{"empty line", ``, ` seal.seq=1 seal.mac=`},
		{"JSON array", `[1,2]`, `[1,2] seal.seq=1 seal.mac=`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLog(t, 1, nil)
			fmt.Fprintln(l.w, tt.line)
			lines := splitLines(l.close(t))
			got := string(lines[1])
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("sealed line = %s, want it to start %s", got, tt.want)
			}
			body, seq, kind, _, ok := seal.ParseLine(bytes.TrimSuffix(lines[1], []byte("\n")))
			if !ok || string(body) != tt.line || seq != 1 || kind != "" {
				t.Errorf("ParseLine = %q, %d, %q, %v; want %q, 1, \"\", true", body, seq, kind, ok, tt.line)
			}
			if r := verify(t, l.buf.Bytes(), nil); !r.OK() {
				t.Errorf("problems: %v", r.Problems)
			}
		})
	}

	t.Run("JSON readers see the record unchanged", func(t *testing.T) {
		var plain bytes.Buffer
		slog.New(slog.NewJSONHandler(&plain, nil)).Info("File uploaded", "user", slog.GroupValue(slog.String("id", "42")), "size", 12)
		l := newTestLog(t, 1, nil)
		l.w.Write(plain.Bytes())
		var want, got map[string]any
		if err := json.Unmarshal(plain.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(splitLines(l.close(t))[1], &got); err != nil {
			t.Fatal(err)
		}
		if _, ok := got["seal"].(map[string]any); !ok {
			t.Errorf("seal = %v, want an object", got["seal"])
		}
		delete(got, "seal")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("record (-want +got):\n%s", diff)
		}
	})
}

// Writing a log line by line or a byte at a time seals the same lines.
func TestFraming(t *testing.T) {
	input := "one\n{\"two\":2}\nthree\n"
	whole := newTestLog(t, 1, nil)
	whole.w.Write([]byte(input))
	pieces := newTestLog(t, 1, nil)
	for _, c := range []byte(input) {
		pieces.w.Write([]byte{c})
	}
	if got, want := string(pieces.close(t)), string(whole.close(t)); got != want {
		t.Errorf("written a byte at a time:\n%s\nwant, written at once:\n%s", got, want)
	}
}

func TestConcurrentWrites(t *testing.T) {
	l := newTestLog(t, 1, nil)
	const writers, each = 8, 200
	l.records(0, 1) // opens the log, so that every tick seals
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.records(g*each, each)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 20; i++ {
			l.tick(t, time.Minute)
			l.w.State()
		}
	}()
	wg.Wait()
	r := verify(t, l.close(t), nil)
	if !r.OK() {
		t.Errorf("problems: %v", r.Problems)
	}
	if got, want := r.Records, 3+writers*each+20; got != want {
		t.Errorf("Records = %d, want %d", got, want)
	}
}

func TestCheckpoints(t *testing.T) {
	pub, priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize)).Public().(ed25519.PublicKey),
		ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	otherPub, _, _ := ed25519.GenerateKey(nil)
	l, b, _ := standardLog(t, 1, &seal.Options{SigningKey: priv})

	var kinds []string
	for _, c := range l.cps {
		kinds = append(kinds, fmt.Sprintf("%s %d@%d", c.Kind, c.Epoch, c.Seq))
	}
	if diff := cmp.Diff([]string{"open 0@0", "seal 0@4", "seal 1@8", "close 2@12"}, kinds); diff != "" {
		t.Errorf("checkpoints (-want +got):\n%s", diff)
	}

	// Through their JSON form, as an application would store them.
	var stored bytes.Buffer
	for _, c := range l.cps {
		line, _ := json.Marshal(c)
		stored.Write(append(line, '\n'))
	}
	cps, err := seal.ReadCheckpoints(&stored)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(l.cps, cps); diff != "" {
		t.Errorf("checkpoints read back (-want +got):\n%s", diff)
	}

	changed := append([]seal.Checkpoint(nil), cps...)
	changed[2].Chain[0] ^= 1
	tests := []struct {
		name string
		opts seal.VerifyOptions
		want []string
	}{
		{"signed, checked", seal.VerifyOptions{Checkpoints: cps, PublicKey: pub}, nil},
		{"signed, unchecked", seal.VerifyOptions{Checkpoints: cps}, nil},
		{"another signer", seal.VerifyOptions{Checkpoints: cps, PublicKey: otherPub}, []string{"checkpoint@0", "checkpoint@0", "checkpoint@0", "checkpoint@0"}},
		{"a chain value changed, signature checked", seal.VerifyOptions{Checkpoints: changed, PublicKey: pub}, []string{"checkpoint@0"}},
		{"a chain value changed, signature unchecked", seal.VerifyOptions{Checkpoints: changed}, []string{"checkpoint@9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := verify(t, b, &tt.opts)
			if diff := cmp.Diff(tt.want, problems(r)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%v", diff, r.Problems)
			}
			if len(tt.want) == 0 && r.Checkpoints != len(cps) {
				t.Errorf("Checkpoints = %d, want %d matched", r.Checkpoints, len(cps))
			}
		})
	}
}

// A panicking checkpoint hook costs no record, and one that logs through
// the writer does not deadlock it.
func TestCheckpointHook(t *testing.T) {
	t.Run("panics", func(t *testing.T) {
		var errs []error
		l := newTestLog(t, 1, &seal.Options{
			Checkpoint: func(seal.Checkpoint) { panic("anchor store down") },
			OnError:    func(err error) { errs = append(errs, err) },
		})
		l.records(1, 2)
		l.tick(t, time.Minute)
		l.records(3, 2)
		r := verify(t, l.close(t), nil)
		if !r.OK() || r.Records != 7 {
			t.Errorf("Records = %d, problems %v; want 7 and none", r.Records, r.Problems)
		}
		if len(errs) != 3 || !strings.Contains(errs[0].Error(), "anchor store down") {
			t.Errorf("OnError got %v, want the three panics", errs)
		}
	})
	t.Run("logs through the writer", func(t *testing.T) {
		var l *testLog
		l = newTestLog(t, 1, &seal.Options{
			Checkpoint: func(c seal.Checkpoint) { l.log.Info("checkpoint shipped", "seq", c.Seq) },
		})
		l.records(1, 2)
		l.tick(t, time.Minute)
		// open, 2 records, the 2 checkpoints' own records, seal, close
		r := verify(t, l.close(t), nil)
		if !r.OK() || r.Records != 7 {
			t.Errorf("Records = %d, problems %v; want 7 and none", r.Records, r.Problems)
		}
	})
}

func TestTicker(t *testing.T) {
	var buf syncBuffer
	w := seal.NewWriter(&buf, testKey, &seal.Options{Epoch: 20 * time.Millisecond})
	fmt.Fprintln(w, "first")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		buf.mu.Lock()
		n := bytes.Count(buf.Bytes(), []byte("seal.kind=seal"))
		buf.mu.Unlock()
		if n >= 2 {
			break
		}
	}
	w.Close()
	// A loaded machine may run the ticker late: allow it a second.
	r, err := seal.Verify(testKey, &seal.VerifyOptions{Grace: time.Second}, bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Seals < 3 {
		t.Errorf("Seals = %d, problems %v; want at least 2 seals and the close, and no problem", r.Seals, r.Problems)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

// Seals that never came, because the ticker stopped or the process was
// suspended, are reported.
func TestMissingSeals(t *testing.T) {
	tests := []struct {
		name string
		log  func(l *testLog)
		opts *seal.VerifyOptions
		want []string
		n    int
	}{
		{"a late tick", func(l *testLog) {
			l.records(1, 1)
			l.tick(t, 5*time.Minute)
			l.records(2, 1)
			l.w.Close()
		}, nil, []string{"missing-seal@3"}, 4},
		{"a live log whose ticker stopped", func(l *testLog) {
			l.records(1, 1)
			l.tick(t, time.Minute)
		}, &seal.VerifyOptions{Now: t0.Add(10 * time.Minute)}, []string{"missing-seal@0"}, 8},
		{"a live log within grace", func(l *testLog) {
			l.records(1, 1)
			l.tick(t, time.Minute)
		}, &seal.VerifyOptions{Now: t0.Add(150 * time.Second)}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLog(t, 1, nil)
			tt.log(l)
			r := verify(t, l.buf.Bytes(), tt.opts)
			if diff := cmp.Diff(tt.want, problems(r)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%v", diff, r.Problems)
			}
			if r.MissingSeals != tt.n {
				t.Errorf("MissingSeals = %d, want %d", r.MissingSeals, tt.n)
			}
		})
	}
}

// failingWriter fails the writes whose numbers are in fail.
type failingWriter struct {
	bytes.Buffer
	n    int
	fail map[int]bool
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	if w.fail[w.n] {
		return 0, errors.New("disk full")
	}
	return w.Buffer.Write(p)
}

// A line that fails to be written is dropped whole, even when it came in
// pieces: what follows is not glued to it.
func TestWriteErrorInPieces(t *testing.T) {
	out := &failingWriter{fail: map[int]bool{3: true}} // the open record, the first line, then this one
	w := seal.NewWriter(out, testKey, &seal.Options{NoTicker: true, Rand: logID(1)})
	w.Write([]byte("a line in\n"))
	w.Write([]byte("two "))
	if _, err := w.Write([]byte("pieces\n")); err == nil {
		t.Errorf("Write of the failing line: no error")
	}
	w.Write([]byte("the next line\n"))
	w.Close()
	if got := out.String(); strings.Contains(got, "pieces") || !strings.Contains(got, "\nthe next line seal.seq=2 ") {
		t.Errorf("log:\n%s\nwant the failed line left out and the next one whole, as record 2", got)
	}
	if r := verify(t, out.Bytes(), nil); !r.OK() {
		t.Errorf("problems: %v", r.Problems)
	}
}

func TestWriteErrors(t *testing.T) {
	out := &failingWriter{fail: map[int]bool{3: true}}
	w := seal.NewWriter(out, testKey, &seal.Options{NoTicker: true, Rand: logID(1)})
	for i, want := range []error{nil, errors.New("disk full"), nil} {
		if _, err := fmt.Fprintf(w, "line %d\n", i); fmt.Sprint(err) != fmt.Sprint(want) {
			t.Errorf("write %d: error %v, want %v", i, err, want)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("late\n")); err != seal.ErrClosed {
		t.Errorf("Write after Close: error %v, want ErrClosed", err)
	}
	r := verify(t, out.Bytes(), nil)
	if !r.OK() || r.Records != 4 {
		t.Errorf("Records = %d, problems %v; want 4 (the failed line left out of the chain) and none", r.Records, r.Problems)
	}
}

func TestState(t *testing.T) {
	l := newTestLog(t, 1, nil)
	k0 := l.w.State().Key
	l.records(1, 1)
	l.tick(t, time.Minute)
	st := l.w.State()
	if st.Key == k0 || st.Key != seal.Evolve(k0) {
		t.Errorf("key after one epoch is not the evolved initial key")
	}
	if st.Epoch != 1 || st.Seq != 3 {
		t.Errorf("State = epoch %d, seq %d; want 1, 3", st.Epoch, st.Seq)
	}
	b, _ := st.MarshalBinary()
	var back seal.State
	if err := back.UnmarshalBinary(b); err != nil || back != st {
		t.Errorf("State through MarshalBinary = %+v, %v; want %+v", back, err, st)
	}
	if err := back.UnmarshalBinary(b[1:]); err == nil {
		t.Errorf("UnmarshalBinary of a short State: no error")
	}
}

func TestBadKeys(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Errorf("NewWriter with a short key did not panic")
		}
	}()
	if _, err := seal.Verify([]byte("short"), nil); err == nil {
		t.Errorf("Verify with a short key: no error")
	}
	seal.NewWriter(io.Discard, []byte("short"), nil)
}

// Rotated files are checked as one log: a file missing, repeated or out of
// order is a problem.
func TestRotatedFiles(t *testing.T) {
	files := rotated(t, 3)
	tests := []struct {
		name  string
		order []int
		want  []string
	}{
		{"all, in order", []int{0, 1, 2}, nil},
		{"the first two", []int{0, 1}, nil}, // a closed log: only an anchor shows what follows
		{"the middle one missing", []int{0, 2}, []string{"deleted@1"}},
		{"one given twice", []int{0, 1, 1}, []string{"fork@1"}},
		{"out of order", []int{1, 0}, []string{"reordered@1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rs []io.Reader
			for _, i := range tt.order {
				rs = append(rs, bytes.NewReader(files[i]))
			}
			r, err := seal.Verify(testKey, nil, rs...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, problems(r)); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%v", diff, r.Problems)
			}
		})
	}
}

func TestConcurrentClose(t *testing.T) {
	var buf syncBuffer
	w := seal.NewWriter(&buf, testKey, &seal.Options{Epoch: time.Millisecond})
	fmt.Fprintln(w, "a line")
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.Close()
		}()
	}
	wg.Wait()
	r, err := seal.Verify(testKey, &seal.VerifyOptions{Grace: time.Second}, bytes.NewReader(buf.Bytes()))
	if err != nil || !r.OK() || !r.Closed {
		t.Errorf("Verify: closed %v, problems %v, error %v; want a closed log and none", r.Closed, r.Problems, err)
	}
}
