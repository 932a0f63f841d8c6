package stdlog

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slogaudit/audit/internal/logtest"
)

// TestMatchesDefault compares the replica with slog's own default
// handler for the same records, over several log flag settings.
func TestMatchesDefault(t *testing.T) {
	logtest.KeepDefaults(t)
	var pcs [1]uintptr
	runtime.Callers(1, pcs[:])
	for _, flags := range []int{0, log.Lshortfile, log.Llongfile | log.Lmsgprefix, log.Lshortfile | log.LUTC} {
		var want, got bytes.Buffer
		log.SetFlags(flags)
		log.SetPrefix("p> ")
		log.SetOutput(&want)
		orig := slog.Default().Handler()
		log.SetOutput(&got)
		replica := New(orig)
		log.SetOutput(&want)
		for _, h := range []slog.Handler{orig, replica} {
			r := slog.NewRecord(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), slog.LevelWarn, "msg with spaces", pcs[0])
			r.Add("a", 1, "s", "two words", slog.Group("g", "x", true))
			hh := h.WithAttrs([]slog.Attr{slog.Int("w", 0)}).WithGroup("grp")
			if err := hh.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		if got.String() != want.String() {
			t.Errorf("flags %d:\ngot  %q\nwant %q", flags, got.String(), want.String())
		}
	}
}

func TestIsDefault(t *testing.T) {
	for _, c := range []struct {
		name string
		h    slog.Handler
		want bool
	}{
		{"slog's default", slog.Default().Handler(), true},
		{"text handler", slog.NewTextHandler(&bytes.Buffer{}, nil), false},
		{"replica", New(slog.Default().Handler()), false},
	} {
		if got := IsDefault(c.h); got != c.want {
			t.Errorf("%s: IsDefault = %v, want %v", c.name, got, c.want)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for the concurrent writers of
// several replicas.
type lockedBuffer = logtest.LockedBuffer

// passOn stands for a wrapper such as audit.Handler: it passes every call,
// and the context, to the handler it wraps.
type passOn struct{ slog.Handler }

func (h passOn) WithAttrs(as []slog.Attr) slog.Handler { return passOn{h.Handler.WithAttrs(as)} }
func (h passOn) WithGroup(name string) slog.Handler    { return passOn{h.Handler.WithGroup(name)} }

// install sets up the log package as a test wants it and installs the
// replica of saved (slog's default handler) as slog's default, wrapped
// in passOn, the way audit.NewHandler does.
func install(saved slog.Handler) {
	slog.SetDefault(slog.New(passOn{New(saved)}))
}

// TestPrefixTrim checks that the log prefix is taken off the lines of the
// log package only, which hand it over in front of their message, and
// never off a slog message that happens to start with it.
func TestPrefixTrim(t *testing.T) {
	tests := []struct {
		name  string
		flags int
		log   func()
		want  string // a regexp for the whole output
	}{
		{"slog message starting with the prefix", 0, func() { slog.Info("app: ready") }, `^app: INFO app: ready\n$`},
		{"slog message without it", 0, func() { slog.Info("ready") }, `^app: INFO ready\n$`},
		{"log.Printf", 0, func() { log.Printf("ready") }, `^app: INFO ready\n$`},
		{"log.Printf of a message starting with the prefix", 0, func() { log.Printf("app: ready") }, `^app: INFO app: ready\n$`},
		{"log.Print with attributes-like text", 0, func() { log.Print("k=v") }, `^app: INFO k=v\n$`},
		{"log.Printf with a file name", log.Lshortfile, func() { log.Printf("ready") }, `^app: stdlog_test\.go:\d+: INFO ready\n$`},
		{"slog with a file name", log.Lshortfile, func() { slog.Info("app: ready") }, `^app: stdlog_test\.go:\d+: INFO app: ready\n$`},
		{"prefix after the header", log.Lmsgprefix, func() { slog.Info("app: ready") }, `^app: INFO app: ready\n$`},
		{"twice, from the cache", 0, func() { log.Printf("one"); log.Printf("two") }, `^app: INFO one\napp: INFO two\n$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logtest.KeepDefaults(t)
			var buf lockedBuffer
			log.SetOutput(&buf)
			log.SetFlags(tt.flags)
			log.SetPrefix("app: ")
			install(slog.Default().Handler())
			tt.log()
			if got := buf.String(); !regexp.MustCompile(tt.want).MatchString(got) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestInstalls wraps slog's saved default handler again and again, in
// turn and at once, and checks that every line has one header. A replica
// that took slog's bridge for the log writer wrote "INFO INFO probe".
func TestInstalls(t *testing.T) {
	tests := []struct {
		name       string
		installs   int
		concurrent bool
	}{
		{"once", 1, false},
		{"twice", 2, false},
		{"five times", 5, false},
		{"at once", 64, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf lockedBuffer
			logtest.CaptureLog(t, &buf, "app: ")
			saved := slog.Default().Handler()
			var wg sync.WaitGroup
			for i := 0; i < tt.installs; i++ {
				if !tt.concurrent {
					install(saved)
					slog.Info("probe")
					log.Print("probe")
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					install(saved)
					slog.Info("probe")
					log.Print("probe")
				}()
			}
			wg.Wait()
			got := buf.String()
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			if len(lines) != 2*tt.installs {
				t.Fatalf("got %d lines, want %d:\n%s", len(lines), 2*tt.installs, got)
			}
			for _, l := range lines {
				if l != "app: INFO probe" {
					t.Fatalf("line %q, want %q; all:\n%s", l, "app: INFO probe", got)
				}
			}
		})
	}
}

// slowValue blocks its formatting until release is closed.
type slowValue struct {
	entered chan struct{}
	release chan struct{}
}

func (v slowValue) LogValue() slog.Value {
	close(v.entered)
	<-v.release
	return slog.StringValue("slow")
}

// TestFormatOutsideLock checks that a value slow to format holds up only
// its own line: the other goroutines' lines are written meanwhile.
func TestFormatOutsideLock(t *testing.T) {
	var buf lockedBuffer
	logtest.CaptureLog(t, &buf, "")
	h := New(slog.Default().Handler())
	for _, tt := range []struct {
		name string
		h    slog.Handler // the one the fast lines go through
	}{
		{"same handler", h},
		{"derived handler", h.WithAttrs([]slog.Attr{slog.Int("w", 1)}).WithGroup("g")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			slow := slowValue{entered: make(chan struct{}), release: make(chan struct{})}
			done := make(chan struct{})
			go func() {
				defer close(done)
				slog.New(h).Info("slow", "v", slow)
			}()
			<-slow.entered
			fast := make(chan struct{})
			go func() {
				defer close(fast)
				var wg sync.WaitGroup
				for i := 0; i < 8; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						slog.New(tt.h).Info("fast", "i", 1)
					}()
				}
				wg.Wait()
			}()
			select {
			case <-fast:
			case <-time.After(10 * time.Second):
				t.Fatal("lines waited for a value being formatted elsewhere")
			}
			close(slow.release)
			<-done
		})
	}
	if got := strings.Count(buf.String(), "INFO slow v=slow\n"); got != 2 {
		t.Errorf("slow lines: %d, want 2:\n%s", got, buf.String())
	}
}

// TestWithAttrsResolvedOnce checks that a LogValuer bound with WithAttrs
// is resolved when it is bound, as slog's TextHandler resolves it, and not
// again for each formatter the pool makes.
func TestWithAttrsResolvedOnce(t *testing.T) {
	var buf lockedBuffer
	logtest.CaptureLog(t, &buf, "")
	n := 0
	h := New(slog.Default().Handler()).WithAttrs([]slog.Attr{slog.Any("n", countingValue{&n})})
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slog.New(h).Info("m")
		}()
	}
	wg.Wait()
	if n != 1 {
		t.Errorf("resolved %d times, want 1", n)
	}
	if got := strings.Count(buf.String(), "INFO m n=1\n"); got != 16 {
		t.Errorf("got\n%s", buf.String())
	}
}

type countingValue struct{ n *int }

func (v countingValue) LogValue() slog.Value {
	*v.n++
	return slog.IntValue(*v.n)
}

// BenchmarkPrefixedLine measures what telling the log package's lines
// from slog's costs: only messages that start with the log prefix pay.
func BenchmarkPrefixedLine(b *testing.B) {
	logtest.CaptureLog(b, io.Discard, "app: ")
	install(slog.Default().Handler())
	b.Run("slog.Info", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			slog.Info("ready")
		}
	})
	b.Run("slog.Info with the prefix", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			slog.Info("app: ready")
		}
	})
	b.Run("log.Print", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			log.Print("ready")
		}
	})
}
