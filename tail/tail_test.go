package tail_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slogaudit/audit"
	"github.com/slogaudit/audit/tail"
)

// allow grants every request, as the reader "auditor".
func allow(*http.Request) (audit.Identity, error) {
	return audit.Identity{ID: "9", Name: "auditor", Kind: audit.KindWeb}, nil
}

// records is a small log: what the filters are tested against.
var records = []string{
	`{"time":"2026-11-21T19:00:00Z","level":"INFO","msg":"Login succeeded","event":"auth.login","user":{"id":"u-1001","name":"ada","kind":"web"}}`,
	`{"time":"2026-11-21T19:01:00Z","level":"INFO","msg":"File uploaded","event":"file.upload","user":{"id":"u-1001","name":"ada","kind":"web"},"filename":"q3.csv"}`,
	`{"time":"2026-11-21T19:01:00.5Z","level":"INFO","msg":"request end","event":"http.request.end","user":{"id":"u-1001","name":"ada","kind":"web"},"http.response.status_code":201}`,
	`{"time":"2026-11-21T19:02:00Z","level":"WARN","msg":"File delete failed","event":"file.delete","user":{"id":"u-1001","name":"ada","kind":"web"}}`,
	`{"time":"2026-11-21T19:02:00.5Z","level":"INFO","msg":"request end","event":"http.request.end","user":{"id":"u-1001","name":"ada","kind":"web"},"http.response.status_code":404}`,
	`{"time":"2026-11-21T19:03:00Z","level":"WARN","msg":"Request without a user","event":"auth.denied"}`,
	`{"time":"2026-11-21T19:03:00.5Z","level":"INFO","msg":"request end","event":"http.request.end","http.response.status_code":401}`,
	`{"time":"2026-11-21T19:04:00Z","level":"INFO","msg":"Files listed","event":"file.list","user":{"name":"grace","email":"grace@example.org"}}`,
	`{"time":"2026-11-21T19:05:00Z","level":"INFO","msg":"job","event":"job.run","user":"cron"}`,
	`not JSON at all`,
}

// get runs one request against t in-process and returns the recorder.
func get(t *testing.T, tl *tail.Tail, query string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	tl.ServeHTTP(rec, httptest.NewRequest("GET", "/_logs?"+query, nil))
	return rec
}

// lines splits an NDJSON body.
func lines(body string) []string {
	if body == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(body, "\n"), "\n")
}

func TestFilter(t *testing.T) {
	tl := tail.New(&tail.Options{Authorize: allow, History: 100, Logger: discard()})
	for _, r := range records {
		io.WriteString(tl, r+"\n")
	}
	for _, tc := range []struct {
		name  string
		query string
		want  []int // indexes into records
	}{
		{"no filter", "", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"event", "event=file.upload", []int{1}},
		{"event prefix", "event=file.*", []int{1, 3, 7}},
		{"any of two events", "event=auth.login&event=auth.denied", []int{0, 5}},
		{"user by name", "user=grace", []int{7}},
		{"user by id", "user=u-1001&event=file.*", []int{1, 3}},
		{"user as a string", "user=cron", []int{8}},
		{"unknown user", "user=mallory", nil},
		{"status", "status=404", []int{4}},
		{"status class", "status=4xx", []int{4, 6}},
		{"status class or code", "status=4XX&status=201", []int{2, 4, 6}},
		{"since, inclusive", "since=2026-11-21T19:03:00Z", []int{5, 6, 7, 8}},
		{"until, exclusive", "until=2026-11-21T19:01:00.5Z&follow=false", []int{0, 1}},
		{"since and until, with an offset", "since=2026-11-21T20:01:00%2B01:00&until=2026-11-21T19:02:00.5Z&follow=false", []int{1, 2, 3}},
		{"all at once", "event=http.request.end&user=ada&status=4xx&since=2026-11-21T19:00:00Z", []int{4}},
		{"history limit keeps the newest", "history=2", []int{8, 9}},
		{"history limit counts matches", "history=2&event=file.*", []int{3, 7}},
		{"history zero", "history=0", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.query
			if !strings.Contains(q, "history=") {
				q += "&history=100"
			}
			if !strings.Contains(q, "follow=") {
				q += "&follow=0"
			}
			rec := get(t, tl, q)
			if rec.Code != 200 {
				t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body)
			}
			var want []string
			for _, i := range tc.want {
				want = append(want, records[i])
			}
			if got := lines(rec.Body.String()); !equal(got, want) {
				t.Errorf("?%s\ngot  %q\nwant %q", q, got, want)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBadQuery(t *testing.T) {
	var log bytes.Buffer
	tl := tail.New(&tail.Options{Authorize: allow, Logger: slog.New(slog.NewJSONHandler(&log, nil))})
	for _, q := range []string{
		"status=abc", "status=4x4", "status=600", "status=40",
		"since=yesterday", "until=2026-11-21", "history=-1", "history=many", "follow=maybe",
	} {
		t.Run(q, func(t *testing.T) {
			log.Reset()
			rec := get(t, tl, q)
			if rec.Code != http.StatusBadRequest || !strings.HasPrefix(rec.Body.String(), "tail: ") {
				t.Errorf("status %d, body %q; want 400 and the reason", rec.Code, rec.Body)
			}
			ev := decode(t, log.String())
			if ev["event"] != tail.EventDenied || !strings.HasPrefix(fmt.Sprint(ev["reason"]), "tail: ") {
				t.Errorf("audit event %v, want %s with the reason", ev, tail.EventDenied)
			}
		})
	}
}

// decode returns the only JSON line of s.
func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	ls := lines(s)
	if len(ls) != 1 {
		t.Fatalf("got %d log lines, want 1: %q", len(ls), s)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(ls[0]), &m); err != nil {
		t.Fatalf("log line is not JSON: %v: %s", err, ls[0])
	}
	return m
}

func TestAuthorize(t *testing.T) {
	errNo := errors.New("not an auditor")
	for _, tc := range []struct {
		name      string
		authorize func(*http.Request) (audit.Identity, error)
		code      int
		event     string
		user      string // the reader in the audit event
		reason    string
	}{
		{"no hook refuses", nil, 403, tail.EventDenied, "", "tail: no Authorize hook configured"},
		{"nobody logged in", func(*http.Request) (audit.Identity, error) { return audit.Identity{}, errNo }, 401, tail.EventDenied, "", "not an auditor"},
		{"logged in, not allowed", func(*http.Request) (audit.Identity, error) { return audit.Identity{Name: "bob"}, errNo }, 403, tail.EventDenied, "bob", "not an auditor"},
		{"a panicking hook refuses", func(*http.Request) (audit.Identity, error) { panic("boom") }, 403, tail.EventDenied, "", "tail: Authorize panicked: boom"},
		{"allowed", allow, 200, tail.EventRead, "auditor", ""},
		{"allowed, anonymous", func(*http.Request) (audit.Identity, error) { return audit.Identity{}, nil }, 200, tail.EventRead, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			logger := slog.New(audit.NewHandler(slog.NewJSONHandler(&log, nil), nil))
			tl := tail.New(&tail.Options{Authorize: tc.authorize, Logger: logger, History: 10})
			io.WriteString(tl, records[1]+"\n")
			rec := get(t, tl, "event=file.upload&user=ada&history=5&follow=false")
			if rec.Code != tc.code {
				t.Errorf("status %d, want %d", rec.Code, tc.code)
			}
			if got := strings.Contains(rec.Body.String(), "q3.csv"); got != (tc.code == 200) {
				t.Errorf("body %q: holds the log = %v, want %v", rec.Body, got, tc.code == 200)
			}
			if tc.reason != "" && strings.Contains(rec.Body.String(), tc.reason) {
				t.Errorf("body %q tells the client the reason", rec.Body)
			}
			ev := decode(t, log.String())
			user, _ := ev["user"].(map[string]any)
			filter, _ := ev["filter"].(map[string]any)
			if ev["event"] != tc.event || fmt.Sprint(user["name"]) != tc.user && !(tc.user == "" && user == nil) {
				t.Errorf("audit event %v, want event %s by %q", ev, tc.event, tc.user)
			}
			if len(ev["event_id"].(string)) != 32 {
				t.Errorf("audit event %v has no event_id", ev)
			}
			if filter["event"] != "file.upload" || filter["user"] != "ada" || filter["history"] != "5" {
				t.Errorf("audit event filter %v, want the query's", filter)
			}
			if reason, _ := ev["reason"].(string); reason != tc.reason {
				t.Errorf("reason %q, want %q", reason, tc.reason)
			}
		})
	}
}

func TestMethod(t *testing.T) {
	tl := tail.New(&tail.Options{Authorize: allow, Logger: discard()})
	rec := httptest.NewRecorder()
	tl.ServeHTTP(rec, httptest.NewRequest("POST", "/_logs", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d, Allow %q; want 405, GET, HEAD", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestPartialLines(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxLine int
		writes  []string
		want    []string
		dropped uint64 // for the one reader
	}{
		{"whole lines", 0, []string{"a\n", "b\n"}, []string{"a", "b"}, 0},
		{"two lines in one write", 0, []string{"a\nb\n"}, []string{"a", "b"}, 0},
		{"a line in two writes", 0, []string{"a\nb", "c\n"}, []string{"a", "bc"}, 0},
		{"a line in three writes", 0, []string{`{"msg":`, `"x"`, "}\n"}, []string{`{"msg":"x"}`}, 0},
		{"byte by byte", 0, []string{"a", "b", "\n", "c", "\n"}, []string{"ab", "c"}, 0},
		{"no newline yet", 0, []string{"a\n", "b"}, []string{"a"}, 0},
		{"empty writes", 0, []string{"", "a", "", "\n", ""}, []string{"a"}, 0},
		{"empty lines kept", 0, []string{"\n\na\n"}, []string{"", "", "a"}, 0},
		{"a line too long in one write", 4, []string{"abcdef\nxy\n"}, []string{`{"tail.dropped":1}`, "xy"}, 1},
		{"a line too long in pieces", 4, []string{"ab", "cd", "ef", "gh\nxy\n"}, []string{`{"tail.dropped":1}`, "xy"}, 1},
		{"the longest line", 4, []string{"abc\n"}, []string{"abc"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tl := tail.New(&tail.Options{Authorize: allow, History: 10, MaxLine: tc.maxLine, Logger: discard()})
			s := follow(t, tl, "", false)
			for _, w := range tc.writes {
				if n, err := io.WriteString(tl, w); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
				}
			}
			tl.Close()
			if got := s.all(); !equal(got, tc.want) {
				t.Errorf("stream\ngot  %q\nwant %q", got, tc.want)
			}
			if tl.Dropped() != tc.dropped {
				t.Errorf("Dropped() = %d, want %d", tl.Dropped(), tc.dropped)
			}
			var want []string
			for _, l := range tc.want {
				if !strings.HasPrefix(l, `{"tail.dropped"`) {
					want = append(want, l)
				}
			}
			if got := lines(get(t, tl2(t, tl, tc.writes, tc.maxLine), "history=10&follow=0").Body.String()); !equal(got, want) {
				t.Errorf("history\ngot  %q\nwant %q", got, want)
			}
		})
	}
}

// tl2 returns a new Tail, like tl, that was written writes with no reader:
// the history is framed the same way.
func tl2(t *testing.T, _ *tail.Tail, writes []string, maxLine int) *tail.Tail {
	t.Helper()
	tl := tail.New(&tail.Options{Authorize: allow, History: 10, MaxLine: maxLine, Logger: discard()})
	for _, w := range writes {
		io.WriteString(tl, w)
	}
	return tl
}

// stream is an http.ResponseWriter for a reader following a Tail
// in-process. With a gate, each Write waits until the gate is closed: a
// reader that has stopped reading.
type stream struct {
	h       http.Header
	gate    chan struct{}
	entered chan struct{} // receives when a Write has begun
	done    chan struct{} // closed when ServeHTTP has returned

	mu   sync.Mutex
	buf  bytes.Buffer
	code int
}

func (s *stream) Header() http.Header { return s.h }

func (s *stream) WriteHeader(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.code = code
}

func (s *stream) Write(p []byte) (int, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *stream) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// follow starts a stream of tl with query and returns once it is
// subscribed.
func follow(t *testing.T, tl *tail.Tail, query string, gated bool) *stream {
	t.Helper()
	before := tl.Readers()
	s := &stream{h: http.Header{}, entered: make(chan struct{}, 1), done: make(chan struct{})}
	if gated {
		s.gate = make(chan struct{})
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		defer close(s.done)
		tl.ServeHTTP(s, httptest.NewRequest("GET", "/_logs?"+query, nil).WithContext(ctx))
	}()
	waitFor(t, "the reader to subscribe", func() bool { return tl.Readers() > before })
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// all waits for the end of the stream and returns its lines.
func (s *stream) all() []string {
	<-s.done
	return lines(s.String())
}

func TestSlowReader(t *testing.T) {
	// The reader takes line 1 and then stops reading: lines 2 and 3 fill
	// its buffer of 2 and lines 4 to 6 are lost. No write waits for it.
	tl := tail.New(&tail.Options{Authorize: allow, Buffer: 2, Logger: discard()})
	s := follow(t, tl, "", true)
	io.WriteString(tl, "line 1\n")
	<-s.entered
	wrote := make(chan struct{})
	go func() {
		for i := 2; i <= 6; i++ {
			fmt.Fprintf(tl, "line %d\n", i)
		}
		close(wrote)
	}()
	select {
	case <-wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("writing waited for a slow reader")
	}
	if got := tl.Dropped(); got != 3 {
		t.Fatalf("Dropped() = %d after 6 lines to a stalled reader with a buffer of 2, want 3", got)
	}
	// The reader catches up; the next line comes after the notice.
	close(s.gate)
	waitFor(t, "the reader to catch up", func() bool { return strings.Contains(s.String(), "line 3\n") })
	io.WriteString(tl, "line 7\n")
	waitFor(t, "line 7", func() bool { return strings.Contains(s.String(), "line 7\n") })

	tl.Close()
	want := []string{"line 1", "line 2", "line 3", `{"tail.dropped":3}`, "line 7"}
	if got := s.all(); !equal(got, want) {
		t.Errorf("stream\ngot  %q\nwant %q", got, want)
	}
	if tl.Dropped() != 3 {
		t.Errorf("Dropped() = %d, want 3", tl.Dropped())
	}
}

func TestLostAtTheEnd(t *testing.T) {
	tl := tail.New(&tail.Options{Authorize: allow, Buffer: 2, Logger: discard()})
	s := follow(t, tl, "event=x", true)
	io.WriteString(tl, `{"event":"x","n":1}`+"\n")
	<-s.entered
	for i := 2; i <= 5; i++ {
		fmt.Fprintf(tl, `{"event":"x","n":%d}`+"\n", i)
	}
	tl.Close()
	close(s.gate)
	want := []string{`{"event":"x","n":1}`, `{"event":"x","n":2}`, `{"event":"x","n":3}`, `{"tail.dropped":2}`}
	if got := s.all(); !equal(got, want) {
		t.Errorf("stream\ngot  %q\nwant %q", got, want)
	}
}

func TestCloseAndUntil(t *testing.T) {
	tl := tail.New(&tail.Options{Authorize: allow, Logger: discard()})
	until := time.Now().Add(100 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	s := follow(t, tl, "until="+until, false)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end at until")
	}

	s = follow(t, tl, "", false)
	io.WriteString(tl, "a\n")
	tl.Close()
	if got := s.all(); !equal(got, []string{"a"}) {
		t.Errorf("stream at Close: %q, want the line written before", got)
	}
	var log bytes.Buffer
	tl.SetLogger(slog.New(slog.NewJSONHandler(&log, nil)))
	if rec := get(t, tl, ""); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("after Close: status %d, want 503", rec.Code)
	}
	if ev := decode(t, log.String()); ev["event"] != tail.EventDenied || ev["reason"] != "tail: closed" {
		t.Errorf("after Close: audit event %v, want %s, tail: closed", ev, tail.EventDenied)
	}
	if n, err := io.WriteString(tl, "b\n"); n != 2 || err != nil {
		t.Errorf("Write after Close = %d, %v; want 2, nil", n, err)
	}
}

// TestConcurrent runs writers through slog handlers and readers over real
// HTTP at once: every line arrives whole and in its writer's order, or is
// counted as lost, and the counts agree.
func TestConcurrent(t *testing.T) {
	const writers, perWriter, readers = 4, 300, 3
	var audits bytes.Buffer
	var amu sync.Mutex
	tl := tail.New(&tail.Options{
		Authorize: allow,
		Buffer:    16,
		History:   50,
		Logger:    slog.New(slog.NewJSONHandler(lockedWriter{&amu, &audits}, nil)),
	})
	srv := httptest.NewServer(tl)
	defer srv.Close()

	type result struct {
		records, dropped int
		err              error
	}
	results := make(chan result, readers)
	before := tl.Readers()
	for i := 0; i < readers; i++ {
		go func() {
			var res result
			defer func() { results <- res }()
			resp, err := http.Get(srv.URL + "?event=test.write")
			if err != nil {
				res.err = err
				return
			}
			defer resp.Body.Close()
			last := map[float64]float64{}
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				var m map[string]any
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					res.err = fmt.Errorf("a line is not JSON: %v: %q", err, sc.Text())
					return
				}
				if n, ok := m[tail.DroppedKey].(float64); ok {
					res.dropped += int(n)
					continue
				}
				w, seq := m["writer"].(float64), m["seq"].(float64)
				if prev, ok := last[w]; ok && seq <= prev {
					res.err = fmt.Errorf("writer %v: seq %v after %v", w, seq, prev)
					return
				}
				last[w] = seq
				res.records++
			}
			res.err = sc.Err()
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); tl.Readers() < before+readers; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("readers never subscribed")
		}
	}

	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			logger := slog.New(audit.NewHandler(slog.NewJSONHandler(io.MultiWriter(io.Discard, tl), nil), nil))
			for i := 0; i < perWriter; i++ {
				logger.Info("write", audit.Event("test.write"), "writer", w, "seq", i, "pad", strings.Repeat("x", i%200))
			}
		}()
	}
	// Readers joining and leaving while the log is written.
	for i := 0; i < 20; i++ {
		get(t, tl, "history=10&follow=0")
	}
	wg.Wait()
	tl.Close()

	total := 0
	for i := 0; i < readers; i++ {
		res := <-results
		if res.err != nil {
			t.Fatal(res.err)
		}
		if res.records+res.dropped != writers*perWriter {
			t.Errorf("reader got %d records and was told of %d lost, want %d in all", res.records, res.dropped, writers*perWriter)
		}
		total += res.dropped
	}
	t.Logf("readers lost %d lines in all", total)
	if uint64(total) != tl.Dropped() {
		t.Errorf("readers were told of %d lost lines, Dropped() = %d", total, tl.Dropped())
	}
	amu.Lock()
	defer amu.Unlock()
	if n := strings.Count(audits.String(), tail.EventRead); n != readers+20 {
		t.Errorf("%d %s events, want %d", n, tail.EventRead, readers+20)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// discard is a logger for the audit events a test does not look at.
func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// BenchmarkWrite measures what a Tail adds to each log write.
func BenchmarkWrite(b *testing.B) {
	line := []byte(records[2] + "\n")
	for _, bc := range []struct {
		name    string
		history int
		readers int
	}{
		{"alone", 0, 0},
		{"history", 1000, 0},
		{"history+3readers", 1000, 3},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tl := tail.New(&tail.Options{Authorize: allow, History: bc.history, Logger: discard()})
			srv := httptest.NewServer(tl)
			defer srv.Close()
			for i := 0; i < bc.readers; i++ {
				resp, err := http.Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				defer resp.Body.Close()
				go io.Copy(io.Discard, resp.Body)
			}
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tl.Write(line)
			}
			b.StopTimer()
			tl.Close()
		})
	}
}
