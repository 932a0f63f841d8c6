package testsecrets

// A Shape is a secret found by its shape alone, with no secret key beside
// it: Text is how it appears in a record, Raw the part of it that must not.
type Shape struct {
	Text string
	Raw  string
}

// Shapes are secrets that every configuration of a Handler must mask, and
// that the scanner must find however they are glued together.
var Shapes = []Shape{
	{GitHub, GitHub},
	{AWSKey, AWSKey},
	{JWT, JWTSig},
	{"Authorization: Bearer " + Bearer, Bearer},
	{"postgres://ada:Pw9xQz7Lk2@db.example/app", "Pw9xQz7Lk2"},
	{Stripe, Stripe},
	{SlackBot, "FakeBotTokenValue0000"},
	{NPM, NPM},
	{Google, Google},
	{"https://x.example/cb?access_token=Zq8Lm2Xv9Rt4Yb7N&x=1", "Zq8Lm2Xv9Rt4Yb7N"},
}
