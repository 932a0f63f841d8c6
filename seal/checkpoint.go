package seal

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// A Checkpoint commits to a log as it stood at one of the writer's own
// records (open, seal or close): whoever holds it can later tell whether
// the log still extends to that record with the same content. The writer
// hands one to [Options.Checkpoint] at every such record, for the
// application to store off the host. Its JSON form is one object with the
// field names below.
type Checkpoint struct {
	LogID LogID     `json:"log_id"`
	Kind  string    `json:"kind"`  // "open", "seal" or "close"
	Epoch uint64    `json:"epoch"` // the epoch of the record
	Seq   uint64    `json:"seq"`   // the record's sequence number
	Chain Sum       `json:"chain"` // the record's MAC, the chain value so far
	Time  time.Time `json:"time"`  // when the record was written
	// Signature is the Ed25519 signature of the fields above, when the
	// writer has a signing key; see [Checkpoint.Verify].
	Signature []byte `json:"sig,omitempty"`
}

const checkpointDomain = "github.com/slogaudit/audit/seal v1 checkpoint\x00"

// signedBytes returns the bytes the signature covers.
func (c *Checkpoint) signedBytes() []byte {
	b := make([]byte, 0, len(checkpointDomain)+len(c.LogID)+len(c.Kind)+1+8+8+len(c.Chain)+8)
	b = append(b, checkpointDomain...)
	b = append(b, c.LogID[:]...)
	b = append(b, c.Kind...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint64(b, c.Epoch)
	b = binary.BigEndian.AppendUint64(b, c.Seq)
	b = append(b, c.Chain[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(c.Time.UnixNano()))
}

// Sign sets c.Signature with key.
func (c *Checkpoint) Sign(key ed25519.PrivateKey) {
	c.Signature = ed25519.Sign(key, c.signedBytes())
}

// Verify reports whether c carries a valid signature by the holder of the
// private key matching pub.
func (c *Checkpoint) Verify(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && len(c.Signature) == ed25519.SignatureSize &&
		ed25519.Verify(pub, c.signedBytes(), c.Signature)
}

// ReadCheckpoints reads checkpoints in their JSON form, one object per line
// (blank lines are skipped), as an application might append them to a file.
func ReadCheckpoints(r io.Reader) ([]Checkpoint, error) {
	var cps []Checkpoint
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var c Checkpoint
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return cps, fmt.Errorf("seal: checkpoint on line %d: %v", n, err)
		}
		if c.Kind == "" || c.Time.IsZero() {
			return cps, fmt.Errorf("seal: checkpoint on line %d: no kind or time", n)
		}
		cps = append(cps, c)
	}
	if err := sc.Err(); err != nil {
		return cps, fmt.Errorf("seal: reading checkpoints: %v", err)
	}
	return cps, nil
}
