package reqbody

import (
	"bytes"
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
	for _, c := range []struct {
		name, ctype, body string
		want              any // nil: left out
	}{
		{"json object", "application/json", `{"user":"ada","n":12345678901234567890}`,
			map[string]any{"user": "ada", "n": json.Number("12345678901234567890")}},
		{"json as text/plain", "text/plain", `{"a":1}`, map[string]any{"a": json.Number("1")}},
		{"json array, vendor type", "application/vnd.api+json", `[1,"x"]`, []any{json.Number("1"), "x"}},
		{"json that does not parse", "application/json", `{"password":"hunter2"`, nil},
		{"json with trailing data", "application/json", `{"a":1} {"b":2}`, nil},
		{"urlencoded form", "application/x-www-form-urlencoded", "user=ada&password=hunter2",
			map[string][]string{"user": {"ada"}, "password": {"hunter2"}}},
		{"form without a type", "", "user=ada&x=1", map[string][]string{"user": {"ada"}, "x": {"1"}}},
		{"multipart: fields and file names, never file content", "multipart/form-data; boundary=XX", multipartBody,
			map[string][]string{"user": {"ada"}, "doc": {"file a.txt"}}},
		{"multipart without a boundary", "multipart/form-data", multipartBody, nil},
		{"plain text", "text/plain", "hello there", "hello there"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := read(t, c.body).Decode(c.ctype)
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
