package seal

import "crypto/sha256"

// ForgeLine seals body as record seq after the chain value prev under key,
// the way a thief holding that epoch key could.
func ForgeLine(key [sha256.Size]byte, prev Sum, seq uint64, kind string, body []byte) (line []byte, mac Sum) {
	k := kindRecord
	if kind != "" {
		k, _ = parseKind([]byte(kind))
	}
	m := newMacer()
	m.setKey(&key)
	m.begin((*[sha256.Size]byte)(&prev), seq, k, len(body))
	m.h.Write(body)
	m.sum((*[sha256.Size]byte)(&mac))
	return appendSealed(nil, body, seq, k, (*[sha256.Size]byte)(&mac)), mac
}

// Evolve returns the key of the epoch after k's.
func Evolve(k [sha256.Size]byte) [sha256.Size]byte {
	evolve(&k)
	return k
}

// ParseLine returns a sealed line's body, sequence number and MAC.
func ParseLine(line []byte) (body []byte, seq uint64, kind string, mac Sum, ok bool) {
	var s sealedLine
	if !parseLine(line, &s) {
		return nil, 0, "", Sum{}, false
	}
	return s.fullBody(), s.seq, kindNames[s.kind], Sum(s.mac), true
}
