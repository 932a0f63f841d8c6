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
	"math"
	"reflect"
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
//
// A TextHandler formats the attributes. Each call formats into a buffer of
// its own, a formatter taken from a pool, so that a value slow to format
// holds up only its own call: the lock of logOutput is held for the write
// alone.
type logHandler struct {
	levels slog.Handler // the original default handler, for Enabled
	out    *logOutput
	ops    []op       // the WithAttrs and WithGroup calls since New, in order
	pool   *sync.Pool // of *formatter with ops applied; one pool per logHandler
}

// op is one WithAttrs (group == "") or WithGroup call.
type op struct {
	group string
	attrs []slog.Attr
}

// logOutput is where the lines go. Every replica whose lines end in the
// same writer shares one, and so one lock: see New.
type logOutput struct {
	mu     sync.Mutex // serialises writes to w
	w      io.Writer
	prefix string
	flags  int

	// frames caches, for fromLogPackage, whether a return address lies in
	// slog's bridge: uintptr to bool. Code addresses are finitely many.
	frames sync.Map
}

// formatter is a TextHandler, with the logHandler's ops applied, writing
// into its own buffer.
type formatter struct {
	text  slog.Handler
	attrs []byte // what text wrote for the last record
	line  []byte // the line being built
}

func (f *formatter) Write(p []byte) (int, error) {
	f.attrs = append(f.attrs, p...)
	return len(p), nil
}

// maxPooled is the largest buffer put back in the pool: a huge record
// should not pin its memory.
const maxPooled = 64 << 10

// New returns a handler that writes the lines orig, slog's default
// handler, would write, to the standard logger's writer with its flags and
// prefix as they are now. Its level follows orig's, and so
// slog.SetLogLoggerLevel.
//
// Once slog.SetDefault has installed a handler other than slog's own, the
// standard logger's writer is slog's bridge back into that handler, and a
// replica writing to it would put a second header in front of each line of
// the replica at the end of the installed chain ("INFO INFO msg"), every
// time a saved default handler is wrapped twice, and sometimes when two
// goroutines install at once. So New first asks the installed handler,
// through Enabled (which wrappers pass on and which writes nothing),
// whether a replica lies at its end, and writes where that one writes.
func New(orig slog.Handler) slog.Handler {
	out := installedOutput()
	if out == nil {
		out = &logOutput{w: log.Writer(), prefix: log.Prefix(), flags: log.Flags()}
	}
	h := &logHandler{levels: orig, out: out}
	h.pool = newPool(h.ops)
	return h
}

// installedOutput returns the logOutput of the replica at the end of the
// handler slog.SetDefault installed, or nil if log's writer is not slog's
// bridge or no replica answers.
func installedOutput() (out *logOutput) {
	if w := log.Writer(); w == nil || reflect.TypeOf(w).String() != "*slog.handlerWriter" {
		return nil
	}
	defer func() {
		if recover() != nil {
			out = nil // a handler that cannot answer has no replica to share
		}
	}()
	p := &probe{Context: context.Background()}
	// A level above every real one, so that no wrapper's own level filter
	// stops the question before it reaches the end of the chain.
	slog.Default().Handler().Enabled(p, slog.Level(math.MaxInt32))
	return p.out
}

// probe is the context of an Enabled call that asks a chain of handlers
// for the logOutput of the replica at its end.
type probe struct {
	context.Context
	out *logOutput
}

func newPool(ops []op) *sync.Pool {
	return &sync.Pool{New: func() any {
		f := &formatter{}
		var text slog.Handler = slog.NewTextHandler(f, nil)
		for _, o := range ops {
			if o.group != "" {
				text = text.WithGroup(o.group)
			} else {
				text = text.WithAttrs(o.attrs)
			}
		}
		f.text = text
		return f
	}}
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if p, ok := ctx.(*probe); ok {
		p.out = h.out
		return false
	}
	return h.levels.Enabled(ctx, l)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	// Resolved now, as the TextHandler would resolve them: formatters
	// made later replay them.
	resolved := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		resolved[i] = resolve(a)
	}
	return h.with(op{attrs: resolved})
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(op{group: name})
}

func (h *logHandler) with(o op) *logHandler {
	ops := append(h.ops[:len(h.ops):len(h.ops)], o)
	return &logHandler{levels: h.levels, out: h.out, ops: ops, pool: newPool(ops)}
}

// resolve resolves the LogValuers in a, in groups too.
func resolve(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	if a.Value.Kind() == slog.KindGroup {
		g := a.Value.Group()
		out := make([]slog.Attr, len(g))
		for i, ga := range g {
			out[i] = resolve(ga)
		}
		a.Value = slog.GroupValue(out...)
	}
	return a
}

// Handle lets the TextHandler format the attributes of a record stripped of
// time and message, then puts the standard logger's header, the level and
// the message in front of them, and writes the line.
func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	f := h.pool.Get().(*formatter)
	defer func() {
		if cap(f.attrs) <= maxPooled && cap(f.line) <= maxPooled {
			h.pool.Put(f)
		}
	}()
	r2 := slog.NewRecord(time.Time{}, r.Level, "", 0)
	r.Attrs(func(a slog.Attr) bool {
		r2.AddAttrs(a)
		return true
	})
	f.attrs = f.attrs[:0]
	if err := f.text.Handle(ctx, r2); err != nil {
		return err
	}
	rest := f.attrs // `level=LEVEL msg="" attrs...`
	if i := bytes.Index(rest, []byte(` msg=""`)); i >= 0 {
		rest = rest[i+len(` msg=""`):]
	}
	rest = bytes.TrimSuffix(rest, []byte("\n"))

	o := h.out
	msg := r.Message
	// Once slog.SetDefault has pointed the log package at slog, log.Printf
	// still puts the log prefix in front of the message it hands over, and
	// the header below would write it again. Only log's atomic getters may
	// be called here: log.Printf holds the log package's output lock.
	if p := o.prefix; p != "" && strings.HasPrefix(msg, p) && log.Prefix() == p &&
		log.Flags()&log.Lmsgprefix == 0 && fromLogPackage(&o.frames) {
		msg = msg[len(p):]
	}
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	buf := f.line[:0]
	buf = appendLogHeader(buf, t, o.prefix, o.flags, r.PC)
	buf = append(buf, r.Level.String()...)
	buf = append(buf, ' ')
	buf = append(buf, msg...)
	buf = append(buf, rest...)
	if len(buf) == 0 || buf[len(buf)-1] != '\n' {
		buf = append(buf, '\n')
	}
	f.line = buf
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err := o.w.Write(buf)
	return err
}

// bridge is the function through which the log package's output reaches a
// slog handler once slog.SetDefault has installed one.
const bridge = "log/slog.(*handlerWriter).Write"

// fromLogPackage reports whether the record being handled comes from the
// log package (log.Printf and the like), that is whether slog's bridge is
// on the stack. The record's PC cannot tell: the bridge records the PC of
// log.Printf's caller, or none when the log flags ask for no file name,
// just as slog.Info records its own caller's.
//
// Looking a return address up by name is slow, so frames caches the answer
// for each: a line then costs one runtime.Callers (1 to 3µs) and a map
// lookup per frame. Only a message that starts with the log prefix gets
// here at all; the others pay nothing.
func fromLogPackage(frames *sync.Map) bool {
	// The bridge sits above the handlers that wrap this one; 16 frames
	// leave room for a dozen, and walking the stack costs by the frame.
	var pcs [16]uintptr
	n := runtime.Callers(3, pcs[:]) // skip Callers, fromLogPackage, Handle
	for _, pc := range pcs[:n] {
		is, ok := frames.Load(pc)
		if !ok {
			// The bridge calls the handler through an interface, so its
			// frame is its own, never inlined into another.
			fn := runtime.FuncForPC(pc - 1)
			is = fn != nil && fn.Name() == bridge
			frames.Store(pc, is)
		}
		if is.(bool) {
			return true
		}
	}
	return false
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
