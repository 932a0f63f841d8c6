package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Audit fields: the audit's own keys cannot be forged.

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
							if rt.name != "context binding" && rt.name != "ContextAttrs" {
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

func TestEventFromContextAttrs(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(NewHandler(newJSON(&buf, nil), &Options{ContextAttrs: func(context.Context) []slog.Attr {
		return []slog.Attr{Event("job.run"), slog.String("trace_id", "t1")}
	}}))
	l.Info("m")
	l.Info("m", Event("own.event"))
	ls := lines(t, &buf)
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

// Writing: failures are never silent.

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

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

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

// Hooks: a panic in any hook costs no record.

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

// Deprecation reports: told once, and only once they are out.

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

// Legacy fields are one line each.

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
		ls := lines(t, &buf)
		if got := ls[0]["msg"]; got != c.want {
			t.Errorf("code %q: msg\n%q\nwant\n%q", c.code, got, c.want)
		}
	}
}
