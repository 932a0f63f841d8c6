package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/slogaudit/audit"
)

// TestWebapp sends the README's request and checks the two records.
func TestWebapp(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(audit.NewHandler(slog.NewJSONHandler(&out, nil), nil))
	srv := httptest.NewServer(newServer(logger))
	defer srv.Close()
	req, _ := http.NewRequest("DELETE", srv.URL+"/files/report.pdf", nil)
	req.Header.Set("X-User", "ada")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("status %d, request id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 records, got:\n%s", out.String())
	}
	for i, want := range []map[string]any{
		{"event": "file.delete", "target.kind": "file", "target.id": "report.pdf", "outcome": "success", "url.path": "/files/report.pdf"},
		{"event": "http.request.end", "http.response.status_code": 204.0, "outcome": "success"},
	} {
		var m map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("record %d: %s = %v, want %v\n%s", i, k, m[k], v, lines[i])
			}
		}
		if u, _ := m["user"].(map[string]any); u["name"] != "ada" {
			t.Errorf("record %d: user %v, want ada", i, m["user"])
		}
		if m["request_id"] != resp.Header.Get("X-Request-Id") {
			t.Errorf("record %d: request_id %v, want the response header's", i, m["request_id"])
		}
	}
}

// TestREADMEShowsThisProgram keeps the README's net/http example the code
// that this test compiles and runs.
func TestREADMEShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	// From the import block to the end: the doc comment is the README's
	// prose.
	code := src[bytes.Index(src, []byte("import (")):]
	if !bytes.Contains(readme, code) {
		t.Error("README.md does not show examples/webapp/main.go from its import block on; copy it in")
	}
}
