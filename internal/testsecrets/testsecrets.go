// Package testsecrets holds made-up credentials of every shape the
// scanner knows, and tables of text with and without them, for the tests of
// the scanner and of the audit handler alike. None of the values is, or
// was copied from, a real credential.
package testsecrets

import "strings"

// Made-up credentials of each shape. None of them is, or was copied from,
// a real one; TestFixtures checks that they have the shape they claim.
const (
	AWSKey      = "AKIAQX3VZ7M2KTRB5LWN"
	AWSSession  = "ASIAJ4KD7QPRZ2MXW6TB"
	AWSA3T      = "A3TXBQ5RW2ZK7MNPL4DV"
	GitHub      = "ghp_R8kq2XvLm4Tz9WbN1cYd7HsJ3pFa6GeU0oQi"
	GitHubOAuth = "gho_U9rIrGIcY2ahCYD3taVhNE1B2ZRata0DspHC"
	GitHubPAT   = "github_pat_11FAKEATXmTfMZ0E7mhoUP_PHw8OuWGGMCNeaZ9rN7kIB7WYyHdZyY2JGnIL8aMCBjh7nOuvo9toLC7kDl"
	GitLab      = "glpat-Xy3-kP9_qR2sT7vW4zN8"
	SlackBot    = "xoxb-1234567890-9876543210-FakeBotTokenValue0000"
	SlackUser   = "xoxp-1111111111-2222222222-3333333333-29x2IDdBIoNLGs2Lzav14KX5HDBlZtXD"
	SlackApp    = "xoxa-2-FakeApp1234567"
	HookPath    = "T0FAKE0001/B0FAKE0002/eANw9RmqgeUGXiUz1954o6cD"
	Hook        = "https://hooks.slack.com/services/" + HookPath
	JWTHeader   = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"        // {"alg":"HS256","typ":"JWT"}
	JWTPayload  = "eyJzdWIiOiJhZGEiLCJpYXQiOjE3MDAwMDAwMDB9"    // {"sub":"ada","iat":1700000000}
	JWTSig      = "qbU3c-roKm6bMmHfqvFw3Uh-DJfRNz_MU1Y8aZGInLR" // random
	JWT         = JWTHeader + "." + JWTPayload + "." + JWTSig
	UnsignedJWT = "eyJhbGciOiJub25lIn0." + JWTPayload + "."
	PEMLine1    = "CP2Wmr25Xw87Lg/HxeHCc17b/ldRHuxknyAYHbAIjekn4elUFUBsW832ZbQTfj3p"
	PEMLine2    = "AUFt4mBCFkQArA3hOnuUX2htZYwpzOifQ5PIbgjV"
	PEMBody     = PEMLine1 + "\n" + PEMLine2
	Stripe      = "sk_live_tprESv13Dc8lvRYvUYGWqpNs"
	StripeRK    = "rk_test_oH63h8ECyAPMmw49EfGk"
	StripeProd  = "sk_prod_Zx8Kq2Lm9Pw4Rt7Yb3Nc"
	Google      = "AIzabtoK-bjQdy7ROexMgtKoYjlszhJ9ZhGxPw-"
	NPM         = "npm_h12lv97petak746n5ojasn9w87m6lu4agnc1"
	Bearer      = "gNL23Ivuj8c8y2XxkcDsHOkkclHjeF"
	Basic       = "YWRhOmNvcnJlY3QtaG9yc2U=" // ada:correct-horse
	APIToken    = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	SpacedJWT   = "eyAiYWxnIjogIkhTMjU2IiwgInR5cCI6ICJKV1QiIH0.eyAic3ViIjogImFkYSIsICJpYXQiOiAxNzAwMDAwMDAwIH0." + JWTSig // { "alg": ...
	HexToken40  = "3f9a1c07be52d84e6a0f17c93b2d5e8a41c6f0b7"                                                              // random
	AmzSig      = "5c1e0b4f9a27d83e6f10a2b9c4d7e8f01a2b3c4d5e6f708192a3b4c5d6e7f809"
)

func PEM(label, body string) string {
	return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----"
}

type MaskCase struct {
	Name    string
	In      string
	Want    string
	Secrets []string // the parts of in that are replaced
}

var Positive = []MaskCase{
	{"aws/embedded", "key " + AWSKey + " used", "key [REDACTED] used", []string{AWSKey}},
	{"aws/start", AWSKey + ", region=us-east-1", "[REDACTED], region=us-east-1", []string{AWSKey}},
	{"aws/session_quoted_end", `aws_access_key_id="` + AWSSession + `"`, `aws_access_key_id="[REDACTED]"`, []string{AWSSession}},
	{"aws/a3t_parens", "(" + AWSA3T + ")", "([REDACTED])", []string{AWSA3T}},
	{"aws/json", `{"id":"` + AWSKey + `","n":1}`, `{"id":"[REDACTED]","n":1}`, []string{AWSKey}},

	{"github/classic_embedded", "token " + GitHub + " leaked", "token [REDACTED] leaked", []string{GitHub}},
	{"github/oauth_start", GitHubOAuth + " is stale", "[REDACTED] is stale", []string{GitHubOAuth}},
	{"github/pat_end", "GITHUB_TOKEN=" + GitHubPAT, "GITHUB_TOKEN=[REDACTED]", []string{GitHubPAT}},
	{"github/quoted_comma", `["` + GitHub + `",1]`, `["[REDACTED]",1]`, []string{GitHub}},
	{"github/glued_before", "x" + GitHub, "x[REDACTED]", []string{GitHub}},

	{"gitlab/semicolon", "export GL=" + GitLab + ";", "export GL=[REDACTED];", []string{GitLab}},
	{"gitlab/parens_start", "(" + GitLab + ") ok", "([REDACTED]) ok", []string{GitLab}},

	{"slack/bot_embedded", "slack bot=" + SlackBot + " ok", "slack bot=[REDACTED] ok", []string{SlackBot}},
	{"slack/user_start", SlackUser + ", channel=C01", "[REDACTED], channel=C01", []string{SlackUser}},
	{"slack/app_quoted", "'" + SlackApp + "'", "'[REDACTED]'", []string{SlackApp}},
	{"slack/webhook_services", "POST " + Hook + " 200", "POST https://hooks.slack.com/services/[REDACTED] 200", []string{HookPath}},
	{"slack/webhook_workflows_quoted", `"https://hooks.slack.com/workflows/T0FAKE0001/A0FAKE0003/1234567890/eANw9RmqgeUGXiUz"`,
		`"https://hooks.slack.com/workflows/[REDACTED]"`, []string{"T0FAKE0001/A0FAKE0003/1234567890/eANw9RmqgeUGXiUz"}},

	{"jwt/query", "jwt=" + JWT + "&next=/", "jwt=[REDACTED]&next=/", []string{JWT}},
	{"jwt/start", JWT + " expired", "[REDACTED] expired", []string{JWT}},
	{"jwt/unsigned_end", "token: " + UnsignedJWT, "token: [REDACTED]", []string{UnsignedJWT}},
	{"jwt/json", `{"access_token":"` + JWT + `"}`, `{"access_token":"[REDACTED]"}`, []string{JWT}},
	{"jwt/dash_glued", "id-" + JWT, "id-[REDACTED]", []string{JWT}},
	{"jwt/percent_encoded", "GET /cb?h=Authorization%3A%20Bearer%20" + JWT + " HTTP/1.1",
		"GET /cb?h=Authorization%3A%20Bearer%20[REDACTED] HTTP/1.1", []string{JWT}},
	{"jwt/pretty_printed", "t=ewogICJhbGciOiAiSFMyNTYiCn0.ewogICJzdWIiOiAiYWRhIgp9.c2lnbmF0dXJlMDEy ok",
		"t=[REDACTED] ok", []string{"ewogICJhbGciOiAiSFMyNTYiCn0.ewogICJzdWIiOiAiYWRhIgp9.c2lnbmF0dXJlMDEy"}},

	{"PEM/rsa_embedded", "key:\n" + PEM("RSA PRIVATE KEY", PEMBody) + "\nnext",
		"key:\n-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----\nnext", []string{PEMBody}},
	{"PEM/pkcs8_start", PEM("PRIVATE KEY", PEMBody),
		"-----BEGIN PRIVATE KEY-----\n[REDACTED]\n-----END PRIVATE KEY-----", []string{PEMBody}},
	{"PEM/truncated", "-----BEGIN OPENSSH PRIVATE KEY-----\n" + PEMLine1 + "\n" + PEMLine2[:20],
		"-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED]", []string{PEMLine1 + "\n" + PEMLine2[:20]}},
	{"PEM/json_escaped", `{"key":"-----BEGIN EC PRIVATE KEY-----\n` + PEMLine1 + `\n-----END EC PRIVATE KEY-----\n"}`,
		`{"key":"-----BEGIN EC PRIVATE KEY-----[REDACTED]-----END EC PRIVATE KEY-----\n"}`, []string{`\n` + PEMLine1 + `\n`}},
	{"PEM/pgp_block", "k=" + PEM("PGP PRIVATE KEY BLOCK", "\n"+PEMLine2),
		"k=-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n[REDACTED]\n-----END PGP PRIVATE KEY BLOCK-----", []string{PEMLine2}},

	{"stripe/live_embedded", "stripe key " + Stripe + " ok", "stripe key [REDACTED] ok", []string{Stripe}},
	{"stripe/restricted_start", StripeRK + ",", "[REDACTED],", []string{StripeRK}},
	{"stripe/prod_quoted", `"` + StripeProd + `"`, `"[REDACTED]"`, []string{StripeProd}},

	{"google/query", "https://maps.example.com/api/js?key=" + Google + "&v=3", "https://maps.example.com/api/js?key=[REDACTED]&v=3", []string{Google}},
	{"google/start", Google + " (maps)", "[REDACTED] (maps)", []string{Google}},

	{"npm/npmrc", "//registry.npmjs.org/:_authToken=" + NPM, "//registry.npmjs.org/:_authToken=[REDACTED]", []string{NPM}},
	{"npm/start_newline", NPM + "\nnext", "[REDACTED]\nnext", []string{NPM}},

	{"auth/bearer", "Authorization: Bearer " + Bearer, "Authorization: Bearer [REDACTED]", []string{Bearer}},
	{"auth/basic_lower", "authorization: basic " + Basic + " ok", "authorization: basic [REDACTED] ok", []string{Basic}},
	{"auth/token_comma", "Token " + APIToken + ", retry", "Token [REDACTED], retry", []string{APIToken}},
	{"auth/two_spaces_quoted", `-H "Authorization: Bearer  ` + Bearer + `"`, `-H "Authorization: Bearer  [REDACTED]"`, []string{Bearer}},
	{"auth/upper_tab", "BEARER\t" + Bearer, "BEARER\t[REDACTED]", []string{Bearer}},

	{"url/postgres", "conn postgres://admin:hunter2@db:5432/app ok", "conn postgres://admin:[REDACTED]@db:5432/app ok", []string{"hunter2"}},
	// A bare userinfo long and random enough to be no one's login name.
	{"url/token_userinfo", "https://" + HexToken40 + "@git.example.com/r.git", "https://[REDACTED]@git.example.com/r.git", []string{HexToken40}},
	{"url/empty_user_parens", "(redis://:s3cretPw@cache:6379)", "(redis://:[REDACTED]@cache:6379)", []string{"s3cretPw"}},
	{"url/at_in_password", "mysql://root:p@ss:w0rd@10.0.0.5/db", "mysql://root:[REDACTED]@10.0.0.5/db", []string{"p@ss:w0rd"}},
	{"url/quoted_end", `dsn="amqp://guest:guestpw1@rabbit"`, `dsn="amqp://guest:[REDACTED]@rabbit"`, []string{"guestpw1"}},
	{"url/ssh_password", "ssh://deploy:pw123@host", "ssh://deploy:[REDACTED]@host", []string{"pw123"}},

	{"query/amz", "GET https://b.s3.amazonaws.com/o.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAFAKE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=" + AmzSig + " 200",
		"GET https://b.s3.amazonaws.com/o.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[REDACTED]&X-Amz-Signature=[REDACTED] 200",
		[]string{"AKIAFAKE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request", AmzSig}},
	{"query/goog_fragment", "https://storage.example.com/b/o?X-Goog-Signature=abc123def456#frag", "https://storage.example.com/b/o?X-Goog-Signature=[REDACTED]#frag", []string{"abc123def456"}},
	{"query/sig_case", "https://acct.blob.example.net/c/b?sv=2022-11-02&SIG=AbCd%2Bef%3D&se=2030", "https://acct.blob.example.net/c/b?sv=2022-11-02&SIG=[REDACTED]&se=2030", []string{"AbCd%2Bef%3D"}},
	{"query/s3_v2_quoted", `"/o?AWSAccessKeyId=AKIAFAKEKEYID&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D&Expires=1"`,
		`"/o?AWSAccessKeyId=[REDACTED]&Signature=[REDACTED]&Expires=1"`, []string{"AKIAFAKEKEYID", "vjbyPxybdZaNmGa%2ByT272YEAiv4%3D"}},
	{"query/security_token_end", "u?x=1&X-Amz-Security-Token=FwoGZXIvYXdzEFAKE", "u?x=1&X-Amz-Security-Token=[REDACTED]", []string{"FwoGZXIvYXdzEFAKE"}},

	// Leak routes of issue 12 that live in text.
	{"url/quote_in_password", "postgres://app:it's-Pw9@db.example:5432/app", "postgres://app:[REDACTED]@db.example:5432/app", []string{"it's-Pw9"}},
	{"url/punctuation_only_password", "redis://:!@#$%^&*@cache:6379/0", "redis://:[REDACTED]@cache:6379/0", []string{"!@#$%^&*"}},
	{"dsn/mysql_password_with_equals", "dsn=app:pa=ss9@tcp(db:3306)/app", "dsn=app:[REDACTED]@tcp(db:3306)/app", []string{"pa=ss9"}},
	{"dsn/mysql_default_address", "open app:Qz8pW3vL9m@/appdb?parseTime=true", "open app:[REDACTED]@/appdb?parseTime=true", []string{"Qz8pW3vL9m"}},
	{"auth/bearer_colon", "Bearer: " + Bearer, "Bearer: [REDACTED]", []string{Bearer}},
	{"aws/after_percent_escape", "key%3D" + AWSKey + "%26x", "key%3D[REDACTED]%26x", []string{AWSKey}},
	{"aws/after_literal_newline", `"line one
` + AWSKey + `"`, `"line one
[REDACTED]"`, []string{AWSKey}},
	{"jwt/space_after_brace", "t " + SpacedJWT + " ok", "t [REDACTED] ok", []string{SpacedJWT}},

	{"multi/all_kinds", "user=ada key=" + AWSKey + " jwt=" + JWT + " db=postgres://u:pw9@h/db gh=" + GitHub,
		"user=ada key=[REDACTED] jwt=[REDACTED] db=postgres://u:[REDACTED]@h/db gh=[REDACTED]", []string{AWSKey, JWT, "pw9", GitHub}},
	// More values than the masker holds without allocating, some found by
	// matchers that look behind their anchor (out of order).
	{"multi/more_than_four", "a=" + GitHub + " b=" + AWSKey + " c=postgres://u:pw9@h/db d=" + GitHub + " e=" + JWT + " f=" + AWSKey,
		"a=[REDACTED] b=[REDACTED] c=postgres://u:[REDACTED]@h/db d=[REDACTED] e=[REDACTED] f=[REDACTED]", []string{GitHub, AWSKey, "pw9", JWT}},
	{"multi/bearer_jwt_overlap", "Authorization: Bearer " + JWT, "Authorization: Bearer [REDACTED]", []string{JWT}},
}

// Neighbours returns the parts of in around the secrets, which masking
// must keep.
func Neighbours(in string, secrets []string) []string {
	pieces := []string{in}
	for _, secret := range secrets {
		var next []string
		for _, p := range pieces {
			next = append(next, strings.Split(p, secret)...)
		}
		pieces = next
	}
	return pieces
}

var Negative = []string{
	// Identifiers and hashes.
	"123e4567-e89b-12d3-a456-426614174000",
	"x-request-id: 7f9c2ba4-e88f-4f2e-9f3a-3c2b1a0d9e8f",
	"sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 (HEAD -> main)",
	"aGVsbG8gd29ybGQ=",
	"data:text/plain;base64,SGVsbG8sIFdvcmxkIQ==",
	"ZXlKaGJHY2lPaUpJVXpJMU5pSjku",
	// Paths and URLs without credentials.
	"/api/tokens",
	"/v1/auth/token",
	"GET /v1/auth/token?refresh=true HTTP/1.1",
	"$HOME/.config/app/token.json",
	"C:\\Users\\ada\\AppData\\Local\\token.cache",
	"file:///etc/passwd",
	"https://example.com/a?b=c",
	"http://host:8080/path",
	"http://[::1]:8080/",
	"https://example.com/@ada",
	// User names without a password (issue 12 lists these as damage).
	"spark://CoarseGrainedScheduler@10.0.0.7:7077",
	"https://john42@git.example",
	"https://tok9Z8y7X6w5@git.example.com/r.git",
	"Upgrade to the Basic Plan2024",
	"WWW-Authenticate: Basic realm=MyRealm",
	"https://example.com/?email=ada@example.com",
	"https://example.com/page#ada@example.com",
	"docs: see https://example.com/path?a=1&b=2#section",
	"https://example.com/s3?signature_version=4&sigv=2&xsig=abc&sigma=1",
	"https://hooks.slack.com/services/",
	"hooks.slack.com/services/T0/short",
	"ssh://git@github.com/org/repo.git",
	"git+ssh://git@example.com/org/repo.git",
	"git@github.com:org/repo.git",
	"k8s.io/api/core/v1",
	"postgres://db:5432/app?sslmode=disable",
	// E-mail.
	"ada@example.com",
	"mailto:ada@example.com",
	"Ada Lovelace <ada@example.com>",
	"@@@@ @ada @@",
	// Prose.
	"the bearer of this letter",
	"Basic usage",
	"Token count: 5",
	"Basic authentication required",
	"Bearer token expired for user ada",
	"token refreshed successfully; bearer tokens are described in RFC 6750",
	"The Basic Income Token 2024 plan",
	"Please reset your password via the link we sent.",
	"The signature is valid and the token was accepted.",
	"The quick brown fox jumps over the lazy dog near the river.",
	"ASIAN MARKETS OPENED HIGHER",
	"WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"",
	`Basic realm="Restricted Area"`,
	// Key-value and structured data.
	"key=value",
	"user=ada role=admin count=3 ok=true",
	`level=INFO msg="token refreshed" token_id=42 token_type=bearer`,
	"sig=abc",
	`{"user":"ada","count":5,"tags":["a","b"],"ok":true}`,
	`{"token_type":"Bearer","expires_in":3600,"scope":"read write"}`,
	"SELECT id FROM tokens WHERE owner = 'ada' LIMIT 10",
	"risk_test_parameters_enabled",
	"task_live_migration_ok desk_prod_inventory",
	"go test -run TestMaskSecrets ./...",
	"version 1.2.3-beta.4+build.5",
	// Durations and addresses.
	"1h30m0s",
	"took 250ms (2.5s total)",
	"192.168.1.10:443",
	"[::1]:8080",
	"fe80::1ff:fe23:4567:890a",
	`10.0.0.1 - - [21/Nov/2024:19:11:00 +0000] "GET /index.html HTTP/1.1" 200 612 "-" "curl/8.5.0"`,
	// User agents.
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Go-http-client/1.1",
	// Stack traces.
	"goroutine 1 [running]:\nmain.main()\n\t/tmp/x.go:12 +0x1d",
	// Key material that is not secret.
	PEM("PUBLIC KEY", PEMBody),
	PEM("CERTIFICATE", PEMBody),
	// Prefixes of secrets without their random part.
	"AKIA", "ghp_", "github_pat_", "glpat-", "xoxb-", "sk_live_", "npm_", "AIza",
	"eyJhbGciOiJIUzI1NiJ9",
	// Output of an earlier pass.
	"[REDACTED]",
	"postgres://admin:[REDACTED]@db:5432/app",
	"https://[REDACTED]@git.example.com/r.git",
	"Authorization: Bearer [REDACTED]",
	"https://b/o?X-Amz-Signature=[REDACTED]&X-Amz-Date=1",
	"-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----",
	// Short input.
	"",
	"ok",
	"a://b",
}

var Adversarial = []struct {
	Name  string
	In    string
	Want  string
	Found bool
}{
	// One byte short or long of a fixed length, and missing boundaries.
	{"aws_one_short", "key " + AWSKey[:19] + " x", "key " + AWSKey[:19] + " x", false},
	{"aws_one_long", "key " + AWSKey + "Q x", "key " + AWSKey + "Q x", false},
	{"aws_glued_before", "x" + AWSKey, "x" + AWSKey, false},
	{"aws_underscore_after", AWSKey + "_x", AWSKey + "_x", false},
	{"aws_lower_case", "akiaqx3vz7m2ktrb5lwn", "akiaqx3vz7m2ktrb5lwn", false},
	// Issue 12: key ids holding 0, 1, 8 or 9 were missed; they are in use.
	{"aws_digits_outside_base32", "AKIAQX3VZ7M2KTRB5L0N", "[REDACTED]", true},
	{"aws_lower_in_body", "AKIAQX3VZ7M2KTRB5LwN", "AKIAQX3VZ7M2KTRB5LwN", false},
	// A key glued to a token that needs no boundary goes with it, or
	// masking the token would expose the key as a word of its own.
	{"aws_glued_to_github", " " + AWSKey + GitHub + " ", " [REDACTED] ", true},
	{"github_one_short", "t=" + GitHub[:39], "t=" + GitHub[:39], false},
	{"github_one_long", "t=" + GitHub + "Z", "t=[REDACTED]", true},
	{"github_pat_one_short", "github_pat_11ABCDEFGHIJ012345678", "github_pat_11ABCDEFGHIJ012345678", false},
	{"github_pat_published_length", "github_pat_11ABCDEFG0aB3dE5gH7jaB3dE5gH7jaB3dE5gH7jaB3dE5gH7jaB3dE5gH7jaB3dE5gH7jK9mN0pQ2rstu", "[REDACTED]", true},
	// Shorter than the published 82 characters: an identifier, not a token.
	{"github_pat_too_short", "github_pat_11ABCDEFGHIJ0123456789", "github_pat_11ABCDEFGHIJ0123456789", false},
	{"gitlab_one_short", GitLab[:25], GitLab[:25], false},
	{"slack_nine", "xoxb-123456789", "xoxb-123456789", false},
	{"slack_ten", "xoxb-1234567890", "[REDACTED]", true},
	{"slack_unknown_kind", "xoxz-1234567890123", "xoxz-1234567890123", false},
	{"stripe_nine", "sk_live_abcdefgh1", "sk_live_abcdefgh1", false},
	{"stripe_in_identifier", "mask_live_abcdefghijk", "mask_live_abcdefghijk", false},
	{"google_one_short", Google[:38], Google[:38], false},
	{"npm_one_short", NPM[:39], NPM[:39], false},
	{"webhook_one_short", "https://hooks.slack.com/services/T0FAKE0001/B0FAKE0", "https://hooks.slack.com/services/T0FAKE0001/B0FAKE0", false},
	{"bearer_seven", "Bearer abc1234", "Bearer abc1234", false},
	{"bearer_eight", "Bearer abc12345", "Bearer [REDACTED]", true},
	{"bearer_glued_scheme", "xBearer abc12345", "xBearer abc12345", false},
	{"bearer_word", "Bearer authentication", "Bearer authentication", false},
	{"jwt_one_dot", JWTHeader + "." + JWTPayload, JWTHeader + "." + JWTPayload, false},
	{"jwt_short_parts", "eyJhbGci.eyJzdWIi.sig", "eyJhbGci.eyJzdWIi.sig", false},
	{"jwt_payload_not_json", JWTHeader + ".aGVsbG8gd29ybGQ." + JWTSig, JWTHeader + ".aGVsbG8gd29ybGQ." + JWTSig, false},
	{"jwt_glued_letters", "abc" + JWT, "abc[REDACTED]", true},
	{"jwt_padded_signature", JWT + "== x", "[REDACTED] x", true},

	// Invalid UTF-8 breaks a shape it interrupts but is a boundary like
	// any other non-word byte.
	{"github_split_by_invalid_utf8", GitHub[:22] + "\xff" + GitHub[22:], GitHub[:22] + "\xff" + GitHub[22:], false},
	{"aws_between_invalid_utf8", "\xff" + AWSKey + "\xfe", "\xff[REDACTED]\xfe", true},
	{"url_password_invalid_utf8", "postgres://u:p\xffw@h/", "postgres://u:[REDACTED]@h/", true},
	{"only_invalid_utf8", "\xff\xfe\xfd\xfc\xfb\xfa\xf9", "\xff\xfe\xfd\xfc\xfb\xfa\xf9", false},
	{"nul_bytes", "\x00\x00Bearer\x00abc12345\x00", "\x00\x00Bearer\x00abc12345\x00", false},

	// Overlapping shapes.
	{"jwt_in_bearer_in_curl_with_url", "curl -H 'Authorization: Bearer " + JWT + "' https://u:pw0rd@api.example.com/v1",
		"curl -H 'Authorization: Bearer [REDACTED]' https://u:[REDACTED]@api.example.com/v1", true},
	{"jwt_as_url_password", "https://user:" + JWT + "@host/x", "https://user:[REDACTED]@host/x", true},
	{"github_token_as_url_user", "https://" + GitHub + ":x-oauth-basic@github.com/o/r",
		"https://[REDACTED]:[REDACTED]@github.com/o/r", true},
	{"bearer_in_query_value", "https://h/p?sig=Bearer%20abc&x=1", "https://h/p?sig=[REDACTED]&x=1", true},
	{"signature_in_url_with_password", "https://u:p1@h/o?Signature=abc#f", "https://u:[REDACTED]@h/o?Signature=[REDACTED]#f", true},
	{"pem_nested_begin", "-----BEGIN EC PRIVATE KEY-----\n" + PEMLine1 + "\n" + PEM("RSA PRIVATE KEY", PEMLine2) + "\n-----END EC PRIVATE KEY-----",
		"-----BEGIN EC PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----\n-----END EC PRIVATE KEY-----", true},
	{"pem_repeated_begin_no_end", "-----BEGIN RSA PRIVATE KEY-----\n-----BEGIN RSA PRIVATE KEY-----\nabc", "-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]", true},
	{"pem_begin_line_only", "-----BEGIN RSA PRIVATE KEY-----\n", "-----BEGIN RSA PRIVATE KEY-----\n", false},
	{"pem_empty_body", PEM("RSA PRIVATE KEY", ""), PEM("RSA PRIVATE KEY", ""), false},
	{"pem_lower_case", PEM("rsa private key", PEMBody), PEM("rsa private key", PEMBody), false},
	{"pem_label_with_aws_key", PEM(AWSKey+" PRIVATE KEY", "abc"), "-----BEGIN [REDACTED] PRIVATE KEY-----\n[REDACTED]\n-----END [REDACTED] PRIVATE KEY-----", true},
	{"pem_two_blocks", PEM("PRIVATE KEY", "one") + "\n" + PEM("PRIVATE KEY", "two"),
		"-----BEGIN PRIVATE KEY-----\n[REDACTED]\n-----END PRIVATE KEY-----\n-----BEGIN PRIVATE KEY-----\n[REDACTED]\n-----END PRIVATE KEY-----", true},
	{"pem_end_stops_token", "-----BEGIN PRIVATE KEY-----\nBearer abc12345-----END PRIVATE KEY-----",
		"-----BEGIN PRIVATE KEY-----\n[REDACTED]-----END PRIVATE KEY-----", true},

	// URL corner cases.
	{"url_empty_password", "postgres://admin:@db/app", "postgres://admin:@db/app", false},
	{"url_empty_userinfo", "postgres://@db/app", "postgres://@db/app", false},
	{"url_no_scheme", "://u:pw@h", "://u:pw@h", false},
	// A bare userinfo is a login name; only a password, or a userinfo that
	// looks machine-made, is a credential.
	{"url_user_only_https", "https://ada@example.com/x", "https://ada@example.com/x", false},
	// Issue 12: a user name without a password is kept, digits and
	// capitals included; only a token-length random userinfo is masked.
	{"url_short_generated_userinfo_kept", "https://tok9Z8y7X6w5@example.com/x", "https://tok9Z8y7X6w5@example.com/x", false},
	{"url_token_as_userinfo", "https://" + HexToken40 + "@example.com/x", "https://[REDACTED]@example.com/x", true},
	{"url_login_scheme_after_masked_token", "glpat-Xy3-kP9_qR2sT7vW4zN8x-ghp_git+ssh://deploy@host", "[REDACTED]+ssh://deploy@host", true},
	{"url_repeated_schemes", "a://a://a://u:p@h", "a://a://a://u:[REDACTED]@h", true},
	{"url_query_after_at", "https://u:p@h?sig=z@q", "https://u:[REDACTED]@h?sig=[REDACTED]", true},

	// Query corner cases.
	{"query_empty_value", "https://h/o?sig=&x=1", "https://h/o?sig=&x=1", false},
	{"query_no_separator", "https://h/osig=abc", "https://h/osig=abc", false},
	{"query_after_masked_value", "&sig=[REDACTED]?sig=secret1", "&sig=[REDACTED]?sig=[REDACTED]", true},
	// Values of two shapes sharing the '@' that ends a userinfo.
	{"url_and_query_share_at", "x://git@7&X-Amz-Signature=u:p@", "x://git@7&X-Amz-Signature=[REDACTED]", true},
	{"query_chained_question_marks", "?sig=a?sig=b?sig=c", "?sig=[REDACTED]?sig=[REDACTED]?sig=[REDACTED]", true},
}

// A Plant is a secret to hide in fuzzed text.
type Plant struct {
	Text    string   // the secret as it appears in the input
	Secrets []string // bytes of it that must not appear in the output
}

var Plants = []Plant{
	{AWSKey, []string{AWSKey}},
	{AWSA3T, []string{AWSA3T}},
	{GitHub, []string{GitHub}},
	{GitHubPAT, []string{GitHubPAT}},
	{GitLab, []string{GitLab}},
	{SlackBot, []string{SlackBot}},
	{SlackUser, []string{SlackUser}},
	{Hook, []string{HookPath}},
	{JWT, []string{JWTPayload, JWTSig}},
	{UnsignedJWT, []string{JWTPayload}},
	{PEM("RSA PRIVATE KEY", PEMBody), []string{PEMLine1, PEMLine2}},
	{Stripe, []string{Stripe}},
	{Google, []string{Google}},
	{NPM, []string{NPM}},
	{"Authorization: Bearer " + Bearer, []string{Bearer}},
	{"Basic " + Basic, []string{Basic}},
	{"postgres://admin:Hunter2Pw9x@db:5432/app", []string{"Hunter2Pw9x"}},
	{"https://" + HexToken40 + "@git.example.com/r.git", []string{HexToken40}},
	{"https://b.s3.amazonaws.com/o?X-Amz-Signature=" + AmzSig + "&X-Amz-Date=1", []string{AmzSig}},
	{AWSSession, []string{AWSSession}},
	{GitHubOAuth, []string{GitHubOAuth}},
	{SlackApp, []string{SlackApp}},
	{StripeRK, []string{StripeRK}},
	{"Token " + APIToken, []string{APIToken}},
	{"redis://:s3cretPw@cache:6379", []string{"s3cretPw"}},
	{"mysql://root:p@ss:w0rd@10.0.0.5/db", []string{"p@ss:w0rd"}},
	{"postgres://app:it's-Pw9@db.example:5432/app", []string{"it's-Pw9"}},
	// Not user:pass@/db: that form is held to a plain database name
	// followed by the end of the token, which punctuation planted after it
	// may break (TestMaskSecrets covers it).
	{SpacedJWT, []string{SpacedJWT}},
}

// A Token is a made-up sample of a self-identifying token format: the
// prefix that names the issuer (with any fixed text around it) and the
// secret body after it.
type Token struct {
	Name, Prefix, Body string
}

// Value returns the whole token.
func (t Token) Value() string { return t.Prefix + t.Body }

// Tokens are made-up samples of the self-identifying token formats, one
// per format or kind, each of the published prefix, alphabet and length.
// None is, or was copied from, a real credential.
var Tokens = []Token{
	{"gitlab/pipeline_trigger", "glptt-", "41ab92590637ac82026ca65266b2898428ea491b"},
	{"gitlab/runner", "glrt-", "dJDJmATl4GjUQg1AoeaS"},
	{"gitlab/runner_routable", "glrt-", "t1_YeUXzENOjqnMD8v0OmeHs4Wmld0.pixpxb1rb"},
	{"gitlab/pat_routable", "glpat-", "Sr0pFBOPCWBRDFOxEzf5FJtRBZR.09yu1a2vs"},
	{"gitlab/cicd_job", "glcbt-", "YFJ_GufE0w6HjwXmDMwmctuU"},
	{"gitlab/deploy", "gldt-", "HtirNLU09X0fmnR7n5Fd"},
	{"gitlab/feed", "glft-", "mueGDmblocOKFm7BEKAT"},
	{"gitlab/incoming_mail", "glimt-", "3TqFZA7oIzMc0pYJzvItJ17FO"},
	{"gitlab/agent", "glagent-", "6bBlKu8y0Xx7gslTkmH3cmPtbx0Bhc2FyLPvMGvr2Ka1YsHzFX"},
	{"gitlab/oauth_secret", "gloas-", "Qf1pjwaSyrEGVkOPntkrZeZsRmorPmoE5TZ9dliic8dCO9DDTZlJf0Dju5aSqdWs"},
	{"gitlab/feature_flag", "glffct-", "sjo12ftQyz0HLEvN7TbK"},
	{"gitlab/scim", "glsoat-", "47gQcpobB2OlatoaybhH"},
	{"gitlab/runner_registration", "GR1348941", "itbwJuQ5gKeiOLS4GMtb"},
	{"slack/app", "xapp-", "1-A0T54ZKX82G-5184193960564-e37aaaadfbad7024e78151b0d833609480c6f3de6cf8d08af921ebae797a6124"},
	{"slack/config", "xoxe.xoxp-", "1-BNQ0MLB3M8QXGAPS9CQGP96PQPT0RFXMQNXA4XQOBMSC6JQ5CFTPR50YAI20LLKYQW69S8S2ALWX2JZXR1OIU0ZD6Y8L1SZDDII6NORH7GWH4RJO0X4W5AU9EFXGSGA20XFK5TFP4PYOB5MICRH6DSC1HUJLXZWH90EV"},
	{"slack/refresh", "xoxe-", "1-1M1CX5SGJ5M42RUGCQTPND7PHFU8QWP93TJ6AXPJ1DE6BFWBZOFE2DCHJNE7GDX4Q0VLSNDD9P5ESEL7FCYUYNYSSGAEPT2SIX5E8MRNZ411TPDZNR8ILQHYJDWMX2KX214TLCJBQAAIEDN8CC"},
	{"github/server_long", "ghs_", "ASs0lUVokmyiyFUgMQLfzT3zkR22ILQDvZYl_Q4nYP7h8Xape2j5pl4El"},
	{"github/refresh", "ghr_", "o7LRtW4S03h4hbZtO11LFj8hNhBMjFfgSPPv"},
	{"github/user", "ghu_", "HHspEVWuoyVXfGHuSuFKeWGyU3f2MZ7QJl3Q"},
	{"aws/digits_0189", "AKIA", "LYKMQ8WELGZQI1QJ"},
	{"aws/abia", "ABIA", "IYP1RD9XV2U91TXU"},
	{"aws/acca", "ACCA", "FITIZ31QWHUKOIJF"},
	{"aws/bedrock", "ABSK", "Uvl9bGEpbeswF6ew+No93zgQbDnBOYpQmp8YwhWD1IuixzFMIAJdMr2KUiP3PwbclL9z9RXEj7DStXUyC7HVHcIVWtbgZ5lUH22HVc9NbWS5d/Hy954aQG6qsVNz/cKvrEXu"},
	{"aws/bedrock_short", "bedrock-api-key-", "YmVkcm9jay5hbWF6b25hd3MuY29tiW223PSAnZ6wqZ5BuhNL3BeqtRMW7OL5sIob+MACxy51ua+0THkkijxwN/6Z"},
	{"openai/project", "sk-proj-", "rZNRpP-n9V5khgBuJFfc7-8eslttOaI5KGClDnae2sKi53_vo4wq-rWkNN9fVsBkTxqwWhATUvT3BlbkFJusGRPuvKKmsHcih331NIjRUFlFycLB4KzlA5baSk30loWfCodQVPsWeuqKngiqDU8CP70z0oFa"},
	{"openai/service_account", "sk-svcacct-", "IKxIOF8W2whyeTYLsEwnq-1hBjlp0q98H86nzXLM9zeeCUYLqiRsK0zjGET3BlbkFJYAe7pKvvvx_TI8q3_tctJp3cz1LZ89Hbpvme8hkw7eVjWkD1rcJ-WDoVX3"},
	{"openai/admin", "sk-admin-", "G4JyTioqg5L09MchtXZlv3mVn7UGpp2W4-iDnl9ihxQT5oAfRO-zN6oQj3T3BlbkFJOC2Sj25Bgm_KZQvhFnKiTNyrkUnihwt9BdadVGDuLNJfv-ULjRjfWcHfpY"},
	{"openai/legacy", "sk-", "gWpTWHkNL3Lr8Wx1cMe0T3BlbkFJcPm4E1ShKtvIUpZxbKKV"},
	{"anthropic/api", "sk-ant-api03-", "dpURWdYR_sO6MrXzOeJGErg9y3JkOBid0szTdKNSn6W__MstzH2GfLGXlkH8B-xB7jaSXbdsbIL08_jEgACYGxYrwe4h5AA"},
	{"anthropic/admin", "sk-ant-admin01-", "mLb1GbzCY3RdaPeLccCw9fZsN5pYv59zpLpd9JfPfQ7ht9Wx5jdjNTkbijb94fwAjqFCzPuObG9-qkcwiGBgn5W0EbgEbAA"},
	{"huggingface/user", "hf_", "aHaWJRNLXJKhGWIVrThXkjNHFZxnwrngxq"},
	{"huggingface/org", "api_org_", "CxAtKGNVPKjCWlSdfXfAiuVNWlZwlvPiVj"},
	{"perplexity", "pplx-", "kgOeUSZU5gK3C9X2hmSNX1lNx5r5YBGIXUTioEbUSjIad2HY"},
	{"atlassian", "ATATT3", "JnlB=yytUuqS4vyVeehEeVYb=DWlB2w79BugHP44uuf7uw6FPblH0Z1jJdPJ3_87UZ6JGx6ZbjBfEe2lzJY4gVFtvEshT0nem2OjssSff1Kf2OOZHIp2FLmeEdMxx6DKvv4VNib4OMuiW0q5ck4_zLGZ=Jw7OPtt38xsPJELRAHo_5urXOr-BfZbgg"},
	{"artifactory/api_key", "AKCp", "FTSXOH9IVYdwewIAIS1nSJJciZ8ZRdsfkhKik6kgCzK88XDsZCFAkMtIUxD5wXhCtGjRJ"},
	{"artifactory/reference", "cmVmd", "FsdAKS5FUoUJPDKKCR0m9dWUHqpoLFJtvGUmJyQ3bKNGRKYAUd8Ggk1PrvE"},
	{"digitalocean/pat", "dop_v1_", "db66a77a5223dac11dd97c75c7c9734f84d53b5c32926ca12575a57e24072805"},
	{"digitalocean/oauth", "doo_v1_", "0a3c48ba1db9942d3b4860c6d4ccf563f848ad79f09ab11638d44129a2aa7779"},
	{"digitalocean/refresh", "dor_v1_", "4a2c661867e111ae045fc10482b5f98df37fea479cf2979ae3f73e97241ad061"},
	{"doppler", "dp.pt.", "2TS2UFlhz9lXR5lFvIdjoNyjVqnMXta18HTqOSzWtUC"},
	{"dynatrace", "dt0c01.", "1W5O59K2HZ7Z9YKQUO82QDM8.hQGdUyCr8s41mzhwz2CN4xUPtPdZZdd3nc3Rydpc5y2OR9pR5gjyFZO4UnwFp7KA"},
	{"flyio/token", "fo1_", "rLRc7Zs1nE54-iNLFj2uT-SSBuUKthNpYWEL6_Tvivd"},
	{"flyio/macaroon", "fm2_", "8xRk3wOh9OXf9DM8eT/zwZ5KZJoGUm76swRmw+SV5XS/8pb9drMihVnrKWyPitiRRiBDN6tvb6sE2fvWUC6Q7lvKLZmG0FhyYu8g4l2WOzYS6GUeA0FjF614"},
	{"vault/service", "hvs.", "5yhVs6SSxbIgMO_pL4XpjE_gUTbgczFRRA1q2ldbDKVFalM3dc1itB6kHWZnWuHil0Ws25BsIWyVqHb9aI40gG0eFlzB717"},
	{"vault/batch", "hvb.", "KIJcnc_76AsNGls7MTJcddOlv3QeWm1Qnu35FCfOk1eaR9JUTu6miN6OU9mTGE8lNe8fhUzg2oAq5DrT5Yw2vpmtOf7eZranVpkAaBMZRWok8vRwCdoRCpYQzylfeYAuGjEQ9B88rPCt"},
	{"heroku", "HRKU-AA", "_aJz-maVQPY-spBqPvoXIsQ6vs-GgqSfc8gcz7A4bsKE_LTTQO-Yi99qa9"},
	{"pulumi", "pul-", "1a302eaad77e243d91f2b1a83f417988582223c4"},
	{"scalingo", "tk-us-", "1bED3UUYs3yJ9_BIbw7fmL0NieH-XgRnUgFEsgFta2TXdN3M"},
	{"alibaba", "LTAI", "xY4B6D3Kgp2XpkGgB7dy"},
	{"cloudflare/origin_ca", "v1.0-", "6b278fae1bd903bd3f6d7590-34744d864c449060390b3886e57a4f4e21616b8163f37d6b8f0c32d2de4fdcfae07f86e581e4f7e0c28cb9461d8b2d5fb41442282767d1b90c75c971641038a0762df6adeb917d6d66"},
	{"openshift", "sha256~", "e7KQ5ZGcOuEW2BsNdddv3-ux3p1PQQ7L3TT0ASd2wQO"},
	{"infracost", "ico-", "dhrAeiM2cGxXRNdVs7z9oP8W3xSNigiv"},
	{"prefect", "pnu_", "ZK6tJMVhR62U8mR322jGSrny2pjHvxCCcX39"},
	{"defined_networking", "dnkey-", "UPZ7FVRTSNB8ATKZQ07ILVEAH5-TURAADAWTSB41VNWVEJ0YWBTIU6G0MK622UUY0IPU3J28EMWWOYI"},
	{"harness/pat", "pat.", "zai_TSofZQNfmkKO-ODDFH.E61i6rEqpqLIpHtemGNYystT.ys9gilWP9Lt2M0o10y5n"},
	{"harness/sat", "sat.", "7i3L8k_gHfxf3nOT0POsbD.nrw1wvdE1ar3AEOIYTzYSMh9.uA7f3NFHMkCIDEb6VOdh"},
	{"planetscale/password", "pscale_pw_", "dVZgFTFvlJqS6iiKuZoS3usuRpx8MBD5scTbJ2mGY6T"},
	{"planetscale/token", "pscale_tkn_", "khXYUpubomKg3nk9I00Puf3x5k5WcDjApeuSadpziQ8"},
	{"planetscale/oauth", "pscale_oauth_", "dW06cB5ua82Doq42HiXcigj906oiRU7Y0BEdSjhmzGf"},
	{"npm", "npm_", "hxwdyf8jnm9n9xy97spo91v12ml3u79ao0w9"},
	{"pypi", "pypi-AgEIcHlwaS5vcmc", "JcfD_v9uho3k7eQK-uDP3ukv1d-FBO05_MBG5j3_d_q5XJ9wbK6e0tx4w_WxO4WZEF03C-"},
	{"rubygems", "rubygems_", "c632a769de433e763616ba20d367ed28f7741b9957d5e908"},
	{"clojars", "CLOJARS_", "DTBZGyhRXtcT9u2uBQwLXtMk9Wx9Et1tBZQ8iWoVQkn62BMdi0CrTssvMl0U"},
	{"linear", "lin_api_", "qZnqF9XCuoWFVlQlVefJuoBOU2csnsPwVPV9Bftm"},
	{"notion", "ntn_", "22307843429Cgc3rSpbPDzwSIgTR3rZNiz1gymzpE0EUQ3"},
	{"postman", "PMAK-", "bcfcbf3d959a97bbf95aa7d5-66e1b2fcb54b48bc14a5b1fd54dba8b3f5"},
	{"readme", "rdme_", "cgrwr03mrdjjbidgvf221dbwelhjhiwp4myrx40zr0uuvb4qv460pe5bkauemlje9t7k0c"},
	{"sendgrid", "SG.", "i1HDA3-sINSGnWP2XLE5nw.ZX1RP4N75mSuTSO2hbqs8MNUAFHOkkvoNmiuNH4F4oV"},
	{"sendinblue", "xkeysib-", "13f3fd7e5c39cd1d6dfdabb6a38816530a964415a6edd709cad234d442ad2991-qdMVd8Q2SSR0BnUn"},
	{"sentry/user", "sntryu_", "e9b37fe9cd9bca4bd9c97fc1a058151e57211fd39e642591fb861d8ba5243383"},
	{"shopify/access", "shpat_", "8a0ce88f3ce000878bc569a8aa177ba3"},
	{"shopify/custom", "shpca_", "3e4ed9e6f8ddaf3b158f6e75c443d9ea"},
	{"shopify/private_app", "shppa_", "f9cf914488084c6b4b7eafa73d4c2311"},
	{"shopify/shared_secret", "shpss_", "04f5c622aa4cfdd45fb586c52790afa8"},
	{"shippo", "shippo_live_", "d935fe59fb2ab3f070b4b21cc7c6c558aacb2805"},
	{"square/access", "sq0atp-", "KdMNKHWnfVaEpVwKZgTi9m"},
	{"square/oauth_secret", "sq0csp-", "uX9rZ2IgvDT6q3k9NtDjlG-NnFqUx1Fu-1MZaZN4efI"},
	{"square/token", "EAAA", "tW_abq4BbjUknjC6NEBfRSltgMgLEugcejrn3vmjFaF6GQZ0hSvhQi4_Xf1D"},
	{"stripe/live", "sk_live_", "xEOMqULZ0JQbl8xpBwoLC4sv"},
	{"stripe/restricted_prod", "rk_prod_", "rcETWh53w8ejno28fgHNciPC"},
	{"typeform", "tfp_", "EaSqV28nJMuEA2hJQYyne5eLgnNcAUa91KOpVR6DKAVxc7QACRFKIEH-AIj"},
	{"twilio/api_key", "SK", "d0596973dcc00db1d8d370b275cd3a9a"},
	{"newrelic/user", "NRAK-", "6CY6CU521Q5KRSGRXYGBUYXDQCJ"},
	{"newrelic/browser", "NRJS-", "5015630fd32d5910cce"},
	{"newrelic/insert", "NRII-", "eGZgOn4h_YQJ97H29GJkMTPAuE3ad1iw"},
	{"grafana/cloud", "glc_", "qxXya8HXCj7ufip5EW24ohVrymYv0WzpkJj2tDcLPIgAU6rh"},
	{"grafana/service_account", "glsa_", "EGGhmIE446MimMRBwQBHIvJTtbaUat7W_2b44e4d7"},
	{"sourcegraph", "sgp_", "6e28a843c642abbe_3d97c830b7cd47a48bd59141706e0d8db443ecee"},
	{"frameio", "fio-u-", "8AT62YzBtBQ1_sMq_p0PYKyRwfyPr7s_yWftdj74RB_yPH7r-8fGDalHaX7VgxNM"},
	{"duffel", "duffel_test_", "CY10frWPLNLCYCBJ49Yq4gfLda-RPxggzpcoy7NEuyF"},
	{"easypost/live", "EZAK", "VkWQp0qJpcAPHR7sFbeeLR0MM6BoqCrgOxvPq2chUAt487NOLbWzj6"},
	{"easypost/test", "EZTK", "PAtY7mEyhweZUOXfp9vqXa6KqHkJbWSK3UbvnMPu3H2YqhpdACvf35"},
	{"facebook", "EAAM", "6VaZjxq745sG5JhPGHLPEVpo9ODNqxhWinXEUGW8Z2TGwYZ3MMFc5iS5FiotNLfuAPmEq3WAcOyqzv6JxiQOo019uBcHheU1JKXUWz16Ugf0KICtD0qdh8AP"},
	{"flutterwave/secret", "FLWSECK_TEST-", "c09h25187ge5e28bgh9fh513hd8188dg-X"},
	{"flutterwave/public", "FLWPUBK_TEST-", "6193270351c4h5fd9c416348443aec25-X"},
	{"onepassword/secret_key", "A3-", "SRCNIM-SO4BN85LRFD-HEXFG-QM3QT-IVW42"},
	{"onepassword/service_account", "ops_eyJ", "82T0yGS/62dE+CzVHhwfyud6zxr6EpPNOWcl1rcYGfKhD63hLgDJxI147pzcUQOQJAjXGHCc71fL5T6TuJnvRz2BiqCm3m375wG5M5Xtezpsijkf8Bk4CsCiiRRxSVxG83uS0R+F6tKfMZC+FypeFSdQ29W1mjYaanXbjNdORED4SIBGCu7uJfWpyywilNJXZnEtnXaOiCj5OFkxPnhMmEUaZJV1TMXfQnALhc0GKuzfUwcGIOyyzmQoftPJulNGEzwI"},
	{"age", "AGE-SECRET-KEY-1", "4PQCDAVDQLA9U3UQYN30AVD59ZAZ9HLCRKULKKQYFNULRSTEFR622SCTN3"},
	{"adobe", "p8e-", "Zwj7fmDrq0HyEBRc49knX8gQ2aclBp0p"},
	{"settlemint/personal", "sm_pat_", "BlsPCfj3iBihWYfV"},
	{"settlemint/application", "sm_aat_", "OC0pu5p802m30MoP"},
	{"authress", "sc_", "r2r00s8161.qwffo.acc_kzcg7q0yh2vzv4fm.im9l2ned8s3a0sn7c1b6grbjraa1i20kqycs4bi1"},
	{"google", "AIza", "iM6W5cc3wcOoGLJMPnvxGYgpBVQZmYiY3jg"},
	{"terraform", "harw6utbjs0330.atlasv1.", "oyknt8t7skkspff85m0lhdrl6ublvksn694lih69m_zom_x5c-glwh83hrfwmdqw"},
	{"azure_ad_client_secret", "hnc7Q~", "MjWPXottGoSYCQsPGMe46zNRD6Lva1PqV"},
	{"maxmind", "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", ""},
}

// AssignedSecret is the value planted in assignments to a secret key.
const AssignedSecret = "Zq8Lm2Xv9Rt4Kw7P"

// AssignmentPlants are secrets assigned to a secret key in each syntax
// the scanner reads inside text.
var AssignmentPlants = []Plant{
	{"password=" + AssignedSecret, []string{AssignedSecret}},
	{"DB_PASSWORD = " + AssignedSecret, []string{AssignedSecret}},
	{"api_key: " + AssignedSecret, []string{AssignedSecret}},
	{`"client_secret": "` + AssignedSecret + `"`, []string{AssignedSecret}},
	{`'access_token': '` + AssignedSecret + `'`, []string{AssignedSecret}},
	{`\"password\":\"` + AssignedSecret + `\"`, []string{AssignedSecret}},
	{`herokuToken := "` + AssignedSecret + `"`, []string{AssignedSecret}},
	{"secret_key => " + AssignedSecret, []string{AssignedSecret}},
	{"<apiToken>" + AssignedSecret + "</apiToken>", []string{AssignedSecret}},
	{`setProperty("AUTH_TOKEN", "` + AssignedSecret + `")`, []string{AssignedSecret}},
	{" --password=" + AssignedSecret, []string{AssignedSecret}},
	{" --db-password " + AssignedSecret, []string{AssignedSecret}},
	{";Password=" + AssignedSecret + ";", []string{AssignedSecret}},
	{"host=db user=app password=" + AssignedSecret + " dbname=app", []string{AssignedSecret}},
	{"ADAFRUIT_TOKEN=" + AssignedSecret, []string{AssignedSecret}},
	{"user[password]=" + AssignedSecret, []string{AssignedSecret}},
	{"X-Auth-Key: " + AssignedSecret, []string{AssignedSecret}},
	{"session_id=" + AssignedSecret, []string{AssignedSecret}},
}

// AllPlants are Plants, AssignmentPlants and a plant of every token
// format, for fuzzing.
var AllPlants = func() []Plant {
	all := append(append([]Plant(nil), Plants...), AssignmentPlants...)
	for _, t := range Tokens {
		secret := t.Body
		if secret == "" {
			secret = t.Value()
		}
		all = append(all, Plant{t.Value(), []string{secret}})
	}
	return all
}()
