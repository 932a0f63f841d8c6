// Command fileserver runs a small file service whose audit log comes from
// the audit handler, drives a scripted session against it and prints the
// log: one JSON object per line on standard output, for jq or a database to
// read. What the script does goes to standard error.
//
//	go run ./examples/fileserver
//	go run ./examples/fileserver | jq -c 'select(.user.name=="ada")'
//	go run ./examples/fileserver -serve 127.0.0.1:8080
//
// The session: a failed and a successful login, an upload whose form has a
// password field, a listing, a deletion, the deletion of a file that does
// not exist, a request that claims an identity in a proxy's header from a
// client that is no proxy, and one request through the single-sign-on proxy
// that may make that claim. Everything listens on and connects to loopback
// only, on ports the system picks.
//
// With -serve, the public port listens on the loopback address given and
// keeps serving after the script, until interrupted, for a person to use:
// the audit log streams at /_logs (a [tail.Tail]) and the log viewer page
// is at /_viewer. Both need the viewer key, from the environment variable
// VIEWER_KEY or, when that is empty, made up and printed on standard error
// with the viewer's address.
package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/textproto"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/slogaudit/audit"
	"github.com/slogaudit/audit/tail"
)

// narrate tells on standard error what the script does, so that standard
// output holds the audit log alone.
var narrate = log.New(os.Stderr, "fileserver: ", 0)

func main() {
	addr := flag.String("serve", "", "after the script, keep serving the public port on this loopback `address` (host:port) until interrupted")
	flag.Parse()
	var err error
	if *addr == "" {
		err = run(os.Stdout)
	} else {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = serveFor(ctx, os.Stdout, *addr, os.Getenv("VIEWER_KEY"))
	}
	if err != nil {
		narrate.Print(err)
		os.Exit(1)
	}
}

// run serves the file service on two loopback ports, runs the scripted
// session against them and writes the audit log to w.
func run(w io.Writer) error {
	d, err := start(w, "127.0.0.1:0", "")
	if err != nil {
		return err
	}
	defer d.stop()
	if err := script(d.public.url, d.sso.url); err != nil {
		return err
	}
	return d.stop()
}

// serveFor is run with the public port on addr, which must be a loopback
// address, serving on after the script until ctx is done.
func serveFor(ctx context.Context, w io.Writer, addr, key string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !ip.IsLoopback()) {
		return fmt.Errorf("-serve %s: the demo listens on loopback only (127.0.0.1:8080, say)", addr)
	}
	if key == "" {
		key = newToken()
	}
	d, err := start(w, addr, key)
	if err != nil {
		return err
	}
	defer d.stop()
	if err := script(d.public.url, d.sso.url); err != nil {
		return err
	}
	narrate.Printf("serving on %s until interrupted; log viewer: %s/_viewer#key=%s", d.public.url, d.public.url, key)
	<-ctx.Done()
	return d.stop()
}

// demo is the running service: its two ports and the tail of its log.
type demo struct {
	public, sso *server
	tail        *tail.Tail
}

// start serves the file service on two loopback ports, the public one on
// publicAddr, writing the audit log to w. The log can be read at /_logs
// and /_viewer with key ("" makes one up).
func start(w io.Writer, publicAddr, key string) (*demo, error) {
	if key == "" {
		key = newToken()
	}
	t := tail.New(&tail.Options{Authorize: viewerKey(key), History: 1000})
	logger := slog.New(audit.NewHandler(slog.NewJSONHandler(io.MultiWriter(w, t), nil), nil))
	t.SetLogger(logger) // reads of the log are audit events in the log
	s := &service{
		log:      logger,
		tail:     t,
		accounts: map[string]account{"ada": {id: "u-1001", password: "correct horse battery staple"}},
		sessions: map[string]audit.Identity{},
		files:    map[string]file{},
	}

	// The service has two doors. The public port is the one clients reach
	// directly: it trusts no proxy, so identity and X-Forwarded-For headers
	// that clients send are never read there. The SSO port is the one the
	// single-sign-on proxy (oauth2-proxy, say) forwards to, and trusts the
	// loopback address that proxy connects from. In production only the
	// proxy could reach it; here the script plays the proxy. (Trusting
	// loopback on the public port instead would make every process on the
	// host, the script included, a trusted proxy.)
	d := &demo{tail: t}
	var err error
	if d.public, err = serve(publicAddr, s.handler(nil), t); err != nil {
		return nil, err
	}
	if d.sso, err = serve("127.0.0.1:0", s.handler(audit.Loopback()), t); err != nil {
		d.public.stop()
		return nil, err
	}
	narrate.Printf("public port %s, SSO port %s", d.public.url, d.sso.url)
	return d, nil
}

// stop shuts both ports down.
func (d *demo) stop() error {
	return errors.Join(d.public.stop(), d.sso.stop())
}

// viewerKey authorizes readers of the log who present key as a bearer
// token: the demo's stand-in for an application's auditor role.
func viewerKey(key string) func(*http.Request) (audit.Identity, error) {
	return func(r *http.Request) (audit.Identity, error) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(key)) != 1 {
			return audit.Identity{}, errors.New("fileserver: no valid viewer key")
		}
		return audit.Identity{ID: "viewer", Name: "auditor", Kind: audit.KindWeb}, nil
	}
}

// service is an in-memory file store for logged-in users.
type service struct {
	log  *slog.Logger
	tail *tail.Tail

	mu       sync.Mutex
	accounts map[string]account        // by login name
	sessions map[string]audit.Identity // by session cookie
	files    map[string]file           // by file name
}

type account struct{ id, password string }

type file struct {
	size        int64
	contentType string
	owner       string
}

// handler returns the service's routes behind audit.Middleware, believing
// the proxies trusted.
func (s *service) handler(trusted audit.Proxies) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /files", s.upload)
	mux.HandleFunc("GET /files", s.list)
	mux.HandleFunc("DELETE /files/{name}", s.delete)
	mux.Handle("GET /_logs", s.tail)
	mux.HandleFunc("GET /_viewer", viewerPage)
	mux.HandleFunc("GET /_viewer/{$}", viewerPage)
	mux.HandleFunc("GET /_viewer/{file}", viewerPage)
	return audit.Middleware(mux, &audit.HTTPOptions{
		TrustedProxies: trusted,
		Authenticated:  s.session,
		Logger:         s.log, // one request end event per request
		// The login form's fields go into its end event, decoded, so the
		// handler redacts the password by its key. Upload bodies are not
		// logged: file contents do not belong in an audit log.
		LogBody: func(r *http.Request) bool { return r.URL.Path == "/login" },
	})
}

// session returns the user of the request's session cookie. Without one,
// Middleware takes the user a trusted proxy names, if any.
func (s *service) session(r *http.Request) (audit.Identity, bool) {
	c, err := r.Cookie("session")
	if err != nil {
		return audit.Identity{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.sessions[c.Value]
	return id, ok
}

// user returns the identity Middleware resolved for r, or answers 401.
func (s *service) user(w http.ResponseWriter, r *http.Request) (audit.Identity, bool) {
	id, ok := audit.IdentityFrom(r.Context())
	if !ok || id.Name == "" {
		s.log.WarnContext(r.Context(), "Request without a user", audit.Event("auth.denied"))
		http.Error(w, "log in first", http.StatusUnauthorized)
		return audit.Identity{}, false
	}
	return id, true
}

func (s *service) login(w http.ResponseWriter, r *http.Request) {
	name, password := r.PostFormValue("user"), r.PostFormValue("password")
	s.mu.Lock()
	acct, ok := s.accounts[name]
	s.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(password), []byte(acct.password)) != 1 {
		s.log.WarnContext(r.Context(), "Login failed", audit.Event("auth.login_failed"), "login", name)
		http.Error(w, "wrong user or password", http.StatusUnauthorized)
		return
	}
	id := audit.Identity{ID: acct.id, Name: name, Kind: audit.KindWeb}
	token := newToken()
	s.mu.Lock()
	s.sessions[token] = id
	s.mu.Unlock()
	// From here on, this request's records (its end event too) name ada.
	ctx := audit.WithIdentity(r.Context(), id)
	s.log.InfoContext(ctx, "Login succeeded", audit.Event("auth.login"))
	http.SetCookie(w, &http.Cookie{Name: "session", Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	io.WriteString(w, "welcome\n")
}

func (s *service) upload(w http.ResponseWriter, r *http.Request) {
	id, ok := s.user(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	f, fh, err := r.FormFile("file")
	if err != nil {
		s.log.WarnContext(r.Context(), "Upload failed", audit.Event("file.upload"), errorAttr(err))
		http.Error(w, "bad upload", http.StatusBadRequest)
		return
	}
	f.Close()
	s.mu.Lock()
	s.files[fh.Filename] = file{size: fh.Size, contentType: fh.Header.Get("Content-Type"), owner: id.Name}
	s.mu.Unlock()
	// The form's other fields as the client sent them; the handler
	// redacts the password that protects the download by its key.
	s.log.InfoContext(r.Context(), "File uploaded", audit.Event("file.upload"),
		"filename", fh.Filename, "size_bytes", fh.Size, "content_type", fh.Header.Get("Content-Type"),
		"form", r.MultipartForm.Value)
	w.WriteHeader(http.StatusCreated)
}

func (s *service) list(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.user(w, r); !ok {
		return
	}
	s.mu.Lock()
	names := make([]string, 0, len(s.files))
	for name := range s.files {
		names = append(names, name)
	}
	s.mu.Unlock()
	sort.Strings(names)
	s.log.InfoContext(r.Context(), "Files listed", audit.Event("file.list"), "count", len(names))
	json.NewEncoder(w).Encode(names)
}

func (s *service) delete(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.user(w, r); !ok {
		return
	}
	name := r.PathValue("name")
	s.mu.Lock()
	f, ok := s.files[name]
	delete(s.files, name)
	s.mu.Unlock()
	if !ok {
		err := &fs.PathError{Op: "delete", Path: name, Err: fs.ErrNotExist}
		s.log.WarnContext(r.Context(), "File delete failed", audit.Event("file.delete"), "filename", name, errorAttr(err))
		http.Error(w, "no such file", http.StatusNotFound)
		return
	}
	s.log.InfoContext(r.Context(), "File deleted", audit.Event("file.delete"), "filename", name, "size_bytes", f.size)
	w.WriteHeader(http.StatusNoContent)
}

// errorAttr writes an error as fields, its type and its message, so that
// failures can be counted by kind.
func errorAttr(err error) slog.Attr {
	return slog.Group("error", "type", fmt.Sprintf("%T", err), "message", err.Error())
}

// viewer holds the log viewer page, its script and its style.
//
//go:embed viewer
var viewer embed.FS

// viewerPage serves the log viewer. Its script renders the log with
// textContent only, so that nothing a client put in the log becomes markup,
// and the policy below forbids any other script.
func viewerPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "" {
		name = "index.html"
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	sub, _ := fs.Sub(viewer, "viewer")
	if _, err := fs.Stat(sub, name); err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	http.ServeFileFS(w, r, sub, name)
}

func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// server is one listening port of the service.
type server struct {
	url  string
	srv  *http.Server
	done chan error // Serve's result
	once sync.Once
	err  error
}

// serve starts h on addr, a loopback address; port 0 lets the system
// pick. Shutting it down ends the streams of t.
func serve(addr string, h http.Handler, t *tail.Tail) (*server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &server{
		url:  "http://" + ln.Addr().String(),
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: narrate},
		done: make(chan error, 1),
	}
	// Shutdown waits for responses in flight, and a stream of the log
	// never ends by itself.
	s.srv.RegisterOnShutdown(func() { t.Close() })
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// stop shuts the server down, waiting at most five seconds for requests in
// flight, and returns what went wrong. Calls after the first return the
// same.
func (s *server) stop() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.err = s.srv.Shutdown(ctx)
		if err := <-s.done; !errors.Is(err, http.ErrServerClosed) {
			s.err = errors.Join(s.err, err)
		}
	})
	return s.err
}

// step is one request of the scripted session.
type step struct {
	what   string
	method string
	url    string
	body   io.Reader
	header map[string]string
	want   int // status code
}

// script runs the session against the public and SSO ports and checks
// every answer.
func script(public, sso string) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	ada := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	stranger := &http.Client{Timeout: 5 * time.Second} // no session cookie
	proxy := &http.Client{Timeout: 5 * time.Second}

	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	upload, uploadType, err := multipartUpload("q3-report.csv", "text/csv", "region,revenue\nnorth,1200\nsouth,950\n",
		"description", "Q3 figures", "password", "tulip-harbor-42")
	if err != nil {
		return err
	}

	for _, c := range []struct {
		client *http.Client
		step
	}{
		{ada, step{what: "ada logs in with a wrong password", method: "POST", url: public + "/login",
			body: strings.NewReader(url.Values{"user": {"ada"}, "password": {"hunter2"}}.Encode()), header: form, want: 401}},
		{ada, step{what: "ada logs in", method: "POST", url: public + "/login",
			body: strings.NewReader(url.Values{"user": {"ada"}, "password": {"correct horse battery staple"}}.Encode()), header: form, want: 200}},
		{ada, step{what: "ada uploads a file, protected by a password", method: "POST", url: public + "/files",
			body: upload, header: map[string]string{"Content-Type": uploadType}, want: 201}},
		{ada, step{what: "ada lists the files", method: "GET", url: public + "/files", want: 200}},
		{ada, step{what: "ada deletes her file", method: "DELETE", url: public + "/files/q3-report.csv", want: 204}},
		{ada, step{what: "ada deletes a file that is not there", method: "DELETE", url: public + "/files/q2-report.csv", want: 404}},
		{stranger, step{what: "a client claims to be root in the SSO proxy's header", method: "DELETE", url: public + "/files/q3-report.csv",
			header: map[string]string{"X-Auth-Request-User": "root", "X-Forwarded-For": "10.0.0.1"}, want: 401}},
		{proxy, step{what: "the SSO proxy forwards a request of grace", method: "GET", url: sso + "/files",
			header: map[string]string{
				"X-Auth-Request-User":  "grace",
				"X-Auth-Request-Email": "grace@example.org",
				"X-Forwarded-For":      "198.51.100.23",
				"X-Request-Id":         "sso-5f2c9e",
			}, want: 200}},
	} {
		if err := c.step.do(c.client); err != nil {
			return err
		}
	}
	return nil
}

func (s step) do(c *http.Client) error {
	req, err := http.NewRequest(s.method, s.url, s.body)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "fileserver-demo/1.0")
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", s.what, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	narrate.Printf("%s: %s %s -> %d", s.what, s.method, req.URL.Path, resp.StatusCode)
	if resp.StatusCode != s.want {
		return fmt.Errorf("%s: got status %d, want %d", s.what, resp.StatusCode, s.want)
	}
	return nil
}

// multipartUpload returns the body and content type of a form holding one
// file and the other fields given as key, value pairs.
func multipartUpload(name, ctype, content string, fields ...string) (io.Reader, string, error) {
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", ctype)
	part, err := mw.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	io.WriteString(part, content)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := mw.WriteField(fields[i], fields[i+1]); err != nil {
			return nil, "", err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return strings.NewReader(body.String()), mw.FormDataContentType(), nil
}
