package main

import (
	"bufio"
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestViewerInBrowser runs the demo as a person would, go build and -serve,
// opens the log viewer in headless Chromium and checks what the page
// shows. It runs when FILESERVER_CHROMIUM names the browser (.ci/browser.sh
// sets it); FILESERVER_SCREENSHOT, if set, is where a screenshot of the
// unfiltered viewer is saved.
func TestViewerInBrowser(t *testing.T) {
	chromium := os.Getenv("FILESERVER_CHROMIUM")
	if chromium == "" {
		t.Skip("FILESERVER_CHROMIUM is not set; .ci/browser.sh runs this test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "fileserver")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// The demo, serving on a port of loopback the system picks.
	key := newToken()
	demo := exec.CommandContext(ctx, bin, "-serve", "127.0.0.1:0")
	demo.Env = append(os.Environ(), "VIEWER_KEY="+key)
	stdout, _ := demo.StdoutPipe()
	stderr, _ := demo.StderrPipe()
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	// Standard output stays the NDJSON audit log alone.
	stdoutDone := make(chan struct{})
	defer func() {
		demo.Process.Signal(os.Interrupt)
		<-stdoutDone // the demo has exited and its log is read
		if err := demo.Wait(); err != nil {
			t.Errorf("the demo, interrupted: %v", err)
		}
	}()
	go func() {
		defer close(stdoutDone)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if !json.Valid(sc.Bytes()) {
				t.Errorf("standard output holds a line that is not JSON: %q", sc.Text())
			}
		}
	}()
	base := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "log viewer: "); ok {
				base <- strings.TrimSuffix(u, "#key="+key)
			}
		}
	}()
	var viewer string
	select {
	case viewer = <-base:
	case <-ctx.Done():
		t.Fatal("the demo never printed the viewer's address")
	}
	t.Logf("viewer at %s", viewer)

	if shot := os.Getenv("FILESERVER_SCREENSHOT"); shot != "" {
		defer func() { browse(t, ctx, chromium, "--window-size=1400,900", "--screenshot="+shot, viewer+"#key="+key) }()
	}

	// In this order: the refused reader comes first, so that the later
	// pages show its audit event.
	for _, tc := range []struct {
		name, query string
		key         bool
		check       func(t *testing.T, p page)
	}{
		{"no key, no log", "", false, func(t *testing.T, p page) {
			if !strings.HasPrefix(p.state, "No access to the log (401)") || len(p.rows) != 0 {
				t.Errorf("state %q and %d rows, want no access and no row", p.state, len(p.rows))
			}
		}},
		{"everything, live", "", true, func(t *testing.T, p page) {
			p.newestFirst(t)
			for _, ev := range []string{"auth.login_failed", "auth.login", "file.upload", "file.list", "file.delete", "auth.denied", "http.request.end", "audit.log.denied"} {
				if p.count(func(r row) bool { return r.event == ev }) == 0 {
					t.Errorf("no %s row", ev)
				}
			}
			// The viewer's own read is logged after it subscribed: only the
			// live stream can have brought it, and it is the newest.
			if top := p.rows[0]; top.event != "audit.log.read" || top.user != "auditor" {
				t.Errorf("top row %+v, want the viewer's own audit.log.read by auditor", top)
			}
			if !strings.HasSuffix(p.state, "records, live") {
				t.Errorf("state %q, want live", p.state)
			}
		}},
		{"ada's records", "?user=ada", true, func(t *testing.T, p page) {
			p.newestFirst(t)
			if n := p.count(func(r row) bool { return r.user == "ada" }); n != len(p.rows) || n != 10 {
				t.Errorf("%d rows, %d of them ada's; want ada's 10", len(p.rows), n)
			}
			got := p.events()
			want := []string{"auth.login", "file.delete", "file.delete", "file.list", "file.upload",
				"http.request.end", "http.request.end", "http.request.end", "http.request.end", "http.request.end"}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("events %v, want %v", got, want)
			}
			if !p.has(`<input name="user" id="f-user" placeholder="name or id" size="12" value="ada">`) {
				t.Error("the form does not show the user filter")
			}
		}},
		{"failures, not live", "?status=4xx&live=0", true, func(t *testing.T, p page) {
			p.newestFirst(t)
			statuses := map[string]int{}
			for _, r := range p.rows {
				statuses[r.status]++
			}
			// The failed login, the missing file, the spoofed header, and
			// the reader without a key.
			if statuses["401"] != 3 || statuses["404"] != 1 || len(p.rows) != 4 {
				t.Errorf("statuses %v, want 401 three times and 404 once", statuses)
			}
			if !p.has(`<option value="4xx" selected="">`) || p.has(`id="f-live" value="1" checked=""`) {
				t.Error("the form does not show status 4xx and live off")
			}
			if p.state != "4 records" {
				t.Errorf("state %q, want 4 records, stream over", p.state)
			}
		}},
		{"file events", "?event=file.*", true, func(t *testing.T, p page) {
			p.newestFirst(t)
			if n := p.count(func(r row) bool { return strings.HasPrefix(r.event, "file.") }); n != len(p.rows) || n != 5 {
				t.Errorf("%d rows, %d of them file events; want 5", len(p.rows), n)
			}
			if p.rows[0].event != "file.list" || p.rows[0].user != "grace" {
				t.Errorf("newest file event %+v, want grace's listing through the proxy", p.rows[0])
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := viewer + tc.query
			if tc.key {
				u += "#key=" + key
			}
			dom := browse(t, ctx, chromium, "--dump-dom", u)
			tc.check(t, parse(t, dom))
		})
	}
}

// browse runs headless Chromium on url with a fresh profile and returns
// what it printed. The flags keep it off the network beyond loopback.
func browse(t *testing.T, ctx context.Context, chromium string, args ...string) string {
	t.Helper()
	start := time.Now()
	cmd := exec.CommandContext(ctx, chromium, append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(),
		// Virtual time runs the page's script until the stream has
		// delivered what there is.
		"--virtual-time-budget=3000",
	}, args...)...)
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	t.Logf("chromium %s: %v", args[len(args)-1], time.Since(start).Round(time.Millisecond))
	return string(out)
}

// page is what the viewer showed.
type page struct {
	dom   string
	state string
	rows  []row
}

type row struct{ time, event, user, status string }

var (
	rowRE   = regexp.MustCompile(`<tr class="record[^"]*" data-time="([^"]*)" data-event="([^"]*)" data-user="([^"]*)" data-status="([^"]*)">`)
	stateRE = regexp.MustCompile(`<p id="state"[^>]*>([^<]*)</p>`)
)

func parse(t *testing.T, dom string) page {
	t.Helper()
	p := page{dom: dom}
	m := stateRE.FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("no state line in the page:\n%s", dom)
	}
	p.state = html.UnescapeString(m[1])
	for _, m := range rowRE.FindAllStringSubmatch(dom, -1) {
		p.rows = append(p.rows, row{html.UnescapeString(m[1]), html.UnescapeString(m[2]), html.UnescapeString(m[3]), html.UnescapeString(m[4])})
	}
	t.Logf("%q, %d rows", p.state, len(p.rows))
	return p
}

func (p page) has(s string) bool { return strings.Contains(p.dom, s) }

func (p page) count(f func(row) bool) int {
	n := 0
	for _, r := range p.rows {
		if f(r) {
			n++
		}
	}
	return n
}

// events returns the rows' events, sorted.
func (p page) events() []string {
	var evs []string
	for _, r := range p.rows {
		evs = append(evs, r.event)
	}
	sort.Strings(evs)
	return evs
}

// newestFirst checks that every row is no newer than the one above it.
func (p page) newestFirst(t *testing.T) {
	t.Helper()
	if len(p.rows) == 0 {
		t.Fatal("no rows")
	}
	var prev time.Time
	for i, r := range p.rows {
		tm, err := time.Parse(time.RFC3339Nano, r.time)
		if err != nil {
			t.Fatalf("row %d: time %q: %v", i, r.time, err)
		}
		if i > 0 && tm.After(prev) {
			t.Errorf("row %d (%s) is newer than the row above it (%s): not newest first", i, r.time, prev.Format(time.RFC3339Nano))
		}
		prev = tm
	}
}
