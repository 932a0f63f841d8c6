package seal_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slogaudit/audit"
	"github.com/slogaudit/audit/seal"
)

// The examples run on a frozen clock, with a fixed key and log id and no
// ticker goroutine, so that their output can be checked. Real programs
// leave Now, Rand and NoTicker unset, and take the key from crypto/rand.

var (
	exampleKey   = []byte("32 random bytes, kept off the host")
	exampleStart = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
)

// exampleClock returns a clock that tests move by hand.
func exampleClock() (now func() time.Time, advance func(time.Duration)) {
	t := exampleStart
	return func() time.Time { return t }, func(d time.Duration) { t = t.Add(d) }
}

func removeTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// The writer sits beneath the handler, so it seals what the audit handler
// wrote: the password is redacted before it is sealed.
func Example() {
	now, advance := exampleClock()
	var file bytes.Buffer
	w := seal.NewWriter(&file, exampleKey, &seal.Options{
		Now:      now,
		Rand:     strings.NewReader("fixed log id...."),
		NoTicker: true,
	})
	logger := slog.New(audit.NewHandler(
		slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: removeTime}),
		&audit.Options{NoEventID: true}))

	logger.Info("Login succeeded", audit.Event("auth.login"), "login", "ada", "password", "hunter2")
	advance(time.Minute)
	w.Tick() // the end of the epoch: a seal record, and a new key
	logger.Info("File deleted", audit.Event("file.delete"), "login", "ada", "filename", "q3.csv")
	w.Close()

	fmt.Print(file.String())
	// Output:
	// {"time":"2026-11-30T09:00:00Z","level":"INFO","msg":"audit log opened","log_id":"6669786564206c6f672069642e2e2e2e","epoch":0,"epoch_length":"1m0s","seal":{"seq":0,"kind":"open","mac":"85174ae17c861527c1870acb46460082fc21bf1171f55bb43aa7e00253287345"}}
	// {"level":"INFO","msg":"Login succeeded","event":"auth.login","login":"ada","password":"[REDACTED]","seal":{"seq":1,"mac":"d5a31a33211581cca67689bb38c12defadbcd573e30164238c3b75b4d063cbf5"}}
	// {"time":"2026-11-30T09:01:00Z","level":"INFO","msg":"audit epoch sealed","log_id":"6669786564206c6f672069642e2e2e2e","epoch":0,"seal":{"seq":2,"kind":"seal","mac":"c8d45f4e1dd22e7f1bb8a19a4f5e3b839b35f8bc0539d48f23cacc54ae6ffe24"}}
	// {"level":"INFO","msg":"File deleted","event":"file.delete","login":"ada","filename":"q3.csv","seal":{"seq":3,"mac":"1f10ab5c976a037752657f6ce36c8ddb56aee4c5bb7aeede4f47c2550375c24e"}}
	// {"time":"2026-11-30T09:01:00Z","level":"INFO","msg":"audit log closed","log_id":"6669786564206c6f672069642e2e2e2e","epoch":1,"seal":{"seq":4,"kind":"close","mac":"a3ebd8a692144158fb66693290c89caa4a66b90214cad8a9c7f55d063f530fc6"}}
}

// Verify names the first bad record of a log, and what is wrong with it.
func ExampleVerify() {
	now, advance := exampleClock()
	var file bytes.Buffer
	w := seal.NewWriter(&file, exampleKey, &seal.Options{Now: now, NoTicker: true})
	for _, name := range []string{"q1.csv", "q2.csv", "q3.csv"} {
		fmt.Fprintf(w, `{"msg":"File deleted","filename":%q}`+"\n", name)
	}
	advance(time.Minute)
	w.Close()

	r, _ := seal.Verify(exampleKey, nil, bytes.NewReader(file.Bytes()))
	fmt.Println("untouched:", r.OK(), r.Records, "records")

	edited := bytes.Replace(file.Bytes(), []byte("q2.csv"), []byte("q4.csv"), 1)
	r, _ = seal.Verify(exampleKey, nil, bytes.NewReader(edited))
	fmt.Println("edited:", r.OK(), r.Problems)

	lines := bytes.SplitAfter(file.Bytes(), []byte("\n"))
	swapped := bytes.Join([][]byte{lines[0], lines[2], lines[1], lines[3], lines[4]}, nil)
	r, _ = seal.Verify(exampleKey, nil, bytes.NewReader(swapped))
	fmt.Println("swapped:", r.OK(), r.Problems)

	cut := bytes.Join(lines[:3], nil)
	r, _ = seal.Verify(exampleKey, nil, bytes.NewReader(cut))
	fmt.Println("cut:", r.OK(), r.Problems)
	// Output:
	// untouched: true 5 records
	// edited: false [file 1:3: edited: record 2 was changed]
	// swapped: false [file 1:2: reordered: record 2 stands before record 1]
	// cut: false [not-closed: the log ends after record 2 without a close record: truncated, crashed, or still being written]
}

// A checkpoint hook ships signed checkpoints off the host; with them the
// verifier sees a log rolled back to an older copy, which on its own is a
// well-formed log.
func ExampleOptions_checkpoint() {
	now, advance := exampleClock()
	pub, priv, _ := ed25519.GenerateKey(nil)
	var anchors []seal.Checkpoint // in practice: another service, a locked bucket
	var file bytes.Buffer
	w := seal.NewWriter(&file, exampleKey, &seal.Options{
		Now:        now,
		Rand:       strings.NewReader("fixed log id...."),
		NoTicker:   true,
		SigningKey: priv,
		Checkpoint: func(c seal.Checkpoint) { anchors = append(anchors, c) },
	})
	fmt.Fprintln(w, `{"msg":"File uploaded"}`)
	advance(time.Minute)
	w.Tick()
	copied := bytes.Clone(file.Bytes()) // an attacker keeps this copy
	fmt.Fprintln(w, `{"msg":"File deleted"}`)
	advance(10 * time.Second)
	w.Close()

	for _, c := range anchors {
		fmt.Println(c.Kind, "epoch", c.Epoch, "record", c.Seq, "chain", c.Chain.String()[:16], "signed:", c.Verify(pub))
	}
	opts := &seal.VerifyOptions{Checkpoints: anchors, PublicKey: pub, Now: now()}
	r, _ := seal.Verify(exampleKey, opts, bytes.NewReader(file.Bytes()))
	fmt.Println("the log:", r.OK(), r.Checkpoints, "checkpoints matched")
	r, _ = seal.Verify(exampleKey, opts, bytes.NewReader(copied))
	fmt.Println("the old copy:", r.OK())
	for _, p := range r.Problems {
		fmt.Println(p)
	}
	// Output:
	// open epoch 0 record 0 chain 85174ae17c861527 signed: true
	// seal epoch 0 record 2 chain d24abedb36b77245 signed: true
	// close epoch 1 record 4 chain e2082385f4b09d7e signed: true
	// the log: true 3 checkpoints matched
	// the old copy: false
	// checkpoint: checkpoint 3 of 2026-11-30T09:01:10Z names record 4, beyond the log's end at record 2: truncated or rolled back
}
