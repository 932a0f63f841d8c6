package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// A migration to structured audit logs must not break the dashboards,
// alerts and scripts that already parse the old logs: the usual failure is a
// format change that silences a grep-based alert for weeks. This file lets
// the old forms be written next to the new ones for as long as they are
// needed, and tells the remaining callers of the old forms who they are.

// LegacyMode says how a [Legacy] message is written.
type LegacyMode int

const (
	// LegacyInline writes one record: the legacy text as its message, with
	// the event and the structured attributes.
	LegacyInline LegacyMode = iota
	// LegacySeparate writes the legacy record as old consumers know it (the
	// legacy text as message, none of the record's own attributes and no
	// audit fields), followed by the structured record with the plain
	// message. Consumers that match whole lines keep matching.
	LegacySeparate
)

// Legacy describes the message old consumers expect for records of one
// event, rendered from the record's attributes so the caller logs the data
// once:
//
//	logger.Info("Evaluating code", audit.Event("code.evaluate"),
//		"session_mode", "default", "code", "7 + 13")
//
// with Fields {session_mode, "Session mode"} and {code, "Code", Quote}
// renders
//
//	Evaluating code
//	  Session mode: default
//	  Code: "7 + 13"
type Legacy struct {
	// Event is the event name whose records get the legacy message.
	Event string
	// Fields are the attributes rendered after the message, one line each,
	// in this order. A field the record lacks is left out.
	Fields []LegacyField
	// Mode says whether the legacy text replaces the message of the one
	// record or goes in a record of its own. The zero Mode is LegacyInline.
	Mode LegacyMode
	// Indent starts each field line. "" means two spaces.
	Indent string
	// Render, if set, replaces the layout above: it gets the record's
	// message and its top-level attributes, already redacted, and returns
	// the legacy text. The text is scanned for secret shapes again. A panic
	// in it is recovered: the layout above is used, and the record says so
	// under [ErrorKey].
	Render func(msg string, attrs []slog.Attr) string
}

// LegacyField is one line of a [Legacy] message: "Label: value".
type LegacyField struct {
	Key   string // the attribute's key at the top level of the record
	Label string // "" means Key
	Quote bool   // write the value as a double-quoted Go string
}

// RenamePhase says which keys a [Rename] writes.
type RenamePhase int

const (
	// RenameBoth writes the new key and, right after it, the old key with
	// the same value, for consumers not yet migrated.
	RenameBoth RenamePhase = iota
	// RenameNewOnly writes only the new key.
	RenameNewOnly
)

// Rename moves an attribute from an old key to a new one, such as
// log_event_type to message_slug, at any depth: in the record, in
// attributes added with [slog.Logger.With] and in those bound with [With].
// A key is compared whole; a dotted key such as "enduser.id" matches the
// attribute with that literal key.
type Rename struct {
	Old, New string // the key callers write, and the key it becomes
	// Phase is the phase until Until. The zero Phase is RenameBoth.
	Phase RenamePhase
	// Until, if not zero, ends the RenameBoth phase on its own: records
	// whose time is at or after Until get the new key only, so that a
	// deprecation window closes without a deploy. Attributes added with
	// slog.Logger.With are judged when With is called.
	Until time.Time
}

// DeprecatedKeyEvent is the event name of the record a [Handler] writes, at
// level WARN, the first time a call site writes an old key of a [Rename],
// unless [Options.OnDeprecatedKey] is set. Its attributes are "old_key",
// "new_key" and "source" (file:line of the call site).
const DeprecatedKeyEvent = "audit.deprecated_key"

// phase returns the phase of r for a record at t.
func (r *Rename) phase(t time.Time) RenamePhase {
	if !r.Until.IsZero() && !t.Before(r.Until) {
		return RenameNewOnly
	}
	return r.Phase
}

// migration holds a Handler's legacy messages and renames.
type migration struct {
	legacy  map[string]*Legacy
	renames []Rename
	keys    [256]uint64 // keySlot of every old and new key
	report  func(Rename, slog.Source)
	// reportedPC and reported hold the (old key, pc) and (old key, file,
	// line) pairs already reported.
	reportedPC, reported sync.Map
}

func newMigration(opts *Options) *migration {
	if len(opts.Legacy) == 0 && len(opts.Renames) == 0 {
		return nil
	}
	m := &migration{renames: append([]Rename(nil), opts.Renames...), report: opts.OnDeprecatedKey}
	for _, r := range m.renames {
		m.addKey(r.Old)
		m.addKey(r.New)
	}
	if len(opts.Legacy) > 0 {
		m.legacy = make(map[string]*Legacy, len(opts.Legacy))
		for i := range opts.Legacy {
			l := opts.Legacy[i]
			m.legacy[l.Event] = &l
		}
	}
	return m
}

// mayRename reports whether key could be a key of a Rename, from its
// length, first and last bytes: one bitmap lookup that settles almost every key
// of a record the migration does not concern.
func (m *migration) mayRename(key string) bool {
	if key == "" {
		return false
	}
	i := keySlot(key)
	return m.keys[i>>6]&(1<<(i&63)) != 0
}

func (m *migration) addKey(key string) {
	if key != "" {
		i := keySlot(key)
		m.keys[i>>6] |= 1 << (i & 63)
	}
}

// keySlot mixes a key's length, first and last bytes into a bitmap index.
func keySlot(key string) int {
	return (len(key)*131 + int(key[0])*31 + int(key[len(key)-1])) & (len(migration{}.keys)*64 - 1)
}

// lookup returns the Rename with key as its old key, or else as its new
// key (isNew), or nil.
func (m *migration) lookup(key string) (r *Rename, isNew bool) {
	if !m.mayRename(key) {
		return nil, false
	}
	for i := range m.renames {
		if r := &m.renames[i]; r.Old == key {
			return r, false
		}
	}
	for i := range m.renames {
		if r := &m.renames[i]; r.New == key {
			return r, true
		}
	}
	return nil, false
}

// hasOldKey reports whether a or an attribute inside it has a key of a
// Rename, old or new (a new key may need its old copy).
// hasRename reports whether a, of kind k, holds an old key to rename: its
// own, or one inside it. A nil migration renames nothing.
func (m *migration) hasRename(a slog.Attr, k slog.Kind) bool {
	return m != nil && (m.mayRename(a.Key) || k == slog.KindGroup) && m.hasOldKey(a)
}

// isRenamed reports whether key is the old or the new key of a Rename.
func (m *migration) isRenamed(key string) bool {
	r, _ := m.lookup(key)
	return r != nil
}

func (m *migration) hasOldKey(a slog.Attr) bool {
	if m.isRenamed(a.Key) {
		return true
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			if m.hasOldKey(g) {
				return true
			}
		}
	}
	return false
}

// renameAttrs returns attrs with the old keys renamed for a record at t,
// and whether it renamed any, calling seen for each old key found. While a
// Rename writes both keys, an attribute already written under the new key
// gets its old copy too, so callers that moved early break no consumer.
// When either key of a pair is secret, rd's marker is written, in every
// phase: a rename never writes a secret under a plain key.
// It returns nil and false when there is nothing to rename, so that attrs,
// often on the caller's stack, never flows into the result.
func (m *migration) renameAttrs(attrs []slog.Attr, t time.Time, rd *redactor, seen func(*Rename)) ([]slog.Attr, bool) {
	var out []slog.Attr
	for i, a := range attrs {
		r, early := m.lookup(a.Key)
		if early && r.phase(t) != RenameBoth {
			r = nil // a new key needs its old copy only while both are written
		}
		v, groupChanged := a.Value, false
		if v.Kind() == slog.KindGroup {
			var g []slog.Attr
			if g, groupChanged = m.renameAttrs(v.Group(), t, rd, seen); groupChanged {
				v = slog.GroupValue(g...)
			}
		}
		if r == nil && !groupChanged {
			if out != nil {
				out = append(out, a)
			}
			continue
		}
		if out == nil {
			out = make([]slog.Attr, i, len(attrs)+1)
			copy(out, attrs[:i])
		}
		if r == nil {
			out = append(out, slog.Attr{Key: a.Key, Value: v})
			continue
		}
		if !early {
			seen(r)
		}
		both := r.phase(t) == RenameBoth
		if rd.secretKey(r.New) || rd.secretKey(r.Old) {
			v, _ = rd.value(v, true, 0) // the marker, or the value's pseudonym
		}
		out = append(out, slog.Attr{Key: r.New, Value: v})
		if both {
			out = append(out, slog.Attr{Key: r.Old, Value: v})
		}
	}
	return out, out != nil
}

// reportOnce tells, once per old key and call site, that the site still
// writes the old key: through the callback, or as a record written with h.
// A site is marked told only once the report is out: a report that could
// not be written, or that the wrapped handler's level drops, is tried again
// at the site's next record.
func (m *migration) reportOnce(ctx context.Context, h *Handler, r *Rename, pc uintptr) {
	// Keyed by pc first, which is cheap, then by file and line: the
	// compiler may inline one call site into several pcs.
	type site struct {
		old string
		pc  uintptr
	}
	pcKey := site{r.Old, pc}
	if _, dup := m.reportedPC.LoadOrStore(pcKey, true); dup {
		return
	}
	src := sourceOf(pc)
	type line struct {
		old, file string
		line      int
	}
	lineKey := line{r.Old, src.File, src.Line}
	if _, dup := m.reported.LoadOrStore(lineKey, true); dup {
		return
	}
	if m.report != nil && m.callReport(*r, src) {
		return
	}
	if h.writeReport(ctx, r, src, pc) != nil {
		// Untold: the next record from this site tries again.
		m.reported.Delete(lineKey)
		m.reportedPC.Delete(pcKey)
	}
}

// callReport calls Options.OnDeprecatedKey and reports whether it returned
// without a panic.
func (m *migration) callReport(r Rename, src slog.Source) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	m.report(r, src)
	return true
}

// errReportDropped is writeReport's answer when the wrapped handler's level
// drops WARN records: the report is not out.
var errReportDropped = errors.New("audit: deprecation report below the handler's level")

// writeReport writes the record that tells a site writes the old key of r,
// at level WARN, if the wrapped handler takes WARN records. Its error never
// reaches the record that had the old key.
func (h *Handler) writeReport(ctx context.Context, r *Rename, src slog.Source, pc uintptr) error {
	if !h.out.base.Enabled(ctx, slog.LevelWarn) {
		return errReportDropped
	}
	rec := slog.NewRecord(time.Now(), slog.LevelWarn, "deprecated log key "+r.Old+": write "+r.New, pc)
	rec.AddAttrs(slog.String(h.c.eventKey, DeprecatedKeyEvent))
	id := ""
	if h.c.eventID {
		id = h.c.ids.next()
		rec.AddAttrs(slog.String(h.c.eventIDKey, id))
	}
	rec.AddAttrs(slog.String("old_key", r.Old), slog.String("new_key", r.New),
		slog.String("source", src.File+":"+strconv.Itoa(src.Line)))
	return h.write(ctx, &rec, true, DeprecatedKeyEvent, id)
}

func sourceOf(pc uintptr) slog.Source {
	if pc == 0 {
		return slog.Source{}
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	return slog.Source{Function: f.Function, File: f.File, Line: f.Line}
}

// callerPC returns the pc of the first caller outside log/slog and the
// Handler's own methods: the site of a slog.Logger.With call.
func callerPC() uintptr {
	var pcs [8]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "log/slog.") && !strings.HasPrefix(f.Function, "github.com/slogaudit/audit.(*") {
			return f.PC
		}
		if !more {
			return 0
		}
	}
}

// safeRender returns the legacy text of a record with message msg and
// top-level attributes attrs. When Render panics it returns the default
// layout's text, and what went wrong.
func (l *Legacy) safeRender(msg string, attrs []slog.Attr) (text, failure string) {
	if l.Render != nil {
		text, failure = l.callRender(msg, attrs)
		if failure == "" {
			return text, ""
		}
	}
	return l.render(msg, attrs), failure
}

func (l *Legacy) callRender(msg string, attrs []slog.Attr) (text, failure string) {
	defer func() {
		if p := recover(); p != nil {
			failure = fmt.Sprintf("audit: Legacy.Render panicked: %v", p)
		}
	}()
	return l.Render(msg, attrs), ""
}

// render returns the legacy text of a record with message msg and top-level
// attributes attrs in the layout of l's fields. Each field is one line: a
// line break or other control character in a value is escaped, so that no
// value can write a line that reads as another field.
func (l *Legacy) render(msg string, attrs []slog.Attr) string {
	indent := l.Indent
	if indent == "" {
		indent = "  "
	}
	var b strings.Builder
	b.WriteString(msg)
	for _, f := range l.Fields {
		a, ok := findAttr(attrs, f.Key)
		if !ok {
			continue
		}
		b.WriteByte('\n')
		b.WriteString(indent)
		b.WriteString(or(f.Label, f.Key))
		b.WriteString(": ")
		s := a.Value.Resolve().String()
		if f.Quote {
			s = strconv.Quote(s)
		} else {
			s = escapeLine(s)
		}
		b.WriteString(s)
	}
	return b.String()
}

func findAttr(attrs []slog.Attr, key string) (slog.Attr, bool) {
	for _, a := range attrs {
		if a.Key == key {
			return a, true
		}
	}
	return slog.Attr{}, false
}

// escapeLine returns s with the characters that could end or disguise a
// line (control characters, and Unicode's line and paragraph separators)
// written as Go escapes; s itself when it has none.
func escapeLine(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
