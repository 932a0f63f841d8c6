// Command quickstart shows the audit handler doing its job: an ordinary slog
// call becomes an audit record naming the event, the actor and the request.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"log"
	"log/slog"
	"os"

	"github.com/slogaudit/audit"
)

func main() {
	// One line: wrap the handler the application already has.
	logger := slog.New(audit.NewHandler(slog.NewJSONHandler(os.Stdout, nil), nil))
	slog.SetDefault(logger)

	// Usually middleware does this once per request.
	ctx := audit.WithIdentity(context.Background(), audit.Identity{ID: "42", Name: "ada", Kind: "user"})
	ctx = audit.With(ctx, "request_id", "req-7", "tenant", "acme")

	logger.InfoContext(ctx, "File uploaded", audit.Event("file.upload"),
		"filename", "report.pdf", "size_bytes", 12345, "password", "hunter2")

	// Existing log.Printf callers now go through the audit handler too.
	log.Printf("cache warmed: %d entries", 128)
}
