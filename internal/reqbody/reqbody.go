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
	"unicode/utf8"
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
// map[string]any, []any, map[string][]string or string. What can be
// decoded into fields is, whatever the Content-Type says (browsers send
// JSON as text/plain by default), so that the key rule reaches a password
// field: JSON (a byte-order mark is skipped), JSON lines, urlencoded forms
// (with '&' or ';' between fields, trailing line breaks ignored) and
// multipart forms. Other content is logged as a string only when it is
// text the string scanner can check.
//
// What cannot be checked is left out, never logged raw: a body that looks
// like JSON (or is labelled so) but does not parse, JSON lines with a bad
// line, a multipart body without its boundary, a compressed body (encoding
// is the Content-Encoding header, if any; gzip and zstd are also known by
// their first bytes) and binary content.
func (t *Tap) Decode(ctype string, encoding ...string) (any, bool) {
	if len(t.buf) == 0 {
		return nil, false
	}
	for _, e := range encoding {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "identity") {
			return nil, false
		}
	}
	if compressed(t.buf) {
		return nil, false
	}
	body := bytes.TrimPrefix(t.buf, []byte("\xef\xbb\xbf"))
	cut := t.n > int64(len(t.buf))
	mt, params, _ := mime.ParseMediaType(ctype)
	trimmed := bytes.TrimSpace(body)
	switch {
	case isJSONLines(mt):
		return jsonLines(body, cut)
	case isJSON(mt) || len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['):
		// Numbers stay as written: a long id must not come out rounded.
		if v, ok := decodeJSON(body); ok {
			return v, true
		}
		// Its keys cannot be read, so a secret under one cannot be found.
		return nil, false
	case mt == "multipart/form-data":
		return multipartFields(body, params["boundary"])
	case mt == "application/x-www-form-urlencoded" || looksLikeForm(trimmed):
		return formFields(trimmed), true
	}
	return text(body, cut)
}

// isJSON reports whether the media type mt names JSON.
func isJSON(mt string) bool {
	switch mt {
	case "application/json", "text/json", "application/x-json", "text/x-json":
		return true
	}
	return strings.HasSuffix(mt, "+json")
}

// isJSONLines reports whether mt names a sequence of JSON documents, one a
// line (NDJSON, JSON Lines) or each after a record separator (RFC 7464).
func isJSONLines(mt string) bool {
	switch mt {
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
		"application/jsonlines", "application/json-seq":
		return true
	}
	return false
}

// decodeJSON decodes b as exactly one JSON document.
func decodeJSON(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) == nil && dec.Decode(new(any)) == io.EOF {
		return v, true
	}
	return nil, false
}

// jsonLines decodes one document a line. A last line that does not parse
// is dropped when the body was cut there; any other bad line leaves the
// whole body out.
func jsonLines(b []byte, cut bool) (any, bool) {
	lines := bytes.FieldsFunc(b, func(r rune) bool { return r == '\n' || r == '\x1e' })
	var docs []any
	for i, line := range lines {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		v, ok := decodeJSON(line)
		if !ok {
			if cut && i == len(lines)-1 {
				break
			}
			return nil, false
		}
		docs = append(docs, v)
	}
	if len(docs) == 0 {
		return nil, false
	}
	return docs, true
}

// looksLikeForm reports whether b reads as name=value pairs.
func looksLikeForm(b []byte) bool {
	if bytes.IndexByte(b, '=') <= 0 || bytes.ContainsAny(b, " \t\r\n") {
		return false
	}
	_, ok := text(b, false)
	return ok
}

// formFields decodes an urlencoded form. ';' separates fields too, as
// older servers accept, so that a field after one is still found by its
// key; a field that does not decode is dropped, not kept raw.
func formFields(b []byte) map[string][]string {
	vs, _ := url.ParseQuery(strings.ReplaceAll(string(b), ";", "&"))
	if vs == nil {
		vs = url.Values{}
	}
	return map[string][]string(vs)
}

// compressed reports whether b starts as a gzip or zstd stream does.
func compressed(b []byte) bool {
	return bytes.HasPrefix(b, []byte{0x1f, 0x8b}) || bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd})
}

// text returns b as a string if it is UTF-8 text without control
// characters but tabs and line breaks: text the string scanner can check.
// A character cut at the end of a cut body is dropped.
func text(b []byte, cut bool) (string, bool) {
	if cut {
		for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.Valid(b); i++ {
			b = b[:len(b)-1]
		}
	}
	if !utf8.Valid(b) {
		return "", false
	}
	for _, r := range string(b) {
		if r < ' ' && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || 0x80 <= r && r < 0xa0 {
			return "", false
		}
	}
	return string(b), true
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
