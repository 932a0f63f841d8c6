package audit_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"

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
