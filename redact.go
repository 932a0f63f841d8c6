package audit

import (
	"bytes"
	"cmp"
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

// secretWords are the normalized key names whose values are secret: a key
// is secret when, lowercased and stripped of '-', '_', '.' and ' ', it
// equals or ends with one of them. "Ends with" catches db_password and
// X-Api-Key; unlike a substring rule it leaves author, token_count,
// passwordless and monkey alone.
var secretWords = []string{
	"password", "passwords", "passwd", "pwd", "secret", "secrets", "token",
	"apikey", "authorization", "cookie", "cookies", "setcookie", "privatekey",
	"clientsecret", "credential", "credentials",
}

// maxDepth bounds the walk into nested values. What lies deeper is written
// as the marker: it was not checked, so it is not written raw.
const maxDepth = 10

// redactor holds a Handler's redaction rules. It is immutable after
// newRedactor, but for its cache of struct layouts.
type redactor struct {
	marker   string
	pairs    [256 * 256 / 64]uint64 // bit set for the last two bytes of each secret word
	byLast   [256][]string          // secret words by their last byte
	allow    []string               // normalized keys never redacted by name
	patterns []*regexp.Regexp
	types    sync.Map // reflect.Type → *typeInfo
}

func newRedactor(opts *Options) *redactor {
	rd := &redactor{marker: or(opts.RedactMarker, Redacted), patterns: opts.RedactPatterns}
	short := false
	for _, w := range append(slices.Clip(secretWords), opts.RedactKeys...) {
		if w = normalizeKey(w); w != "" {
			rd.byLast[w[len(w)-1]] = append(rd.byLast[w[len(w)-1]], w)
			if len(w) >= 2 {
				rd.setPair(w[len(w)-2], w[len(w)-1])
			} else {
				short = true
			}
		}
	}
	for c := 0; c < 256; c++ {
		for _, sep := range []byte{'-', '_', '.', ' '} {
			rd.setPair(byte(c), sep)
			rd.setPair(sep, byte(c))
		}
		if short { // a one-byte word: no pair rules a key out
			for d := 0; d < 256; d++ {
				rd.setPair(byte(c), byte(d))
			}
		}
	}
	for _, k := range opts.AllowKeys {
		rd.allow = append(rd.allow, normalizeKey(k))
	}
	return rd
}

// normalizeKey lowercases ASCII letters and drops the separators '-', '_',
// '.' and ' '.
func normalizeKey(k string) string {
	b := make([]byte, 0, len(k))
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}

// secretKey reports whether values under key are secret.
func (rd *redactor) secretKey(key string) bool {
	return !rd.keyRuledOut(key) && rd.secretKeySlow(key)
}

// keyRuledOut reports whether key's last two bytes rule out every secret
// word: one bitmap lookup, small enough to be inlined, which settles the
// key of almost every attribute. Bytes are folded with |0x20, which maps
// both cases of a letter together; pairs holding a separator are all set,
// since a separator may stand between a word's letters.
func (rd *redactor) keyRuledOut(key string) bool {
	n := len(key)
	if n < 2 {
		return false
	}
	i := int(key[n-2]|0x20)<<8 | int(key[n-1]|0x20)
	return rd.pairs[i>>6]&(1<<(i&63)) == 0
}

func (rd *redactor) setPair(a, b byte) {
	i := int(a|0x20)<<8 | int(b|0x20)
	rd.pairs[i>>6] |= 1 << (i & 63)
}

func (rd *redactor) secretKeySlow(key string) bool {
	end := len(key)
	for end > 0 && isKeySeparator(key[end-1]) {
		end--
	}
	if end == 0 {
		return false
	}
	words := rd.byLast[lower(key[end-1])]
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		if hasNormalizedSuffix(key[:end], w) {
			return !rd.allowed(key)
		}
	}
	return false
}

func (rd *redactor) allowed(key string) bool {
	if len(rd.allow) == 0 {
		return false
	}
	return slices.Contains(rd.allow, normalizeKey(key))
}

// hasNormalizedSuffix reports whether normalizeKey(key) ends with w, which
// is already normalized, without building the normalized key.
func hasNormalizedSuffix(key, w string) bool {
	if strings.HasSuffix(key, w) {
		// Keys are most often written in lower case without separators
		// in the word: comparing bytes is cheaper than normalizing.
		return true
	}
	i := len(key)
	for j := len(w) - 1; j >= 0; j-- {
		for i > 0 && isKeySeparator(key[i-1]) {
			i--
		}
		if i == 0 || lower(key[i-1]) != w[j] {
			return false
		}
		i--
	}
	return true
}

func isKeySeparator(c byte) bool { return c == '-' || c == '_' || c == '.' || c == ' ' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// str masks the secret shapes in s and the matches of the configured
// patterns, and reports whether it changed s.
func (rd *redactor) str(s string) (string, bool) {
	out, changed := maskSecrets(s, rd.marker)
	for _, re := range rd.patterns {
		if re.MatchString(out) {
			out, changed = re.ReplaceAllLiteralString(out, rd.marker), true
		}
	}
	return out, changed
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
		return r, true
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
	return slog.GroupValue(out...), true
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
	if len(rd.patterns) == 0 {
		return containsSecret(s, rd.marker)
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

// Secret shapes inside strings, found by maskSecrets.

// maskSecrets returns s with every high-confidence secret shape in it
// replaced by marker, keeping the rest of the string, and whether it replaced anything.
// It must not allocate when it finds nothing.
//
// The shapes are those of well-known credential formats (cloud keys, API
// tokens, JWTs, PEM private keys, HTTP auth headers, URL passwords and
// signed URL query values). Only the secret value is replaced; the text that
// makes it recognisable, such as "Bearer " or the BEGIN and END lines of a
// private key, is kept so that the log stays readable.
//
// The scan is a single pass over s, linear in len(s) on any input. Every
// shape is anchored on two adjacent bytes of its fixed part, and the exact
// matcher of a shape runs only where they occur. Matchers run independently
// of each other and their results are merged, so a secret is never hidden
// from its own matcher by an overlapping match of another shape
// ("Bearer <JWT>").
func maskSecrets(s, marker string) (string, bool) {
	if len(s) < minSecretLen {
		return s, false
	}
	first := firstAnchor(s)
	if first < 0 {
		return s, false
	}
	return maskFrom(s, marker, first)
}

// firstAnchor returns the index of the first pair of bytes of s that
// anchors a shape, or -1. It tests four pairs per branch: most text holds
// no anchor at all, and there the cost of this loop is the cost of
// maskSecrets.
func firstAnchor(s string) int {
	i := 1
	for ; i+3 < len(s); i += 4 {
		p := s[i-1 : i+4]
		if pairFirst[p[0]]&pairSecond[p[1]]|pairFirst[p[1]]&pairSecond[p[2]]|
			pairFirst[p[2]]&pairSecond[p[3]]|pairFirst[p[3]]&pairSecond[p[4]] != 0 {
			break
		}
	}
	for i--; i+1 < len(s); i++ {
		if pairFirst[s[i]]&pairSecond[s[i+1]] != 0 {
			return i
		}
	}
	return -1
}

// containsSecret reports whether maskSecrets would change s, without
// building its result: it stops at the first secret.
func containsSecret(s, marker string) bool {
	if len(s) < minSecretLen {
		return false
	}
	first := firstAnchor(s)
	return first >= 0 && detectFrom(s, marker, first)
}

// detectFrom runs the matchers from the anchor at s[from] on and stops at
// the first secret.
func detectFrom(s, marker string, from int) bool {
	m := masker{s: s, marker: marker, detect: true}
	m.scan(from)
	return m.found
}

// maskFrom runs the matchers from the anchor at s[from] on.
func maskFrom(s, marker string, from int) (string, bool) {
	m := masker{s: s, marker: marker}
	m.scan(from)
	if m.nspans == 0 {
		return s, false
	}
	return m.replace(), true
}

// scan runs the matchers at every anchor from s[from] on, and stops early
// in detect mode once a secret is found.
func (m *masker) scan(from int) {
	for i := from; !m.found; {
		m.matchPair(i)
		next := firstAnchor(m.s[i+1:])
		if next < 0 {
			return
		}
		i += 1 + next
	}
}

// minSecretLen is the length of the shortest input that can hold a secret:
// "a://b@" and "?sig=x".
const minSecretLen = 6

// Minimum lengths of the random part of each shape. A shorter run is not a
// credential of that kind; a longer one is masked whole, so that no part of
// a secret that merely looks oversized is left behind.
const (
	awsKeyLen       = 20 // prefix and 16 base32 characters, exactly
	githubTokenMin  = 36
	githubPATMin    = 82 // the published length; shorter runs are identifiers such as github_pat_expiry_days
	gitlabTokenMin  = 20
	slackTokenMin   = 10
	slackWebhookMin = 20
	stripeKeyMin    = 10
	googleKeyMin    = 35
	npmTokenMin     = 36
	authTokenMin    = 8
	// The base64 of `{"a":0}`, the shortest JSON object a JWT header or
	// payload can hold, has 10 characters.
	jwtPartMin = 10
)

const (
	pemBegin = "-----BEGIN "
	pemEnd   = "-----END"
)

// Every shape is anchored on a pair of adjacent bytes of its fixed part,
// chosen to be rare in ordinary text ("xo" of "xoxb-", "-B" of
// "-----BEGIN"), so that the scanning loop seldom stops. The pair s[i],
// s[i+1] is an anchor of the shapes whose bit is set in both
// pairFirst[s[i]] and pairSecond[s[i+1]].
const (
	pairAWS        uint16 = 1 << iota // "AK", "AS", "AB", "AC", "A3"; Google's "AI"
	pairUnderscore                    // "p_" of "ghp_", "b_" of "github_", "k_" of "sk_", "m_" of "npm_"
	pairGitLab                        // "gl"
	pairSlack                         // "xo"
	pairPEMOrURL                      // "-B" of "-----BEGIN", ":/" of "://"
	pairDot                           // ".e" before a JWT payload, ".s" of "hooks.slack"
	pairQuery                         // "?X", "&s", ... of signed query keys
	pairBearer                        // "Be", "ba", ... of Bearer and Basic
	pairToken                         // "To", "to", ... of Token
	pairDSN                           // "@t" of "@tcp(", "@u" of "@unix("
)

var pairFirst = [256]uint16{
	'A': pairAWS,
	'p': pairUnderscore,
	'o': pairUnderscore,
	'u': pairUnderscore,
	's': pairUnderscore,
	'r': pairUnderscore,
	'b': pairUnderscore | pairBearer,
	'k': pairUnderscore,
	'm': pairUnderscore,
	'g': pairGitLab,
	'x': pairSlack,
	'-': pairPEMOrURL,
	':': pairPEMOrURL,
	'.': pairDot,
	'?': pairQuery,
	'&': pairQuery,
	'#': pairQuery, // a fragment's parameters: #access_token=...
	'6': pairQuery, // of "\u0026", an '&' escaped in JSON
	';': pairQuery, // of "&amp;", an '&' escaped in HTML
	'@': pairDSN,
	'B': pairBearer,
	'T': pairToken,
	't': pairToken,
}

var pairSecond = withQueryKeys([256]uint16{
	'K': pairAWS,
	'S': pairAWS | pairQuery,
	'B': pairAWS | pairPEMOrURL,
	'C': pairAWS,
	'3': pairAWS,
	'I': pairAWS,
	'_': pairUnderscore,
	'l': pairGitLab,
	'o': pairSlack | pairToken,
	'O': pairToken,
	'/': pairPEMOrURL,
	'e': pairDot | pairBearer,
	'E': pairBearer,
	's': pairDot | pairQuery,
	'a': pairBearer | pairQuery,
	'A': pairBearer | pairQuery,
	'X': pairQuery,
	'x': pairQuery,
})

// withQueryKeys marks every letter as a second byte of a query anchor: it
// is the first byte of the key, and any key can be secret by name
// (access_token, password), not only the signed-URL ones. The '@' of a
// MySQL DSN is followed by "tcp(" or "unix(".
func withQueryKeys(t [256]uint16) [256]uint16 {
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= pairQuery
		t[c-'a'+'A'] |= pairQuery
	}
	t['t'] |= pairDSN
	t['u'] |= pairDSN
	return t
}

// A shape is a kind of secret.
type shape int

const (
	awsKey shape = iota
	googleKey
	githubToken
	stripeKey
	npmToken
	gitlabToken
	slackToken
	privateKey
	jwt
	slackWebhook
	urlCredential
	queryCredential
	authCredential
	dsnPassword
	numShapes
)

// A span is the byte range s[start:end] of a secret value.
// A span that is empty means no match.
type span struct{ start, end int }

func (v span) empty() bool { return v.end <= v.start }

// A masker collects the secret values of one string.
type masker struct {
	s, marker string
	// The values found: the first in first, without allocating for a
	// typical line, the others in more.
	first  [4]span
	nspans int
	more   []span
	// detect makes the masker stop at the first secret, recording it in
	// found instead of spans: the question is whether to mask, not how.
	detect, found bool
	// done[k] is the end of the last value of shape k found. Anchors before
	// it are not tried again for k: they lie inside that value, and
	// scanning it again from each of them would make the scan quadratic.
	done [numShapes]int
}

// matchPair runs the matchers of the shapes anchored on the pair of bytes
// at s[i]. Matchers are handed the offset where their shape would start,
// which they verify.
func (m *masker) matchPair(i int) {
	hit := pairFirst[m.s[i]] & pairSecond[m.s[i+1]]
	if hit == 0 {
		return
	}
	if hit&pairAWS != 0 {
		m.try(awsKey, i, i, awsKeyAt)
		m.try(googleKey, i, i, googleKeyAt)
	}
	if hit&pairUnderscore != 0 {
		u := i + 1
		m.try(githubToken, u, u-len("ghp"), githubTokenAt)
		m.try(githubToken, u, u-len("github"), githubTokenAt)
		m.try(stripeKey, u, u-len("sk"), stripeKeyAt)
		m.try(npmToken, u, u-len("npm"), npmTokenAt)
	}
	if hit&pairGitLab != 0 {
		m.try(gitlabToken, i, i, gitlabTokenAt)
	}
	if hit&pairSlack != 0 {
		m.try(slackToken, i, i, slackTokenAt)
	}
	if hit&pairPEMOrURL != 0 {
		if m.s[i] == '-' {
			m.try(privateKey, i, i-len("----"), privateKeyAt)
		} else {
			m.try(urlCredential, i, i, urlCredentialAt)
		}
	}
	if hit&pairDot != 0 {
		m.try(jwt, i, i, jwtAt)
		m.try(slackWebhook, i, i-len("hooks"), slackWebhookAt)
	}
	if hit&pairQuery != 0 {
		m.try(queryCredential, i, i, queryCredentialAt)
	}
	if hit&(pairBearer|pairToken) != 0 {
		m.try(authCredential, i, i, authCredentialAt)
	}
	if hit&pairDSN != 0 {
		m.try(dsnPassword, i, i, dsnPasswordAt)
	}
}

// try records the value that match finds at start, unless the anchor lies
// inside an earlier value of the same shape.
func (m *masker) try(k shape, anchor, start int, match func(s string, i int) span) {
	if anchor < m.done[k] || start < 0 {
		return
	}
	v := match(m.s, start)
	if v.empty() {
		// A matcher that looked at a run and turned it down returns the
		// empty span at its end: later anchors inside the run would be
		// turned down too, and rescanning it from each would be quadratic.
		m.done[k] = max(m.done[k], v.end)
		return
	}
	m.done[k] = v.end
	if m.alreadyMasked(k, v) {
		return
	}
	if m.detect {
		m.found = true
		return
	}
	if m.nspans < len(m.first) {
		m.first[m.nspans] = v
	} else {
		m.more = append(m.more, v)
	}
	m.nspans++
}

// alreadyMasked reports whether the value v is the output of an earlier
// call rather than a secret, which keeps masking idempotent.
func (m *masker) alreadyMasked(k shape, v span) bool {
	if m.marker == "" {
		return false
	}
	// Only a value that is markers and punctuation: a password that merely
	// holds the marker text ("[REDACTED]x") is still a password.
	val := m.s[v.start:v.end]
	if val != "" && (isAlnum(val[0]) || val[0] >= 0x80) && !strings.HasPrefix(val, m.marker) {
		return false // the usual secret: its first byte is no marker's
	}
	if strings.Contains(val, m.marker) {
		val = strings.ReplaceAll(val, m.marker, "")
	}
	for i := 0; i < len(val); i++ {
		if isAlnum(val[i]) || val[i] >= 0x80 {
			return false
		}
	}
	return true
}

// replace returns s with each maximal union of overlapping or adjacent
// spans replaced by one marker.
func (m *masker) replace() string {
	if m.nspans == 1 {
		v := m.first[0]
		return m.s[:v.start] + m.marker + m.s[v.end:]
	}
	spans := m.first[:min(m.nspans, len(m.first))]
	if m.more != nil {
		spans = append(slices.Clip(spans), m.more...)
	}
	byStart := func(a, b span) int { return cmp.Compare(a.start, b.start) }
	if !slices.IsSortedFunc(spans, byStart) {
		// Matchers that look behind their anchor report out of order.
		slices.SortFunc(spans, byStart)
	}
	var b strings.Builder
	b.Grow(len(m.s) + len(spans)*len(m.marker))
	last, cur := 0, spans[0]
	for _, v := range spans[1:] {
		if v.start <= cur.end {
			cur.end = max(cur.end, v.end)
			continue
		}
		b.WriteString(m.s[last:cur.start])
		b.WriteString(m.marker)
		last, cur = cur.end, v
	}
	b.WriteString(m.s[last:cur.start])
	b.WriteString(m.marker)
	b.WriteString(m.s[cur.end:])
	return b.String()
}

// awsKeyAt matches an AWS access key id: a four-byte prefix naming the kind
// of key and 16 base32 characters, standing alone as a word.
func awsKeyAt(s string, i int) span {
	end := i + awsKeyLen
	if end > len(s) || !wordStart(s, i) {
		return span{}
	}
	switch s[i : i+4] {
	case "AKIA", "ASIA", "ABIA", "ACCA":
	default:
		if s[i:i+3] != "A3T" || !isUpper(s[i+3]) && !isDigit(s[i+3]) {
			return span{}
		}
	}
	for j := i + 4; j < end; j++ {
		if !isBase32(s[j]) {
			return span{}
		}
	}
	// A key glued to a secret that needs no word boundary is masked with
	// it; otherwise masking that secret would turn the key into a word of
	// its own and the next pass would find it.
	if end < len(s) && isWord(s[end]) && !gluedSecretAt(s, end) {
		return span{}
	}
	return span{i, end}
}

// gluedSecretAt reports whether s[i:] starts with a secret that is
// recognised whatever precedes it. It looks at a bounded window only, as it
// may be asked about the same bytes once per preceding AWS key.
func gluedSecretAt(s string, i int) bool {
	// Long enough for every prefixed token at its minimum length
	// (github_pat_ needs 93 bytes) and for looksGenerated to see a digit;
	// bounded, so that the scan stays linear.
	const window = 256
	w := s[:min(len(s), i+window)]
	return !githubTokenAt(w, i).empty() ||
		!gitlabTokenAt(w, i).empty() ||
		!slackTokenAt(w, i).empty()
}

// googleKeyAt matches a Google API key, "AIza" and 35 or more [\w-].
func googleKeyAt(s string, i int) span {
	if !strings.HasPrefix(s[i:], "AIza") || !wordStart(s, i) {
		return span{}
	}
	return runAtLeast(s, i, i+len("AIza"), googleKeyMin, isWordOrDash)
}

// githubTokenAt matches a GitHub token: a classic one, "gh" and a letter
// naming its kind, or a fine-grained personal access token.
func githubTokenAt(s string, i int) span {
	t := s[i:]
	switch {
	case len(t) > 4 && t[0] == 'g' && t[1] == 'h' && strings.IndexByte("pousr", t[2]) >= 0 && t[3] == '_':
		return runAtLeast(s, i, i+len("ghp_"), githubTokenMin, isAlnum)
	case strings.HasPrefix(t, "github_pat_"):
		return runAtLeast(s, i, i+len("github_pat_"), githubPATMin, isWord)
	}
	return span{}
}

// stripeKeyAt matches a Stripe secret or restricted key. Unlike the
// other underscore-anchored shapes it must start a word, as its prefix is
// also the tail of ordinary identifiers (risk_test_suite).
func stripeKeyAt(s string, i int) span {
	t := s[i:]
	if len(t) < len("sk_test_") || t[0] != 's' && t[0] != 'r' || t[1] != 'k' || !wordStart(s, i) {
		return span{}
	}
	switch t[2:8] {
	case "_test_", "_live_", "_prod_":
		v := runAtLeast(s, i, i+len("sk_test_"), stripeKeyMin, isAlnum)
		if !v.empty() && !looksGenerated(s[i+len("sk_test_"):v.end]) {
			return span{v.end, v.end} // sk_test_environment_name is a name
		}
		return v
	}
	return span{}
}

// npmTokenAt matches an npm access token.
func npmTokenAt(s string, i int) span {
	if !strings.HasPrefix(s[i:], "npm_") || !wordStart(s, i) {
		return span{}
	}
	return runAtLeast(s, i, i+len("npm_"), npmTokenMin, isAlnum)
}

// gitlabTokenAt matches a GitLab personal access token.
func gitlabTokenAt(s string, i int) span {
	if !strings.HasPrefix(s[i:], "glpat-") {
		return span{}
	}
	v := runAtLeast(s, i, i+len("glpat-"), gitlabTokenMin, isWordOrDash)
	if !v.empty() && !looksGenerated(s[i+len("glpat-"):v.end]) {
		return span{v.end, v.end} // glpat-rotation-policy-enabled is a setting's name
	}
	return v
}

// slackTokenAt matches a Slack token. Bot, user and the other kinds differ
// only in how their run of digits, letters and dashes is grouped, which
// need not be checked to know it is a token.
func slackTokenAt(s string, i int) span {
	t := s[i:]
	if len(t) < len("xoxb-") || t[:3] != "xox" || strings.IndexByte("abpers", t[3]) < 0 || t[4] != '-' {
		return span{}
	}
	return runAtLeast(s, i, i+len("xoxb-"), slackTokenMin, isSlackChar)
}

// slackWebhookAt matches the secret path of a Slack webhook URL; the host
// and the kind of hook are kept.
func slackWebhookAt(s string, i int) span {
	const host = "hooks.slack.com/"
	if !strings.HasPrefix(s[i:], host) {
		return span{}
	}
	j := i + len(host)
	for _, kind := range [...]string{"services/", "workflows/", "triggers/"} {
		if strings.HasPrefix(s[j:], kind) {
			j += len(kind)
			return runAtLeast(s, j, j, slackWebhookMin, isWebhookChar)
		}
	}
	return span{}
}

// jwtAt matches a JSON Web Token around the dot at s[dot]: a header and a
// payload, both base64url JSON objects, and a signature that may be empty
// (alg "none"). It is anchored on the dot before the payload, as ".e" is
// rarer in text than the "ey" a header starts with; the header is found by
// looking back from the dot.
func jwtAt(s string, dot int) span {
	if !hasJSONPrefix(s[dot+1:]) {
		return span{}
	}
	start := jwtHeaderStart(s, runStart(s, dot, isWordOrDash), dot)
	if start < 0 || dot-start < jwtPartMin {
		return span{}
	}
	p := dot + 1
	pe := runEnd(s, p, isWordOrDash)
	if pe-p < jwtPartMin || pe == len(s) || s[pe] != '.' {
		return span{}
	}
	end := runEnd(s, pe+1, isWordOrDash)
	// Some encoders pad the signature, against the spec.
	for n := 0; n < 2 && end < len(s) && s[end] == '='; n++ {
		end++
	}
	return span{start, end}
}

// jwtHeaderStart returns the offset of the first JSON object prefix in
// s[from:dot], or -1. The run of base64url bytes before the dot may begin
// with something glued on ("jwt-eyJ...", "tokeneyJ...") or with the hex
// digits of a percent escape ("Bearer%20eyJ..."), none of which is part of
// the token: it starts at the first JSON prefix. That the payload after the
// dot must start like JSON too is what keeps ordinary text out.
func jwtHeaderStart(s string, from, dot int) int {
	if from > 0 && s[from-1] == '%' && dot-from > 2 && isHexByte(s[from]) && isHexByte(s[from+1]) && hasJSONPrefix(s[from+2:dot]) {
		return from + 2
	}
	for k := from; k < dot; k++ {
		if hasJSONPrefix(s[k:dot]) {
			return k
		}
	}
	return -1
}

// hasJSONPrefix reports whether t starts like the base64 of a JSON object:
// `{"`, or `{` and a newline as pretty-printers write it.
func hasJSONPrefix(t string) bool {
	return strings.HasPrefix(t, "eyJ") || strings.HasPrefix(t, "ewogIC") || strings.HasPrefix(t, "ewoid")
}

// privateKeyAt matches a PEM private key block. The value is the body
// between the BEGIN and END lines, which are kept; without an END line, as
// in a truncated log line, the body runs to the end of s.
func privateKeyAt(s string, i int) span {
	if !strings.HasPrefix(s[i:], pemBegin) {
		return span{}
	}
	j := i + len(pemBegin)
	e := runEnd(s, j, isPEMLabelChar)
	label := strings.TrimSuffix(s[j:e], " BLOCK") // PGP
	if label != "PRIVATE KEY" && !strings.HasSuffix(label, " PRIVATE KEY") || !strings.HasPrefix(s[e:], "-----") {
		return span{}
	}
	start, end := e+len("-----"), len(s)
	if n := strings.Index(s[start:], pemEnd); n >= 0 {
		end = start + n
	}
	for start < end && isSpace(s[start]) {
		start++
	}
	for end > start && isSpace(s[end-1]) {
		end--
	}
	return span{start, end}
}

// urlCredentialAt matches the credential in the userinfo of a URL whose
// "://" is at s[i]: the password, or the whole userinfo if it has no
// password, which is how tokens are put in URLs (https://TOKEN@host).
func urlCredentialAt(s string, i int) span {
	if i == 0 || !isSchemeChar(s[i-1]) || !strings.HasPrefix(s[i:], "://") {
		return span{}
	}
	start := i + len("://")
	// Like net/url, take the last '@' of the authority as the end of the
	// userinfo: passwords are often written with a bare '@'.
	at := strings.LastIndexByte(s[start:runEnd(s, start, inAuthority)], '@')
	if at <= 0 {
		return unencodedPasswordAt(s, start)
	}
	end := start + at
	if c := strings.IndexByte(s[start:end], ':'); c >= 0 {
		return span{start + c + 1, end}
	}
	// A bare userinfo is a login name (https://ada@example.com,
	// ssh://git@host), unless it looks machine-made: a token used as the
	// userinfo (https://<token>@github.com).
	if isLoginScheme(s[:i]) || !looksGenerated(s[start:end]) {
		return span{}
	}
	return span{start, end}
}

// unencodedPasswordAt matches a password holding an unencoded '/', '?' or
// '#', which ends the authority early (postgres://admin:pa/ss@db): with
// "user:" before any of them, and an '@' and a host later in the same
// token, the password runs to that '@'. A port followed by a path
// (host:8080/@scope/pkg) is not a password.
func unencodedPasswordAt(s string, start int) span {
	// "user:" and the start of the password must be in the authority:
	// a cheap test that settles most "://" at once.
	auth := s[start:runEnd(s, start, inAuthority)]
	if c := strings.IndexByte(auth, ':'); c < 0 || c == len(auth)-1 {
		return span{}
	}
	// The window is bounded so that the scan stays linear however many
	// "://" a string holds; a userinfo is never this long.
	tokenEnd := runEnd(s[:min(len(s), start+maxUserinfo)], start, inURLToken)
	at := strings.LastIndexByte(s[start:tokenEnd], '@')
	if at <= 0 || start+at+1 >= tokenEnd || !isHostStart(s[start+at+1]) {
		return span{}
	}
	userinfo := s[start : start+at]
	c := strings.IndexByte(userinfo, ':')
	if c < 0 || strings.ContainsAny(userinfo[:c], "/?#@") || c+1 == len(userinfo) {
		return span{}
	}
	pass := userinfo[c+1:]
	if strings.HasPrefix(pass, "//") {
		return span{} // a scheme ("a://b://u:p@h"), not a password
	}
	if d := runEnd(pass, 0, isDigit); d > 0 && d < len(pass) && strings.IndexByte("/?#", pass[d]) >= 0 {
		return span{}
	}
	return span{start + c + 1, start + at}
}

// maxUserinfo bounds the search for the '@' of a userinfo whose password
// has an unencoded '/', '?' or '#'.
const maxUserinfo = 256

func inURLToken(c byte) bool {
	switch c {
	case '"', '\'', '<', '>', '`', '\\', 0x7f:
		return false
	}
	return c > ' '
}

func isHostStart(c byte) bool { return isAlnum(c) || c == '[' }

// dsnPasswordAt matches the password of a Go MySQL driver DSN,
// user:password@tcp(host:port)/db or @unix(socket), whose '@' is at s[i].
func dsnPasswordAt(s string, i int) span {
	if !strings.HasPrefix(s[i:], "@tcp(") && !strings.HasPrefix(s[i:], "@unix(") {
		return span{}
	}
	start := max(runStart(s, i, inDSNUserinfo), i-maxUserinfo) // bounded, like unencodedPasswordAt
	c := strings.IndexByte(s[start:i], ':')
	if c < 0 || start+c+1 == i {
		return span{}
	}
	return span{start + c + 1, i}
}

func inDSNUserinfo(c byte) bool {
	switch c {
	case '"', '\'', '<', '>', '`', '=', ',', ';', '(', ')':
		return false
	}
	return c > ' ' && c != 0x7f
}

// loginSchemes are the URL schemes whose userinfo without a password is a
// login name, not a credential: ssh://git@github.com/org/repo.
var loginSchemes = [...]string{"ssh", "sftp", "git"}

// isLoginScheme reports whether before, the text preceding "://", ends
// with one of loginSchemes as a word of its own, which also admits
// compounds such as "git+ssh". Only the letters next to "://" are looked
// at, so that masking a value before the scheme cannot change the answer.
func isLoginScheme(before string) bool {
	n := len(before)
	for n > 0 && isLetter(before[n-1]) {
		n--
	}
	for _, scheme := range loginSchemes {
		if strings.EqualFold(before[n:], scheme) {
			return true
		}
	}
	return false
}

// signedQueryKeys are query parameters of pre-signed URLs whose value
// grants access on its own.
var signedQueryKeys = [...]string{
	"X-Amz-Signature",
	"X-Amz-Credential",
	"X-Amz-Security-Token",
	"AWSAccessKeyId",
	"Signature",
	"sig",
	"X-Goog-Signature",
	"X-Goog-Credential",
}

// queryCredentialAt matches the value of a query or fragment parameter
// whose separator ('?', '&' or '#', or '&' escaped as "&amp;" in HTML or
// "\u0026" in JSON) ends at s[i], when the key is one of a signed URL's or
// is secret by the key rule (access_token, password).
func queryCredentialAt(s string, i int) span {
	switch s[i] {
	case '?', '&', '#':
	case ';':
		if !strings.HasSuffix(s[:i+1], "&amp;") {
			return span{}
		}
	case '6':
		if !strings.HasSuffix(s[:i+1], "\\u0026") {
			return span{}
		}
	default:
		return span{}
	}
	k := i + 1
	eq := strings.IndexByte(s[k:min(len(s), k+maxQueryKey+1)], '=')
	if eq <= 0 || !isSecretQueryKey(s[k:k+eq]) {
		return span{}
	}
	start := k + eq + 1
	return span{start, runEnd(s, start, inQueryValue)}
}

// maxQueryKey bounds the key looked at, keeping the scan linear.
const maxQueryKey = 48

// isSecretQueryKey reports whether a query key's value is a credential: a
// signed URL's key, or a key the key rule calls secret.
func isSecretQueryKey(key string) bool {
	if isSignedQueryKey(key) {
		return true
	}
	for i := 0; i < len(key); i++ {
		if !isWord(key[i]) && key[i] != '-' && key[i] != '.' {
			return false
		}
	}
	for _, w := range secretWords {
		if hasNormalizedSuffix(key, w) {
			return true
		}
	}
	return false
}

func isSignedQueryKey(key string) bool {
	for _, k := range signedQueryKeys {
		if len(k) == len(key) && strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// authSchemes are the HTTP authentication schemes whose parameter is a
// credential, in lower case.
var authSchemes = [...]string{"bearer", "basic", "token"}

// authCredentialAt matches the credential of an HTTP Authorization value
// whose scheme starts at s[i].
func authCredentialAt(s string, i int) span {
	n := authSchemeLen(s[i:])
	if n == 0 || !wordStart(s, i) {
		return span{}
	}
	j := i + n
	if j == len(s) || !isSpace(s[j]) {
		return span{}
	}
	for j < len(s) && isSpace(s[j]) {
		j++
	}
	// One pass finds the token's end and whether it looks generated (as
	// looksGenerated would): classUpper is classLower<<1, so c&(seen<<1)
	// holds classUpper for a capital after a lower-case letter.
	end, seen, capAfterLower := j, uint8(0), uint8(0)
	for ; end < len(s); end++ {
		c := byteClass[s[end]]
		if c&classToken == 0 {
			break
		}
		capAfterLower |= c & (seen << 1)
		seen |= c
	}
	generated := capAfterLower&classUpper != 0 ||
		seen&classDigit != 0 && seen&(classLower|classUpper) != 0
	if seen&classDash != 0 {
		if k := strings.Index(s[j:end], pemEnd); k >= 0 {
			end = j + k // a PEM END marker ends the run, as in runEnd
			generated = looksGenerated(s[j:end])
		}
	}
	if end-j < authTokenMin || !generated {
		return span{}
	}
	return span{j, end}
}

// authSchemeLen returns the length of the auth scheme that t starts with,
// in any case, or 0.
func authSchemeLen(t string) int {
	for _, scheme := range authSchemes {
		if hasPrefixFold(t, scheme) {
			if scheme == "token" && t[0] != 'T' {
				return 0 // "unexpected token 0x7f3a2b1c" is prose; the scheme is written Token
			}
			return len(scheme)
		}
	}
	return 0
}

// hasPrefixFold reports whether t starts with the lower-case ASCII letters
// of prefix, in any case.
func hasPrefixFold(t, prefix string) bool {
	if len(t) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if t[i]|0x20 != prefix[i] {
			return false
		}
	}
	return true
}

// looksGenerated reports whether an auth token looks machine-made rather
// than like the next word of a sentence ("Basic authentication failed"):
// it mixes letters and digits, or has a capital after a lower-case letter.
func looksGenerated(t string) bool {
	var seen uint8
	for i := 0; i < len(t); i++ {
		c := byteClass[t[i]]
		if c&classUpper != 0 && seen&classLower != 0 {
			return true
		}
		seen |= c
	}
	return seen&classDigit != 0 && seen&(classLower|classUpper) != 0
}

// runAtLeast returns the span from start to the end of the run of bytes in
// class that begins at from, if the run has at least n bytes.
func runAtLeast(s string, start, from, n int, in func(byte) bool) span {
	end := runEnd(s, from, in)
	if end-from < n {
		return span{}
	}
	return span{start, end}
}

// runEnd returns the end of the run of bytes in class that begins at i.
// A PEM END marker ends every run: a value that took it up would leave the
// private key block before it open, and the next pass would mask anew.
func runEnd(s string, i int, in func(byte) bool) int {
	for i < len(s) && in(s[i]) && (s[i] != '-' || !strings.HasPrefix(s[i:], pemEnd)) {
		i++
	}
	return i
}

// runStart is runEnd looking back from i.
func runStart(s string, i int, in func(byte) bool) int {
	for i > 0 && in(s[i-1]) && (s[i-1] != 'D' || !strings.HasSuffix(s[:i], pemEnd)) {
		i--
	}
	return i
}

// wordStart reports whether a word starts at s[i], in the ASCII sense of
// regexp's \b.
func wordStart(s string, i int) bool { return i == 0 || !isWord(s[i-1]) }

func isDigit(c byte) bool        { return '0' <= c && c <= '9' }
func isUpper(c byte) bool        { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool        { return 'a' <= c && c <= 'z' }
func isLetter(c byte) bool       { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool        { return isDigit(c) || isLetter(c) }
func isWord(c byte) bool         { return isAlnum(c) || c == '_' }
func isWordOrDash(c byte) bool   { return isWord(c) || c == '-' } // also base64url
func isHexByte(c byte) bool      { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }
func isBase32(c byte) bool       { return isUpper(c) || '2' <= c && c <= '7' }
func isSlackChar(c byte) bool    { return isAlnum(c) || c == '-' }
func isWebhookChar(c byte) bool  { return isWordOrDash(c) || c == '+' || c == '/' }
func isSchemeChar(c byte) bool   { return isAlnum(c) || c == '+' || c == '-' || c == '.' }
func isPEMLabelChar(c byte) bool { return isWord(c) || c == ' ' }

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\v', '\f':
		return true
	}
	return false
}

// isTokenChar reports whether c may occur in an HTTP auth credential
// (RFC 6750 b64token, which also covers RFC 7617 base64).
func isTokenChar(c byte) bool { return byteClass[c]&classToken != 0 }

// Byte classes, for the loops that run over a whole candidate value: one
// table lookup per byte rather than a chain of comparisons.
const (
	classDigit uint8 = 1 << iota
	classLower
	classUpper
	classToken // the characters of an HTTP auth token (RFC 7235 token68)
	classDash  // '-', which may begin a PEM END marker
)

// authCredentialAt relies on classUpper being classLower<<1; this fails to
// compile otherwise.
const _ = uint(classUpper-classLower<<1) + uint(classLower<<1-classUpper)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case isDigit(b):
			t[c] = classDigit | classToken
		case isLower(b):
			t[c] = classLower | classToken
		case isUpper(b):
			t[c] = classUpper | classToken
		case b == '-':
			t[c] = classToken | classDash
		case strings.IndexByte("._~+/=", b) >= 0:
			t[c] = classToken
		}
	}
	return t
}()

// inAuthority reports whether c may occur in the authority of a URL found
// in text. Bytes that end a URL in prose, JSON or HTML end it here too.
func inAuthority(c byte) bool {
	switch c {
	case '/', '?', '#', '"', '\'', '<', '>', '`', '\\', '{', '}', '|', '^', 0x7f:
		return false
	}
	return c > ' '
}

// inQueryValue reports whether c may occur in a query value found in text.
// A '?' is allowed in a query by RFC 3986 but never occurs unescaped in a
// signed value; ending values there keeps the values of a string apart.
func inQueryValue(c byte) bool {
	switch c {
	case '&', '?', '#', '"', '\'', '<', '>', '`', 0x7f:
		return false
	}
	return c > ' '
}
