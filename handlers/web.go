package handlers

// The witness web form (/report) and follow-up page (/followup).
//
// It must work on a cheap phone, in a library and in Tor Browser at its
// safest setting, so every page is rendered on the server from embedded
// templates, works fully without JavaScript, and loads nothing from anyone
// else. JavaScript, where it runs, only adds: "use my location", a quick exit
// that replaces the page and its history entry, and solving the
// proof-of-work challenge while the form is flooded.
//
// It must leave no trace: no cookie is ever set, no page is cached, the
// referrer is never sent, and the client's address is never stored or
// logged; the rate limit keys on an HMAC of the address's /24 or /64.

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/photo"
	"github.com/redis/go-redis/v9"
)

//go:embed web/templates/*.html web/static/*
var webFS embed.FS

// Followups keeps the witnesses' follow-up threads (gateway/followup.Store).
type Followups interface {
	Create(ctx context.Context, code, caseRef string) (string, error)
	SetAgencies(ctx context.Context, handle string, agencies []string) error
	Open(ctx context.Context, code string) (*followup.Thread, error)
	AddAnswer(ctx context.Context, handle, text string) error
	MarkUrgent(ctx context.Context, handle string) error
	Delete(ctx context.Context, handle string) error
}

// Rate is a number of requests per period.
type Rate struct {
	Count  int64
	Period time.Duration
}

// PoW modes.
const (
	PoWOff    = "off"
	PoWFlood  = "flood"
	PoWAlways = "always"
)

// WebOptions configures the web form. The zero value serves the form with
// in-memory rate limits and no follow-up page; Keyer is required.
type WebOptions struct {
	// Followups keeps follow-up threads; nil turns receipt codes and
	// /followup off.
	Followups Followups
	// Keyer makes the network pseudonyms of the rate limit and the
	// proof-of-work key.
	Keyer *pseudonym.Keyer
	// Redis shares rate limits, the flood counter and spent challenges
	// between gateway instances; nil keeps them in memory (one instance,
	// tests).
	Redis  redis.UniversalClient
	Prefix string
	// OnionAddress (http://....onion) is advertised with Onion-Location on
	// the clearnet listener. It chooses no rate limit (see ViaOnion).
	OnionAddress string
	// ExitURL is the neutral page of the quick exit.
	ExitURL string
	// TrustedProxies may set X-Forwarded-For.
	TrustedProxies []*net.IPNet
	// RateLimit is per network for accepted reports and follow-up
	// openings; InvalidRateLimit, per network too, for refused posts
	// (invalid, empty, failed proof of work), so that junk from a network
	// cannot spend the bucket of a witness there. The onion ones are the
	// same for all requests that came through the onion listener together.
	RateLimit             Rate
	OnionRateLimit        Rate
	InvalidRateLimit      Rate
	OnionInvalidRateLimit Rate
	// PoW is PoWOff, PoWFlood or PoWAlways; PoWBits the work; PoWFlood the
	// submissions a minute that make a flood; PoWWait the age at which a
	// challenge passes without work (for browsers without JavaScript; zero
	// or less: never).
	PoW      string
	PoWBits  int
	PoWFlood int
	PoWWait  time.Duration
	// MaxPhoto bounds one uploaded photo, in bytes.
	MaxPhoto int64
	// PhotoBudget is the memory all photo decoding of the process may hold
	// at once (gateway/photo.Budget); nil gives the form one of
	// photo.DefaultBudget.
	PhotoBudget *photo.Budget
	// PhotoWait is how long a photo waits for its share of PhotoBudget
	// before the report is sent without it (default 60s).
	PhotoWait time.Duration
	// Emergency maps an agency id to its emergency number
	// (agencies[].emergency), shown to a witness whose urgent report the
	// agency receives.
	Emergency map[string]string
	Now       func() time.Time
}

func (o *WebOptions) defaults() {
	if o.ExitURL == "" {
		o.ExitURL = "https://www.google.com/"
	}
	if o.RateLimit.Count <= 0 {
		o.RateLimit = Rate{30, time.Hour}
	}
	if o.OnionRateLimit.Count <= 0 {
		o.OnionRateLimit = Rate{300, time.Hour}
	}
	if o.InvalidRateLimit.Count <= 0 {
		o.InvalidRateLimit = Rate{120, time.Hour}
	}
	if o.OnionInvalidRateLimit.Count <= 0 {
		o.OnionInvalidRateLimit = Rate{1200, time.Hour}
	}
	if o.PoW == "" {
		o.PoW = PoWFlood
	}
	if o.PoWBits <= 0 {
		o.PoWBits = 16
	}
	if o.PoWFlood <= 0 {
		o.PoWFlood = 60
	}
	if o.MaxPhoto <= 0 {
		o.MaxPhoto = 10 << 20
	}
	if o.Prefix == "" {
		o.Prefix = "hl"
	}
	if o.PhotoBudget == nil {
		o.PhotoBudget = photo.NewBudget(0)
	}
	if o.PhotoWait <= 0 {
		o.PhotoWait = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// web holds what the web routes share.
type web struct {
	srv     *Server
	opt     WebOptions
	pages   map[string]*template.Template
	locales *locales
	guard   *guard
	onion   string // host of OnionAddress
	// decoders bound the photos being decoded at once to half the CPUs,
	// so that a burst of large photos leaves the other half to the SMS
	// webhook, which must answer within seconds. (Memory is bounded apart,
	// by PhotoBudget.)
	decoders chan struct{}
	// slots bound the form submissions being taken in at once. A
	// submission costs milliseconds of CPU (the follow-up key, sealing);
	// a flood must not starve the SMS webhook, whose requests hold none.
	slots chan struct{}
}

// webSlotWait is how long a submission waits for a slot before the
// witness is told to send again (with the text kept).
const webSlotWait = 3 * time.Second

// routesWeb registers the web form. Without a Keyer it registers nothing:
// the rate limit cannot be keyed safely.
func (s *Server) routesWeb(r *mux.Router) {
	o := s.opt.Web
	if o.Keyer == nil {
		return
	}
	o.defaults()
	w := &web{srv: s, opt: o, locales: mustLoadLocales(), pages: mustParsePages(),
		decoders: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2)),
		slots:    make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
	if u, err := url.Parse(o.OnionAddress); err == nil && o.OnionAddress != "" {
		w.onion = strings.ToLower(u.Hostname())
	}
	w.guard = newGuard(o, s.opt.Logger)
	w.guard.failedSafe = s.countFailedSafe

	r.Handle("/", http.RedirectHandler("/report", http.StatusSeeOther)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/report", w.page(w.reportForm)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/report", w.page(w.reportSubmit)).Methods(http.MethodPost)
	if o.Followups != nil {
		r.Handle("/followup", w.page(w.followupPage)).Methods(http.MethodGet, http.MethodHead, http.MethodPost)
	}
	r.Handle("/static/{name}", http.HandlerFunc(serveStatic)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/favicon.ico", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent) // no icon: nothing to fetch, nothing to log
	})).Methods(http.MethodGet, http.MethodHead)
}

// page serves an HTML route: a fresh CSP nonce, the page's own headers, and
// a localized error page for errors the handler did not render itself.
func (w *web) page(h func(rw http.ResponseWriter, r *http.Request, p *pageData) error) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p := w.newPage(r)
		w.pageHeaders(rw, r, p)
		if err := h(rw, r, p); err != nil {
			status, key := webClassify(err)
			w.refused(r, status, err)
			p.Error = p.L.T(key)
			w.render(rw, status, "message", p)
		}
	})
}

// pageHeaders replaces the default CSP with the page's: scripts only with
// this response's nonce (the one external file), styles and images only from
// here, forms posting only here. Geolocation is allowed for the page itself
// ("use my location"), nothing else.
func (w *web) pageHeaders(rw http.ResponseWriter, r *http.Request, p *pageData) {
	h := rw.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+p.Nonce+"'; style-src 'self'; img-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; require-trusted-types-for 'script'")
	h.Set("Permissions-Policy", "geolocation=(self), camera=(), microphone=(), interest-cohort=()")
	h.Set("Content-Language", p.Lang)
	h.Set("Vary", "Accept-Language")
	if w.onion != "" && !FromOnion(r) {
		h.Set("Onion-Location", strings.TrimRight(w.opt.OnionAddress, "/")+r.URL.Path)
	}
}

// pageData is what every template sees.
type pageData struct {
	L       *catalog
	Lang    string
	Langs   []langChoice
	Nonce   string
	ExitURL string
	Path    string
	Error   string
	Notice  string

	Form       reportForm
	PhotoAgain bool // the form came back without the photos the witness chose
	PoW        *powChallenge
	MaxPhoto   int // MiB, for the hint
	Receipt    *receiptView
	Followup   bool // the follow-up page exists
	Thread     *threadView
	Code       string
	Answer     string
}

type langChoice struct {
	Tag, Name string
	Current   bool
}

type receiptView struct {
	Case, Code string
	CodeGroups []string
	// Urgent: the witness ticked Urgent; Emergency is the number of the
	// agency (first with one) the report was routed to.
	Urgent    bool
	Emergency string
	// PhotoDropped: the report was sent without its photo.
	PhotoDropped bool
}

type threadView struct {
	Case     string
	Urgent   bool
	Messages []messageView
}

type messageView struct {
	Officer  bool
	Text     string
	Datetime string // RFC 3339, UTC: the page's script shows it in local time
	Ago      string // "5 min ago", in the page's language, for pages without script
}

func (w *web) newPage(r *http.Request) *pageData {
	b := make([]byte, 18)
	rand.Read(b)
	lang := w.locales.pick(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
	p := &pageData{L: w.locales.get(lang), Lang: lang, Nonce: base64.RawURLEncoding.EncodeToString(b),
		ExitURL: w.opt.ExitURL, Path: r.URL.Path, MaxPhoto: int(w.opt.MaxPhoto >> 20),
		Followup: w.opt.Followups != nil}
	p.setLangs(w.locales)
	return p
}

// setLang switches the page to the language a form posted (lang field).
func (p *pageData) setLang(ls *locales, lang string) {
	if tag, ok := ls.exact(lang); ok {
		p.Lang, p.L = tag, ls.get(tag)
		p.setLangs(ls)
	}
}

func (p *pageData) setLangs(ls *locales) {
	p.Langs = p.Langs[:0]
	for _, tag := range ls.order {
		p.Langs = append(p.Langs, langChoice{Tag: tag, Name: ls.get(tag).T("lang_name"), Current: tag == p.Lang})
	}
}

func (w *web) render(rw http.ResponseWriter, status int, name string, p *pageData) {
	rw.Header().Set("Content-Language", p.Lang)
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		rw.Header().Set("Retry-After", "60")
	}
	var buf strings.Builder
	if err := w.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		// A template bug, never input: the templates are fixed at build.
		respondText(rw, http.StatusInternalServerError, "internal error")
		return
	}
	rw.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	rw.WriteHeader(status)
	rw.Write([]byte(buf.String()))
}

func mustParsePages() map[string]*template.Template {
	pages := map[string]*template.Template{}
	for _, name := range []string{"report", "sent", "followup", "message"} {
		t := template.Must(template.New(name).ParseFS(webFS, "web/templates/layout.html", "web/templates/"+name+".html"))
		pages[name] = t
	}
	return pages
}

// staticTypes are the only files served from web/static.
var staticTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
}

func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	ctype, ok := staticTypes[path.Ext(name)]
	if !ok || strings.Contains(name, "..") {
		respondText(w, http.StatusNotFound, "not found")
		return
	}
	b, err := fs.ReadFile(webFS, "web/static/"+name)
	if err != nil {
		respondText(w, http.StatusNotFound, "not found")
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}

// Errors of the web pages, each with the message key shown to the witness.
type webError struct {
	status int
	key    string
}

func (e *webError) Error() string { return e.key }

var (
	errWebEmpty      = &webError{http.StatusBadRequest, "err_empty"}
	errWebTooLong    = &webError{http.StatusRequestEntityTooLarge, "err_too_long"}
	errWebBodyLarge  = &webError{http.StatusRequestEntityTooLarge, "err_body_large"}
	errWebPhotoLarge = &webError{http.StatusRequestEntityTooLarge, "err_photo_large"}
	errWebPhotoBad   = &webError{http.StatusBadRequest, "err_photo_bad"}
	errWebPhotoMany  = &webError{http.StatusRequestEntityTooLarge, "err_photo_many"}
	errWebCoords     = &webError{http.StatusBadRequest, "err_coords"}
	errWebRate       = &webError{http.StatusTooManyRequests, "err_rate"}
	errWebBusy       = &webError{http.StatusTooManyRequests, "err_busy"}
	errWebBad        = &webError{http.StatusBadRequest, "err_bad_request"}
	// A bot filled the hidden field. It gets the generic error, never a
	// fake receipt: a person whose browser autofilled it must not be told
	// a report was sent when it was not.
	errWebHoneypot    = &webError{http.StatusBadRequest, "err_bad_request"}
	errWebCodeBad     = &webError{http.StatusBadRequest, "err_code_bad"}
	errWebCodeUnknown = &webError{http.StatusNotFound, "err_code_unknown"}
	errWebUnavailable = &webError{http.StatusServiceUnavailable, "err_unavailable"}
)

// refused logs (5xx only) and counts a refused web request by reason.
func (w *web) refused(r *http.Request, status int, err error) {
	w.srv.logError(r, status, err)
	switch {
	case errors.Is(err, errWebHoneypot):
		w.srv.reject(metrics.Honeypot)
	case status == http.StatusServiceUnavailable:
		w.srv.reject(metrics.Unavailable)
	case status == http.StatusNotFound: // a receipt code that opens nothing
		w.srv.reject(metrics.BadRequest)
	default:
		w.srv.countRejected(err, status)
	}
}

// webClassify maps an error to a status and the key of a short, safe,
// translated message: the web pages' counterpart of classify.
func webClassify(err error) (int, string) {
	var we *webError
	if errors.As(err, &we) {
		return we.status, we.key
	}
	switch {
	case errors.Is(err, gateway.ErrEmpty), errors.Is(err, followup.ErrEmpty):
		return errWebEmpty.status, errWebEmpty.key
	case errors.Is(err, gateway.ErrTooLong), errors.Is(err, followup.ErrTooLong):
		return errWebTooLong.status, errWebTooLong.key
	case errors.Is(err, followup.ErrBadCode):
		return errWebCodeBad.status, errWebCodeBad.key
	case errors.Is(err, followup.ErrNotFound):
		return errWebCodeUnknown.status, errWebCodeUnknown.key
	case errors.Is(err, followup.ErrUnavailable), errors.Is(err, followup.ErrFull):
		return errWebUnavailable.status, errWebUnavailable.key
	}
	switch status, _ := classify(err); {
	case status == http.StatusRequestEntityTooLarge:
		return status, errWebBodyLarge.key
	case status >= 500:
		return http.StatusServiceUnavailable, errWebUnavailable.key
	default:
		return errWebBad.status, errWebBad.key
	}
}
