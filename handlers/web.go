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
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/web"
)

//go:embed web/templates/*.html web/static/*
var webFS embed.FS

// WebOptions configures the web form's pages; they are served only when
// Channel is set.
type WebOptions struct {
	// Channel takes the reports and answers (gateway/web).
	Channel *web.Channel
	// OnionAddress (http://....onion) is advertised with Onion-Location on
	// the clearnet listener. It chooses no rate limit (see ViaOnion).
	OnionAddress string
	// ExitURL is the neutral page of the quick exit.
	ExitURL string
	// TrustedProxies may set X-Forwarded-For.
	TrustedProxies []*net.IPNet
	// UploadMemory is what the photos of all reports being read may hold
	// at once (0: DefaultUploadMemory); UploadWait, how long a photo waits
	// for it (0: 10 s).
	UploadMemory int64
	UploadWait   time.Duration
}

// webPages holds what the web routes share.
type webPages struct {
	srv     *Server
	opt     WebOptions
	ch      *web.Channel
	pages   map[string]*template.Template
	locales *locales
	onion   string // host of OnionAddress
	uploads *uploads
}

// routesWeb registers the web form. Without a channel it registers
// nothing.
func (s *Server) routesWeb(r *mux.Router) {
	o := s.opt.Web
	if o.Channel == nil {
		return
	}
	if o.ExitURL == "" {
		o.ExitURL = "https://www.google.com/"
	}
	w := &webPages{srv: s, opt: o, ch: o.Channel, locales: mustLoadLocales(), pages: mustParsePages(), uploads: newUploads(o.UploadMemory, o.UploadWait)}
	s.web = w
	if u, err := url.Parse(o.OnionAddress); err == nil && o.OnionAddress != "" {
		w.onion = strings.ToLower(u.Hostname())
	}

	r.Handle("/", http.RedirectHandler("/report", http.StatusSeeOther)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/report", w.page(w.reportForm)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/report", w.page(w.reportSubmit)).Methods(http.MethodPost)
	if w.ch.Followups() {
		r.Handle("/followup", w.page(w.followupPage)).Methods(http.MethodGet, http.MethodHead, http.MethodPost)
	}
	r.Handle("/static/{name}", http.HandlerFunc(serveStatic)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/favicon.ico", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent) // no icon: nothing to fetch, nothing to log
	})).Methods(http.MethodGet, http.MethodHead)
}

// page serves an HTML route: a fresh CSP nonce, the page's own headers, and
// a localized error page for errors the handler did not render itself.
func (w *webPages) page(h func(rw http.ResponseWriter, r *http.Request, p *pageData) error) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p := w.newPage(r)
		w.pageHeaders(rw, r, p)
		if err := h(rw, r, p); err != nil {
			w.renderError(rw, r, err, "message", p)
		}
	})
}

// pageHeaders replaces the default CSP with the page's: scripts only with
// this response's nonce (the one external file), styles and images only from
// here, forms posting only here. Geolocation is allowed for the page itself
// ("use my location"), nothing else.
func (w *webPages) pageHeaders(rw http.ResponseWriter, r *http.Request, p *pageData) {
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
	PoW        *web.Challenge
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

// Tel is the emergency number as a tel: link takes it: without the spaces
// people write in it ("+60 3-2266 2222"), which RFC 3966 does not allow.
func (r *receiptView) Tel() string { return strings.ReplaceAll(r.Emergency, " ", "") }

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

func (w *webPages) newPage(r *http.Request) *pageData {
	b := make([]byte, 18)
	rand.Read(b)
	lang := w.locales.pick(r.URL.Query().Get("lang"), r.Header.Get("Accept-Language"))
	p := &pageData{L: w.locales.get(lang), Lang: lang, Nonce: base64.RawURLEncoding.EncodeToString(b),
		ExitURL: w.opt.ExitURL, Path: r.URL.Path, MaxPhoto: int(w.ch.MaxPhoto() >> 20),
		Followup: w.ch.Followups()}
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

func (w *webPages) render(rw http.ResponseWriter, status int, name string, p *pageData) {
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

// The web pages' own refusals: the form could not be read as sent, or was
// sent by another site's page (errCrossSite).
var (
	errPhotoLarge = fault.New(fault.TooLarge, "photo too large")
	errPhotoMany  = fault.New(fault.TooLarge, "too many photos")
	errCrossSite  = fault.New(fault.Invalid, "cross-site request")
)

// crossSite reports a request another site's page made the browser send
// (Fetch Metadata; browsers without it send none, and are let through): a
// hostile page must not make its visitors post reports, nor try receipt
// codes. The form's own pages, the onion site's included, are same-origin.
func crossSite(r *http.Request) bool { return r.Header.Get("Sec-Fetch-Site") == "cross-site" }

// webMessages are the keys of the translated messages the web pages show
// for errors; an error not listed gets its kind's (webKindMessages), and
// the page's status is its kind's, from classify.
var webMessages = []struct {
	err error
	key string
}{
	{gateway.ErrEmpty, "err_empty"}, {followup.ErrEmpty, "err_empty"},
	{gateway.ErrTooLong, "err_too_long"}, {followup.ErrTooLong, "err_too_long"},
	{errPhotoLarge, "err_photo_large"}, {errPhotoMany, "err_photo_many"},
	{web.ErrPhotoBad, "err_photo_bad"}, {web.ErrCoords, "err_coords"}, {web.ErrWorkNeeded, "err_busy"},
	{followup.ErrBadCode, "err_code_bad"}, {followup.ErrNotFound, "err_code_unknown"},
	{errCrossSite, "err_bad_request"},
}

var webKindMessages = map[fault.Kind]string{
	fault.TooLarge:    "err_body_large",
	fault.RateLimited: "err_rate",
	fault.Unavailable: "err_unavailable",
}

// webClassify maps an error to a status (classify's) and the key of a
// short, safe, translated message. A failure of ours is a 503: the witness
// is told the report was not sent, to send it again.
func webClassify(err error) (int, string) {
	status, _ := classify(err)
	if status >= 500 {
		return http.StatusServiceUnavailable, "err_unavailable"
	}
	for _, m := range webMessages {
		if errors.Is(err, m.err) {
			return status, m.key
		}
	}
	kind, _ := fault.Of(err)
	if key, ok := webKindMessages[kind]; ok {
		return status, key
	}
	return status, "err_bad_request"
}

// renderError logs (5xx only) and counts a refused web request, and shows
// page with the error's message.
func (w *webPages) renderError(rw http.ResponseWriter, r *http.Request, err error, page string, p *pageData) {
	status, key := webClassify(err)
	w.srv.logError(r, status, err)
	switch {
	case errors.Is(err, web.ErrHoneypot):
		w.srv.reject(r, metrics.Honeypot)
	case status == http.StatusServiceUnavailable:
		w.srv.reject(r, metrics.Unavailable)
	case status == http.StatusNotFound: // a receipt code that opens nothing
		w.srv.reject(r, metrics.BadRequest)
	default:
		w.srv.countRejected(r, err, status)
	}
	if errors.Is(err, web.ErrWorkNeeded) {
		p.Error = p.L.F(key, int(w.ch.WorkWait().Seconds()))
	} else {
		p.Error = p.L.T(key)
	}
	w.render(rw, status, page, p)
}

// origin is where r came from, as the channel's rate limits see it.
func (w *webPages) origin(r *http.Request) web.Origin {
	return web.Origin{IP: clientIP(r, w.opt.TrustedProxies), Onion: FromOnion(r)}
}

// clientIP is the address of the client: the connection's, or, when the
// connection comes from a trusted proxy, the nearest address in
// X-Forwarded-For that is not itself a trusted proxy. Never logged.
func clientIP(r *http.Request, trusted []*net.IPNet) net.IP {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil || !inNets(ip, trusted) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := net.ParseIP(strings.TrimSpace(hops[i]))
		if hop == nil {
			break // a garbled header: keep the last address we can trust
		}
		ip = hop
		if !inNets(hop, trusted) {
			break
		}
	}
	return ip
}

func inNets(ip net.IP, nets []*net.IPNet) bool {
	for _, n := range nets {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// ViaOnion serves h for the onion listener (config web.onion_listen):
// the requests it serves, and only those, count in the onion rate limits.
// Which listener a request came through is the one thing a client cannot
// write; the Host header is whatever it likes.
func ViaOnion(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), onionKey{}, true)))
	})
}

type onionKey struct{}

// FromOnion reports whether r came through the onion listener (ViaOnion).
func FromOnion(r *http.Request) bool {
	v, _ := r.Context().Value(onionKey{}).(bool)
	return v
}
