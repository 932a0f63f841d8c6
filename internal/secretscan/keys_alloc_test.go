//go:build !race

package secretscan

import "testing"

// The key rule runs for every attribute: it must not allocate for keys of
// any ordinary length, look-alikes included.
func TestKeysNoAllocs(t *testing.T) {
	for _, key := range []string{"password", "X-Api-Key", "file_size_bytes", "ｐａｓｓｗｏｒｄ", "pass\u200bword", "user[password]"} {
		if n := testing.AllocsPerRun(100, func() { boolSink = testKeys.Secret(key) }); n != 0 {
			t.Errorf("Secret(%q) allocates %v times", key, n)
		}
	}
}

// Mask must not allocate when it finds nothing, on text that stops the
// prefilter (assignments of plain keys, token prefixes) as on clean text.
func TestMaskNoAllocsWhenClean(t *testing.T) {
	for _, s := range []string{
		"The quick brown fox jumps over the lazy dog by the river.",
		"user=ada role=admin count=3 token_count=5 size_bytes=10",
		`{"user":"ada","author":"grace","content_type":"text/plain"}`,
		"glpat-rotation-policy-enabled sc_main dapicorp xoxo-hugs",
	} {
		if n := testing.AllocsPerRun(100, func() { sink, _ = Mask(s, testMarker, testKeys) }); n != 0 {
			t.Errorf("Mask(%q) allocates %v times", s, n)
		}
	}
}
