package compat

import (
	"errors"
	"log/slog"
	"slices"
	"testing"
	"testing/slogtest"

	"github.com/slogaudit/audit"
)

// TestSlogtest runs testing/slogtest over each sink bare and wrapped:
// wrapping may not add a failure. Some sinks fail slogtest on their own (or
// as this module reads their output); those failures are logged.
func TestSlogtest(t *testing.T) {
	for _, s := range sinks {
		t.Run(s.name, func(t *testing.T) {
			bare := slogtestFailures(s, false)
			wrapped := slogtestFailures(s, true)
			t.Logf("%s: slogtest failures bare %d, wrapped %d", moduleVersion(s.mod), len(bare), len(wrapped))
			for _, f := range bare {
				t.Logf("bare: %s", f)
			}
			for _, f := range wrapped {
				check(t, "slogtest", s.name, f, slices.Contains(bare, f), "wrapped only: "+f)
			}
		})
	}
}

func slogtestFailures(s sink, wrap bool) []string {
	var out capture
	var h slog.Handler = s.new(&out, wrap)
	if wrap {
		h = audit.NewHandler(h, nil)
	}
	err := slogtest.TestHandler(h, func() []map[string]any {
		var ms []map[string]any
		for _, line := range lines(out.take()) {
			m, err := s.parseLine(line)
			if err != nil {
				m = map[string]any{"!parse": err.Error()}
			}
			if m != nil {
				ms = append(ms, m)
			}
		}
		return ms
	})
	if err == nil {
		return nil
	}
	var out2 []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out2 = append(out2, e.Error())
		}
	} else {
		out2 = append(out2, errors.Unwrap(err).Error())
	}
	return out2
}
