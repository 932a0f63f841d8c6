package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"time"

	"github.com/slogaudit/audit"
)

// The examples below are the five audit logs this package was designed
// from, each reached by configuration alone. Times and random ids change on
// every run, so each example's inner handler writes a frozen clock
// (scenarioNow) and drops or fixes what is random; a real program keeps
// them.

// scenarioNow is the frozen clock of the scenario examples.
var scenarioNow = time.Date(2025, 10, 3, 17, 48, 22, 238_000_000, time.UTC)

// scenarioDeployedApp is the context key of the flag a notebook server sets
// on the context of a deployed app's sessions.
type scenarioDeployedApp struct{}

// scenarioSkipDeployed sits between the audit Handler and the JSON handler
// and drops the code.evaluate records of deployed apps: their users did
// not choose the code they run, someone deployed it after review, so only
// regular sessions and app previews are audited. It looks at the record the
// audit Handler wrote, where the event is a plain top-level string.
type scenarioSkipDeployed struct{ slog.Handler }

func (h scenarioSkipDeployed) Handle(ctx context.Context, r slog.Record) error {
	if deployed, _ := ctx.Value(scenarioDeployedApp{}).(bool); deployed && scenarioEvent(r) == "code.evaluate" {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h scenarioSkipDeployed) WithAttrs(as []slog.Attr) slog.Handler {
	return scenarioSkipDeployed{h.Handler.WithAttrs(as)}
}

func (h scenarioSkipDeployed) WithGroup(name string) slog.Handler {
	return scenarioSkipDeployed{h.Handler.WithGroup(name)}
}

// scenarioEvent returns the event name of a record written by an audit
// Handler with the default EventKey.
func scenarioEvent(r slog.Record) (event string) {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == audit.EventKey {
			event = a.Value.String()
			return false
		}
		return true
	})
	return event
}

// A notebook server audits who ran which code (Livebook). The record keeps
// the human message old log consumers parse, rendered from the structured
// fields, while new consumers read the fields; the session's users are a
// list of identities. Only regular sessions and app previews are audited:
// the server marks deployed apps' contexts, and a small filter in front of
// the JSON handler drops their evaluations, so the evaluator logs every
// evaluation the same way.
func Example_notebookEvaluation() {
	livebook := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			return slog.String("time", scenarioNow.Format("2006-01-02T15:04:05.000Z07:00")) // a.Value.Time() in a real program
		case slog.MessageKey:
			return slog.Attr{Key: "message", Value: a.Value}
		case slog.LevelKey:
			return slog.String("severity", strings.ToLower(a.Value.String()))
		case audit.EventIDKey:
			return slog.Attr{}
		}
		return a
	}
	inner := scenarioSkipDeployed{slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: livebook})}
	logger := slog.New(audit.NewHandler(inner, &audit.Options{
		Legacy: []audit.Legacy{{
			Event: "code.evaluate",
			Fields: []audit.LegacyField{
				{Key: "session_mode", Label: "Session mode"},
				{Key: "code", Label: "Code", Quote: true},
			},
		}},
	}))

	type session struct {
		ctx   context.Context // the deployed flag is set here, once, when the session starts
		mode  string
		users []audit.Identity
	}
	evaluate := func(s session, code string) {
		logger.InfoContext(s.ctx, "Evaluating code", audit.Event("code.evaluate"),
			slog.Any("users", s.users), "session_mode", s.mode, "code", code)
	}

	bg := context.Background()
	deployed := context.WithValue(bg, scenarioDeployedApp{}, true)
	mira := audit.Identity{ID: "1", Name: "Mira Tanaka", Email: "mira@example.org"}
	teo := audit.Identity{ID: "2", Name: "Teo Lindqvist"}

	evaluate(session{ctx: bg, mode: "default", users: []audit.Identity{mira, teo}}, "7 + 13")
	evaluate(session{ctx: bg, mode: "app", users: []audit.Identity{mira}}, `Kino.Input.text("Name")`) // app preview
	evaluate(session{ctx: deployed, mode: "app", users: []audit.Identity{teo}}, `Kino.Input.text("Name")`)

	// Output:
	// {"time":"2025-10-03T17:48:22.238Z","severity":"info","message":"Evaluating code\n  Session mode: default\n  Code: \"7 + 13\"","event":"code.evaluate","users":[{"id":"1","name":"Mira Tanaka","email":"mira@example.org"},{"id":"2","name":"Teo Lindqvist"}],"session_mode":"default","code":"7 + 13"}
	// {"time":"2025-10-03T17:48:22.238Z","severity":"info","message":"Evaluating code\n  Session mode: app\n  Code: \"Kino.Input.text(\\\"Name\\\")\"","event":"code.evaluate","users":[{"id":"1","name":"Mira Tanaka","email":"mira@example.org"}],"session_mode":"app","code":"Kino.Input.text(\"Name\")"}
}

// A notebook server audits each execute_request (Jupyter): who ran it,
// what code (never its output), the kernel and a UTC ISO 8601 timestamp.
// The server's own user is an opaque id; the oauth2-proxy in front of it,
// on the same host, says who that is, and is believed only from loopback.
func Example_cellExecution() {
	cest := time.FixedZone("CEST", 2*60*60) // a server clock that is not in UTC
	jupyter := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			t := scenarioNow.In(cest) // a.Value.Time() in a real program
			return slog.String("timestamp", t.UTC().Format(time.RFC3339Nano))
		case audit.EventIDKey:
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(audit.NewHandler(
		slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: jupyter}),
		&audit.Options{IdentityKey: "who"}))
	opts := &audit.HTTPOptions{TrustedProxies: audit.Loopback()}

	// handleIncoming stands for the server's websocket handler of kernel
	// channels, where client messages are parsed before they are routed to
	// the kernel. Replies and outputs come from the kernel and never pass
	// here.
	handleIncoming := func(r *http.Request, username, kernelID string, raw []byte) {
		var msg struct {
			Header struct {
				MsgType string `json:"msg_type"`
			} `json:"header"`
			Content struct {
				Code string `json:"code"`
			} `json:"content"`
		}
		if json.Unmarshal(raw, &msg) != nil || msg.Header.MsgType != "execute_request" {
			return
		}
		who := audit.RequestIdentity(r, audit.Identity{Name: username}, opts)
		ctx := audit.WithIdentity(r.Context(), who)
		logger.InfoContext(ctx, "execute_request", audit.Event("cell.execute"),
			"kernel_id", kernelID, "what", msg.Content.Code)
	}

	const kernel = "5e0f8a52-8d1c-4b6e-9c41-0d2b7e3f6a19"
	user := "3f2b8c1d9e4a4b7c8d6e5f4a3b2c1d0e" // made up by the server for a token login
	for _, peer := range []string{"127.0.0.1:52114", "192.0.2.80:52114"} {
		r := httptest.NewRequest("GET", "/api/kernels/"+kernel+"/channels", nil)
		r.RemoteAddr = peer
		r.Header.Set("X-Auth-Request-User", "nadia")
		r.Header.Set("X-Auth-Request-Email", "nadia@example.org")
		handleIncoming(r, user, kernel, []byte(`{"header":{"msg_type":"kernel_info_request"},"content":{}}`))
		handleIncoming(r, user, kernel, []byte(`{"header":{"msg_type":"execute_request"},"content":{"code":"df = load(\"cohort.parquet\")\ndf.head()"}}`))
	}

	// Output:
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"INFO","msg":"execute_request","event":"cell.execute","who":{"id":"3f2b8c1d9e4a4b7c8d6e5f4a3b2c1d0e","name":"nadia","email":"nadia@example.org","kind":"web"},"kernel_id":"5e0f8a52-8d1c-4b6e-9c41-0d2b7e3f6a19","what":"df = load(\"cohort.parquet\")\ndf.head()"}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"INFO","msg":"execute_request","event":"cell.execute","who":{"name":"3f2b8c1d9e4a4b7c8d6e5f4a3b2c1d0e","kind":"web"},"kernel_id":"5e0f8a52-8d1c-4b6e-9c41-0d2b7e3f6a19","what":"df = load(\"cohort.parquet\")\ndf.head()"}
}

// scenarioUpload returns a multipart upload of one file with its content
// type, and the other form fields.
func scenarioUpload(name, ctype, content string, fields ...string) (body *bytes.Buffer, formType string) {
	body = new(bytes.Buffer)
	mw := multipart.NewWriter(body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", ctype)
	part, _ := mw.CreatePart(h)
	io.WriteString(part, content)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	mw.Close()
	return body, mw.FormDataContentType()
}

// A file service logs upload, delete and list events (the structlog
// tutorial): specific event names, file metadata, the request's address and
// user agent under the tutorial's names (a per-field override of the
// preset), error details as fields, and never the password of the upload
// form. Middleware binds the request metadata once; every event of the
// request carries it, and its end event records the outcome.
func Example_fileService() {
	fields := audit.DefaultFields()
	fields.ClientAddress, fields.UserAgent = "ip_address", "user_agent"

	structlog := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) > 0 {
			return a
		}
		switch a.Key {
		case slog.TimeKey:
			return slog.String("timestamp", scenarioNow.Format("2006-01-02T15:04:05.000Z07:00")) // a.Value.Time() in a real program
		case slog.LevelKey:
			return slog.String("level", strings.ToLower(a.Value.String()))
		case audit.EventIDKey, audit.DurationKey:
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(audit.NewHandler(
		slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: structlog}),
		&audit.Options{Fields: fields}))

	files := map[string]int64{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /files", func(w http.ResponseWriter, r *http.Request) {
		f, fh, err := r.FormFile("file")
		if err != nil {
			http.Error(w, "no file", http.StatusBadRequest)
			return
		}
		f.Close()
		files[fh.Filename] = fh.Size
		// The form's other fields, as sent: the handler redacts the
		// password by its key.
		logger.InfoContext(r.Context(), "File uploaded", audit.Event("file_uploaded"),
			"filename", fh.Filename, "file_size_bytes", fh.Size,
			"content_type", fh.Header.Get("Content-Type"), "form", r.MultipartForm.Value)
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /files", func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "Files listed", audit.Event("files_listed"), "count", len(files))
		json.NewEncoder(w).Encode(files)
	})
	mux.HandleFunc("DELETE /files/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if _, ok := files[name]; !ok {
			err := &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
			logger.WarnContext(r.Context(), "File delete failed", audit.Event("file_delete_failed"),
				"filename", name, slog.Group("error", "type", fmt.Sprintf("%T", err), "message", err.Error()))
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		delete(files, name)
		logger.InfoContext(r.Context(), "File deleted", audit.Event("file_deleted"), "filename", name)
		w.WriteHeader(http.StatusNoContent)
	})
	handler := audit.Middleware(mux, &audit.HTTPOptions{
		TrustedProxies: audit.Loopback(), // the reverse proxy in front of the service
		Logger:         logger,
		Fields:         fields,
		Authenticated: func(r *http.Request) (audit.Identity, bool) {
			return audit.Identity{ID: "u-17", Name: "ines"}, true // from the session cookie
		},
	})

	send := func(method, path, requestID string, body io.Reader, ctype string) {
		r := httptest.NewRequest(method, path, body)
		r.RemoteAddr = "127.0.0.1:40112"
		r.Header.Set("X-Forwarded-For", "192.168.1.1")
		r.Header.Set("X-Request-Id", requestID)
		r.Header.Set("User-Agent", "Mozilla/5.0")
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		handler.ServeHTTP(httptest.NewRecorder(), r)
	}
	body, ctype := scenarioUpload("example.txt", "text/plain", strings.Repeat("x", 12345),
		"description", "Q3 figures", "password", "correct horse")
	send("POST", "/files", "req-1", body, ctype)
	send("GET", "/files", "req-2", nil, "")
	send("DELETE", "/files/missing.txt", "req-3", nil, "")

	// Output:
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"info","msg":"File uploaded","event":"file_uploaded","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-1","http.request.method":"POST","url.path":"/files","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","filename":"example.txt","file_size_bytes":12345,"content_type":"text/plain","form":{"description":["Q3 figures"],"password":"[REDACTED]"}}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"info","msg":"request end","event":"http.request.end","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-1","http.request.method":"POST","url.path":"/files","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","http.response.status_code":201,"http.response.body.size":0,"request_end":true}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"info","msg":"Files listed","event":"files_listed","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-2","http.request.method":"GET","url.path":"/files","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","count":1}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"info","msg":"request end","event":"http.request.end","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-2","http.request.method":"GET","url.path":"/files","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","http.response.status_code":200,"http.response.body.size":22,"request_end":true}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"warn","msg":"File delete failed","event":"file_delete_failed","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-3","http.request.method":"DELETE","url.path":"/files/missing.txt","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","filename":"missing.txt","error":{"type":"*fs.PathError","message":"remove missing.txt: file does not exist"}}
	// {"timestamp":"2025-10-03T17:48:22.238Z","level":"info","msg":"request end","event":"http.request.end","user":{"id":"u-17","name":"ines","kind":"web"},"request_id":"req-3","http.request.method":"DELETE","url.path":"/files/missing.txt","ip_address":"192.168.1.1","user_agent":"Mozilla/5.0","http.response.status_code":404,"http.response.body.size":10,"request_end":true}
}
