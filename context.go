package audit

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// ctxKey is the one context key of this package. A single key means a single
// context lookup per record, however many things were bound.
type ctxKey struct{}

// binding is the audit state carried by a context. It is immutable once
// stored: With and WithIdentity copy it, so contexts derived from one parent
// never see each other's attributes.
type binding struct {
	attrs    []slog.Attr // in binding order; a key appears once
	event    string      // from an Event bound with With
	identity Identity
	hasID    bool
	idValue  slog.Value // identity.LogValue(), computed once at bind time

	// req is shared by every context of one request served by Middleware
	// (nil elsewhere): With and WithIdentity record there what they bind,
	// so that the request's end event sees what was bound inside the
	// handler chain. clone carries the pointer.
	req *request

	// redacted caches the identity and attributes as redacted by the last
	// Handler configuration that wrote this binding: a binding never
	// changes, and the records of a request share it.
	redacted atomic.Pointer[redactedBinding]
}

type redactedBinding struct {
	c     *config
	id    slog.Attr // the zero Attr when there is no identity to write
	attrs []slog.Attr
}

func bindingFrom(ctx context.Context) *binding {
	if ctx == nil {
		return nil
	}
	b, _ := ctx.Value(ctxKey{}).(*binding)
	return b
}

// clone returns a copy of b to be changed and stored under a new context.
func (b *binding) clone() *binding {
	if b == nil {
		return &binding{}
	}
	return &binding{attrs: b.attrs, event: b.event, identity: b.identity, hasID: b.hasID, idValue: b.idValue, req: b.req}
}

// With returns a copy of ctx carrying the given attributes. Every record
// logged with the returned context (or one derived from it) through a
// [Handler] gets them at the top level, whatever groups the logger opened.
//
// The arguments are treated as by [slog.Logger.With]: alternating keys and
// values, or [slog.Attr] values; a value without a key is written under
// "!BADKEY". An [Event] among them names the event of every record logged
// with ctx, unless the logger or the record names one.
//
// Binding a key that ctx already carries replaces the earlier value, in its
// earlier position. Inside a request served by [Middleware], the attributes
// also reach the request's end event. A nil ctx is treated as
// [context.Background].
func With(ctx context.Context, args ...any) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	if len(args) == 0 {
		return ctx
	}
	b := bindingFrom(ctx).clone()
	attrs := make([]slog.Attr, len(b.attrs), len(b.attrs)+len(args))
	copy(attrs, b.attrs)
	var added []slog.Attr // for the request's end event, inside Middleware
	for len(args) > 0 {
		var a slog.Attr
		a, args = argsToAttr(args)
		if name, ok := eventOf(a); ok {
			b.event = name
			continue
		}
		attrs = setAttr(attrs, a)
		if b.req != nil {
			added = append(added, a)
		}
	}
	b.attrs = attrs
	if len(added) > 0 {
		b.req.bindAttrs(added)
	}
	return context.WithValue(ctx, ctxKey{}, b)
}

// WithIdentity returns a copy of ctx carrying id as the actor of every record
// logged with it. A [Handler] writes it as the group "user" (see
// [Fields].User) holding the non-empty fields of id. A nil ctx is
// treated as [context.Background].
//
// WithIdentity keeps its own copy of id, Roles included: changing the
// caller's slice afterwards changes no record.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	id = id.clone()
	b := bindingFrom(ctx).clone()
	b.identity = id
	b.hasID = true
	b.idValue = id.LogValue()
	if b.req != nil {
		b.req.bindIdentity(b.identity, b.idValue)
	}
	return context.WithValue(ctx, ctxKey{}, b)
}

// IdentityFrom returns a copy of the identity bound to ctx by
// [WithIdentity] or [Middleware], and whether there was one. The copy has
// its own Roles: changing it changes no record.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	b := bindingFrom(ctx)
	if b == nil || !b.hasID {
		return Identity{}, false
	}
	return b.identity.clone(), true
}

// setAttr replaces the attr with a's key in place, or appends a.
func setAttr(attrs []slog.Attr, a slog.Attr) []slog.Attr {
	for i := range attrs {
		if attrs[i].Key == a.Key {
			attrs[i] = a
			return attrs
		}
	}
	return append(attrs, a)
}

const badKey = "!BADKEY"

// argsToAttr turns a prefix of args into an Attr the way slog.Logger does and
// returns the unconsumed rest.
func argsToAttr(args []any) (slog.Attr, []any) {
	switch x := args[0].(type) {
	case string:
		if len(args) == 1 {
			return slog.String(badKey, x), nil
		}
		return slog.Any(x, args[1]), args[2:]
	case slog.Attr:
		return x, args[1:]
	default:
		return slog.Any(badKey, x), args[1:]
	}
}
