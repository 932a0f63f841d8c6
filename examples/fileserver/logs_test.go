package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startDemo runs the demo's service and script in-process, with the viewer
// key "k", and returns it serving.
func startDemo(t *testing.T) *demo {
	t.Helper()
	d, err := start(io.Discard, "127.0.0.1:0", "k")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.stop() })
	if err := script(d.public.url, d.sso.url); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLogRoutes(t *testing.T) {
	d := startDemo(t)
	for _, tc := range []struct {
		name, path, key string
		code            int
		ctype           string
		body            []string // substrings of the answer
	}{
		{"the log without a key", "/_logs?follow=0&history=10", "", 401, "text/plain", nil},
		{"the log with a wrong key", "/_logs?follow=0&history=10", "nope", 401, "text/plain", nil},
		{"the log", "/_logs?follow=0&history=100&user=ada&event=file.upload", "k", 200, "application/x-ndjson", []string{`"filename":"q3-report.csv"`, `"password":"[REDACTED]"`}},
		{"a bad filter", "/_logs?status=teapot", "k", 400, "text/plain", []string{"tail: status"}},
		{"the viewer", "/_viewer", "", 200, "text/html", []string{`<table id="log">`, `src="/_viewer/viewer.js"`}},
		{"the viewer, slash", "/_viewer/", "", 200, "text/html", []string{`<table id="log">`}},
		{"its script", "/_viewer/viewer.js", "", 200, "text/javascript", []string{"textContent"}},
		{"its style", "/_viewer/viewer.css", "", 200, "text/css", nil},
		{"nothing else", "/_viewer/main.go", "", 404, "text/plain", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", d.public.url+tc.path, nil)
			if tc.key != "" {
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) {
				t.Errorf("GET %s: %d %s, want %d %s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.code, tc.ctype)
			}
			for _, s := range tc.body {
				if !strings.Contains(string(b), s) {
					t.Errorf("GET %s: body lacks %q:\n%s", tc.path, s, b)
				}
			}
			if strings.HasPrefix(tc.path, "/_viewer") && tc.code == 200 && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
				t.Errorf("GET %s: no Content-Security-Policy", tc.path)
			}
		})
	}
}

// TestLogAccessAudited follows the log and checks that a refused and a
// granted reader each leave their audit event in it, live.
func TestLogAccessAudited(t *testing.T) {
	d := startDemo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", d.public.url+"/_logs?event=audit.log.*", nil)
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if r, err := http.Get(d.public.url + "/_logs?user=ada"); err == nil {
		r.Body.Close()
	}
	sc := bufio.NewScanner(resp.Body)
	var got []string
	for len(got) < 2 && sc.Scan() {
		var rec struct {
			Event  string `json:"event"`
			User   struct{ Name string }
			Reason string
			Filter map[string]string
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s by %q %v %s", rec.Event, rec.User.Name, rec.Filter, rec.Reason))
	}
	want := []string{
		`audit.log.read by "auditor" map[event:audit.log.*] `,
		`audit.log.denied by "" map[user:ada] fileserver: no valid viewer key`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestServe(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"0.0.0.0:8080", false},
		{":8080", false},
		{"192.0.2.1:8080", false},
		{"example.org:80", false},
		{"nonsense", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			// Done already: the script runs, then serving stops at once.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var log strings.Builder
			err := serveFor(ctx, &log, tc.addr, "k")
			if (err == nil) != tc.ok {
				t.Fatalf("-serve %s: error %v, want accepted = %v (loopback only)", tc.addr, err, tc.ok)
			}
			if tc.ok && strings.Count(log.String(), `"event":"http.request.end"`) != 8 {
				t.Errorf("-serve %s: the script's 8 requests are not in the log:\n%s", tc.addr, log.String())
			}
		})
	}
}

// The demo's log, read back through /_logs with the viewer key: the file
// events, oldest first. Its time and ids change from run to run.
func Example_logs() {
	d, err := start(io.Discard, "127.0.0.1:0", "k")
	if err != nil {
		panic(err)
	}
	defer d.stop()
	if err := script(d.public.url, d.sso.url); err != nil {
		panic(err)
	}

	req, _ := http.NewRequest("GET", d.public.url+"/_logs?event=file.*&history=100&follow=false", nil)
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var rec struct {
			Event, Msg, Filename string
			User                 struct{ Name string }
		}
		json.Unmarshal(sc.Bytes(), &rec)
		fmt.Println(strings.TrimSpace(fmt.Sprintln(rec.Event, rec.User.Name, rec.Msg, rec.Filename)))
	}
	// Output:
	// file.upload ada File uploaded q3-report.csv
	// file.list ada Files listed
	// file.delete ada File deleted q3-report.csv
	// file.delete ada File delete failed q2-report.csv
	// file.list grace Files listed
}
