package secretscan

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A secretWord is a normalized key name whose values are secret. A key is
// secret when its normalized form ends with a word; "ends with" catches
// db_password and X-Api-Key and, unlike a substring rule, leaves author,
// token_count, passwordless and monkey alone.
type secretWord struct {
	w string
	// exact: the word names a secret only as the whole key ("auth", as
	// docker's config writes it; "oauth" and "is_auth" are not secrets).
	exact bool
	// segment: the word must start a segment of the key, after a
	// separator or a lower-to-upper case change ("db_pass", "dbPass",
	// but not "bypass" or "compass").
	segment bool
}

// builtinWords are the secret names of SPEC item 4 and the common names
// other redactors and scanners treat as secret (Sentry's denylist among
// them). Names like "session" are in because a session id is a bearer
// credential; names like "key" alone are not, since primary_key and
// monkey are ordinary.
var builtinWords = []secretWord{
	{w: "password"}, {w: "passwords"}, {w: "passwd"}, {w: "pwd"},
	{w: "passphrase"}, {w: "passwordconfirmation"}, {w: "pass", segment: true},
	{w: "secret"}, {w: "secrets"}, {w: "clientsecret"},
	{w: "secretkey"}, {w: "secretaccesskey"}, {w: "privatekey"}, {w: "privkey"},
	{w: "apikey"}, {w: "authkey"}, {w: "accountkey"}, {w: "sharedaccesskey"},
	{w: "encryptionkey"}, {w: "signingkey"}, {w: "sessionkey"},
	{w: "token"}, {w: "authorization"},
	{w: "cookie"}, {w: "cookies"}, {w: "setcookie"},
	{w: "credential"}, {w: "credentials"},
	{w: "session", segment: true}, {w: "sessionid"}, {w: "sessid"}, {w: "connectsid"},
	{w: "auth", exact: true},
}

// builtinExempt are normalized keys that end with a secret word but hold
// no secret: the shell's working-directory variables, which a dump of the
// environment always has.
var builtinExempt = []string{"pwd", "oldpwd"}

// Keys is a key rule: it tells which keys name a secret value. It is
// immutable once made and safe for concurrent use.
type Keys struct {
	pairs   pairSet              // the last two bytes of each secret word, folded (see fold)
	skips   pairSet              // the third-last and last bytes of each word, folded
	triples [1 << 15 / 64]uint64 // bit set for the last three bytes of each secret word, hashed
	byLast  [256][]secretWord    // secret words by their last byte
	exempt  []string             // normalized keys never secret though they end with a word
	allow   []string             // normalized keys never secret
}

// NewKeys returns the key rule of the built-in secret words and extra,
// less the keys in allow. Both are compared after [Normalize]. A word of
// extra is matched as a suffix like the built-in ones; naming "pwd" or
// "oldpwd" in extra makes those exact keys secret again.
func NewKeys(extra, allow []string) *Keys {
	k := &Keys{}
	words := slices.Clone(builtinWords)
	for _, w := range extra {
		words = append(words, secretWord{w: Normalize(w)})
	}
	shortPair, shortTriple := false, false
	for _, w := range words {
		if w.w == "" {
			continue
		}
		n := len(w.w)
		k.byLast[w.w[n-1]] = append(k.byLast[w.w[n-1]], w)
		switch {
		case n == 1:
			shortPair, shortTriple = true, true
		case n == 2:
			k.pairs.add(fold(w.w[0]), fold(w.w[1]))
			for c := 0; c < 256; c++ {
				k.skips.add(fold(byte(c)), fold(w.w[1])) // any byte may come before the word
			}
			shortTriple = true
		default:
			k.pairs.add(fold(w.w[n-2]), fold(w.w[n-1]))
			k.skips.add(fold(w.w[n-3]), fold(w.w[n-1]))
			k.setTriple(w.w[n-3], w.w[n-2], w.w[n-1])
		}
	}
	for c := 0; c < 256; c++ {
		// A separator may stand between a word's letters, and a byte of
		// a multi-byte character may be a fullwidth letter or a format
		// character that folding turns into or drops from a word.
		for d := 0; d < 256; d++ {
			if shortPair || isKeySeparator(byte(d)) || isKeySeparator(byte(c)) || d >= utf8.RuneSelf || c >= utf8.RuneSelf {
				k.pairs.add(fold(byte(c)), fold(byte(d)))
				k.skips.add(fold(byte(c)), fold(byte(d)))
			}
		}
	}
	if shortTriple {
		for i := range k.triples {
			k.triples[i] = ^uint64(0)
		}
	}
	for _, e := range builtinExempt {
		if !slices.ContainsFunc(extra, func(x string) bool { return Normalize(x) == e }) {
			k.exempt = append(k.exempt, e)
		}
	}
	for _, a := range allow {
		k.allow = append(k.allow, Normalize(a))
	}
	return k
}

// Normalize returns the form of a key that the rule compares: Unicode
// compatibility forms folded to ASCII where they have one (fullwidth
// letters, the Kelvin sign, mathematical letters), letters lowercased,
// format characters such as zero-width spaces dropped, and the separators
// '-', '_', '.', ':', '[', ']' and spaces dropped. Look-alike keys thus
// compare equal to the plain ones they imitate.
func Normalize(k string) string {
	var buf [64]byte
	return string(appendNormalized(buf[:0], nil, k))
}

// appendNormalized appends the normalized form of k to dst. If seg is not
// nil, seg[j] is set for each byte j of dst appended that starts a segment
// of k (after a separator or a lower-to-upper case change); seg must then
// have room for the bytes appended.
func appendNormalized(dst []byte, seg []bool, k string) []byte {
	base := len(dst)
	boundary, prevLower := true, false
	for i := 0; i < len(k); {
		c := k[i]
		if c < utf8.RuneSelf {
			// The common case, kept apart from rune decoding.
			i++
			switch cl := keyByteClass[c]; cl {
			case keySep:
				boundary, prevLower = true, false
				continue
			case keyUpper:
				c += 'a' - 'A'
				boundary = boundary || prevLower
				prevLower = false
			default:
				prevLower = cl == keyLowerOrDigit
			}
			if seg != nil {
				seg[len(dst)-base] = boundary
			}
			dst = append(dst, c)
			boundary = false
			continue
		}
		r, n := utf8.DecodeRuneInString(k[i:])
		i += n
		if r == utf8.RuneError && n == 1 {
			// Kept as it is, so that the form is never longer than k.
			if seg != nil {
				seg[len(dst)-base] = boundary
			}
			dst = append(dst, c)
			boundary, prevLower = false, false
			continue
		}
		if unicode.Is(unicode.Cf, r) {
			continue // invisible: joins what it separates
		}
		if unicode.IsSpace(r) {
			boundary, prevLower = true, false
			continue
		}
		r = foldToASCII(r)
		upper := 'A' <= r && r <= 'Z'
		if upper {
			r += 'a' - 'A'
			boundary = boundary || prevLower
		}
		if r < utf8.RuneSelf && keyByteClass[r] == keySep {
			boundary, prevLower = true, false // a fullwidth separator
			continue
		}
		if seg != nil {
			seg[len(dst)-base] = boundary
		}
		dst = utf8.AppendRune(dst, r)
		boundary, prevLower = false, !upper && r < utf8.RuneSelf && isAlnum(byte(r))
	}
	return dst
}

// Classes of ASCII bytes in a key.
const (
	keyOther uint8 = iota
	keyLowerOrDigit
	keyUpper
	keySep
)

var keyByteClass = func() (t [utf8.RuneSelf]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch b := byte(c); {
		case isKeySeparator(b):
			t[c] = keySep
		case isUpper(b):
			t[c] = keyUpper
		case isLower(b) || isDigit(b):
			t[c] = keyLowerOrDigit
		}
	}
	return t
}()

// foldToASCII maps a non-ASCII rune that is a compatibility or case
// variant of an ASCII letter or digit to that letter or digit, and
// returns any other rune unchanged. It is a small stand-in for NFKC and
// case folding, covering the look-alikes used to slip a key past a rule.
func foldToASCII(r rune) rune {
	switch {
	case 0xFF01 <= r && r <= 0xFF5E: // fullwidth ASCII
		return r - 0xFF01 + '!'
	case 0x1D400 <= r && r <= 0x1D6A3: // mathematical alphanumeric letters, 52 per style
		off := (r - 0x1D400) % 52
		if off < 26 {
			return 'A' + off
		}
		return 'a' + off - 26
	case 0x1D7CE <= r && r <= 0x1D7FF: // mathematical digits, 10 per style
		return '0' + (r-0x1D7CE)%10
	case 0x24B6 <= r && r <= 0x24CF: // circled capitals
		return 'A' + r - 0x24B6
	case 0x24D0 <= r && r <= 0x24E9: // circled small letters
		return 'a' + r - 0x24D0
	case r == 0x2170 || r == 0x2160: // small and capital roman numeral one
		return 'i'
	}
	// Case variants whose fold orbit holds an ASCII letter: the Kelvin
	// sign (k), the long s (s), the dotless i and the dotted capital I.
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return f
		}
	}
	switch r {
	case 0x0131, 0x0130:
		return 'i'
	}
	return r
}

// Secret reports whether values under key are secret.
func (k *Keys) Secret(key string) bool {
	return !k.RuledOut(key) && !k.ruledOutBySkip(key) && k.secretSlow(key)
}

// RuledOut reports whether key's last two bytes rule out every secret
// word: one bitmap lookup, small enough to be inlined, which settles the
// key of almost every attribute. Bytes are folded with |0x20, which maps
// both cases of a letter together; pairs holding a separator or a byte
// of a multi-byte character are all set, since a separator may stand
// between a word's letters and folding may turn such a character into a
// letter. A key it does not rule out may still be plain: ask [Keys.Secret].
func (k *Keys) RuledOut(key string) bool {
	n := len(key)
	if n < 2 {
		return false
	}
	return !k.pairs.has(fold(key[n-2]), fold(key[n-1]))
}

// ruledOutBySkip reports whether the third-last and last bytes of key rule
// out every secret word: a second pair that settles keys such as
// ip_address, whose last two bytes end "pass". It holds only when no
// separator stands between them (password_s ends "passwords").
func (k *Keys) ruledOutBySkip(key string) bool {
	n := len(key)
	if n < 3 || keyByteClass[key[n-2]&0x7f] == keySep {
		return false
	}
	return !k.skips.has(fold(key[n-3]), fold(key[n-1]))
}

// fold maps both cases of a letter to one byte (and other bytes to some
// byte): the key pairs hold both cases of each word's bytes.
func fold(c byte) byte { return c | 0x20 }

func tripleIndex(a, b, c byte) int {
	return int(a&0x1f)<<10 | int(b&0x1f)<<5 | int(c&0x1f)
}

func (k *Keys) setTriple(a, b, c byte) {
	i := tripleIndex(a, b, c)
	k.triples[i>>6] |= 1 << (i & 63)
}

// ruledOutByTriple reports whether the last three bytes of an ASCII key,
// separators skipped, rule out every secret word. It settles keys such as
// size_bytes, whose last two bytes end "cookies", without normalizing
// them.
func (k *Keys) ruledOutByTriple(key string) bool {
	var t [3]byte
	n, i := 0, len(key)
	for n < 3 && i > 0 {
		i--
		c := key[i]
		if c >= utf8.RuneSelf {
			return false // folding may change it: take the slow path
		}
		if !isKeySeparator(c) {
			n++
			t[3-n] = lower(c)
		}
	}
	if n < 3 {
		return false
	}
	j := tripleIndex(t[0], t[1], t[2])
	return k.triples[j>>6]&(1<<(j&63)) == 0
}

// maxStackKey is the longest key normalized without allocating.
const maxStackKey = 96

func (k *Keys) secretSlow(key string) bool {
	if k.ruledOutByTriple(key) {
		return false
	}
	return k.secretSlowNoTriple(key)
}

// secretSlowNoTriple is the full rule, with no fast check before it.
func (k *Keys) secretSlowNoTriple(key string) bool {
	if k.plainSuffix(key) {
		return true
	}
	// The normalized form is never longer than the key: folding maps to
	// shorter ASCII or leaves a rune as it is.
	var buf [maxStackKey]byte
	var norm []byte
	if len(key) <= maxStackKey {
		norm = appendNormalized(buf[:0], nil, key)
	} else {
		norm = appendNormalized(nil, nil, key)
	}
	n := len(norm)
	if n == 0 {
		return false
	}
	for _, w := range k.byLast[norm[n-1]] {
		if len(w.w) > n || string(norm[n-len(w.w):]) != w.w {
			continue
		}
		start := n - len(w.w)
		switch {
		case w.exact && start != 0:
			continue
		case w.segment && start != 0 && !segmentStart(key, start):
			continue
		}
		return !k.exempted(norm)
	}
	return false
}

// segmentStart reports whether byte i of the normalized form of key
// starts a segment of it: after a separator or a lower-to-upper case
// change. Only words that must start a segment ask, so the common path
// does not record segments.
func segmentStart(key string, i int) bool {
	var segBuf [maxStackKey]bool
	var buf [maxStackKey]byte
	seg := segBuf[:]
	if len(key) > maxStackKey {
		seg = make([]bool, len(key))
	}
	appendNormalized(buf[:0], seg, key)
	return seg[i]
}

// plainSuffix reports whether key ends with a secret word as written, in
// either case and without separators inside the word (password,
// db_password, access_token, Authorization), which settles the common
// secret key without normalizing it. It reports false when it cannot
// tell: the full rule decides then.
func (k *Keys) plainSuffix(key string) bool {
	if len(k.allow) != 0 || key == "" {
		return false // allowed keys compare in normalized form
	}
	for _, w := range k.byLast[lower(key[len(key)-1])] {
		if !hasSuffixFold(key, w.w) || len(k.exempt) != 0 && strings.HasSuffix(w.w, "pwd") {
			continue // exempt keys (old_pwd) compare in normalized form
		}
		start := len(key) - len(w.w)
		switch {
		case w.exact && start != 0:
			continue
		case w.segment && start != 0 && !isKeySeparator(key[start-1]):
			continue
		}
		return true
	}
	return false
}

func (k *Keys) exempted(norm []byte) bool {
	for _, e := range k.exempt {
		if string(norm) == e {
			return true
		}
	}
	for _, a := range k.allow {
		if string(norm) == a {
			return true
		}
	}
	return false
}

func isKeySeparator(c byte) bool {
	switch c {
	case '-', '_', '.', ':', '[', ']', ' ', '\t':
		return true
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
