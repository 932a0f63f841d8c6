package tail_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/slogaudit/audit"
	"github.com/slogaudit/audit/tail"
)

// removeTime drops the time so that the output below is always the same.
func removeTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// A Tail beside the log's output, serving what it sees to auditors. The
// reader's request is itself an audit event, in the same log.
func Example() {
	t := tail.New(&tail.Options{
		Authorize: func(r *http.Request) (audit.Identity, error) {
			// The application's own authentication and roles.
			if r.Header.Get("Authorization") != "Bearer auditor-key" {
				return audit.Identity{}, errors.New("not an auditor")
			}
			return audit.Identity{Name: "olga", Kind: "web"}, nil
		},
		History: 1000,
	})
	h := slog.NewJSONHandler(io.MultiWriter(os.Stdout, t), &slog.HandlerOptions{ReplaceAttr: removeTime})
	logger := slog.New(audit.NewHandler(h, &audit.Options{NoEventID: true}))
	t.SetLogger(logger)

	ctx := audit.WithIdentity(context.Background(), audit.Identity{Name: "ada", Kind: "web"})
	logger.InfoContext(ctx, "File uploaded", audit.Event("file.upload"), "filename", "q3.csv")
	logger.InfoContext(ctx, "Files listed", audit.Event("file.list"), "count", 1)

	// The application serves t at GET /_logs; here is one request to it.
	// follow=false ends the answer after the history.
	req := httptest.NewRequest("GET", "/_logs?user=ada&event=file.upload&history=10&follow=false", nil)
	req.Header.Set("Authorization", "Bearer auditor-key")
	rec := httptest.NewRecorder()
	t.ServeHTTP(rec, req)
	fmt.Printf("olga gets %d %s: %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	// Output:
	// {"level":"INFO","msg":"File uploaded","event":"file.upload","user":{"name":"ada","kind":"web"},"filename":"q3.csv"}
	// {"level":"INFO","msg":"Files listed","event":"file.list","user":{"name":"ada","kind":"web"},"count":1}
	// {"level":"INFO","msg":"Log read","event":"audit.log.read","user":{"name":"olga","kind":"web"},"filter":{"event":"file.upload","user":"ada","history":"10","follow":"false"}}
	// olga gets 200 application/x-ndjson: {"level":"INFO","msg":"File uploaded","event":"file.upload","user":{"name":"ada","kind":"web"},"filename":"q3.csv"}
}

// Without an Authorize hook nobody reads the log, and each attempt is an
// audit event.
func ExampleOptions_authorize() {
	h := slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: removeTime})
	t := tail.New(&tail.Options{Logger: slog.New(audit.NewHandler(h, &audit.Options{NoEventID: true}))})

	rec := httptest.NewRecorder()
	t.ServeHTTP(rec, httptest.NewRequest("GET", "/_logs?event=auth.*", nil))
	fmt.Println(rec.Code)
	// Output:
	// {"level":"WARN","msg":"Log access denied","event":"audit.log.denied","filter":{"event":"auth.*"},"reason":"tail: no Authorize hook configured"}
	// 403
}
