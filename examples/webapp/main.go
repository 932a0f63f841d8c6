// Command webapp is the smallest complete net/http service with an audit
// log: the audit handler as the default logger, the middleware around the
// routes, and one audited action. It is the program the README shows.
//
//	go run ./examples/webapp            # serves on 127.0.0.1:8080
//	curl -X DELETE -H 'X-User: ada' 127.0.0.1:8080/files/report.pdf
package main

import (
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/slogaudit/audit"
)

func main() {
	// 1. Every slog call, and every log.Printf, becomes an audit record.
	logger := slog.New(audit.NewHandler(slog.NewJSONHandler(os.Stdout, nil), nil))
	slog.SetDefault(logger)

	// 2. The routes, behind the middleware: it binds a request id, the
	// method, path and client address to each request's context and
	// writes an end event with the status and duration.
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", newServer(logger)))
}

// newServer returns the service's routes behind audit.Middleware.
func newServer(logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("DELETE /files/{name}", func(w http.ResponseWriter, r *http.Request) {
		// 3. An audited action: the event, what it acted on and how it
		// ended. The identity and request fields come from the context.
		logger.InfoContext(r.Context(), "File deleted", audit.Event("file.delete"),
			audit.Target("file", r.PathValue("name")), audit.Outcome(audit.OutcomeSuccess))
		w.WriteHeader(http.StatusNoContent)
	})
	return audit.Middleware(mux, &audit.HTTPOptions{
		Logger: logger,
		// Your own authentication goes here (a session, a token). This
		// demo believes a header, which a real service must never do.
		Authenticated: func(r *http.Request) (audit.Identity, bool) {
			name := r.Header.Get("X-User")
			return audit.Identity{Name: name}, name != ""
		},
		ResponseHeader: "X-Request-Id", // clients can quote it to support
	})
}
