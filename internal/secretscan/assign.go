package secretscan

import "strings"

// Secrets assigned inside text. A key the key rule calls secret, followed
// by an assignment, marks the value after it as a secret whatever its
// shape: this is how config files, DSNs, command lines and dumped
// structures carry passwords and the many tokens that do not name their
// issuer (a 32-hex key is a secret only because it sits under
// "mailgun_api_key"). The matchers are anchored on the assignment's
// operator and look back a bounded distance for the key, so each anchor
// costs a bounded amount of work unless it finds a secret, and a value
// found is never scanned again.

// maxKeyLen bounds the look-behind for a key. A longer run of key bytes
// is judged by its last maxKeyLen bytes, which still end with any secret
// word the whole key ends with.
const maxKeyLen = 64

// maxSpaces bounds the blanks looked through between a key and its
// operator ("key = value", `"key" : "value"`).
const maxSpaces = 8

// isKeyByte reports whether c may occur in a key found in text: an
// identifier with '-' and '.', and '[' ']' for user[password]. Bytes of
// multi-byte characters are included so that fullwidth look-alikes reach
// the key rule.
func isKeyByte(c byte) bool {
	return isWord(c) || c == '-' || c == '.' || c == '[' || c == ']' || c >= 0x80
}

// keyBefore returns the start of the run of key bytes that ends at end,
// looking back at most maxKeyLen bytes.
func keyBefore(s string, end int) int {
	lo := max(0, end-maxKeyLen)
	i := end
	for i > lo && isKeyByte(s[i-1]) {
		i--
	}
	// A key does not start with a bracket: the one of user[password]
	// follows a name. Inside a key, brackets hold indexes: a ']' is
	// followed by another index or ends the key, and a '[' is closed
	// before the key ends. A key starts after any other bracket. This
	// keeps a marker such as [REDACTED] before a key out of it, whatever
	// stands before the marker, so that masking does not change where a
	// key starts.
	for j := i; j < end; j++ {
		switch {
		case s[j] == ']' && j+1 < end && s[j+1] != '[',
			s[j] == '[' && strings.IndexByte(s[j+1:end], ']') < 0:
			i = j + 1
		}
	}
	for i < end && s[i] == '[' || i < end && s[i] == ']' {
		i++
	}
	return i
}

// assignmentAt matches the value assigned to a secret key by the
// operator at s[i]: '=' (key=value, key = value, key := value,
// key => value, --key=value), ':' (key: value, "key": "value"), '>'
// (<key>value</key>), '-' (--key value) or a quote before ','
// (setProperty("key", "value")).
func assignmentAt(s string, i int, keys *Keys) span {
	switch s[i] {
	case '=':
		return equalsValueAt(s, i, keys)
	case ':':
		return colonValueAt(s, i, keys)
	case '>':
		return elementValueAt(s, i, keys)
	case '-':
		return flagValueAt(s, i, keys)
	case '"', '\'':
		return callValueAt(s, i, keys)
	}
	return span{}
}

// quotedKeyBefore returns the key of "key", 'key' or \"key\" whose
// closing quote ends at end, or ok false.
func quotedKeyBefore(s string, end int) (start, stop int, ok bool) {
	if end == 0 {
		return 0, 0, false
	}
	q := s[end-1]
	if q != '"' && q != '\'' {
		return 0, 0, false
	}
	stop = end - 1
	escaped := stop > 0 && s[stop-1] == '\\'
	if escaped {
		stop--
	}
	start = keyBefore(s, stop)
	open := start - 1
	if escaped {
		open--
	}
	if start == stop || open < 0 || s[start-1] != q || escaped && s[open] != '\\' {
		return 0, 0, false
	}
	return start, stop, true
}

// secretKey reports whether s[start:end] is a key the rule calls secret.
func secretKey(s string, start, end int, keys *Keys) bool {
	return start < end && keys != nil && keys.Secret(s[start:end])
}

// equalsValueAt matches key=value, key = value, key := value and
// key => value, with a bare or quoted key.
func equalsValueAt(s string, eq int, keys *Keys) span {
	if eq+1 >= len(s) || s[eq+1] == '=' {
		return span{} // a comparison, or nothing assigned
	}
	opStart, valStart := eq, eq+1
	if eq > 0 {
		switch s[eq-1] {
		case '=', '!', '<', '>':
			return span{} // ==, !=, <=, >=
		case ':', '+', '?':
			opStart-- // :=, Makefile += and ?=
		}
	}
	if s[eq+1] == '>' {
		valStart++ // =>
	}
	keyEnd := skipBlanksBack(s, opStart)
	spaced := keyEnd < opStart || valStart > eq+1 || opStart < eq
	start, end, ok := quotedKeyBefore(s, keyEnd)
	if !ok {
		start, end = keyBefore(s, keyEnd), keyEnd
	}
	if !secretKey(s, start, end, keys) {
		return span{}
	}
	if spaced {
		// "key = value": blanks after the operator belong to it. In
		// logfmt ("password= next=1") they end an empty value.
		valStart = skipBlanks(s, valStart)
	}
	return valueAt(s, valStart, start, end, false, keys)
}

// colonValueAt matches key: value, "key": "value", 'key': 'value' and
// \"key\": \"value\", and header lines such as Authorization: <anything>.
func colonValueAt(s string, colon int, keys *Keys) span {
	if colon+1 >= len(s) || s[colon+1] == '=' || s[colon+1] == ':' {
		return span{} // := is the '=' anchor's; :: is a scope
	}
	if s[colon+1] == '/' && colon+2 < len(s) && s[colon+2] == '/' {
		return span{} // a URL scheme
	}
	start, end, quoted := quotedKeyBefore(s, skipBlanksBack(s, colon))
	if !quoted {
		// A bare key touches its colon: "tag : text" is not YAML.
		start, end = keyBefore(s, colon), colon
	}
	if !secretKey(s, start, end, keys) {
		return span{}
	}
	v := skipBlanks(s, colon+1)
	if !quoted && v > colon+1 && startsProse(s, v) {
		// "failed to watch *v1.Secret: the server asked ...": a colon
		// in a sentence, followed by prose, not a value.
		return span{}
	}
	return valueAt(s, v, start, end, !quoted && atLineStart(s, start), keys)
}

// proseWords are words that begin a clause; no secret is one of them.
var proseWords = [...]string{
	"the", "a", "an", "is", "are", "was", "were", "not", "no", "none", "and", "or", "to", "of",
	"in", "on", "for", "with", "has", "have", "had", "will", "must", "should", "could", "can",
	"cannot", "may", "did", "does", "do", "this", "that", "it", "its", "please", "invalid",
	"missing", "expired", "required", "empty", "unknown", "wrong", "incorrect", "changed",
}

// startsProse reports whether s[v:] starts with a word of prose followed
// by a space.
func startsProse(s string, v int) bool {
	e := v
	for e < len(s) && isLower(s[e]) {
		e++
	}
	if e == v || e == len(s) || s[e] != ' ' {
		return false
	}
	for _, w := range proseWords {
		if s[v:e] == w {
			return true
		}
	}
	return false
}

// elementValueAt matches <key>value</key>, anchored on the '>' of the
// opening tag.
func elementValueAt(s string, gt int, keys *Keys) span {
	start := gt
	for lo := max(0, gt-maxKeyLen); start > lo && (isKeyByte(s[start-1]) || s[start-1] == ':'); start-- {
	}
	if start == gt || start == 0 || s[start-1] != '<' {
		return span{}
	}
	key := s[start:gt]
	if c := strings.LastIndexByte(key, ':'); c >= 0 {
		key = key[c+1:] // a namespace prefix
	}
	if keys == nil || key == "" || !keys.Secret(key) {
		return span{}
	}
	v := gt + 1
	end := v
	for end < len(s) && s[end] != '<' {
		end++
	}
	// Only an element closed by its own tag: a marker such as <secret>
	// or prose mentioning <token> is not one.
	if !strings.HasPrefix(s[end:], "</") || !strings.HasPrefix(s[end+2:], s[start:gt]) {
		// Not skipped: other assignments may lie in what was read,
		// and the next '<' bounds what the next element reads.
		return span{}
	}
	return span{v, end}
}

// flagValueAt matches --key value on a command line, anchored on the
// first '-'. --key=value is the '=' anchor's.
func flagValueAt(s string, i int, keys *Keys) span {
	if i+2 >= len(s) || s[i+1] != '-' || !isLetter(s[i+2]) || !argStart(s, i) {
		return span{}
	}
	k := i + 2
	end := k
	for end < len(s) && end-k < maxKeyLen && isKeyByte(s[end]) {
		end++
	}
	if end == len(s) || s[end] != ' ' && s[end] != '\t' {
		return span{}
	}
	if !secretKey(s, k, end, keys) {
		return span{}
	}
	v := skipBlanks(s, end)
	if v == len(s) || s[v] == '-' || s[v] == '=' || s[v] == ':' {
		return span{} // a switch followed by the next flag, or a key = value
	}
	return valueAt(s, v, k, end, false, keys)
}

// argStart reports whether a command-line argument may start at s[i]:
// after a blank, a quote or an escaped newline or tab in JSON text.
func argStart(s string, i int) bool {
	if i == 0 || isSpace(s[i-1]) || s[i-1] == '"' || s[i-1] == '\'' {
		return true
	}
	return i >= 2 && s[i-2] == '\\' && (s[i-1] == 'n' || s[i-1] == 't')
}

// callValueAt matches f("key", "value") and f('key', 'value'), anchored
// on the quote that closes the key. Only a call's first two arguments
// count: a list of names (["token", "id"]) is not an assignment.
func callValueAt(s string, q int, keys *Keys) span {
	if q+1 >= len(s) || s[q+1] != ',' {
		return span{}
	}
	end := q
	escaped := q > 0 && s[q-1] == '\\' // \"key\", \"value\" inside a JSON string
	if escaped {
		end--
	}
	start := keyBefore(s, end)
	open := start - 1
	if escaped {
		open--
	}
	if start == end || open < 0 || s[start-1] != s[q] || escaped && s[open] != '\\' {
		return span{}
	}
	if p := skipBlanksBack(s, open); p == 0 || s[p-1] != '(' {
		return span{}
	}
	if !secretKey(s, start, end, keys) {
		return span{}
	}
	v := skipBlanks(s, q+2)
	if v < len(s) && s[v] == '\\' && escaped {
		v++
	}
	if v == len(s) || s[v] != '"' && s[v] != '\'' {
		return span{} // a variable, not a literal
	}
	return valueAt(s, v-btoi(escaped), start, end, false, keys)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// valueAt returns the value that starts at s[v] (after the operator and
// its blanks) of the key s[keyStart:keyEnd]. line is set for a "key:
// value" line of a header block or YAML document, whose value runs to the
// end of the line.
func valueAt(s string, v, keyStart, keyEnd int, line bool, keys *Keys) span {
	if v >= len(s) {
		return span{v, v}
	}
	switch c := s[v]; {
	case c == '"' || c == '\'' || c == '`':
		return quotedValueAt(s, v+1, c, false)
	case c == '\\' && v+1 < len(s) && (s[v+1] == '"' || s[v+1] == '\''):
		return quotedValueAt(s, v+2, s[v+1], true)
	}
	if isNullWord(s, v) {
		return span{v, v}
	}
	if s[v-1] == ' ' && strings.HasPrefix(s[v:], "--") && v+2 < len(s) && isLetter(s[v+2]) {
		// After a blank, the next command-line flag: what is assigned
		// is missing, and the flag's own value lies past it.
		return span{v, v}
	}
	key := s[keyStart:keyEnd]
	if !line && !isHeaderKey(key, keys) {
		return span{v, unquotedEnd(s, v)}
	}
	if hasSuffixFold(key, "authorization") {
		return authorizationValue(s, v, keyStart)
	}
	return span{v, lineEnd(s, v, keyStart)}
}

// authSchemeNames are the HTTP authentication schemes in the IANA
// registry and in common use, in lower case.
var authSchemeNames = [...]string{
	"bearer", "basic", "token", "digest", "negotiate", "ntlm", "hoba", "mutual",
	"dpop", "gnap", "vapid", "privatetoken", "apikey", "sso-key", "sharedkey",
	"aws4-hmac-sha256", "scram-sha-1", "scram-sha-256", "oauth", "concealed",
}

// authorizationValue returns the credentials of an Authorization value
// s[v:end]. A known scheme is kept, as the Bearer matcher keeps it, so
// the value reads "Bearer [REDACTED]"; a single token after it is the
// credential, and a list of auth-params runs to the end. A challenge's parameters
// (Basic realm=...) are not a credential.
func authorizationValue(s string, v, keyStart int) span {
	// The end of the line is looked for only when the value runs to it:
	// each "Authorization:" in a long line would otherwise read the rest
	// of the line again, which is quadratic.
	w := v
	for w < len(s) && (isAlnum(s[w]) || s[w] == '-') {
		w++
	}
	if w == len(s) || s[w] != ' ' || !isAuthScheme(s[v:w]) {
		return span{v, lineEnd(s, v, keyStart)}
	}
	p := skipBlanks(s, w)
	t := p
	for t < len(s) && !isSpace(s[t]) && s[t] != '"' && s[t] != '\'' && s[t] != '`' && s[t] != '\\' && !operatorBeforeBlank(s, t) {
		t++
	}
	switch tok := s[p:t]; {
	case strings.HasPrefix(tok, "realm="):
		return span{}
	case isAuthParam(tok) || strings.HasSuffix(tok, "=") && t < len(s) && s[t] == '"' && isAuthParam(tok+"x"):
		return span{p, lineEnd(s, p, keyStart)} // auth-params (Digest username="ada", response=...)
	}
	return span{p, t}
}

func isAuthScheme(w string) bool {
	for _, name := range authSchemeNames {
		if len(w) == len(name) && hasPrefixFold(w, name) {
			return true
		}
	}
	return false
}

// isHeaderKey reports whether values of key hold spaces by nature (an
// auth scheme and its credentials, a list of cookies), so that they run
// to the end of their line.
func isHeaderKey(key string, keys *Keys) bool {
	for _, h := range [...]string{"authorization", "cookie", "cookies"} {
		if hasSuffixFold(key, h) {
			return keys.Secret(key)
		}
	}
	return false
}

// operatorBeforeBlank reports whether s[j] is the ':' or '=' of another
// assignment followed by a blank ("key: value" inside a value), whose
// value lies past the end of the value being read.
func operatorBeforeBlank(s string, j int) bool {
	return (s[j] == ':' || s[j] == '=') && j+1 < len(s) && (s[j+1] == ' ' || s[j+1] == '\t')
}

// isNullWord reports whether s[v:] starts with a word that says no value
// is set.
func isNullWord(s string, v int) bool {
	for _, w := range [...]string{"null", "nil", "None", "<nil>"} {
		if strings.HasPrefix(s[v:], w) && (v+len(w) == len(s) || !isWord(s[v+len(w)])) {
			return true
		}
	}
	return false
}

// quotedValueAt returns the value inside a quote opened by q just before
// s[v]. Backslash escapes are honoured; with escaped set the quotes are
// themselves escaped (\"value\" inside a JSON string), and the value ends
// at the first \" that closes it or at a bare quote that ends the outer
// string. An unclosed quote runs to the end of the line.
func quotedValueAt(s string, v int, q byte, escaped bool) span {
	for j := v; j < len(s); {
		switch c := s[j]; {
		case c == '\n':
			return span{v, j}
		case c == '\\':
			r := j
			for r < len(s) && s[r] == '\\' {
				r++
			}
			if r < len(s) && s[r] == q {
				n := r - j
				switch {
				case !escaped && n%2 == 0, escaped && n%2 == 0:
					return span{v, r} // a bare quote after escaped backslashes
				case escaped && n%4 == 1:
					return span{v, r - 1}
				}
				j = r + 1 // an escaped quote inside the value
				continue
			}
			if r == j+1 && r < len(s) && escaped && s[r] == 'n' {
				return span{v, j} // a literal \n: the end of a line inside JSON text
			}
			j = r + 1
		case c == q:
			return span{v, j}
		default:
			j++
		}
	}
	return span{v, len(s)}
}

// unquotedEnd returns the end of a bare value starting at s[v]: at a
// blank, a separator of the syntaxes it may sit in (';' of JDBC and ADO
// strings, '&' of queries and forms, ',' of lists), a quote that closes
// the text around it, an escape such as a literal \n, a closing bracket
// it did not open ({password=x} in a dumped structure), or the operator of
// another assignment whose value follows a blank (api_key: value).
func unquotedEnd(s string, v int) int {
	depth := 0
	for j := v; j < len(s); j++ {
		switch c := s[j]; c {
		case ' ', '\t', '\n', '\r', '\v', '\f', ';', '&', ',', '"', '\'', '`', '<':
			return j
		case '\\':
			if j+1 < len(s) && strings.IndexByte(`nrt"'\`, s[j+1]) >= 0 {
				return j
			}
		case ':', '=':
			if operatorBeforeBlank(s, j) {
				return j
			}
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth == 0 {
				return j
			}
			depth--
		default:
			if c < ' ' || c == 0x7f {
				return j
			}
		}
	}
	return len(s)
}

// lineEnd returns the end of a header or YAML value starting at s[v]: the
// end of the line (a newline, or a literal \n or \r inside JSON text), or
// the quote that opened the text holding the key
// (-H 'Authorization: Bearer x'), less trailing blanks.
func lineEnd(s string, v, keyStart int) int {
	var q byte
	if p := skipBlanksBack(s, keyStart); p > 0 && (s[p-1] == '"' || s[p-1] == '\'' || s[p-1] == '`') {
		q = s[p-1]
	}
	j := v
	for ; j < len(s); j++ {
		c := s[j]
		if c == '\n' || c == '\r' || q != 0 && c == q {
			break
		}
		if c == '\\' && j+1 < len(s) && strings.IndexByte(`nr"`, s[j+1]) >= 0 {
			break
		}
	}
	for j > v && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return j
}

// atLineStart reports whether the key starting at s[k] begins a line (of
// a header block or a YAML document): only blanks stand between it and
// the start of the text, a newline, a literal \n, or an opening quote.
func atLineStart(s string, k int) bool {
	p := skipBlanksBack(s, k)
	if p == 0 {
		return true
	}
	switch s[p-1] {
	case '\n', '\r', '"', '\'', '`':
		return true
	case 'n', 'r':
		return p >= 2 && s[p-2] == '\\'
	}
	return false
}

func skipBlanks(s string, i int) int {
	for n := 0; i < len(s) && (s[i] == ' ' || s[i] == '\t'); n++ {
		i++
	}
	return i
}

// skipBlanksBack returns the start of the run of at most maxSpaces blanks
// that ends at s[i].
func skipBlanksBack(s string, i int) int {
	for n := 0; n < maxSpaces && i > 0 && (s[i-1] == ' ' || s[i-1] == '\t'); n++ {
		i--
	}
	return i
}

// hasSuffixFold reports whether s ends with the lower-case ASCII suffix,
// in any case.
func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && hasPrefixFold(s[len(s)-len(suffix):], suffix)
}
