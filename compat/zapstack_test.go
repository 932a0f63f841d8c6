package compat

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"github.com/slogaudit/audit"
)

// TestZapStackFrames measures where zapslog's ERROR stack trace starts
// under audit (issue 16: "one or two frames too early; no single
// caller-skip setting fixes both of audit's paths"). zapslog skips the
// frames of slog.Logger and takes the stack from there, so every frame
// audit puts between slog.Logger and zapslog comes first in the trace. Each
// path must add the same number, zapCallerSkip, so that one documented
// zapslog.WithCallerSkip puts the caller first whatever the record holds.
func TestZapStackFrames(t *testing.T) {
	ctx := audit.With(context.Background(), "request_id", "r1")
	paths := []struct {
		name string
		log  func(l *slog.Logger)
	}{
		{"passed through", func(l *slog.Logger) { l.Error("m", "a", 1) }},
		{"passed through under WithGroup", func(l *slog.Logger) { l.WithGroup("g").Error("m", "a", 1) }},
		{"rewritten: Event", func(l *slog.Logger) { l.Error("m", audit.Event("e")) }},
		{"rewritten: Event under WithGroup", func(l *slog.Logger) { l.WithGroup("g").Error("m", audit.Event("e")) }},
		{"rewritten: secret", func(l *slog.Logger) { l.Error("m", "password", "hunter2") }},
		{"rewritten: LogValuer", func(l *slog.Logger) { l.Error("m", lvAttr("v", slog.IntValue(1))) }},
		{"rewritten: context binding", func(l *slog.Logger) { l.ErrorContext(ctx, "m") }},
	}
	for _, p := range paths {
		var bareOut, wrapOut capture
		p.log(slog.New(newZap(&bareOut, true, false)))
		p.log(slog.New(audit.NewHandler(newZap(&wrapOut, true, false), nil)))
		bare, _ := stackStart(t, bareOut.take())
		if bare != 0 {
			t.Fatalf("%s: bare zapslog's stack starts %d frames before the caller; this test cannot measure", p.name, bare)
		}
		n, early := stackStart(t, wrapOut.take())
		var pr probe
		p.log(slog.New(audit.NewHandler(&pr, nil)))
		if n != len(pr.frames) {
			t.Errorf("%s: the stack trace starts %d frames early, but audit's frames are %v", p.name, n, pr.frames)
		}
		t.Logf("%s: audit adds %d frames %v; the trace starts at %v", p.name, len(pr.frames), pr.frames, early)
		check(t, "zapstack", "zapslog+stack", p.name, n == zapCallerSkip,
			fmt.Sprintf("%s: the stack trace starts %d frames before the caller, at %v, want %d", p.name, n, early, zapCallerSkip))
	}
}

// probe is a handler that records the frames between slog.Logger and its
// Handle: the ones a wrapping handler adds.
type probe struct{ frames []string }

func (p *probe) Enabled(context.Context, slog.Level) bool { return true }
func (p *probe) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *probe) WithGroup(string) slog.Handler            { return p }

func (p *probe) Handle(context.Context, slog.Record) error {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, "log/slog.") || !more {
			return nil
		}
		p.frames = append(p.frames, f.Function)
	}
}

// stackStart returns how many frames of zapslog's stack trace in out come
// before the first frame of this package (the caller), and their functions.
func stackStart(t *testing.T, out string) (int, []string) {
	t.Helper()
	var rec struct{ Stacktrace string }
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.Stacktrace == "" {
		t.Fatalf("no stack trace in %q (%v)", out, err)
	}
	var funcs []string
	for _, line := range strings.Split(rec.Stacktrace, "\n") {
		if strings.HasPrefix(line, "\t") {
			continue
		}
		if strings.HasPrefix(line, "github.com/slogaudit/audit/compat.") {
			return len(funcs), funcs
		}
		funcs = append(funcs, line)
	}
	t.Fatalf("the caller is not in the stack trace:\n%s", rec.Stacktrace)
	return 0, nil
}
