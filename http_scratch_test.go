package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/user"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
)

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

func TestClientAddr(t *testing.T) {
	trusted := httpTestProxies(t)
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httpTestRequest(tt.remote)
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
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

// httpTestSink collects the JSON records of a handler, safely for
// concurrent writers.
type httpTestSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *httpTestSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *httpTestSink) records(t testing.TB) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(s.buf.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("bad JSON record %s: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func (s *httpTestSink) logger() *slog.Logger {
	return slog.New(NewHandler(slog.NewJSONHandler(s, nil), nil))
}

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
	sink := &httpTestSink{}
	logger := sink.logger()
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

	recs := sink.records(t)
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
			sink := &httpTestSink{}
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
				&HTTPOptions{TrustedProxies: tt.trusted, Logger: sink.logger()})
			r := httpTestRequest(tt.remote,
				"X-Forwarded-For", "10.0.0.1, 127.0.0.1",
				"X-Request-Id", "forged",
				"X-Auth-Request-User", "admin",
				"X-Auth-Request-Email", "admin@example.org")
			h.ServeHTTP(httptest.NewRecorder(), r)
			end := httpTestByEvent(t, sink.records(t), RequestEndEvent)
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
			sink := &httpTestSink{}
			var gotFlush, gotHijack bool
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, gotFlush = w.(http.Flusher)
				_, gotHijack = w.(http.Hijacker)
				tt.handler(w, r)
			}), &HTTPOptions{Logger: sink.logger()})
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
			end := httpTestByEvent(t, sink.records(t), RequestEndEvent)
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
	long := strings.Repeat("z", maxBody+100)
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
			want: `"` + long[:maxBody] + `"`, size: float64(len(long))},
		{name: "unread body", logBody: httpTestBodyHeader, ctype: "text/plain", body: "hello", size: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &httpTestSink{}
			var got string
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.read {
					b, _ := io.ReadAll(r.Body)
					got = string(b)
				}
			}), &HTTPOptions{Logger: sink.logger(), LogBody: tt.logBody})
			r := httptest.NewRequest("POST", "/login", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", tt.ctype)
			r.Header.Set("X-Audit-Body", "true")
			h.ServeHTTP(httptest.NewRecorder(), r)
			if raw := sink.buf.String(); strings.Contains(raw, "hunter2") || strings.Contains(raw, "t0k") {
				t.Errorf("secret in a logged body: %s", raw)
			}
			if tt.read && got != tt.body {
				t.Errorf("handler read %d bytes, want %d", len(got), len(tt.body))
			}
			end := httpTestByEvent(t, sink.records(t), RequestEndEvent)
			body, ok := end[RequestBodyKey]
			if tt.want == "" {
				if ok {
					t.Errorf("%s = %v, want none", RequestBodyKey, body)
				}
			} else if raw := sink.buf.String(); !strings.Contains(raw, `"`+RequestBodyKey+`":`+tt.want+`,`) {
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
	sink := &httpTestSink{}
	logger := sink.logger()
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
			sink.buf.Reset()
			r := httpTestRequest("192.0.2.1:1").WithContext(tt.ctx)
			Middleware(app, tt.opts).ServeHTTP(httptest.NewRecorder(), r)
			recs := sink.records(t)
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
	sink := &httpTestSink{}
	logger := sink.logger()
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
	recs := sink.records(t)
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

// FuzzClientAddr checks, on any RemoteAddr and X-Forwarded-For lines, that
// ClientAddr does not panic and returns an address no untrusted hop chose:
// the peer's, when the peer is untrusted; when it is trusted, the peer's or
// an entry all of whose right-hand neighbours are trusted, and a trusted
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
	logger := slog.New(NewHandler(slog.NewJSONHandler(io.Discard, nil), nil))
	b.Run("bare", func(b *testing.B) { run(b, app) })
	b.Run("audit", func(b *testing.B) { run(b, Middleware(app, nil)) })
	b.Run("audit-events", func(b *testing.B) {
		run(b, Middleware(app, &HTTPOptions{Logger: logger}))
	})
	b.Run("audit-start-end", func(b *testing.B) {
		run(b, Middleware(app, &HTTPOptions{Logger: logger, LogStart: true}))
	})
}
