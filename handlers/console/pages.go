package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/geo/svgmap"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

// view is what every page's template sees.
type view struct {
	c       *Console
	Lang    string
	Langs   []string
	Form    string
	Me      officerapi.Officer
	Flash   *flash
	Title   string
	Page    any
	CaseID  string // the case page's case, for its event stream
	Seen    int    // how many of its messages the case page shows
	Nothing bool
}

// T is a message in the page's language.
func (v *view) T(key string, n ...any) string { return v.c.tr.text(v.Lang, key, n...) }

// Supervisor reports whether the officer is a supervisor.
func (v *view) Supervisor() bool { return v.Me.Role == "supervisor" }

func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"clean":  clean,
		"short":  short,
		"clock":  func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
		"unixms": func(t time.Time) int64 { return t.UnixMilli() },
		"deref":  func(t *time.Time) time.Time { return *t },
		"langName": func(l string) string {
			return map[string]string{"en": "English", "es": "Español", "ms": "Bahasa Melayu"}[l]
		},
	}
}

// pageFunc renders one page: it returns the template's name and data, or
// an error shown as a page.
type pageFunc func(w http.ResponseWriter, r *http.Request, v *view) (string, error)

func (c *Console) newView(r *http.Request, s *session) *view {
	s.mu.Lock()
	l := s.lang
	s.mu.Unlock()
	return &view{c: c, Lang: l, Langs: languages, Form: s.form, Me: c.me}
}

func (c *Console) page(p pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(r)
		v := c.newView(r, s)
		name, err := p(w, r, v)
		if name == "" && err == nil {
			return // answered
		}
		if err != nil {
			v.Flash = &flash{What: v.T("error.what", c.explain(v, err)), Next: c.hint(v, err)}
			name, v.Page = "error", nil
		} else {
			v.Flash = s.takeFlash()
		}
		var buf bytes.Buffer
		if err := c.pages.ExecuteTemplate(&buf, name, v); err != nil {
			c.opt.Logger.Error("console: a page did not render", "page", name, "err", err)
			http.Error(w, "the page did not render", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(buf.Bytes())
	}
}

// explain says what went wrong, without a tip's content.
func (c *Console) explain(v *view, err error) string {
	var ae *officerapi.Error
	var oe *officerapi.OpenError
	var wi *officerapi.WrongIdentityError
	switch {
	case errors.As(err, &wi):
		return v.T("error.identity")
	case errors.As(err, &oe):
		return v.T("error.open")
	case errors.As(err, &ae):
		return fmt.Sprintf("%d: %s", ae.Status, short(ae.Message, 200))
	default:
		return v.T("error.gateway")
	}
}

// hint says what to do next.
func (c *Console) hint(v *view, err error) string {
	var ae *officerapi.Error
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		return v.T("hint.token")
	case errors.As(err, &ae) && (ae.Status == http.StatusConflict || ae.Status == http.StatusNotFound):
		return v.T("hint.state")
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		return v.T("hint.forbidden")
	case errors.As(err, &ae):
		return v.T("hint.retry")
	default:
		return v.T("hint.reach")
	}
}

// row is one case of the queue as shown.
type row struct {
	ID, Case, Priority, Channel, Region, State, Holder string
	Mine, Escalated                                    bool
	Messages                                           int
	Age                                                string
	Deadline                                           string // paging: what happened or when
	Late                                               bool
}

type queueData struct {
	ClaimID bool // a waiting case can be claimed by its row
	Rows    []row
	Err     bool
	Waiting int
	Held    int
	Paging  string
}

func (c *Console) queueData(v *view) queueData {
	tips, err := c.hub.queue()
	now := c.opt.Now()
	_, claimID := c.opt.API.(tipClaimer)
	d := queueData{ClaimID: claimID, Err: err != nil, Paging: v.T("queue.paging", c.opt.PageAfter.String()+" / "+c.opt.PageSupervisorAfter.String())}
	for _, t := range tips {
		age := now.Sub(t.ReceivedAt)
		r := row{ID: t.ID, Case: t.Case, Priority: t.Priority, Channel: t.Channel, Region: t.Region, State: t.State,
			Holder: t.Holder, Mine: t.Holder != "" && t.Holder == c.me.ID, Escalated: t.Escalated, Age: roundAge(age),
			Messages: t.MessageCount}
		if n := c.names[t.Holder]; n != "" && !r.Mine {
			r.Holder = n + " (" + t.Holder + ")"
		}
		switch t.State {
		case "waiting":
			d.Waiting++
			if t.Priority == "urgent" {
				switch {
				case age >= c.opt.PageSupervisorAfter:
					r.Deadline, r.Late = v.T("queue.paged_supervisor"), true
				case age >= c.opt.PageAfter:
					r.Deadline, r.Late = v.T("queue.paged_oncall", roundAge(c.opt.PageSupervisorAfter-age)), true
				default:
					r.Deadline = v.T("queue.page_in", roundAge(c.opt.PageAfter-age))
				}
			}
		case "held":
			d.Held++
		}
		d.Rows = append(d.Rows, r)
	}
	return d
}

func roundAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	default:
		return d.Round(time.Minute).String()
	}
}

func (c *Console) queuePage(w http.ResponseWriter, r *http.Request, v *view) (string, error) {
	v.Title = v.T("queue.title")
	v.Page = c.queueData(v)
	return "queue", nil
}

// queueRows is the queue's table body alone, fetched by the page's script
// when the queue changed.
func (c *Console) queueRows(w http.ResponseWriter, r *http.Request, v *view) (string, error) {
	v.Page = c.queueData(v)
	return "rows", nil
}

// shown is one message of a case as shown.
type shown struct {
	N          int
	ID         string
	Channel    string
	ReceivedAt time.Time
	Text       string
	From       string
	Contact    string
	Language   string
	Urgent     bool
	Images     []string // media keys
	Audio      []audio
	Other      []string // what was not shown, and why
	Location   *gateway.ReportLocation
	Routing    gateway.Routing
}

type audio struct {
	Key       string
	DurationS int
}

type caseData struct {
	Tip          officerapi.Listed
	Mine         bool
	Messages     []shown
	Notes        []officerapi.OpenedNote
	Map          template.HTML
	MapMissing   bool
	HasPoint     bool
	Lat, Lon     float64
	Dispositions []string
	Reasons      []string
	Overrides    []string
	Agencies     []officerapi.Agency
	ReplyWindow  bool
	ReplyUntil   time.Time
	ReplyOpen    bool
	ReplyLeft    string
	Followup     string
	LeaseUntil   *time.Time
}

// The rules the forms show: as queue.Dispositions, queue.EscalationReasons
// and sms.OverrideReasons.
var (
	dispositions = []string{"dispatched", "referred", "duplicate", "no_action", "false_report"}
	reasons      = []string{"urgent", "supervisor", "other"}
	overrides    = []string{"life_at_risk", "reporter_asked", "supervisor_approved"}
)

func (c *Console) casePage(w http.ResponseWriter, r *http.Request, v *view) (string, error) {
	id := mux.Vars(r)["id"]
	ctx := r.Context()
	t, err := c.opt.API.Tip(ctx, id)
	if err != nil {
		return "", err
	}
	reps, err := officerapi.OpenCase(c.opt.Identities, t)
	if err != nil {
		return "", err
	}
	s := sessionOf(r)
	d := caseData{Tip: t, Mine: t.State == "held" && t.Holder == c.me.ID, Dispositions: dispositions, Reasons: reasons,
		Overrides: overrides, LeaseUntil: t.LeaseUntil}
	var last time.Time
	var highlight []string
	for i, rep := range reps {
		highlight = append(highlight, rep.Routing.Regions...)
		if rep.Location != nil && rep.Location.Region != "" {
			highlight = append(highlight, rep.Location.Region)
		}
		m := shown{N: i + 1, ID: rep.TipID, Channel: string(rep.Channel), ReceivedAt: rep.ReceivedAt, Text: clean(rep.Text),
			From: clean(rep.From), Contact: clean(rep.Contact), Language: clean(rep.Language), Urgent: rep.Urgent,
			Location: rep.Location, Routing: rep.Routing}
		for _, md := range rep.Media {
			kind, ctype := sniff(md.Data)
			switch {
			case len(md.Data) == 0:
				m.Other = append(m.Other, v.T("case.media_missing", short(md.Error, 120)))
			case kind == "image":
				m.Images = append(m.Images, s.keep(media{contentType: ctype, data: md.Data}))
			case kind == "audio":
				m.Audio = append(m.Audio, audio{Key: s.keep(media{contentType: ctype, data: md.Data}), DurationS: md.DurationS})
			default:
				m.Other = append(m.Other, v.T("case.media_other", short(md.ContentType, 60)))
			}
		}
		if rep.Location != nil && (rep.Location.Lat != 0 || rep.Location.Lon != 0) {
			d.HasPoint, d.Lat, d.Lon = true, rep.Location.Lat, rep.Location.Lon
		}
		if rep.Followup != "" {
			d.Followup = rep.Followup
		}
		if rep.ReceivedAt.After(last) {
			last = rep.ReceivedAt
		}
		d.Messages = append(d.Messages, m)
	}
	if t.Channel != "web" && t.Channel != "voice" {
		d.ReplyWindow = true
		d.ReplyUntil = last.Add(c.opt.ReplyWindow)
		left := d.ReplyUntil.Sub(c.opt.Now())
		d.ReplyOpen = left > 0
		d.ReplyLeft = roundAge(left)
	}
	if d.Notes, err = c.opt.API.OpenNotes(ctx, id, c.opt.Identities); err != nil {
		return "", err
	}
	if d.Mine {
		as, err := c.opt.API.Agencies(ctx)
		if err != nil {
			return "", err
		}
		for _, a := range as {
			if a.ID != c.me.Agency {
				d.Agencies = append(d.Agencies, a)
			}
		}
	}
	d.Map, d.MapMissing = c.drawMap(ctx, d.HasPoint, d.Lat, d.Lon, highlight)
	v.Title = v.T("case.title", short(t.Case, 40))
	v.CaseID, v.Seen = t.ID, len(d.Messages)
	v.Page = d
	return "case", nil
}

// sniff tells an image or a recording from its bytes, by an allow-list:
// what the reporter's phone said it was is not trusted.
func sniff(b []byte) (kind, ctype string) {
	ct := http.DetectContentType(b)
	switch ct {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
		return "image", ct
	case "audio/wave", "audio/mpeg", "audio/aiff", "audio/basic":
		return "audio", ct
	case "application/ogg":
		return "audio", "audio/ogg"
	}
	return "", ct
}

// mediaFile serves a decrypted attachment kept for this session.
func (c *Console) mediaFile(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	s.mu.Lock()
	m, ok := s.media[mux.Vars(r)["key"]]
	s.mu.Unlock()
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", m.contentType)
	w.Header().Set("Content-Disposition", "inline")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(m.data))
}

type supervisorData struct {
	Verify   officerapi.AuditVerification
	Officers []officerapi.OfficerInfo
	Entries  []auditRow
	Counts   officerapi.Counts
	Prios    []string
}

// auditRow is one entry of the trail as shown: the fields an officer reads,
// the officer named; the chain's own fields (mac, prev) are the gateway's
// to verify.
type auditRow struct {
	Seq, At, Action, Officer, Tip, Detail string
}

func (c *Console) supervisorPage(w http.ResponseWriter, r *http.Request, v *view) (string, error) {
	v.Title = v.T("sup.title")
	if c.me.Role != "supervisor" {
		v.Page = nil
		v.Nothing = true
		return "supervisor", nil
	}
	entries, err := c.opt.API.Audit(r.Context(), "", 200)
	if err != nil {
		return "", err
	}
	counts, err := c.opt.API.Counts(r.Context())
	if err != nil {
		return "", err
	}
	d := supervisorData{Counts: counts}
	if d.Verify, err = c.opt.API.VerifyAudit(r.Context()); err != nil {
		return "", err
	}
	if d.Officers, err = c.opt.API.Officers(r.Context()); err != nil {
		return "", err
	}
	for p := range counts.Waiting {
		d.Prios = append(d.Prios, p)
	}
	for p := range counts.Held {
		if !slices.Contains(d.Prios, p) {
			d.Prios = append(d.Prios, p)
		}
	}
	sort.Strings(d.Prios)
	names := map[string]string{}
	for _, o := range d.Officers {
		names[o.ID] = o.Name
	}
	field := func(e officerapi.AuditEntry, k string) string {
		if v, ok := e[k]; ok && v != nil {
			return short(fmt.Sprint(v), 80)
		}
		return ""
	}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		who := field(e, "officer")
		if n := names[fmt.Sprint(e["officer"])]; n != "" {
			who = short(n, 60) + " (" + who + ")"
		}
		d.Entries = append(d.Entries, auditRow{Seq: field(e, "seq"), At: field(e, "at"), Action: field(e, "action"),
			Officer: who, Tip: field(e, "tip"), Detail: field(e, "detail")})
	}
	v.Page = d
	return "supervisor", nil
}

// actionFunc does one action and says what happened and what to do next;
// it returns where to go after.
type actionFunc func(r *http.Request, v *view) (to string, f *flash)

func (c *Console) action(a actionFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(r)
		v := c.newView(r, s)
		to, f := a(r, v)
		s.setFlash(f)
		http.Redirect(w, r, to, http.StatusSeeOther)
	}
}

func (c *Console) failed(v *view, err error) *flash {
	return &flash{What: v.T("error.what", c.explain(v, err)), Next: c.hint(v, err)}
}

func (c *Console) claim(r *http.Request, v *view) (string, *flash) {
	t, _, err := c.opt.API.Next(r.Context(), c.opt.Identities)
	var re *officerapi.ReleasedError
	switch {
	case errors.As(err, &re):
		return "/", &flash{What: v.T("claim.released"), Next: v.T("hint.identity")}
	case err != nil:
		return "/", c.failed(v, err)
	case t == nil:
		return "/", &flash{OK: true, What: v.T("claim.empty"), Next: v.T("claim.empty_next")}
	}
	c.hub.refresh(r.Context())
	return "/case/" + t.ID, &flash{OK: true, What: v.T("claim.done", short(t.Case, 40)), Next: v.T("claim.next")}
}

// tipClaimer is an API that claims a chosen case (POST
// /api/v1/tips/{id}/claim, officerapi.Client.NextID): with it, each waiting
// row of the queue has its own claim button.
type tipClaimer interface {
	NextID(ctx context.Context, ids *seal.Identities, id string) (*officerapi.Claimed, *gateway.Report, error)
}

func (c *Console) setLang(r *http.Request, v *view) (string, *flash) {
	l := r.PostForm.Get("lang")
	to := "/"
	if back := r.PostForm.Get("back"); strings.HasPrefix(back, "/case/") && !strings.ContainsAny(back, "?#\\") && len(back) < 100 {
		to = back
	}
	if c.tr.known(l) {
		s := sessionOf(r)
		s.mu.Lock()
		s.lang = l
		s.mu.Unlock()
	}
	return to, nil
}

func (c *Console) caseAction(r *http.Request, v *view) (string, *flash) {
	id, action := mux.Vars(r)["id"], mux.Vars(r)["action"]
	back, queuePage := "/case/"+id, "/"
	ctx := r.Context()
	f := r.PostForm
	var err error
	// The next page shows the queue after the action.
	defer c.hub.refresh(r.Context())
	switch action {
	case "claim":
		tc, ok := c.opt.API.(tipClaimer)
		if !ok {
			return queuePage, &flash{What: v.T("claim.id_unsupported"), Next: v.T("claim.id_unsupported_next")}
		}
		var re *officerapi.ReleasedError
		var t *officerapi.Claimed
		t, _, err = tc.NextID(ctx, c.opt.Identities, id)
		switch {
		case errors.As(err, &re):
			return queuePage, &flash{What: v.T("claim.released"), Next: v.T("hint.identity")}
		case err == nil:
			return "/case/" + t.ID, &flash{OK: true, What: v.T("claim.done", short(t.Case, 40)), Next: v.T("claim.next")}
		}
		return queuePage, c.failed(v, err)
	case "ack":
		d := f.Get("disposition")
		if !slices.Contains(dispositions, d) {
			return back, &flash{What: v.T("ack.pick"), Next: v.T("ack.pick_next")}
		}
		if _, err = c.opt.API.Ack(ctx, id, d); err == nil {
			return queuePage, &flash{OK: true, What: v.T("ack.done", v.T("disp."+d)), Next: v.T("ack.next")}
		}
	case "release":
		if _, err = c.opt.API.Release(ctx, id); err == nil {
			return queuePage, &flash{OK: true, What: v.T("release.done"), Next: v.T("release.next")}
		}
	case "renew":
		if _, err = c.opt.API.Renew(ctx, id); err == nil {
			return back, &flash{OK: true, What: v.T("renew.done"), Next: v.T("renew.next")}
		}
	case "escalate":
		reason := f.Get("reason")
		if !slices.Contains(reasons, reason) {
			return back, &flash{What: v.T("escalate.pick"), Next: v.T("escalate.pick_next")}
		}
		if _, err = c.opt.API.Escalate(ctx, id, reason); err == nil {
			return queuePage, &flash{OK: true, What: v.T("escalate.done"), Next: v.T("escalate.next")}
		}
	case "transfer":
		to := f.Get("to")
		if to == "" {
			return back, &flash{What: v.T("transfer.pick"), Next: v.T("transfer.pick_next")}
		}
		var tr officerapi.Transferred
		if tr, err = c.opt.API.TransferTo(ctx, id, to, c.opt.Identities); err == nil {
			return queuePage, &flash{OK: true, What: v.T("transfer.done", short(to, 40)), Next: v.T("transfer.next", tr.Notes)}
		}
	case "note":
		text := strings.TrimSpace(f.Get("text"))
		if text == "" {
			return back, &flash{What: v.T("note.empty"), Next: v.T("note.empty_next")}
		}
		if _, _, err = c.opt.API.Note(ctx, id, text, c.opt.Now()); err == nil {
			return back, &flash{OK: true, What: v.T("note.done"), Next: v.T("note.next")}
		}
	case "reply":
		text := strings.TrimSpace(f.Get("text"))
		override := f.Get("override")
		if text == "" {
			return back, &flash{What: v.T("reply.empty"), Next: v.T("reply.empty_next")}
		}
		if override != "" && !slices.Contains(overrides, override) {
			return back, &flash{What: v.T("reply.bad_override"), Next: v.T("reply.override_next")}
		}
		var ans officerapi.Answer
		if ans, err = c.opt.API.Reply(ctx, id, officerapi.Reply{Text: text, Override: override, Followup: f.Get("followup")}); err == nil {
			if ans["status"] == "posted" {
				return back, &flash{OK: true, What: v.T("reply.posted"), Next: v.T("reply.posted_next")}
			}
			return back, &flash{OK: true, What: v.T("reply.sent"), Next: v.T("reply.next")}
		}
		var ae *officerapi.Error
		if errors.As(err, &ae) && strings.Contains(ae.Message, "window") {
			return back, &flash{What: v.T("error.what", short(ae.Message, 200)), Next: v.T("reply.override_next")}
		}
	default:
		return back, &flash{What: v.T("error.unknown_action"), Next: v.T("hint.state")}
	}
	return back, c.failed(v, err)
}

// drawMap draws the agency's regions with the case's point, as inline SVG
// made here (no tile server; svgmap escapes every name). It reports a map
// that cannot be drawn as missing rather than failing the case page.
func (c *Console) drawMap(ctx context.Context, has bool, lat, lon float64, highlight []string) (template.HTML, bool) {
	if c.opt.Regions == nil {
		return "", true
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c.mu.Lock()
	prev := c.regions
	c.mu.Unlock()
	rm, err := c.opt.Regions(ctx, prev)
	if err != nil {
		c.opt.Logger.Warn("console: the agency's regions could not be fetched", "err", err)
		return "", true
	}
	c.mu.Lock()
	c.regions = &rm
	c.mu.Unlock()
	var pt *svgmap.Point
	if has {
		pt = &svgmap.Point{Lat: lat, Lon: lon}
	}
	svg, err := svgmap.Render(rm.GeoJSON, pt, svgmap.Options{Width: 640, Height: 480, Highlight: highlight})
	if err != nil {
		c.opt.Logger.Warn("console: the map could not be drawn", "err", err)
		return "", true
	}
	return svg, false
}
