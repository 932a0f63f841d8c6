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
	tests := []struct {
		name  string
		level slog.Level
		log   func(*slog.Logger)
	}{
		{"no audit fields", slog.LevelInfo, func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelInfo, "file listed",
				slog.String("path", "/srv/files"), slog.Int("count", 12), slog.Bool("recursive", false),
				slog.Duration("took", 3*time.Millisecond), slog.String("content_type", "text/plain"))
		}},
		{"with attrs", slog.LevelInfo, func(l *slog.Logger) {
			l.Info("user agent seen", "user_agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")
		}},
		{"disabled", slog.LevelWarn, func(l *slog.Logger) {
			l.LogAttrs(context.Background(), slog.LevelInfo, "file listed", slog.String("path", "/srv/files"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := &slog.HandlerOptions{Level: tt.level}
			bare := slog.New(slog.NewJSONHandler(io.Discard, opts))
			wrapped := slog.New(audit.NewHandler(slog.NewJSONHandler(io.Discard, opts), nil))
			want := testing.AllocsPerRun(100, func() { tt.log(bare) })
			got := testing.AllocsPerRun(100, func() { tt.log(wrapped) })
			if got != want {
				t.Errorf("wrapped: %v allocs per call; bare: %v. The wrapper must add none", got, want)
			}
		})
	}
}
