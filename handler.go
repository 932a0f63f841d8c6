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
package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"time"

	"github.com/slogaudit/audit/internal/secretscan"
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

	// Outcome, if set, is the key under which the end event says
	// "success" or "failure" (a status of 400 or more, or a panic). The
	// default is not to write it.
	Outcome string

	// TraceID and SpanID are not written by this package, which knows no
	// tracer; they name the keys an [Options.ContextAttrs] hook should use,
	// so that one preset covers them too.
	TraceID, SpanID string

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
		TraceID: "trace_id", SpanID: "span_id", DurationUnit: time.Millisecond,
	}
}

// OTelFields returns OpenTelemetry's semantic-convention names: event.name,
// log.record.uid, user.*, client.address, user_agent.original,
// http.request.method, url.path, http.response.status_code,
// http.server.request.duration (in seconds), trace_id and span_id.
func OTelFields() Fields {
	f := DefaultFields()
	f.Event, f.EventID = "event.name", "log.record.uid"
	f.Duration, f.DurationUnit = "http.server.request.duration", time.Second
	return f
}

// ECSFields returns the Elastic Common Schema's names: event.action,
// event.id, event.outcome, user.*, source.ip, user_agent.original,
// http.request.id, http.request.method, url.path,
// http.response.status_code, http.response.body.bytes, event.duration (in
// nanoseconds), trace.id and span.id.
func ECSFields() Fields {
	f := DefaultFields()
	f.Event, f.EventID, f.Outcome = "event.action", "event.id", "event.outcome"
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
		{&f.TraceID, &d.TraceID}, {&f.SpanID, &d.SpanID},
	} {
		*p.f = or(*p.f, *p.d)
	}
	if f.DurationUnit <= 0 {
		f.DurationUnit = d.DurationUnit
	}
	return f
}

// Options configure a [Handler]. A nil *Options, like a zero Options, gives
// the defaults: event names under "event" with an "event_id", identities
// under "user", and redaction on.
type Options struct {
	// Fields names the keys the Handler writes: a preset such as
	// [OTelFields] or [ECSFields], changed field by field as needed. The
	// zero Fields means [DefaultFields]. EventKey, EventIDKey and
	// IdentityKey below, when set, win over it.
	Fields Fields

	// EventKey is the key of the event name. "" means Fields.Event.
	EventKey string

	// EventIDKey is the key of the unique event id. "" means
	// Fields.EventID.
	EventIDKey string

	// NoEventID turns off event ids. By default every record that has an
	// event gets one, so that auditors can deduplicate and correlate.
	NoEventID bool

	// IdentityKey is the key of the identity group. "" means Fields.User.
	IdentityKey string

	// ContextAttrs, if set, is called for every record with the record's
	// context, and the attributes it returns are written at the top level
	// like those bound with [With]. Use it for what this package cannot know
	// about, such as the trace and span ids of a tracing library. It must be
	// safe for concurrent use. A panic in it is recovered and reported in
	// the record. Nil means no such attributes.
	ContextAttrs func(ctx context.Context) []slog.Attr

	// RedactKeys adds key names to the built-in list of secret keys
	// (password, token, apikey, authorization, cookie, secret, credential,
	// privatekey, ...). They match as the built-in names do: the key,
	// lowercased and without '-', '_', '.' and ' ', equals or ends with
	// the name. Nil adds none.
	RedactKeys []string

	// RedactPatterns adds value patterns: every match in any string value,
	// message or error text is replaced by the marker. They run on every
	// string, so keep them few and anchored on literals. Nil adds none.
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
	// [DeprecatedKeyEvent] record. It must be safe for concurrent use.
	OnDeprecatedKey func(r Rename, site slog.Source)

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

// config is the resolved, immutable form of Options, shared by a Handler and
// every handler derived from it.
type config struct {
	eventKey, eventIDKey, identityKey string
	eventID                           bool
	contextAttrs                      func(context.Context) []slog.Attr
	red                               *redactor  // nil: redaction off
	mig                               *migration // nil: no legacy messages or renames
}

func newConfig(opts *Options) *config {
	if opts == nil {
		opts = &Options{}
	}
	f := opts.Fields.resolved()
	c := &config{
		eventKey:     or(opts.EventKey, f.Event),
		eventIDKey:   or(opts.EventIDKey, f.EventID),
		identityKey:  or(opts.IdentityKey, f.User),
		eventID:      !opts.NoEventID,
		contextAttrs: opts.ContextAttrs,
	}
	if !opts.DisableRedaction {
		c.red = newRedactor(opts)
	}
	c.mig = newMigration(opts)
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
//     [slog.Logger.WithGroup], so that they have one path in every record.
//
// Each key is written once. The record's own top-level attributes (including
// those added with [slog.Logger.With]) win over the audit fields, and the
// event, event id and identity win over attributes bound to the context.
//
// A record with none of these is passed to the wrapped handler unchanged, so
// the output is the same, byte for byte, as without the Handler.
type Handler struct {
	c *config

	// inner has received every WithAttrs and WithGroup call, so records
	// without audit fields go straight to it, with its pre-formatting.
	inner slog.Handler
	// base is inner as it was before the first WithGroup. Records with audit
	// fields under open groups are written through it, with the groups
	// rebuilt around the record's attributes, so that the audit fields
	// stay at the top level.
	base slog.Handler
	// groups are the groups opened since base, each with the attributes
	// added inside it. Never appended to in place: derived handlers copy.
	groups []group
	// topKeys are the keys of attributes added before any group; they are
	// top-level keys of every record and win over audit fields.
	topKeys []string
	// event is the event name bound with WithAttrs.
	event string
	// secret is set once a group whose name is a secret key is open: every
	// value written inside it is redacted.
	secret bool
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
func NewHandler(inner slog.Handler, opts *Options) *Handler {
	if inner == nil {
		inner = slog.Default().Handler()
	}
	if stdlog.IsDefault(inner) {
		inner = stdlog.New(inner)
	}
	return &Handler{c: newConfig(opts), inner: inner, base: inner}
}

// Enabled reports whether the wrapped handler handles records at level l.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

// WithAttrs returns a Handler whose records also carry attrs. An [Event]
// among them names the event of every record; the rest are passed on to the
// wrapped handler.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	fwd := make([]slog.Attr, 0, len(attrs))
	for _, a := range attrs {
		if name, ok := eventOf(a); ok {
			// Redacted here, once, like the attributes below.
			h2.event = name
			if h.c.red != nil {
				h2.event, _ = h.c.red.str(name)
			}
			continue
		}
		fwd = append(fwd, a)
	}
	if len(fwd) == 0 {
		return &h2
	}
	// Renamed first, so that redaction sees the keys that are written;
	// both here, once, rather than on every record.
	if m := h.c.mig; m != nil {
		if out, ok := m.renameAttrs(fwd, time.Now(), h.c.red, func(r *Rename) {
			m.reportOnce(context.Background(), h, r, callerPC())
		}); ok {
			fwd = out
		}
	}
	for i := range fwd {
		fwd[i] = h.c.redact(fwd[i], h.secret)
	}
	h2.inner = h.inner.WithAttrs(fwd)
	if len(h.groups) == 0 {
		h2.base = h2.inner
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
// as in any key.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	if h.c.red != nil {
		// A group name is a key: masked like the keys of attributes.
		name, _ = h.c.red.str(name)
	}
	h2 := *h
	h2.inner = h.inner.WithGroup(name)
	h2.secret = h.secret || (h.c.red != nil && h.c.red.secretKey(name))
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
	var extra []slog.Attr
	if h.c.contextAttrs != nil {
		extra = h.c.callContextAttrs(ctx)
	}
	// checked counts r's leading attributes known to hold nothing to
	// change; -1 means not even the message is known clean.
	checked := -1
	if b == nil && extra == nil && h.event == "" {
		// Nothing to add: the record goes to the wrapped handler as it is,
		// unless it holds something to change. The loop is here rather
		// than in a method taking the record, which would copy it once
		// more (Record.Attrs has a value receiver).
		dirty := h.c.red != nil && h.c.red.dirtyString(r.Message)
		if !dirty {
			checked = 0
			r.Attrs(func(a slog.Attr) bool {
				if dirty = h.dirtyAttr(a); !dirty {
					checked++
				}
				return !dirty
			})
		}
		if !dirty {
			return h.inner.Handle(ctx, r)
		}
	}
	return h.rewrite(ctx, &r, b, extra, checked)
}

// dirtyAttr reports whether a, one of a record's own attributes, holds
// something the Handler must change: an event marker, an old key to rename,
// a secret, or a LogValuer to resolve before redaction.
func (h *Handler) dirtyAttr(a slog.Attr) bool {
	// Event's attribute always has the key EventKey: comparing keys first
	// spares most attributes the type switch of Kind.
	if a.Key == EventKey {
		if _, ok := eventOf(a); ok {
			return true
		}
	}
	if m := h.c.mig; m != nil && (m.mayRename(a.Key) || a.Value.Kind() == slog.KindGroup) && m.hasOldKey(a) {
		return true
	}
	rd := h.c.red
	if rd == nil {
		return false
	}
	if len(rd.patterns) > 0 || h.secret {
		_, changed := rd.attr(a, h.secret)
		return changed
	}
	// The cost every record pays, per attribute: keys, scalars and
	// strings are settled here, without a call into the general walk.
	if key := a.Key; rd.keys.Secret(key) || secretscan.Contains(key, rd.marker, rd.keys) {
		return true
	}
	switch a.Value.Kind() {
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindDuration, slog.KindTime:
		return false
	case slog.KindString:
		return secretscan.Contains(a.Value.String(), rd.marker, rd.keys)
	}
	_, changed := rd.attr(a, false)
	return changed
}

// redact returns a with its secrets redacted, or a itself when redaction
// is off.
func (c *config) redact(a slog.Attr, inSecret bool) slog.Attr {
	if c.red == nil {
		return a
	}
	a, _ = c.red.attr(a, inSecret)
	return a
}

// bound returns the identity attribute and the attributes bound to b, each
// redacted, and renamed when a migration is configured. Without one, the
// result is cached on b for this Handler's configuration.
func (h *Handler) bound(b *binding) (slog.Attr, []slog.Attr) {
	if rb := b.redacted.Load(); rb != nil && rb.c == h.c {
		return rb.id, rb.attrs
	}
	var id slog.Attr
	if b.hasID && len(b.idValue.Group()) > 0 {
		id = h.c.redact(slog.Attr{Key: h.c.identityKey, Value: b.idValue}, false)
	}
	if h.c.mig != nil {
		// Renames depend on the record's time, and come before redaction:
		// rewrite renames and redacts these attributes itself.
		return id, b.attrs
	}
	attrs := b.attrs
	if rd := h.c.red; rd != nil {
		var out []slog.Attr // a copy from the first change on: b is shared
		for i, a := range b.attrs {
			r, changed := rd.attr(a, false)
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
	}
	b.redacted.Store(&redactedBinding{c: h.c, id: id, attrs: attrs})
	return id, attrs
}

// redactAll redacts attrs in place; inGroups says they lie inside the open
// groups, as the record's own attributes do.
func (h *Handler) redactAll(attrs []slog.Attr, inGroups bool) []slog.Attr {
	rd := h.c.red
	if rd == nil {
		return attrs
	}
	inSecret := inGroups && h.secret
	for i, a := range attrs {
		if a, changed := rd.attr(a, inSecret); changed {
			attrs[i] = a
		}
	}
	return attrs
}

// rewrite builds the record with its audit fields and writes it.
//
// The message and the first checked attributes of r are known to hold
// nothing to change (checked is -1 when not even the message is).
func (h *Handler) rewrite(ctx context.Context, r *slog.Record, b *binding, extra []slog.Attr, checked int) error {
	// The logger's event was redacted by WithAttrs; the record's and the
	// context's are redacted here.
	event, unredacted := h.event, ""
	if event == "" && b != nil {
		unredacted = b.event
	}
	var ownBuf [8]slog.Attr // most records: no allocation for their attributes
	own := ownBuf[:0]
	if n := r.NumAttrs(); n > len(ownBuf) {
		own = make([]slog.Attr, 0, n)
	}
	// Without a migration, attributes are redacted as they are collected;
	// with one, after they are renamed.
	rd := h.c.red
	if h.c.mig != nil {
		rd = nil
	}
	i := 0
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == EventKey {
			if name, ok := eventOf(a); ok {
				unredacted = name
				return true
			}
		}
		if rd != nil && i >= checked {
			if ra, changed := rd.attr(a, h.secret); changed {
				a = ra
			}
		}
		i++
		own = append(own, a)
		return true
	})
	msg := r.Message
	if unredacted != "" {
		event = unredacted
	}
	if h.c.red != nil {
		if checked < 0 {
			msg, _ = h.c.red.str(msg)
		}
		if unredacted != "" {
			event, _ = h.c.red.str(unredacted)
		}
	}
	var idAttr slog.Attr
	var ctxAttrs []slog.Attr
	if b != nil {
		idAttr, ctxAttrs = h.bound(b)
	}
	var legacy *Legacy
	var legacyErr error
	if m := h.c.mig; m != nil {
		if m.legacy != nil {
			legacy = m.legacy[event]
		}
		seen := func(rn *Rename) { m.reportOnce(ctx, h, rn, r.PC) }
		if legacy != nil {
			// Rendered before renaming: the fields name the keys the
			// caller writes.
			text := legacy.render(msg, h.redactAll(slices.Clone(own), true))
			if h.c.red != nil {
				text, _ = h.c.red.str(text)
			}
			if legacy.Mode == LegacySeparate {
				// The old line exactly: the legacy text, none of the
				// record's attributes, no audit fields.
				legacyErr = h.inner.Handle(ctx, slog.NewRecord(r.Time, r.Level, text, r.PC))
			} else {
				msg = text
			}
		}
		if out, ok := m.renameAttrs(own, r.Time, h.c.red, seen); ok {
			own = out
		}
		if out, ok := m.renameAttrs(ctxAttrs, r.Time, h.c.red, seen); ok {
			ctxAttrs = out
		}
		ctxAttrs = h.redactAll(slices.Clone(ctxAttrs), false)
		own = h.redactAll(own, true)
	}

	// The audit fields, each key once; taken knows the keys already written
	// at the top level.
	t := taken{h: h, own: own}
	var fields []slog.Attr
	if event != "" || idAttr.Key != "" || len(extra) > 0 || len(ctxAttrs) > 0 {
		fields = make([]slog.Attr, 0, 2+len(extra)+len(ctxAttrs)+1)
	}
	add := func(a slog.Attr) {
		if !t.has(a.Key, fields) {
			fields = append(fields, a)
		}
	}
	if event != "" {
		add(slog.String(h.c.eventKey, event))
		if h.c.eventID {
			add(slog.String(h.c.eventIDKey, newEventID()))
		}
	}
	if idAttr.Key != "" {
		add(idAttr)
	}
	for _, a := range extra {
		add(h.c.redact(a, false))
	}
	for _, a := range ctxAttrs {
		add(a)
	}

	// Built in place: NewRecord's result would be copied.
	var r2 slog.Record
	r2.Time, r2.Level, r2.Message, r2.PC = r.Time, r.Level, msg, r.PC
	r2.AddAttrs(fields...)
	var err error
	if len(h.groups) == 0 {
		r2.AddAttrs(own...)
		err = h.inner.Handle(ctx, r2)
	} else {
		r2.AddAttrs(h.nest(own)...)
		err = h.base.Handle(ctx, r2)
	}
	if legacyErr != nil {
		return errors.Join(legacyErr, err)
	}
	return err
}

// nest wraps attrs in the open groups, with the attributes added inside each,
// as the wrapped handler would have written them.
func (h *Handler) nest(attrs []slog.Attr) []slog.Attr {
	for i := len(h.groups) - 1; i >= 0; i-- {
		g := h.groups[i]
		inner := make([]slog.Attr, 0, len(g.attrs)+len(attrs))
		inner = append(inner, g.attrs...)
		inner = append(inner, attrs...)
		attrs = []slog.Attr{{Key: g.name, Value: slog.GroupValue(inner...)}}
	}
	return attrs
}

// taken tells which top-level keys a record already has.
type taken struct {
	h   *Handler
	own []slog.Attr
}

func (t taken) has(key string, fields []slog.Attr) bool {
	for _, k := range t.h.topKeys {
		if k == key {
			return true
		}
	}
	if len(t.h.groups) > 0 {
		if t.h.groups[0].name == key {
			return true
		}
	} else {
		for _, a := range t.own {
			if a.Key == key {
				return true
			}
		}
	}
	for _, a := range fields {
		if a.Key == key {
			return true
		}
	}
	return false
}

func (c *config) callContextAttrs(ctx context.Context) (attrs []slog.Attr) {
	defer func() {
		if p := recover(); p != nil {
			attrs = []slog.Attr{slog.String("!AUDIT_ERROR", fmt.Sprintf("audit: ContextAttrs panicked: %v", p))}
		}
	}()
	return c.contextAttrs(ctx)
}

// appendKeys returns keys followed by the keys of attrs, in a new slice.
func appendKeys(keys []string, attrs []slog.Attr) []string {
	out := make([]string, len(keys), len(keys)+len(attrs))
	copy(out, keys)
	for _, a := range attrs {
		if a.Key != "" {
			out = append(out, a.Key)
		}
	}
	return out
}

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

func eventOf(a slog.Attr) (string, bool) {
	if a.Value.Kind() != slog.KindAny {
		return "", false
	}
	name, ok := a.Value.Any().(eventName)
	return string(name), ok
}

// newEventID returns 128 random bits as 32 lowercase hex digits. The bits
// come from the runtime's per-thread ChaCha8 generator: no system call and
// no lock, so ids are cheap enough to be on by default. They identify
// records; they are not secrets.
func newEventID() string {
	var raw [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := 0; i < 8; i++ {
		raw[i] = byte(hi >> (56 - 8*i))
		raw[8+i] = byte(lo >> (56 - 8*i))
	}
	var out [32]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}
