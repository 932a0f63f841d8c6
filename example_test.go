package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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

// The event, its id and the identity are the audit's own fields: a caller's
// attribute under one of their keys is kept, under the key prefixed with
// "fields.", so that nothing is lost and no reader takes it for the real
// actor.
func ExampleHandler_reservedKeys() {
	logger := slog.New(audit.NewHandler(stdout(), nil))

	ctx := audit.WithIdentity(context.Background(), audit.Identity{ID: "42", Name: "ada"})
	logger.InfoContext(ctx, "Profile shown", audit.Event("profile.view"),
		"user", "mallory", slog.Group("", slog.String("event", "forged")))

	// Output:
	// {"level":"INFO","msg":"Profile shown","event":"profile.view","user":{"id":"42","name":"ada"},"fields.user":"mallory","fields.event":"forged"}
}

// Outcome, Reason and Target say how an event ended, why, and what it acted
// on, at the same keys in every record: here ECS's.
func ExampleOutcome() {
	// (NoEventID only keeps this output the same on every run.)
	logger := slog.New(audit.NewHandler(stdout(), &audit.Options{Fields: audit.ECSFields(), NoEventID: true}))

	ctx := audit.WithIdentity(context.Background(), audit.Identity{ID: "42", Name: "ada"})
	logger.WarnContext(ctx, "File not deleted", audit.Event("file.delete"),
		audit.Outcome(audit.OutcomeFailure), audit.Reason("file is on legal hold"),
		audit.Target("file", "contracts/2026-q3.pdf"))

	// Output:
	// {"level":"WARN","msg":"File not deleted","event.action":"file.delete","user":{"id":"42","name":"ada"},"event.outcome":"failure","event.reason":"file is on legal hold","entity.type":"file","entity.id":"contracts/2026-q3.pdf"}
}

// An administrator acting as a user is written as the administrator, with
// the user under on_behalf_of: the record says who really acted.
func ExampleIdentity_onBehalfOf() {
	logger := slog.New(audit.NewHandler(stdout(), nil))

	ctx := audit.WithIdentity(context.Background(), audit.Identity{
		ID: "7", Name: "grace", Kind: "user", Roles: []string{"support"},
		OnBehalfOf: &audit.Identity{ID: "42", Name: "ada", Kind: "user"},
	})
	logger.InfoContext(ctx, "Password reset link sent", audit.Event("auth.reset.send"))

	// Output:
	// {"level":"INFO","msg":"Password reset link sent","event":"auth.reset.send","user":{"id":"7","name":"grace","kind":"user","roles":["support"],"on_behalf_of":{"id":"42","name":"ada","kind":"user"}}}
}

// slog.Logger drops the error a handler returns. OnWriteError hears of
// every record that could not be written, Fallback keeps a copy of it, and
// Stats counts both kinds.
func ExampleOptions_onWriteError() {
	var fallback bytes.Buffer
	sink := failingSink{}
	h := audit.NewHandler(slog.NewJSONHandler(sink, nil), &audit.Options{
		Fallback: &fallback,
		OnWriteError: func(e audit.WriteError) {
			fmt.Printf("not written: %s (%s): %v\n", e.Event, e.Message, e.Err)
		},
	})
	logger := slog.New(h)

	logger.Info("User deleted", audit.Event("user.delete"), "target_user", "42")

	fmt.Printf("fallback has %d line(s) holding %q\n", strings.Count(fallback.String(), "\n"),
		regexp.MustCompile(`"event":"[^"]*"`).FindString(fallback.String()))
	fmt.Printf("%+v\n", h.Stats())
	// Output:
	// not written: user.delete (User deleted): disk quota exceeded
	// fallback has 1 line(s) holding "\"event\":\"user.delete\""
	// {Written:0 Failed:1}
}

// failingSink is a log output that fails every write.
type failingSink struct{}

func (failingSink) Write([]byte) (int, error) { return 0, errors.New("disk quota exceeded") }

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
		"login", "ada", "password", "hunter2",
		slog.Group("db", "host", "db1", "db_password", "s3cr3t"),
		slog.Group("credentials", "login", "ada", "otp", "123456"))

	// Output:
	// {"level":"INFO","msg":"User created","event":"auth.user.create","login":"ada","password":"[REDACTED]","db":{"host":"db1","db_password":"[REDACTED]"},"credentials":{"login":"[REDACTED]","otp":"[REDACTED]"}}
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

// A key the key rule calls secret, assigned inside any text (a libpq DSN in
// an error, a log.Printf line, a YAML or JSON snippet, a command line), has
// its value masked and the key kept; so has every token whose prefix names
// its issuer.
func ExampleNewHandler_redactInsideText() {
	logger := slog.New(audit.NewHandler(stdout(), nil))
	logger.Error("db connect failed",
		"err", errors.New("dial: host=db user=app password=s3cr3t-Pw dbname=app: timeout"),
		"cmd", "backup --password hunter2 --verbose",
		"config", `{"slack_token": "abc123XYZ", "channel": "#ops"}`,
		"note", "rotated glptt-41ab92590637ac82026ca65266b2898428ea491b today")

	// Output:
	// {"level":"ERROR","msg":"db connect failed","err":"dial: host=db user=app password=[REDACTED] dbname=app: timeout","cmd":"backup --password [REDACTED] --verbose","config":"{\"slack_token\": \"[REDACTED]\", \"channel\": \"#ops\"}","note":"rotated [REDACTED] today"}
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
	// {"level":"INFO","msg":"request end","event":"http.request.end","user":{"id":"8c0a5ad41b7f4a6e9d3f2e1c0b9a8f7d","name":"grace","kind":"web"},"request_id":"4bf92f3577b34da6a3ce929d0e0e4736","http.request.method":"PUT","url.path":"/files/a.txt","client.address":"203.0.113.7","user_agent.original":"curl/8.5.0","http.response.status_code":201,"http.response.body.size":4,"outcome":"success","request_end":true}
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
	// {"level":"INFO","msg":"request end","event":"http.request.end","request_id":"req-9","http.request.method":"POST","url.path":"/fhir/Patient","client.address":"127.0.0.1","http.response.status_code":200,"http.response.body.size":0,"outcome":"success","http.request.body.content":{"active":true,"resourceType":"Patient"},"http.request.body.size":40,"request_end":true}
}

// Middleware writes with the keys of the Handler behind its logger: the
// ECS preset given once, in Options, names the request's fields too.
func ExampleMiddleware_oneConfiguration() {
	dropDuration := func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == "event.duration" { // changes on every run
			return slog.Attr{}
		}
		return removeVolatile(groups, a)
	}
	inner := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: dropDuration})
	logger := slog.New(audit.NewHandler(inner, &audit.Options{Fields: audit.ECSFields(), NoEventID: true}))
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	})
	handler := audit.Middleware(app, &audit.HTTPOptions{Logger: logger, TrustedProxies: audit.Loopback()})

	r := httptest.NewRequest("GET", "/files/missing.txt", nil)
	r.RemoteAddr = "127.0.0.1:41000" // a proxy on the same host, which sets the id
	r.Header.Set("X-Request-Id", "req-42")
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	handler.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// {"level":"WARN","msg":"request end","event.action":"http.request.end","http.request.id":"req-42","http.request.method":"GET","url.path":"/files/missing.txt","source.ip":"203.0.113.7","http.response.status_code":404,"http.response.body.bytes":0,"event.outcome":"failure","request_end":true}
}

// The examples below are the five audit logs this package was designed
// from, each reached by configuration alone. Times and random ids change on
// every run, so each example's inner handler writes a frozen clock
// (scenarioNow) and drops or fixes what is random; a real program keeps
// them.

// scenarioNow is the frozen clock of the scenario examples.
var scenarioNow = time.Date(2025, 10, 3, 17, 48, 22, 238_000_000, time.UTC)

// scenarioDeployedApp is the context key of the flag a notebook server sets
// on the context of a deployed app's sessions.
type scenarioDeployedApp struct{}

// scenarioSkipDeployed sits between the audit Handler and the JSON handler
// and drops the code.evaluate records of deployed apps: their users did
// not choose the code they run, someone deployed it after review, so only
// regular sessions and app previews are audited. It looks at the record the
// audit Handler wrote, where the event is a plain top-level string.
type scenarioSkipDeployed struct{ slog.Handler }

func (h scenarioSkipDeployed) Handle(ctx context.Context, r slog.Record) error {
	if deployed, _ := ctx.Value(scenarioDeployedApp{}).(bool); deployed && scenarioEvent(r) == "code.evaluate" {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h scenarioSkipDeployed) WithAttrs(as []slog.Attr) slog.Handler {
	return scenarioSkipDeployed{h.Handler.WithAttrs(as)}
}

func (h scenarioSkipDeployed) WithGroup(name string) slog.Handler {
	return scenarioSkipDeployed{h.Handler.WithGroup(name)}
}

// scenarioEvent returns the event name of a record written by an audit
// Handler with the default EventKey.
func scenarioEvent(r slog.Record) (event string) {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == audit.EventKey {
			event = a.Value.String()
			return false
		}
		return true
	})
	return event
}

// A notebook server audits who ran which code (Livebook). The record keeps
// the human message old log consumers parse, rendered from the structured
// fields, while new consumers read the fields; the session's users are a
// list of identities. Only regular sessions and app previews are audited:
// the server marks deployed apps' contexts, and a small filter in front of
// the JSON handler drops their evaluations, so the evaluator logs every
// evaluation the same way.
func Example_notebookEvaluation() {
	livebook := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			return slog.String("time", scenarioNow.Format("2006-01-02T15:04:05.000Z07:00")) // a.Value.Time() in a real program
		case slog.MessageKey:
			return slog.Attr{Key: "message", Value: a.Value}
		case slog.LevelKey:
			return slog.String("severity", strings.ToLower(a.Value.String()))
		case audit.EventIDKey:
			return slog.Attr{}
		}
		return a
	}
	inner := scenarioSkipDeployed{slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: livebook})}
	logger := slog.New(audit.NewHandler(inner, &audit.Options{
		Legacy: []audit.Legacy{{
			Event: "code.evaluate",
			Fields: []audit.LegacyField{
				{Key: "session_mode", Label: "Session mode"},
				{Key: "code", Label: "Code", Quote: true},
			},
		}},
	}))

	type session struct {
		ctx   context.Context // the deployed flag is set here, once, when the session starts
		mode  string
		users []audit.Identity
	}
	evaluate := func(s session, code string) {
		logger.InfoContext(s.ctx, "Evaluating code", audit.Event("code.evaluate"),
			slog.Any("users", s.users), "session_mode", s.mode, "code", code)
	}

	bg := context.Background()
	deployed := context.WithValue(bg, scenarioDeployedApp{}, true)
	mira := audit.Identity{ID: "1", Name: "Mira Tanaka", Email: "mira@example.org"}
	teo := audit.Identity{ID: "2", Name: "Teo Lindqvist"}

	evaluate(session{ctx: bg, mode: "default", users: []audit.Identity{mira, teo}}, "7 + 13")
	evaluate(session{ctx: bg, mode: "app", users: []audit.Identity{mira}}, `Kino.Input.text("Name")`)      // app preview
	evaluate(session{ctx: deployed, mode: "app", users: []audit.Identity{teo}}, `Kino.Input.text("Name")`) // deployed app: not audited

	// Output:
	// {"time":"2025-10-03T17:48:22.238Z","severity":"info","message":"Evaluating code\n  Session mode: default\n  Code: \"7 + 13\"","event":"code.evaluate","users":[{"id":"1","name":"Mira Tanaka","email":"mira@example.org"},{"id":"2","name":"Teo Lindqvist"}],"session_mode":"default","code":"7 + 13"}
	// {"time":"2025-10-03T17:48:22.238Z","severity":"info","message":"Evaluating code\n  Session mode: app\n  Code: \"Kino.Input.text(\\\"Name\\\")\"","event":"code.evaluate","users":[{"id":"1","name":"Mira Tanaka","email":"mira@example.org"}],"session_mode":"app","code":"Kino.Input.text(\"Name\")"}
}

// A notebook server audits each execute_request (Jupyter): who ran it,
// what code (never its output), the kernel and a UTC ISO 8601 timestamp.
// The server's own user is an opaque id; the oauth2-proxy in front of it,
// on the same host, says who that is, and is believed only from loopback.
func Example_cellExecution() {
	cest := time.FixedZone("CEST", 2*60*60) // a server clock that is not in UTC
	jupyter := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			t := scenarioNow.In(cest) // a.Value.Time() in a real program
			return slog.String("timestamp", t.UTC().Format(time.RFC3339Nano))
		case audit.EventIDKey:
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(audit.NewHandler(
		slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: jupyter}),
		&audit.Options{Fields: audit.Fields{User: "who"}}))
	opts := &audit.HTTPOptions{TrustedProxies: audit.Loopback()}

	// handleIncoming stands for the server's websocket handler of kernel
	// channels, where client messages are parsed before they are routed to
	// the kernel. Replies and outputs come from the kernel and never pass
	// here.
	handleIncoming := func(r *http.Request, username, kernelID string, raw []byte) {
		var msg struct {
			Header struct {
				MsgType string `json:"msg_type"`
			} `json:"header"`
			Content struct {
				Code string `json:"code"`
			} `json:"content"`
		}
		if json.Unmarshal(raw, &msg) != nil || msg.Header.MsgType != "execute_request" {
			return
		}
		who := audit.RequestIdentity(r, audit.Identity{Name: username}, opts)
		ctx := audit.WithIdentity(r.Context(), who)
		logger.InfoContext(ctx, "execute_request", audit.Event("cell.execute"),
			"kernel_id", kernelID, "what", msg.Content.Code)
	}

	const kernel = "5e0f8a52-8d1c-4b6e-9c41-0d2b7e3f6a19"
	user := "3f2b8c1d9e4a4b7c8d6e5f4a3b2c1d0e" // made up by the server for a token login
	for _, peer := range []string{"127.0.0.1:52114", "192.0.2.80:52114"} {
		r := httptest.NewRequest("GET", "/api/kernels/"+kernel+"/channels", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Auth-Request-User", "nadia")
		r.Header.Set("X-Auth-Request-Email", "nadia@example.org")
		handleIncoming(r, user, kernel, []byte(`{"header":{"msg_type":"kernel_info_request"},"content":{}}`))
		handleIncoming(r, user, kernel, []byte(`{"header":{"msg_type":"execute_request"},"content":{"code":"df = load(\"cohort.parquet\")\ndf.head()"}}`))
	}

	// Output:
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"INFO","msg":"execute_request","event":"cell.execute","who":{"id":"3f2b8c1d9e4a4b7c8d6e5f4a3b2c1d0e","name":"nadia","email":"nadia@example.org","kind":"web"},"kernel_id":"5e0f8a52-8d1c-4b6e-9c41-0d2b7e3f6a19","what":"df = load(\"cohort.parquet\")\ndf.head()"}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"INFO","msg":"execute_request","event":"cell.execute","who":{"name":"3f2b8c1d9e4a4b7c8d6e5f4a3b2c1d0e","kind":"web"},"kernel_id":"5e0f8a52-8d1c-4b6e-9c41-0d2b7e3f6a19","what":"df = load(\"cohort.parquet\")\ndf.head()"}
}

// scenarioUpload returns a multipart upload of one file with its content
// type, and the other form fields.
func scenarioUpload(name, ctype, content string, fields ...string) (body *bytes.Buffer, formType string) {
	body = new(bytes.Buffer)
	mw := multipart.NewWriter(body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", ctype)
	part, _ := mw.CreatePart(h)
	io.WriteString(part, content)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	mw.Close()
	return body, mw.FormDataContentType()
}

// A file service logs upload, delete and list events (the structlog
// tutorial): specific event names, file metadata, the request's address and
// user agent under the tutorial's names (a per-field override of the
// preset), error details as fields, and never the password of the upload
// form. Middleware binds the request metadata once; every event of the
// request carries it, and its end event records the outcome.
func Example_fileService() {
	fields := audit.DefaultFields()
	fields.ClientAddress, fields.UserAgent = "ip_address", "user_agent"

	structlog := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			return slog.String("timestamp", scenarioNow.Format("2006-01-02T15:04:05.000Z07:00")) // a.Value.Time() in a real program
		case slog.LevelKey:
			return slog.String("level", strings.ToLower(a.Value.String()))
		case audit.EventIDKey, audit.DurationKey:
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(audit.NewHandler(
		slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: structlog}),
		&audit.Options{Fields: fields}))

	files := map[string]int64{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /files", func(w http.ResponseWriter, r *http.Request) {
		f, fh, err := r.FormFile("file")
		if err != nil {
			http.Error(w, "no file", http.StatusBadRequest)
			return
		}
		f.Close()
		files[fh.Filename] = fh.Size
		// The form's other fields, as sent: the handler redacts the
		// password by its key.
		logger.InfoContext(r.Context(), "File uploaded", audit.Event("file_uploaded"),
			"filename", fh.Filename, "file_size_bytes", fh.Size,
			"content_type", fh.Header.Get("Content-Type"), "form", r.MultipartForm.Value)
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /files", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "Files listed", audit.Event("files_listed"), "count", len(files))
		json.NewEncoder(w).Encode(files)
	})
	mux.HandleFunc("DELETE /files/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if _, ok := files[name]; !ok {
			err := &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
			logger.WarnContext(r.Context(), "File delete failed", audit.Event("file_delete_failed"),
				"filename", name, slog.Group("error", "type", fmt.Sprintf("%T", err), "message", err.Error()))
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		delete(files, name)
		logger.InfoContext(r.Context(), "File deleted", audit.Event("file_deleted"), "filename", name)
		w.WriteHeader(http.StatusNoContent)
	})
	handler := audit.Middleware(mux, &audit.HTTPOptions{
		TrustedProxies: audit.Loopback(), // the reverse proxy in front of the service
		Logger:         logger,
		Fields:         fields,
		Authenticated: func(r *http.Request) (audit.Identity, bool) {
			return audit.Identity{ID: "u-17", Name: "ines"}, true // from the session cookie
		},
	})

	send := func(method, path, requestID string, body io.Reader, ctype string) {
		r := httptest.NewRequest(method, path, body)
		r.RemoteAddr = "127.0.0.1:40112"
		r.Header.Set("X-Forwarded-For", "192.168.1.1")
		r.Header.Set("X-Request-Id", requestID)
		r.Header.Set("User-Agent", "Mozilla/5.0")
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		handler.ServeHTTP(httptest.NewRecorder(), r)
	}
	body, ctype := scenarioUpload("example.txt", "text/plain", strings.Repeat("x", 12345),
		"description", "Q3 figures", "password", "correct horse")
	send("POST", "/files", "req-1", body, ctype)
	send("GET", "/files", "req-2", nil, "")
	send("DELETE", "/files/missing.txt", "req-3", nil, "")

	// Output:
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"info","msg":"File uploaded","event":"file_uploaded","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-1","http.request.method":"POST","url.path":"/files","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","filename":"example.txt","file_size_bytes":12345,"content_type":"text/plain","form":{"description":["Q3 figures"],"password":"[REDACTED]"}}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"info","msg":"request end","event":"http.request.end","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-1","http.request.method":"POST","url.path":"/files","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","http.response.status_code":201,"http.response.body.size":0,"outcome":"success","request_end":true}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"info","msg":"Files listed","event":"files_listed","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-2","http.request.method":"GET","url.path":"/files","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","count":1}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"info","msg":"request end","event":"http.request.end","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-2","http.request.method":"GET","url.path":"/files","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","http.response.status_code":200,"http.response.body.size":22,"outcome":"success","request_end":true}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"warn","msg":"File delete failed","event":"file_delete_failed","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-3","http.request.method":"DELETE","url.path":"/files/missing.txt","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","filename":"missing.txt","error":{"type":"*fs.PathError","message":"remove missing.txt: file does not exist"}}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"warn","msg":"request end","event":"http.request.end","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-3","http.request.method":"DELETE","url.path":"/files/missing.txt","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","http.response.status_code":404,"http.response.body.size":10,"outcome":"failure","request_end":true}
}

// scenarioAuthor binds the actor of the identity platform's log format:
// author_id (null when the actor has none, as for a scheduled job) and
// author_type, the Kind of id ("web", "cli" or "cron").
//
// The format writes the actor as two flat keys, where a Handler writes a
// bound Identity as one group; so the actor is bound as two plain
// attributes, and the audit package's Kind constants keep their values the
// same everywhere.
func scenarioAuthor(ctx context.Context, id audit.Identity) context.Context {
	var authorID any
	if id.ID != "" {
		authorID = id.ID
	}
	return audit.With(ctx, "author_id", authorID, "author_type", id.Kind)
}

// An identity platform's login flow (Laravel and monolog): a channel, the
// actor as author_id and author_type for web requests, console commands
// and scheduled jobs, the entity_* record changed and the logic_* record
// that decided it. The code still writes the old keys log_event_type and
// log_class; during the transition the handler writes them under both the
// new names (message_slug, class) and the old ones, and says once which
// call sites still use them.
func Example_loginFlow() {
	monolog := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			return slog.String("timestamp", scenarioNow.Format(time.DateTime)) // a.Value.Time() in a real program
		case slog.MessageKey:
			return slog.Attr{Key: "message", Value: a.Value}
		}
		return a
	}
	var told sync.Map
	logger := slog.New(audit.NewHandler(
		slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: monolog}),
		&audit.Options{
			Renames: []audit.Rename{
				{Old: "log_event_type", New: "message_slug"},
				{Old: "log_class", New: "class"},
			},
			// Reports come once per call site as the runtime sees it, and
			// a helper inlined at several places is several sites; the
			// migration dashboard wants one line per line of source.
			OnDeprecatedKey: func(r audit.Rename, site slog.Source) {
				if _, dup := told.LoadOrStore(fmt.Sprint(r.Old, site.File, site.Line), true); !dup {
					fmt.Printf("still writing %s: write %s\n", r.Old, r.New)
				}
			},
		})).With("channel", "access-manager-auth")

	// The application's one logging helper, as Log::channel(...)->info(...)
	// is in the original: a single call site writes the old keys.
	info := func(ctx context.Context, msg string, args ...any) { logger.InfoContext(ctx, msg, args...) }

	const (
		tenant   = "4c1e2a90-5b7d-4f3e-8a61-2d9c0b7e5f13"
		provider = "9a7b3c5d-1e2f-4a6b-8c9d-0e1f2a3b4c5d"
		userID   = "b2e4f6a8-0c1d-4e3f-a5b6-c7d8e9f0a1b2"
		groupID  = "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9"
		ctrl     = `App\Http\Controllers\Auth\Okta\LoginController`
	)

	// A person signing in through the web.
	web := audit.With(context.Background(), "ip_address", "198.51.100.23", "user_agent", "Mozilla/5.0 (X11; Linux x86_64)")
	web = scenarioAuthor(web, audit.Identity{ID: userID, Kind: audit.KindWeb})
	info(web, "User authentication successful",
		"log_event_type", "auth-login-success", "log_class", ctrl, "method", "handleProviderCallback",
		"entity_id", userID, "entity_type", "AuthUser", "entity_action", "authenticated",
		"logic_id", provider, "logic_type", "AuthProvider",
		"auth_tenant_id", tenant, "auth_provider_slug", "okta")

	// An operator running an artisan command: what audit.CLIIdentity()
	// returns, written out here because it differs from machine to machine.
	cli := scenarioAuthor(context.Background(), audit.Identity{ID: "1001", Name: "oskar", Kind: audit.KindCLI})
	info(cli, "Granted user access to group",
		"log_event_type", "auth-group-user-created", "log_class", `App\Console\Commands\AuthGroupUserCreate`, "method", "handle",
		"entity_id", groupID, "entity_type", "AuthGroupUser", "entity_action", "created",
		"auth_tenant_id", tenant, "auth_group_slug", "user-baseline-group")

	// A scheduled job, which has no author id.
	cron := scenarioAuthor(context.Background(), audit.JobIdentity("auth:expire-accounts"))
	info(cron, "User account locked after expiry",
		"log_event_type", "auth-user-expired-locked", "log_class", `App\Jobs\ExpireAccounts`, "method", "handle",
		"entity_id", userID, "entity_type", "AuthUser", "entity_action", "locked",
		"auth_tenant_id", tenant)

	// Output:
	// still writing log_event_type: write message_slug
	// still writing log_class: write class
	// {"timestamp":"2025-10-03 17:48:22","level":"INFO","message":"User authentication successful","channel":"access-manager-auth","ip_address":"198.51.100.23","user_agent":"Mozilla/5.0 (X11; Linux x86_64)","author_id":"b2e4f6a8-0c1d-4e3f-a5b6-c7d8e9f0a1b2","author_type":"web","message_slug":"auth-login-success","log_event_type":"auth-login-success","class":"App\\Http\\Controllers\\Auth\\Okta\\LoginController","log_class":"App\\Http\\Controllers\\Auth\\Okta\\LoginController","method":"handleProviderCallback","entity_id":"b2e4f6a8-0c1d-4e3f-a5b6-c7d8e9f0a1b2","entity_type":"AuthUser","entity_action":"authenticated","logic_id":"9a7b3c5d-1e2f-4a6b-8c9d-0e1f2a3b4c5d","logic_type":"AuthProvider","auth_tenant_id":"4c1e2a90-5b7d-4f3e-8a61-2d9c0b7e5f13","auth_provider_slug":"okta"}
	// {"timestamp":"2025-10-03 17:48:22","level":"INFO","message":"Granted user access to group","channel":"access-manager-auth","author_id":"1001","author_type":"cli","message_slug":"auth-group-user-created","log_event_type":"auth-group-user-created","class":"App\\Console\\Commands\\AuthGroupUserCreate","log_class":"App\\Console\\Commands\\AuthGroupUserCreate","method":"handle","entity_id":"e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9","entity_type":"AuthGroupUser","entity_action":"created","auth_tenant_id":"4c1e2a90-5b7d-4f3e-8a61-2d9c0b7e5f13","auth_group_slug":"user-baseline-group"}
	// {"timestamp":"2025-10-03 17:48:22","level":"INFO","message":"User account locked after expiry","channel":"access-manager-auth","author_id":null,"author_type":"cron","message_slug":"auth-user-expired-locked","log_event_type":"auth-user-expired-locked","class":"App\\Jobs\\ExpireAccounts","log_class":"App\\Jobs\\ExpireAccounts","method":"handle","entity_id":"b2e4f6a8-0c1d-4e3f-a5b6-c7d8e9f0a1b2","entity_type":"AuthUser","entity_action":"locked","auth_tenant_id":"4c1e2a90-5b7d-4f3e-8a61-2d9c0b7e5f13"}
}

// A health-data server's request log (Aidbox): NDJSON with short keys, a
// start and an end event per request sharing its context id (ctx), the end
// event flagged as the last of its context (ctx_end), durations in
// milliseconds and the tenant. Key names come from a Fields value, given to
// both the Handler and Middleware; the inner handler's ReplaceAttr does the
// rest: ts and lvl, Aidbox's event names, the method in lower case, and no
// response size or outcome, which Aidbox does not log.
func Example_requestLifecycle() {
	fields := audit.Fields{
		Event: "ev", RequestID: "ctx", Method: "w_m", Path: "w_url", ClientAddress: "w_addr",
		Status: "w_st", Duration: "d", RequestEnd: "ctx_end",
	}
	aidboxEvents := map[string]string{audit.RequestStartEvent: "w/req", audit.RequestEndEvent: "w/resp"}
	aidbox := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			return slog.String("ts", scenarioNow.Format(time.RFC3339)) // a.Value.Time().UTC() in a real program
		case slog.LevelKey:
			if l := a.Value.Any().(slog.Level); l != slog.LevelInfo { // lvl is left out for info
				return slog.String("lvl", strings.ToLower(l.String()))
			}
			return slog.Attr{}
		case slog.MessageKey:
			if a.Value.String() == "" {
				return slog.Attr{}
			}
		case "ev":
			if ev, ok := aidboxEvents[a.Value.String()]; ok {
				return slog.String("ev", ev)
			}
		case "w_m":
			return slog.String("w_m", strings.ToLower(a.Value.String()))
		case "d":
			// Whole milliseconds, as Aidbox writes them. Durations change on
			// every run, so this example writes 15 in place of
			// int64(a.Value.Float64()).
			return slog.Int64("d", 15)
		case audit.ResponseSizeKey, "outcome":
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(audit.NewHandler(
		slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: aidbox}),
		&audit.Options{Fields: fields, NoEventID: true})).With("w", "w3")

	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// ... the query runs ...
		logger.InfoContext(r.Context(), "", audit.Event("db/q"),
			"sql", `SELECT "patient".* FROM "patient" LIMIT ? OFFSET ?`, "db_prm", []string{"100", "0"},
			"d", time.Since(start).Milliseconds())
		io.WriteString(w, `{"resourceType":"Bundle"}`)
	})
	handler := audit.Middleware(app, &audit.HTTPOptions{
		TrustedProxies: audit.Loopback(), // the load balancer's sidecar
		Logger:         logger,
		LogStart:       true,
		Fields:         fields,
	})
	// The tenant (box) is known before the request is logged: bound to the
	// context, it is in every record of the request.
	tenants := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		box, _, _ := strings.Cut(r.Host, ".")
		handler.ServeHTTP(w, r.WithContext(audit.With(r.Context(), "tn", box)))
	})

	r := httptest.NewRequest("GET", "http://westfield.aidbox.example/Patient", nil)
	r.RemoteAddr = "127.0.0.1:48810"
	r.Header.Set("X-Forwarded-For", "203.0.113.41")
	r.Header.Set("X-Request-Id", "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
	tenants.ServeHTTP(httptest.NewRecorder(), r)

	// Output:
	// {"ts":"2025-10-03T17:48:22Z","msg":"request start","w":"w3","ev":"w/req","tn":"westfield","ctx":"6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f","w_m":"get","w_url":"/Patient","w_addr":"203.0.113.41"}
	// {"ts":"2025-10-03T17:48:22Z","w":"w3","ev":"db/q","tn":"westfield","ctx":"6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f","w_m":"get","w_url":"/Patient","w_addr":"203.0.113.41","sql":"SELECT \"patient\".* FROM \"patient\" LIMIT ? OFFSET ?","db_prm":["100","0"],"d":15}
	// {"ts":"2025-10-03T17:48:22Z","msg":"request end","w":"w3","ev":"w/resp","tn":"westfield","ctx":"6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f","w_m":"get","w_url":"/Patient","w_addr":"203.0.113.41","w_st":200,"d":15,"ctx_end":true}
}

// scenarioPresetLogger writes JSON lines without the time, the event id and
// the request duration, which change on every run, to show which keys a
// preset names.
func scenarioPresetLogger(f audit.Fields) *slog.Logger {
	drop := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == f.EventID || a.Key == f.Duration) {
			return slog.Attr{}
		}
		return a
	}
	inner := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: drop})
	return slog.New(audit.NewHandler(inner, &audit.Options{Fields: f}))
}

// scenarioPresetRequest sends one request through Middleware configured
// with f, whose handler logs one event.
func scenarioPresetRequest(f audit.Fields) {
	logger := scenarioPresetLogger(f)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "File deleted", audit.Event("file.delete"), "filename", "a.txt")
		w.WriteHeader(http.StatusNoContent)
	})
	handler := audit.Middleware(app, &audit.HTTPOptions{
		TrustedProxies: audit.Loopback(),
		Logger:         logger,
		Fields:         f,
		Authenticated: func(*http.Request) (audit.Identity, bool) {
			return audit.Identity{ID: "42", Name: "ada"}, true
		},
	})
	r := httptest.NewRequest("DELETE", "/files/a.txt", nil)
	r.RemoteAddr = "127.0.0.1:40112"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	r.Header.Set("X-Request-Id", "req-7")
	handler.ServeHTTP(httptest.NewRecorder(), r)
}

// OTelFields names the keys as OpenTelemetry's semantic conventions do, for
// a collector that maps them without a transform. Give the same preset to
// the Handler and to Middleware. (The event id and the duration, in
// seconds under http.server.request.duration, are left out here because
// they change on every run.)
func ExampleOTelFields() {
	scenarioPresetRequest(audit.OTelFields())
	// Output:
	// {"level":"INFO","msg":"File deleted","otel.event.name":"file.delete","user":{"id":"42","name":"ada","kind":"web"},"request_id":"req-7","http.request.method":"DELETE","url.path":"/files/a.txt","client.address":"203.0.113.7","filename":"a.txt"}
	// {"level":"INFO","msg":"request end","otel.event.name":"http.request.end","user":{"id":"42","name":"ada","kind":"web"},"request_id":"req-7","http.request.method":"DELETE","url.path":"/files/a.txt","client.address":"203.0.113.7","http.response.status_code":204,"http.response.body.size":0,"outcome":"success","request_end":true}
}

// ECSFields names the keys as the Elastic Common Schema does; a preset can
// be changed field by field, here to keep the request id where an existing
// dashboard looks for it. The end event says event.outcome. (The event id
// and the duration, in nanoseconds under event.duration, are left out here
// because they change on every run.)
func ExampleECSFields() {
	f := audit.ECSFields()
	f.RequestID = "transaction.id"
	scenarioPresetRequest(f)
	// Output:
	// {"level":"INFO","msg":"File deleted","event.action":"file.delete","user":{"id":"42","name":"ada","kind":"web"},"transaction.id":"req-7","http.request.method":"DELETE","url.path":"/files/a.txt","source.ip":"203.0.113.7","filename":"a.txt"}
	// {"level":"INFO","msg":"request end","event.action":"http.request.end","user":{"id":"42","name":"ada","kind":"web"},"transaction.id":"req-7","http.request.method":"DELETE","url.path":"/files/a.txt","source.ip":"203.0.113.7","http.response.status_code":204,"http.response.body.bytes":0,"event.outcome":"success","request_end":true}
}

// failingWriter stands for an audit sink that is down.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("audit sink unreachable") }

// In strict mode, a request whose start event cannot be written is refused
// before the handler runs, and the failure is reported. Here the audit
// sink is down, so the file is never deleted.
func ExampleHTTPOptions_strict() {
	logger := slog.New(audit.NewHandler(slog.NewJSONHandler(failingWriter{}, nil), nil))
	handler := audit.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("deleting the file") // never runs
	}), &audit.HTTPOptions{
		Logger: logger,
		Strict: true,
		OnWriteError: func(r *http.Request, event string, err error) {
			fmt.Printf("not written: %s for %s %s: %v\n", event, r.Method, r.URL.Path, err)
		},
	})

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("DELETE", "/files/a.txt", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// not written: http.request.start for DELETE /files/a.txt: audit sink unreachable
	// 503 Service Unavailable
}

// An application-wide Middleware wraps a router whose API group has its
// own, with the API's authentication. The inner one joins the outer
// request: one request id, one start and one end event, and the end event
// names the user the inner one found.
func ExampleMiddleware_nested() {
	logger := httpExampleLogger()
	api := audit.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "Report read", audit.Event("report.read"), "report", "q3")
	}), &audit.HTTPOptions{
		Logger: logger,
		Authenticated: func(r *http.Request) (audit.Identity, bool) {
			return audit.Identity{ID: "42", Name: "ada"}, true // from the API token
		},
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	app := audit.Middleware(mux, &audit.HTTPOptions{
		TrustedProxies: audit.Loopback(),
		Logger:         logger,
		LogStart:       true,
	})

	r := httptest.NewRequest("GET", "/api/reports/q3", nil)
	r.RemoteAddr = "127.0.0.1:41234"
	r.Header.Set("X-Request-Id", "req-5")
	app.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// {"level":"INFO","msg":"request start","event":"http.request.start","request_id":"req-5","http.request.method":"GET","url.path":"/api/reports/q3","client.address":"127.0.0.1"}
	// {"level":"INFO","msg":"Report read","event":"report.read","user":{"id":"42","name":"ada","kind":"web"},"request_id":"req-5","http.request.method":"GET","url.path":"/api/reports/q3","client.address":"127.0.0.1","report":"q3"}
	// {"level":"INFO","msg":"request end","event":"http.request.end","user":{"id":"42","name":"ada","kind":"web"},"request_id":"req-5","http.request.method":"GET","url.path":"/api/reports/q3","client.address":"127.0.0.1","http.response.status_code":200,"http.response.body.size":0,"outcome":"success","request_end":true}
}

// RequestID gives the request id to code that needs it outside a record,
// such as an error page; ResponseHeader sends it back to the client, who
// can quote it to support.
func ExampleRequestID() {
	handler := audit.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := audit.RequestID(r.Context())
		http.Error(w, "something went wrong; quote "+id, http.StatusInternalServerError)
	}), &audit.HTTPOptions{
		TrustedProxies: audit.Loopback(),
		ResponseHeader: "X-Request-Id",
	})

	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:41234"
	r.Header.Set("X-Request-Id", "req-7f3a") // set by the proxy in front
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, r)
	fmt.Println(rec.Header().Get("X-Request-Id"))
	fmt.Print(rec.Body.String())
	// Output:
	// req-7f3a
	// something went wrong; quote req-7f3a
}

// The end event's level follows the request's outcome, so that failures
// stand out and an alert can key on the level: ERROR for a panic or a 5xx,
// WARN for a 4xx, INFO otherwise. Attributes the handler binds with With,
// like the identity it finds, reach the end event.
func ExampleDefaultEndLevel() {
	drop := func(groups []string, a slog.Attr) slog.Attr {
		switch a.Key {
		case slog.TimeKey, audit.DurationKey, audit.ResponseSizeKey, audit.RequestIDKey,
			audit.MethodKey, audit.ClientAddrKey, audit.RequestEndKey:
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(audit.NewHandler(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: drop}), &audit.Options{NoEventID: true}))
	handler := audit.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		audit.With(r.Context(), "document", r.URL.Path[1:])
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		default:
			io.WriteString(w, "ok")
		}
	}), &audit.HTTPOptions{Logger: logger})

	for _, path := range []string{"/report", "/missing", "/broken"} {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	// Output:
	// level=INFO msg="request end" event=http.request.end url.path=/report document=report http.response.status_code=200 outcome=success
	// level=WARN msg="request end" event=http.request.end url.path=/missing document=missing http.response.status_code=404 outcome=failure
	// level=ERROR msg="request end" event=http.request.end url.path=/broken document=broken http.response.status_code=502 outcome=failure
}

// With a pseudonym key, redacted values are written as a keyed hash, so
// auditors can see that two records used the same password, and search for
// a known one, without the log holding it.
func ExamplePseudonym() {
	key := []byte("load me from a secret store") // never logged
	logger := slog.New(audit.NewHandler(stdout(), &audit.Options{PseudonymKey: key}))
	logger.Info("Login", "login", "ada", "password", "hunter2")
	logger.Info("Login", "login", "bob", "password", "hunter2")
	logger.Info("Login", "login", "eve", "password", "letmein")

	// Which records used "hunter2"? Search for its pseudonym.
	p := audit.Pseudonym(key, "hunter2")
	fmt.Println(p)
	fmt.Println(audit.MatchPseudonym(key, "hunter2", p), audit.MatchPseudonym(key, "letmein", p))

	// Output:
	// {"level":"INFO","msg":"Login","login":"ada","password":"hmac-sha256:a901c1bfb4db071dcc2c59af33dca56f"}
	// {"level":"INFO","msg":"Login","login":"bob","password":"hmac-sha256:a901c1bfb4db071dcc2c59af33dca56f"}
	// {"level":"INFO","msg":"Login","login":"eve","password":"hmac-sha256:562d3f3c25e63fbf310a9a61b57a428e"}
	// hmac-sha256:a901c1bfb4db071dcc2c59af33dca56f
	// true false
}

// Some values are secrets by their type, whatever their key: private keys
// are written as the marker, a cookie keeps its name and attributes but
// not its value, and headers keep the values of the ones that are not
// secret.
func ExampleNewHandler_redactByType() {
	signingKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	cookie := &http.Cookie{Name: "sid", Value: "3f9a1c0de2", Path: "/", HttpOnly: true}
	header := http.Header{"Authorization": {"Basic YWRhOmh1bnRlcjI="}, "Accept": {"text/html"}}

	logger := slog.New(audit.NewHandler(stdout(), nil))
	logger.Info("Session issued", "signing", signingKey, "issued", cookie, "request_headers", header)

	// Output:
	// {"level":"INFO","msg":"Session issued","signing":"[REDACTED]","issued":"sid=[REDACTED]; Path=/; HttpOnly","request_headers":{"Accept":["text/html"],"Authorization":"[REDACTED]"}}
}
