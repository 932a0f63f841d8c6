// Package logtest helps tests that change the global state of the log and
// log/slog packages.
package logtest

import (
	"bytes"
	"io"
	"log"
	"log/slog"
	"sync"
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

// CaptureLog sends the log package's output to w, with no flags and the
// given prefix, until t ends (see KeepDefaults).
func CaptureLog(t testing.TB, w io.Writer, prefix string) {
	KeepDefaults(t)
	log.SetOutput(w)
	log.SetFlags(0)
	log.SetPrefix(prefix)
}

// LockedBuffer is a bytes.Buffer that many goroutines may write at once.
// The zero LockedBuffer is empty and ready to use.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written so far.
func (b *LockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// String returns what was written so far.
func (b *LockedBuffer) String() string { return string(b.Bytes()) }

// Reset empties the buffer.
func (b *LockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
