package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/slogaudit/audit"
)

// removeVolatile drops the time and the event id, which change on every
// run, so that the examples' output can be checked. Real programs keep
// both.
func removeVolatile(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == audit.EventIDKey) {
		return slog.Attr{}
	}
	return a
}

// stdout is the JSON handler the examples wrap.
func stdout() slog.Handler {
	return slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: removeVolatile})
}

func Example() {
	logger := slog.New(audit.NewHandler(stdout(), nil))

	ctx := audit.WithIdentity(context.Background(), audit.Identity{ID: "42", Name: "ada", Kind: "user"})
	ctx = audit.With(ctx, "request_id", "req-7", "tenant", "acme")
	logger.InfoContext(ctx, "File uploaded", audit.Event("file.upload"),
		"filename", "a.txt", "size_bytes", 12345)

	// Output:
	// {"level":"INFO","msg":"File uploaded","event":"file.upload","user":{"id":"42","name":"ada","kind":"user"},"request_id":"req-7","tenant":"acme","filename":"a.txt","size_bytes":12345}
}

// A record with no audit fields is written exactly as the wrapped handler
// writes it, so the Handler can replace an application's handler without
// changing a line of its existing output.
func ExampleNewHandler() {
	bare := slog.New(stdout())
	wrapped := slog.New(audit.NewHandler(stdout(), nil))

	bare.With("svc", "files").WithGroup("req").Info("listed", "count", 3)
	wrapped.With("svc", "files").WithGroup("req").Info("listed", "count", 3)

	// Output:
	// {"level":"INFO","msg":"listed","svc":"files","req":{"count":3}}
	// {"level":"INFO","msg":"listed","svc":"files","req":{"count":3}}
}

// Event names what happened. The record's own event wins over one bound to
// the logger; every record with an event also gets a unique "event_id"
// (removed here because it changes on every run).
func ExampleEvent() {
	logger := slog.New(audit.NewHandler(stdout(), nil))
	auth := logger.With(audit.Event("auth.login"))

	auth.Info("User authentication successful", "method", "password")
	auth.Warn("Locked out", audit.Event("auth.lockout"), "attempts", 5)

	// Output:
	// {"level":"INFO","msg":"User authentication successful","event":"auth.login","method":"password"}
	// {"level":"WARN","msg":"Locked out","event":"auth.lockout","attempts":5}
}

// Audit fields stay at the top level of the record even when the logger
// has opened groups, so they have the same path in every record.
func ExampleEvent_groups() {
	logger := slog.New(audit.NewHandler(stdout(), nil)).WithGroup("http")
	logger.Info("request", audit.Event("w/req"), "method", "GET", "path", "/Patient")

	// Output:
	// {"level":"INFO","msg":"request","event":"w/req","http":{"method":"GET","path":"/Patient"}}
}

// Options.EventKey renames the event key, here for a consumer that expects
// short keys; Options.NoEventID turns the event ids off.
func ExampleOptions_eventKey() {
	logger := slog.New(audit.NewHandler(stdout(), &audit.Options{EventKey: "ev", NoEventID: true}))
	logger.Info("request", audit.Event("w/req"))

	// Output:
	// {"level":"INFO","msg":"request","ev":"w/req"}
}

// With binds attributes to a context: every record logged with it carries
// them. A later binding of a key replaces the earlier one, and a record's
// own attribute wins over a bound one.
func ExampleWith() {
	logger := slog.New(audit.NewHandler(stdout(), nil))

	ctx := audit.With(context.Background(), "request_id", "req-7", "tenant", "acme")
	logger.InfoContext(ctx, "listed")

	ctx = audit.With(ctx, "tenant", "globex")
	logger.InfoContext(ctx, "listed again")
	logger.InfoContext(ctx, "own tenant", "tenant", "initech")

	// Output:
	// {"level":"INFO","msg":"listed","request_id":"req-7","tenant":"acme"}
	// {"level":"INFO","msg":"listed again","request_id":"req-7","tenant":"globex"}
	// {"level":"INFO","msg":"own tenant","request_id":"req-7","tenant":"initech"}
}

// WithIdentity binds the actor; IdentityFrom reads it back.
func ExampleWithIdentity() {
	logger := slog.New(audit.NewHandler(stdout(), nil))

	ctx := audit.WithIdentity(context.Background(), audit.Identity{ID: "7", Name: "nightly-backup", Kind: "cron"})
	logger.InfoContext(ctx, "Backup started", audit.Event("backup.start"))

	id, _ := audit.IdentityFrom(ctx)
	fmt.Println(id.Name)

	// Output:
	// {"level":"INFO","msg":"Backup started","event":"backup.start","user":{"id":"7","name":"nightly-backup","kind":"cron"}}
	// nightly-backup
}

// ContextAttrs takes attributes from the context that this package cannot
// know about, such as a tracing library's ids, without depending on it.
func ExampleOptions_contextAttrs() {
	type traceKey struct{}
	opts := &audit.Options{ContextAttrs: func(ctx context.Context) []slog.Attr {
		if id, ok := ctx.Value(traceKey{}).(string); ok {
			return []slog.Attr{slog.String("trace_id", id)}
		}
		return nil
	}}
	logger := slog.New(audit.NewHandler(stdout(), opts))

	ctx := context.WithValue(context.Background(), traceKey{}, "4bf92f3577b34da6a3ce929d0e0e4736")
	logger.InfoContext(ctx, "Evaluating code", audit.Event("code.evaluate"))

	// Output:
	// {"level":"INFO","msg":"Evaluating code","event":"code.evaluate","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}
}

// The one line users try first: wrap slog's default handler and make the
// result the default. Old log.Printf callers and new slog callers both go
// through the audit handler, which writes to the log package's writer, with
// its flags and prefix, as they were when NewHandler ran.
func Example_defaultLogger() {
	defer restoreDefaults()()
	log.SetOutput(os.Stdout)
	log.SetFlags(0) // no timestamps, so the output can be checked

	slog.SetDefault(slog.New(audit.NewHandler(slog.Default().Handler(), &audit.Options{NoEventID: true})))

	log.Printf("legacy caller: user %s logged in", "ada")
	slog.Info("User authentication successful", audit.Event("auth.login"), "user_id", "42")

	// Output:
	// INFO legacy caller: user ada logged in
	// INFO User authentication successful event=auth.login user_id=42
}

// restoreDefaults undoes what Example_defaultLogger does to the log and
// slog packages' global state.
func restoreDefaults() func() {
	l, w, f := slog.Default(), log.Writer(), log.Flags()
	return func() {
		slog.SetDefault(l)
		log.SetOutput(w)
		log.SetFlags(f)
	}
}

// Values under secret keys are replaced by the marker at any depth; the key
// stays so that readers see something was removed. A group whose key is
// secret has every value in it redacted.
func ExampleNewHandler_redactKeys() {
	logger := slog.New(audit.NewHandler(stdout(), nil))
	logger.Info("User created", audit.Event("auth.user.create"),
		"user", "ada", "password", "hunter2",
		slog.Group("db", "host", "db1", "db_password", "s3cr3t"),
		slog.Group("credentials", "login", "ada", "otp", "123456"))

	// Output:
	// {"level":"INFO","msg":"User created","event":"auth.user.create","user":"ada","password":"[REDACTED]","db":{"host":"db1","db_password":"[REDACTED]"},"credentials":{"login":"[REDACTED]","otp":"[REDACTED]"}}
}

// Well-known secret shapes are masked inside any string, the message and
// error texts included, and the rest of the string is kept.
func ExampleNewHandler_redactValues() {
	logger := slog.New(audit.NewHandler(stdout(), nil))
	logger.Error("connect postgres://admin:hunter2@db:5432/app failed",
		"header", "Authorization: Bearer abcdef0123456789abcdef",
		"err", fmt.Errorf("github: %w", errors.New("bad credentials for ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789")))

	// Output:
	// {"level":"ERROR","msg":"connect postgres://admin:[REDACTED]@db:5432/app failed","header":"Authorization: Bearer [REDACTED]","err":"github: bad credentials for [REDACTED]"}
}

// A struct or map holding a secret is written as an object with the secret
// redacted; one holding none is passed on untouched.
func ExampleNewHandler_redactStructs() {
	type loginForm struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	logger := slog.New(audit.NewHandler(stdout(), nil))
	logger.Info("Login attempt", audit.Event("auth.login"), "form", loginForm{User: "ada", Password: "hunter2"})

	// Output:
	// {"level":"INFO","msg":"Login attempt","event":"auth.login","form":{"user":"ada","password":"[REDACTED]"}}
}

// A Secret is written as the marker by every handler, and by fmt and
// encoding/json too, so it cannot leak by another route.
func ExampleSecret() {
	apiKey := audit.Secret("sk_live_abcdefghijklmnop")
	slog.New(audit.NewHandler(stdout(), nil)).Info("Calling payments", "key", apiKey)
	fmt.Printf("%v %q\n", apiKey, apiKey)
	b, _ := json.Marshal(struct{ Key audit.Secret }{apiKey})
	fmt.Println(string(b))

	// Output:
	// {"level":"INFO","msg":"Calling payments","key":"[REDACTED]"}
	// [REDACTED] "[REDACTED]"
	// {"Key":"[REDACTED]"}
}

// Options extend redaction: more key names, value patterns, another
// marker, and keys the default rule catches wrongly.
func ExampleOptions_redaction() {
	opts := &audit.Options{
		RedactKeys:     []string{"ssn", "iban"},
		RedactPatterns: []*regexp.Regexp{regexp.MustCompile(`\b\d{4}-\d{4}-\d{4}-\d{4}\b`)},
		RedactMarker:   "***",
		AllowKeys:      []string{"csrf_token"}, // rotated per form, not a credential here
	}
	logger := slog.New(audit.NewHandler(stdout(), opts))
	logger.Info("Payment", "customer_ssn", "078-05-1120", "note", "card 4111-1111-1111-1111 charged",
		"csrf_token", "f3a9", "password", "hunter2")

	// Output:
	// {"level":"INFO","msg":"Payment","customer_ssn":"***","note":"card *** charged","csrf_token":"f3a9","password":"***"}
}

// A migration in three phases, for one event. The caller logs the data once,
// as attributes; the handler's options decide what old consumers still get.
func ExampleLegacy() {
	legacy := audit.Legacy{
		Event: "code.evaluate",
		Fields: []audit.LegacyField{
			{Key: "session_mode", Label: "Session mode"},
			{Key: "code", Label: "Code", Quote: true},
		},
	}
	logEvaluation := func(opts *audit.Options) {
		opts.NoEventID = true
		logger := slog.New(audit.NewHandler(stdout(), opts))
		logger.Info("Evaluating code", audit.Event("code.evaluate"), "session_mode", "default", "code", "7 + 13")
	}

	// Phase 1, legacy line kept exactly: consumers matching whole lines keep
	// working, and the structured record follows it.
	legacy.Mode = audit.LegacySeparate
	logEvaluation(&audit.Options{Legacy: []audit.Legacy{legacy}})

	// Phase 2, both in one record: the legacy text is the message, the
	// fields are attributes.
	legacy.Mode = audit.LegacyInline
	logEvaluation(&audit.Options{Legacy: []audit.Legacy{legacy}})

	// Phase 3, structured only: the message is slimmed.
	logEvaluation(&audit.Options{})

	// Output:
	// {"level":"INFO","msg":"Evaluating code\n  Session mode: default\n  Code: \"7 + 13\""}
	// {"level":"INFO","msg":"Evaluating code","event":"code.evaluate","session_mode":"default","code":"7 + 13"}
	// {"level":"INFO","msg":"Evaluating code\n  Session mode: default\n  Code: \"7 + 13\"","event":"code.evaluate","session_mode":"default","code":"7 + 13"}
	// {"level":"INFO","msg":"Evaluating code","event":"code.evaluate","session_mode":"default","code":"7 + 13"}
}

// Renamed keys go through the same phases: while old consumers migrate both
// keys are written, and once the window's date has passed only the new key
// is, with no deploy. Callers still writing the old key are reported once
// per call site (here through a callback; by default as an
// audit.deprecated_key record).
func ExampleRename() {
	window := func(until time.Time) *slog.Logger {
		return slog.New(audit.NewHandler(stdout(), &audit.Options{
			Renames: []audit.Rename{
				{Old: "log_event_type", New: "message_slug", Until: until},
				{Old: "log_class", New: "class", Phase: audit.RenameNewOnly},
			},
			OnDeprecatedKey: func(r audit.Rename, site slog.Source) {
				fmt.Printf("still writing %s (use %s) at %s\n", r.Old, r.New, filepath.Base(site.File))
			},
		}))
	}
	open := window(time.Now().AddDate(0, 1, 0))
	closed := window(time.Now().AddDate(0, -1, 0))
	for _, logger := range []*slog.Logger{open, open, closed} {
		logger.Info("User authentication successful",
			"log_event_type", "auth-login-success", "log_class", `App\Http\Controllers\Auth\LoginController`)
	}

	// Output:
	// still writing log_event_type (use message_slug) at example_test.go
	// still writing log_class (use class) at example_test.go
	// {"level":"INFO","msg":"User authentication successful","message_slug":"auth-login-success","log_event_type":"auth-login-success","class":"App\\Http\\Controllers\\Auth\\LoginController"}
	// {"level":"INFO","msg":"User authentication successful","message_slug":"auth-login-success","log_event_type":"auth-login-success","class":"App\\Http\\Controllers\\Auth\\LoginController"}
	// still writing log_event_type (use message_slug) at example_test.go
	// still writing log_class (use class) at example_test.go
	// {"level":"INFO","msg":"User authentication successful","message_slug":"auth-login-success","class":"App\\Http\\Controllers\\Auth\\LoginController"}
}

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
