package seal

import (
	"encoding/hex"
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
