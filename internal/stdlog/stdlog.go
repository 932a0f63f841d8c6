// Package stdlog replicates the handler that log/slog installs as the
// default: it writes "LEVEL msg k=v" lines behind the log package's
// header, as slog's own default handler does.
//
// It exists because slog's default handler writes back through the log
// package. Once slog.SetDefault points the log package at a handler that
// wraps slog's default one, a log.Printf call would wait on itself. The
// replica writes the same bytes straight to the writer the standard logger
// had when it was made.
package stdlog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// IsDefault reports whether h is slog's built-in default handler, the one
// that writes through the log package. Its type is unexported, so it is
// recognised by name.
func IsDefault(h slog.Handler) bool {
	return fmt.Sprintf("%T", h) == "*slog.defaultHandler"
}

// logHandler writes the lines slog's default handler writes ("INFO msg
// k=v"), with the header of the standard logger, but straight to the
// standard logger's writer as it was when the logHandler was made, not back
// through the log package (see the package doc).
type logHandler struct {
	levels slog.Handler // the original default handler, for Enabled
	out    *logOutput
	text   slog.Handler // formats the attributes
}

type logOutput struct {
	mu     sync.Mutex // serialises writes and guards pending
	w      io.Writer
	prefix string
	flags  int
	// line is the record being written; set under mu before text.Handle.
	line struct {
		t     time.Time
		level slog.Level
		msg   string
		pc    uintptr
	}
}

// New returns a handler that writes the lines orig, slog's default
// handler, would write, to the standard logger's writer with its flags and
// prefix as they are now. Its level follows orig's, and so
// slog.SetLogLoggerLevel.
func New(orig slog.Handler) slog.Handler {
	out := &logOutput{w: log.Writer(), prefix: log.Prefix(), flags: log.Flags()}
	return &logHandler{levels: orig, out: out, text: slog.NewTextHandler(out, nil)}
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.levels.Enabled(ctx, l)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{levels: h.levels, out: h.out, text: h.text.WithAttrs(attrs)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &logHandler{levels: h.levels, out: h.out, text: h.text.WithGroup(name)}
}

// Handle lets the TextHandler format the attributes of a record stripped of
// time and message, then logOutput.Write puts the standard logger's header,
// the level and the message in front of them.
func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	r2 := slog.NewRecord(time.Time{}, r.Level, "", 0)
	r.Attrs(func(a slog.Attr) bool {
		r2.AddAttrs(a)
		return true
	})
	msg := r.Message
	// Once slog.SetDefault has pointed the log package at slog, log.Printf
	// still puts the log prefix in front of the message it hands over, and
	// the header below would write it again. Only log's atomic getters may
	// be called here: log.Printf holds the log package's output lock.
	if p := log.Prefix(); p != "" && log.Flags()&log.Lmsgprefix == 0 && p == h.out.prefix {
		msg = strings.TrimPrefix(msg, p)
	}
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	h.out.line.t, h.out.line.level, h.out.line.msg, h.out.line.pc = r.Time, r.Level, msg, r.PC
	return h.text.Handle(ctx, r2)
}

// Write receives `level=LEVEL msg="" attrs...` from the TextHandler, with
// mu held by logHandler.Handle.
func (o *logOutput) Write(p []byte) (int, error) {
	rest := p
	if i := bytes.Index(p, []byte(` msg=""`)); i >= 0 {
		rest = p[i+len(` msg=""`):]
	}
	rest = bytes.TrimSuffix(rest, []byte("\n"))
	t := o.line.t
	if t.IsZero() {
		t = time.Now()
	}
	buf := make([]byte, 0, 64+len(o.line.msg)+len(rest))
	buf = appendLogHeader(buf, t, o.prefix, o.flags, o.line.pc)
	buf = append(buf, o.line.level.String()...)
	buf = append(buf, ' ')
	buf = append(buf, o.line.msg...)
	buf = append(buf, rest...)
	if len(buf) == 0 || buf[len(buf)-1] != '\n' {
		buf = append(buf, '\n')
	}
	if _, err := o.w.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// appendLogHeader appends the header the log package writes for flag, as
// log.Logger does for a record at pc.
func appendLogHeader(buf []byte, t time.Time, prefix string, flag int, pc uintptr) []byte {
	if flag&log.Lmsgprefix == 0 {
		buf = append(buf, prefix...)
	}
	if flag&(log.Ldate|log.Ltime|log.Lmicroseconds) != 0 {
		if flag&log.LUTC != 0 {
			t = t.UTC()
		}
		if flag&log.Ldate != 0 {
			year, month, day := t.Date()
			buf = appendPadded(buf, year, 4)
			buf = append(buf, '/')
			buf = appendPadded(buf, int(month), 2)
			buf = append(buf, '/')
			buf = appendPadded(buf, day, 2)
			buf = append(buf, ' ')
		}
		if flag&(log.Ltime|log.Lmicroseconds) != 0 {
			hour, min, sec := t.Clock()
			buf = appendPadded(buf, hour, 2)
			buf = append(buf, ':')
			buf = appendPadded(buf, min, 2)
			buf = append(buf, ':')
			buf = appendPadded(buf, sec, 2)
			if flag&log.Lmicroseconds != 0 {
				buf = append(buf, '.')
				buf = appendPadded(buf, t.Nanosecond()/1e3, 6)
			}
			buf = append(buf, ' ')
		}
	}
	if flag&(log.Lshortfile|log.Llongfile) != 0 {
		file, line := "???", 0
		if pc != 0 {
			f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
			if f.File != "" {
				file, line = f.File, f.Line
			}
		}
		if flag&log.Lshortfile != 0 {
			if i := strings.LastIndexByte(file, '/'); i >= 0 {
				file = file[i+1:]
			}
		}
		buf = append(buf, file...)
		buf = append(buf, ':')
		buf = strconv.AppendInt(buf, int64(line), 10)
		buf = append(buf, ": "...)
	}
	if flag&log.Lmsgprefix != 0 {
		buf = append(buf, prefix...)
	}
	return buf
}

// appendPadded appends i zero-padded to width digits.
func appendPadded(buf []byte, i, width int) []byte {
	var b [20]byte
	n := len(b)
	for i >= 10 || width > 1 {
		width--
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	n--
	b[n] = byte('0' + i)
	return append(buf, b[n:]...)
}
