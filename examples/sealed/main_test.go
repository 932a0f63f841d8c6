package main

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slogaudit/audit/seal"
)

func TestSealedDemo(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(dir, &out); err != nil {
		t.Fatal(err)
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	if want := "auditverify -key-file " + path("key") + " -checkpoints " + path("checkpoints.jsonl") +
		" -pub " + path("checkpoints.pub") + " " + path("audit.log"); !strings.Contains(out.String(), want) {
		t.Errorf("output:\n%s\nwant it to contain %q", &out, want)
	}

	read := func(name string) []byte {
		b, err := os.ReadFile(path(name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	logFile := read("audit.log")
	if bytes.Contains(logFile, []byte("hunter2")) {
		t.Errorf("the sealed log holds the password:\n%s", logFile)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(read("key"))))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := hex.DecodeString(strings.TrimSpace(string(read("checkpoints.pub"))))
	if err != nil {
		t.Fatal(err)
	}
	cps, err := seal.ReadCheckpoints(bytes.NewReader(read("checkpoints.jsonl")))
	if err != nil {
		t.Fatal(err)
	}
	r, err := seal.Verify(key, &seal.VerifyOptions{Checkpoints: cps, PublicKey: pub}, bytes.NewReader(logFile))
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Records != 6 || r.Checkpoints != 3 || !r.Closed {
		t.Errorf("report: ok %v, %d records, %d checkpoints, closed %v, problems %v; want true, 6, 3, true, none",
			r.OK(), r.Records, r.Checkpoints, r.Closed, r.Problems)
	}
}
