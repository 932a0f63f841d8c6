package secretscan

import "strings"

// Self-identifying tokens: credentials whose prefix names their issuer
// (glptt-, xapp-, hf_, dop_v1_, ...). The formats are facts published by
// the issuers and collected in the default rules of the open-source secret
// scanners; the matchers here are written from those facts: a prefix, then
// parts each of a byte class and a length range, or literals.
//
// Each family is anchored on one pair of adjacent bytes of its prefix,
// preferring a pair with punctuation, then one with a digit, then one with
// a capital (anchorOffset), as such pairs are rare in prose, so the
// prefilter seldom stops for them. Two formats are left out because their
// prefix is all lower case and its pairs are among the commonest in text:
// Airtable's "pat" + 14 + "." + 64 hex ("path", "pattern") and Databricks'
// "dapi" + 32 hex ("data", "update", even the name "ada"); both are
// caught by their key names inside text (DATABRICKS_TOKEN=...). At an anchor, the
// families sharing that pair are tried where their prefix would start. A
// family matches without backtracking: each run is taken greedily up to
// its maximum, so one attempt reads at most the family's maximum length,
// unless the last run is longer, in which case the whole run is the
// token. Anchors inside a token found are not tried again, except within
// the longest prefix of its end, where a token of another format may
// begin and run on.

// A part of a token after its prefix: a literal, or a run of bytes in a
// class whose length lies in [min, max] (max 0: no upper bound).
type part struct {
	lit      string
	in       func(byte) bool
	min, max int
}

func lit(s string) part                         { return part{lit: s} }
func run(in func(byte) bool, min, max int) part { return part{in: in, min: min, max: max} }
func exactly(in func(byte) bool, n int) part    { return part{in: in, min: n, max: n} }

// A family is a token format.
type family struct {
	name   string
	prefix string
	at     string // the anchoring pair, if not the one anchorOffset picks
	lead   []part // fixed-length runs before the prefix
	parts  []part
	// free: the token may be glued to the word before it (the scanners
	// match these anywhere); otherwise it must start a token.
	free bool
	// glued: the token may be followed by a word byte. By default it
	// must end at a byte that is not a letter, digit or '_', so that a
	// prefix of a longer identifier is not taken for a token.
	glued bool
	// dotted: a routable token's '.'-separated tail parts belong to it.
	dotted bool
	// random: the body must look random, not a placeholder (xxxx, 0000).
	random bool
	// keepPrefix: only what follows the prefix is secret, as in a cookie
	// (_gitlab_session=...) or a webhook URL, whose host stays readable.
	keepPrefix bool
	// check, if set, must accept the token after its parts matched.
	check func(token string) bool
}

// Byte classes of token alphabets.
func isLowerAlnum(c byte) bool { return isLower(c) || isDigit(c) }
func isUpperAlnum(c byte) bool { return isUpper(c) || isDigit(c) }
func isLowerHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' }
func isBase64(c byte) bool     { return isAlnum(c) || c == '+' || c == '/' }
func isBase64Pad(c byte) bool  { return isBase64(c) || c == '=' }
func isWordDashEq(c byte) bool { return isWordOrDash(c) || c == '=' }
func isTokenDotEq(c byte) bool { return isWordOrDash(c) || c == '.' || c == '=' }
func isAgeChar(c byte) bool    { return strings.IndexByte("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", c) >= 0 }
func isFlutterHex(c byte) bool { return isDigit(c) || 'a' <= c|0x20 && c|0x20 <= 'h' }
func isAuthressTail(c byte) bool {
	return isLowerAlnum(c) || c == '+' || c == '/' || c == '_' || c == '=' || c == '-'
}

// families are the token formats matched by the table. GitHub, Stripe,
// npm, Google, AWS key ids, JWTs and Slack have matchers of their own.
// Formats whose prefix is too generic to stand alone are held to their
// exact documented shape (pat., sat., sc_, ext_, dapi, SK).
var families = []family{
	// GitLab.
	{name: "gitlab-pat", prefix: "glpat-", parts: []part{run(isWordOrDash, 20, 0)}, free: true, dotted: true, random: true},
	{name: "gitlab-pipeline-trigger", prefix: "glptt-", parts: []part{run(isLowerHex, 40, 0)}, free: true},
	{name: "gitlab-runner", prefix: "glrt-", parts: []part{run(isWordOrDash, 20, 0)}, free: true, dotted: true, random: true},
	{name: "gitlab-cicd-job", prefix: "glcbt-", parts: []part{run(isAlnum, 1, 5), lit("_"), run(isWordOrDash, 20, 0)}, free: true},
	{name: "gitlab-deploy", prefix: "gldt-", parts: []part{run(isWordOrDash, 20, 0)}, free: true, dotted: true, random: true},
	{name: "gitlab-feed", prefix: "glft-", parts: []part{run(isWordOrDash, 20, 0)}, free: true, dotted: true, random: true},
	{name: "gitlab-incoming-mail", prefix: "glimt-", parts: []part{run(isWordOrDash, 25, 0)}, free: true, dotted: true, random: true},
	{name: "gitlab-agent", prefix: "glagent-", parts: []part{run(isWordOrDash, 50, 0)}, free: true, dotted: true, random: true},
	{name: "gitlab-oauth-secret", prefix: "gloas-", parts: []part{run(isWordOrDash, 64, 0)}, free: true, random: true},
	{name: "gitlab-feature-flag", prefix: "glffct-", parts: []part{run(isWordOrDash, 20, 0)}, free: true, random: true},
	{name: "gitlab-scim", prefix: "glsoat-", parts: []part{run(isWordOrDash, 20, 0)}, free: true, random: true},
	{name: "gitlab-runner-registration", prefix: "GR1348941", parts: []part{run(isWordOrDash, 20, 0)}, free: true},
	{name: "gitlab-session-cookie", prefix: "_gitlab_session=", parts: []part{run(isLowerAlnum, 32, 0)}, free: true, keepPrefix: true},

	// Slack's app-level tokens; the xox kinds have their own matcher.
	{name: "slack-app", prefix: "xapp-", parts: []part{exactly(isDigit, 1), lit("-"), run(isUpperAlnum, 1, 0), lit("-"), run(isDigit, 1, 0), lit("-"), run(isAlnum, 32, 0)}, free: true},

	// AI vendors.
	{name: "anthropic", prefix: "sk-ant-api03-", parts: []part{run(isWordOrDash, 32, 0)}, random: true},
	{name: "anthropic-admin", prefix: "sk-ant-admin01-", parts: []part{run(isWordOrDash, 32, 0)}, random: true},
	{name: "openai-project", prefix: "sk-proj-", parts: []part{run(isWordOrDash, 100, 0)}, random: true},
	{name: "openai-service-account", prefix: "sk-svcacct-", parts: []part{run(isWordOrDash, 100, 0)}, random: true},
	{name: "openai-admin", prefix: "sk-admin-", parts: []part{run(isWordOrDash, 100, 0)}, random: true},
	{name: "openai-legacy", prefix: "sk-", parts: []part{exactly(isAlnum, 20), lit("T3BlbkFJ"), exactly(isAlnum, 20)}},
	{name: "perplexity", prefix: "pplx-", parts: []part{exactly(isAlnum, 48)}, random: true},
	{name: "huggingface", prefix: "hf_", parts: []part{exactly(isLetter, 34)}, random: true},
	{name: "huggingface-org", prefix: "api_org_", parts: []part{exactly(isLetter, 34)}, random: true},

	// Cloud and infrastructure.
	{name: "aws-bedrock", prefix: "ABSK", parts: []part{run(isBase64, 109, 0), run(isEquals, 0, 2)}},
	{name: "aws-bedrock-short", prefix: "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t", parts: []part{run(isBase64Pad, 20, 0)}, glued: true},
	{name: "digitalocean-pat", prefix: "dop_v1_", parts: []part{exactly(isLowerHex, 64)}},
	{name: "digitalocean-oauth", prefix: "doo_v1_", parts: []part{exactly(isLowerHex, 64)}},
	{name: "digitalocean-refresh", prefix: "dor_v1_", parts: []part{exactly(isLowerHex, 64)}},
	{name: "doppler", prefix: "dp.pt.", parts: []part{exactly(isAlnum, 43)}},
	{name: "dynatrace", prefix: "dt0c01.", at: "t0", parts: []part{exactly(isAlnum, 24), lit("."), exactly(isAlnum, 64)}},
	{name: "flyio", prefix: "fo1_", parts: []part{exactly(isWordOrDash, 43)}},
	{name: "flyio-macaroon-a", prefix: "fm1a_", parts: []part{run(isBase64, 100, 0), run(isEquals, 0, 3)}},
	{name: "flyio-macaroon-r", prefix: "fm1r_", parts: []part{run(isBase64, 100, 0), run(isEquals, 0, 3)}},
	{name: "flyio-macaroon", prefix: "fm2_", parts: []part{run(isBase64, 100, 0), run(isEquals, 0, 3)}},
	{name: "vault-service", prefix: "hvs.", parts: []part{run(isWordOrDash, 90, 0)}},
	{name: "vault-batch", prefix: "hvb.", parts: []part{run(isWordOrDash, 138, 0)}},
	{name: "heroku", prefix: "HRKU-AA", parts: []part{exactly(isWordOrDash, 58)}},
	{name: "pulumi", prefix: "pul-", parts: []part{exactly(isLowerHex, 40)}},
	{name: "scalingo", prefix: "tk-us-", parts: []part{exactly(isWordOrDash, 48)}},
	{name: "alibaba", prefix: "LTAI", at: "AI", parts: []part{exactly(isAlnum, 20)}, random: true},
	{name: "cloudflare-origin-ca", prefix: "v1.0-", at: "0-", parts: []part{exactly(isLowerHex, 24), lit("-"), exactly(isLowerHex, 146)}},
	{name: "openshift", prefix: "sha256~", parts: []part{exactly(isWordOrDash, 43)}},
	{name: "infracost", prefix: "ico-", parts: []part{exactly(isAlnum, 32)}, random: true},
	{name: "prefect", prefix: "pnu_", parts: []part{exactly(isAlnum, 36)}, random: true},
	{name: "defined-networking", prefix: "dnkey-", parts: []part{exactly(isWordDashEq, 26), lit("-"), exactly(isWordDashEq, 52)}},
	{name: "harness-pat", prefix: "pat.", parts: []part{exactly(isWordOrDash, 22), lit("."), exactly(isAlnum, 24), lit("."), exactly(isAlnum, 20)}},
	{name: "harness-sat", prefix: "sat.", parts: []part{exactly(isWordOrDash, 22), lit("."), exactly(isAlnum, 24), lit("."), exactly(isAlnum, 20)}},
	{name: "planetscale-password", prefix: "pscale_pw_", parts: []part{run(isTokenDotEq, 32, 0)}, random: true},
	{name: "planetscale-token", prefix: "pscale_tkn_", parts: []part{run(isTokenDotEq, 32, 0)}, random: true},
	{name: "planetscale-oauth", prefix: "pscale_oauth_", parts: []part{run(isTokenDotEq, 32, 0)}, random: true},
	{name: "intra42", prefix: "s-s4t2", parts: []part{run(isLower, 2, 2), lit("-"), exactly(isLowerHex, 64)}},
	{name: "octopus-deploy", prefix: "API-", parts: []part{exactly(isUpperAlnum, 26)}, random: true},
	{name: "teams-webhook", prefix: ".webhook.office.com/webhookb2/", parts: []part{run(isWebhookPathChar, 40, 0)}, free: true, glued: true, keepPrefix: true},

	{name: "terraform", prefix: ".atlasv1.", lead: []part{exactly(isAlnum, 14)}, parts: []part{run(isWordDashEq, 60, 0)}},
	{name: "azure-ad-client-secret", prefix: "Q~", lead: []part{exactly(isAzureChar, 3), exactly(isDigit, 1)}, parts: []part{run(isAzureTail, 31, 0)}},

	// Package registries.
	{name: "pypi", prefix: "pypi-AgEIcHlwaS5vcmc", parts: []part{run(isWordOrDash, 50, 0)}},
	{name: "rubygems", prefix: "rubygems_", parts: []part{exactly(isLowerHex, 48)}},
	{name: "clojars", prefix: "CLOJARS_", parts: []part{exactly(isAlnum, 60)}},
	{name: "artifactory-api-key", prefix: "AKCp", parts: []part{exactly(isAlnum, 69)}},
	{name: "artifactory-reference", prefix: "cmVmd", parts: []part{exactly(isAlnum, 59)}},

	// SaaS.
	{name: "atlassian", prefix: "ATATT3", parts: []part{run(isWordDashEq, 186, 0)}},
	{name: "linear", prefix: "lin_api_", parts: []part{exactly(isAlnum, 40)}, random: true},
	{name: "notion", prefix: "ntn_", parts: []part{exactly(isDigit, 11), exactly(isAlnum, 35)}},
	{name: "postman", prefix: "PMAK-", parts: []part{exactly(isHexByte, 24), lit("-"), exactly(isHexByte, 34)}},
	{name: "readme", prefix: "rdme_", parts: []part{exactly(isLowerAlnum, 70)}},
	{name: "sendgrid", prefix: "SG.", parts: []part{run(isTokenDotEq, 66, 0)}, random: true},
	{name: "sendinblue", prefix: "xkeysib-", parts: []part{exactly(isLowerHex, 64), lit("-"), exactly(isAlnum, 16)}},
	{name: "sentry-org", prefix: "sntrys_eyJ", parts: []part{run(isBase64Pad, 40, 0), lit("_"), run(isBase64, 43, 0)}},
	{name: "sentry-user", prefix: "sntryu_", parts: []part{exactly(isLowerHex, 64)}},
	{name: "shopify-access", prefix: "shpat_", parts: []part{exactly(isHexByte, 32)}},
	{name: "shopify-custom", prefix: "shpca_", parts: []part{exactly(isHexByte, 32)}},
	{name: "shopify-private-app", prefix: "shppa_", parts: []part{exactly(isHexByte, 32)}},
	{name: "shopify-shared-secret", prefix: "shpss_", parts: []part{exactly(isHexByte, 32)}},
	{name: "shippo-live", prefix: "shippo_live_", parts: []part{exactly(isHexByte, 40)}},
	{name: "shippo-test", prefix: "shippo_test_", parts: []part{exactly(isHexByte, 40)}},
	{name: "square-access", prefix: "sq0atp-", parts: []part{run(isWordOrDash, 22, 0)}, random: true},
	{name: "square-oauth-secret", prefix: "sq0csp-", parts: []part{run(isWordOrDash, 40, 0)}, random: true},
	{name: "square-token", prefix: "EAAA", at: "AA", parts: []part{run(isWordOrDash, 60, 0)}, random: true},
	{name: "typeform", prefix: "tfp_", parts: []part{run(isTokenDotEq, 59, 0)}, random: true},
	{name: "twilio-api-key", prefix: "SK", parts: []part{exactly(isHexByte, 32)}},
	{name: "newrelic-user", prefix: "NRAK-", parts: []part{exactly(isUpperAlnum, 27)}},
	{name: "newrelic-browser", prefix: "NRJS-", parts: []part{exactly(isLowerHex, 19)}},
	{name: "newrelic-insert", prefix: "NRII-", parts: []part{exactly(isWordOrDash, 32)}},
	{name: "grafana-cloud", prefix: "glc_", parts: []part{run(isBase64, 32, 0), run(isEquals, 0, 3)}, random: true},
	{name: "grafana-service-account", prefix: "glsa_", parts: []part{exactly(isAlnum, 32), lit("_"), exactly(isHexByte, 8)}},
	{name: "grafana-api-key", prefix: "eyJrIjoi", at: "rI", parts: []part{run(isAlnum, 70, 0), run(isEquals, 0, 3)}},
	{name: "sourcegraph", prefix: "sgp_", parts: []part{run(isHexByte, 40, 0)}},
	{name: "sourcegraph-scoped", prefix: "sgp_", parts: []part{exactly(isHexByte, 16), lit("_"), exactly(isHexByte, 40)}},
	{name: "sourcegraph-local", prefix: "sgp_local_", parts: []part{exactly(isHexByte, 40)}},
	{name: "frameio", prefix: "fio-u-", parts: []part{exactly(isWordDashEq, 64)}},
	{name: "duffel-test", prefix: "duffel_test_", parts: []part{exactly(isWordDashEq, 43)}},
	{name: "duffel-live", prefix: "duffel_live_", parts: []part{exactly(isWordDashEq, 43)}},
	{name: "easypost", prefix: "EZAK", at: "AK", parts: []part{exactly(isAlnum, 54)}},
	{name: "easypost-test", prefix: "EZTK", parts: []part{exactly(isAlnum, 54)}},
	{name: "facebook-page-m", prefix: "EAAM", at: "AA", parts: []part{run(isAlnum, 100, 0)}},
	{name: "facebook-page-c", prefix: "EAAC", at: "AA", parts: []part{run(isAlnum, 100, 0)}},
	{name: "flutterwave-secret", prefix: "FLWSECK_TEST-", parts: []part{exactly(isFlutterHex, 32), lit("-X")}},
	{name: "flutterwave-public", prefix: "FLWPUBK_TEST-", parts: []part{exactly(isFlutterHex, 32), lit("-X")}},
	{name: "flutterwave-encryption", prefix: "FLWSECK_TEST", parts: []part{exactly(isFlutterHex, 12)}},
	{name: "1password-secret-key", prefix: "A3-", parts: []part{run(isUpperAlnumDash, 36, 37)}, check: onePasswordGroups},
	{name: "1password-service-account", prefix: "ops_eyJ", parts: []part{run(isBase64, 250, 0), run(isEquals, 0, 3)}},
	{name: "age", prefix: "AGE-SECRET-KEY-1", parts: []part{exactly(isAgeChar, 58)}, free: true},
	{name: "adobe", prefix: "p8e-", parts: []part{exactly(isAlnum, 32)}, random: true},
	{name: "maxmind", prefix: "_mmk", lead: []part{exactly(isAlnum, 6), lit("_"), exactly(isAlnum, 29)}},
	{name: "settlemint-application", prefix: "sm_aat_", parts: []part{exactly(isAlnum, 16)}, random: true},
	{name: "settlemint-personal", prefix: "sm_pat_", parts: []part{exactly(isAlnum, 16)}, random: true},
	{name: "settlemint-service", prefix: "sm_sat_", parts: []part{exactly(isAlnum, 16)}, random: true},
	{name: "authress-sc", prefix: "sc_", parts: authressParts},
	{name: "authress-ext", prefix: "ext_", parts: authressParts},
	{name: "authress-scauth", prefix: "scauth_", parts: authressParts},
	{name: "authress", prefix: "authress_", parts: authressParts},
	{name: "jwt-base64", prefix: "ZXlK", at: "lK", parts: []part{run(isBase64Pad, 44, 0)}, check: encodesJWT},
}

// authressParts are the documented shape of an Authress key after its
// prefix; the prefixes alone (sc_, ext_) are common words' ends.
var authressParts = []part{run(isAlnum, 5, 30), lit("."), run(isAlnum, 4, 6), lit(".acc"), run(isDashUnderscore, 1, 1), run(isLowerAlnumDash, 10, 32), lit("."), run(isAuthressTail, 30, 120)}

func isEquals(c byte) bool         { return c == '=' }
func isAzureChar(c byte) bool      { return isWord(c) || c == '~' || c == '.' }
func isAzureTail(c byte) bool      { return isAzureChar(c) || c == '-' }
func isUpperAlnumDash(c byte) bool { return isUpperAlnum(c) || c == '-' }
func isLowerAlnumDash(c byte) bool { return isLowerAlnum(c) || c == '-' }
func isDashUnderscore(c byte) bool { return c == '-' || c == '_' }
func isWebhookPathChar(c byte) bool {
	return isAlnum(c) || c == '-' || c == '@' || c == '/' || c == '_'
}

// famAnchor is a family anchored on a pair of bytes, and where in its
// prefix the pair sits.
type famAnchor struct {
	second byte
	// before is the byte of the prefix before the pair, if off > 0:
	// many families share a pair ("t-" ends nine of GitLab's
	// prefixes), and one byte tells most of them apart.
	before byte
	off    int
	fam    *family
}

// famIndex holds, by the first byte of the anchoring pair, the families
// anchored on each pair, and the bytes of the pairs for the prefilter,
// split by the kind of pair, so that its test of a first byte and a
// second byte admits few pairs that are no anchor. Read only.
var famIndex = buildFamIndex()

type famTables struct {
	byFirst       [256][]famAnchor
	first, second [256]uint32
	// pairs holds the anchoring pairs: the prefilter's bits, by kind of
	// pair, admit their cross product, and this turns away the pairs no
	// family has ("6." of "2026.pdf"; see anchorBits).
	pairs     pairSet
	maxPrefix int // the longest fixed text of a family, lead included
}

func buildFamIndex() *famTables {
	t := &famTables{}
	for i := range families {
		f := &families[i]
		off := anchorOffset(f.prefix)
		if f.at != "" {
			off = strings.Index(f.prefix, f.at)
		}
		a, b := f.prefix[off], f.prefix[off+1]
		n := len(f.prefix)
		for _, p := range f.lead {
			n += len(p.lit) + p.max
		}
		t.maxPrefix = max(t.maxPrefix, n)
		fa := famAnchor{second: b, off: off, fam: f}
		if off > 0 {
			fa.before = f.prefix[off-1]
		}
		t.byFirst[a] = append(t.byFirst[a], fa)
		t.pairs.add(a, b)
		bit := pairFamilyBit(a, b)
		t.first[a] |= bit
		t.second[b] |= bit
	}
	return t
}

// anchorOffset returns the offset in prefix of the first pair holding
// punctuation, else the first holding a digit, else the first holding a
// capital, else the first pair: the rarer in text, the fewer stops.
func anchorOffset(prefix string) int {
	for _, rare := range []func(byte) bool{
		func(c byte) bool { return !isAlnum(c) },
		isDigit,
		isUpper,
	} {
		for i := 0; i+1 < len(prefix); i++ {
			if rare(prefix[i]) || rare(prefix[i+1]) {
				return i
			}
		}
	}
	return 0
}

// pairFamilyBit returns the prefilter bit of an anchoring pair, by its
// kind, so that the prefilter's cross product of first and second bytes
// stays close to the real pairs: by the punctuation it ends with, or
// starts with, a digit, a capital, or two lower-case letters. Pairs of
// 'A' and a capital share the AWS key ids' bit ("AA" of "EAAA").
func pairFamilyBit(a, b byte) uint32 {
	switch {
	case b == '-':
		return pairFamDash
	case b == '_':
		return pairFamUnderscore
	case !isAlnum(b):
		return pairFamPunct
	case !isAlnum(a):
		return pairFamPunctFirst
	case isDigit(b):
		// One bit per digit: timestamps (T10:11) and paths (/v1/)
		// hold letter-digit pairs, and a shared bit would let every
		// letter of one anchor meet every digit of another.
		return pairFamDigit0 << (b - '0')
	case isDigit(a):
		return pairFamDigitFirst
	case a == 'A' && isUpper(b):
		return pairAWS
	case isUpper(a) || isUpper(b):
		return pairFamUpper
	}
	return pairFamLower
}

// familyAt tries the families anchored on the pair at s[i] and returns
// the first token found. When a family read far (a long run it then
// turned down) and none matched, it returns the empty span at the end of
// what was read, so that anchors inside that run are not tried again:
// trying each would make the scan quadratic.
func familyAt(s string, i int) span {
	far := 0
	for _, a := range famIndex.byFirst[s[i]] {
		start := i - a.off
		if a.second != s[i+1] || start < 0 || a.off > 0 && s[i-1] != a.before || !strings.HasPrefix(s[start:], a.fam.prefix) {
			continue
		}
		v := a.fam.match(s, start)
		if !v.empty() {
			return v
		}
		far = max(far, v.end)
	}
	if far-i > longRejection {
		return span{far, far}
	}
	return span{}
}

// longRejection is how far a family may read before turning a run down
// without the anchors inside it being skipped. Families read a bounded
// amount except for runs without an upper bound.
const longRejection = 512

// match returns the token of f that starts at s[start], whose prefix is
// known to be there, or the empty span at the end of what it read.
func (f *family) match(s string, start int) span {
	body := start + len(f.prefix)
	lastRun, lastMin := -1, 0 // where the last run started, and its minimum
	for k := len(f.lead) - 1; k >= 0; k-- {
		p := f.lead[k]
		if p.in == nil {
			if !strings.HasSuffix(s[:start], p.lit) {
				return span{}
			}
			start -= len(p.lit)
			continue
		}
		for n := 0; n < p.min; n++ {
			if start == 0 || !p.in(s[start-1]) {
				return span{}
			}
			start--
		}
	}
	if !f.free && !tokenStart(s, start) {
		return span{}
	}
	j := body
	for k, p := range f.parts {
		if p.in == nil {
			if !strings.HasPrefix(s[j:], p.lit) {
				return span{}
			}
			j += len(p.lit)
			continue
		}
		e := j
		last := k == len(f.parts)-1
		for e < len(s) && p.in(s[e]) && (p.max == 0 || e-j < p.max || last) {
			if s[e] == '-' && strings.HasPrefix(s[e:], pemEnd) {
				break // as in runEnd: a PEM END marker ends every run
			}
			e++
		}
		if e-j < p.min {
			return span{e, e}
		}
		if e > j {
			lastRun, lastMin = j, p.min // an empty padding run is not the last
		}
		// A last run longer than the format is taken whole: a secret
		// that merely looks oversized must not be left half masked.
		j = e
	}
	if f.dotted {
		// Routable tokens carry '.'-separated parts after the body.
		for j+1 < len(s) && s[j] == '.' && isWordOrDash(s[j+1]) {
			j = runEnd(s, j+1, isWordOrDash)
		}
	}
	if !f.glued && j < len(s) && isWord(s[j]) && s[j-1] != '=' && lastRun >= 0 {
		// The last run took in punctuation of its alphabet and then
		// met a word byte: the token may end at that punctuation
		// ("...bi1=0A" is a token, '=' and text glued after it).
		k := j - 1
		for k >= lastRun+lastMin && isWord(s[k]) {
			k--
		}
		if k >= lastRun+lastMin {
			j = k
		}
	}
	secret := s[body:j]
	if secret == "" {
		secret = s[start:body] // a format whose secret is before its suffix (_mmk)
	}
	// A word byte right after the token makes it part of a longer
	// identifier, unless base64 padding has already ended it.
	if !f.glued && j < len(s) && isWord(s[j]) && s[j-1] != '=' ||
		!notPlaceholder(secret) || f.random && !looksRandom(s[body:j]) ||
		f.check != nil && !f.check(s[start:j]) {
		return span{j, j}
	}
	if f.keepPrefix {
		return span{body, j}
	}
	return span{start, j}
}

// looksRandom reports whether a token body is more than a placeholder or
// a name: it uses at least four different bytes (not "xxxxxxxx") and looks
// machine-made (glpat-rotation-policy-enabled is a setting's name).
func looksRandom(t string) bool {
	return notPlaceholder(t) && looksGenerated(t)
}

// notPlaceholder reports whether t holds at least four different bytes; a
// placeholder (xxxxxxxx, 00000000, xXxX) does not.
func notPlaceholder(t string) bool {
	var seen [4]uint64
	n := 0
	for i := 0; i < len(t) && n < 4; i++ {
		c := t[i]
		if seen[c>>6]&(1<<(c&63)) == 0 {
			seen[c>>6] |= 1 << (c & 63)
			n++
		}
	}
	return n >= 4
}

// encodesJWT reports whether a base64 run starting "ZXlK" (the base64 of
// "eyJ") decodes to a JWT: a JSON header, a dot and a JSON payload.
func encodesJWT(t string) bool {
	var acc, bits uint
	var win [4]byte // the last bytes decoded
	for i := 0; i < len(t); i++ {
		v := base64Value(t[i])
		if v < 0 {
			break
		}
		acc, bits = acc<<6|uint(v), bits+6
		if bits >= 8 {
			bits -= 8
			copy(win[:], win[1:])
			win[3] = byte(acc >> bits)
			if string(win[1:]) == ".ey" || string(win[:]) == ".ewo" {
				return true
			}
		}
	}
	return false
}

// freeFamilyAt returns the token of a family that needs no word boundary
// before it and starts at s[i], if any.
func freeFamilyAt(s string, i int) span {
	for k := range families {
		f := &families[k]
		if f.free && strings.HasPrefix(s[i:], f.prefix) {
			if v := f.match(s, i); !v.empty() {
				return v
			}
		}
	}
	return span{}
}

// onePasswordGroups reports whether a 1Password secret key has its
// published groups after "A3-": 6, 11, 5, 5 and 5 characters, or 6, 6, 5,
// 5, 5 and 5.
func onePasswordGroups(t string) bool {
	var n [8]int
	g := 0
	for i := len("A3-"); i < len(t); i++ {
		if t[i] == '-' {
			if g++; g == len(n) {
				return false
			}
			continue
		}
		n[g]++
	}
	switch g {
	case 4:
		return n == [8]int{6, 11, 5, 5, 5}
	case 5:
		return n == [8]int{6, 6, 5, 5, 5, 5}
	}
	return false
}
