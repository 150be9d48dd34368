// Package fault is the gateway's one error taxonomy: the few kinds of
// failure a caller can act on (try again later, fix the request, stop),
// declared by the packages whose errors they are and turned into an answer
// (an HTTP status, a message) in one place at the edge.
//
// It protects what an answer may say. An error's text can carry internal
// detail (a Redis address, a key name) once wrapped; only the public
// message given to New, which is short, generic and written by us, ever
// reaches a client. Input is never part of it.
package fault

import "errors"

// Kind is a category of failure. It is itself an error, so that
// errors.Is(err, fault.NotFound) asks whether err is of that kind.
type Kind int

// The kinds. A zero Kind is no kind: an internal error.
const (
	// Unavailable: a store or service the gateway needs cannot answer
	// now; the same request may succeed later.
	Unavailable Kind = iota + 1
	// NotFound: what the request names does not exist (any more).
	NotFound
	// Conflict: the request is well formed but the state does not allow
	// it (a lease lapsed, a tip held by another officer).
	Conflict
	// Invalid: the request itself is wrong and will stay wrong.
	Invalid
	// TooLarge: the request, or a part of it, is over a size limit.
	TooLarge
	// RateLimited: too many requests of this kind from this client.
	RateLimited
	// Forbidden: the caller may not do this.
	Forbidden
	// Unauthenticated: the caller's credentials are missing or wrong.
	Unauthenticated
	// Upstream: a provider the gateway relays to (Twilio) refused or
	// failed; the request may be retried.
	Upstream
)

var kindNames = [...]string{
	Unavailable:     "unavailable",
	NotFound:        "not found",
	Conflict:        "conflict",
	Invalid:         "invalid",
	TooLarge:        "too large",
	RateLimited:     "rate limited",
	Forbidden:       "forbidden",
	Unauthenticated: "unauthenticated",
	Upstream:        "upstream failure",
}

func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "internal"
}

// Error makes a Kind an error: its name is its public message.
func (k Kind) Error() string { return k.String() }

// Error is an error of a kind with a public message.
type Error struct {
	kind   Kind
	msg    string
	public string
}

// New returns an error of kind k whose message, msg, is safe to show to
// a client: short, generic, never built from input.
func New(k Kind, msg string) error { return &Error{kind: k, msg: msg, public: msg} }

// NewPublic is New for an error whose message is meant for logs and
// callers in the process, and whose client sees public instead.
func NewPublic(k Kind, msg, public string) error { return &Error{kind: k, msg: msg, public: public} }

func (e *Error) Error() string { return e.msg }

// Unwrap makes errors.Is(err, k) true for the error's kind.
func (e *Error) Unwrap() error { return e.kind }

// Of returns the kind of err (of the first fault error it wraps) and its
// public message; 0 and "" for an error of no kind.
func Of(err error) (Kind, string) {
	var e *Error
	if errors.As(err, &e) {
		return e.kind, e.public
	}
	var k Kind
	if errors.As(err, &k) {
		return k, k.String()
	}
	return 0, ""
}
