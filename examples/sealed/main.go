// Command sealed writes a sealed audit log to a file, with the key and the
// signed checkpoints that verify it, and prints the command that does.
//
//	go run ./examples/sealed [-dir DIR]
//
// The log is what the audit handler writes, sealed beneath it by
// seal.Writer: secrets are redacted before they are sealed. A real program
// keeps the key off the host (it is written beside the log here so that the
// printed command can be run), and ships the checkpoints to another
// service.
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/slogaudit/audit"
	"github.com/slogaudit/audit/seal"
)

func main() {
	dir := flag.String("dir", "", "directory to write the log, key and checkpoints to (default: a new temporary directory)")
	flag.Parse()
	if err := run(*dir, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run writes the log and its companions into dir, and the verify command to
// stdout.
func run(dir string, stdout io.Writer) error {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "sealed-"); err != nil {
			return err
		}
	}
	paths := map[string]string{}
	for _, name := range []string{"audit.log", "key", "checkpoints.jsonl", "checkpoints.pub"} {
		paths[name] = filepath.Join(dir, name)
	}

	key := make([]byte, 32)
	rand.Read(key)
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return err
	}
	if err := os.WriteFile(paths["key"], []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(paths["checkpoints.pub"], []byte(hex.EncodeToString(pub)+"\n"), 0o644); err != nil {
		return err
	}
	anchors, err := os.Create(paths["checkpoints.jsonl"])
	if err != nil {
		return err
	}
	defer anchors.Close()
	file, err := os.Create(paths["audit.log"])
	if err != nil {
		return err
	}
	defer file.Close()

	w := seal.NewWriter(file, key, &seal.Options{
		SigningKey: priv,
		Checkpoint: func(c seal.Checkpoint) {
			b, _ := json.Marshal(c)
			anchors.Write(append(b, '\n'))
		},
	})
	logger := slog.New(audit.NewHandler(slog.NewJSONHandler(w, nil), nil))

	ctx := audit.WithIdentity(context.Background(), audit.Identity{ID: "42", Name: "ada", Kind: "user"})
	ctx = audit.With(ctx, "request_id", "req-7")
	logger.InfoContext(ctx, "Login succeeded", audit.Event("auth.login"), "password", "hunter2")
	logger.InfoContext(ctx, "File uploaded", audit.Event("file.upload"), "filename", "q3.csv", "size_bytes", 12345)
	// An epoch ends every minute; end one now, as the ticker would.
	if err := w.Seal(); err != nil {
		return err
	}
	logger.InfoContext(ctx, "File deleted", audit.Event("file.delete"), "filename", "q2.csv")
	if err := w.Close(); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "sealed audit log: %s\nverify it with:\n\n", paths["audit.log"])
	fmt.Fprintf(stdout, "go run github.com/slogaudit/audit/cmd/auditverify -key-file %s -checkpoints %s -pub %s %s\n",
		paths["key"], paths["checkpoints.jsonl"], paths["checkpoints.pub"], paths["audit.log"])
	return file.Sync()
}
