package audit_test

// Examples of the middleware features of issues 13 and 14, to be folded
// into example_test.go.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/slogaudit/audit"
)

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
