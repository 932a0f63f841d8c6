package audit

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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
}

func newRedactor(opts *Options) *redactor {
	return &redactor{
		marker:   or(opts.RedactMarker, Redacted),
		keys:     secretscan.NewKeys(opts.RedactKeys, opts.AllowKeys),
		patterns: slices.DeleteFunc(slices.Clone(opts.RedactPatterns), func(re *regexp.Regexp) bool { return re == nil }),
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
// (inSecret: a lies inside a group whose key is secret). It is the check
// every attribute of every record pays for: keys, scalars and strings are
// settled without a call into the general walk, and nothing is built.
func (rd *redactor) dirty(a slog.Attr, k slog.Kind, inSecret bool) bool {
	if rd == nil {
		return false
	}
	if len(rd.patterns) > 0 || inSecret {
		_, changed := rd.attr(a, inSecret)
		return changed
	}
	if key := a.Key; rd.keys.Secret(key) || secretscan.Contains(key, rd.marker, rd.keys) {
		return true
	}
	switch k {
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindDuration, slog.KindTime:
		return false
	case slog.KindString:
		return secretscan.Contains(a.Value.String(), rd.marker, rd.keys)
	}
	_, changed := rd.attr(a, false)
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

func (rd *redactor) value(v slog.Value, secret bool, depth int) (slog.Value, bool) {
	switch v.Kind() {
	case slog.KindString:
		if secret {
			return slog.StringValue(rd.marker), true
		}
		if s, ok := rd.str(v.String()); ok {
			return slog.StringValue(s), true
		}
		return v, false
	case slog.KindGroup:
		return rd.group(v, secret, depth)
	case slog.KindLogValuer:
		if _, ok := v.LogValuer().(Secret); ok {
			return slog.StringValue(rd.marker), true
		}
		if depth >= maxDepth {
			return slog.StringValue(rd.marker), true
		}
		r, _ := rd.value(v.Resolve(), secret, depth+1)
		return checkedValue(r), true
	case slog.KindAny:
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
				return slog.StringValue(rd.marker), true
			}
			return v, false
		}
		return rd.anyValue(v, depth)
	default:
		// Numbers, bools, times and durations hold no text to mask, but
		// under a secret key they are still the secret.
		if secret {
			return slog.StringValue(rd.marker), true
		}
		return v, false
	}
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

// anyValue looks inside the value of slog.Any: Secrets, errors and other
// values that render their own text, and the maps, structs, pointers,
// slices and arrays that handlers marshal. A value with a secret in it is
// rewritten (structs and maps as groups, so that handlers write them as
// objects); one without is returned as is.
func (rd *redactor) anyValue(v slog.Value, depth int) (slog.Value, bool) {
	switch x := v.Any().(type) {
	case nil:
		return v, false
	case Secret:
		return slog.StringValue(rd.marker), true
	case string:
		if s, ok := rd.str(x); ok {
			return slog.StringValue(s), true
		}
		return v, false
	}
	if depth >= maxDepth {
		return slog.StringValue(rd.marker), true
	}
	// The two map types applications log most are checked without
	// reflection; only one holding a secret goes through the walker.
	switch x := v.Any().(type) {
	case map[string]string:
		for k, s := range x {
			if rd.dirtyKey(k) || rd.dirtyString(s) {
				return rd.walkAny(v, depth)
			}
		}
		return v, false
	case map[string]any:
		for k, e := range x {
			if rd.dirtyKey(k) && e != nil {
				return rd.walkAny(v, depth)
			}
			if _, changed := rd.anyValue(slog.AnyValue(e), depth+1); changed {
				return rd.walkAny(v, depth)
			}
		}
		return v, false
	}
	return rd.walkAny(v, depth)
}

func (rd *redactor) walkAny(v slog.Value, depth int) (slog.Value, bool) {
	w := walker{rd: rd}
	r, changed := w.walk(reflect.ValueOf(v.Any()), depth)
	if !changed {
		return v, false
	}
	return r, true
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

// texts returns every text x renders of itself, in the order a replacement
// prefers them: the error text, the String result, the text and JSON
// marshalling, and fmt's %+v, which Formatters and the text handler use.
// Handlers pick different ones (the JSON handler writes MarshalJSON or
// Error, the text handler MarshalText or %+v), so all are checked. A
// panicking method renders nothing.
func texts(x any) []string {
	var out []string
	try := func(f func() (string, bool)) {
		defer func() { _ = recover() }()
		if s, ok := f(); ok {
			out = append(out, s)
		}
	}
	if e, ok := x.(error); ok {
		try(func() (string, bool) { return e.Error(), true })
	}
	if s, ok := x.(fmt.Stringer); ok {
		try(func() (string, bool) { return s.String(), true })
	}
	if m, ok := x.(encoding.TextMarshaler); ok {
		try(func() (string, bool) { b, err := m.MarshalText(); return string(b), err == nil })
	}
	if m, ok := x.(json.Marshaler); ok {
		try(func() (string, bool) { b, err := m.MarshalJSON(); return string(b), err == nil })
	}
	try(func() (string, bool) { return fmt.Sprintf("%+v", x), true })
	return out
}

// maskTexts checks every text x renders and, if any holds a secret,
// returns the masked form of the first text as a string value.
func (rd *redactor) maskTexts(x any) (slog.Value, bool) {
	ts := texts(x)
	for _, t := range ts {
		if rd.dirtyString(t) {
			m, _ := rd.str(ts[0])
			return slog.StringValue(m), true
		}
	}
	return slog.Value{}, false
}

// walker walks a value by reflection, once: each value is visited a single
// time, and the redacted copy is built as the walk goes, from the first
// change on. path holds the pointers, maps and slices on the way down:
// coming back to one is a cycle.
type walker struct {
	rd   *redactor
	path []uintptr
}

var (
	secretType    = reflect.TypeOf(Secret(""))
	timeType      = reflect.TypeOf(time.Time{})
	locationType  = reflect.TypeOf((*time.Location)(nil))
	slogValueType = reflect.TypeOf(slog.Value{})
	slogAttrType  = reflect.TypeOf(slog.Attr{})
	rawJSONType   = reflect.TypeOf(json.RawMessage(nil))
)

// typeInfo is what the walk needs of a type, computed once per type and
// Handler configuration.
type typeInfo struct {
	textual bool          // it renders its own text: error, Stringer, marshaler or Formatter
	fields  []structField // for structs
}

type structField struct {
	index     int
	name      string // the json name, else the Go name
	exported  bool   // written by encoding/json; unexported ones only by fmt
	secret    bool   // the Go name or the json name is a secret key
	omitEmpty bool
}

var (
	errorType     = reflect.TypeOf((*error)(nil)).Elem()
	stringerType  = reflect.TypeOf((*fmt.Stringer)(nil)).Elem()
	formatterType = reflect.TypeOf((*fmt.Formatter)(nil)).Elem()
	textType      = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
	jsonType      = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
)

func (rd *redactor) info(t reflect.Type) *typeInfo {
	if ti, ok := rd.types.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti := &typeInfo{}
	for _, it := range []reflect.Type{errorType, stringerType, formatterType, textType, jsonType} {
		if t.Implements(it) {
			ti.textual = true
		}
	}
	if t.Kind() == reflect.Struct {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			f := structField{index: i, name: sf.Name, exported: sf.IsExported(), secret: rd.secretKey(sf.Name)}
			if tag, ok := sf.Tag.Lookup("json"); ok && f.exported {
				name, opts, _ := strings.Cut(tag, ",")
				if name == "-" && opts == "" {
					f.exported = false // not in JSON, but fmt still prints it
				} else if name != "" {
					f.name = name
					f.secret = f.secret || rd.secretKey(name)
				}
				f.omitEmpty = hasOption(opts, "omitempty")
			}
			ti.fields = append(ti.fields, f)
		}
	}
	rd.types.Store(t, ti)
	return ti
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

// walk returns the redacted form of rv and whether it differs from rv;
// when it does not, the returned Value is meaningless.
func (w *walker) walk(rv reflect.Value, depth int) (slog.Value, bool) {
	if !rv.IsValid() {
		return slog.Value{}, false
	}
	t := rv.Type()
	switch t {
	case secretType:
		return slog.StringValue(w.rd.marker), true
	case timeType, locationType:
		return slog.Value{}, false
	case slogValueType, slogAttrType:
		// slog resolves and writes these itself, raw: redact them as slog
		// values.
		if !rv.CanInterface() {
			return slog.Value{}, false
		}
		v, ok := rv.Interface().(slog.Value)
		if !ok {
			v = slog.GroupValue(rv.Interface().(slog.Attr))
		}
		return w.rd.value(v, false, depth+1)
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		if rv.IsNil() {
			return slog.Value{}, false
		}
	}
	if t.Kind() == reflect.Interface {
		return w.walk(rv.Elem(), depth)
	}
	if depth >= maxDepth {
		if isScalar(t.Kind()) {
			return slog.Value{}, false
		}
		return slog.StringValue(w.rd.marker), true
	}
	// A value that renders its own text is checked on every text it
	// renders (url.URL's String puts the password back), and written as the
	// masked text if any holds a secret. A LogValuer nested in a value is
	// not resolved here: handlers marshal it like any other value.
	if w.rd.info(t).textual && rv.CanInterface() {
		if v, changed := w.rd.maskTexts(rv.Interface()); changed {
			return v, true
		}
	}
	switch t.Kind() {
	case reflect.String:
		if s, ok := w.rd.str(rv.String()); ok {
			return slog.StringValue(s), true
		}
	case reflect.Pointer:
		if w.enter(rv.Pointer()) {
			return slog.StringValue(w.rd.marker), true // a cycle: never written raw
		}
		defer w.leave()
		return w.walk(rv.Elem(), depth+1)
	case reflect.Struct:
		return w.structValue(rv, depth)
	case reflect.Map:
		if w.enter(rv.Pointer()) {
			return slog.StringValue(w.rd.marker), true
		}
		defer w.leave()
		return w.mapValue(rv, depth)
	case reflect.Slice, reflect.Array:
		if t == rawJSONType {
			return w.rawJSON(rv, depth)
		}
		if t.Elem().Kind() == reflect.Uint8 {
			if t.Kind() == reflect.Array {
				return slog.Value{}, false // written as numbers by every handler
			}
			// Text handlers write byte slices as text.
			if s, ok := w.rd.str(string(rv.Bytes())); ok {
				return slog.StringValue(s), true
			}
			return slog.Value{}, false
		}
		if t.Kind() == reflect.Slice && rv.Len() > 0 {
			if w.enter(rv.Pointer()) {
				return slog.StringValue(w.rd.marker), true
			}
			defer w.leave()
		}
		return w.listValue(rv, depth)
	}
	return slog.Value{}, false
}

// rawJSON redacts a json.RawMessage as the document it holds, so that the
// key rule reaches its fields; one that does not parse is scanned as text.
func (w *walker) rawJSON(rv reflect.Value, depth int) (slog.Value, bool) {
	b := rv.Bytes()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil || dec.More() {
		if s, ok := w.rd.str(string(b)); ok {
			return slog.StringValue(s), true
		}
		return slog.Value{}, false
	}
	return w.rd.anyValue(slog.AnyValue(doc), depth+1)
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

// child returns the redacted form of a field, map entry or element, and
// whether it differs from fv.
func (w *walker) child(fv reflect.Value, secret bool, depth int) (slog.Value, bool) {
	if secret && fv.IsValid() && !fv.IsZero() {
		return slog.StringValue(w.rd.marker), true
	}
	return w.walk(fv, depth+1)
}

// raw is the unchanged fv as a member of a rewritten group. A LogValuer
// there would be resolved by the handler, unlike one nested in a value, so
// it is resolved and redacted here.
func (w *walker) raw(fv reflect.Value, depth int) slog.Value {
	if !fv.IsValid() || !fv.CanInterface() {
		return slog.AnyValue(nil)
	}
	v := slog.AnyValue(fv.Interface())
	if v.Kind() == slog.KindLogValuer {
		v, _ = w.rd.value(v, false, depth+1)
	}
	return v
}

// structValue writes a struct holding a secret as a group of its exported
// fields in declaration order, under their json names. Unexported fields
// are checked too, because fmt (and so the text handler) prints them.
func (w *walker) structValue(rv reflect.Value, depth int) (slog.Value, bool) {
	fs := w.rd.info(rv.Type()).fields
	var out []slog.Attr // nil until a field changes
	add := func(f structField, fv reflect.Value, v slog.Value) {
		if f.exported && !(f.omitEmpty && fv.IsZero()) {
			out = append(out, slog.Attr{Key: f.name, Value: v})
		}
	}
	for i, f := range fs {
		fv := rv.Field(f.index)
		v, changed := w.child(fv, f.secret, depth)
		if changed && out == nil {
			out = make([]slog.Attr, 0, len(fs))
			for _, g := range fs[:i] {
				gv := rv.Field(g.index)
				add(g, gv, w.raw(gv, depth))
			}
		}
		if out != nil {
			if !changed {
				v = w.raw(fv, depth)
			}
			add(f, fv, v)
		}
	}
	if out == nil {
		return slog.Value{}, false
	}
	if len(out) == 0 {
		// The secret was in fields JSON does not write; an empty group
		// would make the key vanish, and readers should see that something
		// was removed.
		return slog.StringValue(w.rd.marker), true
	}
	return slog.GroupValue(out...), true
}

// mapValue writes a map holding a secret as a group, keys sorted as
// encoding/json sorts them.
func (w *walker) mapValue(rv reflect.Value, depth int) (slog.Value, bool) {
	attrs := make([]slog.Attr, 0, rv.Len())
	dirty := false
	for it := rv.MapRange(); it.Next(); {
		k := mapKey(it.Key())
		mk, keyChanged := w.rd.str(k)
		v, changed := w.child(it.Value(), w.rd.secretKey(k), depth)
		if !changed {
			v = w.raw(it.Value(), depth)
		}
		dirty = dirty || changed || keyChanged
		attrs = append(attrs, slog.Attr{Key: mk, Value: v})
	}
	if !dirty {
		return slog.Value{}, false
	}
	slices.SortFunc(attrs, func(a, b slog.Attr) int { return strings.Compare(a.Key, b.Key) })
	return slog.GroupValue(attrs...), true
}

func mapKey(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return k.String()
	}
	if k.CanInterface() {
		return fmt.Sprint(k.Interface())
	}
	return fmt.Sprint(k)
}

// listValue writes a slice or array holding a secret as a list of the
// redacted elements; groups become maps, so JSON still has an array of
// objects.
func (w *walker) listValue(rv reflect.Value, depth int) (slog.Value, bool) {
	var out []any // nil until an element changes
	for i := 0; i < rv.Len(); i++ {
		v, changed := w.child(rv.Index(i), false, depth)
		if changed && out == nil {
			out = make([]any, 0, rv.Len())
			for j := 0; j < i; j++ {
				out = append(out, plain(w.raw(rv.Index(j), depth)))
			}
		}
		if out != nil {
			if !changed {
				v = w.raw(rv.Index(i), depth)
			}
			out = append(out, plain(v))
		}
	}
	if out == nil {
		return slog.Value{}, false
	}
	return slog.AnyValue(out), true
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
