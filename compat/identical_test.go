package compat

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/slogaudit/audit"
)

// TestByteIdentical checks the drop-in promise: for a record without audit
// fields or secrets, under any chain of With and WithGroup,
// slog.New(audit.NewHandler(h, nil)) writes exactly what slog.New(h) writes.
// Only timestamps are normalized; the structured sinks are compared as
// they receive the record.
func TestByteIdentical(t *testing.T) {
	cases := append(fixedCases(), randomCases()...)
	for _, s := range sinks {
		t.Run(s.name, func(t *testing.T) {
			var bareOut, wrapOut capture
			bare := s.new(&bareOut, false)
			wrapped := audit.NewHandler(s.new(&wrapOut, true), nil)
			for _, c := range cases {
				for _, h := range []slog.Handler{bare, wrapped} {
					c.emit(c.logger(h))
				}
				want, got := bareOut.take(), wrapOut.take()
				msg := fmt.Sprintf("%s: %s\n  got  %q\n  want %q%s", c.name, c, got, want, jsonNote(got, want))
				check(t, "identical", s.name, c.name, got == want, msg)
			}
		})
	}
}

// jsonNote says when the wrapped output is no longer valid JSON.
func jsonNote(got, want string) string {
	valid := func(s string) bool {
		for _, l := range lines(s) {
			if len(l) > 0 && l[0] == '{' && !json.Valid([]byte(l)) {
				return false
			}
		}
		return true
	}
	if valid(want) && !valid(got) {
		return "\n  (got is not valid JSON)"
	}
	return ""
}
