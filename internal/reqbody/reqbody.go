// Package reqbody keeps the start of an HTTP request body as the handler
// reads it, and decodes it into fields, so that an audit record can show
// what was submitted with the secrets in it found by key.
package reqbody

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
)

// Max is how much of a request body a Tap keeps.
const Max = 4 << 10

// Tap keeps a copy of the first Max bytes the handler reads from a
// request body. It reads nothing on its own, so the handler sees the body
// as it would without it.
type Tap struct {
	io.ReadCloser
	buf []byte
	n   int64 // bytes read in all
}

// NewTap returns a Tap reading from rc.
func NewTap(rc io.ReadCloser) *Tap { return &Tap{ReadCloser: rc} }

// Size returns the number of bytes read through t, kept or not.
func (t *Tap) Size() int64 { return t.n }

// Read reads from the body, keeping a copy of what fits.
func (t *Tap) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if room := Max - len(t.buf); room > 0 && n > 0 {
		t.buf = append(t.buf, p[:min(n, room)]...)
	}
	t.n += int64(n)
	return n, err
}

// Decode returns the body as a value for a handler's redaction: a
// map[string]any, []any, map[string][]string or string. What
// can be decoded into fields is, whatever the Content-Type says (browsers
// send JSON as text/plain by default), so that the key rule reaches a
// password field: JSON, urlencoded and multipart forms. A JSON or multipart
// body that does not parse is left out, since its keys could not be
// checked; other text is logged as a string, for the value shapes.
func (t *Tap) Decode(ctype string) (any, bool) {
	if len(t.buf) == 0 {
		return nil, false
	}
	mt, params, _ := mime.ParseMediaType(ctype)
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if trimmed := bytes.TrimSpace(t.buf); isJSON || (len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')) {
		// Numbers stay as written: a long id must not come out rounded.
		dec := json.NewDecoder(bytes.NewReader(t.buf))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil && dec.Decode(new(any)) == io.EOF {
			return v, true
		}
		if isJSON || mt == "" || mt == "text/plain" {
			return nil, false
		}
	}
	switch {
	case mt == "multipart/form-data":
		return multipartFields(t.buf, params["boundary"])
	case mt == "application/x-www-form-urlencoded" || looksLikeForm(t.buf):
		if vs, err := url.ParseQuery(string(t.buf)); err == nil || mt != "" {
			return map[string][]string(vs), true
		}
	}
	return string(t.buf), true
}

// looksLikeForm reports whether b reads as name=value pairs.
func looksLikeForm(b []byte) bool {
	return bytes.IndexByte(b, '=') > 0 && !bytes.ContainsAny(b, " \t\r\n")
}

// multipartFields decodes the fields of a multipart form: values of ordinary
// fields, file names of files (never their content). A body cut at Max
// yields the fields read before the cut.
func multipartFields(body []byte, boundary string) (any, bool) {
	if boundary == "" {
		return nil, false
	}
	fields := map[string][]string{}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		name := p.FormName()
		if fn := p.FileName(); fn != "" {
			fields[name] = append(fields[name], "file "+fn)
			continue
		}
		v, err := io.ReadAll(io.LimitReader(p, Max))
		if err != nil {
			break
		}
		fields[name] = append(fields[name], string(v))
	}
	if len(fields) == 0 {
		return nil, false
	}
	return fields, true
}
