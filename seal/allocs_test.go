//go:build !race

package seal_test

import "testing"

func TestAllocs(t *testing.T) {
	w := sealWriter()
	defer w.Close()
	w.Write(auditLine) // opens the log and sizes the buffers
	tests := []struct {
		name  string
		write func()
	}{
		{"a line in one write", func() { w.Write(auditLine) }},
		{"a line in two writes", func() {
			w.Write(auditLine[:100])
			w.Write(auditLine[100:])
		}},
		{"two lines in one write", func() { w.Write(twoLines) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.write()
			if got := testing.AllocsPerRun(1000, tt.write); got != 0 {
				t.Errorf("allocations per record = %v, want 0", got)
			}
		})
	}
}

var twoLines = append(append([]byte(nil), auditLine...), auditLine...)
