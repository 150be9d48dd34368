package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
	"golang.org/x/sync/singleflight"
)

// routesAPI registers the officer API. Routes under /agencies/{agency}
// refuse a token of another agency with 403; the short forms act on the
// token's own agency.
func (s *Server) routesAPI(r *mux.Router) {
	api := r.PathPrefix("/api/v1").Subrouter()
	api.Handle("/openapi.yaml", s.text(s.openAPI)).Methods(http.MethodGet)
	authed := api.NewRoute().Subrouter()
	authed.Use(s.authenticate, s.noteWrites)
	authed.Handle("/me", s.json(s.me)).Methods(http.MethodGet)
	authed.Handle("/agencies", s.json(s.agencies)).Methods(http.MethodGet)
	authed.Handle("/events", http.HandlerFunc(s.events)).Methods(http.MethodGet)
	const get, post = http.MethodGet, http.MethodPost
	routes := []struct {
		method, path string
		h            handlerFunc
	}{
		{get, "/tips", s.listTips}, {get, "/counts", s.counts}, {get, "/audit", s.auditLog},
		{post, "/tips/claim", s.claim}, {post, "/tips/{id}/claim", s.claimTip}, {get, "/tips/{id}", s.showTip},
		{post, "/tips/{id}/ack", s.ack}, {post, "/tips/{id}/release", s.release},
		{post, "/tips/{id}/renew", s.renew}, {post, "/tips/{id}/escalate", s.escalate},
		{post, "/tips/{id}/transfer", s.transfer},
		{get, "/tips/{id}/notes", s.notes}, {post, "/tips/{id}/notes", s.addNote},
		{post, "/tips/{id}/reply", s.reply},
	}
	for _, prefix := range []string{"", "/agencies/{agency}"} {
		for _, rt := range routes {
			authed.Handle(prefix+rt.path, s.json(rt.h)).Methods(rt.method)
			// The same routes under /cases: a tip's routes act on its case.
			if c, ok := strings.CutPrefix(rt.path, "/tips"); ok {
				authed.Handle(prefix+"/cases"+c, s.json(rt.h)).Methods(rt.method)
			}
		}
	}
	s.routesConsole(authed) // console_api.go
}

// ListedJSON is a tip's clear metadata.
type ListedJSON struct {
	TipMeta
	State       string     `json:"state"`
	Holder      string     `json:"holder,omitempty"`
	LeaseUntil  *time.Time `json:"lease_until,omitempty"`
	Deliveries  int64      `json:"deliveries"`
	Escalated   bool       `json:"escalated,omitempty"`
	Disposition string     `json:"disposition,omitempty"`
	ClosedBy    string     `json:"closed_by,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	Sealed      []byte     `json:"sealed,omitempty"`
	// A case: how many messages, when the last arrived, and (shown only)
	// the messages in order.
	MessageCount int           `json:"message_count"`
	LastAt       time.Time     `json:"last_at"`
	Messages     []MessageJSON `json:"messages,omitempty"`
}

func listedJSON(l *queue.Listed) ListedJSON {
	j := ListedJSON{TipMeta: TipMeta{ID: l.TipID, Case: l.Case, Agency: l.Agency, Region: l.Region, Channel: l.Channel,
		Priority: string(l.Priority), ReceivedAt: l.ReceivedAt}, State: l.State, Holder: l.Holder,
		Deliveries: l.Deliveries, Escalated: l.Escalated, MessageCount: l.MessageCount, LastAt: l.LastAt}
	if !l.LeaseUntil.IsZero() {
		t := l.LeaseUntil.UTC()
		j.LeaseUntil = &t
	}
	if c := l.Closed; c != nil {
		j.Disposition, j.ClosedBy = string(c.Disposition), c.Officer
		t := c.At
		j.ClosedAt = &t
	}
	return j
}

func (s *Server) listTips(w http.ResponseWriter, r *http.Request) error {
	o := officerOf(r)
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	list, err := s.lists.get(r.Context(), s.opt.Triage, o.Agency, limit)
	if err != nil {
		return err
	}
	out := make([]ListedJSON, 0, len(list))
	for i := range list {
		out = append(out, listedJSON(&list[i]))
	}
	respondJSON(w, http.StatusOK, map[string]any{"tips": out})
	return nil
}

func (s *Server) counts(w http.ResponseWriter, r *http.Request) error {
	c, err := s.opt.Triage.Count(r.Context(), officerOf(r).Agency)
	if err != nil {
		return err
	}
	respondJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) showTip(w http.ResponseWriter, r *http.Request) error {
	o := officerOf(r)
	l, sealed, err := s.opt.Triage.Open(r.Context(), o.Agency, mux.Vars(r)["id"], o.ID, o.Role == officer.RoleSupervisor)
	if err != nil {
		return err
	}
	j := listedJSON(l)
	j.Sealed, j.Messages = sealed, messagesJSON(l.Messages)
	respondJSON(w, http.StatusOK, j)
	return nil
}

func (s *Server) escalate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if !slices.Contains(queue.EscalationReasons, req.Reason) {
		return fault.New(fault.Invalid, "unknown reason: use urgent, supervisor or other")
	}
	o, id := officerOf(r), mux.Vars(r)["id"]
	if err := s.opt.Triage.Escalate(r.Context(), o.Agency, id, o.ID, req.Reason); err != nil {
		return err
	}
	respondJSON(w, http.StatusOK, map[string]string{"id": id, "status": "escalated"})
	return nil
}

// maxResealed bounds a re-sealed tip or a sealed note sent by an officer.
const maxResealed = 48 << 20

// Handles moves reply handles between agencies.
type Handles interface {
	CopyHandle(ctx context.Context, from, to, caseRef string) (bool, error)
	// UncopyHandle takes back the copy of a transfer that failed.
	UncopyHandle(ctx context.Context, from, to, caseRef string) error
	// DeleteHandle finds a handle kept with the case's tips through
	// tipIDs (their metadata outlives the case's closing).
	DeleteHandle(ctx context.Context, agency, caseRef string, tipIDs ...string) error
	Retarget(ctx context.Context, from, to, caseRef string) error
}

// transfer hands a held tip to another agency with its notes, both
// re-sealed by the officer's client, and the case's reply handle, so that
// the receiving agency can read everything and reply. The handle is copied
// before the transfer and the old one deleted after it: a failure on the
// way leaves the tip where it was, never an agency without a way to reply.
func (s *Server) transfer(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Agency string   `json:"agency"`
		Sealed []byte   `json:"sealed"`
		Notes  [][]byte `json:"notes"`
		// Messages are the case's later messages (all but the first,
		// which is Sealed), re-sealed, in order.
		Messages [][]byte `json:"messages"`
		// Followup is a web tip's follow-up handle, from the sealed report:
		// the witness's page then takes the receiving agency's questions.
		Followup string `json:"followup"`
	}
	if err := decodeJSONLimit(w, r, &req, maxResealed); err != nil {
		return err
	}
	if !slices.ContainsFunc(s.opt.Agencies, func(a AgencyInfo) bool { return a.ID == req.Agency }) {
		return fault.New(fault.Invalid, "unknown agency")
	}
	if !isAgeFile(req.Sealed) {
		return fault.New(fault.Invalid, "sealed must be an age file")
	}
	for _, n := range req.Notes {
		if !isAgeFile(n) {
			return fault.New(fault.Invalid, "notes must be age files")
		}
	}
	for _, m := range req.Messages {
		if !isAgeFile(m) {
			return fault.New(fault.Invalid, "messages must be age files")
		}
	}
	o, id := officerOf(r), mux.Vars(r)["id"]
	l, err := s.opt.Triage.Meta(r.Context(), o.Agency, id)
	if err != nil {
		return err
	}
	if l.State != queue.StateHeld || l.Holder != o.ID {
		return queue.ErrNotHeld
	}
	copied := false
	if s.opt.Handles != nil && l.Channel != "web" {
		if copied, err = s.opt.Handles.CopyHandle(r.Context(), o.Agency, req.Agency, l.Case); err != nil {
			return fmt.Errorf("failed to carry the reply handle: %w", err)
		}
	}
	var page []string // the follow-up page's agencies before the transfer
	if req.Followup != "" && l.Channel == "web" && s.opt.Questions != nil {
		info, err := s.opt.Questions.Info(r.Context(), req.Followup)
		if errors.Is(err, followup.ErrUnavailable) {
			return err
		}
		if err != nil || info.Case != l.Case || !slices.Contains(info.Agencies, o.Agency) {
			return fault.New(fault.Invalid, "followup is not this tip's follow-up page")
		}
		page = info.Agencies
		if err := s.opt.Questions.SetAgencies(r.Context(), req.Followup, replaceAgency(page, "", req.Agency)); err != nil {
			return err
		}
	}
	resealed := append([][]byte{req.Sealed}, req.Messages...)
	if err := s.opt.Triage.TransferCase(r.Context(), o.Agency, id, o.ID, req.Agency, resealed, req.Notes); err != nil {
		if copied {
			s.opt.Handles.UncopyHandle(context.WithoutCancel(r.Context()), o.Agency, req.Agency, l.Case)
		}
		if page != nil {
			s.opt.Questions.SetAgencies(context.WithoutCancel(r.Context()), req.Followup, page)
		}
		return err
	}
	if page != nil {
		if err := s.opt.Questions.SetAgencies(r.Context(), req.Followup, replaceAgency(page, o.Agency, req.Agency)); err != nil {
			s.opt.Logger.Warn("transferred, but the old agency may still post to the follow-up page", "tip", id, "err", err)
		}
	}
	if copied {
		if err := s.opt.Handles.DeleteHandle(r.Context(), o.Agency, l.Case, l.TipID); err != nil {
			// The tip is transferred; the old agency's copy expires with
			// its TTL and is destroyed when its case is purged.
			s.opt.Logger.Warn("transferred, but the old reply handle was not deleted", "tip", id, "err", err)
		}
		if err := s.opt.Handles.Retarget(r.Context(), o.Agency, req.Agency, l.Case); err != nil {
			s.opt.Logger.Warn("transferred, but the reporter's thread still points at the old agency", "tip", id, "err", err)
		}
	}
	respondJSON(w, http.StatusOK, map[string]string{"id": id, "status": "transferred", "agency": req.Agency})
	return nil
}

// replaceAgency returns agencies with from replaced by to (from "": to
// added), each once.
func replaceAgency(agencies []string, from, to string) []string {
	out := make([]string, 0, len(agencies)+1)
	for _, a := range append(slices.Clone(agencies), to) {
		if a != from && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// isAgeFile checks the header line of a binary age file, so that an
// officer's client cannot store plaintext by mistake.
func isAgeFile(b []byte) bool {
	const magic = "age-encryption.org/v1\n"
	return len(b) > len(magic) && string(b[:len(magic)]) == magic
}

func (s *Server) notes(w http.ResponseWriter, r *http.Request) error {
	o := officerOf(r)
	notes, err := s.opt.Triage.Notes(r.Context(), o.Agency, mux.Vars(r)["id"], o.ID, o.Role == officer.RoleSupervisor)
	if err != nil {
		return err
	}
	respondJSON(w, http.StatusOK, map[string]any{"notes": notes})
	return nil
}

func (s *Server) addNote(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Sealed []byte `json:"sealed"`
	}
	if err := decodeJSONLimit(w, r, &req, 512<<10); err != nil {
		return err
	}
	if !isAgeFile(req.Sealed) {
		return fault.New(fault.Invalid, "sealed must be an age file")
	}
	o, id := officerOf(r), mux.Vars(r)["id"]
	if err := s.opt.Triage.AddNote(r.Context(), o.Agency, id, o.ID, o.Role == officer.RoleSupervisor, req.Sealed); err != nil {
		return err
	}
	respondJSON(w, http.StatusCreated, map[string]string{"id": id, "status": "noted"})
	return nil
}

// Questions posts officers' messages to a witness's follow-up page.
type Questions interface {
	Info(ctx context.Context, handle string) (followup.Info, error)
	PostQuestion(ctx context.Context, handle, text string) error
	// SetAgencies records the agencies that may post to the page (a
	// transfer moves it to the receiving agency).
	SetAgencies(ctx context.Context, handle string, agencies []string) error
}

// maxReplyBody fits the longest message to a witness in any script with
// every character escaped by the officer's JSON encoder (\uXXXX, 6 bytes),
// and the other fields: the text's own limit, in characters, is checked
// where it is kept, so a long text in Thai is never refused for its bytes.
const maxReplyBody = 6*followup.MaxMessageChars + 4<<10

// reply sends an officer's message to the reporter, through the channel the
// tip came from: SMS or WhatsApp by the case's sealed reply handle, or the
// witness's follow-up page (whose handle is in the sealed report, which
// only the officer's client can read).
func (s *Server) reply(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Text     string `json:"text"`
		Override string `json:"override"`
		Followup string `json:"followup"`
	}
	if err := decodeJSONLimit(w, r, &req, maxReplyBody); err != nil {
		return err
	}
	o, id := officerOf(r), mux.Vars(r)["id"]
	l, err := s.opt.Triage.Meta(r.Context(), o.Agency, id)
	if err != nil {
		return err
	}
	if (l.State != queue.StateHeld || l.Holder != o.ID) && o.Role != officer.RoleSupervisor {
		return queue.ErrNotHolder
	}
	if l.Channel == "web" {
		if s.opt.Questions == nil || req.Followup == "" {
			return fault.New(fault.Conflict, "this witness has no follow-up page")
		}
		info, err := s.opt.Questions.Info(r.Context(), req.Followup)
		if errors.Is(err, followup.ErrUnavailable) {
			return err
		}
		if err != nil || info.Case != l.Case || !slices.Contains(info.Agencies, o.Agency) {
			return fault.New(fault.Conflict, "this witness has no follow-up page")
		}
		if err := s.opt.Questions.PostQuestion(r.Context(), req.Followup, req.Text); err != nil {
			if errors.Is(err, followup.ErrUnavailable) {
				return err
			}
			return fault.New(fault.Invalid, "the message was not posted")
		}
		if err := s.opt.Triage.Audit(r.Context(), o.Agency, queue.AuditReply, o.ID, l.TipID, "followup"); err != nil {
			return err
		}
		respondJSON(w, http.StatusOK, map[string]string{"id": id, "status": "posted", "channel": "web"})
		return nil
	}
	if s.opt.SMS == nil {
		return fault.New(fault.Conflict, "replies are not configured")
	}
	// Its errors give the officer a clear reason, never the reporter's
	// number.
	// The audit names the case's item, whichever id the officer gave.
	if err := s.opt.SMS.Reply(r.Context(), o.Agency, l.Case, l.TipID, o.ID, req.Text, req.Override); err != nil {
		return err
	}
	respondJSON(w, http.StatusOK, map[string]string{"id": id, "status": "sent", "channel": l.Channel})
	return nil
}

// agencies lists the agencies; empty lists are [] rather than null, as the
// document says.
func (s *Server) agencies(w http.ResponseWriter, r *http.Request) error {
	out := make([]AgencyInfo, 0, len(s.opt.Agencies))
	for _, a := range s.opt.Agencies {
		if a.Recipients == nil {
			a.Recipients = []string{}
		}
		out = append(out, a)
	}
	respondJSON(w, http.StatusOK, map[string]any{"agencies": out})
	return nil
}

// auditLog is for supervisors: the trail names who did what.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	o, err := supervisor(r)
	if err != nil {
		return err
	}
	count, _ := strconv.ParseInt(r.URL.Query().Get("count"), 10, 64)
	if count <= 0 || count > 1000 {
		count = 100
	}
	from := r.URL.Query().Get("after")
	if from != "" && !streamID.MatchString(from) {
		return errBadRequest
	}
	log, err := s.opt.Triage.AuditLog(r.Context(), o.Agency, from, count)
	if err != nil {
		return err
	}
	respondJSON(w, http.StatusOK, map[string]any{"entries": log})
	return nil
}

// events streams the agency's queue counts as Server-Sent Events, an
// "urgent" event whenever more urgent tips are waiting than before, and an
// "appended" event to the officer holding a case when a message is
// appended to it.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	o := officerOf(r)
	interval := s.opt.EventInterval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// The stream is open before the first walk ends (a flood's takes
	// long): a console knows it is connected.
	if err := rc.Flush(); err != nil {
		return
	}
	lastUrgent := -1
	seen := map[string]int{}
	for {
		start := time.Now()
		// One walk of the queue for all of the agency's streams.
		snap, took, err := s.snaps.get(r.Context(), s.opt.Triage, o.Agency, interval)
		var c queue.Counts
		var appended []queue.Appended
		if err == nil {
			c = snap.Counts
			appended, err = s.opt.Triage.Appended(r.Context(), o.Agency, snap, seen)
		}
		// A walk that took long (a flood's queue: every open item is
		// read) waits four times as long before the next: the streams
		// keep the gateway walking a fifth of the time at most.
		wait := max(interval, watchRest*took)
		// The server's write timeout would cut a long stream: extend it
		// one step at a time, so a vanished client is still dropped.
		rc.SetWriteDeadline(time.Now().Add(3*wait + 5*time.Second))
		for _, a := range appended {
			if a.Holder != o.ID {
				continue
			}
			b, _ := json.Marshal(map[string]string{"id": a.Item, "case": a.Case, "tip": a.Tip, "priority": string(a.Priority)})
			fmt.Fprintf(w, "event: appended\ndata: %s\n\n", b)
		}
		if err != nil {
			fmt.Fprintf(w, "event: error\ndata: {\"error\":\"queue unavailable\"}\n\n")
		} else {
			b, _ := json.Marshal(c)
			fmt.Fprintf(w, "event: counts\ndata: %s\n\n", b)
			if u := c.Waiting[queue.Urgent]; lastUrgent >= 0 && u > lastUrgent || lastUrgent < 0 && u > 0 {
				fmt.Fprintf(w, "event: urgent\ndata: {\"waiting\":%d}\n\n", u)
			}
			lastUrgent = c.Waiting[queue.Urgent]
		}
		if err := rc.Flush(); err != nil {
			return
		}
		next := time.NewTimer(time.Until(start.Add(wait)))
		select {
		case <-r.Context().Done():
			next.Stop()
			return
		case <-next.C:
		}
	}
}

// watchRest is how many times as long as a walk of the queue took the
// event streams wait before the next one, if that is longer than their
// interval (see also snapshot.usable).
const watchRest = 5

// snapshots shares a walk of an agency's open items (queue.Snapshot) among
// its event streams: a stream takes the agency's last walk if it is fresh
// enough (fresh), or joins the one under way (singleflight); else a new
// walk begins. Ten consoles open during a flood cost one walk an interval,
// not ten.
type snapshots struct {
	walks singleflight.Group // by agency
	mu    sync.Mutex
	last  map[string]*snapshot // each agency's last walk that succeeded
}

// snapshot is a walk done.
type snapshot struct {
	began time.Time
	took  time.Duration
	snap  *queue.Snapshot
}

// fresh: begun less than fresh ago, or less than watchRest times its walk
// ago (the agency's streams together keep the gateway walking a fifth of
// the time at most).
func (sn *snapshot) fresh(fresh time.Duration) bool {
	return time.Since(sn.began) < max(fresh, watchRest*sn.took)
}

// maxWalk bounds a walk or a list that requests wait for, whatever becomes
// of the request that began it.
const maxWalk = time.Minute

// get returns a snapshot of agency's open items (see snapshot.fresh), and
// how long its walk took.
func (s *snapshots) get(ctx context.Context, t Triage, agency string, fresh time.Duration) (*queue.Snapshot, time.Duration, error) {
	s.mu.Lock()
	if s.last == nil {
		s.last = map[string]*snapshot{}
	}
	for a, old := range s.last {
		// An agency no stream follows any more lets its last go.
		if a != agency && time.Since(old.began) > maxWalk {
			delete(s.last, a)
		}
	}
	last := s.last[agency]
	s.mu.Unlock()
	if last != nil && last.fresh(fresh) {
		return last.snap, last.took, nil
	}
	v, err := shared(ctx, &s.walks, agency, func(ctx context.Context) (*snapshot, error) {
		began := time.Now()
		snap, err := t.Snapshot(ctx, agency)
		if err != nil {
			return nil, err
		}
		sn := &snapshot{began: began, took: time.Since(began), snap: snap}
		s.mu.Lock()
		s.last[agency] = sn
		s.mu.Unlock()
		return sn, nil
	})
	if err != nil {
		return nil, 0, err
	}
	return v.snap, v.took, nil
}

// shared runs f under key in g, or joins the run under way, and waits for
// it while ctx lasts. The run is every waiter's, not the caller's: it goes
// on if the caller leaves, for maxWalk at most.
func shared[T any](ctx context.Context, g *singleflight.Group, key string, f func(context.Context) (T, error)) (T, error) {
	ch := g.DoChan(key, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), maxWalk)
		defer cancel()
		return f(rctx)
	})
	var zero T
	select {
	case r := <-ch:
		if r.Err != nil {
			return zero, r.Err
		}
		return r.Val.(T), nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// lists shares a list of an agency's queue among the requests that ask
// for it while it is read: in a flood a list takes long, and every console
// asks. Each officer action this gateway answers (on any agency's queue: a
// transfer writes to two; see noteWrites) starts a new group, so that the
// page after an action never shows a list begun before it. Nothing is kept
// once a list is done.
type lists struct {
	mu    sync.Mutex
	group *singleflight.Group
}

func (l *lists) get(ctx context.Context, t Triage, agency string, limit int) ([]queue.Listed, error) {
	l.mu.Lock()
	if l.group == nil {
		l.group = new(singleflight.Group)
	}
	g := l.group
	l.mu.Unlock()
	return shared(ctx, g, agency+" "+strconv.Itoa(limit), func(ctx context.Context) ([]queue.Listed, error) {
		return t.List(ctx, agency, limit)
	})
}

// noteWrite notes that an officer action just ended: the lists under way
// serve those who asked before it, and no one else.
func (l *lists) noteWrite() {
	l.mu.Lock()
	l.group = new(singleflight.Group)
	l.mu.Unlock()
}

// noteWrites tells lists of every officer request that may have changed
// a queue (any but GET and HEAD), once it is answered.
func (s *Server) noteWrites(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.lists.noteWrite()
		}
	})
}
