package secretscan

import (
	"slices"
	"strings"
)

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

// Keys is a key rule: it tells which keys name a secret value. It is
// immutable once made and safe for concurrent use.
type Keys struct {
	pairs  [256 * 256 / 64]uint64 // bit set for the last two bytes of each secret word
	byLast [256][]string          // secret words by their last byte
	allow  []string               // normalized keys never secret
}

// NewKeys returns the key rule of the built-in secret words and extra,
// less the keys in allow. Both are compared after [Normalize].
func NewKeys(extra, allow []string) *Keys {
	k := &Keys{}
	short := false
	for _, w := range append(slices.Clip(secretWords), extra...) {
		if w = Normalize(w); w != "" {
			k.byLast[w[len(w)-1]] = append(k.byLast[w[len(w)-1]], w)
			if len(w) >= 2 {
				k.setPair(w[len(w)-2], w[len(w)-1])
			} else {
				short = true
			}
		}
	}
	for c := 0; c < 256; c++ {
		for _, sep := range []byte{'-', '_', '.', ' '} {
			k.setPair(byte(c), sep)
			k.setPair(sep, byte(c))
		}
		if short { // a one-byte word: no pair rules a key out
			for d := 0; d < 256; d++ {
				k.setPair(byte(c), byte(d))
			}
		}
	}
	for _, a := range allow {
		k.allow = append(k.allow, Normalize(a))
	}
	return k
}

// Normalize lowercases ASCII letters and drops the separators '-', '_',
// '.' and ' '.
func Normalize(k string) string {
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

// Secret reports whether values under key are secret.
func (k *Keys) Secret(key string) bool {
	return !k.RuledOut(key) && k.secretSlow(key)
}

// RuledOut reports whether key's last two bytes rule out every secret
// word: one bitmap lookup, small enough to be inlined, which settles the
// key of almost every attribute. Bytes are folded with |0x20, which maps
// both cases of a letter together; pairs holding a separator are all set,
// since a separator may stand between a word's letters. A key it does not
// rule out may still be plain: ask [Keys.Secret].
func (k *Keys) RuledOut(key string) bool {
	n := len(key)
	if n < 2 {
		return false
	}
	i := int(key[n-2]|0x20)<<8 | int(key[n-1]|0x20)
	return k.pairs[i>>6]&(1<<(i&63)) == 0
}

func (k *Keys) setPair(a, b byte) {
	i := int(a|0x20)<<8 | int(b|0x20)
	k.pairs[i>>6] |= 1 << (i & 63)
}

func (k *Keys) secretSlow(key string) bool {
	end := len(key)
	for end > 0 && isKeySeparator(key[end-1]) {
		end--
	}
	if end == 0 {
		return false
	}
	words := k.byLast[lower(key[end-1])]
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		if hasNormalizedSuffix(key[:end], w) {
			return !k.allowed(key)
		}
	}
	return false
}

func (k *Keys) allowed(key string) bool {
	if len(k.allow) == 0 {
		return false
	}
	return slices.Contains(k.allow, Normalize(key))
}

// hasNormalizedSuffix reports whether Normalize(key) ends with w, which is
// already normalized, without building the normalized key.
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
