// Package audit wraps any [slog.Handler] so that the records an application
// already writes become audit records: each can name its event, the actor
// and the request or session it happened in, and no secret is written.
//
// One line turns it on:
//
//	slog.SetDefault(slog.New(audit.NewHandler(slog.Default().Handler(), nil)))
//
// A record that carries no audit field and no secret is written exactly as
// the wrapped handler would write it; see [Handler] for what changes for the
// others.
//
// # Where things are
//
// [Handler.Handle] takes a record through named stages, each one function:
// a check that passes clean records straight through, then collect,
// rename, redact, audit fields, nest and write (see [Handler]). The check
// and redaction remember the keys, messages and event names they found
// plain, per configuration, in internal/keycache. Stages and
// options are in handler.go; what a context binds ([With], [WithIdentity])
// in context.go; redaction of values in redact.go, with the scanner of text
// (secret shapes, tokens, key=value assignments, the key rule) in
// internal/secretscan; legacy messages and renames in deprecate.go; HTTP
// identity, proxies and [Middleware] in identity.go, with request bodies
// in internal/reqbody; the replica of slog's default handler in
// internal/stdlog. Tamper evidence is the package seal, the live tail the
// package tail.
package audit

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slogaudit/audit/internal/keycache"
	"github.com/slogaudit/audit/internal/stdlog"
)

// Keys of the attributes a [Handler] adds to records, unless [Options]
// renames them.
const (
	// EventKey is the key of the event name. The value is a string.
	EventKey = "event"
	// EventIDKey is the key of the unique id of a record that has an
	// event. The value is a string of 32 lowercase hex digits.
	EventIDKey = "event_id"
	// IdentityKey is the key of the actor bound with [WithIdentity]. The
	// value is a group; see [Identity.LogValue].
	IdentityKey = "user"
	// CollisionPrefix is put in front of the key of a caller's attribute
	// whose key is one of the above, as logrus does for its own keys.
	CollisionPrefix = "fields."
	// OutcomeKey is the key of an event's outcome; see [Outcome]. The
	// value is a string.
	OutcomeKey = "outcome"
	// ReasonKey is the key of the reason for an event's outcome; see
	// [Reason]. The value is a string.
	ReasonKey = "reason"
	// TargetKindKey and TargetIDKey are the keys of what an event acted
	// on; see [Target]. The values are strings.
	TargetKindKey, TargetIDKey = "target.kind", "target.id"
)

// Outcomes of an event, for [Outcome]: the values ECS's event.outcome
// takes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeUnknown = "unknown"
)

// Fields names the keys of the attributes this package writes: a
// [Handler]'s through [Options.Fields], [Middleware]'s through
// [HTTPOptions.Fields]. Give both the same Fields. A zero field means its
// default name (see [DefaultFields]), so a preset can be changed field by
// field:
//
//	f := audit.ECSFields()
//	f.RequestID = "transaction.id"
type Fields struct {
	Event     string // event name; default [EventKey]
	EventID   string // unique event id; default [EventIDKey]
	User      string // identity group (id, name, email, kind, roles); default [IdentityKey]
	RequestID string // request id; default [RequestIDKey]

	Method, Path, ClientAddress, UserAgent string // request metadata; defaults [MethodKey], [PathKey], [ClientAddrKey], [UserAgentKey]

	Status, Duration, ResponseSize string // end event; defaults [StatusKey], [DurationKey], [ResponseSizeKey]
	RequestEnd, ErrorType          string // end event; defaults [RequestEndKey], [ErrorTypeKey]
	RequestBody, RequestBodySize   string // end event, when asked for; defaults [RequestBodyKey], [RequestBodySizeKey]

	// Outcome, Reason, TargetKind and TargetID are the keys of what
	// [Outcome], [Reason] and [Target] say of an event: whether it
	// succeeded, why, and what it acted on. The request end event writes
	// its outcome under Outcome too. Defaults [OutcomeKey], [ReasonKey],
	// [TargetKindKey], [TargetIDKey].
	Outcome, Reason, TargetKind, TargetID string

	// TraceID and SpanID are not written by this package, which knows no
	// tracer; they name the keys an [Options.ContextAttrs] hook should use,
	// so that one preset covers them too.
	TraceID, SpanID string

	// Collision is the prefix of a caller's attribute whose key is one of
	// the audit's own (Event, EventID, User; see [Handler]). Default
	// [CollisionPrefix].
	Collision string

	// DurationUnit is the unit of Duration: a float64 number of units, or
	// an int64 for time.Nanosecond. Zero means time.Millisecond.
	DurationUnit time.Duration
}

// DefaultFields returns the names used when no preset is given: short keys
// for the audit fields and OpenTelemetry's names for request metadata.
func DefaultFields() Fields {
	return Fields{
		Event: EventKey, EventID: EventIDKey, User: IdentityKey, RequestID: RequestIDKey,
		Method: MethodKey, Path: PathKey, ClientAddress: ClientAddrKey, UserAgent: UserAgentKey,
		Status: StatusKey, Duration: DurationKey, ResponseSize: ResponseSizeKey,
		RequestEnd: RequestEndKey, ErrorType: ErrorTypeKey,
		RequestBody: RequestBodyKey, RequestBodySize: RequestBodySizeKey,
		Outcome: OutcomeKey, Reason: ReasonKey, TargetKind: TargetKindKey, TargetID: TargetIDKey,
		TraceID: "trace_id", SpanID: "span_id", Collision: CollisionPrefix, DurationUnit: time.Millisecond,
	}
}

// OTelFields returns OpenTelemetry's semantic-convention names:
// otel.event.name (which OpenTelemetry's log bridges make the record's
// EventName; the event.name attribute is deprecated), log.record.uid,
// user.*, client.address, user_agent.original, http.request.method,
// url.path, http.response.status_code, http.server.request.duration (in
// seconds), trace_id and span_id.
func OTelFields() Fields {
	f := DefaultFields()
	f.Event, f.EventID = "otel.event.name", "log.record.uid"
	f.Duration, f.DurationUnit = "http.server.request.duration", time.Second
	return f
}

// ECSFields returns the Elastic Common Schema's names: event.action,
// event.id, event.outcome, event.reason, entity.type and entity.id,
// user.*, source.ip, user_agent.original,
// http.request.id, http.request.method, url.path,
// http.response.status_code, http.response.body.bytes, event.duration (in
// nanoseconds), trace.id and span.id.
func ECSFields() Fields {
	f := DefaultFields()
	f.Event, f.EventID, f.Outcome, f.Reason = "event.action", "event.id", "event.outcome", "event.reason"
	f.TargetKind, f.TargetID = "entity.type", "entity.id"
	f.RequestID, f.ClientAddress = "http.request.id", "source.ip"
	f.ResponseSize, f.Duration, f.DurationUnit = "http.response.body.bytes", "event.duration", time.Nanosecond
	f.RequestBody, f.RequestBodySize = "http.request.body.content", "http.request.body.bytes"
	f.TraceID, f.SpanID = "trace.id", "span.id"
	return f
}

// resolved returns f with its zero fields set to the defaults.
func (f Fields) resolved() Fields {
	d := DefaultFields()
	for _, p := range []struct{ f, d *string }{
		{&f.Event, &d.Event}, {&f.EventID, &d.EventID}, {&f.User, &d.User}, {&f.RequestID, &d.RequestID},
		{&f.Method, &d.Method}, {&f.Path, &d.Path}, {&f.ClientAddress, &d.ClientAddress}, {&f.UserAgent, &d.UserAgent},
		{&f.Status, &d.Status}, {&f.Duration, &d.Duration}, {&f.ResponseSize, &d.ResponseSize},
		{&f.RequestEnd, &d.RequestEnd}, {&f.ErrorType, &d.ErrorType},
		{&f.RequestBody, &d.RequestBody}, {&f.RequestBodySize, &d.RequestBodySize},
		{&f.TraceID, &d.TraceID}, {&f.SpanID, &d.SpanID}, {&f.Collision, &d.Collision},
		{&f.Outcome, &d.Outcome}, {&f.Reason, &d.Reason}, {&f.TargetKind, &d.TargetKind}, {&f.TargetID, &d.TargetID},
	} {
		*p.f = or(*p.f, *p.d)
	}
	if f.DurationUnit <= 0 {
		f.DurationUnit = d.DurationUnit
	}
	if f.Duration == d.Duration {
		// The default key names its unit.
		f.Duration = durationKey(f.DurationUnit)
	}
	return f
}

// durationKey returns the default key of a request's duration in unit:
// duration_ms, duration_s, and so on, so that the key says the unit.
func durationKey(unit time.Duration) string {
	switch unit {
	case time.Nanosecond:
		return "duration_ns"
	case time.Microsecond:
		return "duration_us"
	case time.Millisecond:
		return DurationKey
	case time.Second:
		return "duration_s"
	case time.Minute:
		return "duration_min"
	}
	return "duration_" + strings.TrimPrefix(unit.String(), "1")
}

// Options configure a [Handler]. A nil *Options, like a zero Options, gives
// the defaults: event names under "event" with an "event_id", identities
// under "user", and redaction on.
//
// [NewHandler] panics when the options give the event, the event id and the
// identity colliding keys (the same key, or one a dotted prefix of another,
// such as "user" and "user.action"): every record would hold one key twice.
type Options struct {
	// Fields names the keys the Handler writes: a preset such as
	// [OTelFields] or [ECSFields], changed field by field as needed. The
	// zero Fields means [DefaultFields].
	Fields Fields

	// EventKey is the key of the event name, a shorthand for Fields.Event
	// that wins over it. "" means Fields.Event.
	EventKey string

	// NoEventID turns off event ids. By default every record that has an
	// event gets one, so that auditors can deduplicate and correlate.
	NoEventID bool

	// ContextAttrs, if set, is called for every record with the record's
	// context, and the attributes it returns are written at the top level
	// like those bound with [With]; an [Event] among them names the event
	// like one bound with [With]. Use it for what this package cannot know
	// about, such as the trace and span ids of a tracing library. It must be
	// safe for concurrent use. A panic in it is recovered and reported in
	// the record under [ErrorKey]. Nil means no such attributes.
	ContextAttrs func(ctx context.Context) []slog.Attr

	// RedactKeys adds key names to the built-in list of secret keys
	// (password, token, apikey, authorization, cookie, secret, credential,
	// privatekey, ...). They match as the built-in names do: the key,
	// lowercased and without '-', '_', '.' and ' ', equals or ends with
	// the name. They hold inside text too (pin=1234 for "pin"). Nil adds
	// none.
	RedactKeys []string

	// RedactPatterns adds value patterns: every match in any string value,
	// message or error text is replaced by the marker. They run on every
	// string, so keep them few and anchored on literals. Nil entries are
	// ignored. Nil adds none.
	RedactPatterns []*regexp.Regexp

	// AllowKeys lists keys that the key rule would redact but that hold no
	// secret in this application (say, "token_type"). They are compared
	// after the same normalization. Their values are still scanned for
	// secret shapes. Nil allows none.
	AllowKeys []string

	// RedactMarker replaces a redacted value. "" means [Redacted].
	RedactMarker string

	// Legacy lists the events whose records also carry the message old
	// consumers parse, rendered from the attributes; see [Legacy]. Nil
	// renders none.
	Legacy []Legacy

	// Renames moves attributes from old keys to new ones, with a
	// transition in which both are written; see [Rename]. Nil renames
	// none.
	Renames []Rename

	// OnDeprecatedKey, if set, is called once per old key of Renames and
	// call site that still writes it, instead of writing a
	// [DeprecatedKeyEvent] record. It must be safe for concurrent use. A
	// panic in it is recovered, and the report is then written as a record.
	OnDeprecatedKey func(r Rename, site slog.Source)

	// OnWriteError, if set, is called with every record the wrapped
	// handler failed to write, after Fallback (if any) got it. slog.Logger
	// drops the error a handler returns; this is how an application hears
	// of an audit record that was lost, to alert on it. It must be safe for
	// concurrent use and should return quickly: it runs in the log call. A
	// panic in it is recovered and joined to the error Handle returns. Nil
	// means failures are only counted (see [Handler.Stats]).
	OnWriteError func(WriteError)

	// Fallback, if set, receives every record the wrapped handler failed
	// to write, as one JSON line, so that it is kept somewhere: a local
	// file when the network sink is down, or standard error. Writes to it
	// are serialised. A panic in its Write is recovered and joined to the
	// error Handle returns. Nil means no fallback.
	Fallback io.Writer

	// DisableRedaction turns all redaction off: keys, value shapes and
	// patterns; values of type [Secret] still write their own marker. It
	// exists for handlers whose output never leaves a trusted place, and
	// must be set deliberately: no nil or zero Options value does it.
	DisableRedaction bool

	// PseudonymKey, if set, makes the Handler write a redacted value as
	// its keyed pseudonym (see [Pseudonym]) instead of the marker, so
	// that auditors can tell two records used the same secret without
	// learning it. It applies to whole values: strings, numbers and the
	// like under a secret key, and [Secret] values; a secret found inside
	// a longer string is still masked with the marker. The key is never
	// written. Keep it secret and stable: a new key gives new pseudonyms.
	// Nil or empty means the marker.
	PseudonymKey []byte
}

// ErrorKey is the key under which a [Handler] reports, in the record
// itself, a user hook that panicked. The value is a string.
const ErrorKey = "!AUDIT_ERROR"

// WriteError describes a record that the wrapped handler failed to write;
// see [Options.OnWriteError].
type WriteError struct {
	Event   string // the record's event name; "" when it names none
	EventID string // the record's event id; "" when it has none
	Time    time.Time
	Level   slog.Level
	Message string // the record's message, as redacted
	Err     error  // the wrapped handler's error, joined with Fallback's if it failed too
}

// Stats counts the records a [Handler] and every handler derived from it
// passed to the wrapped handler.
type Stats struct {
	Written uint64 // records the wrapped handler took without an error
	Failed  uint64 // records it returned an error for
}

// config is the resolved, immutable form of Options, shared by a Handler and
// every handler derived from it, with the counters they share.
type config struct {
	f                                 Fields // resolved
	eventKey, eventIDKey, identityKey string
	eventID                           bool
	// reserved are the audit's own top-level keys (event, event id,
	// identity): a caller's attribute under one of them, or under a dotted
	// key that expands onto one, is moved under prefix+key.
	reserved [3]string
	prefix   string
	moved    [3]string // prefix + reserved[i], made once
	dotted   bool      // a reserved key has a dot (ECS's event.action)
	// reservedFirst has the first byte of every reserved key: most keys are
	// told apart from them by one lookup.
	reservedFirst [256]bool
	contextAttrs  func(context.Context) []slog.Attr
	red           *redactor  // nil: redaction off
	mig           *migration // nil: no legacy messages or renames
	onWriteError  func(WriteError)
	fallback      slog.Handler // nil: no fallback
	ids           idSource
	// plainKeys and secretKeys are keys of those classes seen before
	// (see classify); cleanTexts are messages and event names that
	// redaction leaves as they are (see cleanText).
	plainKeys, secretKeys, cleanTexts *keycache.Set
	// nested: the wrapped handler is a Handler too, which adds the
	// identity, the context's attributes and the event id itself, from
	// the same context, and takes an Event as the record's event, and
	// Outcome, Reason and Target as its facts.
	nested bool

	written, failed atomic.Uint64
}

func newConfig(opts *Options) *config {
	if opts == nil {
		opts = &Options{}
	}
	f := opts.Fields.resolved()
	c := &config{
		f:            f,
		eventKey:     or(opts.EventKey, f.Event),
		eventIDKey:   f.EventID,
		identityKey:  f.User,
		eventID:      !opts.NoEventID,
		prefix:       f.Collision,
		contextAttrs: opts.ContextAttrs,
		onWriteError: opts.OnWriteError,
		plainKeys:    keycache.New(),
		secretKeys:   keycache.New(),
		cleanTexts:   keycache.New(),
	}
	c.reserved = [3]string{c.eventKey, c.eventIDKey, c.identityKey}
	for i, k := range c.reserved {
		for _, o := range c.reserved[i+1:] {
			if k == o || dottedPrefix(k, o) || dottedPrefix(o, k) {
				panic(fmt.Sprintf("audit: the event, event id and identity keys must differ, and none be a dotted prefix of another: %q and %q", k, o))
			}
		}
	}
	for i, k := range c.reserved {
		c.reservedFirst[k[0]] = true
		c.moved[i] = c.prefix + k
		c.dotted = c.dotted || strings.Contains(k, ".")
	}
	if !opts.DisableRedaction {
		c.red = newRedactor(opts)
	}
	c.mig = newMigration(opts)
	if opts.Fallback != nil {
		c.fallback = slog.NewJSONHandler(opts.Fallback, nil)
	}
	return c
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Handler is a [slog.Handler] that adds audit fields to the records it
// passes to the handler it wraps. It is safe for concurrent use.
//
// For each record, a Handler:
//   - writes the event name given by [Event], in the record or bound with
//     [slog.Logger.With] or [With], under [Options.EventKey], with a fresh
//     event id;
//   - writes the identity bound with [WithIdentity] and the attributes
//     bound with [With] or returned by [Options.ContextAttrs];
//   - writes all of these at the top level, even inside groups opened with
//     [slog.Logger.WithGroup], so that they have one path in every record;
//   - redacts secrets, wherever they are (see [Redacted]).
//
// The event, the event id and the identity are the audit's own: a caller's
// top-level attribute (or group, or WithGroup name) under one of their keys,
// or under a dotted key that expands onto one (user.name), is written under
// the same key with the prefix [Fields].Collision ("fields.user"), so that
// nothing is lost and no reader takes it for the real one. Other keys are
// written once: the record's own top-level attributes (including those
// added with [slog.Logger.With]) win over attributes bound to the context.
//
// A record with none of these is passed to the wrapped handler unchanged, so
// the output is the same, byte for byte, as without the Handler.
//
// # How a record goes through
//
// [Handler.Handle] first checks, without copying anything, whether the
// record needs a change; most do not, and go to the wrapped handler as they
// are. The others go through these stages, in handler.go unless named:
//
//  1. collect: the record's attributes are resolved ([slog.Value.Resolve])
//     and its [Event] taken out;
//  2. rename: old keys become new ones ([Rename], deprecate.go), and the
//     legacy message is rendered ([Legacy], deprecate.go);
//  3. redact: keys, values and text are checked for secrets (redact.go, with
//     the text scanner in internal/secretscan);
//  4. audit fields: the event, its id, the identity and the bound
//     attributes (context.go) are added at the top level, each key once;
//  5. nest: the record's attributes go back inside the open groups;
//  6. write: the wrapped handler gets the record; a failure is counted,
//     sent to [Options.Fallback] and reported to [Options.OnWriteError].
//
// HTTP identity and the request events are in identity.go, request bodies in
// internal/reqbody, and the replica of slog's default handler (see
// [NewHandler]) in internal/stdlog.
type Handler struct {
	c *config

	// out has received every WithAttrs and WithGroup call, so records
	// without audit fields go straight to out.inner, with its
	// pre-formatting. out.base is the wrapped handler as it was before the
	// first WithGroup: records with audit fields under open groups are
	// written through it, with the groups rebuilt around the record's
	// attributes, so that the audit fields stay at the top level. fb is the
	// same pair over the fallback handler.
	out, fb handlers
	// groups are the groups opened since base, each with the attributes
	// added inside it. Never appended to in place: derived handlers copy.
	groups []group
	// topKeys are the keys of attributes added before any group; they are
	// top-level keys of every record and win over bound attributes.
	topKeys []string
	// event is the event name bound with WithAttrs, redacted.
	event string
	// facts are the Outcome, Reason and Target bound with WithAttrs, at
	// their keys and redacted: written at the top level of every record
	// unless the record has its own. Never appended to in place.
	facts []slog.Attr
	// secret is set once a group whose name is a secret key is open: every
	// value written inside it is redacted.
	secret bool
}

// handlers is a wrapped handler with every WithAttrs and WithGroup call
// (inner), and as it was before the first WithGroup (base).
type handlers struct{ inner, base slog.Handler }

func (p handlers) withAttrs(attrs []slog.Attr, grouped bool) handlers {
	if p.inner == nil {
		return p
	}
	p.inner = p.inner.WithAttrs(attrs)
	if !grouped {
		p.base = p.inner
	}
	return p
}

func (p handlers) withGroup(name string) handlers {
	if p.inner != nil {
		p.inner = p.inner.WithGroup(name)
	}
	return p
}

type group struct {
	name  string
	attrs []slog.Attr
}

// NewHandler returns a Handler that writes to inner, configured by opts.
// A nil opts means the defaults. A nil inner means the handler of
// [slog.Default] at the time of the call.
//
// When inner is slog's own default handler, the one that writes through the
// [log] package, NewHandler replaces it with one that writes the same lines
// to the writer of the standard logger as it is now, with its current flags
// and prefix. That is what lets
//
//	slog.SetDefault(slog.New(audit.NewHandler(slog.Default().Handler(), nil)))
//
// work: [slog.SetDefault] points the log package at the new handler, and the
// old handler writing back through the log package would wait on itself
// forever. Its level still follows [slog.SetLogLoggerLevel].
//
// When inner is a Handler too (that line run twice, or a library's Handler
// over the application's), the audit fields are written once, by inner, at
// its keys: this Handler passes the event on as an [Event], and leaves the
// identity, the context's attributes and the event id to inner, which reads
// the same context. Its WriteError then has no EventID.
func NewHandler(inner slog.Handler, opts *Options) *Handler {
	if inner == nil {
		inner = slog.Default().Handler()
	}
	if stdlog.IsDefault(inner) {
		inner = stdlog.New(inner)
	}
	c := newConfig(opts)
	_, c.nested = inner.(*Handler)
	// The redactor calls only the methods the wrapped handler would call.
	c.red.writesTo(inner)
	return &Handler{c: c, out: handlers{inner, inner}, fb: handlers{c.fallback, c.fallback}}
}

// Enabled reports whether the wrapped handler handles records at level l.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.out.inner.Enabled(ctx, l)
}

// Stats returns the counts of records h and the handlers derived from it
// (with WithAttrs and WithGroup) passed on. Reading them costs two atomic
// loads.
func (h *Handler) Stats() Stats {
	return Stats{Written: h.c.written.Load(), Failed: h.c.failed.Load()}
}

// WithAttrs returns a Handler whose records also carry attrs. An [Event]
// among them names the event of every record; the rest are passed on to the
// wrapped handler, renamed and redacted here, once, rather than on every
// record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	fwd := make([]slog.Attr, 0, len(attrs))
	for _, a := range attrs {
		if name, ok := eventOf(a); ok {
			h2.event, _ = h.c.red.str(name)
			continue
		}
		if f := h.c.f.factAttrs(a, nil); f != nil && !h.c.nested {
			for i := range f {
				f[i], _ = h.c.red.attr(f[i], false)
			}
			h2.facts = append(h2.facts[:len(h2.facts):len(h2.facts)], f...)
			continue
		}
		fwd = append(fwd, a)
	}
	if len(fwd) == 0 {
		return &h2
	}
	// Renamed first, so that redaction sees the keys that are written.
	if m := h.c.mig; m != nil {
		if out, ok := m.renameAttrs(fwd, time.Now(), h.c.red, func(r *Rename) {
			m.reportOnce(context.Background(), h, r, callerPC())
		}); ok {
			fwd = out
		}
	}
	for i := range fwd {
		fwd[i], _ = h.c.red.attr(fwd[i], h.secret)
		fwd[i] = inlined(fwd[i])
	}
	grouped := len(h.groups) > 0
	if !grouped {
		h.c.moveReserved(fwd)
	}
	h2.out = h.out.withAttrs(fwd, grouped)
	h2.fb = h.fb.withAttrs(fwd, grouped)
	if !grouped {
		h2.topKeys = appendKeys(h.topKeys, fwd)
		return &h2
	}
	// Copy rather than append: a sibling derived from h must not see fwd.
	h2.groups = make([]group, len(h.groups))
	copy(h2.groups, h.groups)
	last := &h2.groups[len(h2.groups)-1]
	last.attrs = append(last.attrs[:len(last.attrs):len(last.attrs)], fwd...)
	return &h2
}

// WithGroup returns a Handler that writes the record's attributes inside the
// group name, and the audit fields still at the top level. If name is
// empty, WithGroup returns the receiver. A secret shape in name is masked,
// as in any key, and a first group named like an audit field is renamed
// like a caller's attribute would be.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	// A group name is a key: masked like the keys of attributes.
	name, _ = h.c.red.str(name)
	if len(h.groups) == 0 && h.c.isReserved(name) {
		name = h.c.movedKey(name)
	}
	h2 := *h
	h2.out = h.out.withGroup(name)
	h2.fb = h.fb.withGroup(name)
	h2.secret = h.secret || h.c.red.secretKey(name)
	h2.groups = append(h.groups[:len(h.groups):len(h.groups)], group{name: name})
	return &h2
}

// Handle adds the audit fields to r and passes it to the wrapped handler,
// returning that handler's error.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		// Inner handlers may use the context; give them a usable one.
		ctx = context.Background()
	}
	b := bindingFrom(ctx)
	var ext []slog.Attr
	if h.c.contextAttrs != nil {
		ext = h.c.callContextAttrs(ctx)
	}
	msgClean, checked := false, 0
	if b == nil && len(ext) == 0 && h.event == "" && len(h.facts) == 0 {
		// Nothing to add: the record goes to the wrapped handler as it is,
		// unless it holds something to change.
		if msgClean, checked = h.clean(&r); msgClean && checked == r.NumAttrs() {
			return h.write(ctx, &r, false, "", "")
		}
	}
	s := state{h: h, ctx: ctx, b: b, msgClean: msgClean, checked: checked}
	s.takeEvent(ext)
	// The record's attributes go from stage to stage as own, not in s:
	// a slice into s stored in s would move s to the heap.
	var buf [8]slog.Attr // most records: no allocation for their attributes
	own := s.collect(&r, buf[:0])
	if h.c.mig != nil {
		own = s.rename(&r, own)
	}
	s.redact(own)
	// The attributes of the new record are gathered on the stack and added
	// in one call: each AddAttrs call has a cost of its own.
	var out [16]slog.Attr
	attrs, id := s.addAuditFields(out[:0], own)
	attrs, viaBase := s.nest(attrs, own)
	var r2 slog.Record
	// Built in place: NewRecord's result would be copied.
	r2.Time, r2.Level, r2.Message, r2.PC = r.Time, r.Level, s.msg, r.PC
	r2.AddAttrs(attrs...)
	err := h.write(ctx, &r2, viaBase, s.event, id)
	if s.legacyErr != nil {
		return errors.Join(s.legacyErr, err)
	}
	return err
}

// state carries one record through the stages of Handle, the way log/slog's
// handleState does: what the stages share, on the stack.
type state struct {
	h   *Handler
	ctx context.Context
	b   *binding    // what the context binds; nil for none
	ext []slog.Attr // returned by Options.ContextAttrs

	// Set by clean: the message and the first checked attributes of the
	// record hold nothing to change, and need no second look.
	msgClean bool
	checked  int

	event    string      // the record's own event name; redact settles the record's event here
	ctxEvent string      // the event bound to the context or returned by ContextAttrs
	msg      string      // the message, redacted in redact
	ctxAttrs []slog.Attr // bound with With, redacted
	identity slog.Attr   // bound with WithIdentity, redacted; zero for none
	facts    []slog.Attr // the record's Outcome, Reason and Target, under their keys

	legacyErr error // from writing a separate legacy record
}

// takeEvent keeps in s what Options.ContextAttrs returned, taking out an
// Event, which names the event like one bound with [With].
func (s *state) takeEvent(ext []slog.Attr) {
	for i, a := range ext {
		if name, ok := eventOf(a); ok {
			s.ctxEvent = name
			ext = append(ext[:i:i], ext[i+1:]...)
			break
		}
	}
	for i, a := range ext {
		if a.Key == "" && a.Value.Kind() == slog.KindLogValuer {
			ext = slices.Clone(ext) // the hook's slice is not ours
			for j := i; j < len(ext); j++ {
				ext[j] = inlined(ext[j])
			}
			break
		}
	}
	s.ext = ext
}

// clean reports whether r's message holds nothing the Handler must change,
// and how many of its first attributes hold nothing either: all of them
// when the record can go to the wrapped handler as it is. The loop is here
// rather than in a method taking the record, which would copy it once more
// (Record.Attrs has a value receiver).
func (h *Handler) clean(r *slog.Record) (msgClean bool, checked int) {
	if h.c.red != nil && !h.c.cleanText(r.Message) {
		return false, 0
	}
	top := len(h.groups) == 0
	r.Attrs(func(a slog.Attr) bool {
		if h.dirtyAttr(a, top) {
			return false
		}
		checked++
		return true
	})
	return true, checked
}

// dirtyAttr reports whether a, one of a record's own attributes, holds
// something the Handler must change: an event marker, an old key to rename,
// a secret, a LogValuer to resolve before redaction, or, at the top level
// (top), a key of the audit's own.
func (h *Handler) dirtyAttr(a slog.Attr, top bool) bool {
	k := a.Value.Kind()
	switch {
	case k == slog.KindLogValuer:
		// Resolved once, and the resolved value is the one checked and
		// written; with nothing to check, the wrapped handler resolves it.
		// Under an empty key, at the top level, it may resolve to keys of
		// the audit's own (see inlined).
		return h.c.red != nil || h.c.mig != nil || top && a.Key == ""
	case k == slog.KindAny && (a.Key == EventKey && isEvent(a) || isFact(a)):
		return true
	case k != slog.KindGroup && !h.secret && h.c.red != nil:
		// The common case: a key seen before settles the key's part.
		switch h.c.classify(a.Key) {
		case keyPlain:
			return h.c.red.dirtyValue(a.Value, k)
		case keySecret:
			return true
		}
	}
	switch {
	case top && h.c.mayBeReserved(a.Key) && h.c.hasReserved(a):
		return true
	case h.c.mig.hasRename(a, k):
		return true
	case h.c.red == nil:
		return false
	}
	return h.c.red.dirty(a, k, h.secret)
}

// A keyClass is what a key asks of a Handler with redaction on, whatever
// the value under it and at any level of a record.
type keyClass uint8

const (
	// keyOther is a key that classify leaves to the full checks: one of
	// the audit's own or expanding onto one, a migration's, a key that
	// redaction changes, or any key with redaction off.
	keyOther keyClass = iota
	// keyPlain asks for nothing: only the value is left to check.
	keyPlain
	// keySecret makes its value secret, and asks for nothing else.
	keySecret
)

// classify returns the class of key. It depends on the configuration
// alone, and is kept for keys seen before: a program's keys are few and
// repeat, and a key seen before then costs one or two comparisons. With
// redaction off every key is keyOther: the checks left are cheaper than
// the lookup.
func (c *config) classify(key string) keyClass {
	switch {
	case c.red == nil:
		return keyOther
	case c.plainKeys.Has(key):
		return keyPlain
	case c.secretKeys.Has(key):
		return keySecret
	}
	// What is kept is decided again on the set's own copy of the key.
	class := c.classOf(key)
	switch class {
	case keyPlain:
		c.plainKeys.Add(key, func(cp string) bool { return c.classOf(cp) == keyPlain })
	case keySecret:
		c.secretKeys.Add(key, func(cp string) bool { return c.classOf(cp) == keySecret })
	}
	return class
}

// classOf works out the class of key, with redaction on.
func (c *config) classOf(key string) keyClass {
	if c.isReserved(key) || c.mig != nil && c.mig.isRenamed(key) {
		return keyOther
	}
	if c.red.dirtyString(key) {
		return keyOther
	}
	if c.red.secretKey(key) {
		return keySecret
	}
	return keyPlain
}

// cleanText reports whether redaction leaves s, a message or an event
// name, as it is. The answer is kept for texts seen before: most log calls
// pass a constant message.
func (c *config) cleanText(s string) bool {
	switch {
	case c.red == nil || c.cleanTexts.Has(s):
		return true
	case c.red.dirtyString(s):
		return false
	}
	c.cleanTexts.Add(s, func(cp string) bool { return !c.red.dirtyString(cp) })
	return true
}

// redactAttr returns a, one of the record's own attributes, redacted, and
// whether that changed it.
func (h *Handler) redactAttr(a slog.Attr) (slog.Attr, bool) {
	if !h.secret {
		switch h.c.classify(a.Key) {
		case keyPlain:
			if v, changed := h.c.red.value(a.Value, false, 0); changed {
				return slog.Attr{Key: a.Key, Value: v}, true
			}
			return a, false
		case keySecret:
			v, _ := h.c.red.value(a.Value, true, 0)
			return slog.Attr{Key: a.Key, Value: v}, true
		}
	}
	return h.c.red.attr(a, h.secret)
}

// collect is stage 1: it appends the record's attributes to own,
// resolved, and takes out its Event, which wins over the logger's and the
// context's.
func (s *state) collect(r *slog.Record, own []slog.Attr) []slog.Attr {
	if n := r.NumAttrs(); n > cap(own) {
		own = make([]slog.Attr, 0, n)
	}
	if s.ctxEvent == "" && s.b != nil {
		s.ctxEvent = s.b.event
	}
	s.msg = r.Message
	r.Attrs(func(a slog.Attr) bool {
		// Events, facts and LogValuers all hide behind these two kinds:
		// the common attribute pays for one comparison.
		if k := a.Value.Kind(); k == slog.KindAny || k == slog.KindLogValuer {
			if a.Key == EventKey {
				if name, ok := eventOf(a); ok {
					s.event = name
					return true
				}
			}
			if !s.h.c.nested && s.takeFact(a) {
				// (A wrapped Handler takes them itself, at its keys.)
				return true
			}
			if s.h.c.mig != nil {
				// Renames look inside the groups LogValuers resolve to.
				a.Value = a.Value.Resolve()
			}
			a = inlined(a)
		}
		own = append(own, a)
		return true
	})
	if s.b != nil {
		s.identity, s.ctxAttrs = s.h.bound(s.b)
	}
	return own
}

// rename is stage 2: the legacy message is rendered from the attributes as
// the caller wrote them, then old keys are renamed in the record's and the
// bound attributes. Renames depend on the record's time, so bound
// attributes are renamed here and not cached renamed.
func (s *state) rename(r *slog.Record, own []slog.Attr) []slog.Attr {
	h, m := s.h, s.h.c.mig
	if legacy := m.legacy[s.eventName()]; legacy != nil {
		s.renderLegacy(r, legacy, own)
	}
	seen := func(rn *Rename) { m.reportOnce(s.ctx, h, rn, r.PC) }
	if out, ok := m.renameAttrs(own, r.Time, h.c.red, seen); ok {
		own = out
		s.checked = 0 // renamed attributes are checked again
	}
	if out, ok := m.renameAttrs(s.ctxAttrs, r.Time, h.c.red, seen); ok {
		s.ctxAttrs = out
		for i := range s.ctxAttrs {
			s.ctxAttrs[i], _ = h.c.red.attr(s.ctxAttrs[i], false)
		}
	}
	return own
}

// eventName returns the record's event: its own, else the logger's, else
// the context's.
func (s *state) eventName() string {
	switch {
	case s.event != "":
		return s.event
	case s.h.event != "":
		return s.h.event
	}
	return s.ctxEvent
}

// renderLegacy writes the legacy message of the record: in place of its
// message, or as a record of its own.
func (s *state) renderLegacy(r *slog.Record, l *Legacy, own []slog.Attr) {
	h := s.h
	attrs := slices.Clone(own)
	for i := range attrs {
		attrs[i], _ = h.c.red.attr(attrs[i], h.secret)
	}
	msg, _ := h.c.red.str(s.msg)
	text, failure := l.safeRender(msg, attrs)
	if failure != "" {
		s.ext = append(slices.Clip(s.ext), slog.String(ErrorKey, failure))
	}
	text, _ = h.c.red.str(text)
	if l.Mode == LegacySeparate {
		// The old line exactly: the legacy text, none of the record's
		// attributes, no audit fields.
		lr := slog.NewRecord(r.Time, r.Level, text, r.PC)
		s.legacyErr = h.write(s.ctx, &lr, false, "", "")
		return
	}
	s.msg, s.msgClean = text, true
}

// redact is stage 3: the message, the event name, the record's attributes
// past those clean found clean, and the ContextAttrs attributes. The bound
// attributes were redacted by bound, once per binding.
func (s *state) redact(own []slog.Attr) {
	rd := s.h.c.red
	c := s.h.c
	if !s.msgClean && !c.cleanText(s.msg) {
		s.msg, _ = rd.str(s.msg)
	}
	fromLogger := s.event == "" && s.h.event != ""
	switch {
	case fromLogger:
		s.event = s.h.event // redacted by WithAttrs
	case s.event == "":
		s.event = s.ctxEvent
	}
	if !fromLogger && !c.cleanText(s.event) {
		s.event, _ = rd.str(s.event)
	}
	for i := s.checked; i < len(own); i++ {
		if a, changed := s.h.redactAttr(own[i]); changed {
			own[i] = a
		}
	}
	for i := range s.facts {
		if a, changed := rd.attr(s.facts[i], false); changed {
			s.facts[i] = a
		}
	}
	ext := s.ext // the hook's slice, maybe shared: written only once copied
	for i := range ext {
		if a, changed := rd.attr(ext[i], false); changed {
			if &ext[0] == &s.ext[0] {
				ext = slices.Clone(s.ext)
			}
			ext[i] = a
		}
	}
	s.ext = ext
}

// addAuditFields is stage 4: it appends the event, a fresh event id, the
// identity, the record's facts and the bound attributes to attrs, each key
// once, and returns them with the event id.
func (s *state) addAuditFields(attrs, own []slog.Attr) (_ []slog.Attr, id string) {
	c := s.h.c
	lists := [4][]slog.Attr{s.facts, s.h.facts, s.ext, s.ctxAttrs}
	switch {
	case c.nested:
		// The wrapped Handler takes an Event for the record's event and
		// gives it an id, and adds the identity and the context's
		// attributes from the same context: written once, at its keys,
		// not moved under the collision prefix as a caller's would be.
		if s.event != "" {
			attrs = append(attrs, Event(s.event))
		}
		lists[3] = nil
	case s.event != "":
		attrs = append(attrs, slog.String(c.eventKey, s.event))
		if c.eventID {
			id = c.ids.next()
			attrs = append(attrs, slog.String(c.eventIDKey, id))
		}
	}
	if s.identity.Key != "" && !c.nested {
		attrs = append(attrs, s.identity)
	}
	if len(s.h.groups) == 0 {
		// The record's own keys as they are written, for taken.
		c.moveReserved(own)
	}
	for _, list := range lists {
		for _, a := range list {
			a = c.moveReservedAttr(a)
			if _, ok := inlineGroup(a); ok {
				// Inlined by handlers: its members are top-level keys.
				if a, ok := s.untaken(a, own, attrs); ok {
					attrs = append(attrs, a)
				}
			} else if !s.taken(a.Key, own, attrs) {
				attrs = append(attrs, a)
			}
		}
	}
	return attrs, id
}

// untaken returns g, a group with an empty key, without its members whose
// keys are taken, and false when none is left.
func (s *state) untaken(g slog.Attr, own, added []slog.Attr) (slog.Attr, bool) {
	var kept []slog.Attr
	members, _ := inlineGroup(g)
	for _, m := range members {
		if _, ok := inlineGroup(m); ok {
			m, ok := s.untaken(m, own, append(added[:len(added):len(added)], kept...))
			if ok {
				kept = append(kept, m)
			}
		} else if !s.taken(m.Key, own, added) && !hasTopKey(kept, m.Key) {
			kept = append(kept, m)
		}
	}
	return slog.Attr{Value: slog.GroupValue(kept...)}, len(kept) > 0
}

// taken reports whether key is already a top-level key of the record: one
// of the logger's, the record's own (when no group is open), or one of the
// audit fields added so far.
func (s *state) taken(key string, own, added []slog.Attr) bool {
	h := s.h
	if slices.Contains(h.topKeys, key) {
		return true
	}
	if len(h.groups) > 0 {
		if h.groups[0].name == key {
			return true
		}
	} else if hasTopKey(own, key) {
		return true
	}
	return hasTopKey(added, key)
}

// hasTopKey reports whether attrs, written at the top level, have key,
// looking into groups with an empty key, which handlers inline.
func hasTopKey(attrs []slog.Attr, key string) bool {
	for _, a := range attrs {
		if a.Key == key {
			return true
		}
		if g, ok := inlineGroup(a); ok && hasTopKey(g, key) {
			return true
		}
	}
	return false
}

// nest is stage 5: it appends the record's own attributes to attrs, the
// audit fields, inside the open groups when there are audit fields to keep
// at the top level, and reports whether the record must then be written
// through the handler as it was before the groups (base).
func (s *state) nest(attrs, own []slog.Attr) (_ []slog.Attr, viaBase bool) {
	h := s.h
	if len(h.groups) == 0 {
		// own's keys of the audit's own were moved by addAuditFields.
		return append(attrs, own...), false
	}
	if len(attrs) == 0 {
		// Nothing at the top level: the groups opened by the wrapped
		// handler, with its pre-formatting, hold the attributes as they
		// would without this Handler.
		return append(attrs, own...), false
	}
	nested := own
	for i := len(h.groups) - 1; i >= 0; i-- {
		g := h.groups[i]
		inner := make([]slog.Attr, 0, len(g.attrs)+len(nested))
		inner = appendNonEmpty(inner, g.attrs)
		inner = appendNonEmpty(inner, nested)
		if len(inner) == 0 {
			nested = nil // an empty group is not written, as slog does
			continue
		}
		nested = []slog.Attr{{Key: g.name, Value: slog.GroupValue(inner...)}}
	}
	return append(attrs, nested...), true
}

// appendNonEmpty appends the attributes of src that slog would write:
// slog drops an attribute with an empty key and a nil value, and a group
// with no attributes. Dropping them here keeps a rebuilt group from holding
// only such an attribute, which some handlers write as invalid JSON.
func appendNonEmpty(dst, src []slog.Attr) []slog.Attr {
	for _, a := range src {
		if a.Equal(slog.Attr{}) {
			continue
		}
		if a.Value.Kind() == slog.KindGroup && len(a.Value.Group()) == 0 {
			continue
		}
		dst = append(dst, a)
	}
	return dst
}

// write is stage 6: it passes r to the wrapped handler (as it was before
// any group, viaBase), counts the outcome and, on failure, hands the record
// to the fallback and the OnWriteError callback. Every record goes through
// here, at the same call depth, so that a handler that records stack traces
// sees the same number of this package's frames for all of them.
func (h *Handler) write(ctx context.Context, r *slog.Record, viaBase bool, event, id string) error {
	out, fb := h.out.inner, h.fb.inner
	if viaBase {
		out, fb = h.out.base, h.fb.base
	}
	err := out.Handle(ctx, *r)
	if err == nil {
		h.c.written.Add(1)
		return nil
	}
	h.c.failed.Add(1)
	return h.c.writeFailed(ctx, r, fb, event, id, err)
}

// writeFailed gives a record the wrapped handler failed to write to the
// fallback and the OnWriteError callback, and returns err joined with
// whatever went wrong there.
func (c *config) writeFailed(ctx context.Context, r *slog.Record, fb slog.Handler, event, id string, err error) (werr error) {
	werr = err
	if fb != nil {
		if ferr := handleFallback(ctx, fb, r); ferr != nil {
			werr = errors.Join(err, ferr)
		}
	}
	if c.onWriteError == nil {
		return werr
	}
	defer func() {
		if p := recover(); p != nil {
			werr = errors.Join(werr, fmt.Errorf("audit: OnWriteError panicked: %v", p))
		}
	}()
	c.onWriteError(WriteError{Event: event, EventID: id, Time: r.Time, Level: r.Level, Message: r.Message, Err: werr})
	return werr
}

// handleFallback writes r to the fallback, recovering a panic of the
// writer: the record must still reach OnWriteError, and the log call must
// not panic.
func handleFallback(ctx context.Context, fb slog.Handler, r *slog.Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("audit: fallback panicked: %v", p)
		}
	}()
	if err := fb.Handle(ctx, *r); err != nil {
		return fmt.Errorf("audit: fallback: %w", err)
	}
	return nil
}

// bound returns the identity attribute and the attributes bound to b, each
// redacted, with keys of the audit's own moved (see [Handler]). The result
// is cached on b for this Handler's configuration: a binding never changes,
// and the records of a request share it.
func (h *Handler) bound(b *binding) (slog.Attr, []slog.Attr) {
	if rb := b.redacted.Load(); rb != nil && rb.c == h.c {
		return rb.id, rb.attrs
	}
	var id slog.Attr
	if b.hasID && len(b.idValue.Group()) > 0 {
		id, _ = h.c.red.attr(slog.Attr{Key: h.c.identityKey, Value: b.idValue}, false)
	}
	attrs := b.attrs
	var out []slog.Attr // a copy from the first change on: b is shared
	for i, a := range b.attrs {
		r, changed := h.c.red.attr(a, false)
		if r.Key == "" && r.Value.Kind() == slog.KindLogValuer {
			r, changed = inlined(r), true
		}
		if h.c.isReserved(r.Key) {
			r, changed = slog.Attr{Key: h.c.movedKey(r.Key), Value: r.Value}, true
		}
		if changed && out == nil {
			out = slices.Clone(b.attrs)
		}
		if out != nil {
			out[i] = r
		}
	}
	if out != nil {
		attrs = out
	}
	b.redacted.Store(&redactedBinding{c: h.c, id: id, attrs: attrs})
	return id, attrs
}

// isReserved reports whether a top-level key is, or expands onto, one of
// the audit's own: it equals one, or one of the two is the other followed
// by a dot ("user.name" and "user"; "event" and ECS's "event.action").
func (c *config) isReserved(key string) bool {
	if key == "" || !c.reservedFirst[key[0]] {
		return false
	}
	for _, r := range c.reserved {
		if key == r {
			return true
		}
	}
	if !c.dotted && strings.IndexByte(key, '.') < 0 {
		return false // no dot on either side: nothing expands
	}
	for _, r := range c.reserved {
		if dottedPrefix(key, r) || dottedPrefix(r, key) {
			return true
		}
	}
	return false
}

// movedKey returns the collision prefix followed by key, without building
// the string for the audit's own keys themselves.
func (c *config) movedKey(key string) string {
	for i, r := range c.reserved {
		if key == r {
			return c.moved[i]
		}
	}
	return c.prefix + key
}

// dottedPrefix reports whether s starts with prefix followed by a dot.
func dottedPrefix(s, prefix string) bool {
	return len(s) > len(prefix) && s[len(prefix)] == '.' && strings.HasPrefix(s, prefix)
}

// moveReserved moves, in place, the top-level attributes of attrs whose keys
// are the audit's own under the collision prefix, looking into groups with
// an empty key, which handlers inline.
func (c *config) moveReserved(attrs []slog.Attr) {
	for i := range attrs {
		if c.mayBeReserved(attrs[i].Key) && c.hasReserved(attrs[i]) {
			attrs[i] = c.moveReservedAttr(attrs[i])
			// A caller may write the moved key too: prefixed again, so
			// that neither is lost and the key is written once.
			for k := attrs[i].Key; k != "" && (hasTopKey(attrs[:i], k) || hasTopKey(attrs[i+1:], k)); k = attrs[i].Key {
				attrs[i].Key = c.prefix + k
			}
		}
	}
}

// mayBeReserved rules out, in one lookup, most keys that cannot be or hold
// one of the audit's own: small enough to be inlined.
func (c *config) mayBeReserved(key string) bool {
	return key == "" || c.reservedFirst[key[0]]
}

// moveReservedAttr returns a with its key moved under the collision prefix
// if it is one of the audit's own, or, for a group with an empty key, with
// its attributes' keys moved.
func (c *config) moveReservedAttr(a slog.Attr) slog.Attr {
	if c.isReserved(a.Key) {
		return slog.Attr{Key: c.movedKey(a.Key), Value: a.Value}
	}
	a = inlined(a)
	if !c.hasReserved(a) {
		return a
	}
	g, _ := inlineGroup(a)
	g = slices.Clone(g)
	for i := range g {
		g[i] = c.moveReservedAttr(g[i])
	}
	return slog.Attr{Key: "", Value: slog.GroupValue(g...)}
}

// hasReserved reports whether a, written at the top level, has a key of the
// audit's own, itself or, for a group with an empty key, among its
// attributes, which handlers inline.
func (c *config) hasReserved(a slog.Attr) bool {
	if c.isReserved(a.Key) {
		return true
	}
	if a.Key == "" && a.Value.Kind() == slog.KindLogValuer {
		if _, ok := a.Value.LogValuer().(checked); !ok {
			return true // it may resolve to a group holding one: see inlined
		}
	}
	g, ok := inlineGroup(a)
	if !ok {
		return false
	}
	for _, m := range g {
		if c.hasReserved(m) {
			return true
		}
	}
	return false
}

func (c *config) callContextAttrs(ctx context.Context) (attrs []slog.Attr) {
	defer func() {
		if p := recover(); p != nil {
			attrs = []slog.Attr{slog.String(ErrorKey, fmt.Sprintf("audit: ContextAttrs panicked: %v", p))}
		}
	}()
	return c.contextAttrs(ctx)
}

// inlined returns a with its value resolved if its key is empty and its
// value a LogValuer: handlers inline the group such a value resolves to
// like an empty-key group, so its keys are top-level keys and must be
// checked as such, on the value that is written (resolved once).
func inlined(a slog.Attr) slog.Attr {
	if a.Key == "" && a.Value.Kind() == slog.KindLogValuer {
		if _, done := a.Value.LogValuer().(checked); !done {
			// Still a LogValuer, so that the wrapped handler treats it
			// as it would the caller's, but resolved once, here.
			a.Value = slog.AnyValue(checked{a.Value.Resolve()})
		}
	}
	return a
}

// inlineGroup returns the attributes of a, written at the top level, that
// handlers inline as top-level keys: those of a group with an empty key, or
// of a resolved LogValuer (see inlined) under an empty key.
func inlineGroup(a slog.Attr) ([]slog.Attr, bool) {
	if a.Key != "" {
		return nil, false
	}
	v := a.Value
	if v.Kind() == slog.KindLogValuer {
		c, ok := v.LogValuer().(checked)
		if !ok {
			return nil, false
		}
		v = c.v
	}
	if v.Kind() != slog.KindGroup {
		return nil, false
	}
	return v.Group(), true
}

// appendKeys returns keys followed by the keys of attrs, in a new slice.
// The members of a group with an empty key are top-level keys too.
func appendKeys(keys []string, attrs []slog.Attr) []string {
	out := make([]string, len(keys), len(keys)+len(attrs))
	copy(out, keys)
	var add func([]slog.Attr)
	add = func(attrs []slog.Attr) {
		for _, a := range attrs {
			switch {
			case a.Key != "":
				out = append(out, a.Key)
			case a.Value.Kind() == slog.KindGroup:
				add(a.Value.Group())
			}
		}
	}
	add(attrs)
	return out
}

// idSource hands out event ids. They are made 64 at a time, into one
// string that each id is a slice of: one allocation for 64 records instead
// of one per record. Batches in use are kept per P by a sync.Pool, so that
// no lock is shared between goroutines. Strings never change once made, so
// a handler that keeps a record keeps a valid id.
type idSource struct{ pool sync.Pool }

const (
	idLen       = 32 // hex digits of 128 bits
	idsPerBatch = 64
)

type idBatch struct {
	ids  string
	next int
}

func (p *idSource) next() string {
	b, _ := p.pool.Get().(*idBatch)
	if b == nil {
		b = new(idBatch)
	}
	if b.ids == "" || b.next == idsPerBatch {
		b.ids, b.next = newEventIDs(idsPerBatch), 0
	}
	id := b.ids[b.next*idLen : (b.next+1)*idLen]
	b.next++
	p.pool.Put(b)
	return id
}

// newEventIDs returns n ids of 128 random bits, each 32 lowercase hex
// digits, one after the other. The bits come from the runtime's per-thread
// ChaCha8 generator: no system call and no lock, so ids are cheap enough to
// be on by default. They identify records; they are not secrets.
func newEventIDs(n int) string {
	buf := make([]byte, n*idLen)
	var raw [16]byte
	for i := 0; i < n; i++ {
		binary.BigEndian.PutUint64(raw[:8], rand.Uint64())
		binary.BigEndian.PutUint64(raw[8:], rand.Uint64())
		hex.Encode(buf[i*idLen:], raw[:])
	}
	return string(buf)
}

// newEventID returns one event id; see newEventIDs.
func newEventID() string { return newEventIDs(1) }

// eventName is the value type of the attribute [Event] returns, so that a
// Handler can tell it from an ordinary attribute with the same key.
type eventName string

// Event returns an attribute that names the event of a record, such as
// "file.upload" or "auth.login". Pass it to a log call, or bind it with
// [slog.Logger.With] or [With] to name the event of every record; the
// record's own wins over the logger's, and the logger's over the context's.
// A [Handler] writes the name under [Options.EventKey] with a unique event
// id. Other handlers write it as a string attribute "event".
func Event(name string) slog.Attr {
	return slog.Any(EventKey, eventName(name))
}

// Outcome returns an attribute that says how the event of a record ended:
// [OutcomeSuccess], [OutcomeFailure] or [OutcomeUnknown]. A [Handler]
// writes it at the top level under [Fields].Outcome (ECS's event.outcome in
// [ECSFields]), like the event; other handlers write it as a string under
// [OutcomeKey].
func Outcome(outcome string) slog.Attr { return slog.Any(OutcomeKey, outcomeText(outcome)) }

// Reason returns an attribute that says why the event of a record ended as
// it did ("password mismatch", "quota exceeded"). A [Handler] writes it at
// the top level under [Fields].Reason, redacted like any text.
func Reason(reason string) slog.Attr { return slog.Any(ReasonKey, reasonText(reason)) }

// Target returns an attribute that names what the event of a record acted
// on: its kind ("file", "AuthUser") and id, as the entity_* fields of
// audit logs do. A [Handler] writes them at the top level under
// [Fields].TargetKind and TargetID; other handlers write a group of kind and
// id under [TargetKindKey].
func Target(kind, id string) slog.Attr { return slog.Any(TargetKindKey, target{kind, id}) }

// The value types of Outcome, Reason and Target, so that a Handler can tell
// them from ordinary attributes.
type (
	outcomeText string
	reasonText  string
	target      struct{ kind, id string }
)

// LogValue implements slog.LogValuer, for handlers other than a Handler.
func (t target) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", t.kind), slog.String("id", t.id))
}

// takeFact takes a, if it is an Outcome, Reason or Target, into s.facts
// under the keys of the Handler's Fields, and reports whether it did.
func (s *state) takeFact(a slog.Attr) bool {
	facts := s.h.c.f.factAttrs(a, s.facts)
	if facts == nil {
		return false
	}
	s.facts = facts
	return true
}

// factAttrs appends to dst the attributes, at their keys in f, of a if it
// is an Outcome, Reason or Target; it returns nil if a is none of them.
func (f *Fields) factAttrs(a slog.Attr, dst []slog.Attr) []slog.Attr {
	switch x := anyOf(a.Value).(type) {
	case outcomeText:
		return append(dst, slog.String(f.Outcome, string(x)))
	case reasonText:
		return append(dst, slog.String(f.Reason, string(x)))
	case target:
		return append(dst, slog.String(f.TargetKind, x.kind), slog.String(f.TargetID, x.id))
	}
	return nil
}

// anyOf returns what v holds unresolved when it holds a Go value (of kind
// Any or LogValuer), and nil otherwise: where Outcome, Reason, Target and
// Event values are.
func anyOf(v slog.Value) any {
	switch v.Kind() {
	case slog.KindAny:
		return v.Any()
	case slog.KindLogValuer:
		return v.LogValuer()
	}
	return nil
}

// isFact reports whether a is an Outcome, Reason or Target.
func isFact(a slog.Attr) bool {
	switch anyOf(a.Value).(type) {
	case outcomeText, reasonText, target:
		return true
	}
	return false
}

func isEvent(a slog.Attr) bool {
	_, ok := eventOf(a)
	return ok
}

func eventOf(a slog.Attr) (string, bool) {
	if a.Value.Kind() != slog.KindAny {
		return "", false
	}
	name, ok := a.Value.Any().(eventName)
	return string(name), ok
}
