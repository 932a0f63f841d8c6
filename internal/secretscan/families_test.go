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

// Prefixes that are also ordinary words or identifiers pass unless the
// whole documented shape follows.
func TestTokenFamilyNearMisses(t *testing.T) {
	for _, in := range []string{
		"dapicorp", "dapi-gateway", "dapi12345", "sc_main", "ext_id", "ext_js_bundle", "scauth_enabled",
		"authress_tenant", "pat.example.com", "sat.io", "pat.sat", "SKIP_TESTS", "SKU-1234", "EAAA",
		"LTAI is a prefix", "hf_transfer", "api_org_name", "lin_api_version", "sm_pat_expiry",
		"pul-request", "ico-moon", "tk-us-east", "v1.0-beta", "sha256~", "dnkey-rotation",
		"hvs.example", "hvb.", "A3-SERIES", "AGE-SECRET-KEY-1", "p8e-config", "glc_", "glsa_",
		"sgp_", "NRAK-", "PMAK-", "SG.example.com", "xkeysib-", "fm2_", "fo1_", "dp.pt.",
		"dt0c01.", "ops_eyJ", "ATATT3", "AKCp", "cmVmdW5k", "ZXlKaGJHY2lPaUpJVXpJMU5pSjku",
		"glrt-enabled", "glpat-rotation-policy-enabled", "gldt-", "GR1348941", "_gitlab_session=",
		"xoxo-hugs-and-kisses", "xapp-store", "sk-ant-", "sk-proj-42", "sk-", "T3BlbkFJ",
		"prefix_mmk", "7Q~", ".atlasv1.", "rubygems_", "CLOJARS_", "FLWSECK_TEST", "EZAK", "EAAM",
		"ABSK", "bedrock-api-key-", "pypi-AgEIcHlwaS5vcmc", "npm_install", "tfp_", "shpat_",
	} {
		if got, found := Mask("x "+in+" y", testMarker, testKeys); found {
			t.Errorf("Mask(%q) = %q; want it unchanged", in, got)
		}
	}
}
