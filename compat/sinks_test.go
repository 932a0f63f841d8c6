package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	charm "github.com/charmbracelet/log"
	"github.com/getsentry/sentry-go"
	sentryattr "github.com/getsentry/sentry-go/attribute"
	sentryslog "github.com/getsentry/sentry-go/slog"
	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/lmittmann/tint"
	console "github.com/phsym/console-slog"
	"github.com/rs/zerolog"
	slogmulti "github.com/samber/slog-multi"
	slogzerolog "github.com/samber/slog-zerolog/v2"
	slogdedup "github.com/veqryn/slog-dedup"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	otelattr "go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"
)

// A sink is one real handler setup: every test in this module runs over
// each of them, bare and wrapped in audit.NewHandler. Adding a handler is
// one entry in sinks.
type sink struct {
	name string
	mod  string // module path, for the version in the test log
	// new returns a fresh handler writing to w, one line per record
	// (handlers with a structured sink render what they receive as a JSON
	// line). wrapped tells whether audit.NewHandler will wrap it; only
	// zapslog with stack traces looks at it.
	new func(w io.Writer, wrapped bool) slog.Handler
	// parse turns one line of output into the map testing/slogtest
	// checks, or nil for a line that is not a record of its own. Nil parse
	// means the line is a JSON object.
	parse func(line string) (map[string]any, error)
}

var sinks = []sink{
	{"slog.JSONHandler", "std", func(w io.Writer, _ bool) slog.Handler { return slog.NewJSONHandler(w, nil) }, nil},
	{"slog.TextHandler", "std", func(w io.Writer, _ bool) slog.Handler { return slog.NewTextHandler(w, nil) }, parseLogfmt(0)},
	{"zapslog", "go.uber.org/zap/exp", func(w io.Writer, _ bool) slog.Handler { return newZap(w, false, false) }, nil},
	{"zapslog+stack", "go.uber.org/zap/exp", func(w io.Writer, wrapped bool) slog.Handler { return newZap(w, true, wrapped) }, nil},
	{"zerolog.SlogHandler", "github.com/rs/zerolog", func(w io.Writer, _ bool) slog.Handler { return zerolog.NewSlogHandler(zerolog.New(w)) }, parseDotted},
	{"slog-zerolog", "github.com/samber/slog-zerolog/v2", newSlogZerolog, nil},
	{"tint", "github.com/lmittmann/tint", func(w io.Writer, _ bool) slog.Handler {
		return tint.NewHandler(w, &tint.Options{NoColor: true, TimeFormat: time.RFC3339Nano})
	}, parseLogfmt(2)},
	{"console-slog", "github.com/phsym/console-slog", func(w io.Writer, _ bool) slog.Handler {
		return console.NewHandler(w, &console.HandlerOptions{NoColor: true, TimeFormat: time.RFC3339Nano})
	}, parseLogfmt(2)},
	{"slog-multi.Fanout", "github.com/samber/slog-multi", func(w io.Writer, _ bool) slog.Handler {
		return slogmulti.Fanout(slog.NewJSONHandler(w, nil), slog.NewTextHandler(w, nil))
	}, jsonLinesOnly},
	{"slog-dedup.Overwrite", "github.com/veqryn/slog-dedup", func(w io.Writer, _ bool) slog.Handler {
		return slogdedup.NewOverwriteHandler(slog.NewJSONHandler(w, nil), nil)
	}, nil},
	{"otelslog", "go.opentelemetry.io/contrib/bridges/otelslog", newOTel, nil},
	{"sentryslog", "github.com/getsentry/sentry-go/slog", newSentry, parseDotted},
	{"charmbracelet/log", "github.com/charmbracelet/log", func(w io.Writer, _ bool) slog.Handler {
		return charm.NewWithOptions(w, charm.Options{ReportTimestamp: true, TimeFormat: time.RFC3339Nano})
	}, parseLogfmt(2)},
	{"logr/funcr", "github.com/go-logr/logr", newFuncr, parseFuncr},
	// jba/slog is not here: proxy.golang.org answers 403 "This module
	// version is not available." for its version list, @latest and its
	// commits (issue 16).
}

func init() {
	// slog's names, so that slogtest finds the message.
	zerolog.MessageFieldName = slog.MessageKey
	zerolog.TimeFieldFormat = time.RFC3339Nano
}

// moduleVersion returns mod@version as go.mod requires it. (A test
// binary's build info lists no dependencies.)
func moduleVersion(mod string) string {
	if mod == "std" {
		return "std " + runtime.Version()
	}
	data, err := os.ReadFile("go.mod")
	if err != nil {
		return mod + "@?"
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == mod {
			return mod + "@" + f[1]
		}
	}
	return mod + "@?"
}

// zapCallerSkip is the zapslog.WithCallerSkip a program gives zapslog under
// audit.NewHandler, so that ERROR stack traces start at the caller: the
// number of frames audit puts between slog.Logger and the wrapped handler
// on the path a record takes when audit passes it through. Issue 16 asks
// that the path of a rewritten record take as many.
const zapCallerSkip = 2

func newZap(w io.Writer, stack, wrapped bool) slog.Handler {
	cfg := zapcore.EncoderConfig{
		TimeKey: slog.TimeKey, LevelKey: slog.LevelKey, MessageKey: slog.MessageKey,
		NameKey: "logger", StacktraceKey: "stacktrace",
		EncodeTime: zapcore.RFC3339NanoTimeEncoder, EncodeLevel: zapcore.CapitalLevelEncoder,
		EncodeDuration: zapcore.StringDurationEncoder,
	}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.AddSync(w), zapcore.DebugLevel)
	if !stack {
		// Above every level slog has: no stack traces.
		return zapslog.NewHandler(core, zapslog.AddStacktraceAt(slog.Level(1<<20)))
	}
	opts := []zapslog.HandlerOption{zapslog.AddStacktraceAt(slog.LevelError)}
	if wrapped {
		opts = append(opts, zapslog.WithCallerSkip(zapCallerSkip))
	}
	return zapslog.NewHandler(core, opts...)
}

func newSlogZerolog(w io.Writer, _ bool) slog.Handler {
	zl := zerolog.New(w)
	return slogzerolog.Option{Level: slog.LevelDebug, Logger: &zl}.NewZerologHandler()
}

func newFuncr(w io.Writer, _ bool) slog.Handler {
	var mu sync.Mutex
	l := funcr.NewJSON(func(obj string) {
		mu.Lock()
		defer mu.Unlock()
		io.WriteString(w, obj+"\n")
	}, funcr.Options{LogTimestamp: true, Verbosity: 10})
	return logr.ToSlogHandler(l)
}

// parseFuncr reads funcr's JSON, whose time key is "ts".
func parseFuncr(line string) (map[string]any, error) {
	m, err := parseJSON(line)
	if err == nil {
		if ts, ok := m["ts"]; ok {
			delete(m, "ts")
			m[slog.TimeKey] = ts
		}
	}
	return m, err
}

// otelProcessor is an in-memory processor for the OpenTelemetry SDK: it
// writes each record it is given as a JSON line, attributes in order.
type otelProcessor struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *otelProcessor) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (p *otelProcessor) Shutdown(context.Context) error                         { return nil }
func (p *otelProcessor) ForceFlush(context.Context) error                       { return nil }

func (p *otelProcessor) OnEmit(_ context.Context, r *sdklog.Record) error {
	var b bytes.Buffer
	b.WriteByte('{')
	if t := r.Timestamp(); !t.IsZero() {
		fmt.Fprintf(&b, "%q:%q,", slog.TimeKey, t.Format(time.RFC3339Nano))
	}
	fmt.Fprintf(&b, "%q:%q,%q:%d,%q:", slog.LevelKey, r.SeverityText(), "severity", r.Severity(), slog.MessageKey)
	writeOTelValue(&b, r.Body())
	if n := r.EventName(); n != "" {
		fmt.Fprintf(&b, ",%q:%q", "event_name", n)
	}
	r.WalkAttributes(func(kv otelattr.KeyValue) bool {
		fmt.Fprintf(&b, ",%q:", string(kv.Key))
		writeOTelValue(&b, kv.Value)
		return true
	})
	b.WriteString("}\n")
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.w.Write(b.Bytes())
	return err
}

// writeOTelValue writes v as JSON, keeping the order (and any duplicates)
// of a map's keys, as the record holds them.
func writeOTelValue(b *bytes.Buffer, v otelattr.Value) {
	switch v.Type() {
	case otelattr.MAP:
		b.WriteByte('{')
		for i, kv := range v.AsMap() {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, "%q:", string(kv.Key))
			writeOTelValue(b, kv.Value)
		}
		b.WriteByte('}')
	case otelattr.SLICE:
		b.WriteByte('[')
		for i, e := range v.AsSlice() {
			if i > 0 {
				b.WriteByte(',')
			}
			writeOTelValue(b, e)
		}
		b.WriteByte(']')
	case otelattr.EMPTY:
		b.WriteString("null")
	default:
		j, err := json.Marshal(v.AsInterface())
		if err != nil {
			j, _ = json.Marshal(fmt.Sprintf("!%s %v", v.Type(), v.AsInterface()))
		}
		b.Write(j)
	}
}

func newOTel(w io.Writer, _ bool) slog.Handler {
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(&otelProcessor{w: w}))
	return otelslog.NewHandler("compat", otelslog.WithLoggerProvider(lp))
}

// sentryTransport is a sentry.Transport that sends nothing anywhere.
type sentryTransport struct{}

func (sentryTransport) Flush(time.Duration) bool              { return true }
func (sentryTransport) FlushWithContext(context.Context) bool { return true }
func (sentryTransport) Configure(sentry.ClientOptions)        {}
func (sentryTransport) SendEvent(*sentry.Event)               {}
func (sentryTransport) Close()                                {}

func newSentry(w io.Writer, _ bool) slog.Handler {
	var mu sync.Mutex
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:        "https://public@sentry.invalid/1",
		Transport:  sentryTransport{},
		ServerName: "compat",
		// Each log is written here and dropped: it never reaches a
		// buffer or the transport.
		BeforeSendLog: func(l *sentry.Log) *sentry.Log {
			mu.Lock()
			defer mu.Unlock()
			io.WriteString(w, renderSentryLog(l))
			return nil
		},
	})
	if err != nil {
		panic(err)
	}
	ctx := sentry.SetHubOnContext(context.Background(), sentry.NewHub(client, sentry.NewScope()))
	return sentryslog.Option{}.NewSentryHandler(ctx)
}

// renderSentryLog writes what sentry would send for l as a JSON line. The
// attributes are a map in sentry, so they come in key order; trace and span
// ids, random per hub, are left out.
func renderSentryLog(l *sentry.Log) string {
	var b bytes.Buffer
	b.WriteByte('{')
	if !l.Timestamp.IsZero() {
		fmt.Fprintf(&b, "%q:%q,", slog.TimeKey, l.Timestamp.Format(time.RFC3339Nano))
	}
	fmt.Fprintf(&b, "%q:%q,%q:%d,%q:%q", slog.LevelKey, string(l.Level), "severity", l.Severity, slog.MessageKey, l.Body)
	keys := make([]string, 0, len(l.Attributes))
	for k := range l.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var v sentryattr.Value = l.Attributes[k]
		j, err := json.Marshal(v.AsInterface())
		if err != nil {
			j, _ = json.Marshal(v.String())
		}
		fmt.Fprintf(&b, ",%q:%s", k, j)
	}
	b.WriteString("}\n")
	return b.String()
}

// capture is the writer a sink writes to.
type capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// take returns what was written since the last take, with timestamps
// normalized.
func (c *capture) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.buf.String()
	c.buf.Reset()
	return normalize(s)
}

// stamp matches the timestamps the sinks write (RFC 3339 as configured
// above; zerolog's and funcr's own forms), the only thing that differs
// between two writes of the same record.
var stamp = regexp.MustCompile(`\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?`)

func normalize(s string) string { return stamp.ReplaceAllString(s, "<time>") }

// lines splits output into lines.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func (s sink) parseLine(line string) (map[string]any, error) {
	if s.parse == nil {
		return parseJSON(line)
	}
	return s.parse(line)
}

func parseJSON(line string) (map[string]any, error) {
	var m map[string]any
	err := json.Unmarshal([]byte(line), &m)
	return m, err
}

// parseDotted reads a JSON line whose groups are dotted keys ("g.a"), as
// the flat sinks write them, into nested maps.
func parseDotted(line string) (map[string]any, error) {
	flat, err := parseJSON(line)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	for k, v := range flat {
		put(m, strings.Split(k, "."), v)
	}
	return m, nil
}

// jsonLinesOnly parses the JSON lines of a sink that also writes text
// lines.
func jsonLinesOnly(line string) (map[string]any, error) {
	if !strings.HasPrefix(line, "{") {
		return nil, nil
	}
	return parseJSON(line)
}

// logfmtPair matches key=value, the value bare or quoted as strconv.Quote
// does.
var logfmtPair = regexp.MustCompile(`(?:^| )([^ ="]+)=("(?:[^"\\]|\\.)*"|[^ ]*)`)

// parseLogfmt reads key=value lines. With fixed > 0, the line starts with
// that many space-separated fields (time, level) and then the message, up to
// the first pair, as the console handlers write it; the dotted keys of
// groups become nested maps.
func parseLogfmt(fixed int) func(string) (map[string]any, error) {
	return func(line string) (map[string]any, error) {
		m := map[string]any{}
		rest := line
		if fixed > 0 {
			f := strings.SplitN(line, " ", fixed+1)
			if len(f) < fixed {
				return nil, fmt.Errorf("short line %q", line)
			}
			m[slog.TimeKey], m[slog.LevelKey] = f[0], f[1]
			rest = ""
			if len(f) > fixed {
				rest = f[fixed]
			}
			msg := rest
			if loc := logfmtPair.FindStringIndex(rest); loc != nil {
				msg, rest = rest[:loc[0]], rest[loc[0]:]
			} else {
				rest = ""
			}
			m[slog.MessageKey] = strings.TrimSpace(msg)
		}
		for _, p := range logfmtPair.FindAllStringSubmatch(rest, -1) {
			v := p[2]
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
			put(m, strings.Split(p[1], "."), logfmtValue(v))
		}
		return m, nil
	}
}

// logfmtValue reads a group that a handler printed as fmt prints a
// []slog.Attr, "[k=v k=v]" (charmbracelet/log does), as a map; any other
// value as itself.
func logfmtValue(v string) any {
	if len(v) < 2 || v[0] != '[' || v[len(v)-1] != ']' || !strings.Contains(v, "=") {
		return v
	}
	m := map[string]any{}
	for _, p := range logfmtPair.FindAllStringSubmatch(v[1:len(v)-1], -1) {
		m[p[1]] = logfmtValue(p[2])
	}
	return m
}

func put(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		sub, ok := m[k].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[k] = sub
		}
		m = sub
	}
	m[path[len(path)-1]] = v
}
