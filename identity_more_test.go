package audit

// Tests for issues 13 (points 4-6) and 14 (points 2-6, the middleware and
// default-logger parts). To be folded into handler_test.go, next to the
// identity and middleware tests.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

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
			recs := lines(t, &buf)
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
		{name: "ECS outcome key", status: 403, outcomeKey: "event.outcome", wantLevel: "WARN", wantOutcome: "failure"},
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
			opts := &HTTPOptions{Logger: w.logger(), EndLevel: tt.endLevel, Fields: Fields{Outcome: tt.outcomeKey}}
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
	restore := saveDefaults()
	defer restore()
	var buf httpTestSink
	log.SetOutput(&buf)
	log.SetFlags(0)
	log.SetPrefix("app: ")
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
	buf.mu.Lock()
	got := buf.buf.String()
	buf.mu.Unlock()
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
