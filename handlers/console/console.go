// Package console is the duty officer's console: a small web server that
// runs on the officer's own machine, talks to the gateway's officer API with
// the officer's token, opens sealed tips there with the officer's identity,
// and shows them to a browser on the same machine only.
//
// What it protects against: the gateway, and anyone between it and the
// officer, never see a tip in clear (it is opened here, in Go); other users
// and programs of the machine, and web pages in the officer's browser,
// cannot reach what it shows. It listens on a loopback address only; the
// one-time secret in the printed URL is exchanged once (constant-time
// comparison) for an HttpOnly SameSite=Strict session cookie, and every
// request without that cookie is refused; a request whose Host is not the
// console's own (DNS rebinding) is refused; a POST must come from the
// console's own pages (Origin or Sec-Fetch-Site) and carry the session's
// form token. Every answer carries a strict Content-Security-Policy, no
// outside asset is ever loaded, and nothing is cached.
package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Defaults, with their reasons.
const (
	// DefaultRenewEvery is how often a case page that is open renews the
	// lease of the case it shows (the gateway's lease is 5 minutes by
	// default).
	DefaultRenewEvery = time.Minute
	// DefaultPollEvery is how often the queue is listed for the live view:
	// a new tip shows within this plus a page fetch.
	DefaultPollEvery = time.Second
	// maxForm bounds a form post: a reply or a note is a few KB.
	maxForm = 64 << 10
	// maxMedia bounds the media kept in memory for one session.
	maxMedia   = 64
	cookieName = "hotline_console"
)

// CSP is the Content-Security-Policy of every answer: the console's own
// script and style only, images from itself (and data: for nothing but the
// map's inline SVG fallbacks), nothing framed, no form sent elsewhere.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// API is what the console needs of the gateway (officerapi.Client).
type API interface {
	Me(ctx context.Context) (officerapi.Officer, error)
	List(ctx context.Context) ([]officerapi.Listed, error)
	Counts(ctx context.Context) (officerapi.Counts, error)
	Next(ctx context.Context, ids *seal.Identities) (*officerapi.Claimed, *gateway.Report, error)
	Tip(ctx context.Context, id string) (officerapi.Listed, error)
	OpenNotes(ctx context.Context, id string, ids *seal.Identities) ([]officerapi.OpenedNote, error)
	Note(ctx context.Context, id, text string, now time.Time) (officerapi.Answer, officerapi.Agency, error)
	Ack(ctx context.Context, id, disposition string) (officerapi.Answer, error)
	Release(ctx context.Context, id string) (officerapi.Answer, error)
	Renew(ctx context.Context, id string) (officerapi.Answer, error)
	Escalate(ctx context.Context, id, reason string) (officerapi.Answer, error)
	TransferTo(ctx context.Context, id, target string, ids *seal.Identities) (officerapi.Transferred, error)
	Reply(ctx context.Context, id string, r officerapi.Reply) (officerapi.Answer, error)
	Agencies(ctx context.Context) ([]officerapi.Agency, error)
	Audit(ctx context.Context, after string, count int) ([]officerapi.AuditEntry, error)
	VerifyAudit(ctx context.Context) (officerapi.AuditVerification, error)
	Officers(ctx context.Context) ([]officerapi.OfficerInfo, error)
	Watch(ctx context.Context, fn func(officerapi.Event) bool) error
}

// Options configure a console.
type Options struct {
	API        API
	Identities *seal.Identities
	Logger     *slog.Logger
	Now        func() time.Time
	// Regions gets the agency's regions for the case's map
	// (officerapi.Client.Regions); nil draws no map.
	Regions    func(ctx context.Context, prev *officerapi.RegionMap) (officerapi.RegionMap, error)
	RenewEvery time.Duration
	PollEvery  time.Duration
	// ReplyWindow and the paging deadlines are used where the gateway does
	// not say its own (GET /api/v1/me of an older gateway).
	ReplyWindow, PageAfter, PageSupervisorAfter time.Duration
}

// Console is one officer's console.
type Console struct {
	opt    Options
	me     officerapi.Officer
	secret []byte // the one-time URL's secret; nil once exchanged
	host   []string
	pages  *template.Template
	tr     *translations
	hub    *hub
	mu     sync.Mutex
	used   bool
	// regions is the last copy of the agency's regions (the gateway says
	// when it is still current).
	regions *officerapi.RegionMap
	names   map[string]string // officer id -> name, for a supervisor
	sess    map[[32]byte]*session
}

// session is one browser's session, after the one-time URL.
type session struct {
	mu    sync.Mutex
	form  string // the token every form posts
	lang  string
	flash *flash
	media map[string]media
	order []string
}

type media struct {
	contentType string
	data        []byte
}

// flash is what the last action did, shown once on the next page.
type flash struct {
	OK   bool
	What string
	Next string
}

// New checks the token (who it belongs to) and returns a console.
func New(ctx context.Context, opt Options) (*Console, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.RenewEvery <= 0 {
		opt.RenewEvery = DefaultRenewEvery
	}
	if opt.PollEvery <= 0 {
		opt.PollEvery = DefaultPollEvery
	}
	me, err := opt.API.Me(ctx)
	if err != nil {
		return nil, err
	}
	gatewaySays(&opt.ReplyWindow, me.ReplyWindowS)
	gatewaySays(&opt.PageAfter, me.PageAfterS)
	gatewaySays(&opt.PageSupervisorAfter, me.PageSupervisorAfterS)
	tr, err := loadTranslations()
	if err != nil {
		return nil, err
	}
	c := &Console{opt: opt, me: me, tr: tr, sess: map[[32]byte]*session{}, names: map[string]string{}}
	if me.Role == "supervisor" {
		// A supervisor sees who holds what by name (officers see ids:
		// the list of officers is for supervisors).
		if list, err := opt.API.Officers(ctx); err == nil {
			for _, o := range list {
				c.names[o.ID] = o.Name
			}
		}
	}
	c.pages, err = template.New("").Funcs(c.funcs()).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	c.secret = make([]byte, 32)
	rand.Read(c.secret)
	c.hub = newHub(c)
	return c, nil
}

// ErrNotLoopback is a listen address other machines could reach.
var ErrNotLoopback = errors.New("the console listens on a loopback address only (127.0.0.1, ::1 or localhost): what it shows is decrypted")

// Listen opens the console's listener; an address that is not loopback is
// refused.
func Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("bad listen address: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, ErrNotLoopback
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return ownUserListener(l), nil
}

// Serve serves the console on l until ctx ends. ready is called with the
// one-time URL once the console accepts connections.
func (c *Console) Serve(ctx context.Context, l net.Listener, ready func(url string)) error {
	port := l.Addr().(*net.TCPAddr).Port
	ip := l.Addr().(*net.TCPAddr).IP
	p := strconv.Itoa(port)
	c.host = []string{net.JoinHostPort(ip.String(), p), "localhost:" + p}
	srv := &http.Server{
		Handler:           c.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // the event stream extends its own
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(c.opt.Logger.Handler(), slog.LevelWarn),
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go c.hub.run(hctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	if ready != nil {
		ready(c.OneTimeURL())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer scancel()
	srv.Shutdown(sctx)
	return nil
}

// OneTimeURL is the URL that opens the console once.
func (c *Console) OneTimeURL() string {
	return "http://" + c.host[0] + "/?token=" + base64.RawURLEncoding.EncodeToString(c.secret)
}

// SetHost sets the console's own host:port (for a handler served by a test
// server).
func (c *Console) SetHost(hostport string) {
	_, p, _ := net.SplitHostPort(hostport)
	c.host = []string{hostport, "localhost:" + p}
}

// Handler is the console's HTTP handler, with every check.
func (c *Console) Handler() http.Handler {
	r := mux.NewRouter()
	static, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	r.PathPrefix("/static/").Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no listing
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		files.ServeHTTP(w, r)
	})).Methods(http.MethodGet)
	r.HandleFunc("/", c.page(c.queuePage)).Methods(http.MethodGet)
	r.HandleFunc("/queue/rows", c.page(c.queueRows)).Methods(http.MethodGet)
	r.HandleFunc("/events", c.events).Methods(http.MethodGet)
	r.HandleFunc("/case/{id}", c.page(c.casePage)).Methods(http.MethodGet)
	r.HandleFunc("/media/{key}", c.mediaFile).Methods(http.MethodGet)
	r.HandleFunc("/supervisor", c.page(c.supervisorPage)).Methods(http.MethodGet)
	r.HandleFunc("/claim", c.action(c.claim)).Methods(http.MethodPost)
	r.HandleFunc("/lang", c.action(c.setLang)).Methods(http.MethodPost)
	r.HandleFunc("/case/{id}/{action}", c.action(c.caseAction)).Methods(http.MethodPost)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "not found", http.StatusNotFound) })
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	})
	return c.guard(r)
}

// guard is every check before any handler: headers on every answer, the
// console's own Host, the one-time exchange, the session cookie, and the
// origin of a POST.
func (c *Console) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.StrictHeaders(w.Header(), CSP)
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w = noStore{w}
		if !c.ownHost(r.Host) {
			forbid(w)
			return
		}
		if r.URL.Path == "/" && r.URL.Query().Has("token") {
			c.exchange(w, r)
			return
		}
		s := c.session(r)
		if s == nil {
			forbid(w)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !c.sameOrigin(r) {
				forbid(w)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("form")), []byte(s.form)) != 1 {
				forbid(w)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

// noStore puts Cache-Control back on an answer whose handler took it off:
// http.ServeContent and the file server drop it on their errors (a range
// past the end of a decrypted photo, a file that is not there).
type noStore struct{ http.ResponseWriter }

func (w noStore) WriteHeader(code int) {
	w.Header().Set("Cache-Control", "no-store")
	w.ResponseWriter.WriteHeader(code)
}

func (w noStore) Write(b []byte) (int, error) {
	w.Header().Set("Cache-Control", "no-store")
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.NewResponseController reach the connection (the event
// stream flushes and sets its deadlines).
func (w noStore) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type sessionKey struct{}

func sessionOf(r *http.Request) *session { return r.Context().Value(sessionKey{}).(*session) }

func forbid(w http.ResponseWriter) { http.Error(w, "forbidden", http.StatusForbidden) }

// ownHost reports whether a Host header names the console itself.
func (c *Console) ownHost(host string) bool {
	for _, h := range c.host {
		if subtle.ConstantTimeCompare([]byte(host), []byte(h)) == 1 {
			return true
		}
	}
	return false
}

// sameOrigin reports whether a POST comes from the console's own pages.
func (c *Console) sameOrigin(r *http.Request) bool {
	// With Referrer-Policy no-referrer, a browser sends "Origin: null" on
	// a form post: Sec-Fetch-Site (which no page can set) decides then.
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		for _, h := range c.host {
			if o == "http://"+h {
				return true
			}
		}
		return false
	}
	if ref := r.Header.Get("Referer"); ref != "" && r.Header.Get("Origin") == "" {
		for _, h := range c.host {
			if len(ref) >= len(h)+8 && ref[:len(h)+8] == "http://"+h && (len(ref) == len(h)+7 || ref[len(h)+7] == '/') {
				return true
			}
		}
		return false
	}
	return r.Header.Get("Sec-Fetch-Site") == "same-origin"
}

// exchange trades the one-time secret for a session cookie, once.
func (c *Console) exchange(w http.ResponseWriter, r *http.Request) {
	got, err := base64.RawURLEncoding.DecodeString(r.URL.Query().Get("token"))
	c.mu.Lock()
	ok := err == nil && !c.used && subtle.ConstantTimeCompare(got, c.secret) == 1
	if !ok {
		c.mu.Unlock()
		forbid(w)
		return
	}
	c.used = true
	id := randomToken()
	s := &session{form: randomToken(), lang: c.tr.pick(r.Header.Get("Accept-Language")), media: map[string]media{}}
	c.sess[sha256.Sum256([]byte(id))] = s
	c.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// session finds the request's session by its cookie.
func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(cookieName)
	if err != nil || len(ck.Value) > 64 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess[sha256.Sum256([]byte(ck.Value))]
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// keep stores a decrypted attachment for this session and returns its URL
// key; the oldest goes when the session holds too many.
func (s *session) keep(m media) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := randomToken()
	s.media[k] = m
	s.order = append(s.order, k)
	for len(s.order) > maxMedia {
		old := s.order[0]
		clear(s.media[old].data)
		delete(s.media, old)
		s.order = s.order[1:]
	}
	return k
}

func (s *session) setFlash(f *flash) {
	s.mu.Lock()
	s.flash = f
	s.mu.Unlock()
}

func (s *session) takeFlash() *flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flash
	s.flash = nil
	return f
}

// gatewaySays sets d to the gateway's own value, in seconds, when it gave one.
func gatewaySays(d *time.Duration, seconds int64) {
	if seconds > 0 {
		*d = time.Duration(seconds) * time.Second
	}
}
