// Package tail streams an NDJSON audit log over HTTP as it is written, to
// the readers an application allows, without ever slowing the log down.
//
// A [Tail] sits beside the log's output, where it sees exactly the lines the
// handler wrote:
//
//	t := tail.New(&tail.Options{Authorize: admins, History: 1000})
//	h := slog.NewJSONHandler(io.MultiWriter(os.Stdout, t), nil)
//	logger := slog.New(audit.NewHandler(h, nil))
//	mux.Handle("GET /_logs", t)
//
// and serves them as a chunked NDJSON stream (like Aidbox's GET /_logs),
// filtered by query parameters:
//
//	GET /_logs?event=file.upload&user=ada&since=2026-11-21T00:00:00Z&history=100
//
// Writing never waits for a reader. Each reader has a bounded buffer; a
// reader that falls further behind loses records, and the stream says so
// with a line {"tail.dropped":N} where the N records are missing. Every
// request to read the log, granted or refused, is itself written as an audit
// event (audit.log.read, audit.log.denied).
package tail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slogaudit/audit"
)

// Event names of the audit records a [Tail] writes about its readers.
const (
	// EventRead is written when a reader is allowed to read the log, with
	// the filter it asked for.
	EventRead = "audit.log.read"
	// EventDenied is written when a request to read the log is refused,
	// with the filter it asked for and the reason.
	EventDenied = "audit.log.denied"
)

// DroppedKey is the key of the line a stream carries in place of records
// the reader lost because it fell behind: {"tail.dropped":N}, N a positive
// integer, the number of log lines missing at that point of the stream
// (counted before filtering, so some of them might not have matched).
const DroppedKey = "tail.dropped"

// Defaults of [Options].
const (
	// DefaultBuffer is the number of lines a reader may fall behind when
	// Options.Buffer is zero.
	DefaultBuffer = 1024
	// DefaultMaxLine is the longest line, in bytes, passed on when
	// Options.MaxLine is zero.
	DefaultMaxLine = 1 << 20
)

// Options configure a [Tail]. The zero value is valid, but a Tail without
// Authorize refuses every reader.
type Options struct {
	// Authorize decides whether r may read the log, and names the reader.
	// A nil error grants access; the identity returned, when not zero, is
	// bound to the request's context (audit.WithIdentity) for the audit
	// event, so the event says who read. A non-nil error refuses: with a
	// zero identity (nobody is logged in) the answer is 401 Unauthorized,
	// with an identity 403 Forbidden. The error's text goes into the
	// audit.log.denied event, never to the client. A panic refuses too.
	//
	// Nil refuses every request: the log is readable only by readers the
	// application chose.
	Authorize func(r *http.Request) (audit.Identity, error)

	// Logger receives the audit events about readers (EventRead and
	// EventDenied); [Tail.SetLogger] changes it. Nil means slog.Default()
	// at the time of each request.
	Logger *slog.Logger

	// History is the number of most recent lines kept, so that a new
	// reader can ask for them (?history=N). Zero keeps none.
	History int

	// Buffer is the number of lines a reader may fall behind the log
	// before it loses records. Zero means DefaultBuffer.
	Buffer int

	// MaxLine is the longest line passed on, in bytes with its newline; a
	// longer one is lost to every reader, who is told as for any loss.
	// Zero means DefaultMaxLine.
	MaxLine int

	// Keys the filters read, at the top level of each record. Empty means
	// "event", "user", slog.TimeKey ("time") and
	// "http.response.status_code", the keys of audit's DefaultFields.
	EventKey, UserKey, TimeKey, StatusKey string
}

// Tail is an [io.Writer] that keeps up with a log and an [http.Handler] that
// streams what was written to the readers Options.Authorize allows. Its
// methods are safe for concurrent use.
type Tail struct {
	authorize func(*http.Request) (audit.Identity, error)
	logger    atomic.Pointer[slog.Logger]
	buffer    int
	maxLine   int
	keys      keys

	dropped atomic.Uint64

	mu      sync.Mutex
	partial []byte // the start of a line whose newline is yet to come
	skip    bool   // discarding the rest of a line longer than maxLine
	ring    [][]byte
	next    int // index in ring of the next line
	full    bool
	readers map[*reader]struct{}
	closed  bool
}

type keys struct{ event, user, time, status string }

// New returns a Tail configured by opts, which may be nil.
func New(opts *Options) *Tail {
	var o Options
	if opts != nil {
		o = *opts
	}
	t := &Tail{
		authorize: o.Authorize,
		buffer:    o.Buffer,
		maxLine:   o.MaxLine,
		keys: keys{
			event:  or(o.EventKey, audit.EventKey),
			user:   or(o.UserKey, "user"),
			time:   or(o.TimeKey, slog.TimeKey),
			status: or(o.StatusKey, "http.response.status_code"),
		},
		readers: map[*reader]struct{}{},
	}
	if t.buffer <= 0 {
		t.buffer = DefaultBuffer
	}
	if t.maxLine <= 0 {
		t.maxLine = DefaultMaxLine
	}
	t.logger.Store(o.Logger)
	if o.History > 0 {
		t.ring = make([][]byte, o.History)
	}
	return t
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Write passes every complete line of p to the readers and the history,
// and keeps an incomplete last line until its end arrives. It never waits
// for a reader and always returns len(p), nil: a reader that cannot keep up
// loses lines instead (see [Tail.Dropped]).
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.hold(p)
			break
		}
		chunk := p[:i+1]
		p = p[i+1:]
		if t.skip {
			t.skip = false
			continue
		}
		if len(t.partial)+len(chunk) > t.maxLine {
			t.resetPartial()
			t.lose()
			continue
		}
		if t.ring == nil && len(t.readers) == 0 {
			t.resetPartial() // nobody to copy it for
			continue
		}
		// One copy per line, shared by the history and every reader,
		// since the caller may reuse p.
		line := make([]byte, 0, len(t.partial)+len(chunk))
		line = append(append(line, t.partial...), chunk...)
		t.resetPartial()
		t.publish(line)
	}
	return n, nil
}

// hold keeps the start of a line; one that outgrows maxLine is dropped and
// the rest of it skipped.
func (t *Tail) hold(p []byte) {
	if t.skip {
		return
	}
	if len(t.partial)+len(p) >= t.maxLine {
		t.resetPartial()
		t.skip = true
		t.lose()
		return
	}
	t.partial = append(t.partial, p...)
}

// resetPartial forgets the held start of a line, and the memory of one
// that was long.
func (t *Tail) resetPartial() {
	if cap(t.partial) > 64<<10 {
		t.partial = nil
		return
	}
	t.partial = t.partial[:0]
}

// lose tells every reader that a line is missing.
func (t *Tail) lose() {
	for r := range t.readers {
		r.pending++
		t.dropped.Add(1)
	}
}

func (t *Tail) publish(line []byte) {
	if t.ring != nil {
		t.ring[t.next] = line
		t.next++
		if t.next == len(t.ring) {
			t.next, t.full = 0, true
		}
	}
	for r := range t.readers {
		select {
		case r.ch <- entry{line: line, droppedBefore: r.pending}:
			r.pending = 0
		default:
			r.pending++
			t.dropped.Add(1)
		}
	}
}

// SetLogger sets the logger of the audit events about readers, as
// Options.Logger does. It is there for the usual case, where they go to the
// very log t reads, whose logger can only be made after t:
//
//	t := tail.New(&tail.Options{Authorize: auditors})
//	logger := slog.New(audit.NewHandler(slog.NewJSONHandler(io.MultiWriter(os.Stdout, t), nil), nil))
//	t.SetLogger(logger)
func (t *Tail) SetLogger(l *slog.Logger) { t.logger.Store(l) }

// Dropped returns the number of lines readers have lost by falling behind
// (or because a line was longer than Options.MaxLine), counted once for
// each reader that lost it, since New.
func (t *Tail) Dropped() uint64 { return t.dropped.Load() }

// Readers returns the number of streams open now.
func (t *Tail) Readers() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.readers)
}

// Close ends every open stream and refuses new readers with 503 Service
// Unavailable; writing goes on. An http.Server does not end a streaming
// response on Shutdown, so register it there:
// srv.RegisterOnShutdown(func() { t.Close() }).
func (t *Tail) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	for r := range t.readers {
		close(r.done)
		delete(t.readers, r)
	}
	return nil
}

// entry is one line for one reader, with the number of lines the reader
// lost just before it.
type entry struct {
	line          []byte
	droppedBefore uint64
}

type reader struct {
	ch      chan entry
	done    chan struct{} // closed by Close
	pending uint64        // lines lost since the last one delivered; guarded by Tail.mu
}

// subscribe returns the lines kept, oldest first, if history is set, and,
// when follow is set,
// a new reader of every line written after them. It holds the lock that
// Write waits for, so it only copies: the caller filters.
func (t *Tail) subscribe(history, follow bool) ([][]byte, *reader, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, nil, errClosed
	}
	var kept [][]byte
	if history && t.full {
		kept = append(kept, t.ring[t.next:]...)
	}
	if history {
		kept = append(kept, t.ring[:t.next]...)
	}
	if !follow {
		return kept, nil, nil
	}
	r := &reader{ch: make(chan entry, t.buffer), done: make(chan struct{})}
	t.readers[r] = struct{}{}
	return kept, r, nil
}

// lastMatching returns the last n of lines that match f, in their order.
func lastMatching(lines [][]byte, f *filter, n int) [][]byte {
	i := len(lines)
	for found := 0; i > 0 && found < n; i-- {
		if f.match(lines[i-1]) {
			found++
		} else {
			lines[i-1] = nil
		}
	}
	var out [][]byte
	for _, l := range lines[i:] {
		if l != nil {
			out = append(out, l)
		}
	}
	return out
}

func (t *Tail) unsubscribe(r *reader) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.readers, r)
}

var errClosed = errors.New("tail: closed")

// ServeHTTP streams the log to the reader, if Options.Authorize allows it,
// as chunked NDJSON (Content-Type application/x-ndjson): first the history
// asked for, oldest first, then each line as it is written, until the
// client goes away, until passes, or [Tail.Close]. Query parameters:
//
//   - event: the record's event; "file.*" matches every event starting
//     with "file.". Repeat it to accept any of several.
//   - user: the name or id of the record's user group (or the user value,
//     if it is a string). Repeatable.
//   - status: the HTTP status, "404", or a class, "4xx". Repeatable.
//   - since, until: RFC 3339 times; a record is sent when since <= time
//     < until. A record without a readable time is not sent when either
//     is set.
//   - history: send up to this many of the most recent matching lines
//     kept (see Options.History) first.
//   - follow: "false" or "0" sends the history only and ends.
//
// Different parameters must all match. Only GET and HEAD are allowed.
func (t *Tail) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx, ok := t.authorized(w, r, q)
	if !ok {
		return
	}
	f, n, follow, err := parseQuery(q, t.keys)
	if err != nil {
		t.log(ctx, slog.LevelWarn, "Log access denied", EventDenied, q, slog.String("reason", err.Error()))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodHead {
		follow, n = false, 0
	}
	kept, rd, err := t.subscribe(n > 0, follow)
	if err != nil {
		t.log(ctx, slog.LevelWarn, "Log access denied", EventDenied, q, slog.String("reason", err.Error()))
		http.Error(w, "log closed", http.StatusServiceUnavailable)
		return
	}
	if rd != nil {
		defer t.unsubscribe(rd)
	}
	// Logged after subscribing, so a reader that follows sees its own read.
	t.log(ctx, slog.LevelInfo, "Log read", EventRead, q)

	rc, err := startStream(w, kept, f, n)
	if err != nil || rd == nil {
		return
	}
	t.stream(ctx, w, rc, f, rd)
}

// authorized runs the Authorize hook and, when it refuses, writes the
// refusal and the audit event of it. The identity the hook returns is
// bound to the context even then, so that the events name the reader.
func (t *Tail) authorized(w http.ResponseWriter, r *http.Request, q map[string][]string) (context.Context, bool) {
	id, code, reason := t.check(r)
	ctx := r.Context()
	if !id.IsZero() {
		ctx = audit.WithIdentity(ctx, id)
	}
	if code != 0 {
		t.log(ctx, slog.LevelWarn, "Log access denied", EventDenied, q, slog.String("reason", reason))
		http.Error(w, http.StatusText(code), code)
		return ctx, false
	}
	return ctx, true
}

// startStream writes the headers and the last n kept lines that match f,
// and flushes them, so that the reader has the history before the first
// new line arrives. An error means the client can take no more.
func startStream(w http.ResponseWriter, kept [][]byte, f *filter, n int) (*http.ResponseController, error) {
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	for _, line := range lastMatching(kept, f, n) {
		if _, err := w.Write(line); err != nil {
			return nil, err
		}
	}
	return rc, flush(rc)
}

// stream sends each new line that matches f as it is written, flushing
// after each batch so that the reader sees it at once, until the client
// goes away, until passes, or the Tail is closed. At until or Close, the
// lines already queued are still sent, with the count of any lost.
func (t *Tail) stream(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, f *filter, rd *reader) {
	var deadline <-chan time.Time
	if !f.until.IsZero() {
		timer := time.NewTimer(time.Until(f.until))
		defer timer.Stop()
		deadline = timer.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-rd.done:
			t.finish(w, f, rd)
			return
		case <-deadline:
			t.unsubscribe(rd)
			t.finish(w, f, rd)
			return
		case e := <-rd.ch:
			if !t.sendAll(w, f, rd, e) || flush(rc) != nil {
				return
			}
		}
	}
}

// flush sends what was written so far. A ResponseWriter that cannot flush
// is no reason to stop: its buffer goes out when full.
func flush(rc *http.ResponseController) error {
	if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// finish ends the stream of a reader no longer subscribed: the lines
// already queued for it, then the notice of any lost after them, so that
// every line written while it read is either in the stream or counted.
func (t *Tail) finish(w http.ResponseWriter, f *filter, rd *reader) {
	for drained := false; !drained; {
		select {
		case e := <-rd.ch:
			if !t.send(w, f, e) {
				return
			}
		default:
			drained = true
		}
	}
	t.mu.Lock()
	lost := rd.pending
	t.mu.Unlock()
	t.send(w, f, entry{droppedBefore: lost})
}

// sendAll writes e and whatever else has arrived for rd, so that one flush
// sends them all, and reports whether the client can take more.
func (t *Tail) sendAll(w http.ResponseWriter, f *filter, rd *reader, e entry) bool {
	for {
		if !t.send(w, f, e) {
			return false
		}
		select {
		case e = <-rd.ch:
		default:
			return true
		}
	}
}

// send writes e to w if it matches f, after the notice of lines lost
// before it, and reports whether the client can take more.
func (t *Tail) send(w http.ResponseWriter, f *filter, e entry) bool {
	if e.droppedBefore > 0 {
		notice := `{"` + DroppedKey + `":` + strconv.FormatUint(e.droppedBefore, 10) + "}\n"
		if _, err := io.WriteString(w, notice); err != nil {
			return false
		}
	}
	if e.line == nil || !f.match(e.line) {
		return true
	}
	_, err := w.Write(e.line)
	return err == nil
}

// check runs the authorization hook, recovering a panic as a refusal. A
// zero code grants access.
func (t *Tail) check(r *http.Request) (id audit.Identity, code int, reason string) {
	if t.authorize == nil {
		return audit.Identity{}, http.StatusForbidden, "tail: no Authorize hook configured"
	}
	defer func() {
		if p := recover(); p != nil {
			id, code, reason = audit.Identity{}, http.StatusForbidden, fmt.Sprintf("tail: Authorize panicked: %v", p)
		}
	}()
	id, err := t.authorize(r)
	if err == nil {
		return id, 0, ""
	}
	if id.IsZero() {
		return id, http.StatusUnauthorized, err.Error()
	}
	return id, http.StatusForbidden, err.Error()
}

// log writes an audit event about a reader, with the filter it asked for.
func (t *Tail) log(ctx context.Context, level slog.Level, msg, event string, q map[string][]string, extra ...slog.Attr) {
	l := t.logger.Load()
	if l == nil {
		l = slog.Default()
	}
	var fattrs []any
	for _, k := range []string{"event", "user", "status", "since", "until", "history", "follow"} {
		switch v := q[k]; len(v) {
		case 0:
		case 1:
			fattrs = append(fattrs, slog.String(k, v[0]))
		default:
			fattrs = append(fattrs, slog.Any(k, v))
		}
	}
	attrs := make([]slog.Attr, 0, 3)
	attrs = append(attrs, audit.Event(event), slog.Group("filter", fattrs...))
	attrs = append(attrs, extra...)
	l.LogAttrs(ctx, level, msg, attrs...)
}

// filter is what a reader asked for; the zero filter matches every line.
type filter struct {
	keys          keys
	events        []string
	users         []string
	statuses      []string // "404" or "4xx"
	since, until  time.Time
	needsDecoding bool
}

// parseQuery reads the filter, the history count and follow from a
// request's query. Each parameter is read by a step of its own, whose
// error names the parameter and the form it wants.
func parseQuery(q map[string][]string, k keys) (f *filter, history int, follow bool, err error) {
	f = &filter{keys: k, events: nonEmpty(q["event"]), users: nonEmpty(q["user"])}
	if f.statuses, err = parseStatuses(nonEmpty(q["status"])); err != nil {
		return nil, 0, false, err
	}
	if f.since, err = parseTime(q, "since"); err != nil {
		return nil, 0, false, err
	}
	if f.until, err = parseTime(q, "until"); err != nil {
		return nil, 0, false, err
	}
	f.needsDecoding = len(f.events) > 0 || len(f.users) > 0 || len(f.statuses) > 0 || !f.since.IsZero() || !f.until.IsZero()
	if history, err = parseHistory(first(q["history"])); err != nil {
		return nil, 0, false, err
	}
	if follow, err = parseFollow(first(q["follow"])); err != nil {
		return nil, 0, false, err
	}
	return f, history, follow, nil
}

// parseStatuses checks each status asked for, lowercased, so that a
// typo is refused rather than silently matching nothing.
func parseStatuses(vs []string) ([]string, error) {
	var statuses []string
	for _, s := range vs {
		s = strings.ToLower(s)
		if len(s) != 3 || s[0] < '1' || s[0] > '5' || !(isDigit(s[1]) && isDigit(s[2]) || s[1:] == "xx") {
			return nil, fmt.Errorf("tail: status %q: want a code such as 404 or a class such as 4xx", s)
		}
		statuses = append(statuses, s)
	}
	return statuses, nil
}

// parseTime reads the time parameter name; the zero time, which no bound
// uses, when it is absent or empty.
func parseTime(q map[string][]string, name string) (time.Time, error) {
	v := first(q[name])
	if v == "" {
		return time.Time{}, nil
	}
	tm, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("tail: %s: want an RFC 3339 time such as 2026-11-21T19:33:29Z", name)
	}
	return tm, nil
}

// parseHistory reads the history count; none asked for is 0.
func parseHistory(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errors.New("tail: history: want a count of lines")
	}
	return n, nil
}

// parseFollow reads follow, true unless asked otherwise: a reader follows
// the log by default.
func parseFollow(v string) (bool, error) {
	if v == "" {
		return true, nil
	}
	follow, err := strconv.ParseBool(v)
	if err != nil {
		return false, errors.New("tail: follow: want true or false")
	}
	return follow, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func nonEmpty(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// match reports whether line, one JSON object, passes every part of f.
// A line that is not a JSON object passes only the zero filter. The parts
// are checked in turn, so that a line is decoded no further than needed.
func (f *filter) match(line []byte) bool {
	if !f.needsDecoding {
		return true
	}
	var rec map[string]json.RawMessage
	if json.Unmarshal(line, &rec) != nil {
		return false
	}
	if len(f.events) > 0 && !matchEventRaw(f.events, rec[f.keys.event]) {
		return false
	}
	if len(f.users) > 0 && !matchUser(f.users, rec[f.keys.user]) {
		return false
	}
	if len(f.statuses) > 0 && !matchStatus(f.statuses, rec[f.keys.status]) {
		return false
	}
	return f.inWindow(rec[f.keys.time])
}

// matchEventRaw reports whether the event raw, a JSON string, is one
// of want. One that is absent or not a string matches nothing.
func matchEventRaw(want []string, raw json.RawMessage) bool {
	var ev string
	if json.Unmarshal(raw, &ev) != nil {
		return false
	}
	return matchEvent(want, ev)
}

// inWindow reports whether the record's time, raw, is within
// [since, until). A record whose time cannot be read is outside any
// window: it cannot be placed in it.
func (f *filter) inWindow(raw json.RawMessage) bool {
	if f.since.IsZero() && f.until.IsZero() {
		return true
	}
	var tm time.Time
	if json.Unmarshal(raw, &tm) != nil {
		return false
	}
	return (f.since.IsZero() || !tm.Before(f.since)) && (f.until.IsZero() || tm.Before(f.until))
}

func matchEvent(want []string, ev string) bool {
	for _, w := range want {
		if prefix, ok := strings.CutSuffix(w, "*"); ok && strings.HasPrefix(ev, prefix) || w == ev {
			return true
		}
	}
	return false
}

func matchUser(want []string, raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	var names []string
	var u struct {
		ID   any `json:"id"`
		Name any `json:"name"`
	}
	var s string
	switch {
	case json.Unmarshal(raw, &s) == nil:
		names = append(names, s)
	case json.Unmarshal(raw, &u) == nil:
		for _, v := range []any{u.ID, u.Name} {
			switch v := v.(type) {
			case string:
				names = append(names, v)
			case float64:
				names = append(names, strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
	}
	for _, w := range want {
		for _, n := range names {
			if n == w {
				return true
			}
		}
	}
	return false
}

func matchStatus(want []string, raw json.RawMessage) bool {
	var code int
	if json.Unmarshal(raw, &code) != nil {
		return false
	}
	s := strconv.Itoa(code)
	if len(s) != 3 {
		return false
	}
	for _, w := range want {
		if w == s || w[0] == s[0] && w[1:] == "xx" {
			return true
		}
	}
	return false
}
