package seal

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"
)

// The seal field, as the writer appends it. A JSON object line gets one
// more member before its closing brace; any other line gets two or three
// key=value pairs at its end, in the form slog.TextHandler gives a group.
const (
	jsonKey  = `"seal":{"seq":`
	jsonKind = `,"kind":"`
	jsonMAC  = `,"mac":"`
	jsonEnd  = `"}}`
	textKey  = ` seal.seq=`
	textKind = ` seal.kind=`
	textMAC  = ` seal.mac=`
	macHex   = 2 * sha256.Size
)

var kindNames = [...]string{kindRecord: "", kindOpen: "open", kindSeal: "seal", kindClose: "close"}

// isJSON reports whether the writer seals body as a JSON object.
func isJSON(body []byte) bool {
	return len(body) >= 2 && body[0] == '{' && body[len(body)-1] == '}'
}

// appendHex appends b in lowercase hex. It converts four bytes at a time
// in a 64-bit word, which makes the MAC's 64 digits a small part of a
// record's cost.
func appendHex(dst []byte, b []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, 2*len(b))[:n+2*len(b)]
	h := dst[n:]
	for len(b) >= 4 {
		binary.BigEndian.PutUint64(h, hex8(binary.BigEndian.Uint32(b)))
		b, h = b[4:], h[8:]
	}
	for i, c := range b {
		h[2*i] = "0123456789abcdef"[c>>4]
		h[2*i+1] = "0123456789abcdef"[c&0x0f]
	}
	return dst
}

// hex8 returns the eight hex digits of v as the bytes of a word, the first
// digit in the top byte.
func hex8(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000ffff0000ffff // each input byte in the low byte of a 16-bit lane
	x = (x | x<<8) & 0x00ff00ff00ff00ff
	x = (x<<4)&0x0f000f000f000f00 | x&0x000f000f000f000f // high nibble first
	// A nibble n becomes '0'+n, plus 'a'-'0'-10 when n > 9.
	letters := ((x + 0x0606060606060606) >> 4) & 0x0101010101010101
	return x + 0x3030303030303030 + letters*('a'-'0'-10)
}

// appendUint appends v in decimal, two digits at a time. Every record's
// seal field has one, and strconv.AppendUint took twice as long.
func appendUint(dst []byte, v uint64) []byte {
	const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
		"8081828384858687888990919293949596979899"
	var b [20]byte
	i := len(b)
	for v >= 100 {
		q := v / 100
		r := v - q*100
		i -= 2
		b[i], b[i+1] = pairs[2*r], pairs[2*r+1]
		v = q
	}
	if v >= 10 {
		i -= 2
		b[i], b[i+1] = pairs[2*v], pairs[2*v+1]
	} else {
		i--
		b[i] = byte('0' + v)
	}
	return append(dst, b[i:]...)
}

// appendSealed appends body with its seal field to dst.
func appendSealed(dst, body []byte, seq uint64, kind byte, mac *[sha256.Size]byte) []byte {
	return sealBody(append(dst, body...), len(dst), seq, kind, mac)
}

// sealBody adds the seal field to the body that ends dst and starts at
// dst[start].
func sealBody(dst []byte, start int, seq uint64, kind byte, mac *[sha256.Size]byte) []byte {
	if body := dst[start:]; isJSON(body) {
		dst = dst[:len(dst)-1]
		if len(body) > 2 {
			dst = append(dst, ',')
		}
		dst = append(dst, jsonKey...)
		dst = appendUint(dst, seq)
		if kind != kindRecord {
			dst = append(dst, jsonKind...)
			dst = append(dst, kindNames[kind]...)
			dst = append(dst, '"')
		}
		dst = append(dst, jsonMAC...)
		dst = appendHex(dst, mac[:])
		return append(dst, jsonEnd...)
	}
	dst = append(dst, textKey...)
	dst = appendUint(dst, seq)
	if kind != kindRecord {
		dst = append(dst, textKind...)
		dst = append(dst, kindNames[kind]...)
	}
	dst = append(dst, textMAC...)
	return appendHex(dst, mac[:])
}

// sealedLine is a line taken apart: the body as the writer received it,
// and the seal field's values.
type sealedLine struct {
	body  []byte // the body, without its closing brace when brace is set
	brace bool   // the body ends with a '}' that body omits
	seq   uint64
	kind  byte
	mac   [sha256.Size]byte
}

func (s *sealedLine) bodyLen() int {
	if s.brace {
		return len(s.body) + 1
	}
	return len(s.body)
}

// fullBody returns the body as one slice; it allocates for a JSON body.
func (s *sealedLine) fullBody() []byte {
	if s.brace {
		return append(s.body[:len(s.body):len(s.body)], '}')
	}
	return s.body
}

// parseLine takes a sealed line apart, from its end. It accepts only what
// appendSealed produces, digit for digit, so that any change to the seal
// field is either rejected here or changes a value the MAC covers. The seal
// field is the last occurrence of its key in the line: nothing after the
// key can contain it.
func parseLine(line []byte, s *sealedLine) bool {
	if len(line) >= 1 && line[0] == '{' && bytes.HasSuffix(line, []byte(jsonEnd)) {
		return parseJSON(line, s)
	}
	return parseText(line, s)
}

func parseJSON(line []byte, s *sealedLine) bool {
	rest, ok := cutMAC(line[:len(line)-len(jsonEnd)], jsonMAC, s)
	if !ok {
		return false
	}
	s.kind = kindRecord
	if n := len(rest); n > 0 && rest[n-1] == '"' {
		i := bytes.LastIndexByte(rest[:n-1], '"')
		if i < 0 {
			return false
		}
		if s.kind, ok = parseKind(rest[i+1 : n-1]); !ok {
			return false
		}
		if rest, ok = bytes.CutSuffix(rest[:i+1], []byte(jsonKind)); !ok {
			return false
		}
	}
	if rest, ok = cutSeq(rest, jsonKey, s); !ok {
		return false
	}
	p := len(rest)
	switch {
	case p == 1: // the body was "{}"
		s.body = rest
	case p > 2 && rest[p-1] == ',': // the body was longer than "{}"
		s.body = rest[:p-1]
	default:
		return false
	}
	s.brace = true
	return true
}

func parseText(line []byte, s *sealedLine) bool {
	rest, ok := cutMAC(line, textMAC, s)
	if !ok {
		return false
	}
	s.kind = kindRecord
	if i := bytes.LastIndexByte(rest, ' '); i >= 0 && bytes.HasPrefix(rest[i:], []byte(textKind)) {
		if s.kind, ok = parseKind(rest[i+len(textKind):]); !ok {
			return false
		}
		rest = rest[:i]
	}
	if rest, ok = cutSeq(rest, textKey, s); !ok {
		return false
	}
	s.body = rest
	s.brace = false
	if isJSON(s.body) {
		return false // the writer seals such a body as JSON
	}
	return true
}

// cutMAC reads the MAC at the end of b, after key, and returns what
// precedes key.
func cutMAC(b []byte, key string, s *sealedLine) ([]byte, bool) {
	n := len(b) - macHex
	if n < 0 || !parseMAC(b[n:], &s.mac) {
		return nil, false
	}
	return bytes.CutSuffix(b[:n], []byte(key))
}

// cutSeq reads the sequence number at the end of b, after key, and returns
// what precedes key.
func cutSeq(b []byte, key string, s *sealedLine) ([]byte, bool) {
	i := len(b)
	for i > 0 && '0' <= b[i-1] && b[i-1] <= '9' {
		i--
	}
	var ok bool
	if s.seq, ok = parseSeq(b[i:]); !ok {
		return nil, false
	}
	return bytes.CutSuffix(b[:i], []byte(key))
}

// parseSeq reads a decimal sequence number without leading zeros, the
// whole of b.
func parseSeq(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

func parseKind(b []byte) (byte, bool) {
	for k, name := range kindNames {
		if k != int(kindRecord) && string(b) == name {
			return byte(k), true
		}
	}
	return 0, false
}

// parseMAC reads exactly 64 lowercase hex digits, the whole of b.
func parseMAC(b []byte, mac *[sha256.Size]byte) bool {
	if len(b) != macHex {
		return false
	}
	var bad byte
	for i := range mac {
		hi, lo := unhexTable[b[2*i]], unhexTable[b[2*i+1]]
		bad |= hi | lo
		mac[i] = hi<<4 | lo
	}
	return bad&0xf0 == 0
}

// unhexTable maps a lowercase hex digit to its value, and any other byte
// to 0xff.
const unhexTable = "" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\x0a\x0b\x0c\x0d\x0e\x0f\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"

// control is the content of one of the writer's own records.
type control struct {
	Time        time.Time
	LogID       LogID
	Epoch       uint64
	EpochLength time.Duration // open records only
	Resumed     bool          // open records only: PrevSeq and PrevMAC are set
	PrevSeq     uint64
	PrevMAC     Sum
}

var controlMsg = [...]string{kindOpen: "audit log opened", kindSeal: "audit epoch sealed", kindClose: "audit log closed"}

// appendControl appends the body of a control record, as JSON or in the
// text handler's form.
func appendControl(dst []byte, asJSON bool, kind byte, c *control) []byte {
	ts := c.Time.UTC().Format(time.RFC3339Nano)
	if asJSON {
		dst = append(dst, `{"time":"`...)
		dst = append(dst, ts...)
		dst = append(dst, `","level":"INFO","msg":"`...)
		dst = append(dst, controlMsg[kind]...)
		dst = append(dst, `","log_id":"`...)
		dst = appendHex(dst, c.LogID[:])
		dst = append(dst, `","epoch":`...)
		dst = strconv.AppendUint(dst, c.Epoch, 10)
		if kind == kindOpen {
			dst = append(dst, `,"epoch_length":"`...)
			dst = append(dst, c.EpochLength.String()...)
			dst = append(dst, '"')
			if c.Resumed {
				dst = append(dst, `,"prev_seq":`...)
				dst = strconv.AppendUint(dst, c.PrevSeq, 10)
				dst = append(dst, `,"prev_mac":"`...)
				dst = appendHex(dst, c.PrevMAC[:])
				dst = append(dst, '"')
			}
		}
		return append(dst, '}')
	}
	dst = append(dst, "time="...)
	dst = append(dst, ts...)
	dst = append(dst, " level=INFO msg="...)
	dst = strconv.AppendQuote(dst, controlMsg[kind])
	dst = append(dst, " log_id="...)
	dst = appendHex(dst, c.LogID[:])
	dst = append(dst, " epoch="...)
	dst = strconv.AppendUint(dst, c.Epoch, 10)
	if kind == kindOpen {
		dst = append(dst, " epoch_length="...)
		dst = append(dst, c.EpochLength.String()...)
		if c.Resumed {
			dst = append(dst, " prev_seq="...)
			dst = strconv.AppendUint(dst, c.PrevSeq, 10)
			dst = append(dst, " prev_mac="...)
			dst = appendHex(dst, c.PrevMAC[:])
		}
	}
	return dst
}

var errControl = errors.New("seal: malformed control record")

// parseControl reads the body of a control record of the given kind.
func parseControl(body []byte, kind byte, c *control) error {
	*c = control{}
	var f struct {
		Time        string  `json:"time"`
		LogID       string  `json:"log_id"`
		Epoch       *uint64 `json:"epoch"`
		EpochLength string  `json:"epoch_length"`
		PrevSeq     *uint64 `json:"prev_seq"`
		PrevMAC     string  `json:"prev_mac"`
	}
	if isJSON(body) {
		if err := json.Unmarshal(body, &f); err != nil {
			return errControl
		}
	} else {
		var epoch, prevSeq string
		for _, field := range []struct {
			key string
			dst *string
		}{
			{"time", &f.Time}, {"log_id", &f.LogID}, {"epoch", &epoch},
			{"epoch_length", &f.EpochLength}, {"prev_seq", &prevSeq}, {"prev_mac", &f.PrevMAC},
		} {
			*field.dst = textField(body, field.key)
		}
		if epoch != "" {
			v, err := strconv.ParseUint(epoch, 10, 64)
			if err != nil {
				return errControl
			}
			f.Epoch = &v
		}
		if prevSeq != "" {
			v, err := strconv.ParseUint(prevSeq, 10, 64)
			if err != nil {
				return errControl
			}
			f.PrevSeq = &v
		}
	}
	t, err := time.Parse(time.RFC3339Nano, f.Time)
	if err != nil || f.Epoch == nil || c.LogID.UnmarshalText([]byte(f.LogID)) != nil {
		return errControl
	}
	c.Time, c.Epoch = t, *f.Epoch
	if kind != kindOpen {
		return nil
	}
	if c.EpochLength, err = time.ParseDuration(f.EpochLength); err != nil || c.EpochLength <= 0 {
		return errControl
	}
	if f.PrevSeq != nil {
		c.Resumed, c.PrevSeq = true, *f.PrevSeq
		if c.PrevMAC.UnmarshalText([]byte(f.PrevMAC)) != nil {
			return errControl
		}
	}
	return nil
}

// textField returns the value of key in a line the writer formatted as
// key=value pairs: up to the next space.
func textField(body []byte, key string) string {
	var p int
	if bytes.HasPrefix(body, []byte(key+"=")) {
		p = len(key) + 1
	} else {
		i := bytes.Index(body, []byte(" "+key+"="))
		if i < 0 {
			return ""
		}
		p = i + len(key) + 2
	}
	v := body[p:]
	if i := bytes.IndexByte(v, ' '); i >= 0 {
		v = v[:i]
	}
	return string(v)
}

// LogID identifies one log: the chain of records a writer and the writers
// that resume it produce. Its text form is 32 hex digits.
type LogID [16]byte

// String returns the log id in hex.
func (id LogID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText returns the log id in hex.
func (id LogID) MarshalText() ([]byte, error) { return appendHex(nil, id[:]), nil }

// UnmarshalText reads a log id written by MarshalText.
func (id *LogID) UnmarshalText(b []byte) error {
	if len(b) != 2*len(id) {
		return errors.New("seal: log id is not 32 hex digits")
	}
	if _, err := hex.Decode(id[:], b); err != nil {
		return errors.New("seal: log id is not 32 hex digits")
	}
	return nil
}

// Sum is a chain value: the MAC of one record, which the next record's MAC
// covers. Its text form is 64 hex digits.
type Sum [sha256.Size]byte

// String returns the chain value in hex.
func (s Sum) String() string { return hex.EncodeToString(s[:]) }

// MarshalText returns the chain value in hex.
func (s Sum) MarshalText() ([]byte, error) { return appendHex(nil, s[:]), nil }

// UnmarshalText reads a chain value written by MarshalText.
func (s *Sum) UnmarshalText(b []byte) error {
	if len(b) != 2*len(s) {
		return errors.New("seal: chain value is not 64 hex digits")
	}
	if _, err := hex.Decode(s[:], b); err != nil {
		return errors.New("seal: chain value is not 64 hex digits")
	}
	return nil
}
