package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// demoLog runs the demo in-process and returns its audit log, one decoded
// record per line, and the raw text.
func demoLog(t *testing.T) ([]map[string]any, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := run(&buf); err != nil {
		t.Fatalf("run: %v", err)
	}
	raw := buf.String()
	var recs []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(raw, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, line)
		}
		recs = append(recs, m)
	}
	return recs, raw
}

func userName(rec map[string]any) string {
	u, _ := rec["user"].(map[string]any)
	name, _ := u["name"].(string)
	return name
}

func TestDemo(t *testing.T) {
	recs, raw := demoLog(t)

	t.Run("no secret is written", func(t *testing.T) {
		for _, secret := range []string{"correct horse battery staple", "hunter2", "tulip-harbor-42"} {
			if strings.Contains(raw, secret) {
				t.Errorf("the log holds the password %q", secret)
			}
		}
		for _, rec := range recs {
			if rec["event"] == "file.upload" {
				form, _ := rec["form"].(map[string]any)
				if form["password"] != "[REDACTED]" || form["description"] == nil {
					t.Errorf("upload form = %v, want the description and the password redacted", rec["form"])
				}
			}
		}
	})

	t.Run("the spoofed identity is never the actor", func(t *testing.T) {
		if strings.Contains(raw, "root") || strings.Contains(raw, "10.0.0.1") {
			t.Error("the log holds what the spoofing client claimed")
		}
		var denied []map[string]any
		for _, rec := range recs {
			if rec["url.path"] == "/files/q3-report.csv" && rec["http.request.method"] == "DELETE" && userName(rec) != "ada" {
				denied = append(denied, rec)
			}
		}
		if len(denied) != 2 {
			t.Fatalf("got %d records of the spoofed request, want auth.denied and its end: %v", len(denied), denied)
		}
		for _, rec := range denied {
			if rec["user"] != nil || rec["client.address"] != "127.0.0.1" {
				t.Errorf("spoofed request: user = %v, client.address = %v; want no user, the peer's address", rec["user"], rec["client.address"])
			}
		}
		if denied[0]["event"] != "auth.denied" || denied[1]["http.response.status_code"] != 401.0 {
			t.Errorf("spoofed request: got %v then %v, want auth.denied then a 401", denied[0]["event"], denied[1]["http.response.status_code"])
		}
	})

	t.Run("the failed deletion has its status and error", func(t *testing.T) {
		var failed, end map[string]any
		for _, rec := range recs {
			if rec["url.path"] == "/files/q2-report.csv" {
				switch rec["event"] {
				case "file.delete":
					failed = rec
				case "http.request.end":
					end = rec
				}
			}
		}
		if end == nil || end["http.response.status_code"] != 404.0 || end["request_end"] != true {
			t.Errorf("end of the failed deletion = %v, want status 404 and request_end", end)
		}
		errField, _ := failed["error"].(map[string]any)
		if failed == nil || failed["level"] != "WARN" || errField["type"] != "*fs.PathError" {
			t.Errorf("failed deletion = %v, want a WARN with the error's type", failed)
		}
	})

	t.Run("a user's events are found by name", func(t *testing.T) {
		byUser := map[string]map[string]bool{}
		for _, rec := range recs {
			name := userName(rec)
			if byUser[name] == nil {
				byUser[name] = map[string]bool{}
			}
			byUser[name][rec["event"].(string)] = true
		}
		for _, ev := range []string{"auth.login", "file.upload", "file.list", "file.delete", "http.request.end"} {
			if !byUser["ada"][ev] {
				t.Errorf("no %s event of ada; ada's events: %v", ev, byUser["ada"])
			}
		}
		if !byUser["grace"]["file.list"] {
			t.Errorf("no file.list of grace through the SSO proxy; grace's events: %v", byUser["grace"])
		}
		if byUser[""]["auth.login"] {
			t.Error("a successful login without a user")
		}
	})

	t.Run("one end event per request, sharing its id", func(t *testing.T) {
		ids := map[string]int{} // request id -> end events
		for _, rec := range recs {
			id, _ := rec["request_id"].(string)
			if id == "" {
				t.Errorf("record without request_id: %v", rec)
			}
			if _, seen := ids[id]; !seen {
				ids[id] = 0
			}
			if rec["event"] == "http.request.end" {
				ids[id]++
			}
		}
		if len(ids) != 8 {
			t.Errorf("got %d request ids, want one for each of the 8 requests", len(ids))
		}
		for id, n := range ids {
			if n != 1 {
				t.Errorf("request %s has %d end events, want 1", id, n)
			}
		}
		if ids["sso-5f2c9e"] != 1 {
			t.Error("the SSO proxy's request id was not kept")
		}
	})
}
