package audit

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scenarioRecords sends one request through Middleware and a Handler
// configured with f (and eventKey as Options.EventKey, if set), whose
// application logs one event and answers 404, and returns the decoded
// records by event name: the start event, the application's event and the
// end event.
func scenarioRecords(t *testing.T, f Fields, eventKey string) map[string]map[string]any {
	t.Helper()
	var buf bytes.Buffer
	logger := slog.New(NewHandler(slog.NewJSONHandler(&buf, nil), &Options{Fields: f, EventKey: eventKey}))
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "File delete failed", Event("file.delete"), "filename", "a.txt")
		http.Error(w, "not found", http.StatusNotFound)
	})
	h := Middleware(app, &HTTPOptions{
		TrustedProxies: Loopback(),
		Logger:         logger,
		LogStart:       true,
		Fields:         f,
		Authenticated: func(*http.Request) (Identity, bool) {
			return Identity{ID: "42", Name: "ada"}, true
		},
	})
	r := httptest.NewRequest("DELETE", "/files/a.txt", nil)
	r.RemoteAddr = "127.0.0.1:40112"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	r.Header.Set("X-Request-Id", "req-7")
	r.Header.Set("User-Agent", "curl/8.5.0")
	h.ServeHTTP(httptest.NewRecorder(), r)

	evKey := or(eventKey, f.resolved().Event)
	recs := map[string]map[string]any{}
	dec := json.NewDecoder(&buf)
	dec.UseNumber() // to tell an integer duration from a fraction
	for {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("bad JSON line: %v", err)
		}
		ev, _ := m[evKey].(string)
		if ev == "" {
			t.Fatalf("record without an event under %q: %v", evKey, m)
		}
		recs[ev] = m
	}
	if len(recs) != 3 {
		t.Fatalf("got events %v, want 3", recs)
	}
	return recs
}

func scenarioKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestFieldPresets checks, end to end through Handler and Middleware, the
// keys each preset puts in a start event, an application event and an end
// event, the unit of the duration, and that a preset changed field by field
// keeps its other names.
func TestFieldPresets(t *testing.T) {
	common := func(event, eventID, requestID, client string) []string {
		return []string{"time", "level", "msg", event, eventID, "user", requestID,
			"http.request.method", "url.path", client, "user_agent.original"}
	}
	end := func(status, duration, size, last string, more ...string) []string {
		return append([]string{status, duration, size, last}, more...)
	}
	ecsRequestID := ECSFields()
	ecsRequestID.RequestID = "transaction.id"

	tests := []struct {
		name      string
		fields    Fields
		eventKey  string   // Options.EventKey
		common    []string // keys in all three records
		endKeys   []string // more keys in the end event
		duration  string
		unit      string // "ms", "s" or "ns"
		outcome   string // key of the outcome, if written
		requestID string
	}{
		{
			name:     "zero Fields means DefaultFields",
			fields:   Fields{},
			common:   common("event", "event_id", "request_id", "client.address"),
			endKeys:  end("http.response.status_code", "duration_ms", "http.response.body.size", "request_end"),
			duration: "duration_ms", unit: "ms", requestID: "request_id",
		},
		{
			name:     "DefaultFields",
			fields:   DefaultFields(),
			common:   common("event", "event_id", "request_id", "client.address"),
			endKeys:  end("http.response.status_code", "duration_ms", "http.response.body.size", "request_end"),
			duration: "duration_ms", unit: "ms", requestID: "request_id",
		},
		{
			name:     "OTelFields",
			fields:   OTelFields(),
			common:   common("event.name", "log.record.uid", "request_id", "client.address"),
			endKeys:  end("http.response.status_code", "http.server.request.duration", "http.response.body.size", "request_end"),
			duration: "http.server.request.duration", unit: "s", requestID: "request_id",
		},
		{
			name:     "ECSFields",
			fields:   ECSFields(),
			common:   common("event.action", "event.id", "http.request.id", "source.ip"),
			endKeys:  end("http.response.status_code", "event.duration", "http.response.body.bytes", "request_end", "event.outcome"),
			duration: "event.duration", unit: "ns", outcome: "event.outcome", requestID: "http.request.id",
		},
		{
			name:     "ECSFields with the request id overridden",
			fields:   ecsRequestID,
			common:   common("event.action", "event.id", "transaction.id", "source.ip"),
			endKeys:  end("http.response.status_code", "event.duration", "http.response.body.bytes", "request_end", "event.outcome"),
			duration: "event.duration", unit: "ns", outcome: "event.outcome", requestID: "transaction.id",
		},
		{
			name:     "some fields set, the rest default",
			fields:   Fields{Event: "ev", ClientAddress: "ip_address", Outcome: "outcome"},
			common:   common("ev", "event_id", "request_id", "ip_address"),
			endKeys:  end("http.response.status_code", "duration_ms", "http.response.body.size", "request_end", "outcome"),
			duration: "duration_ms", unit: "ms", outcome: "outcome", requestID: "request_id",
		},
		{
			name:     "Options.EventKey wins over the preset",
			fields:   OTelFields(),
			eventKey: "action",
			common:   common("action", "log.record.uid", "request_id", "client.address"),
			endKeys:  end("http.response.status_code", "http.server.request.duration", "http.response.body.size", "request_end"),
			duration: "http.server.request.duration", unit: "s", requestID: "request_id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := scenarioRecords(t, tt.fields, tt.eventKey)
			want := map[string][]string{
				RequestStartEvent: tt.common,
				"file.delete":     append(append([]string{}, tt.common...), "filename"),
				RequestEndEvent:   append(append([]string{}, tt.common...), tt.endKeys...),
			}
			for ev, keys := range want {
				sort.Strings(keys)
				rec, ok := recs[ev]
				if !ok {
					t.Errorf("no %s event", ev)
					continue
				}
				if diff := cmp.Diff(keys, scenarioKeys(rec)); diff != "" {
					t.Errorf("%s: keys (-want +got):\n%s", ev, diff)
				}
				if got := rec[tt.requestID]; got != "req-7" {
					t.Errorf("%s: %s = %v, want req-7", ev, tt.requestID, got)
				}
				if got, _ := rec["user"].(map[string]any); got["name"] != "ada" {
					t.Errorf("%s: user = %v, want ada", ev, rec["user"])
				}
			}

			endRec := recs[RequestEndEvent]
			d, ok := endRec[tt.duration].(json.Number)
			if !ok {
				t.Fatalf("end: %s = %v, want a number", tt.duration, endRec[tt.duration])
			}
			f, err := d.Float64()
			integer := !strings.ContainsAny(d.String(), ".eE")
			switch {
			case err != nil || f < 0:
				t.Errorf("end: %s = %v, want a duration", tt.duration, d)
			case tt.unit == "ns" && !integer:
				t.Errorf("end: %s = %v, want an integer of nanoseconds", tt.duration, d)
			case tt.unit == "s" && f >= 10:
				t.Errorf("end: %s = %v, want seconds", tt.duration, d)
			}
			if tt.outcome != "" && endRec[tt.outcome] != "failure" {
				t.Errorf("end: %s = %v, want failure for a 404", tt.outcome, endRec[tt.outcome])
			}
			if got := endRec["http.response.status_code"]; got != json.Number("404") {
				t.Errorf("end: status = %v, want 404", got)
			}
		})
	}
}
