package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slogaudit/audit/seal"
)

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// files writes, in a temporary directory, a sealed log of two rotated
// files, its key, its signed checkpoints and their public key, and a
// tampered copy of the second file, and returns their paths by name.
func files(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	key := bytes.Repeat([]byte{0x5a}, 32)
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	now := t0
	var cps bytes.Buffer
	var st *seal.State
	var logs [][]byte
	for i := 0; i < 2; i++ {
		var buf bytes.Buffer
		w := seal.NewWriter(&buf, key, &seal.Options{
			NoTicker:   true,
			Now:        func() time.Time { return now },
			Resume:     st,
			SigningKey: priv,
			Checkpoint: func(c seal.Checkpoint) {
				b, _ := json.Marshal(c)
				cps.Write(append(b, '\n'))
			},
		})
		for j := 0; j < 3; j++ {
			fmt.Fprintf(w, `{"msg":"File uploaded","n":%d}`+"\n", j)
		}
		now = now.Add(time.Minute)
		w.Tick()
		fmt.Fprintln(w, `{"msg":"File deleted"}`)
		w.Close()
		s := w.State()
		st = &s
		logs = append(logs, buf.Bytes())
	}
	p := map[string]string{}
	write := func(name string, b []byte) {
		p[name] = filepath.Join(dir, name)
		if err := os.WriteFile(p[name], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("key", []byte(hex.EncodeToString(key)+"\n"))
	write("rawkey", key)
	write("short", []byte("abc"))
	write("cps", cps.Bytes())
	write("pub", []byte(hex.EncodeToString(pub)))
	write("otherpub", []byte(hex.EncodeToString(otherPub)))
	write("a.log", logs[0])
	write("b.log", logs[1])
	write("b-tampered.log", bytes.Replace(logs[1], []byte("File deleted"), []byte("File kept"), 1))
	write("b-cut.log", logs[1][:bytes.LastIndexByte(logs[1][:len(logs[1])-1], '\n')+1])
	return p
}

func TestRun(t *testing.T) {
	p := files(t)
	tests := []struct {
		name   string
		args   []string
		status int
		out    []string // substrings of standard output
		errOut string   // substring of standard error
	}{
		{"two files", []string{"-key-file", p["key"], p["a.log"], p["b.log"]}, 0,
			[]string{"14 records in 2 file(s)", "unsealed tail: 0 records; closed", "OK"}, ""},
		{"raw key", []string{"-key-file", p["rawkey"], p["a.log"], p["b.log"]}, 0, []string{"OK"}, ""},
		{"with signed checkpoints", []string{"-key-file", p["key"], "-checkpoints", p["cps"], "-pub", p["pub"], p["a.log"], p["b.log"]}, 0,
			[]string{"checkpoints: 6 of 6 matched", "OK"}, ""},
		{"checkpoints of another signer", []string{"-key-file", p["key"], "-checkpoints", p["cps"], "-pub", p["otherpub"], p["a.log"], p["b.log"]}, 1,
			[]string{"FAILED: 6 problem(s)", "no valid signature"}, ""},
		{"the second file alone", []string{"-key-file", p["key"], p["b.log"]}, 0,
			[]string{"from record 6", "note: ", "OK"}, ""},
		{"a changed record", []string{"-key-file", p["key"], p["a.log"], p["b-tampered.log"]}, 1,
			[]string{"FAILED: 1 problem(s)", "b-tampered.log:6: edited: record 12 was changed"}, ""},
		{"a file missing", []string{"-key-file", p["key"], p["b.log"], p["a.log"]}, 1,
			[]string{"FAILED"}, ""},
		{"the close record cut off", []string{"-key-file", p["key"], p["a.log"], p["b-cut.log"]}, 1,
			[]string{"not closed", "not-closed: the log ends after record 12"}, ""},
		{"the close record cut off, checked as a live log", []string{"-key-file", p["key"], "-live", p["a.log"], p["b-cut.log"]}, 0,
			[]string{"unsealed tail: 1 records; not closed", "OK"}, ""},
		{"the close record cut off, with checkpoints", []string{"-key-file", p["key"], "-live", "-checkpoints", p["cps"], p["a.log"], p["b-cut.log"]}, 1,
			[]string{"beyond the log's end at record 12: truncated or rolled back"}, ""},
		{"no key", []string{p["a.log"]}, 2, nil, "usage: auditverify"},
		{"no file", []string{"-key-file", p["key"]}, 2, nil, "usage: auditverify"},
		{"short key", []string{"-key-file", p["short"], p["a.log"]}, 2, nil, "key shorter than 16 bytes"},
		{"missing log", []string{"-key-file", p["key"], p["a.log"] + ".gone"}, 2, nil, "no such file"},
		{"bad public key", []string{"-key-file", p["key"], "-pub", p["short"], p["a.log"]}, 2, nil, "not an Ed25519 public key"},
		{"bad checkpoints", []string{"-key-file", p["key"], "-checkpoints", p["a.log"], p["a.log"]}, 2, nil, "checkpoint on line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(tt.args, &stdout, &stderr, func() time.Time { return t0.Add(2 * time.Minute) })
			if status != tt.status {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", status, tt.status, &stdout, &stderr)
			}
			for _, want := range tt.out {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout:\n%s\nwant it to contain %q", &stdout, want)
				}
			}
			if !strings.Contains(stderr.String(), tt.errOut) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", &stderr, tt.errOut)
			}
		})
	}
}

func TestRunJSON(t *testing.T) {
	p := files(t)
	tests := []struct {
		name     string
		files    []string
		status   int
		ok       bool
		problems []string
	}{
		{"clean", []string{p["a.log"], p["b.log"]}, 0, true, nil},
		{"tampered", []string{p["a.log"], p["b-tampered.log"]}, 1, false, []string{"edited"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(append([]string{"-json", "-key-file", p["key"]}, tt.files...), &stdout, &stderr, time.Now)
			if status != tt.status {
				t.Errorf("exit status %d, want %d; stderr %s", status, tt.status, &stderr)
			}
			var got struct {
				OK       bool `json:"ok"`
				Records  int  `json:"records"`
				Problems []struct {
					Kind string `json:"kind"`
				} `json:"problems"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, &stdout)
			}
			var kinds []string
			for _, p := range got.Problems {
				kinds = append(kinds, p.Kind)
			}
			if got.OK != tt.ok || got.Records != 14 || fmt.Sprint(kinds) != fmt.Sprint(tt.problems) {
				t.Errorf("report: ok %v, %d records, problems %v; want %v, 14, %v", got.OK, got.Records, kinds, tt.ok, tt.problems)
			}
		})
	}
}
