// Package seal makes an audit log tamper-evident: a [Writer] placed between
// a log/slog handler and its output seals every line with a forward-secure
// MAC chain, and [Verify] (or the command auditverify) tells whether the log
// is still what was written, and if not, where it stops being so.
//
//	w := seal.NewWriter(file, key, nil)
//	defer w.Close()
//	logger := slog.New(audit.NewHandler(slog.NewJSONHandler(w, nil), nil))
//
// The writer seals exactly the bytes the handler wrote, whatever handler it
// was. Beneath the audit handler, it seals records after redaction: a secret
// is masked before it is sealed, never after.
//
// # What a sealed log looks like
//
// Each line gets a seal field holding its sequence number and its MAC, the
// chain value. A JSON object gets one more member, so a JSON reader sees
// the record as the handler wrote it plus "seal"; any other line gets
// key=value pairs at its end, as slog.TextHandler writes a group:
//
//	{"level":"INFO","msg":"File uploaded","user":"ada","seal":{"seq":1,"mac":"3f0c…"}}
//	level=INFO msg="File uploaded" user=ada seal.seq=1 seal.mac=3f0c…
//
// The writer adds records of its own, in the form of the last line written
// (JSON before any line), marked by a kind in their seal field:
//
//   - open starts a log: its log id (random), epoch, epoch length and, when
//     the writer continues a log ([Options.Resume]), the sequence number and
//     chain value it continues from. It is written with the first line, or
//     by the first Tick, Seal or Close.
//   - seal ends an epoch ([Options.Epoch], a minute by default), written at
//     the end of every epoch even when nothing was logged: by a goroutine
//     the writer starts, or by the application calling [Writer.Tick] when
//     [Options.NoTicker] is set.
//   - close ends the log, on [Writer.Close]; it also ends the epoch.
//
// Lines are framed by '\n': a line written in several writes is sealed once
// it is complete, and a partial line left at Close is sealed as a line.
//
// # The chain and its key
//
// The writer derives the key of epoch 0 from the key it is given, k0 =
// HMAC-SHA256(key, domain), and keeps only the current epoch's key. At the
// end of each epoch it writes the seal record under the current key ki and
// replaces it, in place, by k(i+1) = SHA-256(domain' || ki): the old key is
// overwritten and cannot be computed from the new one. The verifier, which
// holds the original key, derives any epoch's key.
//
// The MAC of a record under key k is one SHA-256 over
//
//	k || label || prev || seq || kind || len(body) || body
//
// where k || label fills the first 64-byte block, prev is the previous
// record's MAC (zero for the first record of a log), seq a 64-bit sequence
// number, kind the record's kind (application record, open, seal, close),
// len(body) a 64-bit length, and body the line as the handler wrote it,
// without its '\n' and without the seal field. The hash state after the key
// block is computed once per epoch and restored for each record, so a
// record costs the hashing of its own bytes and 49 more. HMAC would add an
// outer hash, one more compression-function call per record: a fifth of
// the cost of a 250-byte line.
//
// Why this is a MAC: SHA-256 is a Merkle–Damgård iteration of a compression
// function f. Hashing the key block gives f(IV, k || label), a pseudorandom
// chaining value if f is a PRF when keyed through its data input (the
// assumption under HMAC's own proof, Bellare 2006). From there SHA-256 is
// the cascade of f over the rest of the input, which is a PRF on any set of
// inputs none of which is a prefix of another (Bellare, Canetti and
// Krawczyk 1996). The inputs here are prefix-free: the fixed-length header
// states the body's length. That is what defeats length extension, the
// attack on a plain secret-prefix hash: whoever appends to a record after
// SHA-256's padding gets an input whose stated length is wrong, so no
// record and no seal can be extended into another valid one.
//
// # Checkpoints and anchors
//
// [Options.Checkpoint] receives a [Checkpoint] at every open, seal and close
// record: log id, kind, epoch, sequence number, chain value and time, signed
// with Ed25519 when [Options.SigningKey] is set. Shipped off the host (to
// another service, an object store with a retention lock, a remote syslog),
// checkpoints are anchors: [VerifyOptions.Checkpoints] makes the verifier
// check that the log still holds each anchored record with the same chain
// value, which shows a log deleted whole, replaced, cut short or rolled
// back to an older copy.
//
// # Resuming and rotating
//
// [Writer.State] after Close is what a writer needs to continue the log in
// another file: pass it as [Options.Resume]. The new file's open record
// names the record it continues from, and the verifier, given the files in
// order, checks them as one log (a file given alone is verified from where
// it starts, and the report says so). The state holds the current key: it
// must be kept where the host keeps its secrets. After a crash, a state
// saved before the crash resumes the log, and the records written after the
// save show up as a break in the chain.
//
// # What is detected, and what is not
//
// Without anchors, [Verify] with the original key detects, in any record up
// to the last seal, even against someone who has stolen the host and its
// current key:
//
//   - a record changed, inserted, deleted, moved or duplicated: the first
//     bad record is reported, and its kind;
//   - lines that do not come from the writer, and records of another log
//     spliced in (a foreign log id);
//   - the tail cut off: a log must end with its close record, or, checked
//     as a live log ([VerifyOptions.Now]), have been sealed within the last
//     epoch; an epoch that passed without its seal is reported as a missing
//     seal, so stopping the logger (or its ticker) shows;
//   - a rotated file missing from the middle of a sequence of files.
//
// With anchors, it also detects the deletion of the whole log, its
// replacement by another complete log, and a rollback to an older copy
// (whose end lies before the latest anchor).
//
// What it cannot detect:
//
//   - whoever holds the current key can rewrite, drop or add records of the
//     current epoch, the unsealed tail since the last seal: anchors shipped
//     before the theft pin what they name, nothing pins the rest;
//   - a compromised application can log lies, or omit records, before they
//     reach the writer: sealing proves the log is what was written, not
//     that what was written is true;
//   - without anchors, a log deleted whole or replaced by another complete,
//     closed log under the same key; deleting the oldest files of a rotated
//     log (the report gives the first sequence number it saw);
//   - an attacker can stop logging: that cannot be prevented, only made
//     visible, by missing seals and by anchors that stop coming.
//
// Records are not encrypted: sealing adds integrity, not confidentiality.
// The original key must be kept off the host that writes the log; with it,
// anyone can forge a whole log.
//
// # Verifying
//
// [Verify] reads the files in one pass with a few lines of lookahead (to tell
// a moved record from deleted ones) and returns a [Report]: how many records
// verified, through which record the log is intact, the first and every
// later problem, missing seals, the unsealed tail, a crash-truncated last
// line (reported, not a problem, unless it follows the close record) and the
// checkpoints matched. After the first problem it carries on from the bad
// record's own chain value, so one bad record does not hide what follows;
// findings after the first are best effort.
package seal
