package audit

// Leak routes and damage of the value walker (issue 12, points 4, 5 and 7):
// each route is a row, logged through slog.JSONHandler, slog.TextHandler
// and a handler of unknown kind. Temporary file: to be folded into
// handler_test.go.

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rtSecret is the secret the route tests plant: letters and digits only,
// so that no handler's quoting can hide it.
const rtSecret = "Wk4hunter2Pz8s3cr3tQ"

// rtFormats are the inner handlers every route is logged through: the two
// standard ones, and one whose kind the redactor cannot know.
var rtFormats = []string{"json", "text", "unknown"}

// rtOpaque hides the type of the handler it wraps.
type rtOpaque struct{ slog.Handler }

// rtHandler returns a Handler writing to buf in format, with the style set
// as NewHandler sets it.
func rtHandler(buf *bytes.Buffer, format string, opts *Options) *Handler {
	var inner slog.Handler
	switch format {
	case "json":
		inner = slog.NewJSONHandler(buf, &slog.HandlerOptions{ReplaceAttr: dropTime})
	case "text":
		inner = slog.NewTextHandler(buf, &slog.HandlerOptions{ReplaceAttr: dropTime})
	default:
		inner = rtOpaque{slog.NewJSONHandler(buf, &slog.HandlerOptions{ReplaceAttr: dropTime})}
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.NoEventID = true
	h := NewHandler(inner, &o)
	// NewHandler sets the style once it has the line that does; until then
	// (and harmlessly after) it is set here.
	h.c.red.writesTo(inner)
	return h
}

// rtLog logs through rtHandler and returns the output, failing on a panic.
func rtLog(t testing.TB, format string, opts *Options, fn func(l *slog.Logger)) string {
	t.Helper()
	var buf bytes.Buffer
	l := slog.New(rtHandler(&buf, format, opts))
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("%s: logging panicked: %v", format, p)
			}
		}()
		fn(l)
	}()
	return buf.String()
}

// ---- values that render themselves ----

// rtRenamer renames its fields in MarshalJSON: Pass becomes "password".
type rtRenamer struct{ User, Pass string }

func (r rtRenamer) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"user": r.User, "password": r.Pass})
}

// rtDoc is a column type whose MarshalJSON writes a stored document.
type rtDoc struct{ raw string }

func (d rtDoc) MarshalJSON() ([]byte, error) { return []byte(d.raw), nil }

// rtTextKey is a map key written by MarshalText (JSON) or as its fields
// (fmt).
type rtTextKey struct{ s string }

func (k rtTextKey) MarshalText() ([]byte, error) { return []byte(k.s), nil }

// rtPtrTextKey has MarshalText on its pointer only: encoding/json does not
// call it for a map key, which is not addressable.
type rtPtrTextKey struct{ S string }

func (k *rtPtrTextKey) MarshalText() ([]byte, error) { return []byte("Bearer " + rtSecret), nil }

// rtValErr is an error by value with a secret-named field.
type rtValErr struct {
	Msg   string
	Token string
}

func (e rtValErr) Error() string { return e.Msg }

// rtPanic panics in every method with a message holding the secret.
type rtPanic struct{ Label string }

func (rtPanic) MarshalJSON() ([]byte, error) { panic("marshal failed for password " + rtSecret) }
func (rtPanic) MarshalText() ([]byte, error) { panic("text failed: " + rtSecret) }
func (rtPanic) String() string               { panic("string failed: " + rtSecret) }
func (rtPanic) Error() string                { panic("error failed: " + rtSecret) }

type rtPanicString struct{ N int }

func (rtPanicString) String() string { panic(rtSecret) }

type rtPanicError struct{}

func (rtPanicError) Error() string { panic(rtSecret) }

type rtPanicJSON struct{ N int }

func (rtPanicJSON) MarshalJSON() ([]byte, error) { panic(rtSecret) }

type rtPanicText struct{ N int }

func (rtPanicText) MarshalText() ([]byte, error) { panic(rtSecret) }

// rtFailJSON and rtFailText return errors holding the secret.
type rtFailJSON struct{ N int }

func (rtFailJSON) MarshalJSON() ([]byte, error) { return nil, errors.New("bad " + rtSecret) }

type rtFailText struct{ N int }

func (rtFailText) MarshalText() ([]byte, error) { return nil, errors.New("bad " + rtSecret) }

// rtFlip is an error whose text holds the secret from its second call on:
// a check that reads one text and a handler that writes another leak it.
type rtFlip struct{ calls *atomic.Int32 }

func (e rtFlip) Error() string {
	if e.calls.Add(1) == 1 {
		return "upstream refused the request"
	}
	return "upstream refused: Bearer " + rtSecret
}

// rtErrWithPassword is an error whose struct has a secret-named field; its
// message must survive.
type rtErrWithPassword struct {
	Msg      string
	Password string
}

func (e *rtErrWithPassword) Error() string { return e.Msg }

// rtNilErr guards against a nil receiver badly.
type rtNilErr struct{ msg string }

func (e *rtNilErr) Error() string { return e.msg }

// rtLocked's String takes a lock that the caller holds while logging.
type rtLocked struct {
	mu   *sync.Mutex
	Name string
}

func (l rtLocked) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Name
}

// rtLockedText is written by its MarshalText; its String would deadlock.
type rtLockedText struct{ rtLocked }

func (l rtLockedText) MarshalText() ([]byte, error) { return []byte("text:" + l.Name), nil }

// rtLockedJSON is written by its MarshalJSON; its String would deadlock.
type rtLockedJSON struct{ rtLocked }

func (l rtLockedJSON) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"n": l.Name})
}

// ---- embedding ----

type rtBase struct {
	ID       int
	Password string
}

type rtAccount struct {
	rtBase
	Name string
}

type RtTagged struct {
	Name string `json:"name"`
}

type RtPlain struct{ Name string }

// rtConflict: Name at depth 0 wins over the embedded ones; of the two at
// depth 1, the tagged one wins over the untagged.
type rtConflict struct {
	RtTagged
	RtPlain
	Token string
}

type rtDeep0 struct{ rtDeep1 }
type rtDeep1 struct{ *rtDeep2 }
type rtDeep2 struct{ rtDeep3 }
type rtDeep3 struct {
	Secret string `json:"api_key"`
	Host   string
}

// rtCycleJSON holds itself and a field that marshals itself.
type rtCycleJSON struct {
	Next     *rtCycleJSON
	Doc      rtDoc
	Password string
}

// ---- the routes ----

type rtRoute struct {
	name string
	only string // a format the route is specific to; "" for all
	log  func(l *slog.Logger)
	// keep are texts that must be in the output: the non-secret
	// neighbours, which redaction must not damage.
	keep []string
	// secrets that must not be in it besides rtSecret.
	secrets []string
}

func rtRoutes(t testing.TB) []rtRoute {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	xKey, _ := ecdh.X25519().GenerateKey(rand.Reader)
	keyTexts := []string{rsaKey.D.String(), ecKey.D.String(), hex.EncodeToString(edKey.Seed()),
		base64.StdEncoding.EncodeToString(edKey), base64.StdEncoding.EncodeToString(xKey.Bytes()),
		fmt.Sprint(edKey.Seed()), fmt.Sprint(xKey.Bytes()), fmt.Sprint([]byte(edKey))}
	flips := func() rtFlip { return rtFlip{new(atomic.Int32)} }
	return []rtRoute{
		// Documents from MarshalJSON, redacted by key. The text handler
		// never calls MarshalJSON: it prints the fields.
		{name: "MarshalJSON renaming a field to password", only: "json", log: func(l *slog.Logger) {
			l.Info("m", "login", rtRenamer{"ada", rtSecret})
		}, keep: []string{`"user":"ada"`}},
		{name: "MarshalJSON document with a secret key, as a struct field", only: "json", log: func(l *slog.Logger) {
			l.Info("m", "row", struct {
				ID  int
				Doc rtDoc
			}{7, rtDoc{`{"client_secret":"` + rtSecret + `","scope":"read"}`}})
		}, keep: []string{`"ID":7`, `"scope":"read"`}},
		{name: "json.RawMessage column with a password key", log: func(l *slog.Logger) {
			l.Info("m", "row", struct {
				ID   int
				Data json.RawMessage
			}{7, json.RawMessage(`{"user":"ada","password":"` + rtSecret + `"}`)})
		}, keep: []string{"ada"}},
		{name: "MarshalJSON document under a map", only: "json", log: func(l *slog.Logger) {
			l.Info("m", "m", map[string]any{"a": rtDoc{`[{"token":"` + rtSecret + `"}]`}, "b": 1})
		}, keep: []string{`"b":1`}},

		// Map keys.
		{name: "Secret as a map key", log: func(l *slog.Logger) {
			l.Info("m", "seen", map[Secret]int{Secret(rtSecret): 3})
		}, keep: []string{"3"}},
		{name: "MarshalText map key holding a bearer token", log: func(l *slog.Logger) {
			l.Info("m", "seen", map[rtTextKey]int{{"Bearer " + rtSecret}: 3, {"plain"}: 4})
		}, keep: []string{"plain"}},
		{name: "map key naming a secret, value from MarshalJSON", only: "json", log: func(l *slog.Logger) {
			l.Info("m", "m", map[rtTextKey]rtDoc{{"password"}: {`"` + rtSecret + `"`}})
		}},

		{name: "map key with MarshalText on its pointer", log: func(l *slog.Logger) {
			l.Info("m", "m", map[rtPtrTextKey]string{{"Bearer " + rtSecret}: "v"}, "after", "kept")
		}, keep: []string{"kept"}},
		{name: "error by value with a secret field, behind a pointer", log: func(l *slog.Logger) {
			l.Info("m", "err", &rtValErr{"denied for ada", rtSecret})
		}, keep: []string{"denied for ada"}},

		// Panics and errors of methods.
		{name: "panicking MarshalJSON, MarshalText, String and Error", log: func(l *slog.Logger) {
			l.Info("m", "v", rtPanic{"x"}, "n", 1)
		}, keep: []string{"n"}},
		{name: "panicking String", log: func(l *slog.Logger) { l.Info("m", "v", rtPanicString{1}, "after", "kept") },
			keep: []string{"kept"}},
		{name: "panicking String nested", log: func(l *slog.Logger) {
			l.Info("m", "v", struct{ A, B any }{"ok", rtPanicString{1}})
		}, keep: []string{"ok"}},
		{name: "panicking Error", log: func(l *slog.Logger) { l.Info("m", "err", rtPanicError{}) }},
		{name: "panicking MarshalJSON", log: func(l *slog.Logger) { l.Info("m", "v", rtPanicJSON{1}) }},
		{name: "panicking MarshalJSON nested", log: func(l *slog.Logger) {
			l.Info("m", "v", []any{"ok", rtPanicJSON{1}})
		}},
		{name: "panicking MarshalText", log: func(l *slog.Logger) { l.Info("m", "v", rtPanicText{1}) }},
		{name: "panicking MarshalText as a map key", log: func(l *slog.Logger) {
			l.Info("m", "v", map[rtPanicText]int{{1}: 1})
		}},
		{name: "MarshalJSON returning an error", log: func(l *slog.Logger) { l.Info("m", "v", rtFailJSON{1}) }},
		{name: "MarshalText returning an error", log: func(l *slog.Logger) { l.Info("m", "v", rtFailText{1}) }},

		// reflect.Value shows what it holds through fmt.
		{name: "reflect.Value of a struct", log: func(l *slog.Logger) {
			l.Info("m", "v", reflect.ValueOf(struct{ User, Password string }{"ada", rtSecret}))
		}, keep: []string{"ada"}},
		{name: "reflect.Value of a bearer string", log: func(l *slog.Logger) {
			l.Info("m", "v", reflect.ValueOf("Bearer "+rtSecret))
		}},
		{name: "reflect.Value inside a struct", log: func(l *slog.Logger) {
			l.Info("m", "v", struct{ V reflect.Value }{reflect.ValueOf(map[string]string{"token": rtSecret})})
		}},

		// What is written is what was checked.
		{name: "Error text that changes after the check", log: func(l *slog.Logger) {
			l.Info("m", "err", flips())
		}},
		{name: "Error text that changes, nested", log: func(l *slog.Logger) {
			l.Info("m", "v", []error{flips()})
		}},
		{name: "error with a secret-named field keeps its message", log: func(l *slog.Logger) {
			l.Info("m", "err", &rtErrWithPassword{"login failed for ada", rtSecret})
		}, keep: []string{"login failed for ada"}},

		// Embedded fields flatten like encoding/json.
		{name: "embedded struct with a password field", log: func(l *slog.Logger) {
			l.Info("m", "acct", rtAccount{rtBase{7, rtSecret}, "ada"})
		}, keep: []string{"ada", "7"}},
		{name: "embedded conflicts", log: func(l *slog.Logger) {
			l.Info("m", "c", rtConflict{RtTagged{"tagged"}, RtPlain{"plain"}, rtSecret})
		}, keep: []string{"tagged"}},
		{name: "deeply embedded, through a pointer", log: func(l *slog.Logger) {
			l.Info("m", "d", rtDeep0{rtDeep1{&rtDeep2{rtDeep3{rtSecret, "db1"}}}})
		}, keep: []string{"db1"}},

		// By type.
		{name: "private keys wherever they sit", log: func(l *slog.Logger) {
			l.Info("m", "rsa", rsaKey, "ecdsa", ecKey, "ed", edKey, "x", xKey, "n", 1,
				"in", struct {
					K   any
					Who string
				}{*rsaKey, "svc"}, "list", []any{edKey, ecKey})
		}, keep: []string{"svc"}, secrets: keyTexts},
		{name: "*http.Cookie under an ordinary key", log: func(l *slog.Logger) {
			l.Info("m", "c", &http.Cookie{Name: "sid", Value: rtSecret, Path: "/", HttpOnly: true, Raw: "sid=" + rtSecret})
		}, keep: []string{"sid=", "Path=/"}},
		{name: "http.Cookie values in a list", log: func(l *slog.Logger) {
			l.Info("m", "jar", []*http.Cookie{{Name: "a", Value: rtSecret}, nil}, "one", http.Cookie{Name: "b", Value: rtSecret})
		}},
		{name: "http.Header", log: func(l *slog.Logger) {
			l.Info("m", "h", http.Header{"Authorization": {"Basic " + rtSecret}, "Cookie": {"sid=" + rtSecret},
				"X-Api-Key": {rtSecret}, "Accept": {"text/html"}})
		}, keep: []string{"text/html"}},

		// Adversarial.
		{name: "cycle through a value with MarshalJSON", log: func(l *slog.Logger) {
			c := &rtCycleJSON{Doc: rtDoc{`{"a":1}`}, Password: rtSecret}
			c.Next = c
			l.Info("m", "c", c)
		}},
		{name: "clean cycle through a value with MarshalJSON", log: func(l *slog.Logger) {
			c := &rtCycleJSON{Doc: rtDoc{`{"a":1}`}}
			c.Next = c
			l.Info("m", "c", c, "after", "kept")
		}, keep: []string{"kept"}},
		{name: "huge document from MarshalJSON", only: "json", log: func(l *slog.Logger) {
			var b strings.Builder
			b.WriteString(`{"items":[`)
			for i := 0; i < 20000; i++ {
				fmt.Fprintf(&b, `{"id":%d,"name":"item"},`, i)
			}
			b.WriteString(`{"password":"` + rtSecret + `"}]}`)
			l.Info("m", "doc", rtDoc{b.String()})
		}, keep: []string{`"id":19999`}},
		{name: "nil pointers everywhere", log: func(l *slog.Logger) {
			l.Info("m", "a", (*rtAccount)(nil), "b", (*http.Cookie)(nil), "c", (*rsa.PrivateKey)(nil),
				"d", (*rtErrWithPassword)(nil), "e", struct{ P *rtBase }{}, "f", (*reflect.Value)(nil), "password", rtSecret)
		}},
		{name: "typed nil error", log: func(l *slog.Logger) {
			var e *rtNilErr
			var err error = e
			l.Info("m", "err", err, "token", rtSecret)
		}},
	}
}

func TestRedactRoutes(t *testing.T) {
	for _, r := range rtRoutes(t) {
		for _, format := range rtFormats {
			if r.only != "" && r.only != format {
				continue
			}
			t.Run(format+"/"+r.name, func(t *testing.T) {
				done := make(chan string, 1)
				go func() { done <- rtLog(t, format, nil, r.log) }()
				var out string
				select {
				case out = <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("the log call did not return")
				}
				if out == "" {
					t.Fatal("record lost")
				}
				for _, s := range append([]string{rtSecret}, r.secrets...) {
					if strings.Contains(out, s) {
						t.Errorf("secret %.20q leaked:\n%s", s, out)
					}
				}
				for _, k := range r.keep {
					if !strings.Contains(out, k) {
						t.Errorf("%q lost:\n%s", k, out)
					}
				}
			})
		}
	}
}

// TestRedactRoutesExact pins what the JSON handler writes for the routes
// whose form matters.
func TestRedactRoutesExact(t *testing.T) {
	for _, c := range []struct {
		name string
		v    any
		want string
	}{
		{"renamed document", rtRenamer{"ada", rtSecret}, `{"password":"[REDACTED]","user":"ada"}`},
		{"document keeps its order", rtDoc{`{"z":1,"token":"` + rtSecret + `","a":[{"b":2}]}`}, `{"z":1,"token":"[REDACTED]","a":[{"b":2}]}`},
		{"embedded fields promoted", rtAccount{rtBase{7, rtSecret}, "ada"}, `{"ID":7,"Password":"[REDACTED]","Name":"ada"}`},
		{"conflicts resolved as encoding/json does", rtConflict{RtTagged{"tagged"}, RtPlain{"plain"}, rtSecret},
			`{"name":"tagged","Name":"plain","Token":"[REDACTED]"}`},
		{"deep embedding", rtDeep0{rtDeep1{&rtDeep2{rtDeep3{rtSecret, "db1"}}}}, `{"api_key":"[REDACTED]","Host":"db1"}`},
		{"Secret map key", map[Secret]int{Secret(rtSecret): 3}, `{"[REDACTED]":3}`},
		{"cookie", &http.Cookie{Name: "sid", Value: rtSecret, Path: "/", HttpOnly: true}, `"sid=[REDACTED]; Path=/; HttpOnly"`},
		{"header", http.Header{"Authorization": {"Basic " + rtSecret}, "Accept": {"*/*"}}, `{"Accept":["*/*"],"Authorization":"[REDACTED]"}`},
		{"error keeps its message", &rtErrWithPassword{"login failed", rtSecret}, `"login failed"`},
		{"panicking MarshalJSON", rtPanicJSON{}, `"!PANIC: [REDACTED]"`},
		{"failing MarshalJSON", rtFailJSON{}, `"!ERROR:[REDACTED]"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := rtLog(t, "json", nil, func(l *slog.Logger) { l.Info("m", "v", c.v) })
			want := `{"level":"INFO","msg":"m","v":` + c.want + "}\n"
			if out != want {
				t.Errorf("got  %s\nwant %s", out, want)
			}
		})
	}
}

// TestRedactCleanUnchanged: values with nothing secret come out as the bare
// handler writes them, byte for byte, even those whose methods the
// redactor had to call and whose rendering it passes on instead.
func TestRedactCleanUnchanged(t *testing.T) {
	var nilErr *rtNilErr
	for _, c := range []struct {
		name string
		v    any
	}{
		{"error", errors.New("disk full")},
		{"wrapped error", fmt.Errorf("save: %w", io.ErrUnexpectedEOF)},
		{"user error", &rtErrWithPassword{Msg: "login failed"}},
		{"typed nil error", error(nilErr)},
		{"MarshalJSON", rtDoc{`{"b":1, "a":[1,2]}`}},
		{"MarshalJSON in a struct", struct {
			N int
			D rtDoc
		}{1, rtDoc{`{"x":"<y>"}`}}},
		{"MarshalText", rtTextKey{"a b"}},
		{"MarshalText keys", map[rtTextKey]int{{"b"}: 1, {"a"}: 2}},
		{"Stringer in a struct", struct {
			D time.Duration
			L slog.Level
			S fmt.Stringer
		}{time.Second, slog.LevelWarn, slog.LevelError}},
		{"embedded", struct {
			RtPlain
			N int
		}{RtPlain{"x"}, 1}},
		{"time and floats", map[string]any{"t": time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "f": float32(1.1)}},
		{"reflect.Value", reflect.ValueOf(struct{ A int }{1})},
		{"bytes", []byte("hello")},
	} {
		for _, format := range []string{"json", "text"} {
			t.Run(format+"/"+c.name, func(t *testing.T) {
				var bare bytes.Buffer
				var inner slog.Handler = slog.NewJSONHandler(&bare, &slog.HandlerOptions{ReplaceAttr: dropTime})
				if format == "text" {
					inner = slog.NewTextHandler(&bare, &slog.HandlerOptions{ReplaceAttr: dropTime})
				}
				slog.New(inner).Info("m", "v", c.v)
				got := rtLog(t, format, nil, func(l *slog.Logger) { l.Info("m", "v", c.v) })
				if got != bare.String() {
					t.Errorf("got  %s\nwant %s", got, bare.String())
				}
			})
		}
	}
}

// TestRedactCallsOnlyWhatTheHandlerCalls: a String method that takes a
// lock the caller holds would deadlock the log call if the redactor
// called it where the handler does not.
func TestRedactCallsOnlyWhatTheHandlerCalls(t *testing.T) {
	for _, c := range []struct {
		format string
		v      func(mu *sync.Mutex) any
		want   string
	}{
		{"json", func(mu *sync.Mutex) any { return rtLocked{mu, "ada"} }, `"v":{"Name":"ada"}`},
		{"json", func(mu *sync.Mutex) any { return []any{rtLocked{mu, "ada"}} }, `"v":[{"Name":"ada"}]`},
		{"json", func(mu *sync.Mutex) any { return rtLockedJSON{rtLocked{mu, "ada"}} }, `"v":{"n":"ada"}`},
		{"text", func(mu *sync.Mutex) any { return rtLockedText{rtLocked{mu, "ada"}} }, `v=text:ada`},
		{"json", func(mu *sync.Mutex) any { return rtLockedText{rtLocked{mu, "ada"}} }, `"v":"text:ada"`},
	} {
		t.Run(c.format+"/"+c.want, func(t *testing.T) {
			var mu sync.Mutex
			mu.Lock()
			done := make(chan string, 1)
			go func() {
				done <- rtLog(t, c.format, nil, func(l *slog.Logger) { l.Info("m", "v", c.v(&mu), "token", rtSecret) })
			}()
			select {
			case out := <-done:
				if !strings.Contains(out, c.want) || strings.Contains(out, rtSecret) {
					t.Errorf("got %s\nwant it to contain %s and no secret", out, c.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("deadlock: the redactor called String, which the handler does not")
			}
			mu.Unlock()
		})
	}
}

// TestRedactMethodsCalledOnce: each method the handler needs is called
// once per redaction, by the redactor, and the text it returned is what is
// written, whatever the method returns later.
func TestRedactMethodsCalledOnce(t *testing.T) {
	for _, st := range []style{styleJSON, styleText} {
		rd := newRedactor(&Options{})
		rd.style = st
		var n atomic.Int32
		a, _ := rd.attr(slog.Any("err", rtFlip{&n}), false)
		if got := n.Load(); got != 1 {
			t.Errorf("style %d: Error called %d times, want 1", st, got)
		}
		if got := a.Value.String(); got != "upstream refused the request" {
			t.Errorf("style %d: got %q, want the text that was checked", st, got)
		}
		if a.Value.Kind() != slog.KindString {
			t.Errorf("style %d: got a %s, want the checked text in place of the error", st, a.Value.Kind())
		}
	}
	// Through a Handler: the record pipeline checks an attribute, then
	// redacts it (today a second call); either way the text written is
	// one that was checked.
	for _, format := range []string{"json", "text"} {
		out := rtLog(t, format, nil, func(l *slog.Logger) { l.Info("m", "err", rtFlip{new(atomic.Int32)}) })
		if strings.Contains(out, rtSecret) || !strings.Contains(out, "upstream refused") {
			t.Errorf("%s: got %s", format, out)
		}
	}
}

func TestStyleOf(t *testing.T) {
	var buf bytes.Buffer
	j := slog.NewJSONHandler(&buf, nil)
	for _, c := range []struct {
		h    slog.Handler
		want style
	}{
		{j, styleJSON},
		{slog.NewTextHandler(&buf, nil), styleText},
		{NewHandler(j, nil), styleJSON},
		{NewHandler(slog.Default().Handler(), nil).inner, styleText}, // the replica of the default handler
		{rtOpaque{j}, styleAny},
	} {
		if got := styleOf(c.h); got != c.want {
			t.Errorf("styleOf(%T) = %d, want %d", c.h, got, c.want)
		}
	}
}

// ---- pseudonyms ----

func TestPseudonyms(t *testing.T) {
	key := []byte("audit-key-0123456789")
	opts := &Options{PseudonymKey: key}
	p := Pseudonym(key, rtSecret)
	if !strings.HasPrefix(p, PseudonymPrefix) || len(p) != len(PseudonymPrefix)+32 || !isPseudonym(p) {
		t.Fatalf("Pseudonym = %q, want %s and 32 hex digits", p, PseudonymPrefix)
	}
	if !MatchPseudonym(key, rtSecret, p) || MatchPseudonym(key, rtSecret+"x", p) || MatchPseudonym([]byte("other"), rtSecret, p) {
		t.Error("MatchPseudonym disagrees with Pseudonym")
	}
	for _, format := range rtFormats {
		out := rtLog(t, format, opts, func(l *slog.Logger) {
			l.Info("m", "password", rtSecret, "s", Secret(rtSecret), "pin_token", 1234,
				"h", http.Header{"Authorization": {rtSecret}}, "c", &http.Cookie{Name: "sid", Value: rtSecret},
				"form", map[string]string{"token": rtSecret}, "dsn", "postgres://u:"+rtSecret+"@db/x")
		})
		if strings.Contains(out, rtSecret) || strings.Contains(out, string(key)) {
			t.Errorf("%s: secret or key leaked: %s", format, out)
		}
		if got := strings.Count(out, p); got != 5 {
			t.Errorf("%s: pseudonym written %d times, want 5 (key, Secret, header, cookie, map):\n%s", format, got, out)
		}
		if !strings.Contains(out, Pseudonym(key, "1234")) {
			t.Errorf("%s: a number's pseudonym is that of its text: %s", format, out)
		}
		if !strings.Contains(out, "postgres://u:"+Redacted+"@db/x") {
			t.Errorf("%s: a secret inside a string keeps the marker: %s", format, out)
		}
	}
	// Redacting twice changes nothing: a pseudonym is not hashed again.
	rd := newRedactor(opts)
	if got := rd.redact(p); got != p {
		t.Errorf("redact(pseudonym) = %q, want it unchanged", got)
	}
	if got := newRedactor(&Options{}).redact(rtSecret); got != Redacted {
		t.Errorf("without a key: %q, want the marker", got)
	}
}

// ---- fuzzing ----

// FuzzRedactRoutes plants rtSecret in one of the routes above, built from
// fuzzed texts, and checks on every input and every handler kind that the
// secret never appears, nothing panics, and the record is written.
func FuzzRedactRoutes(f *testing.F) {
	f.Add("user", "ada", uint8(0), uint8(0))
	f.Add("password", "", uint8(3), uint8(1))
	f.Add("a\"b", "{\"x\":", uint8(7), uint8(2))
	f.Add("", "\xff", uint8(12), uint8(5))
	f.Add("Authorization", "Bearer", uint8(20), uint8(9))
	f.Fuzz(func(t *testing.T, key, text string, route, depth uint8) {
		if strings.Contains(key+text, rtSecret) {
			return
		}
		v := rtFuzzValue(key, text, route, int(depth%12))
		for _, format := range rtFormats {
			var out string
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s: panic: %v", format, p)
					}
				}()
				var buf bytes.Buffer
				l := slog.New(rtHandler(&buf, format, nil))
				l.LogAttrs(context.Background(), slog.LevelInfo, text, slog.Any(key, v), slog.String("k", text))
				out = buf.String()
			}()
			if out == "" {
				t.Fatalf("%s: record lost", format)
			}
			if strings.Contains(out, rtSecret) {
				t.Fatalf("%s: route %d leaked:\n%s", format, route%22, out)
			}
		}
	})
}

// rtFuzzDoc is a document from MarshalJSON built from fuzzed texts.
type rtFuzzDoc struct{ key, text string }

func (d rtFuzzDoc) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{d.key: d.text, "password": rtSecret, "n": []any{d.text, map[string]string{"token": rtSecret}}})
}

// rtFuzzPanic panics, in every method, with fuzzed text and the secret.
type rtFuzzPanic struct{ text string }

func (p rtFuzzPanic) MarshalJSON() ([]byte, error) { panic(p.text + rtSecret) }
func (p rtFuzzPanic) MarshalText() ([]byte, error) { panic(rtSecret + p.text) }
func (p rtFuzzPanic) String() string               { panic(p.text + rtSecret + p.text) }

// rtFuzzErr fails with fuzzed text and the secret.
type rtFuzzErr struct{ text string }

func (p rtFuzzErr) MarshalJSON() ([]byte, error) { return nil, errors.New(p.text + rtSecret) }

// rtWrap nests v in depth levels of the containers the walker knows.
func rtWrap(v any, key string, depth int) any {
	for i := 0; i < depth; i++ {
		switch i % 5 {
		case 0:
			v = []any{key, v}
		case 1:
			v = map[string]any{key: v, "x": i}
		case 2:
			v = &struct{ V any }{v}
		case 3:
			v = struct {
				rtBase
				W any
			}{rtBase{ID: i}, v}
		default:
			v = reflect.ValueOf(v)
		}
	}
	return v
}

func rtFuzzValue(key, text string, route uint8, depth int) any {
	var v any
	switch route % 22 {
	case 0:
		v = map[string]string{key + "_password": rtSecret, text: key}
	case 1:
		v = rtFuzzDoc{key, text}
	case 2:
		v = map[Secret]string{Secret(rtSecret): text}
	case 3:
		v = map[rtTextKey]string{{text + " Bearer " + rtSecret}: key}
	case 4:
		v = rtFuzzPanic{text}
	case 5:
		v = []any{text, rtFuzzPanic{key}}
	case 6:
		v = rtFuzzErr{text}
	case 7:
		v = json.RawMessage(`{"` + strings.ReplaceAll(key, `"`, ``) + `":1,"secret":"` + rtSecret + `"}`)
	case 8:
		v = reflect.ValueOf(struct{ A, Token string }{text, rtSecret})
	case 9:
		v = &http.Cookie{Name: key, Value: rtSecret, Raw: text + rtSecret}
	case 10:
		v = http.Header{key: {text}, "Authorization": {text + rtSecret}}
	case 11:
		v = rtAccount{rtBase{1, rtSecret}, text}
	case 12:
		v = &rtErrWithPassword{text, rtSecret}
	case 13:
		v = rtDeep0{rtDeep1{&rtDeep2{rtDeep3{rtSecret, text}}}}
	case 14:
		v = Secret(rtSecret)
	case 15:
		// The text handler prints the document's unexported text with fmt:
		// only the string scanner could find a key inside it.
		c := &rtCycleJSON{Doc: rtDoc{`{"a":1}`}, Password: rtSecret}
		c.Next = c
		v = c
	case 16:
		v = fmt.Errorf("%s: %w", text, errors.New("dial postgres://u:"+rtSecret+"@db/x"))
	case 17:
		v = map[string]any{key: text, "api_key": rtSecret}
	case 18:
		v = rtPanicString{len(text)}
		return []any{rtWrap(v, key, depth), map[string]string{"token": rtSecret}}
	case 19:
		_, k, _ := ed25519.GenerateKey(bytes.NewReader(bytes.Repeat([]byte(rtSecret), 4)))
		v = k
		return rtWrap([]any{v, text, hex.EncodeToString(k.Seed()) == "", Secret(rtSecret)}, key, depth)
	case 20:
		v = []any{text, rtFlip{new(atomic.Int32)}, map[string]any{"cookie": rtSecret}}
	default:
		v = struct {
			Doc  rtFuzzDoc
			Note string
		}{rtFuzzDoc{key, text}, text}
	}
	return rtWrap(v, key, depth)
}
