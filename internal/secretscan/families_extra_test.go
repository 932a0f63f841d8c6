package secretscan

import "testing"

// Formats whose secret follows fixed text that stays readable: a
// cookie's name, a webhook's host.
func TestTokenFamiliesKeepPrefix(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// GitLab's session cookie: 32 lower-case letters and digits.
		{"Cookie sent: _gitlab_session=3f9a1c07be52d84e6a0f17c93b2d5e8a; path=/",
			"Cookie sent: _gitlab_session=[REDACTED]; path=/"},
		// A Microsoft Teams incoming webhook URL (made-up ids).
		{"POST https://example.webhook.office.com/webhookb2/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0@1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809/IncomingWebhook/3f9a1c07be52d84e6a0f17c93b2d5e8a/7c8d9e0f-1a2b-3c4d-5e6f-708192a3b4c5 200",
			"POST https://example.webhook.office.com/webhookb2/[REDACTED] 200"},
		// A base64-encoded JWT (the JWT of testsecrets, encoded).
		{"blob ZXlKaGJHY2lPaUpJVXpJMU5pSXNJblI1Y0NJNklrcFhWQ0o5LmV5SnpkV0lpT2lKaFpHRWlMQ0pwWVhRaU9qRTNNREF3TURBd01EQjkucWJVM2Mtcm9LbTZiTW1IZnF2RnczVWgtREpmUk56X01VMVk4YVpHSW5MUg== end",
			"blob [REDACTED] end"},
	} {
		checkMask(t, c.in, c.want, true)
	}
	for _, in := range []string{
		"see https://learn.example.com/webhook.office.com/docs",
		"ZXlKaGJHY2lPaUpJVXpJMU5pSjku",
	} {
		checkMask(t, in, in, false)
	}
}
