package reqbody

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// read passes body through a Tap as a handler reading it whole would.
func read(t *testing.T, body string) *Tap {
	t.Helper()
	tap := NewTap(io.NopCloser(strings.NewReader(body)))
	got, err := io.ReadAll(tap)
	if err != nil || string(got) != body {
		t.Fatalf("reading through the tap: %q, %v; want the body unchanged", got, err)
	}
	return tap
}

func TestDecode(t *testing.T) {
	multipartBody := "--XX\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\nada\r\n" +
		"--XX\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\r\nfile content\r\n--XX--\r\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"password":"hunter2"}`))
	zw.Close()
	// Bodies longer than Max are cut: what was kept must still be safe.
	pad := strings.Repeat(`{"n":1}`+"\n", Max/8)
	longJSON := `{"password":"hunter2","pad":"` + strings.Repeat("x", Max) + `"}`
	for _, c := range []struct {
		name, ctype, body string
		enc               string // Content-Encoding
		want              any    // nil: left out
	}{
		{"json object", "application/json", `{"user":"ada","n":12345678901234567890}`, "",
			map[string]any{"user": "ada", "n": json.Number("12345678901234567890")}},
		{"json as text/plain", "text/plain", `{"a":1}`, "", map[string]any{"a": json.Number("1")}},
		{"json array, vendor type", "application/vnd.api+json", `[1,"x"]`, "", []any{json.Number("1"), "x"}},
		{"json that does not parse", "application/json", `{"password":"hunter2"`, "", nil},
		{"json with trailing data", "application/json", `{"a":1} {"b":2}`, "", nil},
		{"urlencoded form", "application/x-www-form-urlencoded", "user=ada&password=hunter2", "",
			map[string][]string{"user": {"ada"}, "password": {"hunter2"}}},
		{"form without a type", "", "user=ada&x=1", "", map[string][]string{"user": {"ada"}, "x": {"1"}}},
		{"multipart: fields and file names, never file content", "multipart/form-data; boundary=XX", multipartBody, "",
			map[string][]string{"user": {"ada"}, "doc": {"file a.txt"}}},
		{"multipart without a boundary", "multipart/form-data", multipartBody, "", nil},
		{"plain text", "text/plain", "hello there", "", "hello there"},

		// Issue 12: bodies that were logged raw.
		{"NDJSON", "application/x-ndjson", "{\"a\":1}\n{\"password\":\"hunter2\"}\n", "",
			[]any{map[string]any{"a": json.Number("1")}, map[string]any{"password": "hunter2"}}},
		{"JSON lines with a bad line", "application/jsonl", "{\"a\":1}\npassword=hunter2\n", "", nil},
		{"NDJSON cut at Max: the cut line dropped", "application/x-ndjson", pad + `{"password":"hunter2"}`, "",
			func() any {
				var docs []any
				for i := 0; i < Max/8; i++ {
					docs = append(docs, map[string]any{"n": json.Number("1")})
				}
				return docs
			}()},
		{"JSON sequence (RFC 7464)", "application/json-seq", "\x1e{\"a\":1}\n\x1e[2]\n", "",
			[]any{map[string]any{"a": json.Number("1")}, []any{json.Number("2")}}},
		{"JSON with a byte-order mark", "application/json", "\xef\xbb\xbf{\"password\":\"hunter2\"}", "",
			map[string]any{"password": "hunter2"}},
		{"JSON with a byte-order mark, no type", "", "\xef\xbb\xbf {\"a\":1}", "", map[string]any{"a": json.Number("1")}},
		{"problem+json cut at Max", "application/problem+json", longJSON, "", nil},
		{"text/json cut at Max", "text/json", longJSON, "", nil},
		{"JSON type, form content", "application/json", "user=ada&password=hunter2", "", nil},
		{"form with ';' between fields", "application/x-www-form-urlencoded", "user=ada;password=hunter2", "",
			map[string][]string{"user": {"ada"}, "password": {"hunter2"}}},
		{"form with ';', no type", "", "user=ada;password=hunter2", "",
			map[string][]string{"user": {"ada"}, "password": {"hunter2"}}},
		{"text/plain form with a trailing newline", "text/plain", "user=ada&password=hunter2\r\n", "",
			map[string][]string{"user": {"ada"}, "password": {"hunter2"}}},
		{"form field that does not decode is dropped", "application/x-www-form-urlencoded", "user=ada&password=%zzhunter2", "",
			map[string][]string{"user": {"ada"}}},
		{"gzip by Content-Encoding", "application/json", "{}", "gzip", nil},
		{"identity encoding", "text/plain", "hi", "identity", "hi"},
		{"gzip by its magic bytes", "", gz.String(), "", nil},
		{"gzip by its magic bytes, typed as text", "text/plain", gz.String(), "", nil},
		{"zstd by its magic bytes", "application/octet-stream", "\x28\xb5\x2f\xfdpassword", "", nil},
		{"binary", "application/octet-stream", "\x00\x01password=hunter2", "", nil},
		{"invalid UTF-8", "text/plain", "caf\xe9 hunter2", "", nil},
		{"text cut inside a character", "text/plain", strings.Repeat("a", Max-1) + "é", "", strings.Repeat("a", Max-1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := read(t, c.body).Decode(c.ctype, c.enc)
			if !ok {
				got = nil
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Decode(%q) mismatch (-want +got):\n%s", c.ctype, diff)
			}
		})
	}
}

func TestTapKeepsMax(t *testing.T) {
	body := strings.Repeat("z", Max+100)
	tap := read(t, body)
	if tap.Size() != int64(len(body)) {
		t.Errorf("Size = %d, want %d", tap.Size(), len(body))
	}
	got, _ := tap.Decode("text/plain")
	if got != body[:Max] {
		t.Errorf("kept %d bytes, want the first %d", len(got.(string)), Max)
	}
	if tap := NewTap(io.NopCloser(&bytes.Buffer{})); tap.Size() != 0 {
		t.Errorf("empty body: Size = %d, want 0", tap.Size())
	}
	if _, ok := NewTap(io.NopCloser(&bytes.Buffer{})).Decode("application/json"); ok {
		t.Error("empty body decoded; want it left out")
	}
}
