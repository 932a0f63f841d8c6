package secretscan

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/slogaudit/audit/internal/testsecrets"
)

// testKeys is the key rule with the built-in secret words only.
var testKeys = NewKeys(nil, nil)

const testMarker = "[REDACTED]"

func TestFixtures(t *testing.T) {
	for _, c := range []struct {
		name  string
		value string
		n     int
	}{
		{"aws", testsecrets.AWSKey, 20},
		{"aws session", testsecrets.AWSSession, 20},
		{"aws a3t", testsecrets.AWSA3T, 20},
		{"github", testsecrets.GitHub, 4 + 36},
		{"github oauth", testsecrets.GitHubOAuth, 4 + 36},
		{"github pat", testsecrets.GitHubPAT, 11 + 82},
		{"gitlab", testsecrets.GitLab, 6 + 20},
		{"google", testsecrets.Google, 4 + 35},
		{"npm", testsecrets.NPM, 4 + 36},
	} {
		if len(c.value) != c.n {
			t.Errorf("%s fixture has %d bytes; want %d", c.name, len(c.value), c.n)
		}
	}
}

func TestMaskSecrets(t *testing.T) {
	for _, tc := range testsecrets.Positive {
		t.Run(tc.Name, func(t *testing.T) {
			checkMask(t, tc.In, tc.Want, true)
			got, _ := Mask(tc.In, testMarker, testKeys)
			for _, secret := range tc.Secrets {
				if strings.Contains(got, secret) {
					t.Errorf("Mask(%q) = %q, still holding %q", tc.In, got, secret)
				}
			}
			for _, n := range testsecrets.Neighbours(tc.In, tc.Secrets) {
				if !strings.Contains(got, n) {
					t.Errorf("Mask(%q) = %q, lost neighbour %q", tc.In, got, n)
				}
			}
		})
	}
}

func checkMask(t *testing.T, in, want string, wantFound bool) {
	t.Helper()
	got, found := Mask(in, testMarker, testKeys)
	if got != want || found != wantFound {
		t.Errorf("Mask(%q) = %q, %v; want %q, %v", in, got, found, want, wantFound)
	}
}

func TestMaskSecretsNoFalsePositives(t *testing.T) {
	for _, in := range testsecrets.Negative {
		t.Run(in, func(t *testing.T) {
			checkMask(t, in, in, false)
		})
	}
}

func TestMaskSecretsAdversarial(t *testing.T) {
	for _, tc := range testsecrets.Adversarial {
		t.Run(tc.Name, func(t *testing.T) {
			checkMask(t, tc.In, tc.Want, tc.Found)
		})
	}
}

func TestMaskSecretsMarker(t *testing.T) {
	in := "conn postgres://admin:hunter2@db:5432/app key=" + testsecrets.AWSKey
	for _, c := range []struct{ marker, want string }{
		{"", "conn postgres://admin:@db:5432/app key="},
		{"***", "conn postgres://admin:***@db:5432/app key=***"},
		{"<secret>", "conn postgres://admin:<secret>@db:5432/app key=<secret>"},
		{"REDACTED", "conn postgres://admin:REDACTED@db:5432/app key=REDACTED"}, // a marker starting like a secret
	} {
		got, found := Mask(in, c.marker, testKeys)
		if got != c.want || !found {
			t.Errorf("Mask(%q, %q) = %q, %v; want %q, true", in, c.marker, got, found, c.want)
		}
		if again, found := Mask(got, c.marker, testKeys); again != got || found {
			t.Errorf("Mask(%q, %q) = %q, %v; want it unchanged", got, c.marker, again, found)
		}
	}
}

// randomText returns n bytes drawn mostly from alphabet, with some bytes
// of any value.
func randomText(r *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		if r.IntN(8) == 0 {
			b[i] = byte(r.IntN(256))
		} else {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
	}
	return string(b)
}

// The scan runs the matchers only where firstAnchor stops, so a pair it
// skipped would be a shape never looked for.
func TestFirstAnchorFindsFirstPair(t *testing.T) {
	naive := func(s string) int {
		for i := 0; i+1 < len(s); i++ {
			if anchorBits(s[i], s[i+1]) != 0 {
				return i
			}
		}
		return -1
	}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "AKSBC3I_pousrbkmgxl-:/.e?&#6;@TtoOEasXx abcdefghijklmnopqrstuvwxyz0123456789"
	for n := 0; n < 100000; n++ {
		s := randomText(r, r.IntN(40), alphabet)
		if got, want := FirstAnchor(s), naive(s); got != want {
			t.Fatalf("FirstAnchor(%q) = %d, want %d", s, got, want)
		}
	}
}

// authCredentialAt finds the token's end and judges it in one pass; it
// must agree with runEnd and looksGenerated, which the other matchers use.
func TestAuthCredentialOnePass(t *testing.T) {
	want := func(s string, j int) span {
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		end := runEnd(s, j, isTokenChar)
		if end-j < authTokenMin || !looksGenerated(s[j:end]) {
			return span{}
		}
		if isAuthParam(s[j:end]) {
			return span{}
		}
		return span{j, end}
	}
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "x", "Z", "Q", "0", "9", "-", ".", "_", "~", "+", "/", "=", " ", "\t", "\xff", "-----END", "-----BEGIN "}
	for n := 0; n < 100000; n++ {
		var b strings.Builder
		b.WriteString("Bearer ")
		for k := r.IntN(20); k > 0; k-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		if got, want := authCredentialAt(s, 0), want(s, len("Bearer ")); got != want {
			t.Fatalf("authCredentialAt(%q) = %v, want %v", s, got, want)
		}
	}
}

// adversarialPatterns repeated to a large size each aim at one matcher's
// rescanning: a quadratic matcher would take minutes on them.
var adversarialPatterns = []string{
	"eyJ.",
	"eyJhbGciOiJub25lIn0.",
	"eyJhbGciOiJub25lIn0",
	"-eyJhbGciOiJub25lIn0",
	"-----BEGIN ",
	"-----BEGIN RSA PRIVATE KEY-----",
	"-----BEGIN RSA PRIVATE KEY-----[REDACTED]",
	"-----END",
	"a://",
	"a://b:",
	"@",
	"a:",
	"Bearer ",
	"Bearer",
	"?sig=",
	"&sig=[REDACTED]",
	"ghp_",
	"glpat-",
	"xoxb-",
	"-AKIAQX3VZ7M2KTRB5LWNglpat-",
	"AKIA",
	"A",
	"_",
	"-",
	".",
	"hooks.slack.com/services/",
	"sk_live_",
	"%20eyJhbGciOiJub25lIn0.",
	"\xff",
	// Assignments inside text: each anchor looks back for a key and, for
	// a secret key, forward for the value.
	"password=",
	"password",
	"password:",
	"password: ",
	`"password":`,
	`"password":"`,
	`\"password\":\"`,
	"<password>",
	"<password>x</password>",
	"--password ",
	"--password",
	`setProperty("password", "`,
	"Authorization: ",
	"Authorization: Bearer ",
	"password=\"",
	"password='",
	"password := ",
	"password => ",
	"=",
	":",
	">",
	"--",
	`",`,
	"abcdefghij",
	"a_b-c.d[e]",
	"ｐａｓｓｗｏｒｄ=",
	`password="token := "`,
	`password='a password="b password=` + "`c ",
	"Authorization: x \"password=\"",
	"pass\u200bword=",
	// Token formats whose runs are long or unbounded.
	"glpat-",
	"glpat-aB3dE5gH7jK9mN1pQ3rS.",
	"ABSK",
	"sk-ant-api03-",
	"sk-proj-",
	"ZXlK",
	"xoxe.xoxp-1-",
	"_mmk",
	"Q~",
	"7Q~",
	".atlasv1.",
	"dapi",
	"hvb.",
	"pypi-AgEIcHlwaS5vcmc",
	"A3-",
	"ops_eyJ",
	"EAAM",
	"sc_",
	"GR1348941",
	"SK",
	"%3D",
	`\n`,
}

func repeatTo(pattern string, n int) string {
	return strings.Repeat(pattern, n/len(pattern)+1)[:n]
}

func TestMaskSecretsLargeAdversarial(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	for _, p := range adversarialPatterns {
		in := repeatTo(p, 1<<20)
		out, found := Mask(in, testMarker, testKeys)
		if again, foundAgain := Mask(out, testMarker, testKeys); again != out || foundAgain {
			t.Errorf("pattern %q: second pass changed the output (found=%v, %v)", p, found, foundAgain)
		}
	}
}

// fragments are pieces of secrets and of the text around them. Strings
// glued together from them reach corners of the matchers, and of their
// interplay, that byte-level fuzzing is slow to find.
var fragments = []string{
	testsecrets.AWSKey, testsecrets.AWSA3T, testsecrets.GitHub, testsecrets.GitHubPAT, testsecrets.GitLab, testsecrets.SlackBot, testsecrets.Hook,
	testsecrets.JWT, testsecrets.UnsignedJWT, testsecrets.JWTPayload, testsecrets.Stripe, testsecrets.Google, testsecrets.NPM, testsecrets.Bearer, testsecrets.Basic,
	"AKIA", "A3T", "AIza", "ghp_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "sk_live_", "rk_test_", "npm_",
	"eyJ", "eyJhbGciOiJub25lIn0", "eyJhbGciOiJub25lIn0.", ".eyJ", "ewogIC", "ewoid",
	"-----BEGIN ", "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----\n", " PRIVATE KEY-----", " BLOCK",
	"-----END RSA PRIVATE KEY-----", "-----END", "-----",
	"https://", "ssh://", "git+ssh://", "://", "u:p@", "git@", "mailto:", "hooks.slack.com/", "services/",
	"?sig=", "&X-Amz-Signature=", "Signature=", "sig", "Bearer ", "Basic ", "Token ", "bearer",
	".", "-", "_", "=", "==", "@", ":", "/", "?", "&", "#", "%", "%20", "%2F", " ", "\t", "\n", `\n`, "'", `"`,
	"a", "Z", "7", "x-", "_x", "abc12345", "ABC234567XYZ", "1234567890",
	"[REDACTED]", "=[REDACTED]", "[", "]", "\xff",
}

// TestMaskSecretsFragments checks the properties of FuzzMaskSecrets on
// strings glued together from fragments.
func TestMaskSecretsFragments(t *testing.T) {
	n := 200000
	if testing.Short() {
		n = 10000
	}
	r := rand.New(rand.NewPCG(1, 2))
	glue := func() string {
		var b strings.Builder
		for k := 1 + r.IntN(12); k > 0; k-- {
			b.WriteString(fragments[r.IntN(len(fragments))])
		}
		return b.String()
	}
	for range n {
		prefix, suffix := glue(), glue()
		checkProperties(t, prefix+suffix)
		checkPlanted(t, prefix, suffix, testsecrets.Plants[r.IntN(len(testsecrets.Plants))])
	}
}

// plantSeparators are the punctuation planted secrets are put between:
// each is a boundary in some syntax, which the scanner must honour.
var plantSeparators = []string{
	" ", "\n", "\t", `"`, "'", "`", "(", ")", "[", "]", "{", "}", "<", ">", ",", ";", ":", "=", "&", "|",
	"/", "@", "?", "#", "!", "*", `\n`, `\"`, "%3D", "%20", "\r\n", "\x00",
}

// FuzzMask plants an embedded assignment or a token of any format between
// fuzzed text and fuzzed punctuation, and checks on every input that the
// planted secret does not survive, that a second pass only masks more
// next to a marker of the first, that Contains agrees with Mask, and that
// nothing panics.
func FuzzMask(f *testing.F) {
	for i, p := range testsecrets.AllPlants {
		f.Add("", "", uint16(i), uint8(i), uint8(i+3))
		f.Add(p.Text, "x", uint16(i*7), uint8(i), uint8(i))
	}
	for i, frag := range fragments {
		f.Add(frag, fragments[(i*5+1)%len(fragments)], uint16(i), uint8(i), uint8(i*3))
	}
	f.Fuzz(func(t *testing.T, prefix, suffix string, which uint16, before, after uint8) {
		checkProperties(t, prefix+suffix)
		p := testsecrets.AllPlants[int(which)%len(testsecrets.AllPlants)]
		b := plantSeparators[int(before)%len(plantSeparators)]
		a := plantSeparators[int(after)%len(plantSeparators)]
		in := prefix + b + p.Text + a + suffix
		out := checkProperties(t, in)
		for _, secret := range p.Secrets {
			if strings.Contains(prefix, secret) || strings.Contains(suffix, secret) {
				continue
			}
			if strings.Contains(out, secret) {
				t.Fatalf("Mask(%q) = %q, still holding %q", in, out, secret)
			}
		}
	})
}

func FuzzMaskSecrets(f *testing.F) {
	for i, tc := range testsecrets.Positive {
		f.Add(tc.In, "", uint8(i))
		f.Add("x", tc.In, uint8(i))
	}
	for i, in := range testsecrets.Negative {
		f.Add(in, testsecrets.Negative[(i+1)%len(testsecrets.Negative)], uint8(i))
	}
	for i, tc := range testsecrets.Adversarial {
		f.Add(tc.In, tc.In, uint8(i))
	}
	for i, frag := range fragments {
		f.Add(frag, fragments[(i*7+3)%len(fragments)], uint8(i))
	}
	f.Fuzz(func(t *testing.T, prefix, suffix string, which uint8) {
		checkProperties(t, prefix)
		checkProperties(t, prefix+suffix)

		checkPlanted(t, prefix, suffix, testsecrets.Plants[int(which)%len(testsecrets.Plants)])
	})
}

// checkPlanted checks that the secret of p, planted between prefix and
// suffix, does not survive masking.
func checkPlanted(t *testing.T, prefix, suffix string, p testsecrets.Plant) {
	t.Helper()
	in := prefix + " " + p.Text + " " + suffix
	out := checkProperties(t, in)
	for _, secret := range p.Secrets {
		if strings.Contains(prefix, secret) || strings.Contains(suffix, secret) {
			continue // written by the fuzzer; no telling it from the testsecrets.Plant
		}
		if strings.Contains(out, secret) {
			t.Fatalf("Mask(%q) = %q, still holding %q", in, out, secret)
		}
	}
}

// checkProperties checks what must hold for every input and returns the
// masked input.
func checkProperties(t *testing.T, in string) string {
	t.Helper()
	out, found := Mask(in, testMarker, testKeys)
	if !found && out != in {
		t.Fatalf("Mask(%q) = %q, false; want the input unchanged", in, out)
	}
	if c := Contains(in, testMarker, testKeys); c != found {
		t.Fatalf("Contains(%q) = %v, but Mask found %v", in, c, found)
	}
	if again, _ := Mask(out, testMarker, testKeys); again != out && !touchesMarker(out, again) {
		t.Fatalf("Mask(%q) = %q; a second pass may only mask text next to a marker of the first (output of Mask(%q))", out, again, in)
	}
	return out
}

// touchesMarker reports whether the part of out that a second pass changed
// into again lies in a token holding a marker of the first pass. A value that holds the
// marker text and something else is masked again on purpose (a password
// "[REDACTED]x" is still a password), so masking is idempotent only up to
// such values; a secret the first pass missed would change text with no
// marker in it.
func touchesMarker(out, again string) bool {
	p := 0
	for p < len(out) && p < len(again) && out[p] == again[p] {
		p++
	}
	q := 0
	for q < len(out)-p && q < len(again)-p && out[len(out)-1-q] == again[len(again)-1-q] {
		q++
	}
	// Masking a value can reshape the token around it (a '/' that ended a
	// URL's authority goes into the marker), so the changed part is taken
	// out to the whitespace around it.
	lo := max(0, min(p, len(out)))
	for lo > 0 && !isSpace(out[lo-1]) {
		lo--
	}
	hi := max(lo, len(out)-q)
	for hi < len(out) && !isSpace(out[hi]) {
		hi++
	}
	return strings.Contains(out[lo:hi], testMarker)
}

var sink string

func BenchmarkMaskClean(b *testing.B) {
	benchMask(b, []namedInput{
		{"useragent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
		{"sentence", "The quick brown fox jumps over the lazy dog by the river."},
		{"short", "ada"},
	})
}

func BenchmarkMaskFound(b *testing.B) {
	benchMask(b, []namedInput{
		{"mixed", "conn postgres://admin:hunter2@db:5432/app Authorization: Bearer " + testsecrets.JWT},
		{"header", "Authorization: Bearer abcdef0123456789abcdef"},
		{"assignment", "connecting with password=hunter2 to the primary"},
	})
}

type namedInput struct{ name, in string }

// benchMask runs Mask over each input.
func benchMask(b *testing.B, inputs []namedInput) {
	for _, bc := range inputs {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for i := 0; i < b.N; i++ {
				sink, _ = Mask(bc.in, testMarker, testKeys)
			}
		})
	}
}

// BenchmarkMaskScaling shows the cost per byte (as MB/s) of clean, dense and
// adversarial input at growing sizes; it should not fall with size.
func BenchmarkMaskScaling(b *testing.B) {
	inputs := []struct{ name, pattern string }{
		{"prose", "The quick brown fox jumps over the lazy dog by the river. "},
		{"useragent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 "},
		{"secrets", "key=" + testsecrets.AWSKey + " jwt=" + testsecrets.JWT + " db=postgres://u:pw9@h/db "},
		{"eyJ", "eyJ."},
		{"jwtparts", "eyJhbGciOiJub25lIn0."},
		{"begin", "-----BEGIN "},
		{"scheme", "a://"},
		{"at", "@"},
		{"bearer", "Bearer "},
		{"sig", "?sig="},
		{"glued", "-AKIAQX3VZ7M2KTRB5LWNglpat-"},
		{"assign", "password="},
		{"jsonkey", `"password":`},
		{"element", "<password>"},
		{"keyrun", "abcdefghij"},
		{"ABSK", "ABSK"},
		{"atlasv1", ".atlasv1."},
	}
	for _, in := range inputs {
		for _, size := range []int{10 << 10, 100 << 10, 1 << 20} {
			s := repeatTo(in.pattern, size)
			b.Run(fmt.Sprintf("%s/%dKB", in.name, size>>10), func(b *testing.B) {
				b.SetBytes(int64(len(s)))
				for i := 0; i < b.N; i++ {
					sink, _ = Mask(s, testMarker, testKeys)
				}
			})
		}
	}
}

// TestShortIdentifierHidesNoToken checks the shortcut that lets short
// identifier-like strings skip the scan: no token sample is one, and the
// shortest token of the shortest format is longer.
func TestShortIdentifierHidesNoToken(t *testing.T) {
	for _, tok := range testsecrets.Tokens {
		if shortIdentifier(tok.Value()) {
			t.Errorf("%s sample %q counts as a short identifier", tok.Name, tok.Value())
		}
	}
	for _, s := range []string{testsecrets.SlackBot, testsecrets.Stripe, testsecrets.AWSKey} {
		if shortIdentifier(s) || !Contains(s, testMarker, testKeys) {
			t.Errorf("%q: short identifier %v, found %v; want a token found", s, shortIdentifier(s), Contains(s, testMarker, testKeys))
		}
	}
	for _, s := range []string{"content_type", "user_agent", "took", "ip_address", "x.y-z_1", "text/plain", "/srv/files"} {
		if !shortIdentifier(s) {
			t.Errorf("%q: want a short identifier", s)
		}
	}
}

// TestShortIdentifiersHoldNoShape runs the full scan, without the
// short-identifier shortcut, over strings the shortcut passes: every
// token-family prefix and every other shape's fixed text, followed and
// preceded by random bytes of the shortcut's alphabet up to its length.
// None may hold a secret, or the shortcut would hide it.
func TestShortIdentifiersHoldNoShape(t *testing.T) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./"
	starts := []string{"", "xoxb-", "xoxp-", "xapp-", "ghp_", "gho_", "github_pat_", "sk_live_", "rk_live_", "npm_", "AKIA", "ASIA",
		"AIza", "eyJ", "--", "-----BEGIN", "Bearer", "Basic", "Token", "hooks.slack.com/", "//", "/token/", "password", "pin"}
	for i := range families {
		starts = append(starts, families[i].prefix)
	}
	keys := NewKeys([]string{"pin", "x"}, nil)
	r := rand.New(rand.NewPCG(3, 4))
	for _, start := range starts {
		for n := 0; n < 2000; n++ {
			b := []byte(start)
			for len(b) < maxShortIdentifier && r.IntN(8) != 0 {
				c := alphabet[r.IntN(len(alphabet))]
				if r.IntN(3) == 0 {
					b = append([]byte{c}, b...)
				} else {
					b = append(b, c)
				}
			}
			s := string(b)
			if !shortIdentifier(s) {
				continue
			}
			for _, k := range []*Keys{testKeys, keys} {
				if first := FirstAnchor(s); first >= 0 && detectFrom(s, testMarker, k, first) {
					t.Fatalf("%q passes as a short identifier but holds a secret", s)
				}
			}
		}
	}
}
