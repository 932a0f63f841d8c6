// Package logtest helps tests that change the global state of the log and
// log/slog packages.
package logtest

import (
	"log"
	"log/slog"
	"testing"
)

// KeepDefaults puts back, when t ends, slog's default logger, the level of
// slog's bridge to the log package, and the log package's output, flags
// and prefix.
func KeepDefaults(t testing.TB) {
	l, w, f, p := slog.Default(), log.Writer(), log.Flags(), log.Prefix()
	level := slog.SetLogLoggerLevel(slog.LevelInfo)
	slog.SetLogLoggerLevel(level)
	t.Cleanup(func() {
		slog.SetDefault(l)
		log.SetOutput(w)
		log.SetFlags(f)
		log.SetPrefix(p)
		slog.SetLogLoggerLevel(level)
	})
}
