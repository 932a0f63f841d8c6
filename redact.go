package audit

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/slogaudit/audit/internal/secretscan"
)

// Redacted is the marker a [Handler] writes in place of a secret, unless
// [Options.RedactMarker] sets another.
const Redacted = "[REDACTED]"

// Secret is a string that is never written: a [Handler] writes its marker
// instead, and so do fmt, encoding/json and encoding.TextMarshaler users,
// so a Secret cannot leak through a log line, an error message or a JSON
// document either.
//
// Convert back with string(s) where the value is really needed.
//
// One route stays open, by a limit of fmt: fmt cannot call the methods of
// a value in an unexported struct field, so a Secret there is printed raw
// when the struct is formatted with fmt (as in fmt.Errorf("%+v", s)). Keep
// Secrets in exported fields, or log them directly.
type Secret string

// LogValue implements [slog.LogValuer]; it returns [Redacted].
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// String returns [Redacted].
func (Secret) String() string { return Redacted }

// Format writes [Redacted] for every verb, %#v and %q included.
func (Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		io.WriteString(f, strconv.Quote(Redacted))
		return
	}
	io.WriteString(f, Redacted)
}

// MarshalJSON returns [Redacted] as a JSON string.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText returns [Redacted].
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// maxDepth bounds the walk into nested values. What lies deeper is written
// as the marker: it was not checked, so it is not written raw.
const maxDepth = 10

// redactor holds a Handler's redaction rules. It is immutable after
// newRedactor, but for its cache of struct layouts.
type redactor struct {
	marker   string
	keys     *secretscan.Keys
	patterns []*regexp.Regexp
	types    sync.Map // reflect.Type → *typeInfo
	// style says which methods of a value the inner handler calls; set
	// once by writesTo, before the redactor is shared.
	style style
	// pseudonymKey, if set, turns whole redacted values into pseudonyms.
	pseudonymKey []byte
}

func newRedactor(opts *Options) *redactor {
	return &redactor{
		marker:       or(opts.RedactMarker, Redacted),
		keys:         secretscan.NewKeys(opts.RedactKeys, opts.AllowKeys),
		patterns:     slices.DeleteFunc(slices.Clone(opts.RedactPatterns), func(re *regexp.Regexp) bool { return re == nil }),
		pseudonymKey: slices.Clone(opts.PseudonymKey),
	}
}

// The redactor's entry points, one per kind of input (string, attribute,
// and the key rule), are safe on a nil *redactor, which is redaction
// turned off: they then change nothing.

// secretKey reports whether values under key are secret.
func (rd *redactor) secretKey(key string) bool { return rd != nil && rd.keys.Secret(key) }

// str masks the secret shapes in s and the matches of the configured
// patterns, and reports whether it changed s.
func (rd *redactor) str(s string) (string, bool) {
	if rd == nil {
		return s, false
	}
	out, changed := secretscan.Mask(s, rd.marker, rd.keys)
	for _, re := range rd.patterns {
		if re.MatchString(out) {
			out, changed = re.ReplaceAllLiteralString(out, rd.marker), true
		}
	}
	return out, changed
}

// checked is a value resolved from a LogValuer and checked, written again
// as a LogValuer that returns it. The wrapped handler then treats it as it
// would the caller's LogValuer (slog keeps a LogValuer that resolves to an
// empty group, where it drops an empty group), so that the output is the
// same as without this package, yet what it writes is what was checked: the
// caller's LogValue is called once, and a second call that returns
// something else is never made.
type checked struct{ v slog.Value }

// LogValue implements slog.LogValuer.
func (c checked) LogValue() slog.Value { return c.v }

// checkedValue returns v, resolved and checked, as a LogValuer; a string,
// number or other scalar needs no wrapping, since slog writes it the same
// either way.
func checkedValue(v slog.Value) slog.Value {
	if v.Kind() != slog.KindGroup && v.Kind() != slog.KindAny {
		return v
	}
	return slog.AnyValue(checked{v})
}

// groupValue returns a group of attrs, keeping their empty groups, which
// slog.GroupValue would drop: the wrapped handler drops or writes them as it
// would have in the caller's value, so output stays the same.
func groupValue(attrs []slog.Attr) slog.Value {
	for i, a := range attrs {
		if a.Value.Kind() == slog.KindGroup && len(a.Value.Group()) == 0 {
			attrs[i].Value = slog.AnyValue(checked{a.Value})
		}
	}
	return slog.GroupValue(attrs...)
}

// dirty reports whether redaction would change a, whose value is of kind k
// (inSecret: a lies inside a group whose key is secret). Keys, scalars and
// strings are settled without a call into the general walk, and nothing
// is built.
func (rd *redactor) dirty(a slog.Attr, k slog.Kind, inSecret bool) bool {
	if rd == nil {
		return false
	}
	if len(rd.patterns) > 0 || inSecret {
		_, changed := rd.attr(a, inSecret)
		return changed
	}
	return rd.dirtyKey(a.Key) || rd.dirtyValue(a.Value, k)
}

// dirtyValue reports whether redaction would change v, of kind k, under a
// key that is neither secret nor changed itself.
func (rd *redactor) dirtyValue(v slog.Value, k slog.Kind) bool {
	switch {
	case rd == nil:
		return false
	case k == slog.KindString && len(rd.patterns) == 0:
		return secretscan.Contains(v.String(), rd.marker, rd.keys)
	case k == slog.KindInt64, k == slog.KindUint64, k == slog.KindFloat64, k == slog.KindBool, k == slog.KindDuration, k == slog.KindTime:
		return false
	}
	_, changed := rd.value(v, false, 0)
	return changed
}

// attr returns a with every secret in it replaced by the marker, and
// whether anything changed. inSecret means a is inside a group whose key is
// secret, so every value in it is. Keys are scanned for secret shapes too: a
// connection string used as a key is still a connection string. When
// nothing changes attr returns a itself and allocates nothing, so that
// clean records stay byte-identical and cheap. LogValuers are resolved (so
// their raw value cannot slip past) and count as a change: the resolved
// value must be the one written.
func (rd *redactor) attr(a slog.Attr, inSecret bool) (slog.Attr, bool) {
	if rd == nil {
		return a, false
	}
	key, keyChanged := rd.str(a.Key)
	v, changed := rd.value(a.Value, inSecret || rd.secretKey(a.Key), 0)
	if !changed && !keyChanged {
		return a, false
	}
	return slog.Attr{Key: key, Value: v}, true
}

// value returns v redacted, and whether it changed. secret means v is
// under a secret key. Strings, the most common value, are settled here
// without a further call.
func (rd *redactor) value(v slog.Value, secret bool, depth int) (slog.Value, bool) {
	switch v.Kind() {
	case slog.KindString:
		if secret {
			return rd.secretScalar(v), true
		}
		if s, ok := rd.str(v.String()); ok {
			return slog.StringValue(s), true
		}
		return v, false
	case slog.KindGroup:
		return rd.group(v, secret, depth)
	case slog.KindLogValuer:
		return rd.logValuer(v, secret, depth)
	case slog.KindAny:
		return rd.kindAny(v, secret, depth)
	default:
		// Numbers, bools, times and durations hold no text to mask, but
		// under a secret key they are still the secret.
		if secret {
			return rd.secretScalar(v), true
		}
		return v, false
	}
}

// secretScalar is what is written for a string, number, bool, time or
// duration under a secret key: the marker, or the pseudonym of the text
// [Pseudonym] documents for it, so that a reader can search for it.
func (rd *redactor) secretScalar(v slog.Value) slog.Value {
	if len(rd.pseudonymKey) == 0 {
		return slog.StringValue(rd.marker)
	}
	return slog.StringValue(rd.redact(v.String()))
}

// logValuer resolves v so that its raw value cannot slip past, and marks
// the result checked so that the handler does not resolve it again. A
// Secret is redacted without being resolved: its LogValue is the fixed
// marker, not the pseudonym. Resolution stops at maxDepth, because a
// LogValuer may return itself.
func (rd *redactor) logValuer(v slog.Value, secret bool, depth int) (slog.Value, bool) {
	if s, ok := v.LogValuer().(Secret); ok {
		return slog.StringValue(rd.redact(string(s))), true
	}
	if depth >= maxDepth {
		return slog.StringValue(rd.marker), true
	}
	r, _ := rd.value(v.Resolve(), secret, depth+1)
	return checkedValue(r), true
}

// kindAny redacts the value of slog.Any. Under a secret key the whole
// value is the secret, whatever it holds, so it is not walked.
func (rd *redactor) kindAny(v slog.Value, secret bool, depth int) (slog.Value, bool) {
	if name, ok := v.Any().(eventName); ok {
		// Not where a Handler takes it for the record's event (those
		// are taken out before redaction): a string like any other.
		if r, changed := rd.value(slog.StringValue(string(name)), secret, depth); changed {
			return r, true
		}
		return v, false
	}
	if secret {
		if v.Any() != nil {
			w := walker{rd: rd}
			return w.secretValue(reflect.ValueOf(v.Any())), true
		}
		return v, false
	}
	return rd.anyValue(v, depth)
}

// group redacts the attributes of a group value, keeping its keys. It
// copies the attributes only once the first one changes.
func (rd *redactor) group(v slog.Value, secret bool, depth int) (slog.Value, bool) {
	attrs := v.Group()
	if depth >= maxDepth {
		if len(attrs) == 0 {
			return v, false
		}
		return slog.StringValue(rd.marker), true
	}
	var out []slog.Attr
	for i, a := range attrs {
		key, keyChanged := rd.str(a.Key)
		r, changed := rd.value(a.Value, secret || rd.secretKey(a.Key), depth+1)
		if (changed || keyChanged) && out == nil {
			out = make([]slog.Attr, i, len(attrs))
			copy(out, attrs[:i])
		}
		if out != nil {
			out = append(out, slog.Attr{Key: key, Value: r})
		}
	}
	if out == nil {
		return v, false
	}
	return groupValue(out), true
}

// redact returns what a Handler writes in place of a secret value whose
// text is s: the marker, or the pseudonym of s when a key is configured.
// A value that is already the marker or a pseudonym stays as it is, so
// that redacting twice (a rename, nested Handlers) changes nothing.
func (rd *redactor) redact(s string) string {
	switch {
	case len(rd.pseudonymKey) == 0:
		return rd.marker
	case s == rd.marker || isPseudonym(s):
		return s
	}
	return Pseudonym(rd.pseudonymKey, s)
}

// PseudonymPrefix begins every pseudonym; see [Pseudonym].
const PseudonymPrefix = "hmac-sha256:"

// Pseudonym returns what a [Handler] whose [Options.PseudonymKey] is key
// writes in place of a redacted value whose text is value: [PseudonymPrefix]
// followed by the first 16 bytes of HMAC-SHA256(key, value) in lowercase
// hex, 44 characters in all. Use it to search the log for a known secret
// without writing that secret into the query.
//
// The text of a value is the string itself for strings, [Secret] values and
// byte slices, and [slog.Value.String]'s form for numbers, bools, times and
// durations (so the pseudonym of the number 42 is Pseudonym(key, "42")).
// Every other value (structs, maps, private keys) is written as the marker.
//
// 128 bits keep pseudonyms short and still make a collision between two
// different secrets as unlikely as guessing the key.
func Pseudonym(key []byte, value string) string {
	m := hmac.New(sha256.New, key)
	io.WriteString(m, value)
	var sum [sha256.Size]byte
	var out [len(PseudonymPrefix) + 32]byte
	copy(out[:], PseudonymPrefix)
	hex.Encode(out[len(PseudonymPrefix):], m.Sum(sum[:0])[:16])
	return string(out[:])
}

// MatchPseudonym reports whether pseudonym is [Pseudonym](key, value). It
// compares in constant time, so that timing tells nothing about how much of
// a guess was right.
func MatchPseudonym(key []byte, value, pseudonym string) bool {
	return hmac.Equal([]byte(Pseudonym(key, value)), []byte(pseudonym))
}

func isPseudonym(s string) bool {
	if len(s) != len(PseudonymPrefix)+32 || !strings.HasPrefix(s, PseudonymPrefix) {
		return false
	}
	for i := len(PseudonymPrefix); i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// anyValue looks inside the value of slog.Any: Secrets, errors and other
// values that render their own text, and the maps, structs, pointers,
// slices and arrays that handlers marshal. A value with a secret in it is
// rewritten (structs and maps as groups, so that handlers write them as
// objects); one without is returned as is, unless the inner handler would
// call a method of it to write it (see [style]).
func (rd *redactor) anyValue(v slog.Value, depth int) (slog.Value, bool) {
	switch x := v.Any().(type) {
	case nil:
		return v, false
	case Secret:
		return slog.StringValue(rd.redact(string(x))), true
	case string:
		if s, ok := rd.str(x); ok {
			return slog.StringValue(s), true
		}
		return v, false
	}
	if depth >= maxDepth {
		return slog.StringValue(rd.marker), true
	}
	if rd.cleanMap(v.Any()) {
		return v, false
	}
	return rd.walkAny(v, depth)
}

// cleanMap reports whether x is one of the two map types applications log
// most, holding only plain values and no secret: those are settled without
// reflection, and only one holding a secret, or more than plain values,
// goes through the walker.
func (rd *redactor) cleanMap(x any) bool {
	switch x := x.(type) {
	case map[string]string:
		for k, s := range x {
			if rd.dirtyKey(k) || rd.dirtyString(s) {
				return false
			}
		}
		return true
	case map[string]any:
		for k, e := range x {
			if !rd.cleanEntry(k, e) {
				return false
			}
		}
		return true
	}
	return false
}

// cleanEntry reports whether an entry of a map[string]any is written as is:
// a plain value without a secret shape, not under a secret key (a nil
// value is written as null whatever its key).
func (rd *redactor) cleanEntry(k string, e any) bool {
	if rd.dirtyKey(k) && e != nil {
		return false
	}
	switch e := e.(type) {
	case nil, bool, int, int64, float64, json.Number:
		return true
	case string:
		return !rd.dirtyString(e)
	}
	return false
}

func (rd *redactor) walkAny(v slog.Value, depth int) (slog.Value, bool) {
	w := walker{rd: rd}
	return w.top(v, depth)
}

// dirtyKey reports whether a map key or field name makes its value secret
// or is itself a secret shape.
func (rd *redactor) dirtyKey(k string) bool {
	return rd.secretKey(k) || rd.dirtyString(k)
}

// dirtyString reports whether s holds a secret shape or a pattern match.
// Strings too short for any shape, or with no anchor, are settled without
// building the masker.
func (rd *redactor) dirtyString(s string) bool {
	if rd == nil {
		return false
	}
	if len(rd.patterns) == 0 {
		return secretscan.Contains(s, rd.marker, rd.keys)
	}
	_, changed := rd.str(s)
	return changed
}

// style is what the inner handler does to write a value of kind Any: which
// of its methods it calls. "What is written is what was checked": the
// redactor calls those methods itself, each once, checks what they
// returned, and passes that on in place of the value, so that a method
// whose result changes between calls cannot slip a secret past the check,
// and no method is called that the handler would not call (a String method
// that takes a lock its caller holds would otherwise deadlock the log
// call).
type style uint8

const (
	// styleAny is a handler of unknown kind, the default. The redactor
	// calls what either standard handler could (Error, MarshalJSON,
	// MarshalText and fmt's %+v, which calls Format, Error or String),
	// each once per check and with panics recovered, and replaces a value
	// when any of those holds a secret or panics. A clean value is passed
	// on as it is, and the handler calls its methods again.
	styleAny style = iota
	// styleJSON is [slog.JSONHandler]: an error that is not a
	// json.Marshaler is written as its Error text; anything else as
	// encoding/json writes it, calling MarshalJSON, else MarshalText, at
	// every level (map keys: MarshalText).
	styleJSON
	// styleText is [slog.TextHandler] and the replica of slog's default
	// handler: MarshalText at the top level, else fmt's %+v, which calls
	// Format, else Error, else String, at every level it can reach.
	styleText
)

// styleOf returns the style of h. A Handler wrapping another is written in
// the style of the one that writes.
func styleOf(h slog.Handler) style {
	switch h := h.(type) {
	case *slog.JSONHandler:
		return styleJSON
	case *slog.TextHandler:
		return styleText
	case *Handler:
		return styleOf(h.out.inner)
	}
	if t := reflect.TypeOf(h); t != nil && t.Kind() == reflect.Pointer && t.Elem().PkgPath() == stdlogPath {
		return styleText
	}
	return styleAny
}

var stdlogPath = reflect.TypeOf(redactor{}).PkgPath() + "/internal/stdlog"

// writesTo tells the redactor the handler it writes to, so that it calls
// the methods that handler would call. Safe on a nil *redactor.
func (rd *redactor) writesTo(inner slog.Handler) {
	if rd != nil {
		rd.style = styleOf(inner)
	}
}

// Panics and errors of a value's methods are written as fixed texts in
// slog's form, without their message, which can carry the secret the
// method was handling. A method called on a nil pointer that panics gives
// "<nil>", as in slog and fmt.
const (
	panicText = "!PANIC: "
	errorText = "!ERROR:"
)

// call runs f, which calls one method of x, and returns its text; a panic
// or an error is replaced by the fixed texts above.
func (rd *redactor) call(x any, f func() (string, error)) (s string, failed bool) {
	defer func() {
		if p := recover(); p != nil {
			if v := reflect.ValueOf(x); v.Kind() == reflect.Pointer && v.IsNil() {
				s = "<nil>"
			} else {
				s = panicText + rd.marker
			}
			failed = true
		}
	}()
	s, err := f()
	if err != nil {
		return errorText + rd.errorMessage(err), true
	}
	return s, false
}

// errorMessage is the text of an error returned by a marshal method. Only
// encoding/json's own complaints about types and values are kept: they
// name types, never contents.
func (rd *redactor) errorMessage(err error) string {
	var te *json.UnsupportedTypeError
	var ve *json.UnsupportedValueError
	if errors.As(err, &te) || errors.As(err, &ve) {
		return err.Error()
	}
	return rd.marker
}

func (rd *redactor) errorOf(e error) string {
	s, _ := rd.call(e, func() (string, error) { return e.Error(), nil })
	return s
}

func (rd *redactor) textOf(m encoding.TextMarshaler) string {
	s, _ := rd.call(m, func() (string, error) { b, err := m.MarshalText(); return string(b), err })
	return s
}

// sprint is x as the text handler writes it, fmt's %+v. fmt recovers the
// panics of the methods it calls and writes their message; that message is
// cut out.
func (rd *redactor) sprint(x any) string {
	s, _ := rd.call(x, func() (string, error) { return fmt.Sprintf("%+v", x), nil })
	if i := strings.Index(s, "(PANIC="); i >= 0 {
		j := strings.Index(s[i:], " method: ")
		if j < 0 {
			j = len("(PANIC=")
		} else {
			j += len(" method: ")
		}
		s = s[:i+j] + rd.marker + ")"
	}
	return s
}

// marshalJSON is x as encoding/json writes it for slog.JSONHandler: HTML
// left unescaped, no trailing newline. ok is false when the text is a
// panic or error text instead of JSON.
func (rd *redactor) marshalJSON(x any) (b []byte, text string, ok bool) {
	s, failed := rd.call(x, func() (string, error) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			return "", err
		}
		b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		return "", nil
	})
	if failed {
		return nil, s, false
	}
	return b, "", true
}

// document redacts the JSON document b by key and by value, and returns it
// as the value to write: the redacted document, or b itself when it holds
// nothing secret (the JSON handler then writes b byte for byte).
func (rd *redactor) document(b []byte, depth int) (slog.Value, bool) {
	doc, ok := decodeDocument(b)
	if !ok {
		if t := bytes.TrimSpace(b); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			// A document whose keys cannot be read cannot be checked by
			// key: the text handler would write it raw.
			return slog.StringValue(rd.marker), true
		}
		if s, changed := rd.str(string(b)); changed {
			return slog.StringValue(s), true
		}
		return slog.AnyValue(json.RawMessage(b)), false
	}
	if r, changed := rd.value(doc, false, depth+1); changed {
		return r, true
	}
	return slog.AnyValue(json.RawMessage(b)), false
}

// decodeDocument decodes one JSON document into a Value that handlers
// write as the same document: objects as groups (in their order),
// numbers as written.
func decodeDocument(b []byte) (slog.Value, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := documentValue(dec)
	if err != nil {
		return slog.Value{}, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return slog.Value{}, false
	}
	return v, true
}

func documentValue(dec *json.Decoder) (slog.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return slog.Value{}, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '{' {
			var attrs []slog.Attr
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return slog.Value{}, err
				}
				key, _ := kt.(string)
				v, err := documentValue(dec)
				if err != nil {
					return slog.Value{}, err
				}
				attrs = append(attrs, slog.Attr{Key: key, Value: v})
			}
			if _, err := dec.Token(); err != nil {
				return slog.Value{}, err
			}
			if len(attrs) == 0 {
				// An empty group vanishes; an empty map is written {}.
				return slog.AnyValue(map[string]any{}), nil
			}
			return slog.GroupValue(attrs...), nil
		}
		list := []any{}
		for dec.More() {
			v, err := documentValue(dec)
			if err != nil {
				return slog.Value{}, err
			}
			list = append(list, plain(v))
		}
		if _, err := dec.Token(); err != nil {
			return slog.Value{}, err
		}
		return slog.AnyValue(list), nil
	case string:
		return slog.StringValue(tok), nil
	case json.Number:
		return slog.AnyValue(tok), nil
	case bool:
		return slog.BoolValue(tok), nil
	}
	return slog.AnyValue(nil), nil
}

// renderings returns every text x renders of itself for the handlers of
// unknown style, each method called once, in the order a replacement
// prefers them: the error text, the String result, the text and JSON
// marshalling, and fmt's %+v. failed reports a method that panicked or
// failed: its text must not be left to the handler to write.
func (rd *redactor) renderings(x any) (texts []string, doc []byte, failed bool) {
	add := func(s string, bad bool) {
		texts = append(texts, s)
		failed = failed || bad
	}
	if e, ok := x.(error); ok {
		add(rd.call(e, func() (string, error) { return e.Error(), nil }))
	}
	if s, ok := x.(fmt.Stringer); ok {
		add(rd.call(s, func() (string, error) { return s.String(), nil }))
	}
	if m, ok := x.(encoding.TextMarshaler); ok {
		add(rd.call(m, func() (string, error) { b, err := m.MarshalText(); return string(b), err }))
	}
	if m, ok := x.(json.Marshaler); ok {
		s, bad := rd.call(m, func() (string, error) { b, err := m.MarshalJSON(); return string(b), err })
		add(s, bad)
		if !bad {
			doc = []byte(s)
		}
	}
	s := rd.sprint(x)
	add(s, strings.Contains(s, "(PANIC="))
	return texts, doc, failed
}

// walker walks a value by reflection, once: each value is visited a single
// time, and the redacted copy is built as the walk goes, from the first
// change on. path holds the pointers, maps and slices on the way down:
// coming back to one is a cycle.
type walker struct {
	rd   *redactor
	path []uintptr
}

// walkFlags say what a walk found in a value.
type walkFlags uint8

const (
	// walkChanged: the returned Value replaces the value walked.
	walkChanged walkFlags = 1 << iota
	// walkMethods: nothing to redact, but the handler would call a method of
	// something in the value; it is resolved before it is written.
	walkMethods
)

// walkAt is the position of a value, which decides the methods that
// handlers call on it.
type walkAt uint8

const (
	walkTop    walkAt = iota // the value of an attribute
	walkInside               // a field, element, entry or pointee
	walkFields               // its own methods are already dealt with: its fields only
)

var (
	secretType      = reflect.TypeOf(Secret(""))
	slogValueType   = reflect.TypeOf(slog.Value{})
	slogAttrType    = reflect.TypeOf(slog.Attr{})
	rawJSONType     = reflect.TypeOf(json.RawMessage(nil))
	reflectValType  = reflect.TypeOf(reflect.Value{})
	cookieType      = reflect.TypeOf(http.Cookie{})
	urlType         = reflect.TypeOf(url.URL{})
	userinfoType    = reflect.TypeOf(url.Userinfo{})
	privateKeyIface = reflect.TypeOf((*interface {
		Public() crypto.PublicKey
		Equal(crypto.PrivateKey) bool
	})(nil)).Elem()

	errorType     = reflect.TypeOf((*error)(nil)).Elem()
	stringerType  = reflect.TypeOf((*fmt.Stringer)(nil)).Elem()
	formatterType = reflect.TypeOf((*fmt.Formatter)(nil)).Elem()
	textType      = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
	jsonType      = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
)

// inert are types whose methods are the standard library's own, pure and
// lock-free, and whose text holds no secret: the walk treats them as
// scalars and never calls their methods. Read only.
var inert = typeSet(time.Time{}, time.Duration(0), time.Month(0), time.Weekday(0), (*time.Location)(nil), time.Location{},
	slog.Level(0), netip.Addr{}, netip.AddrPort{}, netip.Prefix{}, net.IP(nil), net.IPMask(nil), big.NewInt(0))

// pureErrors are error types of the standard library whose Error text is
// fixed when the error is made: checking it and leaving the handler to
// write it is the same as writing the checked text. Read only.
var pureErrors = typeSet(errors.New(""), fmt.Errorf("%w", io.EOF), fmt.Errorf("%w%w", io.EOF, io.EOF),
	syscall.Errno(0), context.DeadlineExceeded)

// typeSet returns the set of the dynamic types of xs.
func typeSet(xs ...any) map[reflect.Type]bool {
	set := make(map[reflect.Type]bool, len(xs))
	for _, x := range xs {
		set[reflect.TypeOf(x)] = true
	}
	return set
}

// special kinds of types the walk knows by type.
type special uint8

const (
	notSpecial special = iota
	isSecret
	isInert
	isSlog
	isReflectValue
	isRawJSON
	isCookie
	isPrivateKey
	isPureError
	isURL
	isUserinfo
)

// typeInfo is what the walk needs of a type, computed once per type and
// redactor.
type typeInfo struct {
	special special
	// renders: the handler calls a method to write a value of the type
	// there, in the redactor's style.
	rendersAtTop, rendersInside bool
	// rendersKey: the same as a map key.
	rendersKey bool
	fields     []structField // for structs: the fields encoding/json writes
	hidden     []structField // and those only fmt prints
}

type structField struct {
	index     []int
	name      string // the json name, else the Go name
	secret    bool   // the Go name, the json name or an embedding field's name is a secret key
	omitEmpty bool
	omitZero  bool
}

func implements(t, it reflect.Type) bool {
	return t.Implements(it) || t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(it)
}

// info returns what the walk needs of t, computed once per type and
// redactor, because the walk runs for every non-scalar value logged.
func (rd *redactor) info(t reflect.Type) *typeInfo {
	if ti, ok := rd.types.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti := &typeInfo{special: specialOf(t)}
	ti.rendersAtTop, ti.rendersInside, ti.rendersKey = rd.renders(t)
	if t.Kind() == reflect.Struct {
		ti.fields, ti.hidden = rd.structFields(t)
	}
	rd.types.Store(t, ti)
	return ti
}

// specialOf returns how the walk knows t by type, if it does: these types
// are handled by what they are, not by their methods or contents.
func specialOf(t reflect.Type) special {
	switch {
	case t == secretType:
		return isSecret
	case inert[t]:
		return isInert
	case t == slogValueType || t == slogAttrType:
		return isSlog
	case t == reflectValType:
		return isReflectValue
	case t == rawJSONType:
		return isRawJSON
	case isOrPointsTo(t, cookieType):
		return isCookie
	case implements(t, privateKeyIface):
		return isPrivateKey
	case pureErrors[t]:
		return isPureError
	case isOrPointsTo(t, urlType):
		return isURL
	case isOrPointsTo(t, userinfoType):
		return isUserinfo
	}
	return notSpecial
}

// isOrPointsTo reports whether t is target or a pointer to it: the walk
// writes both the same way.
func isOrPointsTo(t, target reflect.Type) bool {
	return t == target || t.Kind() == reflect.Pointer && t.Elem() == target
}

// renders reports whether the redactor's inner handler calls a method of
// a value of type t to write it: as an attribute's value (atTop), inside
// another value (inside), and as a map key (key). Each style calls
// different methods, and the walk must know which, so that what is
// written is what was checked.
func (rd *redactor) renders(t reflect.Type) (atTop, inside, key bool) {
	fmtCalls := t.Implements(formatterType) || t.Implements(errorType) || t.Implements(stringerType)
	switch rd.style {
	case styleJSON:
		inside = implements(t, jsonType) || implements(t, textType)
		atTop = inside || t.Implements(errorType)
		// Map keys are not addressable: only the key type's own methods.
		key = t.Kind() != reflect.String && t.Implements(textType)
	case styleText:
		inside = fmtCalls
		atTop = fmtCalls || t.Implements(textType)
		key = fmtCalls
	default:
		inside = fmtCalls || implements(t, jsonType) || implements(t, textType)
		atTop = inside
		key = fmtCalls || t.Implements(jsonType) || t.Implements(textType)
	}
	return atTop, inside, key
}

// fieldCandidate is a field that encoding/json may write, before the
// conflicts between fields of one name are settled.
type fieldCandidate struct {
	structField
	depth  int  // of embedding: the shallower field wins
	tagged bool // named by a json tag: wins over an untagged one
}

// embedLevel is a struct whose fields are promoted into the struct being
// listed, found by encoding/json's breadth-first walk.
type embedLevel struct {
	t      reflect.Type
	index  []int
	secret bool
	twice  bool // embedded twice at this depth: its fields annihilate
}

// fieldScan is the state of one structFields call, kept together so that
// each step of encoding/json's walk over embedded structs is one method.
type fieldScan struct {
	rd      *redactor
	cands   []fieldCandidate
	hidden  []structField
	visited map[reflect.Type]bool
	depth   int
	next    []embedLevel         // the structs to scan at depth+1
	seen    map[reflect.Type]int // their indexes in next, by type
}

// structFields lists the fields of struct type t that encoding/json writes,
// in its order and under its names: fields of embedded structs are
// promoted, and of two fields with one name the shallower wins, then the
// one with a json tag; otherwise neither is written. The fields it does not
// write but fmt prints (unexported, json:"-", lost conflicts) are hidden,
// checked but never written.
func (rd *redactor) structFields(t reflect.Type) (fields, hidden []structField) {
	s := fieldScan{rd: rd, visited: map[reflect.Type]bool{}}
	s.scan(t)
	slices.SortStableFunc(s.cands, compareCandidates)
	fields, hidden = dominantFields(s.cands, s.hidden)
	slices.SortFunc(fields, func(a, b structField) int { return slices.Compare(a.index, b.index) })
	return fields, hidden
}

// scan visits t and the structs embedded in it breadth first, as
// encoding/json does, because the depth of a field decides which of two
// with one name is written. A struct already visited is not scanned again:
// its fields at the shallower depth win.
func (s *fieldScan) scan(t reflect.Type) {
	current := []embedLevel{{t: t}}
	for s.depth = 0; len(current) > 0; s.depth++ {
		s.next, s.seen = nil, map[reflect.Type]int{}
		for _, l := range current {
			if s.visited[l.t] {
				continue
			}
			s.visited[l.t] = true
			for i := 0; i < l.t.NumField(); i++ {
				s.field(l, l.t.Field(i), append(l.index[:len(l.index):len(l.index)], i))
			}
		}
		current = s.next
	}
}

// field sorts one field of an embedded level: hidden when encoding/json
// skips it, to scan next when it is an embedded struct without a name, a
// candidate otherwise. Its value is secret when its Go name, its json name
// or the name of a struct embedding it is a secret key.
func (s *fieldScan) field(l embedLevel, sf reflect.StructField, index []int) {
	secret := l.secret || s.rd.secretKey(sf.Name)
	ft := sf.Type
	if sf.Anonymous && ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	embedsStruct := sf.Anonymous && ft.Kind() == reflect.Struct
	tag := sf.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	if tag != "-" && name != "" {
		secret = secret || s.rd.secretKey(name)
	}
	if tag == "-" || !sf.IsExported() && !embedsStruct {
		s.hidden = append(s.hidden, structField{index: index, secret: secret})
		return
	}
	if !validTagName(name) {
		name = ""
	}
	if name == "" && embedsStruct {
		s.embed(embedLevel{t: ft, index: index, secret: secret})
		return
	}
	s.candidate(l, structField{index: index, name: name, secret: secret,
		omitEmpty: hasOption(opts, "omitempty"), omitZero: hasOption(opts, "omitzero")}, sf.Name)
}

// candidate adds f, named by its json tag if it has one, else by its Go
// name. A field of a struct embedded twice at one depth is added twice, so
// that it loses to its twin when conflicts are settled.
func (s *fieldScan) candidate(l embedLevel, f structField, goName string) {
	c := fieldCandidate{structField: f, depth: s.depth, tagged: f.name != ""}
	if c.name == "" {
		c.name = goName
	}
	s.cands = append(s.cands, c)
	if l.twice {
		s.cands = append(s.cands, c)
	}
}

// embed queues an embedded struct for the next depth. One embedded twice
// at a depth is queued once and marked, because encoding/json writes none
// of its fields: each conflicts with its twin.
func (s *fieldScan) embed(l embedLevel) {
	if n, ok := s.seen[l.t]; ok {
		s.next[n].twice = true
		return
	}
	s.seen[l.t] = len(s.next)
	s.next = append(s.next, l)
}

// compareCandidates orders candidates by name, then dominance: shallower
// first, then tagged first, so that the first of each name is the only
// one that can win.
func compareCandidates(a, b fieldCandidate) int {
	if c := strings.Compare(a.name, b.name); c != 0 {
		return c
	}
	if a.depth != b.depth {
		return a.depth - b.depth
	}
	if a.tagged != b.tagged {
		if a.tagged {
			return -1
		}
		return 1
	}
	return 0
}

// dominantFields settles each name among the sorted candidates: the first
// is written if it dominates the second, and every other is hidden, since
// fmt still prints it.
func dominantFields(cands []fieldCandidate, hidden []structField) (fields, _ []structField) {
	for i := 0; i < len(cands); {
		j := i + 1
		for j < len(cands) && cands[j].name == cands[i].name {
			j++
		}
		group := cands[i:j]
		win := len(group) == 1 || group[1].depth > group[0].depth ||
			group[0].tagged && !group[1].tagged
		for k, c := range group {
			if k == 0 && win {
				fields = append(fields, c.structField)
			} else {
				hidden = append(hidden, c.structField)
			}
		}
		i = j
	}
	return fields, hidden
}

// validTagName reports whether encoding/json accepts name as a key.
func validTagName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

func hasOption(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}

// top redacts the value of an attribute.
func (w *walker) top(v slog.Value, depth int) (slog.Value, bool) {
	x := v.Any()
	rv := reflect.ValueOf(x)
	if w.rd.info(rv.Type()).special == notSpecial {
		switch w.rd.style {
		case styleJSON:
			if _, jm := x.(json.Marshaler); !jm {
				if e, ok := x.(error); ok {
					s, _ := w.rd.str(w.rd.errorOf(e))
					return slog.StringValue(s), true
				}
			}
		case styleText:
			if m, ok := x.(encoding.TextMarshaler); ok {
				s, _ := w.rd.str(w.rd.textOf(m))
				return slog.StringValue(s), true
			}
		}
	}
	r, fl := w.walk(rv, depth, walkTop)
	switch {
	case fl&walkChanged != 0:
		return r, true
	case fl&walkMethods != 0:
		return w.resolve(rv, depth), true
	}
	return v, false
}

// resolve renders rv as the inner handler would, calling its methods once,
// and returns the checked rendering to write in its place. Only for the
// JSON and text styles.
func (w *walker) resolve(rv reflect.Value, depth int) slog.Value {
	x := rv.Interface()
	if w.rd.style == styleJSON {
		if rv.Kind() != reflect.Pointer && rv.CanAddr() {
			// encoding/json calls pointer methods of addressable values.
			x = rv.Addr().Interface()
		}
		b, text, ok := w.rd.marshalJSON(x)
		if !ok {
			return slog.StringValue(text)
		}
		v, _ := w.rd.document(b, depth)
		return v
	}
	s, _ := w.rd.str(w.rd.sprint(x))
	return slog.StringValue(s)
}

// walk returns the redacted form of rv and what it found; the Value is
// meaningful only with the changed flag. It tries, in the order in which
// the handler would decide how to write rv: the types known by type, then
// the methods the handler would call, then the contents.
func (w *walker) walk(rv reflect.Value, depth int, at walkAt) (slog.Value, walkFlags) {
	if !rv.IsValid() {
		return slog.Value{}, 0
	}
	ti := w.rd.info(rv.Type())
	if ti.special != notSpecial {
		if v, fl, done := w.byType(rv, ti.special, depth, at); done {
			return v, fl
		}
	}
	if v, fl, done := w.byMethods(rv, ti, depth, at); done {
		return v, fl
	}
	return w.contents(rv, depth, at)
}

// isNil reports whether rv is a nil pointer, interface, map or slice: the
// kinds that handlers write as null or <nil> without looking further.
// Channels and funcs are not among them, as before.
func isNil(rv reflect.Value) bool {
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return rv.IsNil()
	}
	return false
}

// byType deals with the types whose handling the walk knows from the type
// alone, because their methods or contents say nothing reliable about
// what is written. done is false for a URL or error that is to be walked
// as any other value.
func (w *walker) byType(rv reflect.Value, sp special, depth int, at walkAt) (v slog.Value, fl walkFlags, done bool) {
	switch sp {
	case isSecret:
		return slog.StringValue(w.rd.redact(rv.String())), walkChanged, true
	case isSlog:
		v, fl = w.slogValue(rv, depth)
		return v, fl, true
	case isReflectValue:
		v, fl = w.reflectValue(rv, depth, at)
		return v, fl, true
	case isRawJSON:
		v, fl = w.rawJSON(rv, depth)
		return v, fl, true
	case isCookie:
		if isNil(rv) {
			return slog.Value{}, 0, true
		}
		return w.cookie(reflect.Indirect(rv)), walkChanged, true
	case isPrivateKey:
		if isNil(rv) {
			return slog.Value{}, 0, true
		}
		return slog.StringValue(w.rd.marker), walkChanged, true
	case isURL:
		return w.urlValue(rv)
	case isUserinfo:
		return w.userinfoValue(rv)
	case isPureError:
		return w.pureError(rv, at)
	case isInert:
		return slog.Value{}, 0, true // written as a scalar
	}
	return slog.Value{}, 0, false
}

// slogValue redacts a slog.Value or slog.Attr held in a value: slog
// resolves and writes these itself, raw, so they are redacted as slog
// values.
func (w *walker) slogValue(rv reflect.Value, depth int) (slog.Value, walkFlags) {
	if !rv.CanInterface() {
		return slog.Value{}, 0
	}
	v, ok := rv.Interface().(slog.Value)
	if !ok {
		v = slog.GroupValue(rv.Interface().(slog.Attr))
	}
	r, ch := w.rd.value(v, false, depth+1)
	if ch {
		return r, walkChanged
	}
	return slog.Value{}, 0
}

// reflectValue walks what a reflect.Value holds, because that is what fmt
// prints.
func (w *walker) reflectValue(rv reflect.Value, depth int, at walkAt) (slog.Value, walkFlags) {
	if !rv.CanInterface() {
		return slog.Value{}, 0
	}
	held := rv.Interface().(reflect.Value)
	if held.IsValid() && !held.CanInterface() {
		// Reached through an unexported field: not printable by its
		// methods, but its contents are, so walk them.
		return w.walk(held, depth+1, walkFields)
	}
	return w.walk(held, depth+1, at)
}

// urlValue checks a URL as its text, which holds the password, if any:
// whatever the handler writes, a URL is best logged as that text, and
// url.URL's String is the standard library's, pure, so it is called
// whatever the style. done is false when the text is clean, so that the
// URL is walked as any other value.
func (w *walker) urlValue(rv reflect.Value) (v slog.Value, fl walkFlags, done bool) {
	if isNil(rv) || !rv.CanInterface() {
		return slog.Value{}, 0, false
	}
	var u *url.URL
	if rv.Kind() == reflect.Pointer {
		u = rv.Interface().(*url.URL)
	} else {
		uv := rv.Interface().(url.URL)
		u = &uv
	}
	if s, ch := w.rd.str(u.String()); ch {
		return slog.StringValue(s), walkChanged, true
	}
	return slog.Value{}, 0, false
}

// userinfoValue writes the user part of a URL, whose text is
// "user:password", with the user name kept, for the audit trail, and the
// password never.
func (w *walker) userinfoValue(rv reflect.Value) (v slog.Value, fl walkFlags, done bool) {
	if isNil(rv) || !rv.CanInterface() {
		return slog.Value{}, 0, false
	}
	var u *url.Userinfo
	if rv.Kind() == reflect.Pointer {
		u = rv.Interface().(*url.Userinfo)
	} else {
		uv := rv.Interface().(url.Userinfo)
		u = &uv
	}
	if p, ok := u.Password(); ok {
		return slog.StringValue(url.User(u.Username()).String() + ":" + w.rd.redact(p)), walkChanged, true
	}
	return slog.Value{}, 0, false
}

// pureError checks a standard library error by its message where the
// handler writes that message; done is false inside a JSON value, where
// the handler marshals the error's fields instead, so they are walked.
func (w *walker) pureError(rv reflect.Value, at walkAt) (v slog.Value, fl walkFlags, done bool) {
	if w.rd.style == styleJSON && at != walkTop {
		return slog.Value{}, 0, false
	}
	if rv.CanInterface() {
		if s, ch := w.rd.str(w.rd.errorOf(rv.Interface().(error))); ch {
			return slog.StringValue(s), walkChanged, true
		}
	}
	return slog.Value{}, 0, true
}

// byMethods deals with a value the handler writes by calling its methods
// there: the methods are not called during the walk, whose caller calls
// them once and checks what they return (walkMethods), except for a
// handler of unknown style, whose possible renderings are all checked
// here. done is false when the handler would look at the contents.
func (w *walker) byMethods(rv reflect.Value, ti *typeInfo, depth int, at walkAt) (v slog.Value, fl walkFlags, done bool) {
	renders := ti.rendersInside
	if at == walkTop {
		renders = ti.rendersAtTop
	}
	if !renders || at == walkFields || !rv.CanInterface() {
		return slog.Value{}, 0, false
	}
	if w.rd.style == styleAny {
		v, fl = w.checkRenderings(rv, depth)
		return v, fl, true
	}
	if isNil(rv) && (w.rd.style == styleJSON || rv.Kind() != reflect.Pointer) {
		return slog.Value{}, 0, true // null, or fmt's <nil>: no method is called
	}
	return slog.Value{}, walkMethods, true
}

// contents walks what a value holds, by kind, as encoding/json and fmt
// walk it. Past maxDepth anything but a scalar is written as the marker,
// so that no depth of nesting can carry a secret past the walk.
func (w *walker) contents(rv reflect.Value, depth int, at walkAt) (slog.Value, walkFlags) {
	if isNil(rv) {
		return slog.Value{}, 0
	}
	if rv.Kind() == reflect.Interface {
		return w.walk(rv.Elem(), depth, at)
	}
	if depth >= maxDepth {
		if isScalar(rv.Kind()) {
			return slog.Value{}, 0
		}
		return slog.StringValue(w.rd.marker), walkChanged
	}
	switch rv.Kind() {
	case reflect.String:
		if s, ok := w.rd.str(rv.String()); ok {
			return slog.StringValue(s), walkChanged
		}
	case reflect.Pointer:
		return w.pointee(rv, depth, at)
	case reflect.Struct:
		return w.structValue(rv, depth)
	case reflect.Map:
		if w.enter(rv.Pointer()) {
			return slog.StringValue(w.rd.marker), walkChanged
		}
		defer w.leave()
		return w.mapValue(rv, depth)
	case reflect.Slice, reflect.Array:
		return w.sequence(rv, depth)
	}
	return slog.Value{}, 0
}

// pointee walks the target of a non-nil pointer. A pointer already on the
// path is a cycle, and is written as the marker, never raw.
func (w *walker) pointee(rv reflect.Value, depth int, at walkAt) (slog.Value, walkFlags) {
	if w.enter(rv.Pointer()) {
		return slog.StringValue(w.rd.marker), walkChanged
	}
	defer w.leave()
	next := walkInside
	if at == walkFields {
		next = walkFields // the pointer's methods include its target's
	}
	return w.walk(rv.Elem(), depth+1, next)
}

// sequence walks a slice or array. Byte slices are text to every text
// handler, so they are checked as text; byte arrays are written as
// numbers by every handler, so they hold nothing to check.
func (w *walker) sequence(rv reflect.Value, depth int) (slog.Value, walkFlags) {
	if rv.Type().Elem().Kind() == reflect.Uint8 {
		if rv.Kind() == reflect.Array {
			return slog.Value{}, 0
		}
		if s, ok := w.rd.str(string(rv.Bytes())); ok {
			return slog.StringValue(s), walkChanged
		}
		return slog.Value{}, 0
	}
	if rv.Kind() == reflect.Slice && rv.Len() > 0 {
		if w.enter(rv.Pointer()) {
			return slog.StringValue(w.rd.marker), walkChanged
		}
		defer w.leave()
	}
	return w.listValue(rv, depth)
}

// checkRenderings checks a value that renders its own text, for a handler
// of unknown style: every text it renders, the document its MarshalJSON
// returns (by key), and its fields. One with a secret anywhere is written
// as the document redacted, or else as its first text masked: an error
// keeps its message.
func (w *walker) checkRenderings(rv reflect.Value, depth int) (slog.Value, walkFlags) {
	texts, doc, failed := w.rd.renderings(rv.Interface())
	if doc != nil {
		if v, ch := w.rd.document(doc, depth); ch {
			return v, walkChanged
		}
	}
	dirty := failed
	for _, t := range texts {
		dirty = dirty || w.rd.dirtyString(t)
	}
	if !dirty {
		_, fl := w.walk(rv, depth, walkFields)
		dirty = fl&walkChanged != 0
	}
	if !dirty {
		return slog.Value{}, 0
	}
	s, _ := w.rd.str(texts[0])
	return slog.StringValue(s), walkChanged
}

// cookie writes a cookie as its Set-Cookie text with the value redacted:
// its name, path, domain and flags stay, for the audit trail; its value,
// and the raw text it was parsed from, never appear.
func (w *walker) cookie(c reflect.Value) slog.Value {
	if !c.CanInterface() {
		return slog.StringValue(w.rd.marker)
	}
	cp := c.Interface().(http.Cookie)
	if cp.Value != "" {
		cp.Value = w.rd.redact(cp.Value)
	}
	cp.Raw, cp.Unparsed = "", nil
	s := cp.String()
	if s == "" {
		s = w.rd.marker
	}
	return slog.StringValue(s)
}

// secretValue is what is written for rv under a secret key: the marker, or
// with a pseudonym key the pseudonym of its text (strings, byte slices,
// numbers, bools; a list of strings becomes a list of pseudonyms).
func (w *walker) secretValue(rv reflect.Value) slog.Value {
	rd := w.rd
	if len(rd.pseudonymKey) == 0 {
		return slog.StringValue(rd.marker)
	}
	for (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface) && !rv.IsNil() {
		rv = rv.Elem()
	}
	if s, ok := secretText(rv); ok {
		return slog.StringValue(rd.redact(s))
	}
	if (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array) && rv.Type().Elem().Kind() == reflect.String {
		out := make([]string, rv.Len())
		for i := range out {
			out[i] = rd.redact(rv.Index(i).String())
		}
		return slog.AnyValue(out)
	}
	return slog.StringValue(rd.marker)
}

// secretText returns the text a pseudonym of rv is made from: the text
// [Pseudonym] documents, so that a reader can compute it from the value.
// ok is false for values that have no such text and are written as the
// marker.
func secretText(rv reflect.Value) (s string, ok bool) {
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if rv.Type() == reflect.TypeOf(time.Duration(0)) {
			return time.Duration(rv.Int()).String(), true
		}
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), true
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'g', -1, rv.Type().Bits()), true
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), true
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return string(rv.Bytes()), true
		}
	case reflect.Struct:
		if rv.Type() == reflect.TypeOf(time.Time{}) && rv.CanInterface() {
			return rv.Interface().(time.Time).String(), true
		}
	}
	return "", false
}

// rawJSON redacts a json.RawMessage as the document it holds, so that the
// key rule reaches its fields; one that does not parse is scanned as text.
func (w *walker) rawJSON(rv reflect.Value, depth int) (slog.Value, walkFlags) {
	if rv.IsNil() {
		return slog.Value{}, 0
	}
	v, ch := w.rd.document(rv.Bytes(), depth)
	if ch {
		return v, walkChanged
	}
	return slog.Value{}, 0
}

func (w *walker) enter(p uintptr) (cycle bool) {
	if slices.Contains(w.path, p) {
		return true
	}
	w.path = append(w.path, p)
	return false
}

func (w *walker) leave() { w.path = w.path[:len(w.path)-1] }

func isScalar(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	}
	return false
}

// child returns the redacted form of a field, map entry or element.
func (w *walker) child(fv reflect.Value, secret bool, depth int) (slog.Value, walkFlags) {
	if secret && fv.IsValid() && !fv.IsZero() {
		return w.secretValue(fv), walkChanged
	}
	return w.walk(fv, depth+1, walkInside)
}

// member is the value written for a member of a rewritten group: its
// redacted form, its resolved rendering, or itself. A LogValuer there
// would be resolved by the handler, unlike one nested in a value, so it is
// resolved and redacted here.
func (w *walker) member(fv reflect.Value, v slog.Value, fl walkFlags, depth int) slog.Value {
	switch {
	case fl&walkChanged != 0:
		return v
	case fl&walkMethods != 0:
		return w.resolve(fv, depth+1)
	}
	if !fv.IsValid() || !fv.CanInterface() {
		return slog.AnyValue(nil)
	}
	r := slog.AnyValue(fv.Interface())
	if r.Kind() == slog.KindLogValuer {
		r, _ = w.rd.value(r, false, depth+1)
	}
	return r
}

// fieldAt returns the field of struct rv at index, following embedded
// pointers; ok is false when one of them is nil.
func fieldAt(rv reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 {
			if rv.Kind() == reflect.Pointer {
				if rv.IsNil() {
					return reflect.Value{}, false
				}
				rv = rv.Elem()
			}
		}
		rv = rv.Field(x)
	}
	return rv, true
}

// emptyJSON reports whether encoding/json's omitempty leaves fv out.
func emptyJSON(fv reflect.Value) bool {
	switch fv.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return fv.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return fv.IsZero()
	}
	return false
}

// structValue writes a struct holding a secret as a group of the fields
// encoding/json writes, in its order and under its names, embedded fields
// promoted. The fields only fmt prints are checked too, because the text
// handler prints them.
func (w *walker) structValue(rv reflect.Value, depth int) (slog.Value, walkFlags) {
	ti := w.rd.info(rv.Type())
	var all walkFlags
	for _, f := range ti.hidden {
		if fv, ok := fieldAt(rv, f.index); ok {
			_, fl := w.child(fv, f.secret, depth)
			all |= fl & walkChanged // never written: only a secret in it counts
		}
	}
	type result struct {
		fv reflect.Value
		v  slog.Value
		fl walkFlags
	}
	res := make([]result, len(ti.fields))
	present := make([]bool, len(ti.fields))
	for i, f := range ti.fields {
		fv, ok := fieldAt(rv, f.index)
		if !ok {
			continue
		}
		present[i] = true
		v, fl := w.child(fv, f.secret, depth)
		res[i] = result{fv, v, fl}
		all |= fl
	}
	if all&walkChanged == 0 {
		return slog.Value{}, all
	}
	out := make([]slog.Attr, 0, len(ti.fields))
	for i, f := range ti.fields {
		r := res[i]
		if !present[i] || f.omitEmpty && emptyJSON(r.fv) || f.omitZero && r.fv.IsZero() {
			continue
		}
		out = append(out, slog.Attr{Key: f.name, Value: w.member(r.fv, r.v, r.fl, depth)})
	}
	if len(out) == 0 {
		// The secret was in fields JSON does not write; an empty group
		// would make the key vanish, and readers should see that something
		// was removed.
		return slog.StringValue(w.rd.marker), walkChanged
	}
	return slog.GroupValue(out...), walkChanged
}

// mapValue writes a map holding a secret as a group, keys sorted as
// encoding/json sorts them. A key is checked as written: a Secret key is
// redacted, and a key the handler writes by calling its methods is
// rendered here, once, so the map is rewritten with that text.
func (w *walker) mapValue(rv reflect.Value, depth int) (slog.Value, walkFlags) {
	type entry struct {
		key string
		val reflect.Value
		v   slog.Value
		fl  walkFlags
	}
	entries := make([]entry, 0, rv.Len())
	var all walkFlags
	for it := rv.MapRange(); it.Next(); {
		k, kfl := w.mapKey(it.Key())
		mk, keyChanged := w.rd.str(k)
		if keyChanged {
			kfl |= walkChanged
		}
		v, fl := w.child(it.Value(), w.rd.secretKey(k), depth)
		all |= fl | kfl
		entries = append(entries, entry{mk, it.Value(), v, fl})
	}
	if all&walkChanged == 0 {
		return slog.Value{}, all
	}
	attrs := make([]slog.Attr, len(entries))
	for i, e := range entries {
		attrs[i] = slog.Attr{Key: e.key, Value: w.member(e.val, e.v, e.fl, depth)}
	}
	slices.SortFunc(attrs, func(a, b slog.Attr) int { return strings.Compare(a.Key, b.Key) })
	return slog.GroupValue(attrs...), walkChanged
}

// mapKey returns the text of a map key as the handler writes it, with
// changed set when that text is not the key the handler would write by
// itself: a Secret, or a key rendered by its methods (called here, once).
func (w *walker) mapKey(k reflect.Value) (string, walkFlags) {
	t := k.Type()
	ti := w.rd.info(t)
	switch {
	case ti.special == isSecret:
		return w.rd.redact(k.String()), walkChanged
	case ti.special == isInert && k.CanInterface():
		return fmt.Sprint(k.Interface()), 0
	case ti.rendersKey && k.CanInterface():
		x := k.Interface()
		switch w.rd.style {
		case styleJSON:
			if k.Kind() == reflect.Pointer && k.IsNil() {
				return "", walkChanged
			}
			return w.rd.textOf(x.(encoding.TextMarshaler)), walkChanged
		case styleText:
			return w.rd.sprint(x), walkChanged
		}
		texts, _, failed := w.rd.renderings(x)
		dirty := failed
		for _, s := range texts {
			dirty = dirty || w.rd.dirtyString(s)
		}
		s, _ := w.rd.str(texts[len(texts)-1])
		if dirty {
			return s, walkChanged
		}
		return s, 0
	case k.Kind() == reflect.String:
		return k.String(), 0
	case k.CanInterface():
		return fmt.Sprint(k.Interface()), 0
	}
	return fmt.Sprint(k), 0
}

// listValue writes a slice or array holding a secret as a list of the
// redacted elements; groups become maps, so JSON still has an array of
// objects.
func (w *walker) listValue(rv reflect.Value, depth int) (slog.Value, walkFlags) {
	var all walkFlags
	vs := make([]slog.Value, rv.Len())
	fls := make([]walkFlags, rv.Len())
	for i := range vs {
		vs[i], fls[i] = w.child(rv.Index(i), false, depth)
		all |= fls[i]
	}
	if all&walkChanged == 0 {
		return slog.Value{}, all
	}
	out := make([]any, len(vs))
	for i := range vs {
		out[i] = plain(w.member(rv.Index(i), vs[i], fls[i], depth))
	}
	return slog.AnyValue(out), walkChanged
}

// plain turns a redacted slog.Value into a value that encoding/json and fmt
// write the way handlers write the Value: groups become maps.
func plain(v slog.Value) any {
	if v.Kind() != slog.KindGroup {
		return v.Any()
	}
	m := make(map[string]any, len(v.Group()))
	for _, a := range v.Group() {
		m[a.Key] = plain(a.Value)
	}
	return m
}
