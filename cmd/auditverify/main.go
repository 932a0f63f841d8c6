// Command auditverify checks a sealed audit log, written by
// [github.com/slogaudit/audit/seal.Writer], and reports any record that was
// changed, inserted, deleted or moved, seals that are missing, the unsealed
// tail, and checkpoints that do not match.
//
//	go run github.com/slogaudit/audit/cmd/auditverify -key-file K [-checkpoints F] [-pub P] [-live] [-json] file...
//
// The files are the log's files in order, oldest first. The key file holds
// the key the writer was given, as hex (or as raw bytes if it is not hex).
// The checkpoints file holds checkpoints as JSON, one per line, as
// [seal.Checkpoint] marshals them; -pub names a file holding, as hex, the
// Ed25519 public key they must be signed with. Without -live the log must
// end with its close record; with -live it may still be being written, and
// must have been sealed within the last epoch.
//
// The exit status is 0 when everything verifies, 1 when a problem was
// found, and 2 when the command could not run (bad flags, unreadable files).
package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/slogaudit/audit/seal"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, time.Now))
}

// run is the command, with its arguments, output and clock given.
func run(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("auditverify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("key-file", "", "file holding the log's key, as hex (required)")
	cpFile := fs.String("checkpoints", "", "file of checkpoints, one JSON object per line")
	pubFile := fs.String("pub", "", "file holding the Ed25519 public key of the checkpoints, as hex")
	live := fs.Bool("live", false, "the log may still be being written: accept it without a close record if it was sealed within the last epoch")
	grace := fs.Duration("grace", 0, "how late a seal may be before it counts as missing (default half an epoch)")
	asJSON := fs.Bool("json", false, "write the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: auditverify -key-file K [-checkpoints F] [-pub P] [-live] [-json] file...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *keyFile == "" || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "auditverify: %v\n", err)
		return 2
	}
	key, err := readKey(*keyFile)
	if err != nil {
		return fail(err)
	}
	opts := &seal.VerifyOptions{Grace: *grace}
	if *live {
		opts.Now = now()
	}
	if *cpFile != "" {
		f, err := os.Open(*cpFile)
		if err != nil {
			return fail(err)
		}
		opts.Checkpoints, err = seal.ReadCheckpoints(f)
		f.Close()
		if err != nil {
			return fail(fmt.Errorf("%s: %v", *cpFile, err))
		}
	}
	if *pubFile != "" {
		pub, err := readHex(*pubFile)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return fail(fmt.Errorf("%s: not an Ed25519 public key in hex", *pubFile))
		}
		opts.PublicKey = pub
	}
	var files []io.Reader
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		files = append(files, f)
	}
	rep, err := seal.Verify(key, opts, files...)
	if err != nil {
		return fail(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(jsonReport{Report: rep, OK: rep.OK()})
	} else {
		writeText(stdout, rep, len(files), opts)
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

type jsonReport struct {
	OK bool `json:"ok"`
	*seal.Report
}

func writeText(w io.Writer, r *seal.Report, files int, opts *seal.VerifyOptions) {
	fmt.Fprintf(w, "log %s: %d records in %d file(s)", r.LogID, r.Records, files)
	if r.FirstSeq > 0 {
		fmt.Fprintf(w, ", from record %d", r.FirstSeq)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "verified: %d records", r.Verified)
	if r.Intact > 0 {
		fmt.Fprintf(w, "; intact through record %d", r.IntactSeq)
	}
	fmt.Fprintln(w)
	state := "not closed"
	if r.Closed {
		state = "closed"
	}
	fmt.Fprintf(w, "sealed through record %d (%d seals); unsealed tail: %d records; %s\n", r.SealedSeq, r.Seals, r.UnsealedTail, state)
	if r.PartialLine > 0 {
		fmt.Fprintf(w, "partial last line: %d bytes, not verified\n", r.PartialLine)
	}
	if len(opts.Checkpoints) > 0 {
		fmt.Fprintf(w, "checkpoints: %d of %d matched\n", r.Checkpoints, len(opts.Checkpoints))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if r.OK() {
		fmt.Fprintln(w, "OK")
		return
	}
	fmt.Fprintf(w, "FAILED: %d problem(s)\n", len(r.Problems)+r.MoreProblems)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if r.MoreProblems > 0 {
		fmt.Fprintf(w, "  ... and %d more\n", r.MoreProblems)
	}
}

// readKey reads a key file: hex, or raw bytes if it is not hex.
func readKey(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if k, err := hex.DecodeString(string(bytes.TrimSpace(b))); err == nil {
		b = k
	}
	if len(b) < seal.MinKeySize {
		return nil, errors.New(name + ": key shorter than 16 bytes")
	}
	return b, nil
}

func readHex(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(string(bytes.TrimSpace(b)))
}
