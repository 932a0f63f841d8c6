package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/slogtest"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/slogaudit/audit/internal/logtest"
	"github.com/slogaudit/audit/internal/reqbody"
	"github.com/slogaudit/audit/internal/secretscan"
	"github.com/slogaudit/audit/internal/testsecrets"
)

// Handler: a drop-in for the handler it wraps.

func TestSlogtest(t *testing.T) {
	for _, opts := range []*Options{nil, {NoEventID: true}} {
		var buf bytes.Buffer
		slogtest.Run(t, func(t *testing.T) slog.Handler {
			buf.Reset()
			return NewHandler(slog.NewJSONHandler(&buf, nil), opts)
		}, func(t *testing.T) map[string]any {
			ls := lines(t, buf.Bytes(), false)
			if len(ls) != 1 {
				t.Fatalf("got %d lines, want 1:\n%s", len(ls), buf.String())
			}
			return ls[0]
		})
	}
}

// TestDropIn checks that records without audit fields come out of the
// wrapper exactly as out of the bare handler, through With/WithGroup chains,
// for both built-in handlers.
func TestDropIn(t *testing.T) {
	type logFn func(l *slog.Logger)
	tests := []struct {
		name string
		with func(*slog.Logger) *slog.Logger
		log  logFn
	}{
		{"plain", nil, func(l *slog.Logger) { l.Info("hello", "a", 1, "b", "two") }},
		{"no attrs", nil, func(l *slog.Logger) { l.Warn("bare") }},
		{"with", func(l *slog.Logger) *slog.Logger { return l.With("svc", "files") },
			func(l *slog.Logger) { l.Info("m", "k", 1.5) }},
		{"group", func(l *slog.Logger) *slog.Logger { return l.WithGroup("g") },
			func(l *slog.Logger) { l.Info("m", "k", true) }},
		{"with group with", func(l *slog.Logger) *slog.Logger { return l.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h") },
			func(l *slog.Logger) { l.Error("m", "c", 3) }},
		{"empty group elided", func(l *slog.Logger) *slog.Logger { return l.WithGroup("g").WithGroup("h") },
			func(l *slog.Logger) { l.Info("m") }},
		{"inline group", nil, func(l *slog.Logger) { l.Info("m", slog.Group("", "x", 1), slog.Group("empty")) }},
		{"duplicate keys kept", nil, func(l *slog.Logger) { l.Info("m", "a", 1, "a", 2) }},
		{"bad key", nil, func(l *slog.Logger) { l.Info("m", badArgs...) }},
		{"nil any", nil, func(l *slog.Logger) { l.Info("m", "v", nil, "err", error(nil)) }},
		{"kinds", nil, func(l *slog.Logger) {
			l.Info("m", "d", 3*time.Second, "t", frozen, "u", uint64(7), "f", 0.5, "s", []int{1, 2}, "m", map[string]int{"z": 1, "a": 2})
		}},
		{"error value", nil, func(l *slog.Logger) { l.Error("failed", "err", errors.New("disk full")) }},
		{"empty group name", func(l *slog.Logger) *slog.Logger { return l.WithGroup("") },
			func(l *slog.Logger) { l.Info("m", "k", 1) }},
	}
	handlers := []struct {
		name string
		new  func(*bytes.Buffer, slog.Leveler) slog.Handler
	}{{"json", newJSON}, {"text", newText}}
	for _, hh := range handlers {
		for _, tt := range tests {
			t.Run(hh.name+"/"+tt.name, func(t *testing.T) {
				var bare, wrapped bytes.Buffer
				lb := slog.New(hh.new(&bare, nil))
				lw := slog.New(NewHandler(hh.new(&wrapped, nil), nil))
				if tt.with != nil {
					lb, lw = tt.with(lb), tt.with(lw)
				}
				tt.log(lb)
				tt.log(lw)
				if got, want := wrapped.String(), bare.String(); got != want {
					t.Errorf("wrapped output differs from bare\ngot:  %s\nwant: %s", got, want)
				}
			})
		}
	}
}

// TestDropInProperty compares the wrapper with the bare handler over
// thousands of random records and random With/WithGroup chains.
func TestDropInProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i := 0; i < n; i++ {
		var bare, wrapped bytes.Buffer
		newInner := newJSON
		if i%2 == 1 {
			newInner = newText
		}
		lb := slog.New(newInner(&bare, nil))
		lw := slog.New(NewHandler(newInner(&wrapped, nil), nil))
		var steps []string
		for s := rng.IntN(4); s > 0; s-- {
			if rng.IntN(2) == 0 {
				attrs := randAttrs(rng, 2)
				lb, lw = lb.With(attrsToArgs(attrs)...), lw.With(attrsToArgs(attrs)...)
				steps = append(steps, fmt.Sprint("With", attrs))
			} else {
				name := randKey(rng)
				lb, lw = lb.WithGroup(name), lw.WithGroup(name)
				steps = append(steps, "WithGroup("+name+")")
			}
		}
		attrs := randAttrs(rng, 3)
		msg := randString(rng)
		lb.LogAttrs(context.Background(), slog.LevelInfo, msg, attrs...)
		lw.LogAttrs(context.Background(), slog.LevelInfo, msg, attrs...)
		if bare.String() != wrapped.String() {
			t.Fatalf("case %d: %v then %v\ngot:  %s\nwant: %s", i, steps, attrs, wrapped.String(), bare.String())
		}
	}
}

var propKeys = []string{"a", "b", "id", "name", "size", "path", "count", "", "g", "user_agent", "ip", "x.y", "with space", "ünï"}

func randKey(rng *rand.Rand) string { return propKeys[rng.IntN(len(propKeys))] }

func randString(rng *rand.Rand) string {
	const alphabet = "abcXYZ019 _-./:@=\"\\\n\t\u00e9\u4e16"
	runes := []rune(alphabet)
	b := make([]rune, rng.IntN(24))
	for i := range b {
		b[i] = runes[rng.IntN(len(runes))]
	}
	return string(b)
}

func randAttrs(rng *rand.Rand, depth int) []slog.Attr {
	attrs := make([]slog.Attr, rng.IntN(5))
	for i := range attrs {
		k := randKey(rng)
		switch rng.IntN(9) {
		case 0:
			attrs[i] = slog.String(k, randString(rng))
		case 1:
			attrs[i] = slog.Int64(k, rng.Int64()-rng.Int64())
		case 2:
			attrs[i] = slog.Float64(k, rng.NormFloat64())
		case 3:
			attrs[i] = slog.Bool(k, rng.IntN(2) == 0)
		case 4:
			attrs[i] = slog.Duration(k, time.Duration(rng.Int64()))
		case 5:
			attrs[i] = slog.Time(k, frozen.Add(time.Duration(rng.Int64N(1e15))))
		case 6:
			if depth > 0 {
				attrs[i] = slog.Attr{Key: k, Value: slog.GroupValue(randAttrs(rng, depth-1)...)}
			} else {
				attrs[i] = slog.Uint64(k, rng.Uint64())
			}
		case 7:
			attrs[i] = slog.Any(k, map[string]any{randKey(rng): randString(rng), "n": rng.IntN(9)})
		case 8:
			attrs[i] = slog.Any(k, []string{randString(rng), randString(rng)})
		}
	}
	return attrs
}

func attrsToArgs(attrs []slog.Attr) []any {
	args := make([]any, len(attrs))
	for i, a := range attrs {
		args[i] = a
	}
	return args
}

// Handler: forwarding and the slog.Handler contract.

// recorder is a third-party-style handler that records what reaches it, to
// check what the wrapper forwards.
type recorder struct {
	mu      *sync.Mutex
	calls   *[]string
	prefix  string
	err     error
	minimum slog.Level
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.minimum }

func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	r2 := *r
	r2.prefix += fmt.Sprintf("attrs%v.", as)
	return &r2
}

func (r *recorder) WithGroup(name string) slog.Handler {
	r2 := *r
	r2.prefix += "group(" + name + ")."
	return &r2
}

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var attrs []string
	rec.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a.String())
		return true
	})
	r.mu.Lock()
	*r.calls = append(*r.calls, r.prefix+rec.Message+fmt.Sprint(attrs))
	r.mu.Unlock()
	return r.err
}

func newRecorder() *recorder {
	return &recorder{mu: new(sync.Mutex), calls: new([]string)}
}

func TestForwarding(t *testing.T) {
	tests := []struct {
		name string
		with func(*slog.Logger) *slog.Logger
		ctx  context.Context
		want string
	}{
		{"with is forwarded (pre-formatting kept)",
			func(l *slog.Logger) *slog.Logger { return l.With("a", 1) }, nil,
			"attrs[a=1].m[k=v]"},
		{"groups are forwarded",
			func(l *slog.Logger) *slog.Logger { return l.With("a", 1).WithGroup("g").With("b", 2) }, nil,
			"attrs[a=1].group(g).attrs[b=2].m[k=v]"},
		{"event under a group is rebuilt at the top over the pre-group handler",
			func(l *slog.Logger) *slog.Logger {
				return l.With("a", 1).WithGroup("g").With("b", 2).WithGroup("h").With(Event("x"))
			},
			context.Background(),
			"attrs[a=1].m[event=x g=[b=2 h=[k=v]]]"},
		{"event bound by With is not forwarded",
			func(l *slog.Logger) *slog.Logger { return l.With(Event("x"), "a", 1) }, nil,
			"attrs[a=1].m[event=x k=v]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			l := slog.New(NewHandler(rec, &Options{NoEventID: true}))
			tt.with(l).InfoContext(context.Background(), "m", "k", "v")
			if got := (*rec.calls)[0]; got != tt.want {
				t.Errorf("inner got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHandlerContract(t *testing.T) {
	rec := newRecorder()
	rec.minimum = slog.LevelWarn
	rec.err = errors.New("inner failed")
	h := NewHandler(rec, nil)

	if h.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("Enabled(Info) = true, want false: it must delegate to the inner handler")
	}
	if !h.Enabled(context.Background(), slog.LevelError) {
		t.Error("Enabled(Error) = false, want true")
	}
	if got := h.WithGroup(""); got != slog.Handler(h) {
		t.Errorf("WithGroup(\"\") = %p, want the receiver %p", got, h)
	}
	if got := h.WithAttrs(nil); got != slog.Handler(h) {
		t.Errorf("WithAttrs(nil) = %p, want the receiver %p", got, h)
	}
	r := slog.NewRecord(frozen, slog.LevelError, "m", 0)
	if err := h.Handle(context.Background(), r); err != rec.err {
		t.Errorf("Handle (plain) error = %v, want %v", err, rec.err)
	}
	r.AddAttrs(Event("x"))
	if err := h.Handle(context.Background(), r); err != rec.err {
		t.Errorf("Handle (with event) error = %v, want %v", err, rec.err)
	}
}

// Handler: audit fields and event ids.

// TestAuditFields checks where the audit fields go and who wins.
func TestAuditFields(t *testing.T) {
	ada := Identity{ID: "42", Name: "ada", Kind: "user"}
	tests := []struct {
		name string
		opts *Options
		ctx  func(context.Context) context.Context
		with func(*slog.Logger) *slog.Logger
		args []any
		want map[string]any
	}{
		{
			name: "event in record",
			args: []any{Event("file.upload"), "filename", "a.txt"},
			want: map[string]any{"event": "file.upload", "filename": "a.txt"},
		},
		{
			name: "event bound by logger",
			with: func(l *slog.Logger) *slog.Logger { return l.With(Event("auth.login")) },
			want: map[string]any{"event": "auth.login"},
		},
		{
			name: "record's event wins over logger's and context's",
			ctx:  func(ctx context.Context) context.Context { return With(ctx, Event("ctx.event")) },
			with: func(l *slog.Logger) *slog.Logger { return l.With(Event("logger.event")) },
			args: []any{Event("record.event")},
			want: map[string]any{"event": "record.event"},
		},
		{
			name: "logger's event wins over context's",
			ctx:  func(ctx context.Context) context.Context { return With(ctx, Event("ctx.event")) },
			with: func(l *slog.Logger) *slog.Logger { return l.With(Event("logger.event")) },
			want: map[string]any{"event": "logger.event"},
		},
		{
			name: "context event",
			ctx:  func(ctx context.Context) context.Context { return With(ctx, Event("ctx.event")) },
			want: map[string]any{"event": "ctx.event"},
		},
		{
			name: "event key renamed",
			opts: &Options{EventKey: "ev", Fields: Fields{EventID: "ev_id"}},
			args: []any{Event("w/req")},
			want: map[string]any{"ev": "w/req"},
		},
		{
			name: "identity and context attrs",
			ctx: func(ctx context.Context) context.Context {
				return With(WithIdentity(ctx, ada), "request_id", "r1", "tenant", "acme")
			},
			args: []any{Event("file.upload"), "size_bytes", 12345},
			want: map[string]any{
				"event": "file.upload", "size_bytes": 12345.0,
				"user":       map[string]any{"id": "42", "name": "ada", "kind": "user"},
				"request_id": "r1", "tenant": "acme",
			},
		},
		{
			name: "identity key renamed, zero identity omitted",
			opts: &Options{Fields: Fields{User: "actor"}},
			ctx:  func(ctx context.Context) context.Context { return WithIdentity(With(ctx, "a", 1), Identity{}) },
			want: map[string]any{"a": 1.0},
		},
		{
			name: "audit fields stay at the top level inside groups",
			ctx: func(ctx context.Context) context.Context {
				return With(WithIdentity(ctx, ada), "request_id", "r1")
			},
			with: func(l *slog.Logger) *slog.Logger {
				return l.With("svc", "x").WithGroup("g").With("b", 2).WithGroup("h")
			},
			args: []any{Event("e"), "k", "v"},
			want: map[string]any{
				"svc": "x", "event": "e", "user": map[string]any{"id": "42", "name": "ada", "kind": "user"},
				"request_id": "r1",
				"g":          map[string]any{"b": 2.0, "h": map[string]any{"k": "v"}},
			},
		},
		{
			name: "rebinding a key replaces it",
			ctx: func(ctx context.Context) context.Context {
				return With(With(ctx, "tenant", "old", "a", 1), "tenant", "new")
			},
			want: map[string]any{"tenant": "new", "a": 1.0},
		},
		{
			name: "record's own key wins over context's, written once",
			ctx:  func(ctx context.Context) context.Context { return With(ctx, "tenant", "ctx", "x", 1) },
			args: []any{"tenant", "record"},
			want: map[string]any{"tenant": "record", "x": 1.0},
		},
		{
			name: "logger's top-level key wins over context's",
			ctx:  func(ctx context.Context) context.Context { return With(ctx, "tenant", "ctx") },
			with: func(l *slog.Logger) *slog.Logger { return l.With("tenant", "logger").WithGroup("g") },
			args: []any{"k", 1},
			want: map[string]any{"tenant": "logger", "g": map[string]any{"k": 1.0}},
		},
		{
			name: "identity wins over a context attr of the same key, which is kept under fields.",
			ctx: func(ctx context.Context) context.Context {
				return WithIdentity(With(ctx, "user", "spoofed"), ada)
			},
			want: map[string]any{"user": map[string]any{"id": "42", "name": "ada", "kind": "user"}, "fields.user": "spoofed"},
		},
		{
			name: "ContextAttrs hook",
			opts: &Options{ContextAttrs: func(ctx context.Context) []slog.Attr {
				return []slog.Attr{slog.String("trace_id", "t1"), slog.String("span_id", "s1")}
			}},
			args: []any{"k", 1},
			want: map[string]any{"trace_id": "t1", "span_id": "s1", "k": 1.0},
		},
		{
			name: "ContextAttrs panic is recovered and reported",
			opts: &Options{ContextAttrs: func(ctx context.Context) []slog.Attr { panic("tracer broke") }},
			args: []any{"k", 1},
			want: map[string]any{"!AUDIT_ERROR": "audit: ContextAttrs panicked: tracer broke", "k": 1.0},
		},
		{
			name: "With in context with bad key",
			ctx:  func(ctx context.Context) context.Context { return With(ctx, 7, "k") },
			want: map[string]any{"!BADKEY": "k"}, // both halves are !BADKEY; the later replaces
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(NewHandler(newJSON(&buf, nil), tt.opts))
			if tt.with != nil {
				l = tt.with(l)
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			l.InfoContext(ctx, "m", tt.args...)
			ls := lines(t, buf.Bytes(), false)
			if len(ls) != 1 {
				t.Fatalf("got %d records, want 1: %s", len(ls), buf.String())
			}
			got := ls[0]
			idKey := EventIDKey
			if tt.opts != nil && tt.opts.Fields.EventID != "" {
				idKey = tt.opts.Fields.EventID
			}
			_, hasEvent := tt.want[EventKey]
			if tt.opts != nil && tt.opts.EventKey != "" {
				_, hasEvent = tt.want[tt.opts.EventKey]
			}
			if _, hasID := got[idKey]; hasID != hasEvent {
				t.Errorf("event id present = %v, want %v: %s", hasID, hasEvent, buf.String())
			}
			takeEventID(t, got, idKey)
			delete(got, slog.LevelKey)
			delete(got, slog.MessageKey)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("record mismatch (-want +got):\n%s\noutput: %s", diff, buf.String())
			}
		})
	}
}

// TestAuditFieldOrder checks that audit fields come first and keys are
// written once, in the raw output rather than a parsed map.
func TestAuditFieldOrder(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewHandler(newJSON(&buf, nil), &Options{NoEventID: true}))
	ctx := With(WithIdentity(context.Background(), Identity{ID: "42", Name: "ada"}), "request_id", "r1", "tenant", "acme")
	l.InfoContext(ctx, "File uploaded", Event("file.upload"), "filename", "a.txt", "tenant", "own")
	want := `{"level":"INFO","msg":"File uploaded","event":"file.upload","user":{"id":"42","name":"ada"},"request_id":"r1","filename":"a.txt","tenant":"own"}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestTopLevelKeysWrittenOnce checks that no top-level key is written twice
// by the routes this package adds attributes by: the members of an
// empty-key group, which handlers inline, count as top-level keys, the
// record's own win, and a caller's key moved under the collision prefix
// does not land on another of the caller's keys.
func TestTopLevelKeysWrittenOnce(t *testing.T) {
	inlineK := func(context.Context) []slog.Attr { return []slog.Attr{slog.Group("", slog.Int("k", 1))} }
	tests := []struct {
		name string
		opts *Options
		log  func(l *slog.Logger, ctx context.Context)
		want string
	}{
		{"empty-key group bound to the context, record's key", nil, func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(With(ctx, slog.Group("", "k", 1, "j", 1)), "m", "k", 2)
		}, `{"level":"INFO","msg":"m","j":1,"k":2}`},
		{"empty-key group from ContextAttrs, record's key", &Options{ContextAttrs: inlineK}, func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(ctx, "m", "k", 2)
		}, `{"level":"INFO","msg":"m","k":2}`},
		{"empty-key groups two deep bound to the context, logger's key", nil, func(l *slog.Logger, ctx context.Context) {
			l.With("k", 2).InfoContext(With(ctx, slog.Group("", slog.Group("", "k", 1))), "m")
		}, `{"level":"INFO","msg":"m","k":2}`},
		{"empty-key group bound to the context, WithGroup name", nil, func(l *slog.Logger, ctx context.Context) {
			l.WithGroup("g").InfoContext(With(ctx, slog.Group("", "g", 1)), "m", "a", 1)
		}, `{"level":"INFO","msg":"m","g":{"a":1}}`},
		{"empty-key LogValuer bound to the context, record's key", nil, func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(With(ctx, slog.Any("", inlineValuer{slog.Int("k", 1)})), "m", "k", 2)
		}, `{"level":"INFO","msg":"m","k":2}`},
		{"context's fields.event, record's event moved onto it", nil, func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(With(ctx, "fields.event", 1), "m", "event", 2)
		}, `{"level":"INFO","msg":"m","fields.event":2}`},
		{"record's event moved onto the record's fields.event", nil, func(l *slog.Logger, ctx context.Context) {
			l.InfoContext(ctx, "m", "event", 1, "fields.event", 2)
		}, `{"level":"INFO","msg":"m","fields.fields.event":1,"fields.event":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(NewHandler(newJSON(&buf, nil), tt.opts))
			tt.log(l, context.Background())
			if got := strings.TrimSpace(buf.String()); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestNestedHandlers checks that a Handler wrapping another Handler (a
// library's over the application's, or the default-logger line run twice)
// writes the audit fields once, at the top level, at the inner Handler's
// keys: the outer one's event and identity are not taken for a caller's
// attributes and moved under the collision prefix.
func TestNestedHandlers(t *testing.T) {
	ctx := With(WithIdentity(context.Background(), Identity{ID: "42", Name: "ada"}), "request_id", "r1")
	for _, c := range []struct {
		name  string
		inner *Options
		log   func(l *slog.Logger)
		want  map[string]any // besides the event id
	}{
		{"event in the record", nil, func(l *slog.Logger) { l.InfoContext(ctx, "m", Event("e"), "k", 1) },
			map[string]any{"event": "e", "user": map[string]any{"id": "42", "name": "ada"}, "request_id": "r1", "k": 1.0}},
		{"event bound by the outer logger, under a group", nil, func(l *slog.Logger) { l.With(Event("w")).WithGroup("g").InfoContext(ctx, "m", "k", 1) },
			map[string]any{"event": "w", "user": map[string]any{"id": "42", "name": "ada"}, "request_id": "r1", "g": map[string]any{"k": 1.0}}},
		{"event bound to the context", nil, func(l *slog.Logger) { l.InfoContext(With(ctx, Event("c")), "m") },
			map[string]any{"event": "c", "user": map[string]any{"id": "42", "name": "ada"}, "request_id": "r1"}},
		{"the inner Handler's keys", &Options{Fields: ECSFields()}, func(l *slog.Logger) { l.InfoContext(ctx, "m", Event("e"), Outcome(OutcomeSuccess)) },
			map[string]any{"event.action": "e", "event.outcome": "success", "user": map[string]any{"id": "42", "name": "ada"}, "request_id": "r1"}},
		{"a caller's event still moved", nil, func(l *slog.Logger) { l.InfoContext(ctx, "m", Event("e"), "event", "mallory") },
			map[string]any{"event": "e", "fields.event": "mallory", "user": map[string]any{"id": "42", "name": "ada"}, "request_id": "r1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			c.log(slog.New(NewHandler(NewHandler(newJSON(&buf, nil), c.inner), nil)))
			idKey := EventIDKey
			if c.inner != nil {
				idKey = c.inner.Fields.EventID
			}
			for k, n := range countKeys(topLevelKeys(t, buf.Bytes())) {
				if n > 1 {
					t.Errorf("top-level key %q written %d times: %s", k, n, buf.String())
				}
			}
			ls := lines(t, buf.Bytes(), false)
			if len(ls) != 1 {
				t.Fatalf("got %d records, want 1: %s", len(ls), buf.String())
			}
			got := ls[0]
			takeEventID(t, got, idKey)
			delete(got, slog.LevelKey)
			delete(got, slog.MessageKey)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("record mismatch (-want +got):\n%s\noutput: %s", diff, buf.String())
			}
		})
	}
}

func TestNoEventIDOption(t *testing.T) {
	var buf bytes.Buffer
	slog.New(NewHandler(newJSON(&buf, nil), &Options{NoEventID: true})).Info("m", Event("e"))
	if strings.Contains(buf.String(), EventIDKey) {
		t.Errorf("NoEventID: output has an event id: %s", buf.String())
	}
}

func TestEventIDsAreUnique(t *testing.T) {
	seen := make(map[string]bool)
	for i := 0; i < 100000; i++ {
		id := newEventID()
		if !idPattern.MatchString(id) {
			t.Fatalf("newEventID() = %q, want 32 lowercase hex digits", id)
		}
		if seen[id] {
			t.Fatalf("newEventID() repeated %q after %d ids", id, i)
		}
		seen[id] = true
	}
}

func TestReservedKeys(t *testing.T) {
	ada := Identity{ID: "42", Name: "ada"}
	bound := func(ctx context.Context) context.Context {
		return WithIdentity(ctx, ada)
	}
	type route struct {
		name string
		// log writes "mallory" under key by its route, with the event
		// "real.event" named by the record.
		log func(l *slog.Logger, ctx context.Context, key string)
		// moved is the key the caller's value must be found under.
		moved func(key string) string
		// opts, when set, configure the Handler for this route.
		opts func(key string) *Options
	}
	same := func(key string) string { return "fields." + key }
	routes := []route{
		{name: "record attr", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.InfoContext(ctx, "m", Event("real.event"), key, "mallory")
		}, moved: same},
		{name: "With attr", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.With(key, "mallory").InfoContext(ctx, "m", Event("real.event"))
		}, moved: same},
		{name: "context binding", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.InfoContext(With(ctx, key, "mallory"), "m", Event("real.event"))
		}, moved: same},
		{name: "ContextAttrs", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.InfoContext(ctx, "m", Event("real.event"))
		}, moved: same, opts: func(key string) *Options {
			return &Options{ContextAttrs: func(context.Context) []slog.Attr { return []slog.Attr{slog.String(key, "mallory")} }}
		}},
		{name: "empty-key group in the record", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.InfoContext(ctx, "m", Event("real.event"), slog.Group("", slog.String(key, "mallory")))
		}, moved: same},
		{name: "empty-key group in With", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.With(slog.Group("", slog.String(key, "mallory"))).InfoContext(ctx, "m", Event("real.event"))
		}, moved: same},
		// A LogValuer under an empty key that resolves to a group is
		// inlined by handlers like an empty-key group.
		{name: "empty-key LogValuer in the record", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.InfoContext(ctx, "m", Event("real.event"), slog.Any("", inlineValuer{slog.String(key, "mallory")}))
		}, moved: same},
		{name: "empty-key LogValuer in the record, redaction off", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.InfoContext(ctx, "m", Event("real.event"), slog.Any("", inlineValuer{slog.String(key, "mallory")}))
		}, moved: same, opts: func(string) *Options { return &Options{DisableRedaction: true} }},
		{name: "empty-key LogValuer in With", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.With(slog.Any("", inlineValuer{slog.String(key, "mallory")})).InfoContext(ctx, "m", Event("real.event"))
		}, moved: same},
		{name: "empty-key LogValuer in the context binding", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.InfoContext(With(ctx, slog.Any("", inlineValuer{slog.String(key, "mallory")})), "m", Event("real.event"))
		}, moved: same},
		{name: "empty-key LogValuer from ContextAttrs", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.InfoContext(ctx, "m", Event("real.event"))
		}, moved: same, opts: func(key string) *Options {
			return &Options{ContextAttrs: func(context.Context) []slog.Attr {
				return []slog.Attr{slog.Any("", inlineValuer{slog.String(key, "mallory")})}
			}}
		}},
		{name: "dotted key", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.InfoContext(ctx, "m", Event("real.event"), key+".name", "mallory")
		}, moved: func(key string) string { return "fields." + key + ".name" }},
		{name: "WithGroup name", log: func(l *slog.Logger, ctx context.Context, key string) {
			l.WithGroup(key).InfoContext(ctx, "m", Event("real.event"), "name", "mallory")
		}, moved: func(key string) string { return "fields." + key + ".name" }},
	}
	for _, key := range []string{EventKey, EventIDKey, IdentityKey} {
		for _, rt := range routes {
			for _, format := range []string{"json", "text"} {
				for _, grouped := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/%s/grouped=%v", key, rt.name, format, grouped)
					t.Run(name, func(t *testing.T) {
						var buf bytes.Buffer
						inner := newJSON(&buf, nil)
						if format == "text" {
							inner = newText(&buf, nil)
						}
						var opts *Options
						if rt.opts != nil {
							opts = rt.opts(key)
						}
						l := slog.New(NewHandler(inner, opts))
						want := rt.moved(key)
						if grouped {
							// Opened first: what the route writes then lies
							// inside g, no longer at the top level, and is
							// left as written, but for bound attributes,
							// which stay at the top level.
							l = l.WithGroup("g")
							if !strings.Contains(rt.name, "context binding") && !strings.Contains(rt.name, "ContextAttrs") {
								want = "g." + strings.TrimPrefix(want, "fields.")
							}
						}
						rt.log(l, bound(context.Background()), key)
						checkAudit(t, format, buf.String(), want)
					})
				}
			}
		}
	}
}

// TestReservedKeysWithoutAuditFields checks that a record with no audit
// field of its own, which may go to the wrapped handler as it is, still
// cannot imitate them: with redaction on or off, its keys of the audit's
// own are moved under the collision prefix by every route.
func TestReservedKeysWithoutAuditFields(t *testing.T) {
	forged := func() []any {
		return []any{slog.String(EventIDKey, "mallory")}
	}
	for _, c := range []struct {
		name string
		args func() []any
	}{
		{"record attr", forged},
		{"empty-key group", func() []any { return []any{slog.Group("", forged()...)} }},
		{"empty-key LogValuer", func() []any { return []any{slog.Any("", inlineValuer{slog.String(EventIDKey, "mallory")})} }},
		{"empty-key LogValuer in an empty-key group", func() []any {
			return []any{slog.Group("", slog.Any("", inlineValuer{slog.String(EventIDKey, "mallory")}))}
		}},
	} {
		for _, off := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/DisableRedaction=%v", c.name, off), func(t *testing.T) {
				var buf bytes.Buffer
				slog.New(NewHandler(newJSON(&buf, nil), &Options{DisableRedaction: off})).Info("m", c.args()...)
				want := `{"level":"INFO","msg":"m","fields.event_id":"mallory"}`
				if got := strings.TrimSpace(buf.String()); got != want {
					t.Errorf("got  %s\nwant %s", got, want)
				}
			})
		}
	}
}

func TestCollisionPrefixConfigurable(t *testing.T) {
	for _, c := range []struct {
		name   string
		fields Fields
		want   string
	}{
		{"default", Fields{}, `"user":{"id":"42"},"fields.user":"x"`},
		{"custom prefix", Fields{Collision: "caller_"}, `"user":{"id":"42"},"caller_user":"x"`},
		{"ECS: event.action reserved, so is a caller's event", ECSFields(), `"user":{"id":"42"},"fields.event":"x"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(NewHandler(newJSON(&buf, nil), &Options{Fields: c.fields}))
			ctx := WithIdentity(context.Background(), Identity{ID: "42"})
			key := "user"
			if c.name == "ECS: event.action reserved, so is a caller's event" {
				key = "event"
			}
			l.InfoContext(ctx, "m", key, "x")
			if !strings.Contains(buf.String(), c.want) {
				t.Errorf("got %s\nwant it to hold %s", buf.String(), c.want)
			}
		})
	}
}

// TestAuditKeysDistinct checks that Options naming two of the audit's own
// fields alike (a careless EventKey or Fields) still write every top-level
// key once.
func TestAuditKeysDistinct(t *testing.T) {
	// Two audit fields under one key (or one key a dotted prefix of the
	// other) would write that key twice in every record: NewHandler
	// refuses such options at start-up, as Middleware refuses a second
	// schema.
	for _, opts := range []*Options{
		{EventKey: EventIDKey},
		{EventKey: IdentityKey},
		{Fields: Fields{EventID: IdentityKey}},
		{Fields: Fields{User: EventKey}},
		{Fields: Fields{Event: "user.action"}},
	} {
		t.Run(fmt.Sprintf("%q/%q/%q/%q", opts.EventKey, opts.Fields.Event, opts.Fields.EventID, opts.Fields.User), func(t *testing.T) {
			defer func() {
				if p := recover(); p == nil || !strings.HasPrefix(fmt.Sprint(p), "audit: ") {
					t.Errorf("NewHandler did not refuse colliding keys: panic %v", p)
				}
			}()
			NewHandler(newJSON(&bytes.Buffer{}, nil), opts)
		})
	}
	for _, opts := range []*Options{nil, {Fields: ECSFields()}, {Fields: OTelFields()}, {EventKey: "action"}} {
		NewHandler(newJSON(&bytes.Buffer{}, nil), opts) // must not panic
	}
}

// TestEventNamesRedacted checks that the event name is redacted by every
// route it comes by, and a record's own once more even when it reads like
// the logger's, which was redacted when it was bound: masking a text
// twice may change it twice.
func TestEventNamesRedacted(t *testing.T) {
	raw := "Authorization: Token postgres://app:it's-Pw9@db.example:5432/app"
	red := NewHandler(newJSON(&bytes.Buffer{}, nil), nil).c.red
	once, _ := red.str(raw)
	twice, _ := red.str(once)
	for _, tc := range []struct {
		name string
		log  func(*slog.Logger)
		want string
	}{
		{"the record's", func(l *slog.Logger) { l.Info("m", Event(raw)) }, once},
		{"the logger's", func(l *slog.Logger) { l.With(Event(raw)).Info("m") }, once},
		{"the context's", func(l *slog.Logger) { l.InfoContext(With(context.Background(), Event(raw)), "m") }, once},
		{"the record's, reading like the logger's", func(l *slog.Logger) { l.With(Event(raw)).Info("m", Event(once)) }, twice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.log(slog.New(NewHandler(newJSON(&buf, nil), &Options{NoEventID: true})))
			recs := lines(t, buf.Bytes(), true)
			if len(recs) != 1 || recs[0]["event"] != tc.want {
				t.Errorf("records %v, want one with event %q", recs, tc.want)
			}
		})
	}
}

func TestEventFromContextAttrs(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewHandler(newJSON(&buf, nil), &Options{ContextAttrs: func(context.Context) []slog.Attr {
		return []slog.Attr{Event("job.run"), slog.String("trace_id", "t1")}
	}}))
	l.Info("m")
	l.Info("m", Event("own.event"))
	ls := lines(t, buf.Bytes(), false)
	for i, want := range []string{"job.run", "own.event"} {
		if ls[i][EventKey] != want || !idPattern.MatchString(fmt.Sprint(ls[i][EventIDKey])) || ls[i]["trace_id"] != "t1" {
			t.Errorf("record %d = %v, want event %s with an id and the trace id", i, ls[i], want)
		}
	}
}

// FuzzReservedKeys builds records from fuzzed keys, including empty keys,
// dots and the audit's own keys, by every route, and checks that the
// output has exactly one event, one event id and one identity at the top
// level, and that they are the bound ones.
func FuzzReservedKeys(f *testing.F) {
	for _, s := range []string{"user", "event", "event_id", "user.name", "", ".", "event.", "user..x", "fields.user", "a"} {
		f.Add(s, s, s, uint8(0xff))
	}
	f.Fuzz(func(t *testing.T, k1, k2, k3 string, routes uint8) {
		var buf bytes.Buffer
		h := NewHandler(slog.NewJSONHandler(&buf, nil), &Options{ContextAttrs: func(context.Context) []slog.Attr {
			if routes&1 != 0 {
				return []slog.Attr{slog.String(k3, "mallory")}
			}
			return nil
		}})
		l := slog.New(h)
		if routes&2 != 0 {
			l = l.With(k1, "mallory", slog.Group("", slog.String(k2, "mallory")))
		}
		if routes&4 != 0 && k2 != "" {
			l = l.WithGroup(k2)
		}
		ctx := WithIdentity(context.Background(), Identity{ID: "42", Name: "ada"})
		if routes&8 != 0 {
			ctx = With(ctx, k3, "mallory", k1, "mallory")
		}
		args := []any{Event("real.event"), k1, "mallory", slog.Group("", slog.String(k2, "mallory"), slog.Group("", slog.String(k3, "m")))}
		if routes&16 != 0 {
			args = append(args, slog.Group(k3, slog.String(k1, "m")))
		}
		l.InfoContext(ctx, "m", args...)
		line := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		count := map[string]int{}
		for _, k := range topLevelKeys(t, line) {
			count[k]++
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, line)
		}
		for _, k := range []string{EventKey, EventIDKey, IdentityKey} {
			if count[k] != 1 {
				t.Fatalf("top-level %q written %d times\n%s", k, count[k], line)
			}
		}
		if m[EventKey] != "real.event" {
			t.Fatalf("event = %v\n%s", m[EventKey], line)
		}
		if id, _ := m[EventIDKey].(string); !idPattern.MatchString(id) {
			t.Fatalf("event_id = %v\n%s", m[EventIDKey], line)
		}
		if u, _ := m[IdentityKey].(map[string]any); len(u) != 2 || u["name"] != "ada" || u["id"] != "42" {
			t.Fatalf("user = %v\n%s", m[IdentityKey], line)
		}
		for k := range count {
			for _, r := range []string{EventKey, EventIDKey, IdentityKey} {
				if k != r && (strings.HasPrefix(k, r+".") || strings.HasPrefix(r, k+".")) {
					t.Fatalf("top-level %q expands onto %q\n%s", k, r, line)
				}
			}
		}
	})
}

func TestEventFacts(t *testing.T) {
	grace := Identity{ID: "7", Name: "grace", OnBehalfOf: &Identity{ID: "42", Name: "ada"}}
	for _, c := range []struct {
		name   string
		opts   *Options
		with   func(*slog.Logger) *slog.Logger
		args   []any
		ctx    Identity
		want   string // in the one JSON record
		absent string // must not be written
	}{
		{name: "outcome, reason, target at the default keys", args: []any{Outcome(OutcomeSuccess), Reason("quota ok"), Target("file", "a.txt")},
			want: `"outcome":"success","reason":"quota ok","target.kind":"file","target.id":"a.txt"`},
		{name: "ECS keys", opts: &Options{Fields: ECSFields()}, args: []any{Outcome(OutcomeFailure), Target("AuthUser", "u-1")},
			want: `"event.outcome":"failure","entity.type":"AuthUser","entity.id":"u-1"`},
		{name: "at the top level under groups", with: func(l *slog.Logger) *slog.Logger { return l.WithGroup("g") },
			args: []any{Outcome(OutcomeUnknown), "k", 1}, want: `"outcome":"unknown","g":{"k":1}`},
		{name: "a secret in the reason is masked", args: []any{Reason("rejected Bearer " + testsecrets.Bearer)},
			want: `"reason":"rejected Bearer [REDACTED]"`, absent: testsecrets.Bearer},
		{name: "the record's own key wins, once", args: []any{"outcome", "mine", Outcome(OutcomeSuccess)},
			want: `"outcome":"mine"}`, absent: `"success"`},
		{name: "bound with With, at the default keys", with: func(l *slog.Logger) *slog.Logger { return l.With(Target("file", "a.txt"), Outcome(OutcomeSuccess)) },
			want: `"target.kind":"file","target.id":"a.txt","outcome":"success"`, absent: `{"kind"`},
		{name: "bound with With under a group, at the top level", with: func(l *slog.Logger) *slog.Logger { return l.WithGroup("g").With(Outcome(OutcomeSuccess)) },
			args: []any{"k", 1}, want: `"outcome":"success","g":{"k":1}`},
		{name: "the record's own target wins over the logger's, not mixed with it",
			with: func(l *slog.Logger) *slog.Logger { return l.With(Target("file", "a.txt"), Outcome(OutcomeSuccess)) },
			args: []any{Target("dir", "b"), Outcome(OutcomeFailure)},
			want: `"target.kind":"dir","target.id":"b","outcome":"failure"}`, absent: `a.txt`},
		{name: "on behalf of, nested in the identity", ctx: grace,
			want: `"user":{"id":"7","name":"grace","on_behalf_of":{"id":"42","name":"ada"}}`},
		{name: "on behalf of in the OTel preset, same place", ctx: grace, opts: &Options{Fields: OTelFields()},
			want: `"user":{"id":"7","name":"grace","on_behalf_of":{"id":"42","name":"ada"}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(NewHandler(newJSON(&buf, nil), c.opts))
			if c.with != nil {
				l = c.with(l)
			}
			ctx := context.Background()
			if !c.ctx.IsZero() {
				ctx = WithIdentity(ctx, c.ctx)
			}
			l.InfoContext(ctx, "m", append([]any{Event("e")}, c.args...)...)
			if got := buf.String(); !strings.Contains(got, c.want) || c.absent != "" && strings.Contains(got, c.absent) {
				t.Errorf("got  %s\nwant it to hold %s and not %q", got, c.want, c.absent)
			}
		})
	}
	// Other handlers write them readably too.
	var buf bytes.Buffer
	slog.New(newJSON(&buf, nil)).Info("m", Outcome(OutcomeFailure), Target("file", "a.txt"))
	if want := `"outcome":"failure","target.kind":{"kind":"file","id":"a.txt"}`; !strings.Contains(buf.String(), want) {
		t.Errorf("bare handler: got %s, want %s", buf.String(), want)
	}
	// A chain of OnBehalfOf, even a cycle, ends.
	a := &Identity{Name: "a"}
	a.OnBehalfOf = a
	if v := a.LogValue(); !strings.Contains(v.String(), "on_behalf_of") {
		t.Errorf("cyclic identity: %v", v)
	}
}

// Handler: siblings derived with With and WithGroup.

// TestSiblingsDoNotShare checks that handlers derived from one parent never
// see each other's attributes, the aliasing bug of append-based WithAttrs.
func TestSiblingsDoNotShare(t *testing.T) {
	var buf bytes.Buffer
	parent := slog.New(NewHandler(newJSON(&buf, nil), &Options{NoEventID: true})).
		WithGroup("g").With("p", 0)
	// Leave spare capacity in the parent's group attrs, where a naive append
	// would let siblings overwrite each other.
	a := parent.With("a", 1)
	b := parent.With("b", 2)
	ctx := context.Background()
	a.InfoContext(ctx, "m", Event("x"))
	b.InfoContext(ctx, "m", Event("x"))
	want := `{"level":"INFO","msg":"m","event":"x","g":{"p":0,"a":1}}` + "\n" +
		`{"level":"INFO","msg":"m","event":"x","g":{"p":0,"b":2}}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}

	c1 := With(context.Background(), "k", "base")
	c2 := With(c1, "a", 1)
	c3 := With(c1, "b", 2)
	for _, c := range []struct {
		ctx  context.Context
		want []slog.Attr
	}{{c1, []slog.Attr{slog.String("k", "base")}}, {c2, []slog.Attr{slog.String("k", "base"), slog.Int("a", 1)}}, {c3, []slog.Attr{slog.String("k", "base"), slog.Int("b", 2)}}} {
		got := bindingFrom(c.ctx).attrs
		if !attrsEqual(got, c.want) {
			t.Errorf("context attrs = %v, want %v", got, c.want)
		}
	}
}

// Handler: the fast path for records with nothing to redact.

// TestDirtyAttrAgreesWithRedaction checks the fast per-attribute check
// against the redaction it stands in for: an attribute it calls clean must
// come out of redaction unchanged, or the record would go out unredacted
// (and rewrite skips the attributes it cleared).
func TestDirtyAttrAgreesWithRedaction(t *testing.T) {
	var texts []string
	for _, c := range testsecrets.Positive {
		texts = append(texts, c.In)
	}
	for _, c := range testsecrets.Adversarial {
		texts = append(texts, c.In)
	}
	texts = append(texts, testsecrets.Negative...)
	keys := []string{"path", "password", "db_password", "X-Api-Key", "token_count", "author", "event", "", "pw", testsecrets.GitHub, "key postgres://u:pw9@h/db"}
	discard := slog.NewJSONHandler(io.Discard, nil)
	handlers := map[string]*Handler{
		"default":        NewHandler(discard, nil),
		"secret group":   NewHandler(discard, nil).WithGroup("credentials").(*Handler),
		"pattern":        NewHandler(discard, &Options{RedactPatterns: []*regexp.Regexp{regexp.MustCompile(`\d{3}-\d{2}-\d{4}`)}}),
		"allow password": NewHandler(discard, &Options{AllowKeys: []string{"password"}}),
		"migrating":      NewHandler(discard, &Options{Renames: []Rename{{Old: "path", New: "file_path"}}}),
	}
	checked := 0
	for name, h := range handlers {
		for _, k := range keys {
			for _, s := range append(texts, "123-45-6789", "plain") {
				for _, a := range []slog.Attr{
					slog.String(k, s), slog.Int(k, 1), slog.Any(k, errors.New(s)),
					slog.Any(k, map[string]string{"x": s}), slog.Group(k, slog.String("v", s)),
					slog.Any(k, Secret(s)), slog.Any(k, []byte(s)),
				} {
					redacted, changed := h.c.red.attr(a, h.secret)
					if h.c.red == nil {
						changed = false
					}
					if changed && !h.dirtyAttr(a, true) {
						t.Errorf("%s: dirtyAttr(%v) = false, but redaction gives %v", name, a, redacted)
					}
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no attribute checked")
	}
}

// TestFastPathMatchesRewrite compares each record written through
// the fast path (Handle's check, rewrite skipping what it cleared) with the
// same record forced through a full rewrite (ContextAttrs returning a
// non-nil empty slice), and checks no raw secret is written.
func TestFastPathMatchesRewrite(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cfg := range handlerConfigs() {
		for _, text := range []bool{false, true} {
			var fastBuf, fullBuf bytes.Buffer
			mk := func(buf *bytes.Buffer) slog.Handler {
				if text {
					return slog.NewTextHandler(buf, nil)
				}
				return slog.NewJSONHandler(buf, nil)
			}
			fastOpts := cfg.opts
			fastOpts.OnDeprecatedKey = func(Rename, slog.Source) {}
			fullOpts := fastOpts
			fullOpts.ContextAttrs = func(context.Context) []slog.Attr { return []slog.Attr{} }
			fast := cfg.derive(slog.New(NewHandler(mk(&fastBuf), &fastOpts))).Handler()
			full := cfg.derive(slog.New(NewHandler(mk(&fullBuf), &fullOpts))).Handler()
			for iter := 0; iter < 600; iter++ {
				r, raws := randomRecord(rng, cfg.keySecrets)
				fastBuf.Reset()
				fullBuf.Reset()
				mustHandle(t, fast, r.Clone())
				mustHandle(t, full, r.Clone())
				got := eventIDJSON.ReplaceAllString(fastBuf.String(), "ID")
				want := eventIDJSON.ReplaceAllString(fullBuf.String(), "ID")
				got = regexp.MustCompile(`event_id=[0-9a-f]{32}`).ReplaceAllString(got, "ID")
				want = regexp.MustCompile(`event_id=[0-9a-f]{32}`).ReplaceAllString(want, "ID")
				if got != want {
					t.Errorf("%s text=%v: fast path\n%s\nfull rewrite\n%s", cfg.name, text, got, want)
				}
				for _, raw := range raws {
					if strings.Contains(got, raw) {
						t.Errorf("%s text=%v: secret %q leaked:\n%s", cfg.name, text, raw, got)
					}
				}
				if strings.Contains(cfg.name, "patterns") && strings.Contains(got, "SSN-123") {
					t.Errorf("%s: pattern leaked:\n%s", cfg.name, got)
				}
				if t.Failed() {
					return
				}
			}
		}
	}
}

type noteStruct struct {
	Name  string
	Note  string
	Count int
}

type textErr struct{ s string }

func (e textErr) Error() string { return e.s }

// randomCleanAttr returns an attribute with nothing to redact.
func randomCleanAttr(rng *rand.Rand, i int) slog.Attr {
	k := fmt.Sprintf("k%d", i)
	switch rng.IntN(8) {
	case 0:
		return slog.String(k, "ordinary text value")
	case 1:
		return slog.Int(k, i)
	case 2:
		return slog.Group(k, slog.String("a", "b"), slog.Bool("c", true))
	case 3:
		return slog.Any(k, map[string]string{"x": "y"})
	case 4:
		return slog.Any(k, errors.New("plain failure"))
	case 5:
		return slog.Any(k, noteStruct{Name: "n", Note: "fine", Count: 2})
	case 6:
		return slog.Duration(k, time.Second)
	default:
		return slog.String("path", "/api/v1/users")
	}
}

// randomSecretAttr returns an attribute holding secret s in some form.
func randomSecretAttr(rng *rand.Rand, i int, s string) slog.Attr {
	k := fmt.Sprintf("d%d", i)
	switch rng.IntN(10) {
	case 0:
		return slog.String(k, "see "+s+" here")
	case 1:
		return slog.Group(k, slog.String("inner", s))
	case 2:
		return slog.Any(k, map[string]string{"x": s})
	case 3:
		return slog.Any(k, map[string]any{"x": []any{s}})
	case 4:
		return slog.Any(k, fmt.Errorf("wrapped: %w", errors.New(s)))
	case 5:
		return slog.Any(k, noteStruct{Name: "n", Note: s})
	case 6:
		return slog.Any(k, tokenValuer{s})
	case 7:
		return slog.Any(k, textErr{s})
	case 8:
		return slog.String(s, "value under a secret-shaped key")
	default:
		return slog.Any(k, []byte(s))
	}
}

type handlerConfig struct {
	name   string
	opts   Options
	derive func(*slog.Logger) *slog.Logger
	// keySecrets is false when the configuration allows the secret keys.
	keySecrets bool
}

func handlerConfigs() []handlerConfig {
	pat := []*regexp.Regexp{regexp.MustCompile(`SSN-\d{3}-\d{4}`)}
	id := func(l *slog.Logger) *slog.Logger { return l }
	return []handlerConfig{
		{name: "default", derive: id, keySecrets: true},
		{name: "group g", derive: func(l *slog.Logger) *slog.Logger { return l.WithGroup("g") }, keySecrets: true},
		{name: "secret group", derive: func(l *slog.Logger) *slog.Logger { return l.WithGroup("credentials") }, keySecrets: true},
		{name: "nested secret group", derive: func(l *slog.Logger) *slog.Logger {
			return l.WithGroup("credentials").With("x", 1).WithGroup("inner")
		}, keySecrets: true},
		{name: "with attrs", derive: func(l *slog.Logger) *slog.Logger { return l.With("svc", "api", "n", 3) }, keySecrets: true},
		{name: "with group attrs", derive: func(l *slog.Logger) *slog.Logger { return l.With("svc", "api").WithGroup("req").With("id", 7) }, keySecrets: true},
		{name: "patterns", opts: Options{RedactPatterns: pat}, derive: id, keySecrets: true},
		{name: "patterns+group", opts: Options{RedactPatterns: pat}, derive: func(l *slog.Logger) *slog.Logger { return l.WithGroup("g") }, keySecrets: true},
		{name: "allow password", opts: Options{AllowKeys: []string{"password"}}, derive: id},
		{name: "redact keys", opts: Options{RedactKeys: []string{"pin", "k3"}}, derive: id, keySecrets: true},
		{name: "one-byte redact key", opts: Options{RedactKeys: []string{"q"}}, derive: id, keySecrets: true},
		{name: "marker ***", opts: Options{RedactMarker: "***"}, derive: id, keySecrets: true},
		{name: "marker x", opts: Options{RedactMarker: "x"}, derive: id, keySecrets: true},
		{name: "marker space", opts: Options{RedactMarker: " "}, derive: id, keySecrets: true},
		{name: "marker alnum", opts: Options{RedactMarker: "REDACTED"}, derive: id, keySecrets: true},
		{name: "marker brackets", opts: Options{RedactMarker: "[]"}, derive: id, keySecrets: true},
		{name: "renames", opts: Options{Renames: []Rename{{Old: "path", New: "file_path"}, {Old: "pw", New: "password"}}}, derive: id, keySecrets: true},
		{name: "renames+group", opts: Options{Renames: []Rename{{Old: "path", New: "file_path"}}}, derive: func(l *slog.Logger) *slog.Logger { return l.WithGroup("g") }, keySecrets: true},
		{name: "legacy", opts: Options{Legacy: []Legacy{{Event: "login", Fields: []LegacyField{{Key: "d0"}, {Key: "k1"}}}}}, derive: id, keySecrets: true},
	}
}

// randomRecord builds a random record; it returns the raw secrets in it.
func randomRecord(rng *rand.Rand, keySecrets bool) (slog.Record, []string) {
	var raws []string
	msg := "request handled"
	if rng.IntN(6) == 0 {
		s := testsecrets.Shapes[rng.IntN(len(testsecrets.Shapes))]
		msg = "failed with " + s.Text
		raws = append(raws, s.Raw)
	}
	if rng.IntN(10) == 0 {
		msg = "SSN-123-4567 seen" // only for pattern configurations
	}
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, msg, 0)
	n := rng.IntN(14)
	for i := 0; i < n; i++ {
		switch x := rng.IntN(10); {
		case x < 6:
			r.AddAttrs(randomCleanAttr(rng, i))
		case x < 8:
			s := testsecrets.Shapes[rng.IntN(len(testsecrets.Shapes))]
			r.AddAttrs(randomSecretAttr(rng, i, s.Text))
			raws = append(raws, s.Raw)
		case x < 9:
			if rng.IntN(2) == 0 {
				r.AddAttrs(Event("login"))
			} else {
				r.AddAttrs(slog.Any(fmt.Sprintf("sec%d", i), Secret("TopSecretValue9x")))
				raws = append(raws, "TopSecretValue9x")
			}
		default:
			r.AddAttrs(slog.String("password", "hunter2Hunter2"))
			if keySecrets {
				raws = append(raws, "hunter2Hunter2")
			}
		}
	}
	return r, raws
}

func mustHandle(t *testing.T, h slog.Handler, r slog.Record) {
	t.Helper()
	if err := h.Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

var eventIDJSON = regexp.MustCompile(`"event_id":"[0-9a-f]{32}"`)

// keyClassConfigs are the configurations the key classes are checked
// under: each changes what some key asks of the Handler.
func keyClassConfigs() map[string]*Options {
	return map[string]*Options{
		"default":    nil,
		"ecs":        {Fields: ECSFields()},
		"otel":       {Fields: OTelFields()},
		"redact pin": {RedactKeys: []string{"pin"}},
		"allow csrf": {AllowKeys: []string{"csrf_token"}},
		"pattern":    {RedactPatterns: []*regexp.Regexp{regexp.MustCompile(`acct-[0-9]+`)}},
		"renames":    {Renames: []Rename{{Old: "log_class", New: "class"}}},
		"off":        {DisableRedaction: true},
	}
}

// referenceClass is classify without its memory.
func referenceClass(c *config, key string) keyClass {
	if c.red == nil {
		return keyOther
	}
	return c.classOf(key)
}

// TestRememberedAnswers checks what a Handler remembers, under
// configurations that change it, the first time (when it is worked out)
// and again (when it is looked up): the class of a key (class), and
// whether redaction leaves a message or an event name as it is (clean).
func TestRememberedAnswers(t *testing.T) {
	class := func(c *config, s string) any { return c.classify(s) }
	clean := func(c *config, s string) any { return c.cleanText(s) }
	for _, tc := range []struct {
		ask    func(*config, string) any
		config string
		in     string
		want   any
	}{
		{class, "default", "path", keyPlain},
		{class, "default", "file_size_bytes", keyPlain},
		{class, "default", "content_type", keyPlain},
		{class, "default", "", keyPlain},
		{class, "default", "password", keySecret},
		{class, "default", "Authorization", keySecret},
		{class, "default", "X-Api-Key", keySecret},
		{class, "default", "db_password", keySecret},
		{class, "default", "user", keyOther},
		{class, "default", "user.name", keyOther},
		{class, "default", "event", keyOther},
		{class, "default", "event_id", keyOther},
		{class, "default", "token=ghp_" + strings.Repeat("a1B2", 9), keyOther},
		{class, "default", "pin", keyPlain},
		{class, "redact pin", "pin", keySecret},
		{class, "redact pin", "user_pin", keySecret},
		{class, "default", "csrf_token", keySecret},
		{class, "allow csrf", "csrf_token", keyPlain},
		{class, "pattern", "acct-123", keyOther},
		{class, "pattern", "acct", keyPlain},
		{class, "renames", "log_class", keyOther},
		{class, "renames", "class", keyOther},
		{class, "default", "class", keyPlain},
		{class, "ecs", "event.action", keyOther},
		{class, "ecs", "event.id", keyOther},
		{class, "ecs", "event", keyOther},
		{class, "ecs", "user.name", keyOther},
		{class, "off", "path", keyOther},
		{class, "off", "password", keyOther},
		{clean, "default", "file listed", true},
		{clean, "default", "The uploaded file was stored and its checksum verified", true},
		{clean, "default", "login with password=hunter2", false},
		{clean, "default", "Authorization: Bearer abcdef0123456789abcdef", false},
		{clean, "pattern", "acct-123 closed", false},
		{clean, "default", "acct-123 closed", true},
		{clean, "off", "login with password=hunter2", true},
		{clean, "default", strings.Repeat("x", 200) + " password=hunter2", false},
	} {
		t.Run(tc.config+"/"+tc.in, func(t *testing.T) {
			c := NewHandler(slog.NewJSONHandler(io.Discard, nil), keyClassConfigs()[tc.config]).c
			for _, when := range []string{"first", "again"} {
				if got := tc.ask(c, tc.in); got != tc.want {
					t.Errorf("%s: %q gives %v, want %v", when, tc.in, got, tc.want)
				}
			}
		})
	}
}

// FuzzKeyClasses checks, for fuzzed keys and texts under every
// configuration of keyClassConfigs, that what the Handler remembers never
// changes its answer: the class of a key and the cleanness of a text are
// those of the checks they stand for, the first time, when they are worked
// out, and after, when they are looked up among all the inputs before.
func FuzzKeyClasses(f *testing.F) {
	for _, s := range []string{"path", "password", "user", "event.action", "pin", "Authorization",
		"token=ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "acct-1", "log_class", "password=hunter2 x"} {
		f.Add(s, s)
	}
	// Shared by every input, so that each is checked against memories
	// filled by all the inputs before it.
	configs := map[string]*config{}
	for name, opts := range keyClassConfigs() {
		configs[name] = NewHandler(slog.NewJSONHandler(io.Discard, nil), opts).c
	}
	f.Fuzz(func(t *testing.T, key, text string) {
		for name, c := range configs {
			want := referenceClass(c, key)
			wantClean := c.red == nil || !c.red.dirtyString(text)
			for i := 0; i < 2; i++ {
				if got := c.classify(key); got != want {
					t.Fatalf("%s: call %d: classify(%q) = %d, want %d", name, i, key, got, want)
				}
				if got := c.cleanText(text); got != wantClean {
					t.Fatalf("%s: call %d: cleanText(%q) = %v, want %v", name, i, text, got, wantClean)
				}
				// A key that differs from one remembered in one byte
				// only is worked out on its own.
				if len(key) > 0 {
					other := key[:len(key)/2] + string(key[len(key)/2]^1) + key[len(key)/2+1:]
					if got, want := c.classify(other), referenceClass(c, other); got != want {
						t.Fatalf("%s: classify(%q) = %d after %q, want %d", name, other, got, key, want)
					}
				}
			}
		}
	})
}

// Handler: bad input.

// panicker is a LogValuer that panics.
type panicker struct{}

func (panicker) LogValue() slog.Value { panic("boom") }

type cyclic struct {
	Name string
	Next *cyclic
}

// TestBadInput checks that no input panics or loses the record.
func TestBadInput(t *testing.T) {
	loop := &cyclic{Name: "loop"}
	loop.Next = loop
	huge := strings.Repeat("x", 1<<20)
	var nilCtx context.Context
	tests := []struct {
		name string
		ctx  context.Context
		args []any
	}{
		{"nil context", nilCtx, []any{"k", 1}},
		{"nil context with event", nilCtx, []any{Event("e")}},
		{"panicking LogValuer", context.Background(), []any{"v", panicker{}}},
		{"panicking LogValuer with event", context.Background(), []any{Event("e"), "v", panicker{}}},
		{"cyclic value", context.Background(), []any{Event("e"), "v", loop}},
		{"invalid UTF-8", context.Background(), []any{Event("e\xff"), "v\xfe", "\xc3\x28"}},
		{"huge value", context.Background(), []any{Event("e"), "v", huge}},
		{"nil values", context.Background(), []any{Event("e"), "a", nil, "b", (*cyclic)(nil), "c", error(nil), "d", slog.LogValuer(nil)}},
		{"nil context via With", With(nilCtx, "k", "v"), []any{"x", 1}},
	}
	for _, tt := range tests {
		for _, hh := range []struct {
			name string
			new  func(*bytes.Buffer, slog.Leveler) slog.Handler
		}{{"json", newJSON}, {"text", newText}} {
			t.Run(hh.name+"/"+tt.name, func(t *testing.T) {
				var buf bytes.Buffer
				h := NewHandler(hh.new(&buf, nil), nil)
				r := slog.NewRecord(frozen, slog.LevelInfo, "still here", 0)
				r.Add(tt.args...)
				_ = h.Handle(tt.ctx, r)
				if !strings.Contains(buf.String(), "still here") {
					t.Errorf("record lost; output: %.300s", buf.String())
				}
			})
		}
	}
}

type valuerFunc func() slog.Value

func (f valuerFunc) LogValue() slog.Value { return f() }

// A 32-byte hash, the result type of sha256.Sum256.
type hash32 [32]byte

// TestUnusualValuesDoNotPanic: bad or merely unusual values must never panic nor lose
// the record (SPEC item 7).
func TestUnusualValuesDoNotPanic(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	tests := []struct {
		name string
		v    any
	}{
		{"sha256.Sum256 result ([32]byte)", sum},
		{"named byte array", hash32(sum)},
		{"struct holding a byte array", struct{ H [4]byte }{[4]byte{1, 2, 3, 4}}},
		{"[]any holding a byte array", []any{[2]byte{1, 2}}},
		{"pointer to byte array", &sum},
		{"nil func", (func())(nil)},
		{"chan", make(chan int)},
		{"map with struct keys", map[struct{ A int }]string{{1}: "x"}},
		{"invalid UTF-8", "\xff\xfeBearer \xff" + alnumSecret},
	}
	for _, tt := range tests {
		for _, format := range []string{"json", "text"} {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				out := logThrough(t, format, nil, func(l *slog.Logger) { l.Info("m", "v", tt.v) })
				if out == "" {
					t.Errorf("record lost")
				}
			})
		}
	}
}

// TestCyclicMapDoesNotCrash runs in a child process: a map[string]any that holds
// itself sends anyMap into unbounded recursion, and a Go stack overflow is
// fatal, so it cannot be recovered in-process.
func TestCyclicMapDoesNotCrash(t *testing.T) {
	if os.Getenv("AUDIT_TEST_CHILD") == "cyclicmap" {
		m := map[string]any{"name": "loop"}
		m["self"] = m
		debug.SetMaxStack(64 << 20) // overflow sooner; the verdict is the same
		var buf bytes.Buffer
		jsonLogger(&buf, nil).Info("m", "m", m)
		fmt.Print("CHILD-OK")
		return
	}
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCyclicMapDoesNotCrash$", "-test.v")
	cmd.Env = append(os.Environ(), "AUDIT_TEST_CHILD=cyclicmap")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("CHILD-OK")) {
		first := out
		if i := bytes.Index(out, []byte("\n\n")); i > 0 {
			first = out[:i]
		}
		t.Errorf("logging a self-referencing map[string]any crashed the process (%v):\n%s", err, first)
	}
}

// Handler: concurrency.

// TestConcurrent shares derived loggers between many goroutines, each with
// its own context, and checks that no goroutine's context reaches another's
// record. Run it with -race.
func TestConcurrent(t *testing.T) {
	var buf lockedBuffer
	root := jsonLogger(&buf, nil)
	loggers := []*slog.Logger{root, root.With("a", 1), root.WithGroup("g"), root.With(Event("bound")).WithGroup("h").With("b", 2)}
	const goroutines, records = 32, 50
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ctx := WithIdentity(With(context.Background(), "gid", g), Identity{ID: fmt.Sprint(g)})
			for i := 0; i < records; i++ {
				l := loggers[(g+i)%len(loggers)]
				if i%3 == 0 {
					l = l.With("i", i) // derive while others log
				}
				l.InfoContext(ctx, "m", Event("e"), "mine", g)
			}
		}(g)
	}
	wg.Wait()
	ls := lines(t, buf.Bytes(), false)
	if len(ls) != goroutines*records {
		t.Fatalf("got %d records, want %d", len(ls), goroutines*records)
	}
	for _, m := range ls {
		mine := m["mine"]
		if mine == nil {
			for _, v := range m {
				if g, ok := v.(map[string]any); ok && g["mine"] != nil {
					mine = g["mine"]
				}
			}
		}
		user, _ := m["user"].(map[string]any)
		if m["gid"] != mine || user == nil || user["id"] != fmt.Sprint(mine) {
			t.Fatalf("record mixes goroutines: %v", m)
		}
	}
}

// TestConcurrentRedaction hammers one handler tree, the struct-field cache and
// the once-per-site deprecation reports from many goroutines; run with
// -race.
func TestConcurrentRedaction(t *testing.T) {
	var mu sync.Mutex
	reports := map[string]int{}
	var buf lockedBuffer
	h := NewHandler(slog.NewJSONHandler(&buf, nil), &Options{
		Renames: []Rename{{Old: "log_event_type", New: "message_slug"}},
		OnDeprecatedKey: func(r Rename, s slog.Source) {
			mu.Lock()
			reports[fmt.Sprint(r.Old, s.Line)]++
			mu.Unlock()
		},
	})
	root := slog.New(h)
	type T1 struct {
		A, Password string
		N           *T1
	}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			l := root.With("g", g).WithGroup(fmt.Sprint("grp", g%3))
			ctx := With(WithIdentity(context.Background(), Identity{Name: "ada"}), "tenant", g)
			for i := 0; i < 200; i++ {
				l2 := l.With("i", i)
				l2.InfoContext(ctx, "m", Event("e"), "log_event_type", "x", "v", T1{A: "a", Password: alnumSecret, N: &T1{}},
					"m", map[string]any{"token": alnumSecret})
				if i%2 == 0 {
					l2.WithGroup("credentials").Info("m", "x", alnumSecret)
				}
			}
		}(g)
	}
	wg.Wait()
	if strings.Contains(buf.String(), alnumSecret) {
		t.Errorf("secret leaked under concurrency")
	}
	mu.Lock()
	defer mu.Unlock()
	for site, n := range reports {
		if n != 1 {
			t.Errorf("deprecation at %s reported %d times", site, n)
		}
	}
}

// TestConcurrentMasking shares handlers across goroutines (run with -race):
// the stack buffer and the masker's array must not be shared.
func TestConcurrentMasking(t *testing.T) {
	var buf lockedBuffer
	l := jsonLogger(&buf, &Options{Renames: []Rename{{Old: "path", New: "file_path"}}, OnDeprecatedKey: func(Rename, slog.Source) {}}).
		WithGroup("g").With("k", 1)
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func(g int) {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 200; i++ {
				args := []any{"path", "/x", "i", i}
				for j := 0; j < 10; j++ {
					args = append(args, fmt.Sprintf("a%d", j), "postgres://u:Pw9xQz7Lk2@h/db "+testsecrets.GitHub+" "+testsecrets.AWSKey+" "+testsecrets.JWT+" "+testsecrets.NPM)
				}
				l.Info("m", args...)
			}
		}(g)
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	out := buf.String()
	for _, raw := range []string{"Pw9xQz7Lk2", testsecrets.GitHub, testsecrets.AWSKey, testsecrets.JWTSig, testsecrets.NPM} {
		if strings.Contains(out, raw) {
			t.Fatalf("%q leaked", raw)
		}
	}
	if n := strings.Count(out, "\n"); n != 8*200 {
		t.Errorf("%d records; want %d", n, 8*200)
	}
}

// Handler: writing. A record the wrapped handler cannot write is never
// lost silently, and no hook can take a record down.

// TestContextAttrsSliceNotWritten checks that the slice ContextAttrs
// returns is only read: a hook may return the same slice to every record,
// from any number of goroutines, and it must stay as it was.
func TestContextAttrsSliceNotWritten(t *testing.T) {
	for _, c := range []struct {
		name  string
		attrs []slog.Attr
	}{
		{"a secret key", []slog.Attr{slog.String("svc", "api"), slog.String("password", "p")}},
		{"a LogValuer", []slog.Attr{slog.Any("v", inlineValuer{slog.Int("n", 1)})}},
		{"an empty-key LogValuer", []slog.Attr{slog.Any("", inlineValuer{slog.Int("n", 1)})}},
		{"a key of the audit's own", []slog.Attr{slog.String(EventIDKey, "x")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			shared := slices.Clone(c.attrs)
			l := slog.New(NewHandler(slog.NewJSONHandler(io.Discard, nil), &Options{
				ContextAttrs: func(context.Context) []slog.Attr { return shared },
			}))
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 50 {
						l.Info("m", Event("e"))
					}
				}()
			}
			wg.Wait()
			if fmt.Sprint(shared) != fmt.Sprint(c.attrs) {
				t.Errorf("the hook's slice was written: %v, want %v", shared, c.attrs)
			}
		})
	}
}

func TestWriteFailures(t *testing.T) {
	for _, c := range []struct {
		name     string
		log      func(l *slog.Logger)
		event    bool // the failed record has an event and an id
		fallback string
	}{
		{name: "plain record", log: func(l *slog.Logger) { l.Info("fail plain", "k", 1) },
			fallback: `"msg":"fail plain","k":1`},
		{name: "audit record", log: func(l *slog.Logger) {
			l.InfoContext(WithIdentity(context.Background(), Identity{Name: "ada"}), "fail upload", Event("file.upload"))
		}, event: true, fallback: `"msg":"fail upload","event":"file.upload","event_id":`},
		{name: "under groups, with a secret", log: func(l *slog.Logger) {
			l.With("a", 1).WithGroup("g").Info("fail login", Event("auth.login"), "password", "hunter2")
		}, event: true, fallback: `"event":"auth.login","event_id":`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, fb bytes.Buffer
			var got []WriteError
			h := NewHandler(failingHandler{Handler: newJSON(&out, nil)}, &Options{
				Fallback:     &fb,
				OnWriteError: func(e WriteError) { got = append(got, e) },
			})
			l := slog.New(h)
			c.log(l)
			l.Info("ok")
			if len(got) != 1 {
				t.Fatalf("OnWriteError called %d times, want once", len(got))
			}
			e := got[0]
			if !errors.Is(e.Err, errSink) || !strings.HasPrefix(e.Message, "fail") {
				t.Errorf("WriteError = %+v, want the sink's error and the record's message", e)
			}
			if c.event != (e.Event != "" && idPattern.MatchString(e.EventID)) {
				t.Errorf("WriteError event %q id %q, want them set: %v", e.Event, e.EventID, c.event)
			}
			if !strings.Contains(fb.String(), c.fallback) || strings.Count(fb.String(), "\n") != 1 {
				t.Errorf("fallback got %q, want one JSON line holding %s", fb.String(), c.fallback)
			}
			if c.event && !strings.Contains(fb.String(), e.EventID) {
				t.Errorf("fallback %q lacks the event id %s", fb.String(), e.EventID)
			}
			if st := h.Stats(); st != (Stats{Written: 1, Failed: 1}) {
				t.Errorf("Stats = %+v, want 1 written, 1 failed", st)
			}
			if strings.Contains(out.String()+fb.String(), "hunter2") {
				t.Error("a secret reached an output")
			}
		})
	}
}

func TestWriteFailureHandleReturnsError(t *testing.T) {
	h := NewHandler(failingHandler{Handler: slog.NewJSONHandler(io.Discard, nil), every: true}, &Options{
		Fallback:     failingWriter{},
		OnWriteError: func(WriteError) { panic("callback bug") },
	})
	err := h.Handle(context.Background(), slog.NewRecord(frozen, slog.LevelInfo, "m", 0))
	for _, want := range []string{"sink down", "audit: fallback: disk full", "audit: OnWriteError panicked: callback bug"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Handle error = %v, want it to hold %q", err, want)
		}
	}
}

// TestWriteFailureFallbackPanics checks that a Fallback writer that panics
// is a hook like the others: the log call does not panic, OnWriteError
// still hears of the record, and Handle's error says what happened.
func TestWriteFailureFallbackPanics(t *testing.T) {
	for _, c := range []struct {
		name    string
		onError func(WriteError)
		want    []string // in Handle's error
	}{
		{"Fallback panics", nil, []string{"sink down", "audit: fallback panicked: fallback bug"}},
		{"Fallback and OnWriteError panic", func(WriteError) { panic("callback bug") },
			[]string{"sink down", "audit: fallback panicked: fallback bug", "audit: OnWriteError panicked: callback bug"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var heard []WriteError
			onError := c.onError
			if onError == nil {
				onError = func(e WriteError) { heard = append(heard, e) }
			}
			h := NewHandler(failingHandler{Handler: slog.NewJSONHandler(io.Discard, nil), every: true}, &Options{
				Fallback:     panickingWriter{},
				OnWriteError: onError,
			})
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("the log call panicked: %v", p)
					}
				}()
				err = h.Handle(context.Background(), slog.NewRecord(frozen, slog.LevelInfo, "m", 0))
			}()
			for _, want := range c.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Handle error = %v, want it to hold %q", err, want)
				}
			}
			if c.onError == nil && (len(heard) != 1 || !errors.Is(heard[0].Err, errSink)) {
				t.Errorf("OnWriteError heard %+v, want the record once, with the sink's error", heard)
			}
			if st := h.Stats(); st.Failed != 1 {
				t.Errorf("Stats = %+v, want 1 failed", st)
			}
		})
	}
}

// TestWriteCountsUnderLoad logs from several goroutines through a writer
// failing about 1% of the time: written and failed add up to the records
// logged, and each failure reached the callback.
func TestWriteCountsUnderLoad(t *testing.T) {
	const goroutines, each = 8, 2000
	var written atomic.Int64
	var reported atomic.Int64
	h := NewHandler(failingHandler{Handler: slog.NewJSONHandler(io.Discard, nil), n: &written}, &Options{
		OnWriteError: func(WriteError) { reported.Add(1) },
	})
	l := slog.New(h)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 1))
			ctx := WithIdentity(context.Background(), Identity{Name: "ada"})
			for i := 0; i < each; i++ {
				msg := "ok"
				if rng.IntN(100) == 0 {
					msg = "fail"
				}
				l.InfoContext(ctx, msg, Event("e"), "i", i)
			}
		}(uint64(g))
	}
	wg.Wait()
	st := h.Stats()
	if st.Written+st.Failed != goroutines*each {
		t.Errorf("written %d + failed %d != %d logged", st.Written, st.Failed, goroutines*each)
	}
	if int64(st.Written) != written.Load() || int64(st.Failed) != reported.Load() || st.Failed == 0 {
		t.Errorf("Stats %+v; the sink wrote %d, the callback heard of %d failures", st, written.Load(), reported.Load())
	}
}

func TestHookPanics(t *testing.T) {
	for _, c := range []struct {
		name string
		opts *Options
		log  func(l *slog.Logger)
		want []string // in the one record written
	}{
		{"ContextAttrs", &Options{ContextAttrs: func(context.Context) []slog.Attr { panic("hook bug") }},
			func(l *slog.Logger) { l.Info("m", Event("e")) },
			[]string{`"event":"e"`, `"!AUDIT_ERROR":"audit: ContextAttrs panicked: hook bug"`}},
		{"Legacy.Render", &Options{Legacy: []Legacy{{Event: "e", Fields: []LegacyField{{Key: "code"}},
			Render: func(string, []slog.Attr) string { panic("render bug") }}}},
			func(l *slog.Logger) { l.Info("Evaluating", Event("e"), "code", "1+1") },
			[]string{`"msg":"Evaluating\n  code: 1+1"`, `"!AUDIT_ERROR":"audit: Legacy.Render panicked: render bug"`}},
		{"OnDeprecatedKey", &Options{Renames: []Rename{{Old: "old", New: "new"}},
			OnDeprecatedKey: func(Rename, slog.Source) { panic("report bug") }},
			func(l *slog.Logger) { l.Info("m", "old", 1) },
			[]string{`"event":"audit.deprecated_key"`, `"msg":"m","new":1,"old":1`}},
		{"nil RedactPatterns entry", &Options{RedactPatterns: []*regexp.Regexp{nil, regexp.MustCompile(`pin-\d+`)}},
			func(l *slog.Logger) { l.Info("m", "note", "pin-1234") },
			[]string{`"note":"[REDACTED]"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(NewHandler(newJSON(&buf, nil), c.opts))
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("the log call panicked: %v", p)
					}
				}()
				c.log(l)
			}()
			for _, w := range c.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("got %s\nwant it to hold %s", buf.String(), w)
				}
			}
		})
	}
}

// Handler: the default logger.

// TestDefaultLogger runs the one line users try first. A naive wrapper
// deadlocks log.Printf here, so it runs under a deadline.
func TestDefaultLogger(t *testing.T) {
	var buf bytes.Buffer
	logtest.CaptureLog(t, &buf, "app: ")

	done := make(chan struct{})
	go func() {
		defer close(done)
		slog.SetDefault(slog.New(NewHandler(slog.Default().Handler(), nil)))
		log.Printf("legacy caller %d", 1)
		slog.Info("new caller", Event("e"), "k", "v")
		slog.Debug("hidden")
		slog.SetLogLoggerLevel(slog.LevelDebug)
		slog.Debug("shown")
		slog.SetLogLoggerLevel(slog.LevelInfo)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: log.Printf through the default audit logger did not return")
	}
	got := regexp.MustCompile(`event_id=[0-9a-f]{32}`).ReplaceAllString(buf.String(), "event_id=ID")
	want := "app: INFO legacy caller 1\n" +
		"app: INFO new caller event=e event_id=ID k=v\n" +
		"app: DEBUG shown\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Handler: golden files.

// TestGolden writes a fixed set of audit records through both built-in
// handlers and compares them with testdata/core.golden. Regenerate with
// go test -run TestGolden -update.
func TestGolden(t *testing.T) {
	var buf bytes.Buffer
	for _, format := range []string{"json", "text"} {
		opts := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch {
			case groups == nil && a.Key == slog.TimeKey:
				return slog.Time(a.Key, frozen)
			case len(groups) == 0 && a.Key == EventIDKey:
				if !idPattern.MatchString(a.Value.String()) {
					t.Errorf("event id %q is not 32 hex digits", a.Value)
				}
				return slog.String(a.Key, "00000000000000000000000000000000")
			}
			return a
		}}
		var inner slog.Handler = slog.NewJSONHandler(&buf, opts)
		if format == "text" {
			inner = slog.NewTextHandler(&buf, opts)
		}
		goldenRecords(slog.New(NewHandler(inner, nil)))
	}
	checkGolden(t, "core.golden", buf.Bytes())
}

// goldenRecords logs the records of the core golden file.
func goldenRecords(l *slog.Logger) {
	ctx := WithIdentity(context.Background(), Identity{ID: "42", Name: "ada", Kind: "user"})
	ctx = With(ctx, "request_id", "req-7", "tenant", "acme")
	l.InfoContext(ctx, "File uploaded", Event("file.upload"), "filename", "a.txt", "size_bytes", 12345)
	l.With(Event("auth.login")).WarnContext(ctx, "Login failed", "reason", "wrong password")
	l.WithGroup("http").With("method", "GET").InfoContext(ctx, "request", Event("w/req"), "path", "/files")
	l.Info("no audit fields", "k", "v")
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// Handler: benchmarks. Each pairs the bare inner handler with the wrapper in
// the same run, so the wrapper's cost reads as a ratio (see README:
// Performance).

func benchLogger(h slog.Handler) *slog.Logger { return slog.New(h) }

// benchCase is one log call as the bare handler writes it and as the
// wrapper writes it (audit nil: the same call).
type benchCase struct {
	name  string
	bare  func(*slog.Logger)
	audit func(*slog.Logger)
	level slog.Level
	opts  *Options // for the wrapper
}

// benchCases are the calls the performance figures in the README are about:
// a record with no audit fields and no secret, a record with an event, an
// identity and a context attribute (bare: the same fields inline), a record
// with one secret key and one bearer token (bare: written raw), and a
// disabled record.
// plainRecord logs the record with no audit field and no secret that three
// of the cases share.
func plainRecord(l *slog.Logger) {
	l.LogAttrs(context.Background(), slog.LevelInfo, "file listed",
		slog.String("path", "/srv/files"), slog.Int("count", 12), slog.Bool("recursive", false),
		slog.Duration("took", 3*time.Millisecond), slog.String("content_type", "text/plain"))
}

func benchCases() []benchCase {
	ctx := WithIdentity(context.Background(), Identity{ID: "42", Name: "ada"})
	ctx = With(ctx, "request_id", "0f8fad5b-d9cb-469f-a165-70867728950e")
	const id = "5f0c6b3d2a1e4f7089abcdef01234567"
	return []benchCase{
		{
			name: "plain",
			bare: plainRecord,
		},
		{
			// The full audit record: event, event id, identity, one bound
			// attribute and five of the call's own; the bare handler gets
			// the same fields inline.
			name: "event",
			bare: func(l *slog.Logger) {
				l.LogAttrs(context.Background(), slog.LevelInfo, "The uploaded file was stored and its checksum verified",
					slog.String("event", "file.upload"), slog.String("event_id", id),
					slog.Group("user", slog.String("id", "42"), slog.String("name", "ada")),
					slog.String("request_id", "0f8fad5b-d9cb-469f-a165-70867728950e"),
					slog.String("filename", "quarterly-report-2026.pdf"), slog.Int("file_size_bytes", 482113),
					slog.String("content_type", "application/pdf"), slog.String("ip_address", "203.0.113.7"),
					slog.Duration("elapsed", 41*time.Millisecond))
			},
			audit: func(l *slog.Logger) {
				l.LogAttrs(ctx, slog.LevelInfo, "The uploaded file was stored and its checksum verified", Event("file.upload"),
					slog.String("filename", "quarterly-report-2026.pdf"), slog.Int("file_size_bytes", 482113),
					slog.String("content_type", "application/pdf"), slog.String("ip_address", "203.0.113.7"),
					slog.Duration("elapsed", 41*time.Millisecond))
			},
		},
		{
			// The plain record with redaction off: the core handler's own
			// cost, apart from redaction's.
			name: "plain-noredact",
			opts: &Options{DisableRedaction: true},
			bare: plainRecord,
		},
		{
			// The plain record through a handler configured for a
			// migration that this record has no part in.
			name: "plain-migrating",
			opts: &Options{
				Legacy:  []Legacy{evaluateLegacy},
				Renames: []Rename{{Old: "log_event_type", New: "message_slug"}, {Old: "log_class", New: "class"}},
			},
			bare: plainRecord,
		},
		{
			name: "secrets",
			bare: func(l *slog.Logger) {
				l.LogAttrs(context.Background(), slog.LevelInfo, "login",
					slog.String("user", "ada"), slog.String("password", "hunter2"),
					slog.String("header", "Authorization: Bearer abcdef0123456789abcdef"),
					slog.Int("attempt", 1), slog.String("ip", "203.0.113.7"))
			},
		},
		{
			// A service's record as it is really written: realistic keys
			// (size_bytes-like keys end in what looks like a secret
			// suffix to a naive check) and a sentence-long message.
			name: "upload",
			bare: func(l *slog.Logger) {
				l.LogAttrs(context.Background(), slog.LevelInfo, "The uploaded file was stored and its checksum verified",
					slog.String("filename", "quarterly-report-2026.pdf"), slog.Int("file_size_bytes", 482113),
					slog.String("content_type", "application/pdf"),
					slog.String("user_agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"),
					slog.String("ip_address", "203.0.113.7"), slog.Duration("elapsed", 41*time.Millisecond))
			},
		},
		{
			name:  "disabled",
			level: slog.LevelWarn,
			bare: func(l *slog.Logger) {
				l.LogAttrs(context.Background(), slog.LevelInfo, "file listed", slog.String("path", "/srv/files"))
			},
		},
	}
}

func BenchmarkHandler(b *testing.B) {
	for _, c := range benchCases() {
		audit := c.audit
		if audit == nil {
			audit = c.bare
		}
		bare := benchLogger(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: c.level}))
		wrapped := benchLogger(NewHandler(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: c.level}), c.opts))
		// handler=bare and handler=audit are benchstat keys:
		// benchstat -col /handler puts the two side by side.
		b.Run(c.name+"/handler=bare", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c.bare(bare)
			}
		})
		b.Run(c.name+"/handler=audit", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				audit(wrapped)
			}
		})
	}
}

// badArgs is a key-less value and a dangling key, hidden from vet's printf
// check, which rightly flags them in real code.
var badArgs = []any{42, "dangling"}

// BenchmarkRatio alternates short batches of the bare handler and the
// wrapper in one process and reports the median ratio of their times
// (wrapper/bare) as the "x-bare" metric. Shared, noisy machines disturb
// that median far less than they disturb two separate runs.
func BenchmarkRatio(b *testing.B) {
	for _, c := range benchCases() {
		audit := c.audit
		if audit == nil {
			audit = c.bare
		}
		bare := benchLogger(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: c.level}))
		wrapped := benchLogger(NewHandler(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: c.level}), c.opts))
		b.Run(c.name, func(b *testing.B) {
			b.ReportMetric(medianRatio(b, func() { c.bare(bare) }, func() { audit(wrapped) }), "x-bare")
		})
	}
}

// BenchmarkFloor measures, like BenchmarkRatio, three wrappers that do
// less than Handler can: the floors its figures stand on.
//
//   - pass forwards the record: the cost of any wrapper.
//   - scan forwards it after running the secret-shape prefilter alone
//     (firstAnchor, no rule, no matcher) over the message and every key
//     and string value: the least a check for secrets can read.
//   - copy rebuilds the record before forwarding it, as changing one
//     attribute requires: slog.Record has no way to replace one.
func BenchmarkFloor(b *testing.B) {
	for _, c := range []struct {
		name   string
		record int // index in benchCases
		scan   bool
		copy   bool
	}{
		{"pass/plain", 0, false, false},
		{"scan/plain", 0, true, false},
		{"copy/secrets", 4, false, true},
	} {
		bc := benchCases()[c.record]
		bare := benchLogger(slog.NewJSONHandler(io.Discard, nil))
		h := floorHandler{inner: slog.NewJSONHandler(io.Discard, nil), scan: c.scan, copy: c.copy, found: new(bool)}
		wrapped := benchLogger(h)
		b.Run(c.name, func(b *testing.B) {
			b.ReportMetric(medianRatio(b, func() { bc.bare(bare) }, func() { bc.bare(wrapped) }), "x-bare")
			if *h.found {
				b.Fatal("the record holds an anchor: the scan floor would leave out the matchers' work")
			}
		})
	}
}

// floorHandler is a wrapper for BenchmarkFloor.
type floorHandler struct {
	inner      slog.Handler
	scan, copy bool
	found      *bool // set when the scan finds an anchor
}

func (h floorHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h floorHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.inner = h.inner.WithAttrs(as)
	return h
}

func (h floorHandler) WithGroup(name string) slog.Handler {
	h.inner = h.inner.WithGroup(name)
	return h
}

func (h floorHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.scan {
		found := secretscan.FirstAnchor(r.Message) >= 0
		r.Attrs(func(a slog.Attr) bool {
			found = found || len(a.Key) >= secretscan.MinLen && secretscan.FirstAnchor(a.Key) >= 0 ||
				a.Value.Kind() == slog.KindString && secretscan.FirstAnchor(a.Value.String()) >= 0
			return true
		})
		*h.found = *h.found || found
	}
	if h.copy {
		var buf [8]slog.Attr
		attrs := buf[:0]
		r.Attrs(func(a slog.Attr) bool {
			attrs = append(attrs, a)
			return true
		})
		r2 := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
		r2.AddAttrs(attrs...)
		return h.inner.Handle(ctx, r2)
	}
	return h.inner.Handle(ctx, r)
}

// medianRatio runs b.N calls of each of bare and audit in alternating
// batches, swapping which goes first, and returns the median per-batch
// ratio of audit's time to bare's.
func medianRatio(b *testing.B, bare, audit func()) float64 {
	const batch = 500
	var ratios []float64
	run := func(f func(), n int) time.Duration {
		start := time.Now()
		for i := 0; i < n; i++ {
			f()
		}
		return time.Since(start)
	}
	for done, k := 0, 0; done < b.N; done, k = done+batch, k+1 {
		n := min(batch, b.N-done)
		var tb, ta time.Duration
		if k%2 == 0 {
			tb, ta = run(bare, n), run(audit, n)
		} else {
			ta, tb = run(audit, n), run(bare, n)
		}
		if tb > 0 {
			ratios = append(ratios, float64(ta)/float64(tb))
		}
	}
	if len(ratios) == 0 {
		return 0
	}
	slices.Sort(ratios)
	return ratios[len(ratios)/2]
}

// Context: With, WithIdentity, IdentityFrom.

func TestIdentity(t *testing.T) {
	tests := []struct {
		id   Identity
		want string
	}{
		{Identity{}, "[]"},
		{Identity{ID: "42"}, "[id=42]"},
		{Identity{ID: "42", Name: "ada", Email: "ada@example.com", Kind: "cli", Roles: []string{"admin"}},
			"[id=42 name=ada email=ada@example.com kind=cli roles=[admin]]"},
		{Identity{Email: "e@example.com"}, "[email=e@example.com]"},
	}
	for _, tt := range tests {
		if got := tt.id.LogValue().String(); got != tt.want {
			t.Errorf("%+v.LogValue() = %s, want %s", tt.id, got, tt.want)
		}
		if got, want := tt.id.IsZero(), tt.want == "[]"; got != want {
			t.Errorf("%+v.IsZero() = %v, want %v", tt.id, got, want)
		}
	}
	var nilCtx context.Context
	ctx := WithIdentity(nilCtx, Identity{ID: "1"})
	if got, ok := IdentityFrom(ctx); !ok || got.ID != "1" {
		t.Errorf("IdentityFrom = %+v, %v; want id 1, true", got, ok)
	}
	if _, ok := IdentityFrom(context.Background()); ok {
		t.Error("IdentityFrom(Background) reported an identity")
	}
	if _, ok := IdentityFrom(nilCtx); ok {
		t.Error("IdentityFrom(nil) reported an identity")
	}
}

// Redaction: by key.

func TestSecretKey(t *testing.T) {
	rd := newRedactor(&Options{})
	for key, want := range map[string]bool{
		"password": true, "PASSWORD": true, "db_password": true, "x-api-key": true, "X_API_KEY_": true, "set-cookie": true,
		"client.secret": true, "PrivateKey": true, "credential": true, "my token": true, "db_pwd": true, "pwd": false, "OLDPWD": false, "": false,
		"author": false, "token_count": false, "monkey": false, "primary_key": false, "passwordless": false, "_": false,
		"tokens_used": false, "key": false, "api": false, "a-p-i-k-e-y": true,
	} {
		if got := rd.secretKey(key); got != want {
			t.Errorf("secretKey(%q) = %v, want %v", key, got, want)
		}
	}
}

// TestSecretKeyFoldedOnEveryRoute checks the key rule of SPEC item 4 on the
// names it lists and on keys made secret only by Unicode folding or by
// dropping format characters, brackets and colons, on every route a key
// takes: an attribute, a map key, a struct's json tag, a WithGroup name and
// an http.Header key.
func TestSecretKeyFoldedOnEveryRoute(t *testing.T) {
	const secret = "Wk4hunter2Pz8s3cr3tQ"
	type fullwidthTag struct {
		X string `json:"ｐａｓｓｗｏｒｄ"`
	}
	routes := []struct {
		name string
		log  func(l *slog.Logger, key string)
	}{
		{"attribute", func(l *slog.Logger, key string) { l.Info("m", key, secret) }},
		{"map key", func(l *slog.Logger, key string) { l.Info("m", "m", map[string]string{key: secret}) }},
		{"WithGroup name", func(l *slog.Logger, key string) { l.WithGroup(key).Info("m", "a", secret) }},
		{"group name", func(l *slog.Logger, key string) { l.Info("m", slog.Group(key, "a", secret)) }},
		{"http.Header key", func(l *slog.Logger, key string) { l.Info("m", "h", http.Header{key: {secret}}) }},
	}
	for _, key := range []string{
		"session", "session_id", "passphrase", "X-Auth-Key", "user[password]", "secret_key", "aws_secret_access_key",
		"password_confirmation", "api:key",
		"ｐａｓｓｗｏｒｄ",         // fullwidth
		"PRIVATE_\u212AEY", // Kelvin sign
		"pass\u200bword",   // zero-width space
		"pass\u200dword",   // zero-width joiner
	} {
		for _, rt := range routes {
			t.Run(rt.name+"/"+key, func(t *testing.T) {
				var buf bytes.Buffer
				rt.log(slog.New(NewHandler(newJSON(&buf, nil), nil)), key)
				if strings.Contains(buf.String(), secret) {
					t.Errorf("secret under %q written: %s", key, buf.String())
				}
			})
		}
	}
	var buf bytes.Buffer
	slog.New(NewHandler(newJSON(&buf, nil), nil)).Info("m", "v", fullwidthTag{secret})
	if strings.Contains(buf.String(), secret) {
		t.Errorf("secret under a fullwidth json tag written: %s", buf.String())
	}
}

func TestRedact(t *testing.T) {
	loop := &node{Name: "loop", Password: secret}
	loop.Next = loop
	dbURL, _ := url.Parse("postgres://admin:" + secret + "@db:5432/app")
	tests := []struct {
		name string
		opts *Options
		with func(*slog.Logger) *slog.Logger
		ctx  func(context.Context) context.Context
		args []any
		want string // the JSON line without time and level
	}{
		// By key.
		{name: "key", args: []any{"password", secret, "login", "ada"},
			want: `"password":"[REDACTED]","login":"ada"`},
		{name: "key variants", args: []any{"Password", secret, "db_password", secret, "X-Api-Key", secret, "access_token", secret,
			"Set-Cookie", secret, "client_secret", secret, "private_key", secret, "Authorization", secret, "credentials", secret,
			"login.pwd", secret, "API KEY", secret, "secrets", secret, "cookies", secret, "passwd", secret, "id", 7},
			want: `"Password":"[REDACTED]","db_password":"[REDACTED]","X-Api-Key":"[REDACTED]","access_token":"[REDACTED]",` +
				`"Set-Cookie":"[REDACTED]","client_secret":"[REDACTED]","private_key":"[REDACTED]","Authorization":"[REDACTED]",` +
				`"credentials":"[REDACTED]","login.pwd":"[REDACTED]","API KEY":"[REDACTED]","secrets":"[REDACTED]","cookies":"[REDACTED]",` +
				`"passwd":"[REDACTED]","id":7`},
		{name: "RedactKeys hold inside text: a query parameter", opts: &Options{RedactKeys: []string{"pin"}},
			args: []any{"url", "https://bank.example/verify?pin=4921&account=7"},
			want: `"url":"https://bank.example/verify?pin=[REDACTED]&account=7"`},
		{name: "AllowKeys hold inside text: a query parameter", opts: &Options{AllowKeys: []string{"next_page_token"}},
			args: []any{"url", "https://api.example/items?next_page_token=abc123def&access_token=s3cr3tValue1"},
			want: `"url":"https://api.example/items?next_page_token=abc123def&access_token=[REDACTED]"`},
		{name: "non-string value under a secret key", args: []any{"pin_token", 123456, "expires", 3},
			want: `"pin_token":"[REDACTED]","expires":3`},
		{name: "key in nested group", args: []any{slog.Group("db", "host", "db1", slog.Group("auth", "password", secret))},
			want: `"db":{"host":"db1","auth":{"password":"[REDACTED]"}}`},
		{name: "group whose key is secret keeps its keys", args: []any{slog.Group("credentials", "user", secret, "pass", secret)},
			want: `"credentials":{"user":"[REDACTED]","pass":"[REDACTED]"}`},
		{name: "WithGroup whose name is secret", with: func(l *slog.Logger) *slog.Logger { return l.WithGroup("credentials") },
			args: []any{"user", secret, slog.Group("inner", "x", secret)},
			want: `"credentials":{"user":"[REDACTED]","inner":{"x":"[REDACTED]"}}`},
		{name: "WithGroup name holding a secret shape", with: func(l *slog.Logger) *slog.Logger {
			return l.WithGroup("postgres://admin:" + secret + "@db/app")
		}, args: []any{"a", 1}, want: `"postgres://admin:[REDACTED]@db/app":{"a":1}`},
		{name: "WithGroup secret, with event", with: func(l *slog.Logger) *slog.Logger { return l.WithGroup("secrets").With("a", secret) },
			args: []any{Event("e"), "b", secret},
			want: `"event":"e","secrets":{"a":"[REDACTED]","b":"[REDACTED]"}`},

		// Wherever it hides.
		{name: "With attrs", with: func(l *slog.Logger) *slog.Logger { return l.With("token", secret) },
			args: []any{"k", "v"}, want: `"token":"[REDACTED]","k":"v"`},
		{name: "With attrs in a group", with: func(l *slog.Logger) *slog.Logger { return l.WithGroup("g").With("api_key", secret) },
			args: []any{Event("e")}, want: `"event":"e","g":{"api_key":"[REDACTED]"}`},
		{name: "event bound by the logger", with: func(l *slog.Logger) *slog.Logger {
			return l.With(Event("db.connect postgres://admin:" + secret + "@db/app"))
		}, want: `"event":"db.connect postgres://admin:[REDACTED]@db/app"`},
		// Only an Event attribute at the top of the record, under its own
		// key, names the event; elsewhere its name is a string like any other.
		{name: "event value under another key", args: []any{slog.Attr{Key: "action", Value: Event("login Bearer " + secret).Value}},
			want: `"action":"login Bearer [REDACTED]"`},
		{name: "event value under another key, beside a secret", args: []any{"token", secret, slog.Attr{Key: "action", Value: Event("login Bearer " + secret).Value}},
			want: `"token":"[REDACTED]","action":"login Bearer [REDACTED]"`},
		{name: "event in a group", args: []any{slog.Group("g", Event("reset Bearer "+secret))},
			want: `"g":{"event":"reset Bearer [REDACTED]"}`},
		{name: "event in a secret group", args: []any{slog.Group("credentials", Event("reset"))},
			want: `"credentials":{"event":"[REDACTED]"}`},
		{name: "context-bound attrs", ctx: func(ctx context.Context) context.Context {
			return With(ctx, "session_cookie", secret, "tenant", "acme")
		},
			want: `"session_cookie":"[REDACTED]","tenant":"acme"`},
		{name: "ContextAttrs hook", opts: &Options{ContextAttrs: func(context.Context) []slog.Attr {
			return []slog.Attr{slog.String("auth_token", secret)}
		}}, want: `"auth_token":"[REDACTED]"`},
		{name: "LogValuer group", args: []any{"creds", credsValuer{"ada", secret}},
			want: `"creds":{"user":"ada","password":"[REDACTED]"}`},
		{name: "LogValuer under a secret key", args: []any{"token", tokenValuer{secret}},
			want: `"token":"[REDACTED]"`},
		{name: "LogValuer in a group", args: []any{slog.Group("g", "c", credsValuer{"ada", secret})},
			want: `"g":{"c":{"user":"ada","password":"[REDACTED]"}}`},
		{name: "Secret type", args: []any{"note", Secret(secret), "n", 1},
			want: `"note":"[REDACTED]","n":1`},
		{name: "Secret in a struct field", args: []any{"v", struct{ Label, Value any }{"x", Secret(secret)}},
			want: `"v":{"Label":"x","Value":"[REDACTED]"}`},
		{name: "map[string]string", args: []any{"form", map[string]string{"user": "ada", "password": secret}},
			want: `"form":{"password":"[REDACTED]","user":"ada"}`},
		{name: "map[string]any nested", args: []any{"req", map[string]any{"headers": map[string]any{"Authorization": secret, "Accept": "*/*"}, "n": 1}},
			want: `"req":{"headers":{"Accept":"*/*","Authorization":"[REDACTED]"},"n":1}`},
		{name: "map with non-string keys", args: []any{"m", map[int]any{2: map[string]string{"token": secret}, 1: "a"}},
			want: `"m":{"1":"a","2":{"token":"[REDACTED]"}}`},
		{name: "struct by json tag", args: []any{"form", loginForm{User: "ada", Pass: secret}},
			want: `"form":{"user":"ada","password":"[REDACTED]"}`},
		{name: "struct by Go name", args: []any{"client", apiClient{Endpoint: "https://api.example.com", APIKey: secret}},
			want: `"client":{"Endpoint":"https://api.example.com","k":"[REDACTED]"}`},
		{name: "pointer to struct", args: []any{"form", &loginForm{User: "ada", Pass: secret, Remember: true}},
			want: `"form":{"user":"ada","password":"[REDACTED]","remember":true}`},
		{name: "unexported fields fmt would print", args: []any{"c", hiddenCreds{"ada", secret}},
			want: `"c":"[REDACTED]"`},
		{name: "slice of structs", args: []any{"forms", []loginForm{{User: "a", Pass: secret}, {User: "b"}}},
			// Rewritten elements become maps (sorted keys); clean ones are
			// written by encoding/json as they were.
			want: `"forms":[{"password":"[REDACTED]","user":"a"},{"user":"b","password":""}]`},
		{name: "cycle holding a secret", args: []any{"n", loop},
			want: `"n":{"Name":"loop","Password":"[REDACTED]","Next":"[REDACTED]"}`},
		{name: "Stringer that puts the password back", args: []any{"db", dbURL},
			want: `"db":"postgres://admin:[REDACTED]@db:5432/app"`},

		// Options.
		{name: "RedactKeys", opts: &Options{RedactKeys: []string{"ssn"}}, args: []any{"customer_ssn", "078-05-1120", "name", "x"},
			want: `"customer_ssn":"[REDACTED]","name":"x"`},
		{name: "AllowKeys", opts: &Options{AllowKeys: []string{"csrf_token"}}, args: []any{"csrf-token", "abc", "token", secret},
			want: `"csrf-token":"abc","token":"[REDACTED]"`},
		{name: "RedactMarker", opts: &Options{RedactMarker: "***"}, args: []any{"password", secret},
			want: `"password":"***"`},
		{name: "RedactPatterns", opts: &Options{RedactPatterns: []*regexp.Regexp{regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`)}},
			args: []any{"note", "ssn 078-05-1120 on file"}, want: `"note":"ssn *** on file"`},
	}
	for _, tt := range tests {
		for _, format := range []string{"json", "text"} {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				var o Options
				if tt.opts != nil {
					o = *tt.opts
				}
				if o.RedactPatterns != nil && o.RedactMarker == "" {
					o.RedactMarker = "***"
				}
				got := logThrough(t, format, &o, func(l *slog.Logger) {
					if tt.with != nil {
						l = tt.with(l)
					}
					ctx := context.Background()
					if tt.ctx != nil {
						ctx = tt.ctx(ctx)
					}
					l.InfoContext(ctx, "m", tt.args...)
				})
				if strings.Contains(got, secret) {
					t.Fatalf("secret leaked: %s", got)
				}
				if format == "json" {
					want := `{"level":"INFO","msg":"m",` + tt.want + "}\n"
					if got != want {
						t.Errorf("got  %s\nwant %s", got, want)
					}
				}
			})
		}
	}
}

func TestDisableRedaction(t *testing.T) {
	var buf bytes.Buffer
	slog.New(NewHandler(newJSON(&buf, nil), &Options{DisableRedaction: true})).Info("m", "password", "plain", "s", Secret("x"))
	if want := `{"level":"INFO","msg":"m","password":"plain","s":"[REDACTED]"}` + "\n"; buf.String() != want {
		t.Errorf("got  %s\nwant %s", buf.String(), want)
	}
}

// Redaction: by type.

func TestSecretType(t *testing.T) {
	s := Secret(secret)
	js, _ := json.Marshal(map[string]any{"s": s, "p": &s})
	txt, _ := s.MarshalText()
	for name, got := range map[string]string{
		"%v": fmt.Sprintf("%v", s), "%s": fmt.Sprintf("%s", s), "%q": fmt.Sprintf("%q", s), "%#v": fmt.Sprintf("%#v", s),
		"%+v struct": fmt.Sprintf("%+v", struct{ S Secret }{s}), "%x": fmt.Sprintf("%x", s), "String": s.String(),
		"json": string(js), "MarshalText": string(txt), "LogValue": s.LogValue().String(), "Sprint": fmt.Sprint(s),
	} {
		if strings.Contains(got, secret) || !strings.Contains(got, Redacted) {
			t.Errorf("%s: got %q, want the marker and no secret", name, got)
		}
	}
}

// Redaction: by value, the shapes of secrets inside strings.

// TestRedactValueShapes: values that must be masked (the secret part must not
// survive) — near misses and boundary cases of secret-patterns.md.
func TestRedactValueShapes(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	tests := []struct{ in, secret string }{
		{"Authorization: bearer " + alnumSecret, alnumSecret},
		{"Authorization: BEARER " + alnumSecret, alnumSecret},
		{"Authorization: Bearer\t" + alnumSecret, alnumSecret},
		{"Authorization: Bearer   " + alnumSecret, alnumSecret},
		{"Authorization: Basic YWRtaW46aHVudGVyMg==", "YWRtaW46aHVudGVyMg"},
		{"Authorization: Token " + alnumSecret, alnumSecret},
		{"Authorization: Bearer " + jwt, "dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"},
		{"jwt=" + jwt + "==", "dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"},
		{"id_token%3D" + jwt, "dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"},
		{"alg none: eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.", "eyJzdWIiOiJhZG1pbiJ9"},
		{"k: -----BEGIN RSA PRIVATE KEY-----\r\nMIIEowIBAAKCAQEA" + alnumSecret + "\r\n-----END RSA PRIVATE KEY-----\r\n", alnumSecret},
		{"k: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk" + alnumSecret, alnumSecret},
		{"k: -----BEGIN ENCRYPTED PRIVATE KEY-----\n" + alnumSecret + "\n-----END ENCRYPTED PRIVATE KEY-----", alnumSecret},
		{"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + alnumSecret + "\n-----END PGP PRIVATE KEY BLOCK-----", alnumSecret},
		{"dsn=postgres://admin:p@ss" + alnumSecret + "@db:5432/app", alnumSecret},
		{"dsn=postgres://admin:p%40" + alnumSecret + "@db:5432/app", alnumSecret},
		{"dsn=redis://:" + alnumSecret + "@[::1]:6379/0", alnumSecret},
		{"dsn=mongodb+srv://u:" + alnumSecret + "@cluster0.example.net/?retryWrites=true", alnumSecret},
		{"remote https://x-access-token:" + alnumSecret + "@github.com/o/r.git", alnumSecret},
		{"remote https://" + alnumSecret + "@github.com/o/r.git", alnumSecret},
		{"HTTPS://U:" + alnumSecret + "@HOST", alnumSecret},
		{`{"url":"https://u:` + alnumSecret + `@h/x"}`, alnumSecret},
		{"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Signature=" + alnumSecret, alnumSecret},
		{"https://b.s3.amazonaws.com/k?x-amz-signature=" + alnumSecret + "&a=b", alnumSecret},
		{"https://acct.blob.core.windows.net/c/b?sv=2020&sig=" + alnumSecret, alnumSecret},
		{"https://storage.googleapis.com/b/o?X-Goog-Signature=" + alnumSecret, alnumSecret},
		{"aws AKIAIOSFODNN7EXAMPLE in text", "IOSFODNN7EXAMPLE"},
		{"AWS_ACCESS_KEY_ID=ASIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"},
		{"(A3TXIOSFODNN7EXAMPLE)", "IOSFODNN7EXAMPLE"},
		{"gh ghp_" + strings.Repeat("a1B2", 9), strings.Repeat("a1B2", 9)},
		{"github_pat_11ABCDEFG0" + strings.Repeat("x", 72), strings.Repeat("x", 72)},
		{"glpat-" + "abcdefghij0123456789", "abcdefghij0123456789"},
		{"xoxb-1234567890-1234567890123-" + alnumSecret, alnumSecret},
		{"xoxp-1234567890-1234567890-1234567890-" + alnumSecret, alnumSecret},
		{"https://hooks.slack.com/services/T00000000/B00000000/" + alnumSecret, alnumSecret},
		{"sk_live_" + alnumSecret, alnumSecret},
		{"key AIza" + "SyA-" + alnumSecret + "0123456789abcd", alnumSecret},
		{"npm_" + strings.Repeat("ab12", 9), strings.Repeat("ab12", 9)},
		// Near misses a real log holds.
		{"curl -H 'Authorization: Bearer " + alnumSecret + "'", alnumSecret},
		{`"Authorization":"Bearer ` + alnumSecret + `"`, alnumSecret},
		{"Authorization: Bearer\n" + alnumSecret, alnumSecret},
		{"redirect https://app.example.com/cb#access_token=" + alnumSecret + "&token_type=bearer", alnumSecret},
		{"https://api.example.com/v1?access_token=" + alnumSecret, alnumSecret},
		{"html <a href=\"https://b.s3.amazonaws.com/k?a=1&amp;X-Amz-Signature=" + alnumSecret + "\">", alnumSecret},
		{`json {"u":"https://b.s3.amazonaws.com/k?a=1\u0026X-Amz-Signature=` + alnumSecret + `"}`, alnumSecret},
		{"dsn=postgres://admin:pa/ss" + alnumSecret + "@db:5432/app", alnumSecret},
		{"dsn=redis://:pa#" + alnumSecret + "@redis:6379", alnumSecret},
		{"dsn=root:" + alnumSecret + "@tcp(127.0.0.1:3306)/app", alnumSecret},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			out := logThrough(t, "json", nil, func(l *slog.Logger) { l.Info("m", "v", tt.in) })
			if strings.Contains(out, tt.secret) {
				t.Errorf("not masked: %s", out)
			}
		})
	}
}

// TestRedactLateSecretInManyAttrs: more than 8 attributes (past the stack
// buffer) with the only secret last, and secrets in each position after a
// clean prefix of every length.
func TestRedactLateSecretInManyAttrs(t *testing.T) {
	for n := 0; n <= 20; n++ {
		for di, derive := range []func(*slog.Logger) *slog.Logger{
			func(l *slog.Logger) *slog.Logger { return l },
			func(l *slog.Logger) *slog.Logger { return l.WithGroup("g").With("z", 1) },
			func(l *slog.Logger) *slog.Logger { return l.WithGroup("credentials") },
		} {
			var buf bytes.Buffer
			l := jsonLogger(&buf, nil)
			l = derive(l)
			var args []any
			for i := 0; i < n; i++ {
				args = append(args, slog.Int(fmt.Sprintf("n%d", i), i))
			}
			args = append(args,
				slog.String("u", "https://u:Pw9xQz7Lk2@h/"),
				slog.String("ok", "fine"),
				slog.Any("lv", tokenValuer{"Bearer " + testsecrets.Bearer}),
				slog.String("gh", testsecrets.GitHub))
			l.Info("msg "+testsecrets.AWSKey, args...)
			out := buf.String()
			for _, raw := range []string{"Pw9xQz7Lk2", testsecrets.Bearer, testsecrets.GitHub, testsecrets.AWSKey} {
				if strings.Contains(out, raw) {
					t.Errorf("n=%d: %q leaked: %s", n, raw, out)
				}
			}
			if di < 2 && n > 0 && !strings.Contains(out, fmt.Sprintf(`"n%d":%d`, n-1, n-1)) {
				t.Errorf("n=%d: attribute lost: %s", n, out)
			}
		}
	}
}

// TestRedactContextBound: secrets bound to the context and the identity,
// with clean and dirty records, through plain and grouped loggers.
func TestRedactContextBound(t *testing.T) {
	var buf bytes.Buffer
	l := jsonLogger(&buf, nil)
	ctx := With(context.Background(), "password", "hunter2Hunter2", "note", "see "+testsecrets.GitHub, Event("reset "+testsecrets.AWSKey))
	ctx = WithIdentity(ctx, Identity{ID: "u1", Name: "Bearer " + testsecrets.Bearer, Email: "ada@example.com"})
	for _, lg := range []*slog.Logger{l, l.WithGroup("g"), l.WithGroup("credentials"), l.With("a", 1)} {
		buf.Reset()
		lg.InfoContext(ctx, "clean", "x", 1)
		lg.InfoContext(ctx, "dirty "+testsecrets.Stripe, "y", testsecrets.NPM)
		out := buf.String()
		for _, raw := range []string{"hunter2Hunter2", testsecrets.GitHub, testsecrets.AWSKey, testsecrets.Bearer, testsecrets.Stripe, testsecrets.NPM} {
			if strings.Contains(out, raw) {
				t.Errorf("%q leaked: %s", raw, out)
			}
		}
		if strings.Count(out, "\n") != 2 {
			t.Errorf("want 2 records: %s", out)
		}
	}
}

// Redaction: routes through LogValuers, marshalers, maps and structs. Most
// types below are written by a handler through a method the redactor does
// not call (MarshalJSON, MarshalText, Format, String).

// errWithJSON is an error whose Error() is clean but whose MarshalJSON (what
// the JSON handler writes for an error that is also a json.Marshaler)
// carries the token.
type errWithJSON struct{ msg, tok string }

func (e errWithJSON) Error() string { return e.msg }

func (e errWithJSON) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"msg": e.msg, "auth": "Bearer " + e.tok})
}

// errWithText: the text handler writes MarshalText for a TextMarshaler,
// before ever looking at Error().
type errWithText struct{ msg, tok string }

func (e errWithText) Error() string { return e.msg }

func (e errWithText) MarshalText() ([]byte, error) {
	return []byte(e.msg + " (Bearer " + e.tok + ")"), nil
}

// errWithFormat: fmt's %+v (the text handler) calls Format before Error.
type errWithFormat struct{ msg, tok string }

func (e errWithFormat) Error() string { return e.msg }

func (e errWithFormat) Format(f fmt.State, verb rune) {
	if f.Flag('+') {
		fmt.Fprintf(f, "%s\n  request: Authorization: Bearer %s", e.msg, e.tok)
		return
	}
	io.WriteString(f, e.msg)
}

// jsonAndStringer: JSON handler uses MarshalJSON (clean), text handler uses
// String (token).
type jsonAndStringer struct{ scheme, cred string }

func (v jsonAndStringer) MarshalJSON() ([]byte, error) {
	return []byte(`{"scheme":"` + v.scheme + `"}`), nil
}

func (v jsonAndStringer) String() string { return v.scheme + " " + v.cred }

// formatterOnly is written by the text handler through Format.
type formatterOnly struct{ scheme, cred string }

func (v formatterOnly) Format(f fmt.State, _ rune) { io.WriteString(f, v.scheme+" "+v.cred) }

// jsonAndText: JSON handler uses MarshalJSON, text handler MarshalText.
type jsonAndText struct{ cred string }

func (v jsonAndText) MarshalJSON() ([]byte, error) { return []byte(`"opaque"`), nil }

func (v jsonAndText) MarshalText() ([]byte, error) { return []byte("Bearer " + v.cred), nil }

type withValuer struct {
	Token string
	Creds credsValuer
}

type withAttrs struct {
	Token string
	Extra []slog.Attr
}

type withValue struct {
	Token string
	V     slog.Value
}

type innerCreds struct{ Password string }

type embedsCreds struct {
	User string
	innerCreds
}

type Credentials struct{ User string }

type embedsNamedCreds struct {
	Credentials
	Note string
}

func TestRedactRoutes(t *testing.T) {
	bearer := "Bearer " + alnumSecret
	dsn := "postgres://admin:" + alnumSecret + "@db:5432/app"
	pp := func(s string) **string { p := &s; return &p }
	type deep struct {
		A *deep
		S string
	}
	mkDeep := func(n int, leaf string) *deep {
		d := &deep{S: leaf}
		for i := 0; i < n; i++ {
			d = &deep{A: d, S: "x"}
		}
		return d
	}
	cycle := []any{nil, "password"}
	cycle[0] = cycle
	tests := []struct {
		name  string
		opts  *Options
		only  string // "json" or "text" when the route is specific to one
		log   func(l *slog.Logger)
		ctx   func(context.Context) context.Context
		plain bool // alnumSecret alone (no shape): the key or type must catch it
	}{
		// Routes the redactor follows into the value.
		{name: "WithGroup after a secret group", log: func(l *slog.Logger) {
			l.WithGroup("credentials").WithGroup("inner").With("a", alnumSecret).Info("m", "b", alnumSecret, Event("e"))
		}},
		{name: "empty-key group inlined", log: func(l *slog.Logger) {
			l.Info("m", slog.Group("", slog.String("password", alnumSecret)))
		}},
		{name: "LogValuer returning a LogValuer returning a group with Secret", log: func(l *slog.Logger) {
			l.Info("m", "v", valuerFunc(func() slog.Value {
				return slog.AnyValue(valuerFunc(func() slog.Value {
					return slog.GroupValue(slog.Any("x", Secret(alnumSecret)))
				}))
			}))
		}},
		{name: "Secret in []any", log: func(l *slog.Logger) { l.Info("m", "v", []any{1, Secret(alnumSecret)}) }},
		{name: "pointer to pointer to Secret", log: func(l *slog.Logger) {
			s := Secret(alnumSecret)
			ps := &s
			l.Info("m", "v", &ps)
		}},
		{name: "**string with bearer", log: func(l *slog.Logger) { l.Info("m", "v", pp(bearer)) }},
		{name: "embedded unexported struct with a password field", log: func(l *slog.Logger) {
			l.Info("m", "v", embedsCreds{User: "ada", innerCreds: innerCreds{Password: alnumSecret}})
		}},
		{name: "embedded struct named like a secret", log: func(l *slog.Logger) {
			l.Info("m", "v", embedsNamedCreds{Credentials{alnumSecret}, "n"})
		}},
		{name: "http.Header", log: func(l *slog.Logger) {
			l.Info("m", "h", http.Header{"Authorization": {"x " + alnumSecret}, "Accept": {"*/*"}})
		}},
		{name: "url.Values", log: func(l *slog.Logger) { l.Info("m", "q", url.Values{"password": {alnumSecret}}) }},
		{name: "*http.Request with Authorization and Cookie", log: func(l *slog.Logger) {
			r := httptest.NewRequest("GET", "https://ada:"+alnumSecret+"@example.com/x", nil)
			r.Header.Set("Authorization", "x"+alnumSecret)
			r.Header.Set("Cookie", "sid="+alnumSecret)
			l.Info("m", "req", r)
		}},
		{name: "*url.URL with password", log: func(l *slog.Logger) {
			u, _ := url.Parse(dsn)
			l.Info("m", "u", u)
		}},
		{name: "error under ordinary key", log: func(l *slog.Logger) {
			l.Info("m", "err", fmt.Errorf("dial: %w", errors.New("auth "+bearer)))
		}},
		{name: "[]byte and json.RawMessage with a shape", log: func(l *slog.Logger) {
			l.Info("m", "b", []byte(bearer), "raw", json.RawMessage(`"`+bearer+`"`))
		}},
		{name: "depth beyond the bound", log: func(l *slog.Logger) { l.Info("m", "d", mkDeep(15, alnumSecret)) }, plain: true},
		{name: "cycle through a slice", log: func(l *slog.Logger) { l.Info("m", "c", cycle, "password", alnumSecret) }},
		{name: "message", log: func(l *slog.Logger) { l.Info("connecting to " + dsn) }},
		{name: "panicking LogValuer", log: func(l *slog.Logger) {
			l.Info("m", "v", valuerFunc(func() slog.Value { panic("token " + bearer) }))
		}},
		{name: "ContextAttrs panic", opts: &Options{ContextAttrs: func(context.Context) []slog.Attr { panic(bearer) }},
			log: func(l *slog.Logger) { l.Info("m") }},

		// Routes where the handler writes something the redactor did not
		// look at.
		{name: "error that is also a json.Marshaler", only: "json", log: func(l *slog.Logger) {
			l.Info("m", "err", errWithJSON{"upstream refused", alnumSecret})
		}},
		{name: "error that is also a TextMarshaler", only: "text", log: func(l *slog.Logger) {
			l.Info("m", "err", errWithText{"upstream refused", alnumSecret})
		}},
		{name: "error that is also a fmt.Formatter", only: "text", log: func(l *slog.Logger) {
			l.Info("m", "err", errWithFormat{"upstream refused", alnumSecret})
		}},
		{name: "json.Marshaler whose String has the token", only: "text", log: func(l *slog.Logger) {
			l.Info("m", "auth", jsonAndStringer{"Bearer", alnumSecret})
		}},
		{name: "fmt.Formatter", only: "text", log: func(l *slog.Logger) {
			l.Info("m", "auth", formatterOnly{"Bearer", alnumSecret})
		}},
		{name: "json.Marshaler whose MarshalText has the token", only: "text", log: func(l *slog.Logger) {
			l.Info("m", "auth", jsonAndText{alnumSecret})
		}},
		{name: "LogValuer field of a struct rewritten for another secret", plain: true, log: func(l *slog.Logger) {
			l.Info("m", "v", withValuer{Token: "t", Creds: credsValuer{"ada", alnumSecret}})
		}},
		{name: "LogValuer in a map rewritten for another secret", plain: true, log: func(l *slog.Logger) {
			l.Info("m", "v", map[string]any{"token": "t", "creds": credsValuer{"ada", alnumSecret}})
		}},
		{name: "[]slog.Attr field of a rewritten struct", plain: true, log: func(l *slog.Logger) {
			l.Info("m", "v", withAttrs{Token: "t", Extra: []slog.Attr{slog.String("password", alnumSecret)}})
		}},
		{name: "slog.Value group field of a rewritten struct", plain: true, log: func(l *slog.Logger) {
			l.Info("m", "v", withValue{Token: "t", V: slog.GroupValue(slog.String("password", alnumSecret))})
		}},
		{name: "slog.Value group in map[string]any", only: "text", plain: true, log: func(l *slog.Logger) {
			l.Info("m", "v", map[string]any{"a": slog.GroupValue(slog.String("password", alnumSecret))})
		}},
		{name: "slog.Attr in []any", only: "text", plain: true, log: func(l *slog.Logger) {
			l.Info("m", "v", []any{slog.String("password", alnumSecret)})
		}},
		{name: "[]slog.Attr in a list rewritten for a shape", plain: true, log: func(l *slog.Logger) {
			l.Info("m", "v", []any{"Bearer x1y2z3w4v5", []slog.Attr{slog.String("password", alnumSecret)}})
		}},
		{name: "map key holding URL credentials", log: func(l *slog.Logger) {
			l.Info("pool stats", "open", map[string]int{dsn: 3})
		}},
		{name: "map[string]string key holding a bearer token", log: func(l *slog.Logger) {
			l.Info("m", "seen", map[string]string{bearer: "ok"})
		}},
		{name: "dynamic attribute key holding URL credentials", log: func(l *slog.Logger) {
			l.Info("m", slog.Int(dsn, 3))
		}},
		{name: "identity holding a secret shape", log: func(l *slog.Logger) {
			ctx := WithIdentity(context.Background(), Identity{Kind: KindService, ID: "AKIAIOSFODNN7" + "EXAMPLE", Name: dsn})
			l.InfoContext(ctx, "m")
		}},
		{name: "identity roles holding a secret shape", log: func(l *slog.Logger) {
			ctx := WithIdentity(context.Background(), Identity{Name: "ada", Roles: []string{bearer}})
			l.InfoContext(ctx, "m")
		}},
		{name: "URL password that contains the marker", log: func(l *slog.Logger) {
			l.Info("m", "dsn", "postgres://admin:[REDACTED]"+alnumSecret+"@db/app")
		}},
		{name: "URL password containing a custom marker", opts: &Options{RedactMarker: "***"}, log: func(l *slog.Logger) {
			l.Info("m", "dsn", "postgres://admin:"+alnumSecret+"***@db/app")
		}},
		{name: "signed query value that contains the marker", log: func(l *slog.Logger) {
			l.Info("m", "u", "https://b.s3.amazonaws.com/k?X-Amz-Signature=[REDACTED]"+alnumSecret)
		}},
		// fmt cannot reach a Secret in an unexported field (documented on
		// Secret); in an exported one its Format method writes the marker.
		{name: "fmt of a struct with an exported Secret field inside an error", plain: true, log: func(l *slog.Logger) {
			l.Info("m", "err", fmt.Errorf("connect %+v failed", struct {
				Host string
				Pass Secret
			}{"db", Secret(alnumSecret)}))
		}},
		{name: "json.RawMessage with a password key", only: "json", plain: true, log: func(l *slog.Logger) {
			l.Info("m", "body", json.RawMessage(`{"user":"ada","password":"`+alnumSecret+`"}`))
		}},
		{name: "event name holding a secret shape", log: func(l *slog.Logger) {
			l.Info("m", Event("login.failed "+dsn))
		}},
		{name: "legacy message rendered from a redacted attribute", opts: &Options{Legacy: []Legacy{{Event: "db.connect",
			Fields: []LegacyField{{Key: "password"}, {Key: "dsn", Quote: true}}, Mode: LegacySeparate}}},
			log: func(l *slog.Logger) { l.Info("Connecting", Event("db.connect"), "password", alnumSecret, "dsn", dsn) }},
		{name: "Rename onto a secret key in With", opts: &Options{Renames: []Rename{{Old: "pass", New: "password", Phase: RenameNewOnly}},
			OnDeprecatedKey: func(Rename, slog.Source) {}}, plain: true, log: func(l *slog.Logger) {
			l.With("pass", alnumSecret).Info("m")
		}},
		{name: "Rename onto a secret key", opts: &Options{Renames: []Rename{{Old: "pw", New: "password", Phase: RenameNewOnly}},
			OnDeprecatedKey: func(Rename, slog.Source) {}}, plain: true, log: func(l *slog.Logger) {
			l.Info("m", "pw", alnumSecret)
		}},
	}
	for _, tt := range tests {
		for _, format := range []string{"json", "text"} {
			if tt.only != "" && tt.only != format {
				continue
			}
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				out := logThrough(t, format, tt.opts, tt.log)
				if strings.Contains(out, alnumSecret) {
					t.Errorf("secret leaked: %s", out)
				}
				if out == "" {
					t.Errorf("record lost")
				}
			})
		}
	}
}

// BenchmarkRedactNestedBody: a ~3.5 KiB JSON-like body (what Middleware's
// LogBody decodes) with one secret key at the bottom, wrapped in n maps.
// The cost should grow with the size of the value, not double per level.
func BenchmarkRedactNestedBody(b *testing.B) {
	filler := make([]any, 100)
	for i := range filler {
		filler[i] = strings.Repeat("x", 30)
	}
	l := jsonLogger(io.Discard, nil)
	for _, n := range []int{0, 2, 4, 6, 8} {
		body := map[string]any{"password": "p", "f": filler}
		for i := 0; i < n; i++ {
			body = map[string]any{"a": body}
		}
		b.Run(fmt.Sprint("depth", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				l.Info("m", "body", body)
			}
		})
	}
}

func TestRedactValueRoutes(t *testing.T) {
	for _, r := range rtRoutes(t) {
		for _, format := range rtFormats {
			if r.only != "" && r.only != format {
				continue
			}
			t.Run(format+"/"+r.name, func(t *testing.T) {
				done := make(chan string, 1)
				go func() { done <- rtLog(t, format, nil, r.log) }()
				var out string
				select {
				case out = <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("the log call did not return")
				}
				if out == "" {
					t.Fatal("record lost")
				}
				for _, s := range append([]string{rtSecret}, r.secrets...) {
					if strings.Contains(out, s) {
						t.Errorf("secret %.20q leaked:\n%s", s, out)
					}
				}
				for _, k := range r.keep {
					if !strings.Contains(out, k) {
						t.Errorf("%q lost:\n%s", k, out)
					}
				}
			})
		}
	}
}

// TestRedactRoutesExact pins what the JSON handler writes for the routes
// whose form matters.
func TestRedactRoutesExact(t *testing.T) {
	for _, c := range []struct {
		name string
		v    any
		want string
	}{
		{"renamed document", rtRenamer{"ada", rtSecret}, `{"password":"[REDACTED]","user":"ada"}`},
		{"document keeps its order", rtDoc{`{"z":1,"token":"` + rtSecret + `","a":[{"b":2}]}`}, `{"z":1,"token":"[REDACTED]","a":[{"b":2}]}`},
		{"embedded fields promoted", rtAccount{rtBase{7, rtSecret}, "ada"}, `{"ID":7,"Password":"[REDACTED]","Name":"ada"}`},
		{"conflicts resolved as encoding/json does", rtConflict{RtTagged{"tagged"}, RtPlain{"plain"}, rtSecret},
			`{"name":"tagged","Name":"plain","Token":"[REDACTED]"}`},
		{"deep embedding", rtDeep0{rtDeep1{&rtDeep2{rtDeep3{rtSecret, "db1"}}}}, `{"api_key":"[REDACTED]","Host":"db1"}`},
		{"Secret map key", map[Secret]int{Secret(rtSecret): 3}, `{"[REDACTED]":3}`},
		{"cookie", &http.Cookie{Name: "sid", Value: rtSecret, Path: "/", HttpOnly: true}, `"sid=[REDACTED]; Path=/; HttpOnly"`},
		{"header", http.Header{"Authorization": {"Basic " + rtSecret}, "Accept": {"*/*"}}, `{"Accept":["*/*"],"Authorization":"[REDACTED]"}`},
		{"error keeps its message", &rtErrWithPassword{"login failed", rtSecret}, `"login failed"`},
		{"panicking MarshalJSON", rtPanicJSON{}, `"!PANIC: [REDACTED]"`},
		{"failing MarshalJSON", rtFailJSON{}, `"!ERROR:[REDACTED]"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := rtLog(t, "json", nil, func(l *slog.Logger) { l.Info("m", "v", c.v) })
			want := `{"level":"INFO","msg":"m","v":` + c.want + "}\n"
			if out != want {
				t.Errorf("got  %s\nwant %s", out, want)
			}
		})
	}
}

// TestRedactCleanUnchanged: values with nothing secret come out as the bare
// handler writes them, byte for byte, even those whose methods the
// redactor had to call and whose rendering it passes on instead.
func TestRedactCleanUnchanged(t *testing.T) {
	var nilErr *rtNilErr
	for _, c := range []struct {
		name string
		v    any
	}{
		{"error", errors.New("disk full")},
		{"wrapped error", fmt.Errorf("save: %w", io.ErrUnexpectedEOF)},
		{"user error", &rtErrWithPassword{Msg: "login failed"}},
		{"typed nil error", error(nilErr)},
		{"MarshalJSON", rtDoc{`{"b":1, "a":[1,2]}`}},
		{"MarshalJSON in a struct", struct {
			N int
			D rtDoc
		}{1, rtDoc{`{"x":"<y>"}`}}},
		{"MarshalText", rtTextKey{"a b"}},
		{"MarshalText keys", map[rtTextKey]int{{"b"}: 1, {"a"}: 2}},
		{"Stringer in a struct", struct {
			D time.Duration
			L slog.Level
			S fmt.Stringer
		}{time.Second, slog.LevelWarn, slog.LevelError}},
		{"embedded", struct {
			RtPlain
			N int
		}{RtPlain{"x"}, 1}},
		{"time and floats", map[string]any{"t": time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "f": float32(1.1)}},
		{"reflect.Value", reflect.ValueOf(struct{ A int }{1})},
		{"bytes", []byte("hello")},
	} {
		for _, format := range []string{"json", "text"} {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				var bare bytes.Buffer
				var inner slog.Handler = slog.NewJSONHandler(&bare, &slog.HandlerOptions{ReplaceAttr: dropTime})
				if format == "text" {
					inner = slog.NewTextHandler(&bare, &slog.HandlerOptions{ReplaceAttr: dropTime})
				}
				slog.New(inner).Info("m", "v", c.v)
				got := rtLog(t, format, nil, func(l *slog.Logger) { l.Info("m", "v", c.v) })
				if got != bare.String() {
					t.Errorf("got  %s\nwant %s", got, bare.String())
				}
			})
		}
	}
}

// TestRedactCallsOnlyWhatTheHandlerCalls: a String method that takes a
// lock the caller holds would deadlock the log call if the redactor
// called it where the handler does not.
func TestRedactCallsOnlyWhatTheHandlerCalls(t *testing.T) {
	for _, c := range []struct {
		format string
		v      func(mu *sync.Mutex) any
		want   string
	}{
		{"json", func(mu *sync.Mutex) any { return rtLocked{mu, "ada"} }, `"v":{"Name":"ada"}`},
		{"json", func(mu *sync.Mutex) any { return []any{rtLocked{mu, "ada"}} }, `"v":[{"Name":"ada"}]`},
		{"json", func(mu *sync.Mutex) any { return rtLockedJSON{rtLocked{mu, "ada"}} }, `"v":{"n":"ada"}`},
		{"text", func(mu *sync.Mutex) any { return rtLockedText{rtLocked{mu, "ada"}} }, `v=text:ada`},
		{"json", func(mu *sync.Mutex) any { return rtLockedText{rtLocked{mu, "ada"}} }, `"v":"text:ada"`},
	} {
		t.Run(c.format+"/"+c.want, func(t *testing.T) {
			var mu sync.Mutex
			mu.Lock()
			done := make(chan string, 1)
			go func() {
				done <- rtLog(t, c.format, nil, func(l *slog.Logger) { l.Info("m", "v", c.v(&mu), "token", rtSecret) })
			}()
			select {
			case out := <-done:
				if !strings.Contains(out, c.want) || strings.Contains(out, rtSecret) {
					t.Errorf("got %s\nwant it to contain %s and no secret", out, c.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("deadlock: the redactor called String, which the handler does not")
			}
			mu.Unlock()
		})
	}
}

// TestRedactMethodsCalledOnce: each method the handler needs is called
// once per redaction, by the redactor, and the text it returned is what is
// written, whatever the method returns later.
func TestRedactMethodsCalledOnce(t *testing.T) {
	for _, st := range []style{styleJSON, styleText} {
		rd := newRedactor(&Options{})
		rd.style = st
		var n atomic.Int32
		a, _ := rd.attr(slog.Any("err", rtFlip{&n}), false)
		if got := n.Load(); got != 1 {
			t.Errorf("style %d: Error called %d times, want 1", st, got)
		}
		if got := a.Value.String(); got != "upstream refused the request" {
			t.Errorf("style %d: got %q, want the text that was checked", st, got)
		}
		if a.Value.Kind() != slog.KindString {
			t.Errorf("style %d: got a %s, want the checked text in place of the error", st, a.Value.Kind())
		}
	}
	// Through a Handler: the record pipeline checks an attribute, then
	// redacts it (today a second call); either way the text written is
	// one that was checked.
	for _, format := range []string{"json", "text"} {
		out := rtLog(t, format, nil, func(l *slog.Logger) { l.Info("m", "err", rtFlip{new(atomic.Int32)}) })
		if strings.Contains(out, rtSecret) || !strings.Contains(out, "upstream refused") {
			t.Errorf("%s: got %s", format, out)
		}
	}
}

func TestStyleOf(t *testing.T) {
	var buf bytes.Buffer
	j := slog.NewJSONHandler(&buf, nil)
	for _, c := range []struct {
		h    slog.Handler
		want style
	}{
		{j, styleJSON},
		{slog.NewTextHandler(&buf, nil), styleText},
		{NewHandler(j, nil), styleJSON},
		{NewHandler(slog.Default().Handler(), nil).out.inner, styleText}, // the replica of the default handler
		{rtOpaque{j}, styleAny},
	} {
		if got := styleOf(c.h); got != c.want {
			t.Errorf("styleOf(%T) = %d, want %d", c.h, got, c.want)
		}
	}
}

// ---- pseudonyms ----

func TestPseudonyms(t *testing.T) {
	key := []byte("audit-key-0123456789")
	opts := &Options{PseudonymKey: key}
	p := Pseudonym(key, rtSecret)
	if !strings.HasPrefix(p, PseudonymPrefix) || len(p) != len(PseudonymPrefix)+32 || !isPseudonym(p) {
		t.Fatalf("Pseudonym = %q, want %s and 32 hex digits", p, PseudonymPrefix)
	}
	if !MatchPseudonym(key, rtSecret, p) || MatchPseudonym(key, rtSecret+"x", p) || MatchPseudonym([]byte("other"), rtSecret, p) {
		t.Error("MatchPseudonym disagrees with Pseudonym")
	}
	for _, format := range rtFormats {
		out := rtLog(t, format, opts, func(l *slog.Logger) {
			l.Info("m", "password", rtSecret, "s", Secret(rtSecret), "pin_token", 1234,
				"h", http.Header{"Authorization": {rtSecret}}, "c", &http.Cookie{Name: "sid", Value: rtSecret},
				"form", map[string]string{"token": rtSecret}, "dsn", "postgres://u:"+rtSecret+"@db/x")
		})
		if strings.Contains(out, rtSecret) || strings.Contains(out, string(key)) {
			t.Errorf("%s: secret or key leaked: %s", format, out)
		}
		if got := strings.Count(out, p); got != 5 {
			t.Errorf("%s: pseudonym written %d times, want 5 (key, Secret, header, cookie, map):\n%s", format, got, out)
		}
		if !strings.Contains(out, Pseudonym(key, "1234")) {
			t.Errorf("%s: a number's pseudonym is that of its text: %s", format, out)
		}
		if !strings.Contains(out, "postgres://u:"+Redacted+"@db/x") {
			t.Errorf("%s: a secret inside a string keeps the marker: %s", format, out)
		}
	}
	// Redacting twice changes nothing: a pseudonym is not hashed again.
	rd := newRedactor(opts)
	if got := rd.redact(p); got != p {
		t.Errorf("redact(pseudonym) = %q, want it unchanged", got)
	}
	if got := newRedactor(&Options{}).redact(rtSecret); got != Redacted {
		t.Errorf("without a key: %q, want the marker", got)
	}
}

// ---- fuzzing ----

// FuzzRedactRoutes plants rtSecret in one of the routes above, built from
// fuzzed texts, and checks on every input and every handler kind that the
// secret never appears, nothing panics, and the record is written.
func FuzzRedactRoutes(f *testing.F) {
	f.Add("user", "ada", uint8(0), uint8(0))
	f.Add("password", "", uint8(3), uint8(1))
	f.Add("a\"b", "{\"x\":", uint8(7), uint8(2))
	f.Add("", "\xff", uint8(12), uint8(5))
	f.Add("Authorization", "Bearer", uint8(20), uint8(9))
	f.Fuzz(func(t *testing.T, key, text string, route, depth uint8) {
		if strings.Contains(key+text, rtSecret) {
			return
		}
		v := rtFuzzValue(key, text, route, int(depth%12))
		for _, format := range rtFormats {
			var out string
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s: panic: %v", format, p)
					}
				}()
				var buf bytes.Buffer
				l := slog.New(rtHandler(&buf, format, nil))
				l.LogAttrs(context.Background(), slog.LevelInfo, text, slog.Any(key, v), slog.String("k", text))
				out = buf.String()
			}()
			if out == "" {
				t.Fatalf("%s: record lost", format)
			}
			if strings.Contains(out, rtSecret) {
				t.Fatalf("%s: route %d leaked:\n%s", format, route%22, out)
			}
		}
	})
}

// Redaction: no false positives.

// TestRedactNoFalsePositives checks that ordinary data passes untouched:
// the output is byte-identical to the bare handler's.
func TestRedactNoFalsePositives(t *testing.T) {
	tests := []struct {
		name string
		args []any
	}{
		{"keys that only look secret", []any{"author", "ada", "token_count", 5, "monkey", "george", "primary_key", 7,
			"passwordless", true, "tokenizer", "bpe", "secretary", "bob", "keyword", "k", "cwd", "/tmp", "authored_by", "x",
			"password_reset_at", "2025-01-01", "token_type", "bearer", "cookie_consent", "granted", "credentialed", false}},
		{"ids and hashes", []any{"uuid", "77b2f6f9-d104-492c-ac2d-aeddead2783f",
			"sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"git", "9569bbc4e2d3f1a0b5c6d7e8f9a0b1c2d3e4f5a6", "short", "9569bbc"}},
		{"paths and urls", []any{"path", "/api/tokens", "route", "/v1/auth/token", "url", "https://example.com/a?b=c#frag",
			"svc", "http://host:8080/path", "email", "ada@example.com", "mailto", "mailto:ada@example.com"}},
		{"prose", []any{"note", "reset your password via the token link", "help", "Basic usage: pass a token",
			"msg2", "the bearer of this letter", "count", "Token count: 5"}},
		{"user agent", []any{"user_agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/86.0.4240.80 Safari/537.36"}},
		{"clean struct and map", []any{"form", loginForm{User: "ada"}, "m", map[string]any{"a": 1, "b": []int{1}}}},
		{"numbers and times", []any{"d", time.Second, "t", frozen, "f", 1.5}},
		{"error", []any{"err", fmt.Errorf("open %s: %w", "/etc/app.conf", os.ErrNotExist)}},
		{"ids", []any{"ulid", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "ksuid", "0ujsswThIGTUYm2K8FjOOfXtY1K",
			"uuid_braced", "{77B2F6F9-D104-492C-AC2D-AEDDEAD2783F}", "snowflake", "1541815603606036480",
			"stripe_customer", "cus_NffrFeUfNV2Hib", "k8s_uid", "e2c7b5a3-1c3f-4b2e-9f7a-8d6e5c4b3a21"}},
		{"hashes and digests", []any{"etag", `W/"5e15153d-120f"`, "image", "alpine@sha256:4bcff63911fcb4448bd4fdacec207030997caf25e9bea4045fa6c8c44de311d1",
			"sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "b64", "SGVsbG8sIFdvcmxkIQ==", "b64url", "eyJhIjoxfQ"}},
		{"paths and urls of other schemes", []any{"p", "/home/ada/.ssh/id_ed25519.pub", "u", "https://example.com/a/b?page=2&sort=asc#top",
			"u2", "http://[2001:db8::1]:8080/x", "u3", "https://example.com/users/ada@example.com",
			"git", "git@github.com:org/repo.git", "ssh", "ssh://git@github.com/org/repo.git",
			"s3", "s3://bucket/key", "file", "file:///etc/hosts", "signed_word", "https://e.com/?design=x&signal=1"}},
		{"prose naming kinds of token", []any{"note", "Token rotation is scheduled; see the Basic plan and the bearer bond",
			"n2", "AKIA is the prefix of AWS access key ids", "n3", "The token was rejected (invalid_grant)",
			"n4", "unexpected token in JSON at position 12", "n5", "Basic authentication failed for user ada"}},
		{"json snippets", []any{"body", `{"user":"ada","token_type":"bearer","expires_in":3600}`,
			"body2", `{"count":5,"items":["a","b"]}`}},
		{"user@host urls without password", []any{"remote", "https://alice@github.com/org/repo.git",
			"ftp", "ftp://anonymous@ftp.example.com/pub", "rsync", "rsync://backup@nas.local/module"}},
		{"identifiers that start like token prefixes", []any{"flag", "github_pat_expiration_warning_days",
			"setting", "glpat-rotation-policy-enabled-for-all", "col", "sk_test_environment_name"}},
		{"lexer message", []any{"err", "syntax error: unexpected token 0x7f3a2b1c"}},
		{"slack-ish", []any{"greeting", "xoxo-hugs-and-kisses-for-everyone"}},
		{"time-like and durations", []any{"ts", "2025-10-03T17:48:22.238Z", "d", 1500 * time.Millisecond}},
		{"embedded struct", []any{"v", embedsCreds{User: "ada"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkUntouched(t, "password reset requested", tt.args...)
		})
	}
}

// checkUntouched logs msg and args through the bare JSON handler and
// through the wrapper with default options, and fails unless both wrote
// the same bytes: ordinary data must pass redaction untouched.
func checkUntouched(t *testing.T, msg string, args ...any) {
	t.Helper()
	var bare, wrapped bytes.Buffer
	slog.New(newJSON(&bare, nil)).Info(msg, args...)
	slog.New(NewHandler(newJSON(&wrapped, nil), nil)).Info(msg, args...)
	if got, want := wrapped.String(), bare.String(); got != want {
		t.Errorf("ordinary data changed\ngot  %s\nwant %s", got, want)
	}
}

// TestOrdinaryDataUnchanged logs every line of testdata/ordinary.log (web
// server, SSH and PAM, Hadoop, Spark, ZooKeeper, OpenStack, kernel, macOS,
// Android and Kubernetes lines, ids, hashes and URLs with user names) as a
// message and as a value, through the JSON and the text handler: each record
// must come out byte for byte as the bare handler writes it.
func TestOrdinaryDataUnchanged(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "ordinary.log"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		for _, format := range []string{"json", "text"} {
			var bare, wrapped bytes.Buffer
			newInner := newJSON
			if format == "text" {
				newInner = newText
			}
			for _, l := range []*slog.Logger{slog.New(newInner(&bare, nil)), slog.New(NewHandler(newInner(&wrapped, nil), nil))} {
				l.Info(line)
				l.Info("line seen", "line", line, "source", "syslog")
			}
			if got, want := wrapped.String(), bare.String(); got != want {
				t.Errorf("%s: changed\ngot  %s\nwant %s", format, got, want)
			}
		}
	}
	if n < 300 {
		t.Fatalf("the corpus has %d lines; want at least 300", n)
	}
}

// Redaction: fuzzing.

// fuzzSecret is planted by FuzzRedact. Letters and digits only, so that no
// handler's quoting can hide it from the check.
const fuzzSecret = "Zq9hunter2Xs3cr3tWv7"

// FuzzRedact builds records from fuzzed keys, values and nesting, plants
// fuzzSecret in one of the places a secret can hide, and checks that it
// never appears in the JSON or the text output, and that nothing panics.
func FuzzRedact(f *testing.F) {
	f.Add("k", "v", "g", uint8(0), uint8(0))
	f.Add("user", "ada", "db", uint8(3), uint8(2))
	f.Add("", "", "", uint8(7), uint8(5))
	f.Add("x-api", "Bearer", "credentials", uint8(9), uint8(1))
	f.Add("a.b", "\xff\xfe", "ü", uint8(12), uint8(4))
	f.Add("msg", "postgres://", "http", uint8(6), uint8(3))
	f.Fuzz(func(t *testing.T, key, val, group string, where, depth uint8) {
		if strings.Contains(key+val+group, fuzzSecret) {
			return
		}
		for _, format := range []string{"json", "text"} {
			var buf bytes.Buffer
			var inner slog.Handler = slog.NewJSONHandler(&buf, nil)
			if format == "text" {
				inner = slog.NewTextHandler(&buf, nil)
			}
			l := slog.New(NewHandler(inner, nil))
			ctx := context.Background()
			// Nest the planted attribute in fuzzed groups, some opened on
			// the logger, some in the record.
			var wrap []string
			for i := 0; i < int(depth%6); i++ {
				name := fmt.Sprintf("%s%d", group, i)
				if i%2 == 0 {
					l = l.WithGroup(name)
				} else {
					wrap = append(wrap, name)
				}
			}
			msg := "m " + val
			planted := plantInRecord(where, key, val, &l, &ctx, &msg)
			for i := len(wrap) - 1; i >= 0; i-- {
				planted = slog.Group(wrap[i], planted, slog.String(key, val))
			}
			l.LogAttrs(ctx, slog.LevelInfo, msg, slog.String(key, val), planted, Event(val))
			if out := buf.String(); strings.Contains(out, fuzzSecret) {
				t.Fatalf("%s: secret leaked (where=%d):\n%s", format, where%13, out)
			}
		}
	})
}

// plantInRecord returns an attribute holding fuzzSecret in the place where picks,
// or binds it to the logger, the context or the message and returns a
// harmless attribute.
func plantInRecord(where uint8, key, val string, l **slog.Logger, ctx *context.Context, msg *string) slog.Attr {
	switch where % 13 {
	case 0:
		return slog.String(key+"_password", fuzzSecret)
	case 1:
		return slog.Any(key, Secret(fuzzSecret))
	case 2:
		return slog.Group(key+"credentials", slog.String(key, fuzzSecret), slog.Int(val, 1))
	case 3:
		return slog.Any(key, map[string]any{key + "_token": fuzzSecret, val: val})
	case 4:
		return slog.Any(key, &loginForm{User: val, Pass: fuzzSecret})
	case 5:
		return slog.Any(key, credsValuer{val, fuzzSecret})
	case 6:
		return slog.String(key, val+" postgres://"+"admin:"+fuzzSecret+"@db:5432/app "+val)
	case 7:
		return slog.String(key, val+" Authorization: Bearer "+fuzzSecret+" "+val)
	case 8:
		*msg = val + " https://ada:" + fuzzSecret + "@example.com/x " + val
		return slog.String(key, val)
	case 9:
		return slog.Any(key, fmt.Errorf("call failed: %w", fmt.Errorf("token rejected: Bearer %s", fuzzSecret)))
	case 10:
		*l = (*l).WithGroup(key + "-secret")
		return slog.String(key, fuzzSecret)
	case 11:
		*l = (*l).With(key+".api_key", fuzzSecret)
		return slog.String(key, val)
	default:
		*ctx = With(*ctx, key+"Cookie", fuzzSecret)
		return slog.String(key, val)
	}
}

// Identity: client address and trusted proxies.

func TestClientAddr(t *testing.T) {
	trusted := httpTestProxies(t)
	p10, _ := ParseProxies("10.0.0.0/8", "fd00::/8")
	tests := []struct {
		name    string
		remote  string
		xff     []string // one X-Forwarded-For line each
		trusted Proxies  // nil means httpTestProxies
		noTrust bool     // use a nil Proxies
		want    string
	}{
		{name: "untrusted peer", remote: "192.0.2.1:1234", want: "192.0.2.1"},
		{name: "untrusted peer spoofs XFF", remote: "192.0.2.1:1234", xff: []string{"127.0.0.1"}, want: "192.0.2.1"},
		{name: "untrusted peer spoofs chain", remote: "192.0.2.1:1234", xff: []string{"203.0.113.7, 10.0.0.1"}, want: "192.0.2.1"},
		{name: "untrusted IPv6 peer", remote: "[2001:db8::1]:443", xff: []string{"203.0.113.7"}, want: "2001:db8::1"},
		{name: "nobody trusted", remote: "127.0.0.1:80", xff: []string{"203.0.113.7"}, noTrust: true, want: "127.0.0.1"},
		{name: "trusted peer without XFF", remote: "127.0.0.1:80", want: "127.0.0.1"},
		{name: "trusted peer", remote: "127.0.0.1:80", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "client prepends a spoofed hop", remote: "127.0.0.1:80", xff: []string{"198.51.100.66, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "client prepends a trusted hop", remote: "127.0.0.1:80", xff: []string{"10.0.0.5, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "chain of trusted proxies", remote: "10.0.0.1:80", xff: []string{"203.0.113.7, 10.0.0.2, 10.0.0.3"}, want: "203.0.113.7"},
		{name: "untrusted hop in the middle", remote: "10.0.0.1:80", xff: []string{"198.51.100.1, 203.0.113.7, 10.0.0.2"}, want: "203.0.113.7"},
		{name: "every hop trusted", remote: "10.0.0.1:80", xff: []string{"10.0.0.3, 10.0.0.2"}, want: "10.0.0.3"},
		{name: "several header lines", remote: "10.0.0.1:80", xff: []string{"198.51.100.1", "203.0.113.7, 10.0.0.2"}, want: "203.0.113.7"},
		{name: "several lines, client in first", remote: "10.0.0.1:80", xff: []string{"203.0.113.9", "10.0.0.2"}, want: "203.0.113.9"},
		{name: "garbage right-most", remote: "127.0.0.1:80", xff: []string{"203.0.113.7, garbage"}, want: "127.0.0.1"},
		{name: "garbage behind trusted hop", remote: "127.0.0.1:80", xff: []string{"198.51.100.1, garbage, 10.0.0.2"}, want: "10.0.0.2"},
		{name: "unknown", remote: "127.0.0.1:80", xff: []string{"unknown"}, want: "127.0.0.1"},
		{name: "empty value", remote: "127.0.0.1:80", xff: []string{""}, want: "127.0.0.1"},
		{name: "commas only", remote: "127.0.0.1:80", xff: []string{",,,"}, want: "127.0.0.1"},
		{name: "empty entry", remote: "127.0.0.1:80", xff: []string{"198.51.100.1,,10.0.0.2"}, want: "10.0.0.2"},
		{name: "spaces and tabs", remote: "127.0.0.1:80", xff: []string{" \t203.0.113.7\t "}, want: "203.0.113.7"},
		{name: "IPv4 with port", remote: "127.0.0.1:80", xff: []string{"203.0.113.7:5555"}, want: "203.0.113.7"},
		{name: "IPv4 with bad port", remote: "127.0.0.1:80", xff: []string{"203.0.113.7:99999"}, want: "127.0.0.1"},
		{name: "IPv6", remote: "[::1]:80", xff: []string{"2001:db8::5"}, want: "2001:db8::5"},
		{name: "IPv6 in brackets", remote: "[::1]:80", xff: []string{"[2001:db8::5]"}, want: "2001:db8::5"},
		{name: "IPv6 with port", remote: "[::1]:80", xff: []string{"[2001:DB8::5]:1234"}, want: "2001:db8::5"},
		{name: "IPv6 unclosed bracket", remote: "[::1]:80", xff: []string{"[2001:db8::5"}, want: "::1"},
		{name: "IPv4 in brackets", remote: "[::1]:80", xff: []string{"[203.0.113.7]"}, want: "::1"},
		{name: "IPv6 trusted chain", remote: "[2001:db8:1::1]:80", xff: []string{"2001:db8::5, 2001:db8:1::2"}, want: "2001:db8::5"},
		{name: "IPv4-mapped peer is trusted", remote: "[::ffff:127.0.0.1]:80", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "IPv4-mapped entry", remote: "127.0.0.1:80", xff: []string{"::ffff:203.0.113.7"}, want: "203.0.113.7"},
		{name: "IPv4-mapped trusted entry", remote: "127.0.0.1:80", xff: []string{"203.0.113.7, ::ffff:10.0.0.2"}, want: "203.0.113.7"},
		{name: "zone in entry", remote: "127.0.0.1:80", xff: []string{"fe80::1%eth0"}, want: "fe80::1%eth0"},
		{name: "zone in untrusted peer", remote: "[fe80::1%eth0]:80", xff: []string{"203.0.113.7"}, want: "fe80::1%eth0"},
		{name: "zone in trusted peer", remote: "[fe80::1%eth0]:80", xff: []string{"203.0.113.7"}, trusted: Proxies{netip.MustParsePrefix("fe80::/10")}, want: "203.0.113.7"},
		{name: "peer without port", remote: "127.0.0.1", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "empty RemoteAddr", remote: "", xff: []string{"203.0.113.7"}, want: ""},
		{name: "unix socket", remote: "@", xff: []string{"203.0.113.7"}, want: "@"},
		{name: "hostname peer", remote: "localhost:80", xff: []string{"203.0.113.7"}, want: "localhost"},
		{name: "huge trusted chain", remote: "10.0.0.1:80", xff: []string{"203.0.113.7" + strings.Repeat(", 10.0.0.9", 50000)}, want: "203.0.113.7"},
		{name: "huge spoofed prefix", remote: "10.0.0.1:80", xff: []string{strings.Repeat("198.51.100.1,", 50000) + "203.0.113.7"}, want: "203.0.113.7"},
		// Trusting loopback only, or 10.0.0.0/8 and fd00::/8.
		{name: "nil trust ignores XFF", remote: "203.0.113.9:4000", xff: []string{"1.2.3.4"}, noTrust: true, want: "203.0.113.9"},
		{name: "untrusted peer spoofs XFF, loopback trusted", remote: "203.0.113.9:4000", xff: []string{"127.0.0.1"}, trusted: Loopback(), want: "203.0.113.9"},
		{name: "trusted peer, client appended", remote: "127.0.0.1:1", xff: []string{"6.6.6.6, 198.51.100.7"}, trusted: Loopback(), want: "198.51.100.7"},
		{name: "client puts loopback on the left", remote: "127.0.0.1:1", xff: []string{"127.0.0.1, 198.51.100.7"}, trusted: Loopback(), want: "198.51.100.7"},
		{name: "chain of trusted private proxies", remote: "10.0.0.1:1", xff: []string{"198.51.100.7, 10.1.1.1, 10.2.2.2"}, trusted: p10, want: "198.51.100.7"},
		{name: "multiple XFF lines", remote: "10.0.0.1:1", xff: []string{"6.6.6.6", "198.51.100.7, 10.1.1.1"}, trusted: p10, want: "198.51.100.7"},
		{name: "multiple lines, last is client", remote: "10.0.0.1:1", xff: []string{"6.6.6.6", "198.51.100.7"}, trusted: p10, want: "198.51.100.7"},
		{name: "garbage rightmost entry", remote: "10.0.0.1:1", xff: []string{"6.6.6.6, garbage"}, trusted: p10, want: "10.0.0.1"},
		{name: "empty rightmost entry", remote: "10.0.0.1:1", xff: []string{"6.6.6.6, "}, trusted: p10, want: "10.0.0.1"},
		{name: "garbage between", remote: "10.0.0.1:1", xff: []string{"6.6.6.6, junk, 10.1.1.1"}, trusted: p10, want: "10.1.1.1"},
		{name: "IPv4-mapped trusted hop", remote: "10.0.0.1:1", xff: []string{"198.51.100.7, ::ffff:10.9.9.9"}, trusted: p10, want: "198.51.100.7"},
		{name: "IPv4-mapped peer", remote: "[::ffff:127.0.0.1]:1", xff: []string{"198.51.100.7"}, trusted: Loopback(), want: "198.51.100.7"},
		{name: "IPv6 peer with brackets", remote: "[::1]:443", xff: []string{"[2001:db8::7]:5555"}, trusted: Loopback(), want: "2001:db8::7"},
		{name: "IPv6 zone in trusted hop", remote: "[fd00::1]:1", xff: []string{"198.51.100.7, fe80::1%eth0"}, trusted: p10, want: "fe80::1%eth0"},
		{name: "zoned trusted-looking entry", remote: "[fd00::1]:1", xff: []string{"198.51.100.7, fd00::2%x"}, trusted: p10, want: "198.51.100.7"},
		{name: "legacy IPv4 forms are not addresses", remote: "127.0.0.1:1", xff: []string{"6.6.6.6, 127.1"}, trusted: Loopback(), want: "127.0.0.1"},
		{name: "octal-looking", remote: "127.0.0.1:1", xff: []string{"6.6.6.6, 0177.0.0.1"}, trusted: Loopback(), want: "127.0.0.1"},
		{name: "port on entry", remote: "127.0.0.1:1", xff: []string{"198.51.100.7:8080"}, trusted: Loopback(), want: "198.51.100.7"},
		{name: "tabs and spaces", remote: "127.0.0.1:1", xff: []string{"\t198.51.100.7 ,\t127.0.0.2 "}, trusted: Loopback(), want: "198.51.100.7"},
		{name: "RemoteAddr without port", remote: "127.0.0.1", xff: []string{"198.51.100.7"}, trusted: Loopback(), want: "198.51.100.7"},
		{name: "malformed RemoteAddr", remote: "not-an-ip:80", xff: []string{"198.51.100.7"}, trusted: Loopback(), want: "not-an-ip"},
		{name: "empty RemoteAddr, loopback trusted", remote: "", xff: []string{"198.51.100.7"}, trusted: Loopback(), want: ""},
		{name: "all trusted: leftmost", remote: "127.0.0.1:1", xff: []string{"127.0.0.3, 127.0.0.2"}, trusted: Loopback(), want: "127.0.0.3"},
		{name: "Forwarded and X-Real-IP have no effect", remote: "203.0.113.9:1", trusted: Loopback(), want: "203.0.113.9"},
		{name: "nil-trust Proxies{} value", remote: "127.0.0.1:1", xff: []string{"1.2.3.4"}, trusted: Proxies{}, want: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httpTestRequest(tt.remote)
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			// Headers that name a client too, but that ClientAddr must not read.
			r.Header.Set("X-Real-IP", "6.6.6.6")
			r.Header.Set("Forwarded", "for=6.6.6.6")
			r.Header["X-Forwarded-For-Lower"] = []string{"6.6.6.6"}
			p := trusted
			if tt.trusted != nil {
				p = tt.trusted
			}
			if tt.noTrust {
				p = nil
			}
			if got := ClientAddr(r, p); got != tt.want {
				t.Errorf("ClientAddr = %q, want %q", got, tt.want)
			}
		})
	}
	if got := ClientAddr(nil, trusted); got != "" {
		t.Errorf("ClientAddr(nil) = %q, want empty", got)
	}
}

func TestClientAddrLoopback(t *testing.T) {
	for _, remote := range []string{"127.0.0.1:1", "127.9.9.9:1", "[::1]:1", "[::ffff:127.0.0.1]:1"} {
		r := httpTestRequest(remote, "X-Forwarded-For", "203.0.113.7")
		if got := ClientAddr(r, Loopback()); got != "203.0.113.7" {
			t.Errorf("%s: ClientAddr = %q, want 203.0.113.7", remote, got)
		}
	}
	for _, remote := range []string{"128.0.0.1:1", "[::2]:1", "10.0.0.1:1"} {
		r := httpTestRequest(remote, "X-Forwarded-For", "203.0.113.7")
		if got := ClientAddr(r, Loopback()); got == "203.0.113.7" {
			t.Errorf("%s: ClientAddr = %q, the header of an untrusted peer", remote, got)
		}
	}
}

func TestParseProxies(t *testing.T) {
	good := []struct {
		in   string
		want string
	}{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3/8", "10.0.0.0/8"},
		{" 192.0.2.10 ", "192.0.2.10/32"},
		{"::1", "::1/128"},
		{"fd00::/8", "fd00::/8"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
	}
	for _, tt := range good {
		p, err := ParseProxies(tt.in)
		if err != nil || len(p) != 1 || p[0].String() != tt.want {
			t.Errorf("ParseProxies(%q) = %v, %v; want [%s]", tt.in, p, err, tt.want)
		}
	}
	for _, in := range []string{"", " ", "garbage", "10.0.0.0/33", "10.0.0.0/", "/8", "fe80::1%eth0", "fe80::/10%eth0", "1.2.3.4:80", "[::1]", "10.0.0.0/8/8", "localhost"} {
		p, err := ParseProxies("127.0.0.1", in)
		if err == nil || p != nil {
			t.Errorf("ParseProxies(%q) = %v, %v; want an error", in, p, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "audit: ") {
			t.Errorf("ParseProxies(%q) error %q lacks the audit: prefix", in, err)
		}
	}
	if p, err := ParseProxies(); err != nil || len(p) != 0 {
		t.Errorf("ParseProxies() = %v, %v; want empty", p, err)
	}
}

// FuzzClientAddr checks, on any RemoteAddr and X-Forwarded-For lines, that
// ClientAddr does not panic and returns an address no untrusted hop chose:
// the peer's, when the peer is untrusted; when it is trusted, the peer's or
// an entry all of whose right-hand testsecrets.Neighbours are trusted, and a trusted
// one only where the walk had to stop.
func FuzzClientAddr(f *testing.F) {
	f.Add("127.0.0.1:80", "203.0.113.7", "")
	f.Add("10.0.0.1:80", "198.51.100.1, 203.0.113.7", "10.0.0.2")
	f.Add("[::1]:80", "[2001:db8::5]:1234, ::ffff:10.0.0.2", "")
	f.Add("192.0.2.1:80", "127.0.0.1", "")
	f.Add("[fe80::1%eth0]:80", ",,,", " ")
	f.Add("127.0.0.1", "unknown, [::1", "1.2.3.4:99999")
	trusted := httpTestProxies(f)
	f.Fuzz(func(t *testing.T, remote, xff1, xff2 string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		var lines []string
		for _, v := range []string{xff1, xff2} {
			if v != "" {
				r.Header.Add("X-Forwarded-For", v)
				lines = append(lines, v)
			}
		}
		got := ClientAddr(r, trusted)

		peer, ok := parseHop(remote)
		if !ok || !trusted.Contains(peer) {
			want := remote
			if ok {
				want = peer.String()
			} else if host, _, err := net.SplitHostPort(remote); err == nil {
				want = host
			}
			if got != want {
				t.Fatalf("untrusted peer %q: got %q, want %q", remote, got, want)
			}
			return
		}
		// Reference walk: split everything, then go right to left.
		entries := strings.Split(strings.Join(lines, ","), ",")
		if len(lines) == 0 {
			entries = nil
		}
		want := peer.String()
		for i := len(entries) - 1; i >= 0; i-- {
			a, ok := parseHop(entries[i])
			if !ok {
				break
			}
			want = a.String()
			if !trusted.Contains(a) {
				break
			}
		}
		if got != want {
			t.Fatalf("peer %q, XFF %q: got %q, want %q", remote, lines, got, want)
		}
	})
}

// Identity: opaque names and RequestIdentity.

func TestIsOpaque(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"8c0a5ad4-1b7f-4a6e-9d3f-2e1c0b9a8f7d", true},
		{"8C0A5AD4-1B7F-4A6E-9D3F-2E1C0B9A8F7D", true},
		{"{8c0a5ad4-1b7f-4a6e-9d3f-2e1c0b9a8f7d}", true},
		{"urn:uuid:8c0a5ad4-1b7f-4a6e-9d3f-2e1c0b9a8f7d", true},
		{"URN:UUID:8c0a5ad4-1b7f-4a6e-9d3f-2e1c0b9a8f7d", true},
		{"8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7d", true}, // uuid4().hex, Jupyter's token users
		{"00000000-0000-0000-0000-000000000000", true},
		{"", false},
		{"ada", false},
		{"ada.lovelace@example.org", false},
		{"8c0a5ad4-1b7f-4a6e-9d3f-2e1c0b9a8f7g", false},
		{"8c0a5ad4-1b7f-4a6e-9d3f_2e1c0b9a8f7d", false},
		{"8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7", false},
		{"8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7dd", false},
		{"{8c0a5ad4-1b7f-4a6e-9d3f-2e1c0b9a8f7d", false},
		{"urn:uuid:", false},
		{"deadbeefdeadbeefdeadbeefdeadbee!", false},
		{"Anonymous Io", false},
	}
	for _, tt := range tests {
		if got := IsOpaque(tt.name); got != tt.want {
			t.Errorf("IsOpaque(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestResolveIdentity(t *testing.T) {
	const uuid = "8c0a5ad4-1b7f-4a6e-9d3f-2e1c0b9a8f7d"
	proxied := []string{"X-Auth-Request-User", "grace", "X-Auth-Request-Email", "grace@example.org"}
	tests := []struct {
		name   string
		remote string
		header []string
		auth   Identity
		opts   *HTTPOptions // nil means trusting loopback
		want   Identity
	}{
		{
			name: "trusted proxy replaces an opaque name", remote: "127.0.0.1:5000", header: proxied,
			auth: Identity{Name: uuid},
			want: Identity{ID: uuid, Name: "grace", Email: "grace@example.org", Kind: KindWeb},
		},
		{
			name: "opaque name moves to ID only when ID is empty", remote: "127.0.0.1:5000", header: proxied,
			auth: Identity{ID: "42", Name: uuid, Roles: []string{"admin"}},
			want: Identity{ID: "42", Name: "grace", Email: "grace@example.org", Kind: KindWeb, Roles: []string{"admin"}},
		},
		{
			name: "token-generated user", remote: "[::1]:5000", header: proxied,
			auth: Identity{Name: "8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7d"},
			want: Identity{ID: "8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7d", Name: "grace", Email: "grace@example.org", Kind: KindWeb},
		},
		{
			name: "no application identity", remote: "127.0.0.1:5000", header: proxied,
			want: Identity{Name: "grace", Email: "grace@example.org", Kind: KindWeb},
		},
		{
			name: "meaningful name is kept", remote: "127.0.0.1:5000", header: proxied,
			auth: Identity{Name: "ada", Email: "ada@example.org"},
			want: Identity{Name: "ada", Email: "ada@example.org", Kind: KindWeb},
		},
		{
			name: "kind is kept", remote: "127.0.0.1:5000", header: proxied,
			auth: Identity{Name: uuid, Kind: KindService},
			want: Identity{ID: uuid, Name: "grace", Email: "grace@example.org", Kind: KindService},
		},
		{
			name: "spoofed headers from untrusted peer", remote: "192.0.2.1:5000", header: proxied,
			auth: Identity{Name: uuid},
			want: Identity{Name: uuid, Kind: KindWeb},
		},
		{
			name: "spoofed headers with spoofed XFF", remote: "192.0.2.1:5000",
			header: append([]string{"X-Forwarded-For", "127.0.0.1"}, proxied...),
			auth:   Identity{Name: uuid},
			want:   Identity{Name: uuid, Kind: KindWeb},
		},
		{
			name: "spoofed headers, nobody trusted", remote: "127.0.0.1:5000", header: proxied,
			auth: Identity{Name: uuid}, opts: &HTTPOptions{},
			want: Identity{Name: uuid, Kind: KindWeb},
		},
		{
			name: "untrusted peer, no identity", remote: "192.0.2.1:5000", header: proxied,
			want: Identity{},
		},
		{
			name: "headers missing", remote: "127.0.0.1:5000",
			auth: Identity{Name: uuid},
			want: Identity{Name: uuid, Kind: KindWeb},
		},
		{
			name: "headers empty", remote: "127.0.0.1:5000",
			header: []string{"X-Auth-Request-User", "", "X-Auth-Request-Email", "  "},
			auth:   Identity{Name: uuid},
			want:   Identity{Name: uuid, Kind: KindWeb},
		},
		{
			name: "email only", remote: "127.0.0.1:5000",
			header: []string{"X-Auth-Request-Email", "grace@example.org"},
			auth:   Identity{Name: uuid},
			want:   Identity{Name: uuid, Email: "grace@example.org", Kind: KindWeb},
		},
		{
			name: "values are trimmed", remote: "127.0.0.1:5000",
			header: []string{"X-Auth-Request-User", " grace\t"},
			auth:   Identity{Name: uuid},
			want:   Identity{ID: uuid, Name: "grace", Kind: KindWeb},
		},
		{
			name: "repeated header is refused", remote: "127.0.0.1:5000",
			header: []string{"X-Auth-Request-User", "mallory", "X-Auth-Request-User", "grace"},
			auth:   Identity{Name: uuid},
			want:   Identity{Name: uuid, Kind: KindWeb},
		},
		{
			name: "too long is refused", remote: "127.0.0.1:5000",
			header: []string{"X-Auth-Request-User", strings.Repeat("g", 257)},
			auth:   Identity{Name: uuid},
			want:   Identity{Name: uuid, Kind: KindWeb},
		},
		{
			name: "control characters are refused", remote: "127.0.0.1:5000",
			header: []string{"X-Auth-Request-User", "grace\nadmin", "X-Auth-Request-Email", "g\x00@example.org"},
			auth:   Identity{Name: uuid},
			want:   Identity{Name: uuid, Kind: KindWeb},
		},
		{
			name: "configured header names", remote: "127.0.0.1:5000",
			header: append([]string{"x-forwarded-user", "hopper", "X-Forwarded-Email", "hopper@example.org"}, proxied...),
			auth:   Identity{Name: uuid},
			opts:   &HTTPOptions{TrustedProxies: Loopback(), UserHeader: "X-Forwarded-User", EmailHeader: "x-forwarded-email"},
			want:   Identity{ID: uuid, Name: "hopper", Email: "hopper@example.org", Kind: KindWeb},
		},
		{
			name: "configured opaque rule", remote: "127.0.0.1:5000", header: proxied,
			auth: Identity{Name: "anon-17"},
			opts: &HTTPOptions{TrustedProxies: Loopback(), Opaque: func(n string) bool { return strings.HasPrefix(n, "anon-") }},
			want: Identity{ID: "anon-17", Name: "grace", Email: "grace@example.org", Kind: KindWeb},
		},
		{
			name: "configured opaque rule replaces the default", remote: "127.0.0.1:5000", header: proxied,
			auth: Identity{Name: uuid},
			opts: &HTTPOptions{TrustedProxies: Loopback(), Opaque: func(n string) bool { return false }},
			want: Identity{Name: uuid, Kind: KindWeb},
		},
		{
			name: "IPv4-mapped loopback is trusted", remote: "[::ffff:127.0.0.1]:5000", header: proxied,
			auth: Identity{Name: uuid},
			want: Identity{ID: uuid, Name: "grace", Email: "grace@example.org", Kind: KindWeb},
		},
		{
			name: "garbage RemoteAddr is untrusted", remote: "127.0.0.1", header: proxied,
			auth: Identity{Name: uuid},
			want: Identity{ID: uuid, Name: "grace", Email: "grace@example.org", Kind: KindWeb},
		},
		{
			name: "unparseable RemoteAddr is untrusted", remote: "loopback:80", header: proxied,
			auth: Identity{Name: uuid},
			want: Identity{Name: uuid, Kind: KindWeb},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts == nil {
				opts = &HTTPOptions{TrustedProxies: Loopback()}
			}
			got := RequestIdentity(httpTestRequest(tt.remote, tt.header...), tt.auth, opts)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RequestIdentity = %+v, want %+v", got, tt.want)
			}
		})
	}
	if got, want := RequestIdentity(nil, Identity{Name: "ada"}, nil), (Identity{Name: "ada", Kind: KindWeb}); !reflect.DeepEqual(got, want) {
		t.Errorf("RequestIdentity(nil) = %+v, want %+v", got, want)
	}
}

func TestRequestIdentityHeaderMap(t *testing.T) {
	const opaque = "77b2f6f9-d104-492c-ac2d-aeddead2783f"
	lo := &HTTPOptions{TrustedProxies: Loopback()}
	tests := []struct {
		name   string
		remote string
		hdr    map[string][]string
		auth   Identity
		opts   *HTTPOptions
		want   Identity
	}{
		{"untrusted peer, opaque name", "203.0.113.9:1", map[string][]string{"X-Auth-Request-User": {"mallory"}},
			Identity{Name: opaque}, lo, Identity{Name: opaque, Kind: KindWeb}},
		{"no proxies configured (nil opts)", "127.0.0.1:1", map[string][]string{"X-Auth-Request-User": {"mallory"}},
			Identity{Name: opaque}, nil, Identity{Name: opaque, Kind: KindWeb}},
		{"trusted, name not opaque: header ignored", "127.0.0.1:1", map[string][]string{"X-Auth-Request-User": {"mallory"},
			"X-Auth-Request-Email": {"m@evil"}}, Identity{Name: "ada"}, lo, Identity{Name: "ada", Kind: KindWeb}},
		{"trusted, opaque: header taken", "127.0.0.1:1", map[string][]string{"X-Auth-Request-User": {"ada"},
			"X-Auth-Request-Email": {"ada@example.com"}}, Identity{Name: opaque}, lo,
			Identity{ID: opaque, Name: "ada", Email: "ada@example.com", Kind: KindWeb}},
		{"trusted, repeated header refused", "127.0.0.1:1", map[string][]string{"X-Auth-Request-User": {"mallory", "ada"}},
			Identity{Name: opaque}, lo, Identity{Name: opaque, Kind: KindWeb}},
		{"trusted, newline refused", "127.0.0.1:1", map[string][]string{"X-Auth-Request-User": {"ada\nlevel=ERROR"}},
			Identity{Name: opaque}, lo, Identity{Name: opaque, Kind: KindWeb}},
		{"trusted, NUL refused", "127.0.0.1:1", map[string][]string{"X-Auth-Request-User": {"ada\x00"}},
			Identity{Name: opaque}, lo, Identity{Name: opaque, Kind: KindWeb}},
		{"trusted, C1 control / bidi override", "127.0.0.1:1", map[string][]string{"X-Auth-Request-User": {"ada\u202egnp.exe"}},
			Identity{Name: opaque}, lo, Identity{Name: opaque, Kind: KindWeb}},
		{"trusted, only spaces", "127.0.0.1:1", map[string][]string{"X-Auth-Request-User": {"   "}},
			Identity{Name: opaque}, lo, Identity{Name: opaque, Kind: KindWeb}},
		{"trusted via XFF is not trust: peer untrusted", "203.0.113.9:1", map[string][]string{"X-Forwarded-For": {"127.0.0.1"},
			"X-Auth-Request-User": {"mallory"}}, Identity{}, lo, Identity{}},
		{"IPv4-mapped loopback peer is trusted", "[::ffff:127.0.0.1]:1", map[string][]string{"X-Auth-Request-User": {"ada"}},
			Identity{}, lo, Identity{Name: "ada", Kind: KindWeb}},
		{"non-canonical key in the map is not read", "127.0.0.1:1", map[string][]string{"x-auth-request-user": {"mallory"}},
			Identity{Name: opaque}, lo, Identity{Name: opaque, Kind: KindWeb}},
		{"underscore variant is not the header", "127.0.0.1:1", map[string][]string{"X_auth_request_user": {"mallory"}},
			Identity{Name: opaque}, lo, Identity{Name: opaque, Kind: KindWeb}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for k, v := range tt.hdr {
				r.Header[k] = v
			}
			got := RequestIdentity(r, tt.auth, tt.opts)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResolveIdentityActorKinds(t *testing.T) {
	cli := CLIIdentity()
	if cli.Kind != KindCLI {
		t.Errorf("CLIIdentity().Kind = %q, want %q", cli.Kind, KindCLI)
	}
	want := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		want = u.Username
	}
	if cli.Name != want {
		t.Errorf("CLIIdentity().Name = %q, want %q", cli.Name, want)
	}
	if got, want := JobIdentity("nightly-export"), (Identity{Name: "nightly-export", Kind: KindCron}); !reflect.DeepEqual(got, want) {
		t.Errorf("JobIdentity = %+v, want %+v", got, want)
	}
}

// FuzzResolveIdentity checks that identity headers change nothing unless
// the peer is trusted, and never panic.
func FuzzResolveIdentity(f *testing.F) {
	f.Add("127.0.0.1:1", "grace", "grace@example.org", "8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7d")
	f.Add("192.0.2.1:1", "admin", "", "")
	f.Add("[::1]:1", " ", "\x00", "ada")
	f.Fuzz(func(t *testing.T, remote, userHdr, email, name string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{}}
		r.Header.Set("X-Auth-Request-User", userHdr)
		r.Header.Set("X-Auth-Request-Email", email)
		auth := Identity{Name: name}
		got := RequestIdentity(r, auth, &HTTPOptions{TrustedProxies: Loopback()})
		a, ok := parseHop(remote)
		trusted := ok && Loopback().Contains(a)
		if !trusted || (name != "" && !IsOpaque(name)) {
			if got.Name != name || got.Email != "" || got.ID != "" {
				t.Fatalf("peer %q changed the identity: %+v", remote, got)
			}
			return
		}
		if got.Name != name && got.Name != strings.TrimSpace(userHdr) {
			t.Fatalf("name %q is neither the original nor the header", got.Name)
		}
	})
}

// Identity: Middleware.

// httpTestByEvent returns the one record with the given event.
func httpTestByEvent(t testing.TB, recs []map[string]any, event string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, r := range recs {
		if r["event"] == event {
			if found != nil {
				t.Fatalf("two records with event %q", event)
			}
			found = r
		}
	}
	if found == nil {
		t.Fatalf("no record with event %q in %v", event, recs)
	}
	return found
}

func TestMiddlewareServer(t *testing.T) {
	const uuid = "8c0a5ad4-1b7f-4a6e-9d3f-2e1c0b9a8f7d"
	sink := &lockedBuffer{}
	logger := jsonLogger(sink, nil)
	opts := &HTTPOptions{TrustedProxies: Loopback(), Logger: logger, LogStart: true}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The application's own authentication runs inside the middleware.
		ctx := WithIdentity(r.Context(), RequestIdentity(r, Identity{Name: uuid}, opts))
		logger.InfoContext(ctx, "Evaluating code", Event("code.evaluate"), "code", "7 + 13")
		if _, ok := w.(http.Flusher); !ok {
			t.Error("ResponseWriter lost http.Flusher")
		}
		if _, ok := w.(http.Hijacker); !ok {
			t.Error("ResponseWriter lost http.Hijacker")
		}
		w.Header().Set("Link", "</nb.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints) // interim: not the status
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "20")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
	})
	srv := httptest.NewServer(Middleware(app, opts))
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/api/kernels/k1/execute", strings.NewReader("7 + 13"))
	req.Header.Set("X-Forwarded-For", "198.51.100.66, 203.0.113.7")
	req.Header.Set("X-Request-Id", "req-7")
	req.Header.Set("User-Agent", "nbclient/1.0")
	req.Header.Set("X-Auth-Request-User", "grace")
	req.Header.Set("X-Auth-Request-Email", "grace@example.org")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	srv.Close() // waits for the handler, and so for the end event

	recs := lines(t, sink.Bytes(), false)
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3: %v", len(recs), recs)
	}
	common := map[string]any{
		RequestIDKey:  "req-7",
		MethodKey:     "POST",
		PathKey:       "/api/kernels/k1/execute",
		ClientAddrKey: "203.0.113.7",
		UserAgentKey:  "nbclient/1.0",
	}
	for _, rec := range recs {
		for k, want := range common {
			if rec[k] != want {
				t.Errorf("%v: %s = %v, want %v", rec["event"], k, rec[k], want)
			}
		}
	}
	// Before authentication, only the proxy's word is known; after it, the
	// application's opaque name is kept as the ID.
	start := httpTestByEvent(t, recs, RequestStartEvent)
	if want := map[string]any{"name": "grace", "email": "grace@example.org", "kind": "web"}; fmt.Sprint(start["user"]) != fmt.Sprint(want) {
		t.Errorf("start: user = %v, want %v", start["user"], want)
	}
	wantUser := map[string]any{"id": uuid, "name": "grace", "email": "grace@example.org", "kind": "web"}
	for _, ev := range []string{"code.evaluate", RequestEndEvent} {
		rec := httpTestByEvent(t, recs, ev)
		if fmt.Sprint(rec["user"]) != fmt.Sprint(wantUser) {
			t.Errorf("%s: user = %v, want %v", ev, rec["user"], wantUser)
		}
	}
	end := httpTestByEvent(t, recs, RequestEndEvent)
	for k, want := range map[string]any{StatusKey: 202.0, ResponseSizeKey: 2.0, RequestEndKey: true} {
		if end[k] != want {
			t.Errorf("end: %s = %v, want %v", k, end[k], want)
		}
	}
	if d, ok := end[DurationKey].(float64); !ok || d < 0 {
		t.Errorf("end: %s = %v, want a duration in ms", DurationKey, end[DurationKey])
	}
	for _, k := range []string{RequestBodyKey, ErrorTypeKey} {
		if _, ok := end[k]; ok {
			t.Errorf("end has %s = %v, want none", k, end[k])
		}
	}
	if _, ok := httpTestByEvent(t, recs, "code.evaluate")[RequestEndKey]; ok {
		t.Error("a record inside the request carries the last-record flag")
	}
}

// TestMiddlewareSpoofing sends the headers a client could forge to a
// server that trusts nobody, and to one that trusts loopback while the
// client claims to be behind it.
func TestMiddlewareSpoofing(t *testing.T) {
	tests := []struct {
		name    string
		trusted Proxies
		remote  string
	}{
		{"nobody trusted, loopback peer", nil, "127.0.0.1:40000"},
		{"loopback trusted, remote peer", Loopback(), "192.0.2.1:40000"},
		{"loopback trusted, IPv6 remote peer", Loopback(), "[2001:db8::1]:40000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &lockedBuffer{}
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
				&HTTPOptions{TrustedProxies: tt.trusted, Logger: jsonLogger(sink, nil)})
			r := httpTestRequest(tt.remote,
				"X-Forwarded-For", "10.0.0.1, 127.0.0.1",
				"X-Request-Id", "forged",
				"X-Auth-Request-User", "admin",
				"X-Auth-Request-Email", "admin@example.org")
			h.ServeHTTP(httptest.NewRecorder(), r)
			end := httpTestByEvent(t, lines(t, sink.Bytes(), false), RequestEndEvent)
			host, _, _ := net.SplitHostPort(tt.remote)
			if end[ClientAddrKey] != host {
				t.Errorf("%s = %v, want %v", ClientAddrKey, end[ClientAddrKey], host)
			}
			if id, _ := end[RequestIDKey].(string); id == "forged" || len(id) != 32 {
				t.Errorf("%s = %q, want a generated one", RequestIDKey, id)
			}
			if u, ok := end["user"]; ok {
				t.Errorf("user = %v, want none", u)
			}
		})
	}
}

func TestMiddlewareRequestID(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		ids    []string
		want   string // "" means generated
	}{
		{"trusted", "127.0.0.1:1", []string{"0af7651916cd43dd8448eb211c80319c"}, "0af7651916cd43dd8448eb211c80319c"},
		{"trusted, visible ASCII", "127.0.0.1:1", []string{"Root=1-5759e988-bd862e3fe1be46a994272793"}, "Root=1-5759e988-bd862e3fe1be46a994272793"},
		{"untrusted", "192.0.2.1:1", []string{"abc"}, ""},
		{"missing", "127.0.0.1:1", nil, ""},
		{"empty", "127.0.0.1:1", []string{""}, ""},
		{"space", "127.0.0.1:1", []string{"a b"}, ""},
		{"newline", "127.0.0.1:1", []string{"a\nb"}, ""},
		{"non-ASCII", "127.0.0.1:1", []string{"réq"}, ""},
		{"too long", "127.0.0.1:1", []string{strings.Repeat("a", 129)}, ""},
		{"longest", "127.0.0.1:1", []string{strings.Repeat("a", 128)}, strings.Repeat("a", 128)},
		{"repeated", "127.0.0.1:1", []string{"a", "b"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for _, a := range bindingFrom(r.Context()).attrs {
					if a.Key == RequestIDKey {
						got = a.Value.String()
					}
				}
			}), &HTTPOptions{TrustedProxies: Loopback()})
			r := httpTestRequest(tt.remote)
			for _, id := range tt.ids {
				r.Header.Add("X-Request-Id", id)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if tt.want != "" {
				if got != tt.want {
					t.Errorf("request id = %q, want %q", got, tt.want)
				}
				return
			}
			if len(got) != 32 || strings.Trim(got, "0123456789abcdef") != "" {
				t.Errorf("request id = %q, want 32 hex digits", got)
			}
		})
	}
}

// httpTestWriter is a ResponseWriter with a chosen set of optional
// interfaces.
type httpTestWriter struct {
	*httptest.ResponseRecorder
	hijacked bool
}

func (w *httpTestWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return nil, nil, nil
}

// httpTestPlain hides every optional interface but Unwrap.
type httpTestPlain struct{ http.ResponseWriter }

func (w httpTestPlain) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type httpTestHijackOnly struct {
	http.ResponseWriter
	h http.Hijacker
}

func (w httpTestHijackOnly) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.h.Hijack() }

func TestMiddlewareResponseWriter(t *testing.T) {
	tests := []struct {
		name         string
		writer       func(rec *httptest.ResponseRecorder, tw *httpTestWriter) http.ResponseWriter
		flush, hjack bool
		handler      func(w http.ResponseWriter, r *http.Request)
		status       float64
		size         float64
		panics       bool
	}{
		{
			name:    "nothing written is 200",
			writer:  func(rec *httptest.ResponseRecorder, _ *httpTestWriter) http.ResponseWriter { return rec },
			flush:   true,
			handler: func(w http.ResponseWriter, r *http.Request) {},
			status:  200,
		},
		{
			name:    "write without WriteHeader is 200",
			writer:  func(rec *httptest.ResponseRecorder, _ *httpTestWriter) http.ResponseWriter { return rec },
			flush:   true,
			handler: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") },
			status:  200, size: 5,
		},
		{
			name:   "first status wins",
			writer: func(rec *httptest.ResponseRecorder, _ *httpTestWriter) http.ResponseWriter { return rec },
			flush:  true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNotFound)
				w.WriteHeader(http.StatusOK) // superfluous
				io.WriteString(w, "no")
			},
			status: 404, size: 2,
		},
		{
			name:   "io.Copy goes through ReadFrom",
			writer: func(rec *httptest.ResponseRecorder, _ *httpTestWriter) http.ResponseWriter { return rec },
			flush:  true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				io.Copy(w, strings.NewReader(strings.Repeat("x", 10000)))
			},
			status: 200, size: 10000,
		},
		{
			name:   "flush sends 200",
			writer: func(rec *httptest.ResponseRecorder, _ *httpTestWriter) http.ResponseWriter { return rec },
			flush:  true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.(http.Flusher).Flush()
			},
			status: 200,
		},
		{
			name:   "flush through ResponseController",
			writer: func(rec *httptest.ResponseRecorder, _ *httpTestWriter) http.ResponseWriter { return httpTestPlain{rec} },
			handler: func(w http.ResponseWriter, r *http.Request) {
				if err := http.NewResponseController(w).Flush(); err != nil {
					panic(err)
				}
			},
			status: 200,
		},
		{
			name:   "flusher and hijacker",
			writer: func(_ *httptest.ResponseRecorder, tw *httpTestWriter) http.ResponseWriter { return tw },
			flush:  true, hjack: true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.(http.Hijacker).Hijack()
			},
			status: 101,
		},
		{
			name: "hijacker only",
			writer: func(rec *httptest.ResponseRecorder, tw *httpTestWriter) http.ResponseWriter {
				return httpTestHijackOnly{httpTestPlain{rec}, tw}
			},
			hjack: true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.NewResponseController(w).Hijack()
			},
			status: 101,
		},
		{
			name:    "neither",
			writer:  func(rec *httptest.ResponseRecorder, _ *httpTestWriter) http.ResponseWriter { return httpTestPlain{rec} },
			handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) },
			status:  204,
		},
		{
			name:    "panic before writing",
			writer:  func(rec *httptest.ResponseRecorder, _ *httpTestWriter) http.ResponseWriter { return rec },
			flush:   true,
			handler: func(w http.ResponseWriter, r *http.Request) { panic("boom") },
			status:  500, panics: true,
		},
		{
			name:   "panic after writing",
			writer: func(rec *httptest.ResponseRecorder, _ *httpTestWriter) http.ResponseWriter { return rec },
			flush:  true,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusCreated)
				panic(http.ErrAbortHandler)
			},
			status: 201, panics: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &lockedBuffer{}
			var gotFlush, gotHijack bool
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, gotFlush = w.(http.Flusher)
				_, gotHijack = w.(http.Hijacker)
				tt.handler(w, r)
			}), &HTTPOptions{Logger: jsonLogger(sink, nil)})
			rec := httptest.NewRecorder()
			w := tt.writer(rec, &httpTestWriter{ResponseRecorder: rec})
			func() {
				defer func() {
					if p := recover(); (p != nil) != tt.panics {
						t.Errorf("panic = %v, want panic %v", p, tt.panics)
					}
				}()
				h.ServeHTTP(w, httpTestRequest("192.0.2.1:1"))
			}()
			if gotFlush != tt.flush || gotHijack != tt.hjack {
				t.Errorf("Flusher, Hijacker = %v, %v; want %v, %v", gotFlush, gotHijack, tt.flush, tt.hjack)
			}
			end := httpTestByEvent(t, lines(t, sink.Bytes(), false), RequestEndEvent)
			if end[StatusKey] != tt.status || end[ResponseSizeKey] != tt.size {
				t.Errorf("status, size = %v, %v; want %v, %v", end[StatusKey], end[ResponseSizeKey], tt.status, tt.size)
			}
			if _, ok := end[ErrorTypeKey]; ok != tt.panics {
				t.Errorf("%s = %v, want present %v", ErrorTypeKey, end[ErrorTypeKey], tt.panics)
			}
			if end[RequestEndKey] != true {
				t.Errorf("%s = %v, want true", RequestEndKey, end[RequestEndKey])
			}
		})
	}
	rw := &responseWriter{ResponseWriter: httptest.NewRecorder()}
	if rw.Unwrap() != rw.ResponseWriter {
		t.Error("Unwrap does not return the wrapped ResponseWriter")
	}
}

func TestMiddlewareBody(t *testing.T) {
	long := strings.Repeat("z", reqbody.Max+100)
	tests := []struct {
		name    string
		logBody func(*http.Request) bool
		ctype   string
		body    string
		read    bool
		want    string // JSON of the body attr; "" means absent
		size    float64
	}{
		{name: "never by default", ctype: "text/plain", body: "hello", read: true},
		{name: "not asked for", logBody: func(*http.Request) bool { return false }, ctype: "text/plain", body: "hello", read: true},
		{name: "text", logBody: httpTestBodyHeader, ctype: "text/plain", body: "hello", read: true, want: `"hello"`, size: 5},
		{name: "form as fields", logBody: httpTestBodyHeader, ctype: "application/x-www-form-urlencoded", body: "user=ada&password=hunter2", read: true,
			want: `{"password":"[REDACTED]","user":["ada"]}`, size: 25}, // the Handler's redaction reaches the fields
		{name: "JSON as fields", logBody: httpTestBodyHeader, ctype: "application/json; charset=utf-8", body: `{"user":"ada","token":"t0k"}`, read: true,
			want: `{"token":"[REDACTED]","user":"ada"}`, size: 28},
		{name: "JSON numbers as written", logBody: httpTestBodyHeader, ctype: "application/fhir+json", body: `{"id":12345678901234567890}` + "\n", read: true,
			want: `{"id":12345678901234567890}`, size: 28},
		{name: "JSON with trailing data is left out", logBody: httpTestBodyHeader, ctype: "application/json", body: `{"a":1} {"b":2}`, read: true, size: 15},
		{name: "cut JSON is left out", logBody: httpTestBodyHeader, ctype: "application/json", body: `{"a":"` + long + `"}`, read: true,
			size: float64(len(long) + 8)},
		{name: "text is cut at 4 KiB", logBody: httpTestBodyHeader, ctype: "text/plain", body: long, read: true,
			want: `"` + long[:reqbody.Max] + `"`, size: float64(len(long))},
		{name: "unread body", logBody: httpTestBodyHeader, ctype: "text/plain", body: "hello", size: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &lockedBuffer{}
			var got string
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.read {
					b, _ := io.ReadAll(r.Body)
					got = string(b)
				}
			}), &HTTPOptions{Logger: jsonLogger(sink, nil), LogBody: tt.logBody})
			r := httptest.NewRequest("POST", "/login", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ctype)
			r.Header.Set("X-Audit-Body", "true")
			h.ServeHTTP(httptest.NewRecorder(), r)
			if raw := sink.String(); strings.Contains(raw, "hunter2") || strings.Contains(raw, "t0k") {
				t.Errorf("secret in a logged body: %s", raw)
			}
			if tt.read && got != tt.body {
				t.Errorf("handler read %d bytes, want %d", len(got), len(tt.body))
			}
			end := httpTestByEvent(t, lines(t, sink.Bytes(), false), RequestEndEvent)
			body, ok := end[RequestBodyKey]
			if tt.want == "" {
				if ok {
					t.Errorf("%s = %v, want none", RequestBodyKey, body)
				}
			} else if raw := sink.String(); !strings.Contains(raw, `"`+RequestBodyKey+`":`+tt.want+`,`) {
				t.Errorf("record %s lacks %s = %s", raw, RequestBodyKey, tt.want)
			}
			if tt.logBody == nil || !tt.logBody(r) {
				if _, ok := end[RequestBodySizeKey]; ok {
					t.Errorf("%s present without LogBody", RequestBodySizeKey)
				}
			} else if end[RequestBodySizeKey] != tt.size {
				t.Errorf("%s = %v, want %v", RequestBodySizeKey, end[RequestBodySizeKey], tt.size)
			}
		})
	}
}

func httpTestBodyHeader(r *http.Request) bool { return r.Header.Get("X-Audit-Body") == "true" }

func TestMiddlewareBinding(t *testing.T) {
	sink := &lockedBuffer{}
	logger := jsonLogger(sink, nil)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "inside", Event("file.upload"))
	})
	tests := []struct {
		name string
		opts *HTTPOptions
		ctx  context.Context
		want map[string]any // keys of the record logged inside
	}{
		{
			name: "nil options",
			ctx:  context.Background(),
			want: map[string]any{ClientAddrKey: "192.0.2.1", MethodKey: "GET", PathKey: "/notebooks/a.ipynb", "user": nil, UserAgentKey: nil},
		},
		{
			name: "outer bindings are kept",
			ctx:  WithIdentity(With(context.Background(), "tenant", "acme", "url.path", "/outer"), Identity{Name: "ada"}),
			want: map[string]any{"tenant": "acme", PathKey: "/notebooks/a.ipynb", "user": map[string]any{"name": "ada", "kind": "web"}},
		},
		{
			name: "Authenticated hook",
			opts: &HTTPOptions{Authenticated: func(r *http.Request) (Identity, bool) { return Identity{ID: "7", Name: "hopper"}, true }},
			ctx:  WithIdentity(context.Background(), Identity{Name: "ada"}),
			want: map[string]any{"user": map[string]any{"id": "7", "name": "hopper", "kind": "web"}},
		},
		{
			name: "Authenticated hook finds nobody",
			opts: &HTTPOptions{Authenticated: func(r *http.Request) (Identity, bool) { return Identity{Name: "ignored"}, false }},
			ctx:  context.Background(),
			want: map[string]any{"user": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink.Reset()
			r := httpTestRequest("192.0.2.1:1").WithContext(tt.ctx)
			Middleware(app, tt.opts).ServeHTTP(httptest.NewRecorder(), r)
			recs := lines(t, sink.Bytes(), false)
			if len(recs) != 1 {
				t.Fatalf("got %d records, want only the one inside: %v", len(recs), recs)
			}
			for k, want := range tt.want {
				if got := recs[0][k]; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s = %v, want %v", k, got, want)
				}
			}
			if id, _ := recs[0][RequestIDKey].(string); len(id) != 32 {
				t.Errorf("%s = %q", RequestIDKey, id)
			}
		})
	}
	var called bool
	Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = r == nil }), nil).ServeHTTP(httptest.NewRecorder(), nil)
	if !called {
		t.Error("a nil request did not reach the handler")
	}
}

// TestMiddlewareConcurrent runs many requests at once, each binding its own
// identity late, and checks that no record carries another request's id or
// identity.
func TestMiddlewareConcurrent(t *testing.T) {
	sink := &lockedBuffer{}
	logger := jsonLogger(sink, nil)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := r.Header.Get("X-Test-User")
		ctx := r.Context()
		if r.URL.Query().Get("late") == "1" {
			ctx = WithIdentity(ctx, Identity{Name: who})
		}
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				logger.InfoContext(ctx, "work", Event("work.step"), "who", who)
			}()
		}
		wg.Wait()
	})
	h := Middleware(app, &HTTPOptions{
		TrustedProxies: Loopback(),
		Logger:         logger,
		LogStart:       true,
		Authenticated: func(r *http.Request) (Identity, bool) {
			if r.URL.Query().Get("late") == "1" {
				return Identity{}, false
			}
			return Identity{Name: r.Header.Get("X-Test-User")}, true
		},
	})
	const n = 200
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := httpTestRequest("127.0.0.1:1",
				"X-Test-User", fmt.Sprintf("user-%d", i),
				"X-Request-Id", fmt.Sprintf("req-%d", i))
			r.URL.RawQuery = fmt.Sprintf("late=%d", i%2)
			h.ServeHTTP(httptest.NewRecorder(), r)
		}(i)
	}
	wg.Wait()
	recs := lines(t, sink.Bytes(), false)
	if len(recs) != n*5 {
		t.Fatalf("got %d records, want %d", len(recs), n*5)
	}
	ends := map[string]int{}
	for _, rec := range recs {
		id, _ := rec[RequestIDKey].(string)
		i, err := strconv.Atoi(strings.TrimPrefix(id, "req-"))
		if err != nil {
			t.Fatalf("record with %s %q", RequestIDKey, id)
		}
		want := fmt.Sprintf("user-%d", i)
		if who, ok := rec["who"]; ok && who != want {
			t.Errorf("record of %s says who = %v", id, who)
		}
		u, _ := rec["user"].(map[string]any)
		if late := i%2 == 1; late && rec["event"] == RequestStartEvent {
			if u != nil {
				t.Errorf("start of %s has user %v before it was bound", id, u)
			}
			continue
		}
		if u == nil || u["name"] != want {
			t.Errorf("%v of %s has user %v, want %s", rec["event"], id, rec["user"], want)
		}
		if rec["event"] == RequestEndEvent {
			ends[id]++
		}
	}
	if len(ends) != n {
		t.Errorf("%d requests have an end event, want %d", len(ends), n)
	}
}

// TestMiddlewareRawRequests runs requests through a real server with raw header
// bytes, so header case, repetition and odd bytes reach Middleware as a
// client sends them.
func TestMiddlewareRawRequests(t *testing.T) {
	var buf lockedBuffer
	logger := jsonLogger(&buf, nil)
	mk := func(trusted Proxies) http.Handler {
		return Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
		}), &HTTPOptions{TrustedProxies: trusted, Logger: logger,
			LogBody:       func(*http.Request) bool { return true },
			Authenticated: func(*http.Request) (Identity, bool) { return Identity{Name: "77b2f6f9d104492cac2daeddead2783f"}, true }})
	}
	tests := []struct {
		name    string
		trusted Proxies
		raw     string
		check   func(rec map[string]any) string // "" when safe
	}{
		{"untrusted peer: request id, user, XFF ignored", nil,
			"GET / HTTP/1.1\r\nHost: x\r\nx-request-id: evil-id\r\nX-AUTH-REQUEST-USER: mallory\r\nX-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n\r\n",
			func(rec map[string]any) string {
				if rec[RequestIDKey] == "evil-id" || fmt.Sprint(rec["user"]) != "map[kind:web name:77b2f6f9d104492cac2daeddead2783f]" || rec[ClientAddrKey] != "127.0.0.1" {
					return "spoofed header believed"
				}
				return ""
			}},
		{"trusted peer: request id with quote and backslash kept, newline impossible", Loopback(),
			"GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\"b\\c\r\nX-Auth-Request-User: ada\r\n\r\n",
			func(rec map[string]any) string {
				if rec[RequestIDKey] != `a"b\c` {
					return fmt.Sprintf("request id %q", rec[RequestIDKey])
				}
				return ""
			}},
		{"trusted peer: repeated request id refused", Loopback(),
			"GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: one\r\nX-Request-Id: two\r\n\r\n",
			func(rec map[string]any) string {
				if rec[RequestIDKey] == "one" || rec[RequestIDKey] == "two" {
					return "repeated request id believed"
				}
				return ""
			}},
		{"JSON login body sent as text/plain (fetch's default)", nil,
			"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 46\r\n\r\n" +
				`{"user":"ada","password":"` + alnumSecret + `"}`,
			func(rec map[string]any) string {
				if strings.Contains(fmt.Sprint(rec), alnumSecret) {
					return "password in body leaked"
				}
				return ""
			}},
		{"JSON login body without Content-Type", nil,
			"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 46\r\n\r\n" + `{"user":"ada","password":"` + alnumSecret + `"}`,
			func(rec map[string]any) string {
				if strings.Contains(fmt.Sprint(rec), alnumSecret) {
					return "password in body leaked"
				}
				return ""
			}},
		{"multipart login form", nil,
			"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 87\r\n\r\n" +
				"--XX\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n" + alnumSecret + "\r\n--XX--\r\n",
			func(rec map[string]any) string {
				if strings.Contains(fmt.Sprint(rec), alnumSecret) {
					return "password in body leaked"
				}
				return ""
			}},
		{"form body with encoded key", nil,
			"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 30\r\n\r\n" +
				"pass%77ord=" + alnumSecret,
			func(rec map[string]any) string {
				if strings.Contains(fmt.Sprint(rec), alnumSecret) {
					return "password in body leaked"
				}
				return ""
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf.Reset()
			srv := httptest.NewServer(mk(tt.trusted))
			defer srv.Close()
			raw := tt.raw
			if i := strings.Index(raw, "Content-Length: "); i >= 0 {
				// Fix up the length to the body actually sent.
				body := raw[strings.Index(raw, "\r\n\r\n")+4:]
				j := i + len("Content-Length: ")
				k := j + strings.Index(raw[j:], "\r\n")
				raw = raw[:j] + fmt.Sprint(len(body)) + raw[k:]
			}
			resp := rawRequest(t, srv.URL, raw+"")
			if !strings.HasPrefix(resp, "HTTP/1.1 200") {
				t.Fatalf("response: %q", resp)
			}
			out := buf.String()
			recs := lines(t, []byte(out), false)
			if len(recs) != 1 {
				t.Fatalf("output %q: want one record", out)
			}
			if msg := tt.check(recs[0]); msg != "" {
				t.Errorf("%s: %s", msg, out)
			}
		})
	}
}

func rawRequest(t *testing.T, srvURL, raw string) string {
	t.Helper()
	u, _ := url.Parse(srvURL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw = strings.Replace(raw, "HTTP/1.1\r\n", "HTTP/1.1\r\nConnection: close\r\n", 1)
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// BenchmarkMiddleware compares a bare handler with the same handler behind
// Middleware, without and with events.
func BenchmarkMiddleware(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok")
	})
	r := httptest.NewRequest("GET", "/api/contents/a.ipynb", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64)")
	run := func(b *testing.B, h http.Handler) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
	}
	logger := jsonLogger(io.Discard, nil)
	b.Run("bare", func(b *testing.B) { run(b, app) })
	b.Run("audit", func(b *testing.B) { run(b, Middleware(app, nil)) })
	b.Run("audit-events", func(b *testing.B) {
		run(b, Middleware(app, &HTTPOptions{Logger: logger}))
	})
	b.Run("audit-start-end", func(b *testing.B) {
		run(b, Middleware(app, &HTTPOptions{Logger: logger, LogStart: true}))
	})
}

// TestIdentityHeaders covers the identity headers a trusted proxy sends:
// anything that is not one plain value is refused, and the authenticated
// identity kept.
func TestIdentityHeaders(t *testing.T) {
	const opaque = "8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7d"
	auth := Identity{Name: opaque}
	kept := Identity{Name: opaque, Kind: KindWeb}
	grace := Identity{ID: opaque, Name: "grace", Kind: KindWeb}
	tests := []struct {
		name   string
		header []string // pairs, added in order
		want   Identity
	}{
		{"one plain value", []string{"X-Auth-Request-User", "grace"}, grace},
		{"surrounding spaces trimmed", []string{"X-Auth-Request-User", " grace\t"}, grace},
		{"e-mail", []string{"X-Auth-Request-Email", "grace@example.org"}, Identity{Name: opaque, Email: "grace@example.org", Kind: KindWeb}},
		{"repeated header", []string{"X-Auth-Request-User", "grace", "X-Auth-Request-User", "mallory"}, kept},
		{"comma-joined", []string{"X-Auth-Request-User", "grace,mallory"}, kept},
		{"comma-joined with a space", []string{"X-Auth-Request-User", "grace, mallory"}, kept},
		{"comma-joined e-mail", []string{"X-Auth-Request-Email", "grace@example.org, mallory@example.org"}, kept},
		{"U+2028 line separator", []string{"X-Auth-Request-User", "grace\u2028user=admin"}, kept},
		{"U+2029 paragraph separator", []string{"X-Auth-Request-User", "grace\u2029admin"}, kept},
		{"U+0085 next line", []string{"X-Auth-Request-User", "grace\u0085admin"}, kept},
		{"U+202E bidi override (Cf)", []string{"X-Auth-Request-User", "grace\u202enimda"}, kept},
		{"U+200B zero-width space (Cf)", []string{"X-Auth-Request-User", "gr\u200bace"}, kept},
		{"U+FEFF byte order mark (Cf)", []string{"X-Auth-Request-User", "\ufeffgrace"}, kept},
		{"NUL", []string{"X-Auth-Request-User", "grace\x00admin"}, kept},
		{"tab inside", []string{"X-Auth-Request-User", "grace\tadmin"}, kept},
		{"obs-fold, raw", []string{"X-Auth-Request-User", "grace\r\n mallory"}, kept},
		{"obs-fold, as net/http unfolds it", []string{"X-Auth-Request-User", "grace mallory"}, kept},
		{"invalid UTF-8", []string{"X-Auth-Request-User", "grace\xff"}, kept},
		{"at the cap", []string{"X-Auth-Request-User", strings.Repeat("g", MaxIdentityHeader)}, Identity{ID: opaque, Name: strings.Repeat("g", MaxIdentityHeader), Kind: KindWeb}},
		{"over the cap", []string{"X-Auth-Request-User", strings.Repeat("g", MaxIdentityHeader+1)}, kept},
		{"huge", []string{"X-Auth-Request-User", strings.Repeat("g", 512<<10)}, kept},
		{"non-ASCII letters are fine", []string{"X-Auth-Request-User", "grâce"}, Identity{ID: opaque, Name: "grâce", Kind: KindWeb}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "127.0.0.1:5000"
			for i := 0; i+1 < len(tt.header); i += 2 {
				r.Header[tt.header[i]] = append(r.Header[tt.header[i]], tt.header[i+1])
			}
			got := RequestIdentity(r, auth, &HTTPOptions{TrustedProxies: Loopback()})
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestIdentityHeaderObsFold sends a folded header line over a real
// connection. net/http (as of Go 1.26) accepts it and unfolds it into one
// line with a space, which is refused; a server that rejects the request
// outright refuses it too.
func TestIdentityHeaderObsFold(t *testing.T) {
	const opaque = "8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7d"
	got := make(chan Identity, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- RequestIdentity(r, Identity{Name: opaque}, &HTTPOptions{TrustedProxies: Loopback()})
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nX-Auth-Request-User: grace\r\n mallory\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return // rejected by the server
	}
	if id := <-got; id.Name != opaque {
		t.Errorf("folded header accepted: %+v", id)
	}
}

// TestZones covers IPv6 zones in X-Forwarded-For and RemoteAddr.
func TestZones(t *testing.T) {
	tests := []struct {
		name, remote, xff, want string
	}{
		{"interface name", "127.0.0.1:1", "fe80::1%eth0", "fe80::1%eth0"},
		{"numeric index", "127.0.0.1:1", "fe80::1%25", "fe80::1%25"},
		{"bracketed with a port", "127.0.0.1:1", "[fe80::1%en0]:443", "fe80::1%en0"},
		{"dotted VLAN name", "127.0.0.1:1", "fe80::1%wlan0.100", "fe80::1%wlan0.100"},
		{"15 bytes", "127.0.0.1:1", "fe80::1%" + strings.Repeat("a", MaxZone), "fe80::1%" + strings.Repeat("a", MaxZone)},
		{"16 bytes: the walk stops", "127.0.0.1:1", "fe80::1%" + strings.Repeat("a", MaxZone+1), "127.0.0.1"},
		{"huge", "127.0.0.1:1", "fe80::1%" + strings.Repeat("a", 512<<10), "127.0.0.1"},
		{"markup", "127.0.0.1:1", "fe80::1%<script>", "127.0.0.1"},
		{"U+2028", "127.0.0.1:1", "fe80::1%eth0\u2028admin", "127.0.0.1"},
		{"space", "127.0.0.1:1", "[fe80::1%eth 0]:1", "127.0.0.1"},
		{"percent in the zone", "127.0.0.1:1", "fe80::1%eth%0", "127.0.0.1"},
		{"empty zone", "127.0.0.1:1", "fe80::1%", "127.0.0.1"},
		{"bad zone to the left of a good hop", "127.0.0.1:1", "fe80::1%<x>, 203.0.113.7", "203.0.113.7"},
		{"peer with a bad zone: not an address", "[fe80::1%<x>]:80", "", "fe80::1%<x>"},
		{"loopback peer with a bad zone is not trusted", "[::1%<x>]:80", "203.0.113.7", "::1%<x>"},
		{"a lone percent", "%", "", "%"},
		{"untrusted peer with a good zone", "[fe80::1%eth0]:80", "", "fe80::1%eth0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := ClientAddr(r, Loopback()); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRequestHeaderCaps covers the User-Agent and request id that
// Middleware writes into every record of a request.
func TestRequestHeaderCaps(t *testing.T) {
	long := strings.Repeat("a", 512<<10)
	accents := strings.Repeat("é", 600) // 2 bytes each: cut at a character boundary
	tests := []struct {
		name   string
		header []string
		ua     func(t *testing.T, ua any)
		id     func(t *testing.T, id string)
	}{
		{
			name: "512 KiB User-Agent", header: []string{"User-Agent", long},
			ua: wantUA(strings.Repeat("a", MaxUserAgent-len(TruncationMarker)) + TruncationMarker),
		},
		{
			name: "User-Agent at the cap", header: []string{"User-Agent", long[:MaxUserAgent]},
			ua: wantUA(long[:MaxUserAgent]),
		},
		{
			name: "User-Agent one over the cap", header: []string{"User-Agent", long[:MaxUserAgent+1]},
			ua: wantUA(long[:MaxUserAgent-len(TruncationMarker)] + TruncationMarker),
		},
		{
			name: "multi-byte User-Agent", header: []string{"User-Agent", accents},
			ua: func(t *testing.T, ua any) {
				s, _ := ua.(string)
				if len(s) > MaxUserAgent || !strings.HasSuffix(s, TruncationMarker) || !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
					t.Errorf("User-Agent = %q (%d bytes)", s, len(s))
				}
			},
		},
		{
			name: "User-Agent with U+2028 and a bidi override", header: []string{"User-Agent", "curl/8\u2028INFO forged\u202e"},
			ua: wantUA("curl/8\uFFFDINFO forged\uFFFD"),
		},
		{
			name: "User-Agent with invalid UTF-8 and NEL", header: []string{"User-Agent", "a\xffb\u0085c"},
			ua: wantUA("a\uFFFDb\uFFFDc"),
		},
		{
			name: "ordinary User-Agent", header: []string{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"},
			ua: wantUA("Mozilla/5.0 (X11; Linux x86_64)"),
		},
		{
			name: "request id at the cap", header: []string{"X-Request-Id", strings.Repeat("r", MaxRequestID)},
			id: func(t *testing.T, id string) {
				if id != strings.Repeat("r", MaxRequestID) {
					t.Errorf("request id = %q", id)
				}
			},
		},
		{name: "request id over the cap", header: []string{"X-Request-Id", strings.Repeat("r", MaxRequestID+1)}, id: wantGeneratedID},
		{name: "huge request id", header: []string{"X-Request-Id", long}, id: wantGeneratedID},
		{name: "comma-joined request ids", header: []string{"X-Request-Id", "r1,r2"}, id: wantGeneratedID},
		{name: "repeated request id", header: []string{"X-Request-Id", "r1", "X-Request-Id", "r2"}, id: wantGeneratedID},
		{name: "request id with U+2028", header: []string{"X-Request-Id", "r1\u2028r2"}, id: wantGeneratedID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &mwFlakyWriter{}
			logger := w.logger()
			h := Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				logger.InfoContext(r.Context(), "inside", Event("x"))
			}), &HTTPOptions{TrustedProxies: Loopback(), Logger: logger, LogStart: true})
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "127.0.0.1:1"
			for i := 0; i+1 < len(tt.header); i += 2 {
				r.Header[tt.header[i]] = append(r.Header[tt.header[i]], tt.header[i+1])
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			recs := w.records()
			if len(recs) != 3 {
				t.Fatalf("got %d records, want 3", len(recs))
			}
			for _, rec := range recs {
				if tt.ua != nil {
					tt.ua(t, rec[UserAgentKey])
				}
				if tt.id != nil {
					id, _ := rec[RequestIDKey].(string)
					tt.id(t, id)
				}
			}
		})
	}
}

// TestIdentityCopies checks that nothing the package hands out, or was
// handed, can change an identity once bound.
func TestIdentityCopies(t *testing.T) {
	tests := []struct {
		name string
		// bind binds an identity with roles [admin] and returns the context
		// and a func that tries to change it afterwards.
		bind func(ctx context.Context) (context.Context, func())
	}{
		{"caller's slice after WithIdentity", func(ctx context.Context) (context.Context, func()) {
			roles := []string{"admin"}
			ctx = WithIdentity(ctx, Identity{Name: "ada", Roles: roles})
			return ctx, func() { roles[0] = "root" }
		}},
		{"Roles returned by IdentityFrom", func(ctx context.Context) (context.Context, func()) {
			ctx = WithIdentity(ctx, Identity{Name: "ada", Roles: []string{"admin"}})
			return ctx, func() {
				id, _ := IdentityFrom(ctx)
				id.Roles[0] = "root"
				_ = append(id.Roles[:0], "root")
			}
		}},
		{"slice returned by Authenticated", func(ctx context.Context) (context.Context, func()) {
			roles := []string{"admin"}
			var bound context.Context
			Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { bound = r.Context() }),
				&HTTPOptions{Authenticated: func(*http.Request) (Identity, bool) {
					return Identity{Name: "ada", Roles: roles}, true
				}}).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil).WithContext(ctx))
			return bound, func() { roles[0] = "root" }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil), nil))
			ctx, mutate := tt.bind(context.Background())
			logger.InfoContext(ctx, "before")
			mutate()
			logger.InfoContext(ctx, "after")
			if id, _ := IdentityFrom(ctx); fmt.Sprint(id.Roles) != "[admin]" {
				t.Errorf("IdentityFrom: roles %v, want [admin]", id.Roles)
			}
			recs := lines(t, buf.Bytes(), false)
			for _, rec := range recs {
				user, _ := rec["user"].(map[string]any)
				if fmt.Sprint(user["roles"]) != "[admin]" {
					t.Errorf("%s: user = %v, want roles [admin]", rec["msg"], rec["user"])
				}
			}
		})
	}
}

// TestNestedMiddleware puts a Middleware inside another on one request:
// one request id, one start and one end event, with the identity the inner
// one resolved.
func TestNestedMiddleware(t *testing.T) {
	ada := func(*http.Request) (Identity, bool) { return Identity{ID: "7", Name: "ada"}, true }
	tests := []struct {
		name         string
		outer, inner func(l *slog.Logger) *HTTPOptions
		wantEvents   int    // start and end events
		wantUser     string // name in the end event
	}{
		{
			name:       "both log, inner authenticates",
			outer:      func(l *slog.Logger) *HTTPOptions { return &HTTPOptions{Logger: l, LogStart: true} },
			inner:      func(l *slog.Logger) *HTTPOptions { return &HTTPOptions{Logger: l, LogStart: true, Authenticated: ada} },
			wantEvents: 2, wantUser: "ada",
		},
		{
			name:       "only the outer logs",
			outer:      func(l *slog.Logger) *HTTPOptions { return &HTTPOptions{Logger: l, LogStart: true} },
			inner:      func(l *slog.Logger) *HTTPOptions { return &HTTPOptions{Authenticated: ada} },
			wantEvents: 2, wantUser: "ada",
		},
		{
			name:       "only the inner logs",
			outer:      func(l *slog.Logger) *HTTPOptions { return nil },
			inner:      func(l *slog.Logger) *HTTPOptions { return &HTTPOptions{Logger: l, LogStart: true, Authenticated: ada} },
			wantEvents: 2, wantUser: "ada",
		},
		{
			name:       "outer authenticates, inner finds nobody",
			outer:      func(l *slog.Logger) *HTTPOptions { return &HTTPOptions{Logger: l, Authenticated: ada} },
			inner:      func(l *slog.Logger) *HTTPOptions { return &HTTPOptions{Logger: l} },
			wantEvents: 1, wantUser: "ada",
		},
		{
			name:  "three deep",
			outer: func(l *slog.Logger) *HTTPOptions { return &HTTPOptions{Logger: l, LogStart: true} },
			inner: func(l *slog.Logger) *HTTPOptions {
				return &HTTPOptions{Logger: l, Authenticated: func(*http.Request) (Identity, bool) { return Identity{Name: "grace"}, true }}
			},
			wantEvents: 2, wantUser: "grace",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &mwFlakyWriter{}
			logger := w.logger()
			var ids []string
			app := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				id, _ := RequestID(r.Context())
				ids = append(ids, id)
				logger.InfoContext(r.Context(), "inside", Event("file.read"))
				rw.WriteHeader(http.StatusAccepted)
			})
			var h http.Handler = Middleware(app, tt.inner(logger))
			if tt.name == "three deep" {
				h = Middleware(h, tt.inner(logger))
			}
			h = Middleware(h, tt.outer(logger))
			r := httptest.NewRequest("GET", "/api/x", nil)
			r.RemoteAddr = "192.0.2.1:1"
			h.ServeHTTP(httptest.NewRecorder(), r)

			recs := w.records()
			starts, ends := mwEvents(recs, RequestStartEvent), mwEvents(recs, RequestEndEvent)
			if len(ends) != 1 || len(starts)+len(ends) != tt.wantEvents {
				t.Fatalf("%d start and %d end events, want %d events and one end:\n%v", len(starts), len(ends), tt.wantEvents, recs)
			}
			if len(ids) != 1 || !idPattern.MatchString(ids[0]) {
				t.Fatalf("request ids seen inside: %q", ids)
			}
			for _, rec := range recs {
				if rec[RequestIDKey] != ids[0] {
					t.Errorf("%s: request id %v, want %s", rec["event"], rec[RequestIDKey], ids[0])
				}
			}
			end := ends[0]
			if user, _ := end["user"].(map[string]any); user["name"] != tt.wantUser {
				t.Errorf("end event user = %v, want %s", end["user"], tt.wantUser)
			}
			if end[StatusKey] != float64(http.StatusAccepted) {
				t.Errorf("end status = %v", end[StatusKey])
			}
		})
	}
}

// TestMiddlewareConstruction checks that a Middleware that cannot work
// fails when it is made, not on the first request.
func TestMiddlewareConstruction(t *testing.T) {
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	tests := []struct {
		name string
		next http.Handler
		opts *HTTPOptions
		want string // the panic message, "" for none
	}{
		{"nil handler", nil, nil, "audit: Middleware with a nil handler"},
		{"nil handler with options", nil, &HTTPOptions{Logger: slog.Default()}, "audit: Middleware with a nil handler"},
		{"Strict without a Logger", ok, &HTTPOptions{Strict: true}, "audit: Middleware with Strict and no Logger"},
		{"Strict with a Logger", ok, &HTTPOptions{Strict: true, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, ""},
		{"nil options", ok, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got any
			func() {
				defer func() { got = recover() }()
				Middleware(tt.next, tt.opts)
			}()
			if fmt.Sprint(got) != tt.want && !(got == nil && tt.want == "") {
				t.Errorf("panic %v, want %q", got, tt.want)
			}
		})
	}
}

// TestStrictMiddleware covers what happens to a request when its events
// cannot be written, with and without Strict.
func TestStrictMiddleware(t *testing.T) {
	failStart := func(p []byte) bool { return bytes.Contains(p, []byte(RequestStartEvent)) }
	failEnd := func(p []byte) bool { return bytes.Contains(p, []byte(RequestEndEvent)) }
	tests := []struct {
		name       string
		opts       HTTPOptions
		fail       func([]byte) bool
		level      slog.Level // of the inner handler
		wantStatus int
		wantBody   string
		wantRan    bool
		wantErrs   []string // events reported to OnWriteError
	}{
		{
			name: "strict, start fails", opts: HTTPOptions{Strict: true}, fail: failStart,
			wantStatus: 503, wantBody: "Service Unavailable\n", wantErrs: []string{RequestStartEvent},
		},
		{
			name: "strict, own status and body", opts: HTTPOptions{Strict: true, StrictStatus: 500, StrictBody: "audit trail down"}, fail: failStart,
			wantStatus: 500, wantBody: "audit trail down\n", wantErrs: []string{RequestStartEvent},
		},
		{
			name: "strict, end fails", opts: HTTPOptions{Strict: true}, fail: failEnd,
			wantStatus: 200, wantRan: true, wantErrs: []string{RequestEndEvent},
		},
		{
			name: "strict, everything written", opts: HTTPOptions{Strict: true},
			wantStatus: 200, wantRan: true,
		},
		{
			name: "strict, start below the logger's level", opts: HTTPOptions{Strict: true}, fail: func([]byte) bool { return true },
			level: slog.LevelError, wantStatus: 200, wantRan: true,
		},
		{
			name: "not strict, start fails", opts: HTTPOptions{LogStart: true}, fail: failStart,
			wantStatus: 200, wantRan: true, wantErrs: []string{RequestStartEvent},
		},
		{
			name: "not strict, both fail", opts: HTTPOptions{LogStart: true}, fail: func([]byte) bool { return true },
			wantStatus: 200, wantRan: true, wantErrs: []string{RequestStartEvent, RequestEndEvent},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &mwFlakyWriter{fail: tt.fail}
			opts := tt.opts
			opts.Logger = slog.New(NewHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: tt.level}), nil))
			var errs []string
			opts.OnWriteError = func(r *http.Request, event string, err error) {
				if !errors.Is(err, errMWWrite) || r == nil {
					t.Errorf("OnWriteError(%v, %q, %v)", r, event, err)
				}
				errs = append(errs, event)
			}
			ran := false
			h := Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }), &opts)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != tt.wantStatus || ran != tt.wantRan {
				t.Errorf("status %d, handler ran %v; want %d, %v", rec.Code, ran, tt.wantStatus, tt.wantRan)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body %q, want %q", rec.Body.String(), tt.wantBody)
			}
			if fmt.Sprint(errs) != fmt.Sprint(tt.wantErrs) {
				t.Errorf("reported %v, want %v", errs, tt.wantErrs)
			}
			if !tt.wantRan && len(mwEvents(w.records(), RequestEndEvent)) != 0 {
				t.Error("an end event for a refused request")
			}
		})
	}
}

// TestStrictMiddlewareConcurrent serves many requests at once through a
// writer that fails half the time: each request either had its start
// event written and ran, or got a 503 and did not run; never both, never
// neither.
func TestStrictMiddlewareConcurrent(t *testing.T) {
	w := &mwFlakyWriter{fail: func([]byte) bool { return rand.IntN(2) == 0 }}
	var mu sync.Mutex
	ran := map[string]bool{}
	failed := 0
	h := Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		id, _ := RequestID(r.Context())
		mu.Lock()
		ran[id] = true
		mu.Unlock()
	}), &HTTPOptions{
		TrustedProxies: Loopback(),
		Logger:         w.logger(),
		Strict:         true,
		OnWriteError: func(*http.Request, string, error) {
			mu.Lock()
			failed++
			mu.Unlock()
		},
	})
	const n = 400
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "127.0.0.1:1"
			r.Header.Set("X-Request-Id", "r-"+strconv.Itoa(i))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			codes[i] = rec.Code
		}()
	}
	wg.Wait()
	started := map[string]bool{}
	for _, rec := range mwEvents(w.records(), RequestStartEvent) {
		started[rec[RequestIDKey].(string)] = true
	}
	refused := 0
	for i, code := range codes {
		id := "r-" + strconv.Itoa(i)
		switch {
		case code == http.StatusServiceUnavailable && !started[id] && !ran[id]:
			refused++
		case code == http.StatusOK && started[id] && ran[id]:
		default:
			t.Errorf("%s: status %d, start written %v, handler ran %v", id, code, started[id], ran[id])
		}
	}
	if refused == 0 || refused == n {
		t.Errorf("%d of %d refused: the writer did not fail about half the time", refused, n)
	}
	if failed < refused {
		t.Errorf("%d failures reported, fewer than the %d refused", failed, refused)
	}
}

// TestMiddlewareEventSource checks that the events written through the
// handler directly carry the PC slog.Logger would have recorded: the
// middleware's own code.
func TestMiddlewareEventSource(t *testing.T) {
	w := &mwFlakyWriter{}
	logger := slog.New(NewHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{AddSource: true}), nil))
	Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), &HTTPOptions{Logger: logger, LogStart: true}).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	for _, c := range []struct{ event, function string }{
		{RequestStartEvent, "github.com/slogaudit/audit.(*middleware).ServeHTTP"},
		{RequestEndEvent, "github.com/slogaudit/audit.(*middleware).end"},
	} {
		recs := mwEvents(w.records(), c.event)
		if len(recs) != 1 {
			t.Fatalf("%d %s events", len(recs), c.event)
		}
		src, _ := recs[0]["source"].(map[string]any)
		if src["function"] != c.function || !strings.HasSuffix(fmt.Sprint(src["file"]), "/identity.go") {
			t.Errorf("%s: source %v, want %s in identity.go", c.event, src, c.function)
		}
	}
}

// TestMiddlewareHookPanics makes each hook of HTTPOptions panic: the
// panic is reported in the events, and both events are still written.
func TestMiddlewareHookPanics(t *testing.T) {
	boom := func() { panic("boom") }
	tests := []struct {
		hook string
		set  func(o *HTTPOptions)
		// inStart says whether the report can be in the start event: the
		// later hooks run after it is written.
		inStart bool
	}{
		{"Authenticated", func(o *HTTPOptions) {
			o.Authenticated = func(*http.Request) (Identity, bool) { boom(); return Identity{}, false }
		}, true},
		{"Opaque", func(o *HTTPOptions) {
			o.Authenticated = func(*http.Request) (Identity, bool) { return Identity{Name: "u-1"}, true }
			o.Opaque = func(string) bool { boom(); return false }
		}, true},
		{"LogBody", func(o *HTTPOptions) { o.LogBody = func(*http.Request) bool { boom(); return false } }, true},
		{"EndLevel", func(o *HTTPOptions) { o.EndLevel = func(int, bool) slog.Level { boom(); return 0 } }, false},
		{"OnWriteError", func(o *HTTPOptions) {
			o.OnWriteError = func(*http.Request, string, error) { boom() }
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.hook, func(t *testing.T) {
			w := &mwFlakyWriter{}
			if tt.hook == "OnWriteError" {
				// The first start event fails, so that the hook is called.
				first := true
				w.fail = func(p []byte) bool {
					f := first && bytes.Contains(p, []byte(RequestStartEvent))
					first = first && !f
					return f
				}
			}
			opts := &HTTPOptions{TrustedProxies: Loopback(), Logger: w.logger(), LogStart: true}
			tt.set(opts)
			ran := false
			h := Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				ran = true
				io.Copy(io.Discard, r.Body)
			}), opts)
			r := httptest.NewRequest("POST", "/", strings.NewReader(`{"a":1}`))
			r.RemoteAddr = "127.0.0.1:1"
			r.Header.Set("X-Auth-Request-User", "grace")
			h.ServeHTTP(httptest.NewRecorder(), r)
			if !ran {
				t.Error("the handler did not run")
			}
			recs := w.records()
			want := "audit: " + tt.hook + " panicked: boom"
			ends := mwEvents(recs, RequestEndEvent)
			if len(ends) != 1 || ends[0][auditErrorKey] != want {
				t.Fatalf("end events %v, want one with %s %q", ends, auditErrorKey, want)
			}
			starts := mwEvents(recs, RequestStartEvent)
			if tt.hook == "OnWriteError" {
				if len(starts) != 0 {
					t.Errorf("start events %v, want the failed one missing", starts)
				}
				return
			}
			if len(starts) != 1 {
				t.Fatalf("%d start events, want 1", len(starts))
			}
			if got := starts[0][auditErrorKey]; tt.inStart != (got == want) {
				t.Errorf("start event %s = %v, want it there: %v", auditErrorKey, got, tt.inStart)
			}
		})
	}
	// RequestIdentity has no record to report to: a panicking Opaque
	// counts as "not opaque", and the headers are not read.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1"
	r.Header.Set("X-Auth-Request-User", "grace")
	id := RequestIdentity(r, Identity{Name: "x"}, &HTTPOptions{TrustedProxies: Loopback(), Opaque: func(string) bool { panic("boom") }})
	if id.Name != "x" {
		t.Errorf("RequestIdentity with a panicking Opaque: %+v", id)
	}
}

// TestMiddlewareEndLevel covers the level and the outcome of the end
// event.
func TestMiddlewareEndLevel(t *testing.T) {
	tests := []struct {
		name        string
		status      int // 0: the handler panics
		endLevel    func(int, bool) slog.Level
		outcomeKey  string // Fields.Outcome
		wantLevel   string
		wantOutcome string
	}{
		{name: "200", status: 200, wantLevel: "INFO", wantOutcome: "success"},
		{name: "302", status: 302, wantLevel: "INFO", wantOutcome: "success"},
		{name: "401", status: 401, wantLevel: "WARN", wantOutcome: "failure"},
		{name: "404", status: 404, wantLevel: "WARN", wantOutcome: "failure"},
		{name: "500", status: 500, wantLevel: "ERROR", wantOutcome: "failure"},
		{name: "503", status: 503, wantLevel: "ERROR", wantOutcome: "failure"},
		{name: "panic", status: 0, wantLevel: "ERROR", wantOutcome: "failure"},
		{name: "outcome key from the Handler's Fields", status: 403, outcomeKey: "result", wantLevel: "WARN", wantOutcome: "failure"},
		{
			name: "own EndLevel: 4xx are INFO", status: 404,
			endLevel: func(status int, panicked bool) slog.Level {
				if status < 500 && !panicked {
					return slog.LevelInfo
				}
				return DefaultEndLevel(status, panicked)
			},
			wantLevel: "INFO", wantOutcome: "failure",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &mwFlakyWriter{}
			// The keys come from the logger's Handler: one configuration.
			logger := slog.New(NewHandler(slog.NewJSONHandler(w, nil), &Options{Fields: Fields{Outcome: tt.outcomeKey}}))
			opts := &HTTPOptions{Logger: logger, EndLevel: tt.endLevel}
			h := Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if tt.status == 0 {
					panic("handler bug")
				}
				rw.WriteHeader(tt.status)
			}), opts)
			func() {
				defer func() { recover() }()
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			}()
			ends := mwEvents(w.records(), RequestEndEvent)
			if len(ends) != 1 {
				t.Fatalf("%d end events", len(ends))
			}
			key := tt.outcomeKey
			if key == "" {
				key = "outcome"
			}
			if ends[0]["level"] != tt.wantLevel || ends[0][key] != tt.wantOutcome {
				t.Errorf("level %v, %s %v; want %s, %s", ends[0]["level"], key, ends[0][key], tt.wantLevel, tt.wantOutcome)
			}
		})
	}
}

// TestMiddlewareEndAttrs checks that what the handler chain binds with
// With reaches the end event, as the identity does.
func TestMiddlewareEndAttrs(t *testing.T) {
	tests := []struct {
		name  string
		chain func(r *http.Request)
		want  map[string]any // in the end event; nil values must be absent
	}{
		{"one binding", func(r *http.Request) {
			With(r.Context(), "tenant", "acme")
		}, map[string]any{"tenant": "acme"}},
		{"chained bindings and identity", func(r *http.Request) {
			ctx := With(r.Context(), "tenant", "acme")
			ctx = WithIdentity(ctx, Identity{Name: "ada"})
			With(ctx, "document", "d-1")
		}, map[string]any{"tenant": "acme", "document": "d-1", "user": map[string]any{"name": "ada"}}},
		{"siblings both reach it", func(r *http.Request) {
			With(r.Context(), "a", 1)
			With(r.Context(), "b", 2)
		}, map[string]any{"a": float64(1), "b": float64(2)}},
		{"a later binding replaces an earlier one", func(r *http.Request) {
			With(With(r.Context(), "step", "auth"), "step", "done")
		}, map[string]any{"step": "done"}},
		{"an Event bound inside does not rename the end event", func(r *http.Request) {
			With(r.Context(), Event("other"), "k", "v")
		}, map[string]any{"k": "v", "event": RequestEndEvent}},
		{"from goroutines", func(r *http.Request) {
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					With(r.Context(), "k"+strconv.Itoa(i), i)
				}()
			}
			wg.Wait()
		}, map[string]any{"k0": float64(0), "k7": float64(7)}},
		{"nothing bound", func(r *http.Request) {}, map[string]any{"tenant": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &mwFlakyWriter{}
			h := Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { tt.chain(r) }),
				&HTTPOptions{Logger: w.logger()})
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			ends := mwEvents(w.records(), RequestEndEvent)
			if len(ends) != 1 {
				t.Fatalf("%d end events", len(ends))
			}
			for k, want := range tt.want {
				got, ok := ends[0][k]
				if want == nil && ok || want != nil && fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s = %v, want %v", k, got, want)
				}
			}
		})
	}
}

// TestRequestID covers RequestID and HTTPOptions.ResponseHeader.
func TestRequestID(t *testing.T) {
	if id, ok := RequestID(context.Background()); ok || id != "" {
		t.Errorf("RequestID outside a request = %q, %v", id, ok)
	}
	var nilCtx context.Context // a nil context must not panic
	if _, ok := RequestID(nilCtx); ok {
		t.Error("RequestID(nil) found a request")
	}
	tests := []struct {
		name       string
		header     string // HTTPOptions.ResponseHeader
		sent       string // X-Request-Id from a trusted proxy
		logger     bool
		wantHeader string // response header name to check, "" for none set
	}{
		{name: "no response header", logger: true},
		{name: "X-Request-Id", header: "X-Request-Id", logger: true, wantHeader: "X-Request-Id"},
		{name: "lower-case name", header: "x-correlation-id", wantHeader: "X-Correlation-Id"},
		{name: "a proxy's id is sent back", header: "X-Request-Id", sent: "req-77", logger: true, wantHeader: "X-Request-Id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &mwFlakyWriter{}
			opts := &HTTPOptions{TrustedProxies: Loopback(), ResponseHeader: tt.header}
			if tt.logger {
				opts.Logger = w.logger()
			}
			var inside string
			h := Middleware(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				inside, _ = RequestID(With(r.Context(), "k", "v"))
			}), opts)
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "127.0.0.1:1"
			if tt.sent != "" {
				r.Header.Set("X-Request-Id", tt.sent)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if tt.sent != "" && inside != tt.sent || tt.sent == "" && !idPattern.MatchString(inside) {
				t.Errorf("RequestID inside = %q", inside)
			}
			if tt.wantHeader != "" && rec.Header().Get(tt.wantHeader) != inside {
				t.Errorf("response header %s = %q, want %q", tt.wantHeader, rec.Header().Get(tt.wantHeader), inside)
			}
			if tt.wantHeader == "" && len(rec.Header()) != 0 {
				t.Errorf("response headers %v, want none", rec.Header())
			}
			for _, rec := range w.records() {
				if rec[RequestIDKey] != inside {
					t.Errorf("record %v has another request id than %q", rec, inside)
				}
			}
		})
	}
}

// TestDefaultLoggerReplica runs the default-logger line through NewHandler,
// installed twice, with a log prefix: one header per line, and the prefix
// trimmed from log.Printf lines only.
func TestDefaultLoggerReplica(t *testing.T) {
	var buf lockedBuffer
	logtest.CaptureLog(t, &buf, "app: ")
	saved := slog.Default().Handler()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 2; i++ {
			slog.SetDefault(slog.New(NewHandler(saved, nil)))
		}
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slog.SetDefault(slog.New(NewHandler(saved, nil)))
			}()
		}
		wg.Wait()
		slog.Info("app: ready")
		log.Printf("ready")
		log.Printf("connecting to %s", "postgres://app:s3cr3t@db/app")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock")
	}
	want := "app: INFO app: ready\n" +
		"app: INFO ready\n" +
		"app: INFO connecting to postgres://app:[REDACTED]@db/app\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Deprecation: legacy messages.

var evaluateLegacy = Legacy{
	Event: "code.evaluate",
	Fields: []LegacyField{
		{Key: "session_mode", Label: "Session mode"},
		{Key: "code", Label: "Code", Quote: true},
	},
}

func TestLegacy(t *testing.T) {
	separate := evaluateLegacy
	separate.Mode = LegacySeparate
	custom := Legacy{Event: "code.evaluate", Render: func(msg string, attrs []slog.Attr) string {
		a, _ := findAttr(attrs, "code")
		return fmt.Sprintf("%s [%s]", msg, a.Value)
	}}
	indented := evaluateLegacy
	indented.Indent = "\t- "
	tests := []struct {
		name   string
		legacy Legacy
		with   func(*slog.Logger) *slog.Logger
		args   []any
		want   []string // JSON lines without time and event id
	}{
		{"inline", evaluateLegacy,
			nil, []any{Event("code.evaluate"), "session_mode", "default", "code", "7 + 13"},
			[]string{`{"level":"INFO","msg":"Evaluating code\n  Session mode: default\n  Code: \"7 + 13\"","event":"code.evaluate","session_mode":"default","code":"7 + 13"}`}},
		{"separate: unchanged legacy line, then the structured record", separate,
			nil, []any{Event("code.evaluate"), "session_mode", "default", "code", "7 + 13"},
			[]string{`{"level":"INFO","msg":"Evaluating code\n  Session mode: default\n  Code: \"7 + 13\""}`,
				`{"level":"INFO","msg":"Evaluating code","event":"code.evaluate","session_mode":"default","code":"7 + 13"}`}},
		{"missing field is left out", evaluateLegacy,
			nil, []any{Event("code.evaluate"), "code", "x"},
			[]string{`{"level":"INFO","msg":"Evaluating code\n  Code: \"x\"","event":"code.evaluate","code":"x"}`}},
		{"event bound on the logger", evaluateLegacy,
			func(l *slog.Logger) *slog.Logger { return l.With(Event("code.evaluate")) }, []any{"session_mode", "app"},
			[]string{`{"level":"INFO","msg":"Evaluating code\n  Session mode: app","event":"code.evaluate","session_mode":"app"}`}},
		{"other events untouched", evaluateLegacy,
			nil, []any{Event("file.upload"), "code", "x"},
			[]string{`{"level":"INFO","msg":"Evaluating code","event":"file.upload","code":"x"}`}},
		{"custom render", custom,
			nil, []any{Event("code.evaluate"), "code", "1+1"},
			[]string{`{"level":"INFO","msg":"Evaluating code [1+1]","event":"code.evaluate","code":"1+1"}`}},
		{"custom indent", indented,
			nil, []any{Event("code.evaluate"), "session_mode", "default"},
			[]string{`{"level":"INFO","msg":"Evaluating code\n\t- Session mode: default","event":"code.evaluate","session_mode":"default"}`}},
		{"redaction applies to the rendered text", evaluateLegacy,
			nil, []any{Event("code.evaluate"), "code", `db.connect("postgres://admin:` + secret + `@db/app")`},
			[]string{`{"level":"INFO","msg":"Evaluating code\n  Code: \"db.connect(\\\"postgres://admin:[REDACTED]@db/app\\\")\"","event":"code.evaluate","code":"db.connect(\"postgres://admin:[REDACTED]@db/app\")"}`}},
		{"secret key in a field", Legacy{Event: "auth.login", Fields: []LegacyField{{Key: "password"}}},
			nil, []any{Event("auth.login"), "password", secret},
			[]string{`{"level":"INFO","msg":"Evaluating code\n  password: [REDACTED]","event":"auth.login","password":"[REDACTED]"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(NewHandler(newJSON(&buf, nil), &Options{NoEventID: true, Legacy: []Legacy{tt.legacy}}))
			if tt.with != nil {
				l = tt.with(l)
			}
			l.Info("Evaluating code", tt.args...)
			got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGoldenLegacy pins the rendered legacy text, the part old consumers
// match byte for byte, in testdata/legacy.golden (regenerate with -update).
func TestGoldenLegacy(t *testing.T) {
	var buf bytes.Buffer
	for _, mode := range []LegacyMode{LegacyInline, LegacySeparate} {
		l := evaluateLegacy
		l.Mode = mode
		for _, inner := range []slog.Handler{
			slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime}),
			slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime}),
		} {
			logger := slog.New(NewHandler(inner, &Options{NoEventID: true, Legacy: []Legacy{l}}))
			ctx := WithIdentity(context.Background(), Identity{ID: "1", Name: "Hugo Example"})
			logger.InfoContext(ctx, "Evaluating code", Event("code.evaluate"), "session_mode", "default", "code", "7 + 13")
			logger.InfoContext(ctx, "Evaluating code", Event("code.evaluate"), "session_mode", "app_preview", "code", "IO.puts(\"hi\")\n:ok")
		}
	}
	checkGolden(t, "legacy.golden", buf.Bytes())
}

func TestLegacyFieldsStayOnOneLine(t *testing.T) {
	for _, c := range []struct{ code, want string }{
		{"7 + 13", "Evaluating code\n  Session mode: default\n  Code: 7 + 13"},
		{"x\n  Session mode: admin", `Evaluating code` + "\n" + `  Session mode: default` + "\n" + `  Code: x\n  Session mode: admin`},
		{"a\r\u2028b\x00", "Evaluating code\n  Session mode: default\n  Code: a\\r\\u2028b\\x00"},
	} {
		var buf bytes.Buffer
		l := slog.New(NewHandler(newJSON(&buf, nil), &Options{Legacy: []Legacy{{Event: "code.evaluate",
			Fields: []LegacyField{{Key: "session_mode", Label: "Session mode"}, {Key: "code", Label: "Code"}}}}}))
		l.Info("Evaluating code", Event("code.evaluate"), "session_mode", "default", "code", c.code)
		ls := lines(t, buf.Bytes(), false)
		if got := ls[0]["msg"]; got != c.want {
			t.Errorf("code %q: msg\n%q\nwant\n%q", c.code, got, c.want)
		}
	}
}

// Deprecation: renamed keys and their reports.

func TestRenames(t *testing.T) {
	cutover := frozen.Add(time.Hour)
	slug := Rename{Old: "log_event_type", New: "message_slug"}
	class := Rename{Old: "log_class", New: "class", Phase: RenameNewOnly}
	timed := Rename{Old: "log_event_type", New: "message_slug", Until: cutover}
	tests := []struct {
		name    string
		renames []Rename
		when    time.Time
		with    func(*slog.Logger) *slog.Logger
		ctx     func(context.Context) context.Context
		args    []any
		want    string
	}{
		{"both", []Rename{slug}, frozen, nil, nil, []any{"log_event_type", "auth-login-success", "x", 1},
			`"message_slug":"auth-login-success","log_event_type":"auth-login-success","x":1`},
		{"new only", []Rename{class}, frozen, nil, nil, []any{"log_class", "LoginController"},
			`"class":"LoginController"`},
		{"until: before the cutover both", []Rename{timed}, cutover.Add(-time.Nanosecond), nil, nil, []any{"log_event_type", "e"},
			`"message_slug":"e","log_event_type":"e"`},
		{"until: from the cutover on, new only", []Rename{timed}, cutover, nil, nil, []any{"log_event_type", "e"},
			`"message_slug":"e"`},
		{"at depth", []Rename{class}, frozen, nil, nil, []any{slog.Group("meta", "a", 1, slog.Group("src", "log_class", "C"))},
			`"meta":{"a":1,"src":{"class":"C"}}`},
		{"dotted key", []Rename{{Old: "enduser.id", New: "account.id", Phase: RenameNewOnly}}, frozen, nil, nil, []any{"enduser.id", "42"},
			`"account.id":"42"`},
		{"With attrs", []Rename{class}, frozen, func(l *slog.Logger) *slog.Logger { return l.With("log_class", "C") }, nil, []any{"x", 1},
			`"class":"C","x":1`},
		{"context attrs", []Rename{class}, frozen, nil, func(ctx context.Context) context.Context { return With(ctx, "log_class", "C") }, nil,
			`"class":"C"`},
		{"untouched keys", []Rename{slug, class}, frozen, nil, nil, []any{"log", "l", "class", "c"},
			`"log":"l","class":"c"`},
		{"untouched: a caller already on the new key gets the old copy while both are written", []Rename{slug}, frozen, nil, nil,
			[]any{"message_slug", "s"}, `"message_slug":"s","log_event_type":"s"`},
		{"untouched: after the window, a new key is left alone", []Rename{timed}, cutover, nil, nil,
			[]any{"message_slug", "s"}, `"message_slug":"s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			reports := 0
			h := NewHandler(newJSON(&buf, nil), &Options{Renames: tt.renames,
				OnDeprecatedKey: func(Rename, slog.Source) { reports++ }})
			l := slog.New(h)
			if tt.with != nil {
				l = tt.with(l)
			}
			ctx := context.Background()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			var pcs [1]uintptr
			runtime.Callers(1, pcs[:])
			r := slog.NewRecord(tt.when, slog.LevelInfo, "m", pcs[0])
			r.Add(tt.args...)
			if err := l.Handler().Handle(ctx, r); err != nil {
				t.Fatal(err)
			}
			if want := `{"level":"INFO","msg":"m",` + tt.want + "}\n"; buf.String() != want {
				t.Errorf("got  %s\nwant %s", buf.String(), want)
			}
			if wantReports := strings.Count(tt.name, "untouched"); (reports == 0) != (wantReports == 1) {
				t.Errorf("reports = %d", reports)
			}
		})
	}
}

// TestDeprecationReportedOnce writes an old key from two call sites in many
// goroutines: each site must be reported exactly once. Run with -race.
func TestDeprecationReportedOnce(t *testing.T) {
	sites := map[string]int{}
	var buf lockedBuffer
	l := jsonLogger(&buf, &Options{Renames: []Rename{{Old: "log_class", New: "class"}}})
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				l.Info("first site", "log_class", "A")
				l.Info("second site", "log_class", "B")
			}
		}()
	}
	wg.Wait()
	for _, m := range lines(t, buf.Bytes(), false) {
		if m[EventKey] == DeprecatedKeyEvent {
			if m["old_key"] != "log_class" || m["new_key"] != "class" || m[slog.LevelKey] != "WARN" {
				t.Errorf("report = %v", m)
			}
			sites[m["source"].(string)]++
		}
	}
	if len(sites) != 2 {
		t.Fatalf("reported sites = %v, want 2 sites", sites)
	}
	for site, n := range sites {
		if n != 1 || !strings.Contains(site, "handler_test.go:") {
			t.Errorf("site %s reported %d times, want once", site, n)
		}
	}
}

func TestDeprecationCallbackNamesWithSite(t *testing.T) {
	var got []string
	h := NewHandler(slog.NewJSONHandler(io.Discard, nil), &Options{
		Renames: []Rename{{Old: "log_class", New: "class"}},
		OnDeprecatedKey: func(r Rename, s slog.Source) {
			got = append(got, fmt.Sprintf("%s→%s %s", r.Old, r.New, filepath.Base(s.File)))
		},
	})
	l := slog.New(h).With("log_class", "C") // reported here, at the With call
	l.Info("a")
	l.Info("b")
	if want := []string{"log_class→class handler_test.go"}; !slices.Equal(got, want) {
		t.Errorf("reports = %q, want %q", got, want)
	}
}

func TestDeprecationReportRetried(t *testing.T) {
	var buf bytes.Buffer
	var down atomic.Bool
	down.Store(true)
	inner := failingHandler{Handler: newJSON(&buf, nil)}
	h := NewHandler(reportGate{inner, &down}, &Options{Renames: []Rename{{Old: "old", New: "new"}}})
	l := slog.New(h)
	for i := 0; i < 3; i++ {
		if i == 1 {
			down.Store(false)
		}
		l.Info("m", "old", i) // one call site
	}
	if n := strings.Count(buf.String(), DeprecatedKeyEvent); n != 1 {
		t.Errorf("%d reports written, want exactly 1 (the first failed, the second got out):\n%s", n, buf.String())
	}
	var warnOnly bytes.Buffer
	l = slog.New(NewHandler(newJSON(&warnOnly, slog.LevelError), &Options{Renames: []Rename{{Old: "old", New: "new"}}}))
	l.Error("m", "old", 1)
	if strings.Contains(warnOnly.String(), DeprecatedKeyEvent) {
		t.Errorf("a WARN report reached a handler at ERROR: %s", warnOnly.String())
	}
}

// Field presets: one request end to end through Handler and Middleware.

// scenarioRecords sends one request through Middleware and a Handler
// configured with f (and eventKey as Options.EventKey, if set), whose
// application logs one event and answers 404, and returns the decoded
// records by event name: the start event, the application's event and the
// end event.
func scenarioRecords(t *testing.T, f Fields, eventKey string) map[string]map[string]any {
	t.Helper()
	var buf bytes.Buffer
	logger := jsonLogger(&buf, &Options{Fields: f, EventKey: eventKey})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "File delete failed", Event("file.delete"), "filename", "a.txt")
		http.Error(w, "not found", http.StatusNotFound)
	})
	h := Middleware(app, &HTTPOptions{
		TrustedProxies: Loopback(),
		Logger:         logger,
		LogStart:       true,
		Fields:         f,
		Authenticated: func(*http.Request) (Identity, bool) {
			return Identity{ID: "42", Name: "ada"}, true
		},
	})
	r := httptest.NewRequest("DELETE", "/files/a.txt", nil)
	r.RemoteAddr = "127.0.0.1:40112"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	r.Header.Set("X-Request-Id", "req-7")
	r.Header.Set("User-Agent", "curl/8.5.0")
	h.ServeHTTP(httptest.NewRecorder(), r)

	evKey := or(eventKey, f.resolved().Event)
	recs := map[string]map[string]any{}
	// Exact numbers, to tell an integer duration from a fraction.
	for _, m := range lines(t, buf.Bytes(), true) {
		ev, _ := m[evKey].(string)
		if ev == "" {
			t.Fatalf("record without an event under %q: %v", evKey, m)
		}
		recs[ev] = m
	}
	if len(recs) != 3 {
		t.Fatalf("got events %v, want 3", recs)
	}
	return recs
}

func scenarioKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestFieldPresets checks, end to end through Handler and Middleware, the
// keys each preset puts in a start event, an application event and an end
// event, the unit of the duration, and that a preset changed field by field
// keeps its other names.
func TestFieldPresets(t *testing.T) {
	common := func(event, eventID, requestID, client string) []string {
		return []string{"time", "level", "msg", event, eventID, "user", requestID,
			"http.request.method", "url.path", client, "user_agent.original"}
	}
	end := func(status, duration, size, last string, more ...string) []string {
		return append([]string{status, duration, size, last}, more...)
	}
	ecsRequestID := ECSFields()
	ecsRequestID.RequestID = "transaction.id"

	tests := []struct {
		name      string
		fields    Fields
		eventKey  string   // Options.EventKey
		common    []string // keys in all three records
		endKeys   []string // more keys in the end event
		duration  string
		unit      string // "ms", "s" or "ns"
		outcome   string // key of the outcome, if written
		requestID string
	}{
		{
			name:     "zero Fields means DefaultFields",
			fields:   Fields{},
			common:   common("event", "event_id", "request_id", "client.address"),
			endKeys:  end("http.response.status_code", "duration_ms", "http.response.body.size", "request_end", "outcome"),
			duration: "duration_ms", unit: "ms", outcome: "outcome", requestID: "request_id",
		},
		{
			name:     "DefaultFields",
			fields:   DefaultFields(),
			common:   common("event", "event_id", "request_id", "client.address"),
			endKeys:  end("http.response.status_code", "duration_ms", "http.response.body.size", "request_end", "outcome"),
			duration: "duration_ms", unit: "ms", outcome: "outcome", requestID: "request_id",
		},
		{
			name:     "OTelFields",
			fields:   OTelFields(),
			common:   common("otel.event.name", "log.record.uid", "request_id", "client.address"),
			endKeys:  end("http.response.status_code", "http.server.request.duration", "http.response.body.size", "request_end", "outcome"),
			duration: "http.server.request.duration", unit: "s", outcome: "outcome", requestID: "request_id",
		},
		{
			name:     "ECSFields",
			fields:   ECSFields(),
			common:   common("event.action", "event.id", "http.request.id", "source.ip"),
			endKeys:  end("http.response.status_code", "event.duration", "http.response.body.bytes", "request_end", "event.outcome"),
			duration: "event.duration", unit: "ns", outcome: "event.outcome", requestID: "http.request.id",
		},
		{
			name:     "ECSFields with the request id overridden",
			fields:   ecsRequestID,
			common:   common("event.action", "event.id", "transaction.id", "source.ip"),
			endKeys:  end("http.response.status_code", "event.duration", "http.response.body.bytes", "request_end", "event.outcome"),
			duration: "event.duration", unit: "ns", outcome: "event.outcome", requestID: "transaction.id",
		},
		{
			name:     "some fields set, the rest default",
			fields:   Fields{Event: "ev", ClientAddress: "ip_address", Outcome: "outcome"},
			common:   common("ev", "event_id", "request_id", "ip_address"),
			endKeys:  end("http.response.status_code", "duration_ms", "http.response.body.size", "request_end", "outcome"),
			duration: "duration_ms", unit: "ms", outcome: "outcome", requestID: "request_id",
		},
		{
			name:     "Options.EventKey wins over the preset",
			fields:   OTelFields(),
			eventKey: "action",
			common:   common("action", "log.record.uid", "request_id", "client.address"),
			endKeys:  end("http.response.status_code", "http.server.request.duration", "http.response.body.size", "request_end", "outcome"),
			duration: "http.server.request.duration", unit: "s", outcome: "outcome", requestID: "request_id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := scenarioRecords(t, tt.fields, tt.eventKey)
			want := map[string][]string{
				RequestStartEvent: tt.common,
				"file.delete":     append(append([]string{}, tt.common...), "filename"),
				RequestEndEvent:   append(append([]string{}, tt.common...), tt.endKeys...),
			}
			for ev, keys := range want {
				sort.Strings(keys)
				rec, ok := recs[ev]
				if !ok {
					t.Errorf("no %s event", ev)
					continue
				}
				if diff := cmp.Diff(keys, scenarioKeys(rec)); diff != "" {
					t.Errorf("%s: keys (-want +got):\n%s", ev, diff)
				}
				if got := rec[tt.requestID]; got != "req-7" {
					t.Errorf("%s: %s = %v, want req-7", ev, tt.requestID, got)
				}
				if got, _ := rec["user"].(map[string]any); got["name"] != "ada" {
					t.Errorf("%s: user = %v, want ada", ev, rec["user"])
				}
			}

			endRec := recs[RequestEndEvent]
			d, ok := endRec[tt.duration].(json.Number)
			if !ok {
				t.Fatalf("end: %s = %v, want a number", tt.duration, endRec[tt.duration])
			}
			f, err := d.Float64()
			integer := !strings.ContainsAny(d.String(), ".eE")
			switch {
			case err != nil || f < 0:
				t.Errorf("end: %s = %v, want a duration", tt.duration, d)
			case tt.unit == "ns" && !integer:
				t.Errorf("end: %s = %v, want an integer of nanoseconds", tt.duration, d)
			case tt.unit == "s" && f >= 10:
				t.Errorf("end: %s = %v, want seconds", tt.duration, d)
			}
			if tt.outcome != "" && endRec[tt.outcome] != "failure" {
				t.Errorf("end: %s = %v, want failure for a 404", tt.outcome, endRec[tt.outcome])
			}
			if got := endRec["http.response.status_code"]; got != json.Number("404") {
				t.Errorf("end: status = %v, want 404", got)
			}
		})
	}
}

// TestMiddlewareOneConfiguration checks that Middleware takes its keys from
// the Handler behind its logger, so that one log has one schema.
func TestMiddlewareOneConfiguration(t *testing.T) {
	req := func(h http.Handler) {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, c := range []struct {
		name      string
		handler   func(w io.Writer) slog.Handler
		fields    Fields
		want      []string // keys in the end record
		wantPanic bool
		wantWarn  bool
	}{
		{name: "keys from the Handler", handler: func(w io.Writer) slog.Handler {
			return NewHandler(slog.NewJSONHandler(w, nil), &Options{Fields: ECSFields()})
		}, want: []string{`"event.action":"http.request.end"`, `"http.request.id":`, `"source.ip":`, `"event.duration":`}},
		{name: "the same Fields twice is fine", handler: func(w io.Writer) slog.Handler {
			return NewHandler(slog.NewJSONHandler(w, nil), &Options{Fields: ECSFields()})
		}, fields: ECSFields(), want: []string{`"source.ip":`}},
		{name: "a different Fields panics", handler: func(w io.Writer) slog.Handler {
			return NewHandler(slog.NewJSONHandler(w, nil), &Options{Fields: ECSFields()})
		}, fields: OTelFields(), wantPanic: true},
		{name: "a unit in seconds is named in the default key", handler: func(w io.Writer) slog.Handler {
			return NewHandler(slog.NewJSONHandler(w, nil), &Options{Fields: Fields{DurationUnit: time.Second}})
		}, want: []string{`"duration_s":`}},
		{name: "a logger that is not audit-wrapped is reported", handler: func(w io.Writer) slog.Handler {
			return slog.NewJSONHandler(w, nil)
		}, wantWarn: true, want: []string{`"msg":"request end"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(c.handler(&buf))
			defer func() {
				p := recover()
				if (p != nil) != c.wantPanic {
					t.Fatalf("panic = %v, want a panic: %v", p, c.wantPanic)
				}
			}()
			h := Middleware(ok, &HTTPOptions{Logger: logger, Fields: c.fields})
			req(h)
			out := buf.String()
			if got := strings.Contains(out, MisconfiguredEvent); got != c.wantWarn {
				t.Errorf("misconfiguration reported: %v, want %v\n%s", got, c.wantWarn, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("got %s\nwant it to hold %s", out, w)
				}
			}
		})
	}
}

// Helpers shared by the tests above.

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// frozen is the clock of every record in these tests, so output is
// deterministic.
var frozen = time.Date(2025, 10, 3, 17, 48, 22, 238000000, time.UTC)

// idPattern is what every event id must look like.
var idPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// newJSON returns a JSON handler writing to buf with the time dropped, so
// two handlers' outputs can be compared byte for byte.
func newJSON(buf *bytes.Buffer, level slog.Leveler) slog.Handler {
	return slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: level, ReplaceAttr: dropTime})
}

func newText(buf *bytes.Buffer, level slog.Leveler) slog.Handler {
	return slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level, ReplaceAttr: dropTime})
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if groups == nil && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// jsonLogger returns a logger whose Handler, configured with opts, writes
// JSON to w.
func jsonLogger(w io.Writer, opts *Options) *slog.Logger {
	return slog.New(NewHandler(slog.NewJSONHandler(w, nil), opts))
}

// logThrough logs through NewHandler over a JSON or text handler and returns
// the output, turning a panic into a test failure.
func logThrough(t *testing.T, format string, opts *Options, fn func(l *slog.Logger)) (out string) {
	t.Helper()
	var buf bytes.Buffer
	inner := newJSON(&buf, nil)
	if format == "text" {
		inner = newText(&buf, nil)
	}
	if opts == nil {
		opts = &Options{}
	}
	o := *opts
	o.NoEventID = true
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("%s: logging panicked: %v", format, p)
		}
	}()
	fn(slog.New(NewHandler(inner, &o)))
	return buf.String()
}

// lockedBuffer is a bytes.Buffer that many goroutines may write at once.
type lockedBuffer = logtest.LockedBuffer

// lines decodes data as JSON lines, one map per record. With exact, numbers
// decode as json.Number, so that a test can tell an integer from a fraction;
// otherwise as float64, like json.Unmarshal.
func lines(t testing.TB, data []byte, exact bool) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	if exact {
		dec.UseNumber()
	}
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("output is not JSON lines: %v\n%s", err, data)
		}
		out = append(out, m)
	}
}

// takeEventID removes the event id from m after checking its form.
func takeEventID(t *testing.T, m map[string]any, key string) {
	t.Helper()
	id, ok := m[key]
	if !ok {
		return
	}
	s, _ := id.(string)
	if !idPattern.MatchString(s) {
		t.Errorf("%s = %v, want 32 lowercase hex digits", key, id)
	}
	delete(m, key)
}

func attrsEqual(a, b []slog.Attr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// httpTestProxies trusts loopback, 10.0.0.0/8 and 2001:db8:1::/48.
func httpTestProxies(t testing.TB) Proxies {
	t.Helper()
	p, err := ParseProxies("127.0.0.0/8", "::1", "10.0.0.0/8", "2001:db8:1::/48")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func httpTestRequest(remote string, header ...string) *http.Request {
	r := httptest.NewRequest("GET", "/notebooks/a.ipynb", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

// secret is planted in the redaction cases; it must never reach the output.
const secret = "hunter2-s3cr3t"

// alnumSecret is planted where a secret must be found without its shape;
// letters and digits only, so that no handler's quoting can hide it.
const alnumSecret = "Rv7hunter2Zq9s3cr3t"

type loginForm struct {
	User     string `json:"user"`
	Pass     string `json:"password"`
	Remember bool   `json:"remember,omitempty"`
}

type apiClient struct {
	Endpoint string
	APIKey   string `json:"k"` // secret by its Go name, written under its json name
}

type hiddenCreds struct {
	user     string
	password string
}

// credsValuer is a LogValuer that declares its second field a password.
type credsValuer struct{ user, pass string }

func (c credsValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", c.user), slog.String("password", c.pass))
}

// tokenValuer is a LogValuer that resolves to its string.
type tokenValuer struct{ tok string }

func (t tokenValuer) LogValue() slog.Value { return slog.StringValue(t.tok) }

type node struct {
	Name     string
	Password string
	Next     *node
}

// topLevelKeys returns the top-level keys of one JSON object, in order and
// with repeats: encoding/json would keep only the last of a repeated key.
func topLevelKeys(t *testing.T, line []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", line)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("bad JSON %s: %v", line, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("bad JSON %s: %v", line, err)
		}
	}
	return keys
}

// textPair matches one key=value of slog's TextHandler: the value plain or
// a Go-quoted string.
var textPair = regexp.MustCompile(`(?:^| )("(?:[^"\\]|\\.)*"|[^ =]+)=("(?:[^"\\]|\\.)*"|[^ ]*)`)

// textPairs returns the key=value pairs of one TextHandler line, unquoted.
func textPairs(t *testing.T, line string) [][2]string {
	t.Helper()
	var out [][2]string
	for _, m := range textPair.FindAllStringSubmatch(line, -1) {
		k, v := m[1], m[2]
		if strings.HasPrefix(k, `"`) {
			k, _ = strconv.Unquote(k)
		}
		if strings.HasPrefix(v, `"`) {
			v, _ = strconv.Unquote(v)
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

// checkAudit checks one record: exactly one event ("real.event"), one event
// id and one identity (ada's) at the top level, and "mallory" under the
// dotted path.
func checkAudit(t *testing.T, format, out, path string) {
	t.Helper()
	out = strings.TrimSuffix(out, "\n")
	if strings.Contains(out, "\n") || out == "" {
		t.Fatalf("want one record, got %q", out)
	}
	got := map[string]int{}
	var mallory []string
	switch format {
	case "json":
		for _, k := range topLevelKeys(t, []byte(out)) {
			got[k]++
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatal(err)
		}
		if m[EventKey] != "real.event" {
			t.Errorf("event = %v, want real.event\n%s", m[EventKey], out)
		}
		if u, _ := m[IdentityKey].(map[string]any); u == nil || u["name"] != "ada" || u["id"] != "42" {
			t.Errorf("user = %v, want ada's identity\n%s", m[IdentityKey], out)
		}
		if id, _ := m[EventIDKey].(string); !idPattern.MatchString(id) {
			t.Errorf("event_id = %v, want a generated id\n%s", m[EventIDKey], out)
		}
		if v := lookupPath(m, path); v != "mallory" {
			t.Errorf("%s = %v, want the caller's value there\n%s", path, v, out)
		}
		for _, k := range []string{EventKey, EventIDKey, IdentityKey} {
			if got[k] != 1 {
				t.Errorf("top-level key %q written %d times, want once\n%s", k, got[k], out)
			}
		}
		for k, n := range got {
			if n > 1 {
				t.Errorf("top-level key %q written %d times\n%s", k, n, out)
			}
		}
	case "text":
		for _, p := range textPairs(t, out) {
			got[p[0]]++
			if p[1] == "mallory" {
				mallory = append(mallory, p[0])
			}
		}
		for _, k := range []string{EventKey, EventIDKey, IdentityKey + ".id", IdentityKey + ".name"} {
			if got[k] != 1 {
				t.Errorf("key %q written %d times, want once\n%s", k, got[k], out)
			}
		}
		if len(mallory) != 1 || mallory[0] != path {
			t.Errorf("the caller's value is under %v, want %s\n%s", mallory, path, out)
		}
		for k, n := range got {
			if n > 1 {
				t.Errorf("key %q written %d times\n%s", k, n, out)
			}
			for _, r := range []string{EventKey, EventIDKey, IdentityKey} {
				if k != r && strings.HasPrefix(k, r+".") && r != IdentityKey {
					t.Errorf("key %q expands onto the audit's %q\n%s", k, r, out)
				}
			}
		}
		if strings.Contains(out, " user=") || strings.HasPrefix(out, "user=") {
			t.Errorf("a plain user= next to the identity\n%s", out)
		}
	}
}

// lookupPath returns the value at a dotted path of m, trying the longest
// literal key first (keys such as "fields.user" hold dots themselves).
func lookupPath(m map[string]any, path string) any {
	if v, ok := m[path]; ok {
		return v
	}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '.' {
			continue
		}
		if sub, ok := m[path[:i]].(map[string]any); ok {
			if v := lookupPath(sub, path[i+1:]); v != nil {
				return v
			}
		}
	}
	return nil
}

// failingHandler fails every record whose message holds "fail", or all
// records when every is set; it counts what it wrote.
type failingHandler struct {
	slog.Handler
	every bool
	n     *atomic.Int64
}

var errSink = errors.New("sink down")

func (h failingHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.every || strings.Contains(r.Message, "fail") {
		return errSink
	}
	if h.n != nil {
		h.n.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h failingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.Handler = h.Handler.WithAttrs(as)
	return h
}

func (h failingHandler) WithGroup(name string) slog.Handler {
	h.Handler = h.Handler.WithGroup(name)
	return h
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// reportGate fails deprecation reports while down is set.
type reportGate struct {
	slog.Handler
	down *atomic.Bool
}

func (g reportGate) Handle(ctx context.Context, r slog.Record) error {
	if g.down.Load() && strings.HasPrefix(r.Message, "deprecated log key") {
		return errSink
	}
	return g.Handler.Handle(ctx, r)
}

// mwFlakyWriter records the JSON lines it accepts and fails the others, as
// fail decides.
type mwFlakyWriter struct {
	mu   sync.Mutex
	fail func(line []byte) bool
	recs []map[string]any
}

var errMWWrite = errors.New("disk full")

func (w *mwFlakyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil && w.fail(p) {
		return 0, errMWWrite
	}
	var m map[string]any
	if err := json.Unmarshal(p, &m); err != nil {
		return 0, fmt.Errorf("bad JSON record %s: %v", p, err)
	}
	w.recs = append(w.recs, m)
	return len(p), nil
}

func (w *mwFlakyWriter) records() []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]map[string]any(nil), w.recs...)
}

func (w *mwFlakyWriter) logger() *slog.Logger {
	return slog.New(NewHandler(slog.NewJSONHandler(w, nil), nil))
}

// mwEvents returns the records with the given event.
func mwEvents(recs []map[string]any, event string) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if r["event"] == event {
			out = append(out, r)
		}
	}
	return out
}

func wantUA(want string) func(*testing.T, any) {
	return func(t *testing.T, ua any) {
		t.Helper()
		if ua != want {
			t.Errorf("User-Agent = %q (%d bytes), want %q", ua, len(fmt.Sprint(ua)), want)
		}
	}
}

func wantGeneratedID(t *testing.T, id string) {
	t.Helper()
	if !idPattern.MatchString(id) {
		t.Errorf("request id = %q, want a generated one", id)
	}
}

// rtSecret is the secret the route tests plant: letters and digits only,
// so that no handler's quoting can hide it.
const rtSecret = "Wk4hunter2Pz8s3cr3tQ"

// rtFormats are the inner handlers every route is logged through: the two
// standard ones, and one whose kind the redactor cannot know.
var rtFormats = []string{"json", "text", "unknown"}

// rtOpaque hides the type of the handler it wraps.
type rtOpaque struct{ slog.Handler }

// rtHandler returns a Handler writing to buf in format, with the style set
// as NewHandler sets it.
func rtHandler(buf *bytes.Buffer, format string, opts *Options) *Handler {
	var inner slog.Handler
	switch format {
	case "json":
		inner = slog.NewJSONHandler(buf, &slog.HandlerOptions{ReplaceAttr: dropTime})
	case "text":
		inner = slog.NewTextHandler(buf, &slog.HandlerOptions{ReplaceAttr: dropTime})
	default:
		inner = rtOpaque{slog.NewJSONHandler(buf, &slog.HandlerOptions{ReplaceAttr: dropTime})}
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.NoEventID = true
	h := NewHandler(inner, &o)
	// NewHandler sets the style once it has the line that does; until then
	// (and harmlessly after) it is set here.
	h.c.red.writesTo(inner)
	return h
}

// rtLog logs through rtHandler and returns the output, failing on a panic.
func rtLog(t testing.TB, format string, opts *Options, fn func(l *slog.Logger)) string {
	t.Helper()
	var buf bytes.Buffer
	l := slog.New(rtHandler(&buf, format, opts))
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("%s: logging panicked: %v", format, p)
			}
		}()
		fn(l)
	}()
	return buf.String()
}

// ---- values that render themselves ----

// rtRenamer renames its fields in MarshalJSON: Pass becomes "password".
type rtRenamer struct{ User, Pass string }

func (r rtRenamer) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"user": r.User, "password": r.Pass})
}

// rtDoc is a column type whose MarshalJSON writes a stored document.
type rtDoc struct{ raw string }

func (d rtDoc) MarshalJSON() ([]byte, error) { return []byte(d.raw), nil }

// rtTextKey is a map key written by MarshalText (JSON) or as its fields
// (fmt).
type rtTextKey struct{ s string }

func (k rtTextKey) MarshalText() ([]byte, error) { return []byte(k.s), nil }

// rtPtrTextKey has MarshalText on its pointer only: encoding/json does not
// call it for a map key, which is not addressable.
type rtPtrTextKey struct{ S string }

func (k *rtPtrTextKey) MarshalText() ([]byte, error) { return []byte("Bearer " + rtSecret), nil }

// rtValErr is an error by value with a secret-named field.
type rtValErr struct {
	Msg   string
	Token string
}

func (e rtValErr) Error() string { return e.Msg }

// rtPanic panics in every method with a message holding the secret.
type rtPanic struct{ Label string }

func (rtPanic) MarshalJSON() ([]byte, error) { panic("marshal failed for password " + rtSecret) }

func (rtPanic) MarshalText() ([]byte, error) { panic("text failed: " + rtSecret) }

func (rtPanic) String() string { panic("string failed: " + rtSecret) }

func (rtPanic) Error() string { panic("error failed: " + rtSecret) }

type rtPanicString struct{ N int }

func (rtPanicString) String() string { panic(rtSecret) }

type rtPanicError struct{}

func (rtPanicError) Error() string { panic(rtSecret) }

type rtPanicJSON struct{ N int }

func (rtPanicJSON) MarshalJSON() ([]byte, error) { panic(rtSecret) }

type rtPanicText struct{ N int }

func (rtPanicText) MarshalText() ([]byte, error) { panic(rtSecret) }

// rtFailJSON and rtFailText return errors holding the secret.
type rtFailJSON struct{ N int }

func (rtFailJSON) MarshalJSON() ([]byte, error) { return nil, errors.New("bad " + rtSecret) }

type rtFailText struct{ N int }

func (rtFailText) MarshalText() ([]byte, error) { return nil, errors.New("bad " + rtSecret) }

// rtFlip is an error whose text holds the secret from its second call on:
// a check that reads one text and a handler that writes another leak it.
type rtFlip struct{ calls *atomic.Int32 }

func (e rtFlip) Error() string {
	if e.calls.Add(1) == 1 {
		return "upstream refused the request"
	}
	return "upstream refused: Bearer " + rtSecret
}

// rtErrWithPassword is an error whose struct has a secret-named field; its
// message must survive.
type rtErrWithPassword struct {
	Msg      string
	Password string
}

func (e *rtErrWithPassword) Error() string { return e.Msg }

// rtNilErr guards against a nil receiver badly.
type rtNilErr struct{ msg string }

func (e *rtNilErr) Error() string { return e.msg }

// rtLocked's String takes a lock that the caller holds while logging.
type rtLocked struct {
	mu   *sync.Mutex
	Name string
}

func (l rtLocked) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Name
}

// rtLockedText is written by its MarshalText; its String would deadlock.
type rtLockedText struct{ rtLocked }

func (l rtLockedText) MarshalText() ([]byte, error) { return []byte("text:" + l.Name), nil }

// rtLockedJSON is written by its MarshalJSON; its String would deadlock.
type rtLockedJSON struct{ rtLocked }

func (l rtLockedJSON) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"n": l.Name})
}

// ---- embedding ----

type rtBase struct {
	ID       int
	Password string
}

type rtAccount struct {
	rtBase
	Name string
}

type RtTagged struct {
	Name string `json:"name"`
}

type RtPlain struct{ Name string }

// rtConflict: Name at depth 0 wins over the embedded ones; of the two at
// depth 1, the tagged one wins over the untagged.
type rtConflict struct {
	RtTagged
	RtPlain
	Token string
}

type rtDeep0 struct{ rtDeep1 }

type rtDeep1 struct{ *rtDeep2 }

type rtDeep2 struct{ rtDeep3 }

type rtDeep3 struct {
	Secret string `json:"api_key"`
	Host   string
}

// rtCycleJSON holds itself and a field that marshals itself.
type rtCycleJSON struct {
	Next     *rtCycleJSON
	Doc      rtDoc
	Password string
}

// ---- the routes ----

type rtRoute struct {
	name string
	only string // a format the route is specific to; "" for all
	log  func(l *slog.Logger)
	// keep are texts that must be in the output: the non-secret
	// neighbours, which redaction must not damage.
	keep []string
	// secrets that must not be in it besides rtSecret.
	secrets []string
}

func rtRoutes(t testing.TB) []rtRoute {
	rsaKey, err := rsa.GenerateKey(crand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	_, edKey, _ := ed25519.GenerateKey(crand.Reader)
	xKey, _ := ecdh.X25519().GenerateKey(crand.Reader)
	keyTexts := []string{rsaKey.D.String(), ecKey.D.String(), hex.EncodeToString(edKey.Seed()),
		base64.StdEncoding.EncodeToString(edKey), base64.StdEncoding.EncodeToString(xKey.Bytes()),
		fmt.Sprint(edKey.Seed()), fmt.Sprint(xKey.Bytes()), fmt.Sprint([]byte(edKey))}
	flips := func() rtFlip { return rtFlip{new(atomic.Int32)} }
	return []rtRoute{
		// Documents from MarshalJSON, redacted by key. The text handler
		// never calls MarshalJSON: it prints the fields.
		{name: "MarshalJSON renaming a field to password", only: "json", log: func(l *slog.Logger) {
			l.Info("m", "login", rtRenamer{"ada", rtSecret})
		}, keep: []string{`"user":"ada"`}},
		{name: "MarshalJSON document with a secret key, as a struct field", only: "json", log: func(l *slog.Logger) {
			l.Info("m", "row", struct {
				ID  int
				Doc rtDoc
			}{7, rtDoc{`{"client_secret":"` + rtSecret + `","scope":"read"}`}})
		}, keep: []string{`"ID":7`, `"scope":"read"`}},
		{name: "json.RawMessage column with a password key", log: func(l *slog.Logger) {
			l.Info("m", "row", struct {
				ID   int
				Data json.RawMessage
			}{7, json.RawMessage(`{"user":"ada","password":"` + rtSecret + `"}`)})
		}, keep: []string{"ada"}},
		{name: "MarshalJSON document under a map", only: "json", log: func(l *slog.Logger) {
			l.Info("m", "m", map[string]any{"a": rtDoc{`[{"token":"` + rtSecret + `"}]`}, "b": 1})
		}, keep: []string{`"b":1`}},

		// Map keys.
		{name: "Secret as a map key", log: func(l *slog.Logger) {
			l.Info("m", "seen", map[Secret]int{Secret(rtSecret): 3})
		}, keep: []string{"3"}},
		{name: "MarshalText map key holding a bearer token", log: func(l *slog.Logger) {
			l.Info("m", "seen", map[rtTextKey]int{{"Bearer " + rtSecret}: 3, {"plain"}: 4})
		}, keep: []string{"plain"}},
		{name: "map key naming a secret, value from MarshalJSON", only: "json", log: func(l *slog.Logger) {
			l.Info("m", "m", map[rtTextKey]rtDoc{{"password"}: {`"` + rtSecret + `"`}})
		}},

		{name: "map key with MarshalText on its pointer", log: func(l *slog.Logger) {
			l.Info("m", "m", map[rtPtrTextKey]string{{"Bearer " + rtSecret}: "v"}, "after", "kept")
		}, keep: []string{"kept"}},
		{name: "error by value with a secret field, behind a pointer", log: func(l *slog.Logger) {
			l.Info("m", "err", &rtValErr{"denied for ada", rtSecret})
		}, keep: []string{"denied for ada"}},

		// Panics and errors of methods.
		{name: "panicking MarshalJSON, MarshalText, String and Error", log: func(l *slog.Logger) {
			l.Info("m", "v", rtPanic{"x"}, "n", 1)
		}, keep: []string{"n"}},
		{name: "panicking String", log: func(l *slog.Logger) { l.Info("m", "v", rtPanicString{1}, "after", "kept") },
			keep: []string{"kept"}},
		{name: "panicking String nested", log: func(l *slog.Logger) {
			l.Info("m", "v", struct{ A, B any }{"ok", rtPanicString{1}})
		}, keep: []string{"ok"}},
		{name: "panicking Error", log: func(l *slog.Logger) { l.Info("m", "err", rtPanicError{}) }},
		{name: "panicking MarshalJSON", log: func(l *slog.Logger) { l.Info("m", "v", rtPanicJSON{1}) }},
		{name: "panicking MarshalJSON nested", log: func(l *slog.Logger) {
			l.Info("m", "v", []any{"ok", rtPanicJSON{1}})
		}},
		{name: "panicking MarshalText", log: func(l *slog.Logger) { l.Info("m", "v", rtPanicText{1}) }},
		{name: "panicking MarshalText as a map key", log: func(l *slog.Logger) {
			l.Info("m", "v", map[rtPanicText]int{{1}: 1})
		}},
		{name: "MarshalJSON returning an error", log: func(l *slog.Logger) { l.Info("m", "v", rtFailJSON{1}) }},
		{name: "MarshalText returning an error", log: func(l *slog.Logger) { l.Info("m", "v", rtFailText{1}) }},

		// reflect.Value shows what it holds through fmt.
		{name: "reflect.Value of a struct", log: func(l *slog.Logger) {
			l.Info("m", "v", reflect.ValueOf(struct{ User, Password string }{"ada", rtSecret}))
		}, keep: []string{"ada"}},
		{name: "reflect.Value of a bearer string", log: func(l *slog.Logger) {
			l.Info("m", "v", reflect.ValueOf("Bearer "+rtSecret))
		}},
		{name: "reflect.Value inside a struct", log: func(l *slog.Logger) {
			l.Info("m", "v", struct{ V reflect.Value }{reflect.ValueOf(map[string]string{"token": rtSecret})})
		}},

		// What is written is what was checked.
		{name: "Error text that changes after the check", log: func(l *slog.Logger) {
			l.Info("m", "err", flips())
		}},
		{name: "Error text that changes, nested", log: func(l *slog.Logger) {
			l.Info("m", "v", []error{flips()})
		}},
		{name: "error with a secret-named field keeps its message", log: func(l *slog.Logger) {
			l.Info("m", "err", &rtErrWithPassword{"login failed for ada", rtSecret})
		}, keep: []string{"login failed for ada"}},

		// Embedded fields flatten like encoding/json.
		{name: "embedded struct with a password field", log: func(l *slog.Logger) {
			l.Info("m", "acct", rtAccount{rtBase{7, rtSecret}, "ada"})
		}, keep: []string{"ada", "7"}},
		{name: "embedded conflicts", log: func(l *slog.Logger) {
			l.Info("m", "c", rtConflict{RtTagged{"tagged"}, RtPlain{"plain"}, rtSecret})
		}, keep: []string{"tagged"}},
		{name: "deeply embedded, through a pointer", log: func(l *slog.Logger) {
			l.Info("m", "d", rtDeep0{rtDeep1{&rtDeep2{rtDeep3{rtSecret, "db1"}}}})
		}, keep: []string{"db1"}},

		// By type.
		{name: "private keys wherever they sit", log: func(l *slog.Logger) {
			l.Info("m", "rsa", rsaKey, "ecdsa", ecKey, "ed", edKey, "x", xKey, "n", 1,
				"in", struct {
					K   any
					Who string
				}{*rsaKey, "svc"}, "list", []any{edKey, ecKey})
		}, keep: []string{"svc"}, secrets: keyTexts},
		{name: "*http.Cookie under an ordinary key", log: func(l *slog.Logger) {
			l.Info("m", "c", &http.Cookie{Name: "sid", Value: rtSecret, Path: "/", HttpOnly: true, Raw: "sid=" + rtSecret})
		}, keep: []string{"sid=", "Path=/"}},
		{name: "http.Cookie values in a list", log: func(l *slog.Logger) {
			l.Info("m", "jar", []*http.Cookie{{Name: "a", Value: rtSecret}, nil}, "one", http.Cookie{Name: "b", Value: rtSecret})
		}},
		{name: "*url.Userinfo with a password, its user name kept", log: func(l *slog.Logger) {
			l.Info("m", "u", url.UserPassword("bobby", rtSecret), "in", struct{ Who *url.Userinfo }{url.UserPassword("bobby", rtSecret)})
		}, keep: []string{"bobby"}},
		{name: "http.Header", log: func(l *slog.Logger) {
			l.Info("m", "h", http.Header{"Authorization": {"Basic " + rtSecret}, "Cookie": {"sid=" + rtSecret},
				"X-Api-Key": {rtSecret}, "Accept": {"text/html"}})
		}, keep: []string{"text/html"}},

		// Adversarial.
		{name: "cycle through a value with MarshalJSON", log: func(l *slog.Logger) {
			c := &rtCycleJSON{Doc: rtDoc{`{"a":1}`}, Password: rtSecret}
			c.Next = c
			l.Info("m", "c", c)
		}},
		{name: "clean cycle through a value with MarshalJSON", log: func(l *slog.Logger) {
			c := &rtCycleJSON{Doc: rtDoc{`{"a":1}`}}
			c.Next = c
			l.Info("m", "c", c, "after", "kept")
		}, keep: []string{"kept"}},
		{name: "huge document from MarshalJSON", only: "json", log: func(l *slog.Logger) {
			var b strings.Builder
			b.WriteString(`{"items":[`)
			for i := 0; i < 20000; i++ {
				fmt.Fprintf(&b, `{"id":%d,"name":"item"},`, i)
			}
			b.WriteString(`{"password":"` + rtSecret + `"}]}`)
			l.Info("m", "doc", rtDoc{b.String()})
		}, keep: []string{`"id":19999`}},
		{name: "nil pointers everywhere", log: func(l *slog.Logger) {
			l.Info("m", "a", (*rtAccount)(nil), "b", (*http.Cookie)(nil), "c", (*rsa.PrivateKey)(nil),
				"d", (*rtErrWithPassword)(nil), "e", struct{ P *rtBase }{}, "f", (*reflect.Value)(nil), "password", rtSecret)
		}},
		{name: "typed nil error", log: func(l *slog.Logger) {
			var e *rtNilErr
			var err error = e
			l.Info("m", "err", err, "token", rtSecret)
		}},
	}
}

// rtFuzzDoc is a document from MarshalJSON built from fuzzed texts.
type rtFuzzDoc struct{ key, text string }

func (d rtFuzzDoc) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{d.key: d.text, "password": rtSecret, "n": []any{d.text, map[string]string{"token": rtSecret}}})
}

// rtFuzzPanic panics, in every method, with fuzzed text and the secret.
type rtFuzzPanic struct{ text string }

func (p rtFuzzPanic) MarshalJSON() ([]byte, error) { panic(p.text + rtSecret) }

func (p rtFuzzPanic) MarshalText() ([]byte, error) { panic(rtSecret + p.text) }

func (p rtFuzzPanic) String() string { panic(p.text + rtSecret + p.text) }

// rtFuzzErr fails with fuzzed text and the secret.
type rtFuzzErr struct{ text string }

func (p rtFuzzErr) MarshalJSON() ([]byte, error) { return nil, errors.New(p.text + rtSecret) }

// rtWrap nests v in depth levels of the containers the walker knows.
func rtWrap(v any, key string, depth int) any {
	for i := 0; i < depth; i++ {
		switch i % 5 {
		case 0:
			v = []any{key, v}
		case 1:
			v = map[string]any{key: v, "x": i}
		case 2:
			v = &struct{ V any }{v}
		case 3:
			v = struct {
				rtBase
				W any
			}{rtBase{ID: i}, v}
		default:
			v = reflect.ValueOf(v)
		}
	}
	return v
}

func rtFuzzValue(key, text string, route uint8, depth int) any {
	var v any
	switch route % 22 {
	case 0:
		v = map[string]string{key + "_password": rtSecret, text: key}
	case 1:
		v = rtFuzzDoc{key, text}
	case 2:
		v = map[Secret]string{Secret(rtSecret): text}
	case 3:
		v = map[rtTextKey]string{{text + " Bearer " + rtSecret}: key}
	case 4:
		v = rtFuzzPanic{text}
	case 5:
		v = []any{text, rtFuzzPanic{key}}
	case 6:
		v = rtFuzzErr{text}
	case 7:
		v = json.RawMessage(`{"` + strings.ReplaceAll(key, `"`, ``) + `":1,"secret":"` + rtSecret + `"}`)
	case 8:
		v = reflect.ValueOf(struct{ A, Token string }{text, rtSecret})
	case 9:
		v = &http.Cookie{Name: key, Value: rtSecret, Raw: text + rtSecret}
	case 10:
		v = http.Header{key: {text}, "Authorization": {text + rtSecret}}
	case 11:
		v = rtAccount{rtBase{1, rtSecret}, text}
	case 12:
		v = &rtErrWithPassword{text, rtSecret}
	case 13:
		v = rtDeep0{rtDeep1{&rtDeep2{rtDeep3{rtSecret, text}}}}
	case 14:
		v = Secret(rtSecret)
	case 15:
		// The text handler prints the document's unexported text with fmt:
		// only the string scanner could find a key inside it.
		c := &rtCycleJSON{Doc: rtDoc{`{"a":1}`}, Password: rtSecret}
		c.Next = c
		v = c
	case 16:
		v = fmt.Errorf("%s: %w", text, errors.New("dial postgres://u:"+rtSecret+"@db/x"))
	case 17:
		v = map[string]any{key: text, "api_key": rtSecret}
	case 18:
		v = rtPanicString{len(text)}
		return []any{rtWrap(v, key, depth), map[string]string{"token": rtSecret}}
	case 19:
		_, k, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte(rtSecret), 4)))
		v = k
		return rtWrap([]any{v, text, hex.EncodeToString(k.Seed()) == "", Secret(rtSecret)}, key, depth)
	case 20:
		v = []any{text, rtFlip{new(atomic.Int32)}, map[string]any{"cookie": rtSecret}}
	default:
		v = struct {
			Doc  rtFuzzDoc
			Note string
		}{rtFuzzDoc{key, text}, text}
	}
	return rtWrap(v, key, depth)
}

// inlineValuer is a LogValuer that resolves to a group of its attributes:
// under an empty key, handlers inline them like an empty-key group's.
type inlineValuer []slog.Attr

func (v inlineValuer) LogValue() slog.Value { return slog.GroupValue(v...) }

// panickingWriter is a Fallback whose every Write panics.
type panickingWriter struct{}

func (panickingWriter) Write([]byte) (int, error) { panic("fallback bug") }

// countKeys returns how many times each key is in keys.
func countKeys(keys []string) map[string]int {
	n := map[string]int{}
	for _, k := range keys {
		n[k]++
	}
	return n
}
