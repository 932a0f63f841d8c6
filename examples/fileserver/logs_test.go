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

func TestServeLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", ":8080", "192.0.2.1:8080", "example.org:80", "nonsense"} {
		t.Run(addr, func(t *testing.T) {
			if err := serveFor(context.Background(), io.Discard, addr, "k"); err == nil {
				t.Errorf("-serve %s was accepted, want loopback only", addr)
			}
		})
	}
}
