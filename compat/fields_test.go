package compat

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/slogaudit/audit"
)

// TestAuditFields checks that the audit fields and redaction come out
// through each sink: the event and its id, the identity group user and a
// context-bound attribute at the top level, even under WithGroup, and a
// password as the marker, never in clear; a caller's attribute named like
// an audit field is kept under "fields." and never taken for it.
func TestAuditFields(t *testing.T) {
	ctx := audit.WithIdentity(context.Background(), audit.Identity{ID: "42", Name: "ada", Kind: "user"})
	ctx = audit.With(ctx, "request_id", "req-7")
	eventID := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, s := range sinks {
		t.Run(s.name, func(t *testing.T) {
			var out capture
			root := slog.New(audit.NewHandler(s.new(&out, true), nil))
			for _, l := range []struct {
				name string
				l    *slog.Logger
			}{{"top level", root}, {"under WithGroup", root.WithGroup("g").With("a", 1)}} {
				l.l.InfoContext(ctx, "File uploaded", audit.Event("file.upload"), "filename", "a.txt", "password", "hunter2", "user", "mallory")
				got := out.take()
				var problems []string
				if strings.Contains(got, "hunter2") {
					problems = append(problems, "the password is written in clear")
				}
				if !strings.Contains(got, audit.Redacted) {
					problems = append(problems, "no "+audit.Redacted)
				}
				recs := lines(got)
				if len(recs) == 0 {
					problems = append(problems, "no record")
				} else if m, err := s.parseLine(recs[0]); err != nil || m == nil {
					problems = append(problems, fmt.Sprintf("cannot read the record: %v", err))
				} else {
					if v := field(m, "event"); v != "file.upload" {
						problems = append(problems, fmt.Sprintf("event %#v, want \"file.upload\" at the top level", v))
					}
					if v, _ := field(m, "event_id").(string); !eventID.MatchString(v) {
						problems = append(problems, fmt.Sprintf("event_id %#v, want 32 hex digits", field(m, "event_id")))
					}
					if v := fmt.Sprint(field(m, "user", "id")); v != "42" {
						problems = append(problems, fmt.Sprintf("user.id %s, want 42", v))
					}
					if v := field(m, "user", "name"); v != "ada" {
						problems = append(problems, fmt.Sprintf("user.name %#v, want ada", v))
					}
					moved := field(m, "fields.user")
					if moved == nil {
						moved = field(m, "fields", "user") // sinks that expand dots
					}
					if l.name == "top level" && moved != "mallory" {
						problems = append(problems, fmt.Sprintf("the caller's user %#v, want mallory under fields.user", moved))
					}
					if v := field(m, "request_id"); v != "req-7" {
						problems = append(problems, fmt.Sprintf("request_id %#v, want req-7", v))
					}
				}
				msg := fmt.Sprintf("%s: %s\n  got %q", l.name, strings.Join(problems, "; "), got)
				check(t, "fields", s.name, l.name, len(problems) == 0, msg)
			}
		})
	}
}

// field returns the value at path in m, nested or under the dotted key
// that flat sinks (zerolog, sentry) write.
func field(m map[string]any, path ...string) any {
	if v, ok := m[strings.Join(path, ".")]; ok {
		return v
	}
	var v any = m
	for _, k := range path {
		sub, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = sub[k]
	}
	return v
}
