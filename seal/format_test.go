package seal

import (
	"encoding/hex"
	"strconv"
	"testing"
)

func TestAppendHex(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, b := range [][]byte{nil, {0}, {0xff, 0x0a}, {1, 2, 3}, all, all[3:], all[250:]} {
		if got, want := string(appendHex([]byte("x"), b)), "x"+hex.EncodeToString(b); got != want {
			t.Errorf("appendHex(% x) = %s, want %s", b, got, want)
		}
	}
}

func TestParseSeq(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"7", 7, true},
		{"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"07", 0, false},
		{"", 0, false},
		{"1a", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseSeq([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseSeq(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// Whatever the body, parseLine gives back what appendSealed sealed.
func TestSealedLineRoundTrip(t *testing.T) {
	var mac [32]byte
	for i := range mac {
		mac[i] = byte(i * 7)
	}
	bodies := []string{"", "{}", "{ }", `{"a":1}`, "x", "x seal.seq=5 seal.kind=open", `{"seal":{"seq":1,"mac":"00"}}`, "[1]", "{", "}"}
	for _, body := range bodies {
		for _, kind := range []byte{kindRecord, kindOpen, kindSeal, kindClose} {
			line := appendSealed(nil, []byte(body), 12345, kind, &mac)
			var s sealedLine
			if !parseLine(line, &s) {
				t.Errorf("parseLine(%s) failed", line)
				continue
			}
			if got := string(s.fullBody()); got != body || s.seq != 12345 || s.kind != kind || s.mac != mac {
				t.Errorf("parseLine(%s) = %q, %d, %d; want %q, 12345, %d", line, got, s.seq, s.kind, body, kind)
			}
		}
	}
}

func TestParseMAC(t *testing.T) {
	good := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	tests := []struct {
		in string
		ok bool
	}{
		{good, true},
		{good[:63], false},
		{good + "0", false},
		{good[:62] + "1F", false},
		{good[:62] + "1g", false},
		{good[:62] + " 1", false},
	}
	for _, tt := range tests {
		var mac [32]byte
		ok := parseMAC([]byte(tt.in), &mac)
		if ok != tt.ok || (ok && hex.EncodeToString(mac[:]) != tt.in) {
			t.Errorf("parseMAC(%q) = %x, %v; want ok %v", tt.in, mac, ok, tt.ok)
		}
	}
}

func TestAppendUint(t *testing.T) {
	for _, v := range []uint64{0, 1, 9, 10, 99, 100, 101, 12345, 1<<64 - 1} {
		if got, want := string(appendUint([]byte("x"), v)), "x"+strconv.FormatUint(v, 10); got != want {
			t.Errorf("appendUint(%d) = %s, want %s", v, got, want)
		}
	}
}
