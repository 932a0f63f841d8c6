package audit_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/slogaudit/audit"
)

// httpExampleLogger writes JSON lines without the time and the request
// duration, which change on every run.
func httpExampleLogger() *slog.Logger {
	drop := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == audit.DurationKey) {
			return slog.Attr{}
		}
		return a
	}
	inner := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: drop})
	return slog.New(audit.NewHandler(inner, &audit.Options{NoEventID: true}))
}

// The application runs behind oauth2-proxy on the same host. Its own
// authentication, inside the middleware, only knows an opaque user id;
// the proxy knows who that is.
func ExampleMiddleware() {
	logger := httpExampleLogger()
	opts := &audit.HTTPOptions{
		TrustedProxies: audit.Loopback(),
		Logger:         logger,
		LogStart:       true,
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session := audit.Identity{Name: "8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7d"} // from the app's session store
		ctx := audit.WithIdentity(r.Context(), audit.RequestIdentity(r, session, opts))
		logger.InfoContext(ctx, "File uploaded", audit.Event("file.upload"), "filename", "a.txt")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "done")
	})
	handler := audit.Middleware(app, opts)

	r := httptest.NewRequest("PUT", "/files/a.txt", nil)
	r.RemoteAddr = "127.0.0.1:41234" // oauth2-proxy
	r.Header.Set("X-Forwarded-For", "198.51.100.66, 203.0.113.7")
	r.Header.Set("X-Request-Id", "4bf92f3577b34da6a3ce929d0e0e4736")
	r.Header.Set("X-Auth-Request-User", "grace")
	r.Header.Set("User-Agent", "curl/8.5.0")
	handler.ServeHTTP(httptest.NewRecorder(), r)

	// Output:
	// {"level":"INFO","msg":"request start","event":"http.request.start","user":{"name":"grace","kind":"web"},"request_id":"4bf92f3577b34da6a3ce929d0e0e4736","http.request.method":"PUT","url.path":"/files/a.txt","client.address":"203.0.113.7","user_agent.original":"curl/8.5.0"}
	// {"level":"INFO","msg":"File uploaded","event":"file.upload","user":{"id":"8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7d","name":"grace","kind":"web"},"request_id":"4bf92f3577b34da6a3ce929d0e0e4736","http.request.method":"PUT","url.path":"/files/a.txt","client.address":"203.0.113.7","user_agent.original":"curl/8.5.0","filename":"a.txt"}
	// {"level":"INFO","msg":"request end","event":"http.request.end","user":{"id":"8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7d","name":"grace","kind":"web"},"request_id":"4bf92f3577b34da6a3ce929d0e0e4736","http.request.method":"PUT","url.path":"/files/a.txt","client.address":"203.0.113.7","user_agent.original":"curl/8.5.0","http.response.status_code":201,"http.response.body.size":4,"request_end":true}
}

// A notebook server audits which code each user ran: the code is the
// input, written with an event; the result is the output, and is never
// logged, since it can hold any data the user could reach.
func ExampleMiddleware_codeExecution() {
	logger := httpExampleLogger()
	run := func(code string) string { return "20" } // stands for the kernel

	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		code := string(body)
		logger.InfoContext(r.Context(), "Evaluating code", audit.Event("code.evaluate"),
			"code", code, "session_mode", "default")
		result := run(code)
		io.WriteString(w, result) // to the user only
	})
	handler := audit.Middleware(app, &audit.HTTPOptions{
		TrustedProxies: audit.Loopback(),
		Authenticated: func(r *http.Request) (audit.Identity, bool) {
			return audit.Identity{ID: "u-1001", Name: "ada"}, true
		},
	})

	r := httptest.NewRequest("POST", "/api/kernels/k1/execute", strings.NewReader("7 + 13"))
	r.RemoteAddr = "127.0.0.1:41234"
	r.Header.Set("X-Request-Id", "req-1")
	handler.ServeHTTP(httptest.NewRecorder(), r)

	// Output:
	// {"level":"INFO","msg":"Evaluating code","event":"code.evaluate","user":{"id":"u-1001","name":"ada","kind":"web"},"request_id":"req-1","http.request.method":"POST","url.path":"/api/kernels/k1/execute","client.address":"127.0.0.1","code":"7 + 13","session_mode":"default"}
}

// Only the proxy-asserted headers of a trusted peer replace an opaque name.
func ExampleRequestIdentity() {
	opts := &audit.HTTPOptions{TrustedProxies: audit.Loopback()}
	session := audit.Identity{Name: "1f0e3dad-9990-4a6d-a1b2-c3d4e5f60718"}

	for _, peer := range []string{"127.0.0.1:41234", "192.0.2.1:41234"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Auth-Request-User", "grace")
		r.Header.Set("X-Auth-Request-Email", "grace@example.org")
		id := audit.RequestIdentity(r, session, opts)
		fmt.Printf("%s: id=%q name=%q email=%q kind=%q\n", peer, id.ID, id.Name, id.Email, id.Kind)
	}
	// Output:
	// 127.0.0.1:41234: id="1f0e3dad-9990-4a6d-a1b2-c3d4e5f60718" name="grace" email="grace@example.org" kind="web"
	// 192.0.2.1:41234: id="" name="1f0e3dad-9990-4a6d-a1b2-c3d4e5f60718" email="" kind="web"
}

// X-Forwarded-For is believed only from trusted proxies, and read from the
// right: what the client wrote itself ends up on the left.
func ExampleClientAddr() {
	trusted, err := audit.ParseProxies("10.0.0.0/8")
	if err != nil {
		panic(err)
	}
	for _, c := range []struct{ peer, xff string }{
		{"10.0.0.1:80", "198.51.100.66, 203.0.113.7, 10.0.0.2"}, // behind two proxies; the first entry is forged
		{"192.0.2.1:80", "203.0.113.7"},                         // not a proxy: the header is ignored
		{"[2001:db8::1]:80", ""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		r.Header.Set("X-Forwarded-For", c.xff)
		fmt.Println(audit.ClientAddr(r, trusted))
	}
	// Output:
	// 203.0.113.7
	// 192.0.2.1
	// 2001:db8::1
}

// A command-line tool and a scheduled job say who acted, too.
func ExampleJobIdentity() {
	logger := httpExampleLogger()

	ctx := audit.WithIdentity(context.Background(), audit.JobIdentity("nightly-export"))
	logger.InfoContext(ctx, "Export written", audit.Event("export.write"), "rows", 1200)

	// In a command-line tool, the operating-system user ran it: its login
	// name and user id, which differ from machine to machine.
	fmt.Println(audit.CLIIdentity().Kind)
	// Output:
	// {"level":"INFO","msg":"Export written","event":"export.write","user":{"name":"nightly-export","kind":"cron"},"rows":1200}
	// cli
}

// A request body is logged only when the application asks for it, request
// by request; here, FHIR writes whose client sent X-Audit-Req-Body. It is
// decoded so that the Handler's redaction by key reaches its fields.
func ExampleHTTPOptions_logBody() {
	handler := audit.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the application reads the body as usual
	}), &audit.HTTPOptions{
		TrustedProxies: audit.Loopback(),
		Logger:         httpExampleLogger(),
		LogBody: func(r *http.Request) bool {
			return strings.HasPrefix(r.URL.Path, "/fhir/") && r.Header.Get("X-Audit-Req-Body") == "true"
		},
	})

	r := httptest.NewRequest("POST", "/fhir/Patient", strings.NewReader(`{"resourceType":"Patient","active":true}`))
	r.Header.Set("Content-Type", "application/fhir+json")
	r.Header.Set("X-Audit-Req-Body", "true")
	r.RemoteAddr = "127.0.0.1:41234"
	r.Header.Set("X-Request-Id", "req-9")
	handler.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// {"level":"INFO","msg":"request end","event":"http.request.end","request_id":"req-9","http.request.method":"POST","url.path":"/fhir/Patient","client.address":"127.0.0.1","http.response.status_code":200,"http.response.body.size":0,"http.request.body":{"active":true,"resourceType":"Patient"},"http.request.body.size":40,"request_end":true}
}
