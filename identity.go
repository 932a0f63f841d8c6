package audit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slogaudit/audit/internal/reqbody"
)

// Identity is the actor of an audited action: a person, a service, a
// command-line run or a scheduled job. Bind it to a context with
// [WithIdentity]; a [Handler] writes it as a group of its non-empty fields.
//
// The zero Identity is valid and writes nothing.
type Identity struct {
	ID    string   `json:"id,omitempty"`    // stable identifier (database id, subject claim)
	Name  string   `json:"name,omitempty"`  // login or display name
	Email string   `json:"email,omitempty"` // e-mail address
	Kind  string   `json:"kind,omitempty"`  // actor kind: "user", "web", "service", "cli", "cron", ...
	Roles []string `json:"roles,omitempty"` // roles or groups the actor acted with

	// OnBehalfOf is the actor this one acted for: the user an
	// administrator impersonates, or the user a service acts for
	// (Kubernetes' impersonatedUser). Written as the group "on_behalf_of"
	// inside the identity, in every preset. Nil means the actor acted for
	// itself.
	OnBehalfOf *Identity `json:"on_behalf_of,omitempty"`
}

// OnBehalfOfKey is the key, inside the identity group, of the actor an
// identity acted for; see [Identity].OnBehalfOf. The value is a group.
const OnBehalfOfKey = "on_behalf_of"

// maxOnBehalfOf bounds a chain of OnBehalfOf identities, which a careless
// (or cyclic) construction could make endless.
const maxOnBehalfOf = 4

// LogValue implements [slog.LogValuer]. It returns a group of the non-empty
// fields under the keys "id", "name", "email", "kind" and "roles", so an
// Identity logged directly reads the same as one bound with [WithIdentity].
func (id Identity) LogValue() slog.Value { return id.logValue(0) }

func (id Identity) logValue(depth int) slog.Value {
	attrs := make([]slog.Attr, 0, 6)
	if id.ID != "" {
		attrs = append(attrs, slog.String("id", id.ID))
	}
	if id.Name != "" {
		attrs = append(attrs, slog.String("name", id.Name))
	}
	if id.Email != "" {
		attrs = append(attrs, slog.String("email", id.Email))
	}
	if id.Kind != "" {
		attrs = append(attrs, slog.String("kind", id.Kind))
	}
	if len(id.Roles) > 0 {
		attrs = append(attrs, slog.Any("roles", slices.Clone(id.Roles)))
	}
	if id.OnBehalfOf != nil && depth < maxOnBehalfOf {
		if v := id.OnBehalfOf.logValue(depth + 1); len(v.Group()) > 0 {
			attrs = append(attrs, slog.Attr{Key: OnBehalfOfKey, Value: v})
		}
	}
	return slog.GroupValue(attrs...)
}

// IsZero reports whether id has no field set.
func (id Identity) IsZero() bool {
	return id.ID == "" && id.Name == "" && id.Email == "" && id.Kind == "" && len(id.Roles) == 0 && id.OnBehalfOf == nil
}

// Actor kinds for [Identity.Kind]. Any other string is allowed too.
const (
	// KindWeb is a person acting through a web request.
	KindWeb = "web"
	// KindCLI is a person running a command; see [CLIIdentity].
	KindCLI = "cli"
	// KindCron is a scheduled job; see [JobIdentity].
	KindCron = "cron"
	// KindService is a program acting on its own behalf, such as another
	// service calling an API with its own credentials.
	KindService = "service"
)

// CLIIdentity returns the identity of the operating-system user running the
// current process, of kind [KindCLI], so that records written by scripts
// and command-line tools say who ran them. The ID is the user id and the
// Name the login name. When the user database cannot be read (a container
// running under an id with no passwd entry, for instance), the name comes
// from $USER, $LOGNAME or $USERNAME, in that order. It never fails: at worst
// the identity has only its kind.
func CLIIdentity() Identity {
	id := Identity{Kind: KindCLI}
	if u, err := user.Current(); err == nil && u != nil {
		id.ID, id.Name = u.Uid, u.Username
	}
	if id.ID == "" {
		if uid := os.Getuid(); uid >= 0 { // -1 on Windows
			id.ID = strconv.Itoa(uid)
		}
	}
	for _, env := range [...]string{"USER", "LOGNAME", "USERNAME"} {
		if id.Name != "" {
			break
		}
		id.Name = os.Getenv(env)
	}
	return id
}

// JobIdentity returns the identity of the scheduled job called name, of
// kind [KindCron], so that records written by background work say which job
// acted.
func JobIdentity(name string) Identity {
	return Identity{Name: name, Kind: KindCron}
}

// Proxies is a set of networks whose requests are believed when they say,
// in headers, who the client is: the X-Forwarded-For entries, request ids
// and identity headers they set. A nil Proxies trusts nobody, which is the
// safe default: any client can send any header.
//
// Name only proxies that overwrite these headers (or append to
// X-Forwarded-For) on every request they pass on; a proxy that forwards a
// client's headers unchanged makes them forgeable by that client.
type Proxies []netip.Prefix

// Loopback returns the loopback networks, 127.0.0.0/8 and ::1/128: the
// one-line setting for a proxy such as oauth2-proxy running on the same
// host as the application.
func Loopback() Proxies {
	return Proxies{
		netip.PrefixFrom(netip.AddrFrom4([4]byte{127, 0, 0, 0}), 8),
		netip.PrefixFrom(netip.IPv6Loopback(), 128),
	}
}

// ParseProxies parses networks in CIDR notation ("10.0.0.0/8",
// "fd00::/8") or single addresses ("192.0.2.10", "::1"), and returns them
// as Proxies. It returns an error naming the first one that is neither.
func ParseProxies(s ...string) (Proxies, error) {
	p := make(Proxies, 0, len(s))
	for _, v := range s {
		v = strings.TrimSpace(v)
		var pre netip.Prefix
		var err error
		if strings.Contains(v, "/") {
			pre, err = netip.ParsePrefix(v)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(v); err == nil && a.Zone() == "" {
				pre = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil || !pre.IsValid() {
			return nil, fmt.Errorf("audit: invalid proxy address %q", v)
		}
		p = append(p, unmapPrefix(pre.Masked()))
	}
	return p, nil
}

// unmapPrefix turns ::ffff:a.b.c.d/n (n >= 96) into a.b.c.d/(n-96), since
// addresses are unmapped before they are looked up.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// Contains reports whether a is in one of the networks of p. IPv4 addresses
// written as IPv6 (::ffff:a.b.c.d) count as IPv4, and zones are ignored.
func (p Proxies) Contains(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop parses one network address as found in RemoteAddr or in an
// X-Forwarded-For entry: an IP, with or without a port, IPv6 with or
// without brackets. The result is unmapped. It picks the parser by the
// shape of s, because a failed parse allocates its error, and RemoteAddr
// always has a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.Trim(s, " \t")
	if s == "" {
		return netip.Addr{}, false
	}
	var a netip.Addr
	var err error
	switch colons := strings.Count(s, ":"); {
	case s[0] == '[' && s[len(s)-1] == ']': // [v6] without a port
		a, err = netip.ParseAddr(s[1 : len(s)-1])
		if err == nil && !a.Is6() {
			return netip.Addr{}, false
		}
	case s[0] == '[' || colons == 1: // [v6]:port, v4:port
		var ap netip.AddrPort
		ap, err = netip.ParseAddrPort(s)
		a = ap.Addr()
	default: // v4, v6
		a, err = netip.ParseAddr(s)
	}
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// peer is the parsed RemoteAddr of a request.
type peer struct {
	addr    netip.Addr
	ok      bool // addr parsed
	trusted bool
}

func peerOf(r *http.Request, trusted Proxies) peer {
	a, ok := parseHop(r.RemoteAddr)
	return peer{addr: a, ok: ok, trusted: ok && trusted.Contains(a)}
}

// ClientAddr returns the address of the client that sent r: the peer
// address of the connection (r.RemoteAddr without its port) or, when the
// peer is one of trusted, the right-most X-Forwarded-For entry that is not
// a trusted proxy. Every entry to the right of the one returned was
// appended by a trusted proxy, so a client cannot choose the result by
// sending its own X-Forwarded-For: what it sends ends up to the left. Its
// left-most entry, in particular, is never used unless every entry to its
// right is trusted.
//
// The walk stops at an entry that is not an IP address (with or without a
// port, IPv6 with or without brackets), and returns the last trusted hop
// before it. If every entry is trusted, the result is the left-most one.
// Several X-Forwarded-For header lines count as one list, in order.
//
// Addresses are written in their canonical form, IPv4-mapped IPv6
// addresses (::ffff:192.0.2.1) as IPv4. A RemoteAddr that is not an IP address (a Unix socket,
// say) is returned without its port, if it has one. With a nil trusted,
// ClientAddr never reads a header.
func ClientAddr(r *http.Request, trusted Proxies) string {
	if r == nil {
		return ""
	}
	return clientAddr(r, peerOf(r, trusted), trusted)
}

func clientAddr(r *http.Request, p peer, trusted Proxies) string {
	if !p.ok {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			return host
		}
		return r.RemoteAddr
	}
	if !p.trusted {
		return p.addr.String()
	}
	client := p.addr
	lines := r.Header["X-Forwarded-For"]
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for {
			entry := rest
			j := strings.LastIndexByte(rest, ',')
			if j >= 0 {
				entry, rest = rest[j+1:], rest[:j]
			}
			a, ok := parseHop(entry)
			if !ok {
				return client.String()
			}
			client = a
			if !trusted.Contains(a) {
				return client.String()
			}
			if j < 0 {
				break
			}
		}
	}
	return client.String()
}

// IsOpaque reports whether name looks like a generated identifier rather
// than something a person would recognise: a UUID in any of its usual forms
// (with or without dashes, braces or a "urn:uuid:" prefix, in either case),
// which includes the 32 hex digits of the random users a notebook server
// makes up for token-authenticated requests.
func IsOpaque(name string) bool {
	s := name
	if len(s) > 9 && strings.EqualFold(s[:9], "urn:uuid:") {
		s = s[9:]
	} else if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	switch len(s) {
	case 32:
		return isHex(s)
	case 36:
		for _, i := range [...]int{8, 13, 18, 23} {
			if s[i] != '-' {
				return false
			}
		}
		return isHex(s[:8]) && isHex(s[9:13]) && isHex(s[14:18]) && isHex(s[19:23]) && isHex(s[24:])
	}
	return false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; !('0' <= s[i] && s[i] <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Defaults of [HTTPOptions].
const (
	defaultUserHeader      = "X-Auth-Request-User"
	defaultEmailHeader     = "X-Auth-Request-Email"
	defaultRequestIDHeader = "X-Request-Id"
)

// Keys of the attributes [Middleware] binds to each request's context and
// writes in its events. The names are those of OpenTelemetry's semantic
// conventions where one exists.
const (
	// RequestIDKey is the key of the request id. The value is a string.
	RequestIDKey = "request_id"
	// MethodKey is the key of the request method. The value is a string.
	MethodKey = "http.request.method"
	// PathKey is the key of the request's URL path. The value is a string.
	PathKey = "url.path"
	// ClientAddrKey is the key of the client address; see [ClientAddr].
	// The value is a string.
	ClientAddrKey = "client.address"
	// UserAgentKey is the key of the User-Agent header. The value is a
	// string; it is left out when the header is empty.
	UserAgentKey = "user_agent.original"

	// StatusKey is the key of the response status code in the end event.
	// The value is an int.
	StatusKey = "http.response.status_code"
	// DurationKey is the key of the time from the request's arrival at
	// [Middleware] to the return of the handler, in the end event. The
	// value is a float64 number of milliseconds.
	DurationKey = "duration_ms"
	// ResponseSizeKey is the key of the number of response body bytes
	// written, in the end event. The value is an int64.
	ResponseSizeKey = "http.response.body.size"
	// RequestEndKey is the key of the flag on the end event that marks it
	// as the last record of its request, so that a consumer grouping
	// records by request id knows the group is complete without knowing
	// event names. The value is the bool true.
	RequestEndKey = "request_end"
	// ErrorTypeKey is the key of the kind of failure of a request, in the
	// end event. The value is the string "panic" when the handler
	// panicked; it is left out otherwise.
	ErrorTypeKey = "error.type"
	// RequestBodyKey is the key of the request body, in the end event of a
	// request for which [HTTPOptions.LogBody] said yes. The value is a
	// map[string][]string for a form, the value decoded by encoding/json
	// (with numbers as [json.Number]) for JSON, or else a string.
	RequestBodyKey = "http.request.body.content"
	// RequestBodySizeKey is the key of the number of request body bytes
	// the handler read, next to [RequestBodyKey]. The value is an int64.
	RequestBodySizeKey = "http.request.body.size"
)

// Event names of the records [Middleware] writes.
const (
	// RequestStartEvent names the record written when a request arrives.
	RequestStartEvent = "http.request.start"
	// RequestEndEvent names the record written when the handler returns.
	RequestEndEvent = "http.request.end"
)

// HTTPOptions configure [Middleware] and [RequestIdentity]. A nil
// *HTTPOptions, like a zero HTTPOptions, trusts no proxy, takes the
// identity bound to the request's context, writes no events and never logs
// a request body.
type HTTPOptions struct {
	// TrustedProxies are the peers whose headers are believed: their
	// X-Forwarded-For entries (see [ClientAddr]), request ids and identity
	// headers. Nil trusts nobody. [Loopback] is the setting for a proxy on
	// the same host.
	TrustedProxies Proxies

	// UserHeader and EmailHeader name the headers in which a trusted
	// proxy asserts the user it authenticated. "" means
	// "X-Auth-Request-User" and "X-Auth-Request-Email", the headers
	// oauth2-proxy sets with --set-xauthrequest; with its
	// --pass-user-headers they are "X-Forwarded-User" and
	// "X-Forwarded-Email".
	UserHeader, EmailHeader string

	// Opaque reports whether an authenticated name tells a reader nothing,
	// so that a trusted proxy's user header should replace it. Nil means
	// [IsOpaque]. An empty name is replaced in any case.
	Opaque func(name string) bool

	// RequestIDHeader names the header carrying a request id set by a
	// trusted proxy. "" means "X-Request-Id". Without a trusted one, or if
	// it is empty, longer than 128 bytes or has other than visible ASCII,
	// [Middleware] makes up a random 128-bit id in 32 hex digits.
	RequestIDHeader string

	// Authenticated, if set, returns the identity the application's own
	// authentication found for r, and whether it found one. [Middleware]
	// calls it before the handler chain and resolves the result with
	// [RequestIdentity]. Nil means the identity already bound to r's
	// context with [WithIdentity], if any. Either way, an identity bound
	// later, inside the handler chain, replaces it in the end event.
	Authenticated func(r *http.Request) (Identity, bool)

	// Logger receives the events of each request. Nil means no events:
	// [Middleware] then only binds the request's attributes to its
	// context.
	Logger *slog.Logger

	// LogStart adds an event when the request arrives. False means only
	// the end event is written.
	LogStart bool

	// LogBody, if set, is called for each request before the handler
	// chain; if it returns true, what the handler reads of the request
	// body, up to the first 4 KiB, goes into the end event under
	// [RequestBodyKey], for the [Handler]'s redaction to go over: a form or
	// JSON body decoded, so that redaction by key reaches its fields, and
	// other content as a string. A JSON body that was cut short or does
	// not parse is left out. Nil means bodies are never logged. The
	// response body never is.
	LogBody func(r *http.Request) bool

	// Fields names the keys of the attributes Middleware binds and writes
	// when Logger is nil or not audit-wrapped. Otherwise the keys are those
	// of Logger's [Handler] ([Options.Fields]): the zero Fields takes them
	// as they are, and a different value panics in [Middleware], since it
	// would mix two schemas in one log.
	Fields Fields
}

// httpConfig is the resolved form of HTTPOptions.
type httpConfig struct {
	trusted                                  Proxies
	userHeader, emailHeader, requestIDHeader string // canonical header keys
	opaque                                   func(string) bool
	authenticated                            func(*http.Request) (Identity, bool)
	logger                                   *slog.Logger
	logStart                                 bool
	logBody                                  func(*http.Request) bool
	f                                        Fields
}

func newHTTPConfig(opts *HTTPOptions) *httpConfig {
	if opts == nil {
		opts = &HTTPOptions{}
	}
	c := &httpConfig{
		trusted:         opts.TrustedProxies,
		userHeader:      http.CanonicalHeaderKey(or(opts.UserHeader, defaultUserHeader)),
		emailHeader:     http.CanonicalHeaderKey(or(opts.EmailHeader, defaultEmailHeader)),
		requestIDHeader: http.CanonicalHeaderKey(or(opts.RequestIDHeader, defaultRequestIDHeader)),
		opaque:          opts.Opaque,
		authenticated:   opts.Authenticated,
		logger:          opts.Logger,
		logStart:        opts.LogStart,
		logBody:         opts.LogBody,
	}
	if c.opaque == nil {
		c.opaque = IsOpaque
	}
	return c
}

// MisconfiguredEvent is the event of the record [Middleware] writes, at
// level WARN, when it is made with a logger that does not write through a
// [Handler]: the records of its requests then lack their audit fields.
const MisconfiguredEvent = "audit.misconfigured"

// middlewareFields returns the keys Middleware writes: those of the Handler
// behind opts.Logger, so that the two cannot disagree. opts.Fields may
// repeat them, but a different value is a mistake that would mix two
// schemas in one log, and panics here, at start-up. A logger that is not
// audit-wrapped is reported through itself, once.
func middlewareFields(opts *HTTPOptions) Fields {
	if opts == nil {
		opts = &HTTPOptions{}
	}
	f := opts.Fields.resolved()
	if opts.Logger == nil {
		return f
	}
	h, ok := opts.Logger.Handler().(*Handler)
	if !ok {
		opts.Logger.Warn("audit: the Middleware's logger does not write through an audit.Handler, so its records "+
			"lack the request id, method, path, client address, user and event id, and are not redacted",
			slog.String("event", MisconfiguredEvent))
		return f
	}
	if opts.Fields != (Fields{}) && f != h.c.f {
		panic("audit: HTTPOptions.Fields differ from the Options.Fields of the logger's Handler: set them once, in Options.Fields")
	}
	return h.c.f
}

// RequestIdentity returns the identity to write for request r, given the
// identity authenticated that the application's own authentication found
// (the zero Identity if none).
//
// When the peer of r is one of opts.TrustedProxies and the authenticated
// name is empty or opaque (see [HTTPOptions.Opaque]), the user and e-mail
// address the proxy asserts in [HTTPOptions.UserHeader] and
// [HTTPOptions.EmailHeader] replace the name and e-mail address; an opaque
// name that is replaced becomes the ID if the ID is empty, since it still
// identifies the actor. Each header that is missing, empty, repeated,
// longer than 256 bytes or holding control characters is ignored and the
// original field kept. Headers from any other peer are never read.
//
// The Kind of the result is that of authenticated, or [KindWeb] if that is
// empty and the result is not the zero Identity.
func RequestIdentity(r *http.Request, authenticated Identity, opts *HTTPOptions) Identity {
	if r == nil {
		return withWebKind(authenticated)
	}
	c := newHTTPConfig(opts)
	return c.resolve(r, peerOf(r, c.trusted), authenticated)
}

func (c *httpConfig) resolve(r *http.Request, p peer, id Identity) Identity {
	if p.trusted && (id.Name == "" || c.opaque(id.Name)) {
		if name, ok := assertedValue(r.Header, c.userHeader); ok {
			if id.ID == "" {
				id.ID = id.Name
			}
			id.Name = name
		}
		if email, ok := assertedValue(r.Header, c.emailHeader); ok {
			id.Email = email
		}
	}
	return withWebKind(id)
}

func withWebKind(id Identity) Identity {
	if id.Kind == "" && !id.IsZero() {
		id.Kind = KindWeb
	}
	return id
}

// assertedValue returns the single, trimmed, plausible value of header key.
// A repeated header is refused rather than guessed at: one of the values
// may be the client's.
func assertedValue(h http.Header, key string) (string, bool) {
	vs := h[key]
	if len(vs) != 1 {
		return "", false
	}
	v := strings.TrimSpace(vs[0])
	if v == "" || len(v) > 256 {
		return "", false
	}
	if !utf8.ValidString(v) {
		return "", false
	}
	for _, r := range v {
		// Control and format characters (bidi overrides among them) would
		// let the value rewrite how the log line reads.
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", false
		}
	}
	return v, true
}

// requestID returns the request id a trusted peer sent, or a new one.
func (c *httpConfig) requestID(r *http.Request, p peer) string {
	if p.trusted {
		if vs := r.Header[c.requestIDHeader]; len(vs) == 1 && validRequestID(vs[0]) {
			return vs[0]
		}
	}
	return newEventID()
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// request is the state shared by every context derived from one request
// served by Middleware. WithIdentity records the identity it binds there,
// so that the end event, written with the context Middleware made before
// the handler chain ran, names the actor authentication found inside it.
type request struct {
	latest atomic.Pointer[binding] // the binding made by the last WithIdentity
}

// Middleware returns a handler that binds the attributes of each request to
// its context and then calls next. Every record logged through a [Handler]
// with the request's context (or one derived from it) carries:
//   - [RequestIDKey]: the id a trusted proxy sent in
//     [HTTPOptions.RequestIDHeader], or else a new random one;
//   - [MethodKey], [PathKey], [ClientAddrKey] (see [ClientAddr]) and
//     [UserAgentKey];
//   - the identity, as [RequestIdentity] resolves it from
//     [HTTPOptions.Authenticated], or bound later with [WithIdentity].
//
// With [HTTPOptions.Logger] set, Middleware also writes an event
// [RequestEndEvent] when next returns (or panics) with [StatusKey],
// [DurationKey], [ResponseSizeKey] and [RequestEndKey], and, with
// [HTTPOptions.LogStart], an event [RequestStartEvent] before calling next.
// The end event names the identity bound last in the request's contexts,
// so an authentication step inside the chain that calls [WithIdentity] is
// seen there.
//
// The ResponseWriter next receives keeps the [http.Flusher] and
// [http.Hijacker] of the original, if it had them, and unwraps to it for
// [http.ResponseController].
//
// No response body is ever logged, and request bodies only when
// [HTTPOptions.LogBody] asks for it. For work a request executes, such as
// code a user runs, log its input with an event and leave its output out:
// the output can hold any of the data the user could reach.
func Middleware(next http.Handler, opts *HTTPOptions) http.Handler {
	c := newHTTPConfig(opts)
	c.f = middlewareFields(opts)
	return &middleware{next: next, c: c}
}

type middleware struct {
	next http.Handler
	c    *httpConfig
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r == nil {
		m.next.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	c := m.c
	p := peerOf(r, c.trusted)
	parent := r.Context()
	b := bindingFrom(parent).clone()

	attrs := make([]slog.Attr, len(b.attrs), len(b.attrs)+5)
	copy(attrs, b.attrs)
	path := ""
	if r.URL != nil {
		path = r.URL.Path
	}
	attrs = setAttr(attrs, slog.String(c.f.RequestID, c.requestID(r, p)))
	attrs = setAttr(attrs, slog.String(c.f.Method, r.Method))
	attrs = setAttr(attrs, slog.String(c.f.Path, path))
	attrs = setAttr(attrs, slog.String(c.f.ClientAddress, clientAddr(r, p, c.trusted)))
	if ua := r.Header["User-Agent"]; len(ua) > 0 && ua[0] != "" {
		attrs = setAttr(attrs, slog.String(c.f.UserAgent, ua[0]))
	}
	b.attrs = attrs

	var auth Identity
	if c.authenticated != nil {
		if id, ok := c.authenticated(r); ok {
			auth = id
		}
	} else if b.hasID {
		auth = b.identity
	}
	if id := c.resolve(r, p, auth); !id.IsZero() {
		b.identity, b.hasID, b.idValue = id, true, id.LogValue()
	}

	if c.logger == nil {
		m.next.ServeHTTP(w, r.WithContext(context.WithValue(parent, ctxKey{}, b)))
		return
	}

	b.req = &request{}
	ctx := context.WithValue(parent, ctxKey{}, b)
	if c.logStart {
		c.logger.LogAttrs(ctx, slog.LevelInfo, "request start", Event(RequestStartEvent))
	}
	r2 := r.WithContext(ctx)
	var body *reqbody.Tap
	if c.logBody != nil && r.Body != nil && r.Body != http.NoBody && c.logBody(r) {
		body = reqbody.NewTap(r.Body)
		r2.Body = body
	}
	rw := &responseWriter{ResponseWriter: w}
	returned := false
	defer func() {
		m.end(ctx, r, b, rw, start, body, !returned)
	}()
	m.next.ServeHTTP(rw.wrap(), r2)
	returned = true
}

// end writes the end event of a request.
func (m *middleware) end(ctx context.Context, r *http.Request, b *binding, rw *responseWriter, start time.Time, body *reqbody.Tap, panicked bool) {
	d := time.Since(start)
	if late := b.req.latest.Load(); late != nil {
		b2 := b.clone()
		b2.identity, b2.hasID, b2.idValue = late.identity, late.hasID, late.idValue
		ctx = context.WithValue(ctx, ctxKey{}, b2)
	}
	status := rw.status
	if status == 0 {
		switch {
		case rw.hijacked:
			status = http.StatusSwitchingProtocols
		case panicked:
			status = http.StatusInternalServerError
		default:
			status = http.StatusOK // what net/http sends for a handler that wrote nothing
		}
	}
	f := &m.c.f
	attrs := make([]slog.Attr, 0, 9)
	attrs = append(attrs,
		Event(RequestEndEvent),
		slog.Int(f.Status, status),
		durationAttr(f, d),
		slog.Int64(f.ResponseSize, rw.size),
	)
	if f.Outcome != "" {
		outcome := "success"
		if panicked || status >= 400 {
			outcome = "failure"
		}
		attrs = append(attrs, slog.String(f.Outcome, outcome))
	}
	if panicked {
		attrs = append(attrs, slog.String(f.ErrorType, "panic"))
	}
	if body != nil {
		if v, ok := body.Decode(r.Header.Get("Content-Type")); ok {
			attrs = append(attrs, slog.Any(f.RequestBody, v))
		}
		attrs = append(attrs, slog.Int64(f.RequestBodySize, body.Size()))
	}
	attrs = append(attrs, slog.Bool(f.RequestEnd, true))
	m.c.logger.LogAttrs(ctx, slog.LevelInfo, "request end", attrs...)
}

// durationAttr writes d in the unit of f: a float64, or an int64 of
// nanoseconds.
func durationAttr(f *Fields, d time.Duration) slog.Attr {
	if f.DurationUnit == time.Nanosecond {
		return slog.Int64(f.Duration, int64(d))
	}
	return slog.Float64(f.Duration, float64(d)/float64(f.DurationUnit))
}

// responseWriter records the status and size of a response.
type responseWriter struct {
	http.ResponseWriter
	status   int // final status written, 0 before
	size     int64
	hijacked bool
}

// wrap returns w with the optional interfaces of the ResponseWriter it
// wraps, so that handlers testing for them find what they would without
// Middleware.
func (w *responseWriter) wrap() http.ResponseWriter {
	_, f := w.ResponseWriter.(http.Flusher)
	_, h := w.ResponseWriter.(http.Hijacker)
	switch {
	case f && h:
		return flushHijacker{w}
	case f:
		return flusher{w}
	case h:
		return hijacker{w}
	}
	return w
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx are interim responses
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.size += int64(n)
	return n, err
}

// ReadFrom keeps the sendfile path of net/http's own ResponseWriter for
// handlers that io.Copy into the response.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, r)
	}
	w.size += n
	return n, err
}

// writerOnly hides ReadFrom, so that io.Copy does not call it back.
type writerOnly struct{ io.Writer }

// Unwrap returns the wrapped ResponseWriter, for [http.ResponseController].
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *responseWriter) flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.ResponseWriter.(http.Flusher).Flush()
}

func (w *responseWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := w.ResponseWriter.(http.Hijacker).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, brw, err
}

type flusher struct{ *responseWriter }

func (w flusher) Flush() { w.flush() }

type hijacker struct{ *responseWriter }

func (w hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }

type flushHijacker struct{ *responseWriter }

func (w flushHijacker) Flush() { w.flush() }

func (w flushHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }
