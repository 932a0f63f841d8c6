package secretscan

import "testing"

// BenchmarkMaskCleanText is the common clean string of a log record: a
// sentence, a user agent, an access-log line; the prefilter is all it
// should cost.
func BenchmarkMaskCleanText(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"prose", "The quick brown fox jumps over the lazy dog by the river."},
		{"useragent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"},
		{"message", "Please reset your password via the link we sent to your address today; the update data is ready."},
		{"logline", "2024-11-30T10:11:12Z GET /api/v1/users/42 200 1.234ms"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sink, _ = Mask(bc.in, "[REDACTED]", testKeys)
			}
		})
	}
}
