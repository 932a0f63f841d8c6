package secretscan

import (
	"testing"
	"time"
)

// TestMaskLinear checks that the scan is linear on every adversarial
// pattern: sixteen times the input may take about sixteen times as long,
// never the 256 times of a quadratic scan. The bound is loose, as the
// machine may be busy: the best of three runs is taken, and a pattern
// that seems slow is measured again.
func TestMaskLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("large inputs")
	}
	best := func(s string) time.Duration {
		d := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			Mask(s, testMarker, testKeys)
			d = min(d, time.Since(start))
		}
		return d
	}
	for _, p := range adversarialPatterns {
		var small, large time.Duration
		var ratio float64
		for try := 0; try < 3; try++ { // another process may have run
			small, large = best(repeatTo(p, 64<<10)), best(repeatTo(p, 1<<20))
			if ratio = float64(large) / float64(max(small, time.Microsecond)); ratio <= 128 {
				break
			}
		}
		if testing.Verbose() {
			t.Logf("%-40q 64KB %-10v 1MB %-10v x%.1f", p, small, large, ratio)
		}
		if ratio > 128 {
			t.Errorf("pattern %q: 1MB took %v, 64KB %v (x%.0f): not linear", p, large, small, ratio)
		}
	}
}
