package stdlog

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"runtime"
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
