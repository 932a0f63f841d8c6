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
	{"app:Qz8pW3vL9m@/appdb", []string{"Qz8pW3vL9m"}},
	{SpacedJWT, []string{SpacedJWT}},
}
