package seal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
)

// Domain-separation strings: each use of a key hashes it with a different
// fixed string, so no output of one step can stand in for another's.
const (
	initialDomain = "github.com/slogaudit/audit/seal v1 initial key"
	evolveDomain  = "github.com/slogaudit/audit/seal v1 evolve\x00"
	macDomain     = "github.com/slogaudit/audit/seal v1 mac"
)

// Record kinds, as they enter the MAC. A record the application wrote is
// kind 0; the writer's own records have their own kinds, so that no
// application line can be taken for one of them.
const (
	kindRecord byte = iota
	kindOpen
	kindSeal
	kindClose
)

// headerLen is the length of the fixed part of a MAC input: the previous
// chain value, the sequence number, the kind and the body's length.
const headerLen = sha256.Size + 8 + 1 + 8

// initialKey derives the key of epoch 0 from the key the application holds,
// whatever its length.
func initialKey(key []byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(initialDomain))
	var k [sha256.Size]byte
	m.Sum(k[:0])
	return k
}

// evolve replaces k, in place, with the key of the next epoch. The step is
// one way: the new key says nothing about the old one, which is
// overwritten.
func evolve(k *[sha256.Size]byte) {
	var in [len(evolveDomain) + sha256.Size]byte
	copy(in[copy(in[:], evolveDomain):], k[:])
	*k = sha256.Sum256(in[:])
	clear(in[:])
}

// macer computes the MACs of one epoch. The epoch key fills the first
// 64-byte block of every MAC input, so the hash state after that block is
// computed once per epoch and restored for each record: a MAC then costs
// the compressions of the record's own bytes and nothing more.
type macer struct {
	h     hash.Hash
	state []byte // the marshaled hash state after the key block
	hdr   [headerLen]byte
}

func newMacer() *macer {
	return &macer{h: sha256.New()}
}

// setKey keys m for the epoch whose key is k, and erases the previous
// epoch's state.
func (m *macer) setKey(k *[sha256.Size]byte) {
	var block [sha256.BlockSize]byte
	copy(block[:], k[:])
	copy(block[sha256.Size:], macDomain)
	m.h.Reset()
	m.h.Write(block[:])
	clear(block[:])
	state, err := m.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic("seal: sha256 state cannot be saved: " + err.Error())
	}
	clear(m.state)
	m.state = state
	m.h.Reset()
}

// erase overwrites the epoch state.
func (m *macer) erase() {
	clear(m.state)
	m.h.Reset()
}

// begin starts the MAC of a record of the given kind and body length that
// follows the chain value prev and has sequence number seq. The body is then
// written with m.h.Write and the MAC read with m.sum.
//
// The input is prefix-free: its fixed-length header states the body's
// length, so no valid input is a prefix of another, and appending to a
// record after the hash's padding (a length extension) yields an input
// whose stated length is wrong.
func (m *macer) begin(prev *[sha256.Size]byte, seq uint64, kind byte, bodyLen int) {
	m.restore()
	putHeader(m.hdr[:], prev, seq, kind, bodyLen)
	m.h.Write(m.hdr[:])
}

// restore starts a MAC whose input is then written whole to m.h.
func (m *macer) restore() {
	if err := m.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(m.state); err != nil {
		panic("seal: sha256 state cannot be restored: " + err.Error())
	}
}

// putHeader writes the fixed part of a MAC input into hdr.
func putHeader(hdr []byte, prev *[sha256.Size]byte, seq uint64, kind byte, bodyLen int) {
	_ = hdr[headerLen-1]
	copy(hdr, prev[:])
	binary.BigEndian.PutUint64(hdr[sha256.Size:], seq)
	hdr[sha256.Size+8] = kind
	binary.BigEndian.PutUint64(hdr[sha256.Size+9:], uint64(bodyLen))
}

// sum finishes the MAC into out.
func (m *macer) sum(out *[sha256.Size]byte) {
	m.h.Sum(out[:0])
}
