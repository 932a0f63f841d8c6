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
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// clone returns id with its own copy of every slice, so that what a caller
// handed in, or is handed, cannot change an identity bound to a context.
func (id Identity) clone() Identity {
	id.Roles = slices.Clone(id.Roles)
	return id
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
//
// It trusts every process that shares the application's loopback, not
// only the proxy: any of them can assert a user. Use it where the proxy is
// the only one (a container or pod of their own); on a shared host, trust
// the proxy's own address with [ParseProxies] instead.
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
//
// An IPv6 zone that is not a plausible interface name (see [validZone])
// makes s no address at all. The zone is checked before the address is
// parsed, so an arbitrary text never reaches the parser.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.Trim(s, " \t")
	if s == "" {
		return netip.Addr{}, false
	}
	if i := strings.IndexByte(s, '%'); i >= 0 {
		end := len(s)
		if j := strings.IndexByte(s[i:], ']'); j >= 0 {
			end = i + j
		}
		if !validZone(s[i+1 : end]) {
			return netip.Addr{}, false
		}
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

// MaxZone is the longest IPv6 zone [ClientAddr] keeps, in bytes: an
// interface name is at most 15 bytes on Linux (IFNAMSIZ less its NUL), and
// a numeric zone index (RFC 4007, the form Windows uses) at most 10 digits.
const MaxZone = 15

// validZone reports whether z can name an interface (RFC 4007 section 11):
// 1 to [MaxZone] letters, digits, '.', '-' or '_', which covers Linux and
// BSD interface names ("eth0", "enp0s31f6", "wlan0.100", "br-1a2b") and
// numeric indexes ("3"). Anything else in a zone is text a client chose.
func validZone(z string) bool {
	if z == "" || len(z) > MaxZone {
		return false
	}
	for i := 0; i < len(z); i++ {
		c := z[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
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
// An IPv6 zone ("fe80::1%eth0") is kept only when it can name an
// interface: 1 to [MaxZone] ASCII letters, digits, '.', '-' or '_'. An
// X-Forwarded-For entry with any other zone counts as no address, so the
// walk stops there; a RemoteAddr with one is not taken for an IP address
// either, so its peer is never trusted (it is written as the server set
// it, like a Unix socket's).
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
//
// A panic in any of its hooks (Opaque, Authenticated, LogBody,
// OnWriteError, EndLevel) is recovered: Middleware reports it in the
// request's events, and the hook counts as having found nothing.
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
	// it is repeated, empty, longer than [MaxRequestID] bytes, or has other
	// than visible ASCII or a comma, [Middleware] makes up a random 128-bit
	// id in 32 hex digits.
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
	// the end event is written, unless Strict is set.
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

	// Strict makes a request fail before the handler chain runs when its
	// start event cannot be written: Middleware answers StrictStatus with
	// StrictBody instead, writes no end event, and reports the error to
	// OnWriteError. Strict implies LogStart, and needs a Logger (Middleware
	// panics without one). A start event that the Logger's level leaves
	// out is not a failure: the level decides what is audited.
	//
	// This trades availability for completeness: with Strict, no request
	// is served that the audit trail does not show, and an audit sink that
	// is down takes the application down with it. Without it (the
	// default), requests are served whatever happens to their records, and
	// OnWriteError is the only trace of a record lost.
	Strict bool

	// StrictStatus is the status of a response refused in Strict mode. 0
	// means 503 Service Unavailable.
	StrictStatus int

	// StrictBody is the plain-text body of a response refused in Strict
	// mode. "" means the status text ("Service Unavailable").
	StrictBody string

	// OnWriteError, if set, is called with the request, the event name
	// ([RequestStartEvent] or [RequestEndEvent]) and the error when the
	// Logger's handler fails to write a start or end event, or panics.
	// slog.Logger drops such errors, so Middleware writes its events
	// through the handler itself to see them. Nil means failures go
	// unreported (except, in Strict mode, to the client).
	OnWriteError func(r *http.Request, event string, err error)

	// EndLevel, if set, returns the level of the end event for the final
	// status, and whether the handler panicked. Nil means
	// [DefaultEndLevel]: ERROR for a panic or a 5xx status, WARN for a 4xx,
	// INFO otherwise.
	EndLevel func(status int, panicked bool) slog.Level

	// ResponseHeader, if set, names a response header that Middleware sets
	// to the request id (see [RequestID]) before the handler chain runs,
	// so that a client can quote it; "X-Request-Id" is the usual name. ""
	// means none is set.
	ResponseHeader string
}

// DefaultEndLevel is the level of the end event when
// [HTTPOptions.EndLevel] is nil: [slog.LevelError] for a panic or a status
// of 500 or more, [slog.LevelWarn] for 400 to 499 (access refused,
// requests that were wrong: what an auditor looks for), and
// [slog.LevelInfo] otherwise.
func DefaultEndLevel(status int, panicked bool) slog.Level {
	switch {
	case panicked || status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
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
	strict                                   bool
	strictStatus                             int
	strictBody                               string
	onWriteError                             func(*http.Request, string, error)
	endLevel                                 func(int, bool) slog.Level
	responseHeader                           string // canonical header key, "" for none
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
		logStart:        opts.LogStart || opts.Strict,
		logBody:         opts.LogBody,
		f:               opts.Fields.resolved(),
		strict:          opts.Strict,
		strictStatus:    opts.StrictStatus,
		strictBody:      opts.StrictBody,
		onWriteError:    opts.OnWriteError,
		endLevel:        opts.EndLevel,
	}
	if opts.ResponseHeader != "" {
		c.responseHeader = http.CanonicalHeaderKey(opts.ResponseHeader)
	}
	if c.opaque == nil {
		c.opaque = IsOpaque
	}
	if c.endLevel == nil {
		c.endLevel = DefaultEndLevel
	}
	if c.strictStatus == 0 {
		c.strictStatus = http.StatusServiceUnavailable
	}
	if c.strictBody == "" {
		c.strictBody = http.StatusText(c.strictStatus)
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
// identifies the actor. Headers from any other peer are never read.
//
// Each header is ignored, and the original field kept, when it is missing,
// empty, or longer than [MaxIdentityHeader] bytes; when it is repeated, or
// holds a comma (a proxy may join repeated lines with commas); when it has
// whitespace inside (a folded header line, which net/http unfolds into a
// space); or when it holds invalid UTF-8, a control or format character,
// or U+2028 or U+2029.
//
// The Kind of the result is that of authenticated, or [KindWeb] if that is
// empty and the result is not the zero Identity. A panic in
// [HTTPOptions.Opaque] counts as "not opaque": the headers are not read.
func RequestIdentity(r *http.Request, authenticated Identity, opts *HTTPOptions) Identity {
	if r == nil {
		return withWebKind(authenticated)
	}
	c := newHTTPConfig(opts)
	return c.resolve(r, peerOf(r, c.trusted), authenticated, nil)
}

// resolve is RequestIdentity with a resolved configuration; a panic in the
// Opaque hook is reported to req, if not nil.
func (c *httpConfig) resolve(r *http.Request, p peer, id Identity, req *request) Identity {
	if p.trusted && (id.Name == "" || c.isOpaque(id.Name, req)) {
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

// The hooks of HTTPOptions are called through these methods, which recover
// a panic, report it to the request (see request.report) and carry on as
// if the hook had said no: a hook costs no record and no event.

func (c *httpConfig) isOpaque(name string, req *request) (opaque bool) {
	defer func() {
		if p := recover(); p != nil {
			req.report("Opaque", p)
			opaque = false
		}
	}()
	return c.opaque(name)
}

func (c *httpConfig) callAuthenticated(r *http.Request, req *request) (id Identity, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			req.report("Authenticated", p)
			id, ok = Identity{}, false
		}
	}()
	return c.authenticated(r)
}

func (c *httpConfig) callLogBody(r *http.Request, req *request) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			req.report("LogBody", p)
			ok = false
		}
	}()
	return c.logBody(r)
}

func (c *httpConfig) callEndLevel(status int, panicked bool, req *request) (l slog.Level) {
	defer func() {
		if p := recover(); p != nil {
			req.report("EndLevel", p)
			l = DefaultEndLevel(status, panicked)
		}
	}()
	return c.endLevel(status, panicked)
}

// writeFailed calls OnWriteError, if set.
func (c *httpConfig) writeFailed(r *http.Request, event string, err error, req *request) {
	if c.onWriteError == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			req.report("OnWriteError", p)
		}
	}()
	c.onWriteError(r, event, err)
}

func withWebKind(id Identity) Identity {
	if id.Kind == "" && !id.IsZero() {
		id.Kind = KindWeb
	}
	return id
}

// Caps on the header values written into records, so that a client
// cannot make every record of its request huge.
const (
	// MaxUserAgent is the most bytes of the User-Agent header written under
	// [UserAgentKey]. A longer one is cut at a character boundary and ends
	// with [TruncationMarker], the whole within MaxUserAgent bytes.
	MaxUserAgent = 512
	// MaxRequestID is the longest request id, in bytes, that [Middleware]
	// takes from [HTTPOptions.RequestIDHeader]. A longer one is not cut,
	// since a cut id would match nothing and could match another request's:
	// Middleware makes up its own id instead.
	MaxRequestID = 128
	// MaxIdentityHeader is the longest value, in bytes, of an identity
	// header ([HTTPOptions.UserHeader], [HTTPOptions.EmailHeader]). A
	// longer one is refused rather than cut, since a cut name could name
	// someone else.
	MaxIdentityHeader = 256
	// TruncationMarker ends a header value cut to its cap, so that a
	// reader sees the value is not whole.
	TruncationMarker = "…[truncated]"
)

// refusedRune reports whether r may not appear in a header value written
// into a record: control characters (Cc, which includes U+0085 NEXT
// LINE), format characters (Cf: bidi overrides, zero-width characters),
// the line and paragraph separators U+2028 and U+2029, and the
// replacement character that decoding gives invalid UTF-8. Each of them
// can make a record read as something else in a terminal, an editor or a
// line-oriented parser.
func refusedRune(r rune) bool {
	return r < 0x20 || r == 0x7f || // the common case first: ASCII controls
		r >= 0x80 && (unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || r == utf8.RuneError)
}

// assertedValue returns the single, trimmed, plausible value of header key.
// Refused, so that the caller keeps what it had:
//   - a repeated header: one of the values may be the client's;
//   - a value holding a comma: RFC 9110 lets a proxy join repeated header
//     lines into one, separated by commas, so it is a repeated header too;
//   - a value with whitespace inside: net/http unfolds a folded (obs-fold)
//     header line into a space, so a folded header cannot be told from it,
//     and login names and e-mail addresses have none;
//   - an empty value, one longer than [MaxIdentityHeader], invalid UTF-8
//     and any character refusedRune refuses.
func assertedValue(h http.Header, key string) (string, bool) {
	vs := h[key]
	if len(vs) != 1 {
		return "", false
	}
	v := strings.Trim(vs[0], " \t")
	if v == "" || len(v) > MaxIdentityHeader || !utf8.ValidString(v) {
		return "", false
	}
	for _, r := range v {
		if r == ',' || r == ' ' || refusedRune(r) {
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

// validRequestID accepts 1 to MaxRequestID visible ASCII characters other
// than a comma, which would make it a list (see assertedValue).
func validRequestID(s string) bool {
	if s == "" || len(s) > MaxRequestID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == ',' {
			return false
		}
	}
	return true
}

// userAgent returns the User-Agent header of h as it is written into
// records: within [MaxUserAgent] bytes, ending with [TruncationMarker] if
// it was cut, and with every character refusedRune refuses (and every byte
// of invalid UTF-8) replaced by U+FFFD. The client chose it, so it is kept
// as evidence, but it cannot rewrite how a record reads.
func userAgent(h http.Header) string {
	vs := h["User-Agent"]
	if len(vs) == 0 {
		return ""
	}
	v := vs[0]
	clean := len(v) <= MaxUserAgent
	for i := 0; clean && i < len(v); i++ {
		clean = ' ' <= v[i] && v[i] <= '~'
	}
	if clean {
		return v // the common case: no copy
	}
	limit := MaxUserAgent
	if len(v) > MaxUserAgent {
		limit -= len(TruncationMarker)
	}
	var b strings.Builder
	b.Grow(min(len(v), MaxUserAgent))
	for i := 0; i < len(v); {
		r, n := utf8.DecodeRuneInString(v[i:])
		if refusedRune(r) {
			r = utf8.RuneError
		}
		if b.Len()+utf8.RuneLen(r) > limit {
			b.WriteString(TruncationMarker)
			break
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// request is the state shared by every context derived from one request
// served by Middleware. With and WithIdentity record there what they bind,
// so that the end event, written with the context Middleware made before
// the handler chain ran, names the actor authentication found inside it
// and carries the attributes bound inside it. A nested Middleware finds it
// in the request's context and joins the request instead of starting one.
type request struct {
	id string // the request id; never changes

	// events is set by the Middleware that writes the request's events,
	// so that a nested one writes none.
	events atomic.Bool

	mu       sync.Mutex
	identity Identity // bound last inside the chain, if hasID
	hasID    bool
	idValue  slog.Value
	attrs    []slog.Attr // bound with With inside the chain, each key once
	errs     []string    // panics of HTTPOptions hooks, for the events
}

// bindIdentity records id, bound inside the chain, for the end event.
func (q *request) bindIdentity(id Identity, v slog.Value) {
	q.mu.Lock()
	q.identity, q.hasID, q.idValue = id, true, v
	q.mu.Unlock()
}

// bindAttrs records attrs, bound with With inside the chain, for the end
// event; a key bound again replaces its earlier value.
func (q *request) bindAttrs(attrs []slog.Attr) {
	q.mu.Lock()
	for _, a := range attrs {
		q.attrs = setAttr(q.attrs, a)
	}
	q.mu.Unlock()
}

// overlay returns b with what was bound inside the handler chain: the
// identity bound last, and the attributes bound with With, each replacing
// the one with its key. It returns b itself when nothing was bound.
func (q *request) overlay(b *binding) *binding {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.hasID && len(q.attrs) == 0 {
		return b
	}
	b2 := b.clone()
	if q.hasID {
		b2.identity, b2.hasID, b2.idValue = q.identity, true, q.idValue
	}
	if len(q.attrs) > 0 {
		attrs := make([]slog.Attr, len(b.attrs), len(b.attrs)+len(q.attrs))
		copy(attrs, b.attrs)
		for _, a := range q.attrs {
			attrs = setAttr(attrs, a)
		}
		b2.attrs = attrs
	}
	return b2
}

// auditErrorKey is the key under which a recovered panic of a hook is
// reported, as [Handler] reports one of [Options.ContextAttrs].
const auditErrorKey = "!AUDIT_ERROR"

// report records that hook panicked with p. q may be nil (RequestIdentity
// has no request): the panic is then only recovered.
func (q *request) report(hook string, p any) {
	if q == nil {
		return
	}
	msg := fmt.Sprintf("audit: %s panicked: %v", hook, p)
	q.mu.Lock()
	q.errs = append(q.errs, msg)
	q.mu.Unlock()
}

// errAttr returns the panics reported so far as one attribute, one key
// however many hooks panicked.
func (q *request) errAttr() (slog.Attr, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.errs) == 0 {
		return slog.Attr{}, false
	}
	return slog.String(auditErrorKey, strings.Join(q.errs, "; ")), true
}

// RequestID returns the id of the request that ctx belongs to: the id
// [Middleware] took from a trusted proxy or made up, which every record of
// the request carries under [RequestIDKey] (or the Fields name). The
// boolean is false when no Middleware served ctx's request.
func RequestID(ctx context.Context) (string, bool) {
	b := bindingFrom(ctx)
	if b == nil || b.req == nil {
		return "", false
	}
	return b.req.id, true
}

// Middleware returns a handler that binds the attributes of each request to
// its context and then calls next. Every record logged through a [Handler]
// with the request's context (or one derived from it) carries:
//   - [RequestIDKey]: the id a trusted proxy sent in
//     [HTTPOptions.RequestIDHeader], or else a new random one (see
//     [RequestID]);
//   - [MethodKey], [PathKey], [ClientAddrKey] (see [ClientAddr]) and
//     [UserAgentKey] (at most [MaxUserAgent] bytes);
//   - the identity, as [RequestIdentity] resolves it from
//     [HTTPOptions.Authenticated], or bound later with [WithIdentity].
//
// With [HTTPOptions.Logger] set, Middleware also writes an event
// [RequestEndEvent] when next returns (or panics) with [StatusKey],
// [DurationKey], [ResponseSizeKey], the outcome ("success", or "failure"
// for a status of 400 or more or a panic) and [RequestEndKey], at the level
// [HTTPOptions.EndLevel] gives; and, with [HTTPOptions.LogStart] or
// [HTTPOptions.Strict], an event [RequestStartEvent] before calling next.
// The end event names the identity bound last in the request's contexts,
// and carries the attributes bound with [With] in them, so that an
// authentication step inside the chain is seen there.
//
// A Middleware inside another (an application-wide one around a router
// whose group has its own) joins the request of the outer one: it keeps
// its request id and attributes, resolves the identity with its own
// options (the result reaches the outer end event), and writes no events
// of its own unless the outer one writes none: the options that shape
// events (LogStart, LogBody, Strict, EndLevel, OnWriteError) are those of
// the Middleware that writes them.
//
// A panic in a hook of [HTTPOptions] is recovered and reported in the
// request's events under "!AUDIT_ERROR"; the hook counts as having found
// nothing, and the events are still written.
//
// The ResponseWriter next receives keeps the [http.Flusher] and
// [http.Hijacker] of the original, if it had them, and unwraps to it for
// [http.ResponseController].
//
// No response body is ever logged, and request bodies only when
// [HTTPOptions.LogBody] asks for it. For work a request executes, such as
// code a user runs, log its input with an event and leave its output out:
// the output can hold any of the data the user could reach.
//
// Middleware panics if next is nil, as [http.Handle] does, or if opts asks
// for Strict without a Logger.
func Middleware(next http.Handler, opts *HTTPOptions) http.Handler {
	if next == nil {
		panic("audit: Middleware with a nil handler")
	}
	c := newHTTPConfig(opts)
	c.f = middlewareFields(opts)
	if c.strict && c.logger == nil {
		panic("audit: Middleware with Strict and no Logger")
	}
	return &middleware{next: next, c: c}
}

type middleware struct {
	next http.Handler
	c    *httpConfig
}

// ServeHTTP binds the request to its context, writes the start event if
// asked, and calls next, writing the end event however next returns. The
// start event is written here, not in a step of its own, because write
// records its caller as the event's source, and that source is ServeHTTP.
func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r == nil {
		m.next.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	c := m.c
	parent := r.Context()
	b := m.bind(r, bindingFrom(parent).clone())
	req := b.req
	if c.responseHeader != "" {
		w.Header().Set(c.responseHeader, req.id)
	}

	ctx := context.WithValue(parent, ctxKey{}, b)
	// The first Middleware with a Logger writes the request's events.
	if c.logger == nil || !req.events.CompareAndSwap(false, true) {
		m.next.ServeHTTP(w, r.WithContext(ctx))
		return
	}
	r2 := r.WithContext(ctx)
	body := m.tapBody(r, r2, req)
	if c.logStart {
		attrs := []slog.Attr{Event(RequestStartEvent)}
		if a, ok := req.errAttr(); ok {
			attrs = append(attrs, a)
		}
		if err := m.write(ctx, slog.LevelInfo, "request start", attrs); err != nil {
			c.writeFailed(r, RequestStartEvent, err, req)
			if c.strict {
				http.Error(w, c.strictBody, c.strictStatus)
				return
			}
		}
	}
	rw := &responseWriter{ResponseWriter: w}
	returned := false
	defer func() {
		m.end(ctx, r, b, rw, start, body, !returned)
	}()
	m.next.ServeHTTP(rw.wrap(), r2)
	returned = true
}

// bind fills b, a copy of the parent context's binding, for r: a request
// served by an outer Middleware keeps that request (its id, attributes and
// events), others start one. Either way the identity is resolved with this
// Middleware's options, so that an inner one can add what it knows.
func (m *middleware) bind(r *http.Request, b *binding) *binding {
	p := peerOf(r, m.c.trusted)
	nested := b.req != nil
	if !nested {
		m.startRequest(b, r, p)
	}
	m.bindIdentity(b, r, p, nested)
	return b
}

// startRequest gives b a new request and the attributes every record of
// it carries, replacing any of the same keys bound before the Middleware,
// which would otherwise contradict them. They are set in a copy: b.attrs
// is still the parent context's.
func (m *middleware) startRequest(b *binding, r *http.Request, p peer) {
	c := m.c
	req := &request{id: c.requestID(r, p)}
	b.req = req
	attrs := make([]slog.Attr, len(b.attrs), len(b.attrs)+5)
	copy(attrs, b.attrs)
	path := ""
	if r.URL != nil {
		path = r.URL.Path
	}
	attrs = setAttr(attrs, slog.String(c.f.RequestID, req.id))
	attrs = setAttr(attrs, slog.String(c.f.Method, r.Method))
	attrs = setAttr(attrs, slog.String(c.f.Path, path))
	attrs = setAttr(attrs, slog.String(c.f.ClientAddress, clientAddr(r, p, c.trusted)))
	if ua := userAgent(r.Header); ua != "" {
		attrs = setAttr(attrs, slog.String(c.f.UserAgent, ua))
	}
	b.attrs = attrs
}

// bindIdentity resolves the identity of r and binds it to b. With an
// Authenticated hook the hook decides, else an identity bound before the
// Middleware is the starting point. A nested Middleware also binds it to
// the shared request, so that the outer end event names it.
func (m *middleware) bindIdentity(b *binding, r *http.Request, p peer, nested bool) {
	c := m.c
	req := b.req
	var auth Identity
	if c.authenticated != nil {
		if id, ok := c.callAuthenticated(r, req); ok {
			auth = id.clone() // the application's slices stay its own
		}
	} else if b.hasID {
		auth = b.identity
	}
	if id := c.resolve(r, p, auth, req); !id.IsZero() {
		b.identity, b.hasID, b.idValue = id, true, id.LogValue()
		if nested {
			req.bindIdentity(id, b.idValue)
		}
	}
}

// tapBody puts a tap on the body of r2, r's copy that next reads, when
// LogBody asks for it, so that the end event can report what next read
// without reading the body ahead of it. It returns nil otherwise.
func (m *middleware) tapBody(r, r2 *http.Request, req *request) *reqbody.Tap {
	c := m.c
	if c.logBody == nil || r.Body == nil || r.Body == http.NoBody || !c.callLogBody(r, req) {
		return nil
	}
	body := reqbody.NewTap(r.Body)
	r2.Body = body
	return body
}

// write writes one event of the request through the Logger's handler, as
// slog.Logger.LogAttrs would (same level check, same record, the PC of
// write's caller as LogAttrs takes its own caller's), but returns the
// handler's error, which LogAttrs drops, and turns a panic in the handler
// into one.
func (m *middleware) write(ctx context.Context, level slog.Level, msg string, attrs []slog.Attr) (err error) {
	h := m.c.logger.Handler()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("audit: handler panicked: %v", p)
		}
	}()
	if !h.Enabled(ctx, level) {
		return nil
	}
	var pcs [1]uintptr
	runtime.Callers(2, pcs[:]) // skip runtime.Callers and write
	r := slog.NewRecord(time.Now(), level, msg, pcs[0])
	r.AddAttrs(attrs...)
	return h.Handle(ctx, r)
}

// end writes the end event of a request.
func (m *middleware) end(ctx context.Context, r *http.Request, b *binding, rw *responseWriter, start time.Time, body *reqbody.Tap, panicked bool) {
	d := time.Since(start)
	req := b.req
	if late := req.overlay(b); late != b {
		ctx = context.WithValue(ctx, ctxKey{}, late)
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
	c := m.c
	level := c.callEndLevel(status, panicked, req)
	f := &c.f
	attrs := make([]slog.Attr, 0, 11)
	attrs = append(attrs,
		Event(RequestEndEvent),
		slog.Int(f.Status, status),
		durationAttr(f, d),
		slog.Int64(f.ResponseSize, rw.size),
	)
	outcome := "success"
	if panicked || status >= 400 {
		outcome = "failure"
	}
	attrs = append(attrs, slog.String(c.f.Outcome, outcome))
	if panicked {
		attrs = append(attrs, slog.String(f.ErrorType, "panic"))
	}
	if a, ok := req.errAttr(); ok {
		attrs = append(attrs, a)
	}
	if body != nil {
		if v, ok := body.Decode(r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding")); ok {
			attrs = append(attrs, slog.Any(f.RequestBody, v))
		}
		attrs = append(attrs, slog.Int64(f.RequestBodySize, body.Size()))
	}
	attrs = append(attrs, slog.Bool(f.RequestEnd, true))
	if err := m.write(ctx, level, "request end", attrs); err != nil {
		c.writeFailed(r, RequestEndEvent, err, req)
	}
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
