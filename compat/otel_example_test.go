package compat

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	otelattr "go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/slogaudit/audit"
)

// eventName is an OpenTelemetry log processor that makes the otel.event.name
// attribute, which audit.OTelFields writes, the record's EventName, as
// OpenTelemetry's log bridges for other languages do. Put it before the
// exporting processor.
type eventName struct{ next sdklog.Processor }

func (p eventName) OnEmit(ctx context.Context, r *sdklog.Record) error {
	var kept []otelattr.KeyValue
	r.WalkAttributes(func(kv otelattr.KeyValue) bool {
		if kv.Key == "otel.event.name" && kv.Value.Type() == otelattr.STRING {
			r.SetEventName(kv.Value.AsString())
		} else {
			kept = append(kept, kv)
		}
		return true
	})
	r.SetAttributes(kept...)
	return p.next.OnEmit(ctx, r)
}

func (p eventName) Enabled(ctx context.Context, ep sdklog.EnabledParameters) bool {
	return p.next.Enabled(ctx, ep)
}
func (p eventName) Shutdown(ctx context.Context) error   { return p.next.Shutdown(ctx) }
func (p eventName) ForceFlush(ctx context.Context) error { return p.next.ForceFlush(ctx) }

// printer prints the event name and attributes of each record it gets.
type printer struct{}

func (printer) OnEmit(_ context.Context, r *sdklog.Record) error {
	fmt.Printf("EventName=%q", r.EventName())
	r.WalkAttributes(func(kv otelattr.KeyValue) bool {
		if kv.Key != "log.record.uid" { // random
			fmt.Printf(" %s=%s", kv.Key, kv.Value.Emit())
		}
		return true
	})
	fmt.Println()
	return nil
}
func (printer) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (printer) Shutdown(context.Context) error                         { return nil }
func (printer) ForceFlush(context.Context) error                       { return nil }

// An audit event reaches OpenTelemetry as an event: with OTelFields the
// Handler names it otel.event.name, and a processor makes that the record's
// EventName.
func Example_openTelemetryEventName() {
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(eventName{printer{}}))
	logger := slog.New(audit.NewHandler(otelslog.NewHandler("files", otelslog.WithLoggerProvider(lp)),
		&audit.Options{Fields: audit.OTelFields()}))

	ctx := audit.WithIdentity(context.Background(), audit.Identity{ID: "42", Name: "ada"})
	logger.InfoContext(ctx, "File uploaded", audit.Event("file.upload"), "filename", "a.txt")
	// Output:
	// EventName="file.upload" user={"id":"42","name":"ada"} filename=a.txt
}
