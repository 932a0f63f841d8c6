package audit_test

import (
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/slogaudit/audit"
)

// With a pseudonym key, redacted values are written as a keyed hash, so
// auditors can see that two records used the same password, and search for
// a known one, without the log holding it.
func ExamplePseudonym() {
	key := []byte("load me from a secret store") // never logged
	logger := slog.New(audit.NewHandler(stdout(), &audit.Options{PseudonymKey: key}))
	logger.Info("Login", "user", "ada", "password", "hunter2")
	logger.Info("Login", "user", "bob", "password", "hunter2")
	logger.Info("Login", "user", "eve", "password", "letmein")

	// Which records used "hunter2"? Search for its pseudonym.
	p := audit.Pseudonym(key, "hunter2")
	fmt.Println(p)
	fmt.Println(audit.MatchPseudonym(key, "hunter2", p), audit.MatchPseudonym(key, "letmein", p))

	// Output:
	// {"level":"INFO","msg":"Login","user":"ada","password":"hmac-sha256:a901c1bfb4db071dcc2c59af33dca56f"}
	// {"level":"INFO","msg":"Login","user":"bob","password":"hmac-sha256:a901c1bfb4db071dcc2c59af33dca56f"}
	// {"level":"INFO","msg":"Login","user":"eve","password":"hmac-sha256:562d3f3c25e63fbf310a9a61b57a428e"}
	// hmac-sha256:a901c1bfb4db071dcc2c59af33dca56f
	// true false
}

// Some values are secrets by their type, whatever their key: private keys
// are written as the marker, a cookie keeps its name and attributes but
// not its value, and headers keep the values of the ones that are not
// secret.
func ExampleNewHandler_redactByType() {
	signingKey := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	cookie := &http.Cookie{Name: "sid", Value: "3f9a1c0de2", Path: "/", HttpOnly: true}
	header := http.Header{"Authorization": {"Basic YWRhOmh1bnRlcjI="}, "Accept": {"text/html"}}

	logger := slog.New(audit.NewHandler(stdout(), nil))
	logger.Info("Session issued", "signing", signingKey, "issued", cookie, "request_headers", header)

	// Output:
	// {"level":"INFO","msg":"Session issued","signing":"[REDACTED]","issued":"sid=[REDACTED]; Path=/; HttpOnly","request_headers":{"Accept":["text/html"],"Authorization":"[REDACTED]"}}
}
