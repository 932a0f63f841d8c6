package seal_test

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/slogaudit/audit/seal"
)

// fuzzLogs returns the sealed logs FuzzVerify mutates and the logs that
// verify clean: the seeds, and the first file of the rotated pair, a
// closed log in its own right.
func fuzzLogs(t testing.TB) (seeds, valid [][]byte) {
	_, standard, _ := standardLog(t, 1, nil)

	text := newTestLog(t, 2, nil)
	text.log = slog.New(slog.NewTextHandler(text.w, &slog.HandlerOptions{ReplaceAttr: noTime}))
	text.records(1, 2)
	text.tick(t, time.Minute)
	text.w.Write([]byte("{}\n\nplain line\n"))

	files := rotated(t, 2)
	pair := append(bytes.Clone(files[0]), files[1]...)

	seeds = [][]byte{standard, text.close(t), pair}
	return seeds, append(seeds, files[0])
}

// FuzzVerify changes sealed logs and checks that Verify never accepts a
// changed log (a log accepted is one with no problem, no partial line, that
// starts at record 0) and never panics.
func FuzzVerify(f *testing.F) {
	seeds, valid := fuzzLogs(f)
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := seal.Verify(testKey, nil, bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		accepted := r.OK() && r.PartialLine == 0 && r.FirstSeq == 0
		original := false
		for _, v := range valid {
			original = original || bytes.Equal(b, v)
		}
		if accepted != original {
			t.Errorf("accepted = %v for a log that is %v an untouched one; problems %v\n%s", accepted, original, r.Problems, b)
		}
	})
}
