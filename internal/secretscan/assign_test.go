package secretscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// assignSyntaxes are the ways text assigns a value to a key, with K for
// the key and V for the value. colon marks the bare "K: V" form, whose
// value runs to the end of the line when the key starts one.
var assignSyntaxes = []struct {
	name, text string
	colon      bool
}{
	{"logfmt", "K=V", false},
	{"spaced", "K = V", false},
	{"yaml", "K: V", true},
	{"json", `"K": "V"`, false},
	{"json_compact", `"K":"V"`, false},
	{"dict", `'K': 'V'`, false},
	{"go_define", `K := "V"`, false},
	{"single_quoted", `K = 'V'`, false},
	{"arrow", "K => V", false},
	{"quoted_arrow", `"K" => "V"`, false},
	{"xml", "<K>V</K>", false},
	{"set_property", `setProperty("K", "V")`, false},
	{"flag_equals", "--K=V", false},
	{"flag_space", "--K V", false},
	{"jdbc", ";K=V;", false},
	{"query", "?K=V&x=1", false},
	{"dumped", "{K=V, user=ada}", false},
	{"env_export", "export K=V", false},
	{"backquoted", "K=`V`", false},
}

// assignKeys are secret keys as code and configs spell them.
var assignKeys = []string{
	"password", "DB_PASSWORD", "api_key", "X-Auth-Key", "session_id", "client_secret",
	"ADAFRUIT_TOKEN", "user[password]", "aws_secret_access_key", "passphrase", "herokuToken",
	"spring.datasource.password", "mailgunToken", "Password", "PGPASSWORD", "secret_key",
}

// plainKeys are keys that end with no secret word and must keep their
// values whatever the syntax.
var plainKeys = []string{
	"token_count", "author", "monkey", "primary_key", "passwordless", "size_bytes", "PWD", "OLDPWD", "user",
}

// assignPositions place the assignment in a longer text.
var assignPositions = []struct{ name, before, after string }{
	{"alone", "", ""},
	{"after_text", "connecting with ", ""},
	{"middle", "msg ", " next"},
	{"own_line", "first line\n", "\nlast line"},
	{"before_text", "", " retrying"},
}

const assignValue = "hunter2Xy9"

func TestMaskAssignmentMatrix(t *testing.T) {
	fill := func(text, key, value string) string {
		return strings.ReplaceAll(strings.ReplaceAll(text, "K", key), "V", value)
	}
	for _, syn := range assignSyntaxes {
		for _, key := range assignKeys {
			for _, pos := range assignPositions {
				in := pos.before + fill(syn.text, key, assignValue) + pos.after
				want := pos.before + fill(syn.text, key, testMarker) + pos.after
				if syn.colon && pos.after != "" && atLineStart(in, len(pos.before)) && !strings.HasPrefix(pos.after, "\n") {
					// A YAML or header line: the value is the rest of it.
					want = pos.before + fill(syn.text, key, testMarker)
				}
				t.Run(syn.name+"/"+key+"/"+pos.name, func(t *testing.T) {
					checkMask(t, in, want, true)
					// The same text inside a JSON string, quotes escaped.
					checkMask(t, jsonString(in), jsonString(want), true)
				})
			}
		}
		for _, key := range plainKeys {
			in := "msg " + fill(syn.text, key, assignValue) + " next"
			t.Run(syn.name+"/plain/"+key, func(t *testing.T) {
				checkMask(t, in, in, false)
			})
		}
	}
}

func jsonString(s string) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestMaskAssignmentCases(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		// The libpq keyword DSN of issue 12, in an error and a log.Printf line.
		{"libpq_dsn", "failed to connect to `host=db user=app password=s3cr3t-Pw dbname=app`: timeout",
			"failed to connect to `host=db user=app password=[REDACTED] dbname=app`: timeout"},
		{"env_assignment", "ADAFRUIT_TOKEN=aio_FAKE12abcdEFGH34ijklMNOP56qr", "ADAFRUIT_TOKEN=[REDACTED]"},
		// Databricks tokens (dapi + 32 hex) have no matcher of their
		// own (see families.go); their key names catch them.
		{"databricks_by_key", "export DATABRICKS_TOKEN=dapi9aafc52fb809aa2746f2ee026fab755a", "export DATABRICKS_TOKEN=[REDACTED]"},
		{"ado_connection_string", "Server=tcp:db.example.net,1433;Database=app;User ID=app;Password=p@ss w0rd!;Encrypt=True",
			"Server=tcp:db.example.net,1433;Database=app;User ID=app;Password=[REDACTED] w0rd!;Encrypt=True"},
		{"jdbc_property", "jdbc:sqlserver://db:1433;databaseName=app;user=app;password=Hunter2;", "jdbc:sqlserver://db:1433;databaseName=app;user=app;password=[REDACTED];"},
		{"azure_storage", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=FAKEa2V5IGJ5dGVzIG5vdCByZWFsIGF0IGFsbA==;EndpointSuffix=core.windows.net",
			"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=[REDACTED];EndpointSuffix=core.windows.net"},
		{"header_authorization_any", "Authorization: hunter2", "Authorization: [REDACTED]"},
		{"header_authorization_scheme", "Authorization: Bearer abc", "Authorization: Bearer [REDACTED]"},
		{"header_authorization_digest", "Authorization: Digest username=\"ada\", realm=\"x\", response=\"6629fae49393a05397450978507c4ef1\"",
			"Authorization: Digest [REDACTED]"},
		{"header_block", "GET / HTTP/1.1\r\nHost: example.com\r\nCookie: sid=abc; theme=dark\r\nAccept: */*",
			"GET / HTTP/1.1\r\nHost: example.com\r\nCookie: [REDACTED]\r\nAccept: */*"},
		{"header_curl", "curl -H 'X-Auth-Key: 0123abcd' https://api.example.com", "curl -H 'X-Auth-Key: [REDACTED]' https://api.example.com"},
		{"yaml_block", "db:\n  host: db\n  password: correct horse battery\n  port: 5432", "db:\n  host: db\n  password: [REDACTED]\n  port: 5432"},
		{"json_escaped_quote_in_value", `{"password":"a\"b c","user":"ada"}`, `{"password":"[REDACTED]","user":"ada"}`},
		{"json_in_json", `{"body":"{\"password\":\"a\\\"b\",\"user\":\"ada\"}"}`, `{"body":"{\"password\":\"[REDACTED]\",\"user\":\"ada\"}"}`},
		{"json_escaped_newline_after", `"msg":"password=hunter2\nnext line"`, `"msg":"password=[REDACTED]\nnext line"`},
		{"java_tostring", "User{name=ada, password=hunter2, role=admin}", "User{name=ada, password=[REDACTED], role=admin}"},
		{"parens_in_value", "password=ab(c)d next", "password=[REDACTED] next"},
		{"python_repr", "{'user': 'ada', 'password': 'it''s'}", "{'user': 'ada', 'password': '[REDACTED]''s'}"},
		{"ruby_hash", `params: {"user"=>"ada", "password"=>"hunter2"}`, `params: {"user"=>"ada", "password"=>"[REDACTED]"}`},
		{"php_array", `['password' => 'hunter2']`, `['password' => '[REDACTED]']`},
		{"makefile", "DB_PASSWORD ?= hunter2", "DB_PASSWORD ?= [REDACTED]"},
		{"namespaced_xml", "<cfg:password>hunter2</cfg:password>", "<cfg:password>[REDACTED]</cfg:password>"},
		{"flag_quoted", `app --password "correct horse" --user ada`, `app --password "[REDACTED]" --user ada`},
		{"flag_unicode_key", "ｐａｓｓｗｏｒｄ=hunter2", "ｐａｓｓｗｏｒｄ=[REDACTED]"},
		{"zero_width_key", "pass\u200bword=hunter2", "pass\u200bword=[REDACTED]"},
		{"unclosed_quote", `password="hunter2 and the rest`, `password="[REDACTED]`},
		{"two_in_a_row", "password=a token=b", "password=[REDACTED] token=[REDACTED]"},
		{"already_masked", "password=[REDACTED]", "password=[REDACTED]"},
		{"punctuation_only", "password=!@#$%^", "password=[REDACTED]"},
		{"indexed_key", "user[password]=hunter2 next", "user[password]=[REDACTED] next"},
		{"twice_indexed_key", "form[user][password]=hunter2 next", "form[user][password]=[REDACTED] next"},
		// Where a key starts does not depend on what was masked before it:
		// a closing bracket followed by a name, or an unclosed '[', ends
		// what came before ([REDACTED] among it), so these keys do not
		// start a header line and their values end at the blank.
		{"key_after_marker", "0[REDACTED]]X-Auth-Key: Zq8Lm2Xv9Rt4Kw7P 0", "0[REDACTED]]X-Auth-Key: [REDACTED] 0"},
		{"key_after_unclosed_bracket", "0[REDACTED][X-Auth-Key: Zq8Lm2Xv9Rt4Kw7P 0", "0[REDACTED][X-Auth-Key: [REDACTED] 0"},
		// An assignment inside the quoted value of one found after
		// another's value (the "Auth" one after the header's) is tried
		// like one inside the first's.
		{"quoted_assignment_after_header", "Authorization:Bearer Auth:\":herokuToken := \"Zq8Lm2Xv9Rt4Kw7P\"\n0",
			"Authorization:Bearer [REDACTED]\"[REDACTED]\"[REDACTED]\"\n0"},
		{"header_line_after_marker", "[REDACTED]\nX-Auth-Key: Zq8Lm2Xv9Rt4Kw7P 0", "[REDACTED]\nX-Auth-Key: [REDACTED]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkMask(t, c.in, c.want, c.in != c.want)
		})
	}
}

func TestMaskAssignmentNegative(t *testing.T) {
	for _, in := range []string{
		"the password is wrong",
		"password: ",
		"password:",
		"password=",
		"Please enter your password:",
		"token_count=5",
		"if password == nil {",
		"password != confirmation",
		"WWW-Authenticate: Basic realm=MyRealm",
		`WWW-Authenticate: Basic realm="Restricted"`,
		"Authorization: Basic realm=MyRealm",
		"PWD=/home/ada/src",
		"OLDPWD=/home/ada",
		"author=ada monkey=1 primary_key=id passwordless=true",
		"size_bytes=123 file_size_bytes=4 content_type=text/plain user_agent=curl ip_address=10.0.0.1",
		"password=null",
		`{"password":null}`,
		`{"password":""}`,
		"see <token> below",
		"tokens, passwords, secrets",
		`fields: ["token", "id", "name"]`,
		"--password-file /run/secrets/db",
		"--no-password --user ada",
		"std::token::Kind",
		"pam_unix(sshd:session): session opened for user ada by (uid=0)",
		"<password/>",
	} {
		t.Run(in, func(t *testing.T) {
			checkMask(t, in, in, false)
		})
	}
}
