package secretscan

import "testing"

var boolSink bool

// BenchmarkKeys measures the key rule on the keys of realistic records:
// most are plain, and must be settled cheaply.
func BenchmarkKeys(b *testing.B) {
	for _, key := range []string{"size_bytes", "file_size_bytes", "content_type", "user_agent", "ip_address", "filename", "status", "password", "X-Api-Key"} {
		b.Run(key, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				boolSink = testKeys.Secret(key)
			}
		})
	}
}
