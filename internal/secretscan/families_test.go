package secretscan

import (
	"strings"
	"testing"

	"github.com/slogaudit/audit/internal/testsecrets"
)

// TestTokenFamilies masks a made-up sample of every self-identifying
// format wherever it stands, and passes a truncated one and a
// placeholder of the same shape.
func TestTokenFamilies(t *testing.T) {
	for _, tok := range testsecrets.Tokens {
		v := tok.Value()
		t.Run(tok.Name, func(t *testing.T) {
			for _, frame := range []struct{ before, after string }{
				{"", ""},
				{"token ", " leaked"},
				{"KEY=", "\n"},
				{`{"k":"`, `"}`},
				{"(", ")"},
				{"url?x=1&k%3D", "&y=2"},
				{`"line\n`, `\n"`},
				{"'", "';"},
			} {
				in := frame.before + v + frame.after
				got, found := Mask(in, testMarker, testKeys)
				secret := tok.Body
				if secret == "" {
					secret = v
				}
				if !found || strings.Contains(got, secret) {
					t.Errorf("Mask(%q) = %q, %v; want the token masked", in, got, found)
				}
				if !strings.HasPrefix(got, frame.before) || !strings.HasSuffix(got, frame.after) {
					t.Errorf("Mask(%q) = %q; lost the text around the token", in, got)
				}
				if Contains(in, testMarker, testKeys) != found {
					t.Errorf("Contains(%q) disagrees with Mask", in)
				}
			}
			if tok.Body == "" {
				return
			}
			misses := []string{
				tok.Prefix + strings.Repeat("x", len(tok.Body)),
				tok.Prefix,
			}
			if tok.Name != "slack/config" {
				// A cut configuration token still holds a whole
				// xoxp- token after its "xoxe.".
				misses = append(misses, tok.Prefix+tok.Body[:len(tok.Body)/3])
			}
			for _, miss := range misses {
				if got, found := Mask("v "+miss+" w", testMarker, testKeys); found {
					t.Errorf("Mask(%q) = %q; want a near miss to pass", miss, got)
				}
			}
		})
	}
}

// TestTokenFamilyAnchors checks the table itself: every family is
// reachable through the prefilter from its anchor.
func TestTokenFamilyAnchors(t *testing.T) {
	for i := range families {
		f := &families[i]
		found := false
		for b := 0; b < 256; b++ {
			for _, a := range famIndex.byFirst[b] {
				if a.fam == f {
					found = true
					p := f.prefix[a.off : a.off+2]
					if pairFirst[p[0]]&pairSecond[p[1]]&pairFamilies == 0 {
						t.Errorf("%s: anchor %q not in the prefilter", f.name, p)
					}
				}
			}
		}
		if !found {
			t.Errorf("%s: not indexed", f.name)
		}
	}
}
