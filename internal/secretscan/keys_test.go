package secretscan

import "testing"

func TestKeysSecret(t *testing.T) {
	for _, c := range []struct {
		key  string
		want bool
	}{
		// The names of SPEC item 4 and of issue 12.
		{"password", true}, {"Password", true}, {"db_password", true}, {"PGPASSWORD", true},
		{"passwords", true}, {"passwd", true}, {"mysql_pwd", true}, {"db_pwd", true},
		{"secret", true}, {"client_secret", true}, {"secret_key", true}, {"aws_secret_access_key", true},
		{"AWS_SECRET_ACCESS_KEY", true}, {"passphrase", true}, {"X-Auth-Key", true}, {"X-Api-Key", true},
		{"api_key", true}, {"apiKey", true}, {"access_token", true}, {"XSRF-TOKEN", true}, {"csrftoken", true},
		{"session", true}, {"session_id", true}, {"sessionid", true}, {"PHPSESSID", true}, {"JSESSIONID", true},
		{"connect.sid", true}, {"user_session", true}, {"userSession", true}, {"_gitlab_session", true},
		{"password_confirmation", true}, {"user[password]", true}, {"Password:", true}, {"Set-Cookie", true},
		{"cookie", true}, {"Cookies", true}, {"authorization", true}, {"Proxy-Authorization", true},
		{"private_key", true}, {"privkey", true}, {"credentials", true}, {"AccountKey", true},
		{"SharedAccessKey", true}, {"auth", true}, {"AUTH", true}, {"db_pass", true}, {"DB_PASS", true},
		{"dbPass", true}, {"pass", true}, {"encryption_key", true}, {"signing_key", true},
		// Look-alikes: fullwidth letters, the Kelvin sign, zero-width and
		// other format characters, mathematical letters.
		{"ｐａｓｓｗｏｒｄ", true}, {"api_\u212Aey", true}, {"pass\u200Bword", true}, {"pass\u00ADword", true},
		{"\uFEFFtoken", true}, {"to\u200Dken", true}, {"secret\u2060", true}, {"𝐩𝐚𝐬𝐬𝐰𝐨𝐫𝐝", true},
		{"ⓣⓞⓚⓔⓝ", true}, {"PASSWORD\u00A0", true}, {"ſecret", true}, {"db\u3000password", true},
		// Ordinary keys: ending with a word is the rule, not holding one.
		{"token_count", false}, {"author", false}, {"monkey", false}, {"primary_key", false},
		{"passwordless", false}, {"size_bytes", false}, {"file_size_bytes", false}, {"content_type", false},
		{"user_agent", false}, {"ip_address", false}, {"filename", false}, {"PWD", false}, {"OLDPWD", false},
		{"pwd", false}, {"bypass", false}, {"compass", false}, {"oauth", false}, {"is_auth", false},
		{"GoogleAuth", false}, {"sessions_total", false}, {"tokenizer", false}, {"secretary", false},
		{"keyword", false}, {"cookie_count", false}, {"", false}, {"a", false}, {"_", false},
		{"authenticate", false}, {"WWW-Authenticate", false}, {"obsession", false}, {"possession", false},
		{"\xff\xfe", false}, {"key", false}, {"sid", false},
	} {
		if got := testKeys.Secret(c.key); got != c.want {
			t.Errorf("Secret(%q) = %v, want %v", c.key, got, c.want)
		}
		if got := testKeys.RuledOut(c.key); got && c.want {
			t.Errorf("RuledOut(%q) = true for a secret key", c.key)
		}
	}
}

func TestKeysExtraAndAllow(t *testing.T) {
	k := NewKeys([]string{"X-Tenant-Signature", "pwd", "ab", "z"}, []string{"session", "Db-Password"})
	for _, c := range []struct {
		key  string
		want bool
	}{
		{"x_tenant_signature", true}, {"my-x-tenant-signature", true}, {"signature", false}, // the caller's word, by suffix
		{"PWD", true}, {"OLDPWD", false}, // naming pwd makes the exact key secret again
		{"grab", true}, {"quiz", true}, // short words
		{"session", false}, {"db_password", false}, {"DB.PASSWORD", false}, // allowed
		{"user_session", true}, {"password", true},
	} {
		if got := k.Secret(c.key); got != c.want {
			t.Errorf("Secret(%q) = %v, want %v", c.key, got, c.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"X-Api-Key", "xapikey"},
		{"user[password]", "userpassword"},
		{"Password:", "password"},
		{"ｐａｓｓ", "pass"},
		{"\u212Aey", "key"},
		{"to\u200Bken", "token"},
		{"a b.c_d-e", "abcde"},
		{"\xff", "\xff"},
		{"ключ", "ключ"},
	} {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// The fast checks must never rule out a key the full rule calls secret.
func TestKeysFastChecksAgree(t *testing.T) {
	pieces := []string{"pass", "word", "pwd", "token", "se", "ssion", "_", "-", ".", ":", "[", "]", " ", "K", "\u212A", "\u200B", "ｓ", "ey", "es", "s", "id", "auth", "o", "x", "\xff"}
	var rec func(prefix string, depth int)
	n := 0
	rec = func(prefix string, depth int) {
		if depth == 0 {
			return
		}
		for _, p := range pieces {
			key := prefix + p
			n++
			slow := testKeys.secretSlowNoTriple(key)
			if slow && (testKeys.RuledOut(key) || testKeys.ruledOutBySkip(key) || testKeys.ruledOutByTriple(key)) {
				t.Fatalf("%q is secret but a fast check rules it out", key)
			}
			rec(key, depth-1)
		}
	}
	rec("", 4)
	if n == 0 {
		t.Fatal("no keys")
	}
}
