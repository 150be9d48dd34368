// Package handlers is the HTTP side of the gateway: the Twilio webhook, the
// witness's web pages, the officer API and the health endpoints. Handlers
// only read requests, call a channel (gateway/sms, gateway/web) or the
// queue, and write responses; errors, which the domain packages declare of
// a kind (gateway/fault), become statuses in one place (classify), with
// short generic messages that never echo the input.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
)

// Intake queues a tip.
type Intake interface {
	Submit(ctx context.Context, t gateway.Tip) (gateway.Receipt, error)
}

// Officers resolves the officer API's bearer tokens.
type Officers interface {
	Authenticate(ctx context.Context, token string) (officer.Officer, error)
}

// Triage is the officer side of the queue.
type Triage interface {
	Claim(ctx context.Context, agency, officer string) (*queue.Claimed, error)
	// ClaimTip claims one chosen tip, or says why not (queue.HeldError,
	// queue.ClosedError, queue.TooFarError, queue.ErrNotFound).
	ClaimTip(ctx context.Context, agency, officer, tipID string) (*queue.Claimed, error)
	Ack(ctx context.Context, agency, tipID, officer string, d queue.Disposition) error
	Release(ctx context.Context, agency, tipID, officer string) error
	Renew(ctx context.Context, agency, tipID, officer string) (time.Time, error)
	List(ctx context.Context, agency string, limit int) ([]queue.Listed, error)
	Count(ctx context.Context, agency string) (queue.Counts, error)
	// Snapshot walks the agency's open items once, for any number of
	// event streams; Appended is what one stream tells from it: the
	// messages appended to held cases since its last call with seen (see
	// queue.Queue.Watch).
	Snapshot(ctx context.Context, agency string) (*queue.Snapshot, error)
	Appended(ctx context.Context, agency string, snap *queue.Snapshot, seen map[string]int) ([]queue.Appended, error)
	// Meta is a tip's clear metadata and state; Open adds the sealed
	// report, for the officer holding the tip or a supervisor (audited).
	Meta(ctx context.Context, agency, tipID string) (*queue.Listed, error)
	Open(ctx context.Context, agency, tipID, officer string, supervisor bool) (*queue.Listed, []byte, error)
	Escalate(ctx context.Context, agency, tipID, officer, reason string) error
	// TransferCase hands a held case to another agency: resealed holds
	// every message of the case re-sealed to it, in order.
	TransferCase(ctx context.Context, agency, tipID, officer, target string, resealed [][]byte, notes [][]byte) error
	AddNote(ctx context.Context, agency, tipID, officer string, supervisor bool, sealed []byte) error
	Notes(ctx context.Context, agency, tipID, officer string, supervisor bool) ([]queue.Note, error)
	AuditLog(ctx context.Context, agency, from string, count int64) ([]queue.AuditEntry, error)
	Audit(ctx context.Context, agency, action, officer, tip, detail string) error
}

// AgencyInfo is what officers may know of an agency: its name and public
// recipients, so that their client can re-seal a tip when transferring it.
type AgencyInfo struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Recipients []string `json:"recipients"`
}

// Deadlines are the time rules an officer works to.
type Deadlines struct {
	// ReplyWindow: a reply is allowed this long after the reporter's last
	// message (longer only with an override).
	ReplyWindow time.Duration
	// PageAfter and PageSupervisorAfter: an urgent case unclaimed this
	// long pages the on-call officer, then the supervisor.
	PageAfter, PageSupervisorAfter time.Duration
}

// Options configures the handlers.
type Options struct {
	Intake   Intake
	Triage   Triage
	Officers Officers
	// Ready reports whether a tip could be made durable right now.
	Ready func(ctx context.Context) error
	// PublicURL is the base URL Twilio calls; signatures are checked
	// against it and never against the Host header.
	PublicURL string
	// AuthToken signs Twilio's webhooks.
	AuthToken []byte
	// AccountSID is the Twilio account whose webhooks are taken: a webhook
	// naming another account is refused. Empty: not checked.
	AccountSID string
	// MaxBody bounds a request body.
	MaxBody int64
	Logger  *slog.Logger
	// Agencies are listed to officers for transfers.
	Agencies []AgencyInfo
	// Regions holds each agency's regions as a GeoJSON FeatureCollection
	// (geo.Index.Drawing), served to its officers to draw the map; an
	// agency missing here gets an empty collection.
	Regions map[string][]byte
	// Deadlines are the gateway's reply window and paging deadlines, told
	// to officers in GET /api/v1/me so that their console shows the rules
	// the gateway applies.
	Deadlines Deadlines
	// EventInterval is how often the live queue view is refreshed.
	EventInterval time.Duration
	// SMS is the SMS and WhatsApp channel behind POST /twilio/sms.
	SMS SMSChannel
	// Voice is the voice channel behind POST /twilio/voice and
	// /twilio/voice/recording; nil: those answer 503.
	Voice VoiceChannel
	// Questions carries officers' messages to witnesses (web follow-up).
	Questions Questions
	// Handles carries a case's reply handle to the agency a tip is
	// transferred to; nil: no handles to carry.
	Handles Handles
	// Metrics counts rejected requests; nil counts nothing.
	Metrics Metrics
	// MetricsHandler, if set, serves GET /metrics on this router too
	// (metrics.on_main_listener); by default /metrics is not found here.
	MetricsHandler http.Handler
	// Web configures the witness form (/report, /followup); it is served
	// only when Web.Channel is set.
	Web WebOptions
}

// Server holds the handlers.
type Server struct {
	opt    Options
	router *mux.Router
	fwd    forwardedWatch // see forwarded.go
	snaps  snapshots      // see events
	lists  lists          // see listTips
	web    *webPages      // nil without the form
}

// New returns the gateway's HTTP handler.
func New(opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = 64 << 10
	}
	s := &Server{opt: opt, router: mux.NewRouter()}
	r := s.router
	r.Use(s.recoverPanics, s.securityHeaders, s.accessLog)
	r.NotFoundHandler = s.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respondText(w, http.StatusNotFound, "not found")
	}))
	r.MethodNotAllowedHandler = s.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respondText(w, http.StatusMethodNotAllowed, "method not allowed")
	}))

	r.Handle("/healthz", s.text(s.healthz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", s.text(s.readyz)).Methods(http.MethodGet, http.MethodHead)
	if opt.MetricsHandler != nil {
		r.Handle("/metrics", opt.MetricsHandler).Methods(http.MethodGet, http.MethodHead)
	}
	r.Handle("/twilio/sms", s.text(s.twilioSMS)).Methods(http.MethodPost)
	r.Handle("/twilio/status", s.text(s.twilioStatus)).Methods(http.MethodPost)
	r.Handle("/twilio/voice", s.text(s.twilioVoice)).Methods(http.MethodPost)
	r.Handle("/twilio/voice/recording", s.text(s.twilioRecording)).Methods(http.MethodPost)

	s.routesAPI(r)
	s.routesWeb(r)
	return s
}

// ServeHTTP serves the gateway. The strict headers are also set before
// routing, so that what the router answers itself (its redirect of unclean
// paths such as /a/../b) carries them too.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.noteForwarded(r)
	s.securityHeaders(s.router).ServeHTTP(w, r)
}

// wrap applies the middleware to handlers mux calls outside its chain
// (not found, method not allowed).
func (s *Server) wrap(h http.Handler) http.Handler {
	return s.recoverPanics(s.securityHeaders(s.accessLog(h)))
}

// The handlers' own refusals, of the kinds that become their status.
var (
	errBadRequest = fault.New(fault.Invalid, "bad request")
	errForbidden  = fault.New(fault.Forbidden, "forbidden")
	errTooLarge   = fault.New(fault.TooLarge, "request too large")
	errAuth       = fault.New(fault.Unauthenticated, "unauthorized")
)

// statusOf is the status of each kind of failure.
var statusOf = map[fault.Kind]int{
	fault.Invalid:         http.StatusBadRequest,
	fault.Unauthenticated: http.StatusUnauthorized,
	fault.Forbidden:       http.StatusForbidden,
	fault.NotFound:        http.StatusNotFound,
	fault.Conflict:        http.StatusConflict,
	fault.TooLarge:        http.StatusRequestEntityTooLarge,
	fault.RateLimited:     http.StatusTooManyRequests,
	fault.Upstream:        http.StatusBadGateway,
	fault.Unavailable:     http.StatusServiceUnavailable,
}

// classify maps an error to a status and a short safe message: the public
// message of its kind (gateway/fault), or 500 for an error of no kind. It
// is the one place where errors become statuses, for text, JSON and the
// web pages alike.
func classify(err error) (int, string) {
	kind, msg := fault.Of(err)
	if status, ok := statusOf[kind]; ok {
		return status, msg
	}
	return http.StatusInternalServerError, "internal error"
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// text serves plain-text routes (webhooks, health).
func (s *Server) text(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			status, msg := classify(err)
			s.logError(r, status, err)
			s.countRejected(r, err, status)
			if status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "5")
			}
			respondText(w, status, msg)
		}
	})
}

// json serves API routes.
func (s *Server) json(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			status, msg := classify(err)
			s.logError(r, status, err)
			switch status {
			case http.StatusUnauthorized:
				w.Header().Set("WWW-Authenticate", `Bearer realm="hotline"`)
			case http.StatusServiceUnavailable:
				w.Header().Set("Retry-After", "5")
			}
			respondJSON(w, status, map[string]string{"error": msg})
		}
	})
}

// logError logs server-side failures once. Client errors are counted by the
// access log; their details are the client's input and are not logged.
func (s *Server) logError(r *http.Request, status int, err error) {
	if status >= 500 {
		s.opt.Logger.Error("request failed", "route", routeName(r), "status", status, "err", err)
	}
}

func respondText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)+1))
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	respondText(w, http.StatusOK, "ok")
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.opt.Ready(ctx); err != nil {
			return fault.New(fault.Unavailable, "not ready")
		}
	}
	respondText(w, http.StatusOK, "ready")
	return nil
}
