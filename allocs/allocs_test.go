//go:build !race

// Package allocs_test asserts how many allocations the audit Handler adds
// to a log call. It is a package of its own because the race detector
// changes allocation counts, and a build constraint applies to a whole file:
// this keeps the constraint off the main test file.
package allocs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/slogaudit/audit"
)

func TestAllocs(t *testing.T) {
	migrating := &audit.Options{
		Legacy:  []audit.Legacy{{Event: "code.evaluate", Fields: []audit.LegacyField{{Key: "code"}}}},
		Renames: []audit.Rename{{Old: "log_event_type", New: "message_slug"}},
	}
	tests := []struct {
		name  string
		level slog.Level
		opts  *audit.Options
		log   func(*slog.Logger)
	}{
		{"no audit fields", slog.LevelInfo, nil, func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelInfo, "file listed",
				slog.String("path", "/srv/files"), slog.Int("count", 12), slog.Bool("recursive", false),
				slog.Duration("took", 3*time.Millisecond), slog.String("content_type", "text/plain"))
		}},
		{"user agent", slog.LevelInfo, nil, func(l *slog.Logger) {
			l.Info("user agent seen", "user_agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
		}},
		{"migration configured, record not concerned", slog.LevelInfo, migrating, func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelInfo, "file listed",
				slog.String("path", "/srv/files"), slog.Int("count", 12), slog.String("log", "x"))
		}},
		{"strings long enough to scan", slog.LevelInfo, nil, func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelInfo, "Reset link sent to the account owner",
				slog.String("url", "https://example.com/reset?id=77b2f6f9-d104-492c-ac2d-aeddead2783f"),
				slog.String("email", "ada@example.com"), slog.String("note", "token_count=5 bearer of the letter"))
		}},
		{"disabled", slog.LevelWarn, nil, func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelInfo, "file listed", slog.String("path", "/srv/files"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &slog.HandlerOptions{Level: tt.level}
			bare := slog.New(slog.NewJSONHandler(io.Discard, opts))
			wrapped := slog.New(audit.NewHandler(slog.NewJSONHandler(io.Discard, opts), tt.opts))
			want := testing.AllocsPerRun(100, func() { tt.log(bare) })
			got := testing.AllocsPerRun(100, func() { tt.log(wrapped) })
			if got != want {
				t.Errorf("wrapped: %v allocs per call; bare: %v. The wrapper must add none", got, want)
			}
		})
	}
}

// TestAllocsRewritten bounds the allocations of records the Handler must
// change. Each figure is what the change needs and no more: a masked
// string is a new string; an event id is a new string.
func TestAllocsRewritten(t *testing.T) {
	tests := []struct {
		name string
		max  float64 // allocations added to the bare handler's
		log  func(*slog.Logger)
	}{
		{"secret key and bearer token", 1, func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelInfo, "login",
				slog.String("user", "ada"), slog.String("password", "hunter2"),
				slog.String("header", "Authorization: Bearer abcdef0123456789abcdef"),
				slog.Int("attempt", 1), slog.String("ip", "203.0.113.7"))
		}},
		{"secret key only", 0, func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelInfo, "login",
				slog.String("user", "ada"), slog.String("password", "hunter2"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bare := slog.New(slog.NewJSONHandler(io.Discard, nil))
			wrapped := slog.New(audit.NewHandler(slog.NewJSONHandler(io.Discard, nil), nil))
			want := testing.AllocsPerRun(100, func() { tt.log(bare) })
			got := testing.AllocsPerRun(100, func() { tt.log(wrapped) })
			if got > want+tt.max {
				t.Errorf("wrapped: %v allocs per call; bare: %v. The wrapper may add at most %v", got, want, tt.max)
			}
		})
	}
}

// TestAllocsAuditRecord compares a full audit record (event, event id,
// identity, a bound attribute and five of the call's own) with the bare
// handler writing the same fields inline: the wrapper adds no allocation.
// Event ids are cut from batches of 64, so their one allocation per batch
// rounds to none per record.
func TestAllocsAuditRecord(t *testing.T) {
	ctx := audit.WithIdentity(context.Background(), audit.Identity{ID: "42", Name: "ada"})
	ctx = audit.With(ctx, "request_id", "0f8fad5b-d9cb-469f-a165-70867728950e")
	bare := slog.New(slog.NewJSONHandler(io.Discard, nil))
	wrapped := slog.New(audit.NewHandler(slog.NewJSONHandler(io.Discard, nil), nil))
	want := testing.AllocsPerRun(640, func() {
		bare.LogAttrs(context.Background(), slog.LevelInfo, "File uploaded",
			slog.String("event", "file.upload"), slog.String("event_id", "5f0c6b3d2a1e4f7089abcdef01234567"),
			slog.Group("user", slog.String("id", "42"), slog.String("name", "ada")),
			slog.String("request_id", "0f8fad5b-d9cb-469f-a165-70867728950e"),
			slog.String("filename", "a.txt"), slog.Int("file_size_bytes", 12345), slog.String("content_type", "text/plain"),
			slog.Bool("overwrite", false), slog.Duration("elapsed", 3*time.Millisecond))
	})
	got := testing.AllocsPerRun(640, func() {
		wrapped.LogAttrs(ctx, slog.LevelInfo, "File uploaded", audit.Event("file.upload"),
			slog.String("filename", "a.txt"), slog.Int("file_size_bytes", 12345), slog.String("content_type", "text/plain"),
			slog.Bool("overwrite", false), slog.Duration("elapsed", 3*time.Millisecond))
	})
	if got > want {
		t.Errorf("wrapped: %v allocs per call; bare: %v. The wrapper must add none", got, want)
	}
}
