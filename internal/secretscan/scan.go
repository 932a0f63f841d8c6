// Package secretscan finds secrets inside text: the shapes of well-known
// credentials (cloud keys, JWTs, PEM private keys, HTTP authorization
// values, URL and DSN passwords, signed URL query values), every token
// format whose prefix names its issuer, and the values assigned to keys
// that a key rule calls secret (password=..., "api_key": "...",
// <token>...</token>, --password ...). It knows nothing of slog:
// its functions take strings and return strings, and the key rule is a
// parameter, so that a caller's own secret names and allowed keys hold
// inside text as they do for attributes.
package secretscan

import (
	"cmp"
	"slices"
	"strings"
)

// Mask returns s with every secret in it replaced by marker, keeping the
// rest of the string, and whether it replaced anything. keys is the key
// rule for keys found inside s. It does not allocate when it finds nothing.
//
// The shapes are those of well-known credential formats (cloud keys, API
// tokens of about a hundred issuers, JWTs, PEM private keys, HTTP auth
// headers, URL and DSN passwords and signed URL query values), and values
// assigned inside the text to a key that keys calls secret, in the
// syntaxes of logfmt, DSNs, env files, JDBC and ADO strings, YAML, HTTP
// headers, JSON and dicts (escaped JSON included), Go, Ruby and PHP
// code, XML elements, property setters and command-line flags. Only the
// secret value is replaced; the text that makes it recognisable, such as
// "Bearer ", the key before a value or the BEGIN and END lines of a
// private key, is kept so that the log stays readable.
//
// The scan is a single pass over s, linear in len(s) on any input. Every
// shape is anchored on two adjacent bytes of its fixed part, and the exact
// matcher of a shape runs only where they occur. Matchers run independently
// of each other and their results are merged, so a secret is never hidden
// from its own matcher by an overlapping match of another shape
// ("Bearer <JWT>").
func Mask(s, marker string, keys *Keys) (string, bool) {
	if len(s) < MinLen || shortIdentifier(s) {
		return s, false
	}
	first := FirstAnchor(s)
	if first < 0 {
		return s, false
	}
	return maskFrom(s, marker, keys, first)
}

// maxShortIdentifier is the length under which a string of letters, digits,
// '_', '-', '.' and '/' cannot hold a secret: the shortest token any
// matcher takes (a Slack token, "xoxb-" and ten digits) is longer, and
// every other shape needs a byte such a string lacks (an assignment's '='
// or ':', a URL's '@', a header's blank). Most attribute keys are such
// strings (content_type, user_agent), and so are many short values
// (text/plain, /srv/files); many hold an anchor ("t_", "r_").
const maxShortIdentifier = 14

// shortIdentifier reports whether s is a string that cannot hold a secret
// by the rule of maxShortIdentifier.
func shortIdentifier(s string) bool {
	if len(s) > maxShortIdentifier {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isWordOrDash(c) && c != '.' && c != '/' {
			return false
		}
	}
	return true
}

// FirstAnchor returns the index of the first pair of bytes of s that
// anchors a shape, or -1. It tests four pairs per branch: most text holds
// no anchor at all, and there the cost of this loop is the cost of
// Mask.
func FirstAnchor(s string) int {
	i := 0
	for ; i+4 < len(s); i += 4 {
		p := s[i : i+5]
		if pairFirst[p[0]]&pairSecond[p[1]]|pairFirst[p[1]]&pairSecond[p[2]]|
			pairFirst[p[2]]&pairSecond[p[3]]|pairFirst[p[3]]&pairSecond[p[4]] == 0 {
			continue
		}
		// A candidate: the tables admit some pairs no shape has.
		for j := i; j < i+4; j++ {
			if anchors.has(s[j], s[j+1]) {
				return j
			}
		}
	}
	for ; i+1 < len(s); i++ {
		if anchors.has(s[i], s[i+1]) {
			return i
		}
	}
	return -1
}

// anchorBits returns the bits of the shapes anchored on the pair a, b:
// those of pairFirst and pairSecond, less the token families' when no
// family has the pair. (pairAWS is shared with the AWS key ids.)
func anchorBits(a, b byte) uint32 {
	hit := pairFirst[a] & pairSecond[b]
	if !famIndex.pairs.has(a, b) {
		hit &^= pairFamilies &^ pairAWS
	}
	return hit
}

// A pairSet is a set of pairs of bytes, one bit each.
type pairSet [256 * 256 / 64]uint64

func (t *pairSet) has(a, b byte) bool {
	i := uint(a)<<8 | uint(b)
	return t[i>>6]&(1<<(i&63)) != 0
}

func (t *pairSet) add(a, b byte) {
	i := uint(a)<<8 | uint(b)
	t[i>>6] |= 1 << (i & 63)
}

// anchors holds every pair of bytes that anchors a shape: the pairs
// pairFirst and pairSecond admit, less those whose only shapes are token
// families that have no such pair (the tables' bits for families are
// shared by kind of pair, so they admit pairs no family has: "6." of
// "2026.pdf"). The prefilter then stops at real anchors only.
var anchors = func() *pairSet {
	t := new(pairSet)
	for a := 0; a < 256; a++ {
		for b := 0; b < 256; b++ {
			if anchorBits(byte(a), byte(b)) != 0 {
				t.add(byte(a), byte(b))
			}
		}
	}
	return t
}()

// Contains reports whether Mask would change s, without building its
// result: it stops at the first secret.
func Contains(s, marker string, keys *Keys) bool {
	if len(s) < MinLen || shortIdentifier(s) {
		return false
	}
	first := FirstAnchor(s)
	return first >= 0 && detectFrom(s, marker, keys, first)
}

// detectFrom runs the matchers from the anchor at s[from] on and stops at
// the first secret.
func detectFrom(s, marker string, keys *Keys, from int) bool {
	m := masker{s: s, marker: marker, keys: keys, detect: true}
	m.scan(from)
	return m.found
}

// maskFrom runs the matchers from the anchor at s[from] on.
func maskFrom(s, marker string, keys *Keys, from int) (string, bool) {
	m := masker{s: s, marker: marker, keys: keys}
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
		next := FirstAnchor(m.s[i+1:])
		if next < 0 {
			return
		}
		i += 1 + next
	}
}

// MinLen is the length of the shortest input that can hold a secret of
// the built-in rules: "pwd=x", "a://b@". Shorter texts are not scanned,
// which keeps the many short values of a record cheap; a word of one or
// two bytes that a caller names secret is matched in texts of MinLen
// bytes or more.
const MinLen = 5

// Minimum lengths of the random part of each shape. A shorter run is not a
// credential of that kind; a longer one is masked whole, so that no part of
// a secret that merely looks oversized is left behind.
const (
	awsKeyLen      = 20 // prefix and 16 capitals or digits, exactly
	githubTokenMin = 36
	githubPATMin   = 82 // the published length; shorter runs are identifiers such as github_pat_expiry_days
	slackTokenMin  = 10
	// Configuration and refresh tokens are long (about 150 and 70
	// characters after the kind); shorter runs are names.
	slackConfigTokenMin  = 150
	slackRefreshTokenMin = 60
	slackWebhookMin      = 20
	stripeKeyMin         = 10
	googleKeyMin         = 35
	npmTokenMin          = 36
	authTokenMin         = 8
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
	pairAWS           uint32 = 1 << iota // "AK", "AS", "AB", "AC", "A3"; Google's "AI"
	pairUnderscore                       // "p_" of "ghp_", "b_" of "github_", "k_" of "sk_", "m_" of "npm_"
	pairSlack                            // "xo"
	pairPEMOrURL                         // "-B" of "-----BEGIN", ":/" of "://"
	pairDot                              // ".e" before a JWT payload, ".s" of "hooks.slack"
	pairQuery                            // "?X", "&s", ... of signed query keys
	pairBearer                           // "Be", "ba", ... of Bearer and Basic
	pairToken                            // "ok", "OK", ... of Token: rarer in text than "to"
	pairDSN                              // "@t" of "@tcp(", "@u" of "@unix("
	pairAssign                           // '=' or '>' and any byte: an assignment's operator
	pairAssignColon                      // ':' and any byte but a digit (10:11:12 is a time)
	pairFlag                             // "--" of a command-line flag
	pairCall                             // `",` and `',` after the key of f("key", "value")
	pairFamDash                          // a token family's pair ending in '-' ("t-" of "glpat-")
	pairFamUnderscore                    // ... ending in '_' ("f_" of "hf_")
	pairFamPunct                         // ... ending in other punctuation ("s." of "hvs.")
	pairFamPunctFirst                    // ... starting with punctuation ("_g" of "_gitlab_session=")
	pairFamDigitFirst                    // ... starting with a digit
	pairFamUpper                         // ... holding a capital ("LT" of "LTAI")
	pairFamLower                         // ... of two lower-case letters
	pairFamDigit0                        // ... ending in a digit: ten bits from here, one per digit ("R1" of "GR1348941")
)

var pairFirst = withFamilies(&famIndex.first, [256]uint32{
	'A':  pairAWS,
	'p':  pairUnderscore,
	'o':  pairUnderscore | pairToken,
	'u':  pairUnderscore,
	's':  pairUnderscore,
	'r':  pairUnderscore,
	'b':  pairUnderscore | pairBearer,
	'k':  pairUnderscore,
	'm':  pairUnderscore,
	'x':  pairSlack,
	'-':  pairPEMOrURL | pairFlag,
	':':  pairPEMOrURL | pairAssignColon,
	'.':  pairDot,
	'?':  pairQuery,
	'&':  pairQuery,
	'#':  pairQuery, // a fragment's parameters: #access_token=...
	'6':  pairQuery, // of "\u0026", an '&' escaped in JSON
	';':  pairQuery, // of "&amp;", an '&' escaped in HTML
	'@':  pairDSN,
	'B':  pairBearer,
	'O':  pairToken,
	'=':  pairAssign,
	'>':  pairAssign,
	'"':  pairCall,
	'\'': pairCall,
})

var pairSecond = withFamilies(&famIndex.second, withAnyByte(withQueryKeys([256]uint32{
	'K': pairAWS | pairToken,
	'k': pairToken,
	'S': pairAWS | pairQuery,
	'B': pairAWS | pairPEMOrURL,
	'-': pairFlag,
	'C': pairAWS,
	'3': pairAWS,
	'I': pairAWS,
	'_': pairUnderscore,
	'o': pairSlack,
	'/': pairPEMOrURL | pairDSN,
	'e': pairDot | pairBearer,
	'E': pairBearer,
	's': pairDot | pairQuery,
	'a': pairBearer | pairQuery,
	'A': pairBearer | pairQuery,
	'X': pairQuery,
	'x': pairQuery,
	',': pairCall,
})))

// withQueryKeys marks every letter as a second byte of a query anchor: it
// is the first byte of the key, and any key can be secret by name
// (access_token, password), not only the signed-URL ones. The '@' of a
// MySQL DSN is followed by "tcp(" or "unix(".
func withQueryKeys(t [256]uint32) [256]uint32 {
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= pairQuery
		t[c-'a'+'A'] |= pairQuery
	}
	t['t'] |= pairDSN
	t['u'] |= pairDSN
	return t
}

// pairFamilies are the bits of the token families' anchors.
const pairFamilies = pairFamDash | pairFamUnderscore | pairFamPunct | pairFamPunctFirst | pairFamDigitFirst | pairFamUpper | pairFamLower | pairAWS |
	pairFamDigit0*(1<<10-1)

// The ten digit bits must fit: this fails to compile otherwise.
const _ = uint32(pairFamDigit0 << 9)

// withFamilies adds the bits of the token families' anchoring pairs.
func withFamilies(fam *[256]uint32, t [256]uint32) [256]uint32 {
	for c := range t {
		t[c] |= fam[c]
	}
	return t
}

// withAnyByte marks every byte as the second of an assignment anchor: a
// value may start with any byte, or the operator be followed by a blank.
func withAnyByte(t [256]uint32) [256]uint32 {
	for c := range t {
		t[c] |= pairAssign
		if !isDigit(byte(c)) {
			// A value after a colon follows a blank (password:
			// 1234); a colon before a digit is that of a time, a
			// port or a ratio.
			t[c] |= pairAssignColon
		}
	}
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
	slackToken
	privateKey
	jwt
	slackWebhook
	urlCredential
	queryCredential
	authCredential
	dsnPassword
	assignment
	tokenFamily
	numShapes
)

// A span is the byte range s[start:end] of a secret value.
// A span that is empty means no match.
type span struct{ start, end int }

func (v span) empty() bool { return v.end <= v.start }

// A masker collects the secret values of one string.
type masker struct {
	s, marker string
	keys      *Keys // the key rule for keys found inside the text
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
	hit := anchorBits(m.s[i], m.s[i+1])
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
		if i >= m.done[queryCredential] {
			m.record(queryCredential, queryCredentialAt(m.s, i, m.keys))
		}
	}
	if hit&(pairBearer|pairToken) != 0 {
		start := i
		if hit&pairToken != 0 {
			start = i - len("T")
		}
		m.try(authCredential, i, start, authCredentialAt)
		// Another scheme may stand inside a credential
		// ("Token 0006/Basic <base64>"), so no anchor is skipped. Each
		// credential read ends at the blank after the next scheme, so
		// the scan stays linear.
		m.done[authCredential] = 0
	}
	if hit&pairDSN != 0 {
		m.try(dsnPassword, i, i, dsnPasswordAt)
	}
	if hit&pairFamilies != 0 && i >= m.done[tokenFamily] {
		v := familyAt(m.s, i)
		m.record(tokenFamily, v)
		if !v.empty() {
			// A token of another format may start inside this one and
			// run past its end (base64 "ABSK.../sk" then "-admin-..."):
			// its prefix reaches into the last bytes, whose anchors are
			// tried again. The overlap is bounded, so the scan stays
			// linear.
			m.done[tokenFamily] = max(i+1, v.end-famIndex.maxPrefix)
		}
	}
	if hit&(pairAssign|pairAssignColon|pairFlag|pairCall) != 0 && i >= m.done[assignment] {
		v := assignmentAt(m.s, i, m.keys)
		m.record(assignment, v)
		if !v.empty() {
			m.assignmentTail(v)
		}
		m.reopenQuoted(v)
	}
}

// reopenQuoted lets the anchors inside v, an assignment's value just
// recorded, be tried if it is quoted: it may hold another assignment whose
// value starts at its closing quote (pass="token := "secret"). A quoted
// value ends at its quote, so each of them reads up to the next quote
// only, and the scan stays linear.
func (m *masker) reopenQuoted(v span) {
	if !v.empty() && isQuote(m.s[v.start-1]) {
		m.done[assignment] = min(m.done[assignment], v.start)
	}
}

// assignmentTail tries the assignment that may end the value v: its key
// and operator, or a --flag, lie inside v, but its own value lies past v's
// end, so the anchor was skipped ("Apikey:&herokuToken := "secret"",
// "Authorization: Bearer --db-password secret"). It looks back a bounded
// distance, so the scan stays linear.
func (m *masker) assignmentTail(v span) {
	q := skipBlanks(m.s, v.end)
	o := skipBlanksBack(m.s, q) - 1
	if o <= v.start {
		return
	}
	if m.s[o] == '>' && m.s[o-1] == '=' {
		o--
	}
	if m.s[o] == '=' || m.s[o] == ':' {
		w := assignmentAt(m.s, o, m.keys)
		m.record(assignment, w)
		m.reopenQuoted(w)
		return
	}
	w := o
	for lo := max(v.start, o-maxKeyLen-2); w > lo && !isSpace(m.s[w-1]); w-- {
	}
	if strings.HasPrefix(m.s[w:], "--") && q > v.end {
		f := flagValueAt(m.s, w, m.keys)
		m.record(assignment, f)
		m.reopenQuoted(f)
	}
}

// try records the value that match finds at start, unless the anchor lies
// inside an earlier value of the same shape.
func (m *masker) try(k shape, anchor, start int, match func(s string, i int) span) {
	if anchor < m.done[k] || start < 0 {
		return
	}
	m.record(k, match(m.s, start))
}

// record keeps v, the value a matcher of shape k found.
func (m *masker) record(k shape, v span) {
	if v.empty() {
		// A matcher that looked at a run and turned it down returns the
		// empty span at its end: later anchors inside the run would be
		// turned down too, and rescanning it from each would be quadratic.
		m.done[k] = max(m.done[k], v.end)
		return
	}
	m.done[k] = v.end
	if m.alreadyMasked(v) {
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
func (m *masker) alreadyMasked(v span) bool {
	if m.marker == "" {
		return false
	}
	// Only a value made of markers, and of the punctuation that joins
	// masked parts: a password that merely holds the marker text
	// ("[REDACTED]x") is still a password, and so is one made of
	// punctuation alone ("!@#$").
	val := m.s[v.start:v.end]
	if !strings.Contains(val, m.marker) {
		return false
	}
	val = strings.ReplaceAll(val, m.marker, "")
	for i := 0; i < len(val); i++ {
		if strings.IndexByte(":/@.-_ ", val[i]) < 0 {
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
// of key and 16 capitals or digits, standing alone as a word. Key ids are
// documented as base32, but ids holding 0, 1, 8 and 9 are in use (issue
// 12), so every digit is admitted.
func awsKeyAt(s string, i int) span {
	end := i + awsKeyLen
	if end > len(s) || !tokenStart(s, i) {
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
		if !isUpperAlnum(s[j]) {
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
		!freeFamilyAt(w, i).empty() ||
		!slackTokenAt(w, i).empty()
}

// googleKeyAt matches a Google API key, "AIza" and 35 or more [\w-].
func googleKeyAt(s string, i int) span {
	if !strings.HasPrefix(s[i:], "AIza") || !tokenStart(s, i) {
		return span{}
	}
	return placeholderCut(s, i+len("AIza"), runAtLeast(s, i, i+len("AIza"), googleKeyMin, isWordOrDash))
}

// githubTokenAt matches a GitHub token: a classic one, "gh" and a letter
// naming its kind, or a fine-grained personal access token.
func githubTokenAt(s string, i int) span {
	t := s[i:]
	switch {
	case len(t) > 4 && t[0] == 'g' && t[1] == 'h' && strings.IndexByte("pousr", t[2]) >= 0 && t[3] == '_':
		// Newer installation tokens (ghs_) hold '_' inside.
		return placeholderCut(s, i+len("ghp_"), runAtLeast(s, i, i+len("ghp_"), githubTokenMin, isWord))
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
	if len(t) < len("sk_test_") || t[0] != 's' && t[0] != 'r' || t[1] != 'k' || !tokenStart(s, i) {
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
	if !strings.HasPrefix(s[i:], "npm_") || !tokenStart(s, i) {
		return span{}
	}
	return placeholderCut(s, i+len("npm_"), runAtLeast(s, i, i+len("npm_"), npmTokenMin, isAlnum))
}

// slackTokenAt matches a Slack token: xox and a letter naming its kind
// (bot, user, app-level, refresh, legacy workspace and others), or a
// configuration token (xoxe.xoxb-, xoxe.xoxp-). The kinds differ only in
// how their run of digits, letters and dashes is grouped, which need not
// be checked to know it is a token.
func slackTokenAt(s string, i int) span {
	t := s[i:]
	if len(t) < len("xoxb-") || t[:3] != "xox" {
		return span{}
	}
	n, min := len("xoxb-"), slackTokenMin
	switch {
	case strings.HasPrefix(t, "xoxe.xoxb-") || strings.HasPrefix(t, "xoxe.xoxp-"):
		n, min = len("xoxe.xoxb-"), slackConfigTokenMin
	case t[3] == 'e' && t[4] == '-':
		min = slackRefreshTokenMin
	case strings.IndexByte("abeoprs", t[3]) < 0 || t[4] != '-':
		return span{}
	}
	if (t[3] == 'o' || t[3] == 's') && (n == len(t) || !isDigit(t[n])) {
		return span{} // legacy tokens start with digits; xoxo-hugs is a greeting
	}
	return placeholderCut(s, i+n, runAtLeast(s, i, i+n, min, isSlackChar))
}

// placeholderCut returns v, a token whose body starts at s[body], unless
// the body is a placeholder (xxxxxxxx), in which case it returns the
// empty span at its end.
func placeholderCut(s string, body int, v span) span {
	if !v.empty() && !notPlaceholder(s[body:v.end]) {
		return span{v.end, v.end}
	}
	return v
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
// `{"`, or `{` and blanks as pretty-printers and some libraries write it.
func hasJSONPrefix(t string) bool {
	if len(t) < 4 || t[0] != 'e' {
		return false
	}
	switch t[:3] {
	case "eyJ", "ewo", "ewk": // {"  {\n  {\t
		return true
	}
	switch t[:4] {
	case "eyAi", "eyAg", "ew0K": // { "  {  (two spaces)  {\r\n
		return true
	}
	return false
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
	if at <= 0 || start+at+1 == len(s) || !isHostStart(s[start+at+1]) {
		// No host after the '@': it is part of a password that goes on
		// past an unencoded '/', '?' or '#' (redis://:!@#$@cache).
		if v := unencodedPasswordAt(s, start); !v.empty() || at <= 0 {
			return v
		}
	}
	end := start + at
	if c := strings.IndexByte(s[start:end], ':'); c >= 0 {
		return span{start + c + 1, end}
	}
	// A bare userinfo is a login name, digits and capitals included
	// (https://john42@git.example, spark://CoarseGrainedScheduler@host),
	// unless it is too long and random for one: a bare token used as
	// the userinfo (https://<40 hex>@github.com). Tokens that name their
	// issuer are found by their own matchers wherever they stand.
	if isLoginScheme(s[:i]) || !userinfoIsToken(s[start:end]) {
		return span{}
	}
	return span{start, end}
}

// unencodedPasswordAt matches a password holding an unencoded '/', '?',
// '#' or '\”, which ends the authority early (postgres://admin:pa/ss@db): with
// "user:" before any of them, and an '@' and a host later in the same
// token, the password runs to that '@'. A port followed by a path
// (host:8080/@scope/pkg) is not a password.
func unencodedPasswordAt(s string, start int) span {
	// "user:" and the start of the password must be in the authority:
	// a cheap test that settles most "://" at once.
	authEnd := runEnd(s, start, inAuthority)
	auth := s[start:authEnd]
	if c := strings.IndexByte(auth, ':'); c < 0 || c == len(auth)-1 && (authEnd == len(s) || s[authEnd] != '\'') {
		return span{}
	}
	// The window is bounded so that the scan stays linear however many
	// "://" a string holds; a userinfo is never this long.
	tokenEnd := runEnd(s[:min(len(s), start+maxUserinfo)], start, inURLToken)
	// The last '@' followed by a host: one at the very end, or before
	// punctuation, belongs to the text after the URL.
	at := strings.LastIndexByte(s[start:tokenEnd], '@')
	for at > 0 && (start+at+1 >= tokenEnd || !isHostStart(s[start+at+1])) {
		at = strings.LastIndexByte(s[start:start+at], '@')
	}
	if at <= 0 {
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

// minUserinfoToken is the shortest bare userinfo taken for a token,
// longer than the logins that mix letters and digits (john42, build7).
const minUserinfoToken = 16

// userinfoIsToken reports whether a bare userinfo is a token rather than
// a login name: long, and mixing letters and digits as random strings do
// (a capitalised name such as CoarseGrainedScheduler does not).
func userinfoIsToken(u string) bool {
	if len(u) < minUserinfoToken {
		return false
	}
	var seen uint8
	for i := 0; i < len(u); i++ {
		seen |= byteClass[u[i]]
	}
	return seen&classDigit != 0 && seen&(classLower|classUpper) != 0
}

// maxUserinfo bounds the search for the '@' of a userinfo whose password
// has an unencoded '/', '?' or '#'.
const maxUserinfo = 256

// inURLToken reports whether c may occur in a URL token whose password
// holds unencoded characters. A '\” is allowed: passwords hold it
// (postgres://u:it's@db), and a quote around the URL ends before an '@'
// and a host could follow.
func inURLToken(c byte) bool {
	switch c {
	case '"', '<', '>', '`', '\\', 0x7f:
		return false
	}
	return c > ' '
}

func isHostStart(c byte) bool { return isAlnum(c) || c == '[' }

// dsnPasswordAt matches the password of a Go MySQL driver DSN,
// user:password@tcp(host:port)/db, @unix(socket) or @/db, whose '@' is at
// s[i]. The password may hold '=' (dsn=root:pa=ss@tcp(...)): the user
// ends at the first ':'.
func dsnPasswordAt(s string, i int) span {
	switch {
	case strings.HasPrefix(s[i:], "@tcp("), strings.HasPrefix(s[i:], "@unix("):
	case strings.HasPrefix(s[i:], "@/"):
		// user:password@/dbname, the driver's default address. The '@'
		// and '/' are common in other text, so the shape is held to
		// what the driver accepts: a plain user and a plain database
		// name.
		if !isDefaultAddressDSN(s, i) {
			return span{}
		}
	default:
		return span{}
	}
	start := max(runStart(s, i, inDSNUserinfo), i-maxUserinfo) // bounded, like unencodedPasswordAt
	c := strings.IndexByte(s[start:i], ':')
	if c < 0 || start+c+1 == i {
		return span{}
	}
	return span{start + c + 1, i}
}

// isDefaultAddressDSN reports whether the "@/" at s[at] is that of
// user:password@/dbname: a database name ending the token or followed by
// its parameters, and before the '@' a user name and ':' that start a
// token.
func isDefaultAddressDSN(s string, at int) bool {
	e := runEnd(s, at+2, isWord)
	if e == at+2 || e < len(s) && s[e] != '?' && !isSpace(s[e]) && strings.IndexByte("\"'`,)", s[e]) < 0 {
		return false
	}
	start := max(runStart(s, at, inDSNUserinfo), at-maxUserinfo)
	c := strings.IndexByte(s[start:at], ':')
	if c <= 0 || start+c+1 == at || s[start+c+1] == ':' {
		return false
	}
	for _, b := range []byte(s[start : start+c]) {
		if !isWordOrDash(b) && b != '.' {
			return false
		}
	}
	return true
}

func inDSNUserinfo(c byte) bool {
	switch c {
	case '"', '\'', '<', '>', '`', ',', ';', '(', ')':
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
func queryCredentialAt(s string, i int, keys *Keys) span {
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
	if eq <= 0 || !isSecretQueryKey(s[k:k+eq], keys) {
		return span{}
	}
	start := k + eq + 1
	return span{start, runEnd(s, start, inQueryValue)}
}

// maxQueryKey bounds the key looked at, keeping the scan linear.
const maxQueryKey = 48

// isSecretQueryKey reports whether a query key's value is a credential: a
// signed URL's key, or a key the key rule calls secret.
func isSecretQueryKey(key string, keys *Keys) bool {
	if isSignedQueryKey(key) {
		return true
	}
	for i := 0; i < len(key); i++ {
		if !isWord(key[i]) && key[i] != '-' && key[i] != '.' {
			return false
		}
	}
	return keys.Secret(key)
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
	if n == 0 || !tokenStart(s, i) {
		return span{}
	}
	j := i + n
	if j < len(s) && s[j] == ':' && n == len("bearer") {
		j++ // "Bearer: <token>", as some clients write it
	}
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
	tok := s[j:end]
	if isAuthParam(tok) {
		return span{} // a challenge's parameter (Basic realm=MyRealm), not a token68
	}
	if n == len("basic") && !isBasicCredential(tok) {
		return span{} // "the Basic Plan2024": not the base64 of user:password
	}
	return span{j, end}
}

// isAuthParam reports whether t is an auth-param, a lower-case name and
// '=' followed by a value (realm=MyRealm), rather than a token68, which
// may hold '=' only as padding at its end.
func isAuthParam(t string) bool {
	eq := strings.IndexByte(t, '=')
	if eq <= 0 || strings.Trim(t[eq:], "=") == "" {
		return false
	}
	for i := 0; i < eq; i++ {
		if !isLower(t[i]) {
			return false
		}
	}
	return true
}

// isBasicCredential reports whether t is the base64 of a user and
// password joined by ':', as RFC 7617 defines Basic credentials.
func isBasicCredential(t string) bool {
	t = strings.TrimRight(t, "=")
	var acc, bits uint
	for i := 0; i < len(t); i++ {
		v := base64Value(t[i])
		if v < 0 {
			return false
		}
		acc, bits = acc<<6|uint(v), bits+6
		if bits >= 8 {
			bits -= 8
			if byte(acc>>bits) == ':' {
				return true
			}
		}
	}
	return false
}

// base64Value returns the value of a standard or URL-safe base64 digit,
// or -1.
func base64Value(c byte) int {
	switch {
	case isUpper(c):
		return int(c - 'A')
	case isLower(c):
		return int(c-'a') + 26
	case isDigit(c):
		return int(c-'0') + 52
	case c == '+' || c == '-':
		return 62
	case c == '/' || c == '_':
		return 63
	}
	return -1
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

// hasPrefixFold reports whether t starts with prefix, written in lower
// case, with its ASCII letters in any case.
func hasPrefixFold(t, prefix string) bool {
	if len(t) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(t[i]) != prefix[i] {
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

// tokenStart reports whether a token may start at s[i]: at a word start,
// or right after an escape that ends in a letter or digit, which is a
// boundary in the text it encodes: a percent escape ("%3D" of an encoded
// '='), a JSON or C escape (a literal "\n" or "\t"), or a JSON "\u003d".
func tokenStart(s string, i int) bool {
	if wordStart(s, i) {
		return true
	}
	switch {
	case i >= 3 && s[i-3] == '%' && isHexByte(s[i-2]) && isHexByte(s[i-1]):
		return true
	case i >= 2 && s[i-2] == '\\' && strings.IndexByte("nrtbf", s[i-1]) >= 0:
		return true
	case i >= 6 && s[i-6] == '\\' && s[i-5] == 'u' && isHexByte(s[i-4]) && isHexByte(s[i-3]) && isHexByte(s[i-2]) && isHexByte(s[i-1]):
		return true
	}
	return false
}

func isDigit(c byte) bool        { return '0' <= c && c <= '9' }
func isUpper(c byte) bool        { return 'A' <= c && c <= 'Z' }
func isLower(c byte) bool        { return 'a' <= c && c <= 'z' }
func isLetter(c byte) bool       { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool        { return isDigit(c) || isLetter(c) }
func isWord(c byte) bool         { return isAlnum(c) || c == '_' }
func isWordOrDash(c byte) bool   { return isWord(c) || c == '-' } // also base64url
func isHexByte(c byte) bool      { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'f' }
func isSlackChar(c byte) bool    { return isAlnum(c) || c == '-' }
func isWebhookChar(c byte) bool  { return isWordOrDash(c) || c == '+' || c == '/' }
func isSchemeChar(c byte) bool   { return isAlnum(c) || c == '+' || c == '-' || c == '.' }
func isPEMLabelChar(c byte) bool { return isWord(c) || c == ' ' }

func isQuote(c byte) bool { return c == '"' || c == '\'' || c == '`' }

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
