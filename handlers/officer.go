package handlers

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
)

type officerKey struct{}

// authenticate resolves the bearer token to an officer and enforces its
// agency scope: a route naming another agency is refused with 403.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deny := s.json(func(w http.ResponseWriter, r *http.Request) error { return errAuth })
		auth := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 200 {
			s.reject(r, metrics.Unauthorized)
			deny.ServeHTTP(w, r)
			return
		}
		o, err := s.opt.Officers.Authenticate(r.Context(), token)
		if err != nil {
			// Guessed, revoked or expired tokens show in hotline_rejected_total; Redis down does not.
			if kind, _ := fault.Of(err); kind == fault.Unauthenticated {
				s.reject(r, metrics.Unauthorized)
			}
			s.json(func(w http.ResponseWriter, r *http.Request) error { return err }).ServeHTTP(w, r)
			return
		}
		if a, ok := mux.Vars(r)["agency"]; ok && subtle.ConstantTimeCompare([]byte(a), []byte(o.Agency)) != 1 {
			s.json(func(w http.ResponseWriter, r *http.Request) error { return errForbidden }).ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), officerKey{}, o)))
	})
}

func officerOf(r *http.Request) officer.Officer {
	o, _ := r.Context().Value(officerKey{}).(officer.Officer)
	return o
}

// TipMeta is a tip's clear metadata, the same in every answer about a tip.
type TipMeta struct {
	ID         string    `json:"id"`
	Case       string    `json:"case"`
	Agency     string    `json:"agency"`
	Region     string    `json:"region,omitempty"`
	Channel    string    `json:"channel"`
	Priority   string    `json:"priority"`
	ReceivedAt time.Time `json:"received_at"`
}

// TipJSON is a claimed tip as the API returns it: clear metadata and the
// sealed report, which only the officer's identity opens.
type TipJSON struct {
	TipMeta
	ReplyCapable bool      `json:"reply_capable"`
	Deliveries   int64     `json:"deliveries"`
	LeaseUntil   time.Time `json:"lease_until"`
	Sealed       []byte    `json:"sealed"` // base64 of the binary age file
	// Messages are the case's messages in order, the first included.
	Messages []MessageJSON `json:"messages"`
}

// MessageJSON is one message of a case; Sealed only for its holder or a
// supervisor.
type MessageJSON struct {
	ID         string    `json:"id"`
	Channel    string    `json:"channel"`
	Priority   string    `json:"priority"`
	ReceivedAt time.Time `json:"received_at"`
	Sealed     []byte    `json:"sealed,omitempty"`
}

func messagesJSON(ms []queue.Message) []MessageJSON {
	out := make([]MessageJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, MessageJSON{ID: m.TipID, Channel: m.Channel, Priority: string(m.Priority),
			ReceivedAt: m.ReceivedAt, Sealed: m.Sealed})
	}
	return out
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	o := officerOf(r)
	d := s.opt.Deadlines
	respondJSON(w, http.StatusOK, map[string]any{"id": o.ID, "agency": o.Agency, "name": o.Name, "role": o.Role,
		"reply_window_s": int64(d.ReplyWindow.Seconds()), "page_after_s": int64(d.PageAfter.Seconds()),
		"page_supervisor_after_s": int64(d.PageSupervisorAfter.Seconds())})
	return nil
}

func (s *Server) claim(w http.ResponseWriter, r *http.Request) error {
	o := officerOf(r)
	c, err := s.opt.Triage.Claim(r.Context(), o.Agency, o.ID)
	if errors.Is(err, queue.ErrEmpty) {
		w.WriteHeader(http.StatusNoContent) // nothing waiting: not a failure
		return nil
	}
	if err != nil {
		return err
	}
	respondJSON(w, http.StatusOK, tipJSON(c))
	return nil
}

func tipJSON(c *queue.Claimed) TipJSON {
	return TipJSON{
		TipMeta: TipMeta{ID: c.TipID, Case: c.Case, Agency: c.Agency, Region: c.Region, Channel: c.Channel,
			Priority: string(c.Priority), ReceivedAt: c.ReceivedAt},
		ReplyCapable: c.ReplyCapable, Deliveries: c.Deliveries, LeaseUntil: c.LeaseUntil.UTC(), Sealed: c.Sealed,
		Messages: messagesJSON(c.Messages),
	}
}

// maxAPIBody bounds an API request body; the largest is an ack.
const maxAPIBody = 8 << 10

func (s *Server) ack(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Disposition string `json:"disposition"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	d := queue.Disposition(req.Disposition)
	if !d.Valid() {
		return fault.New(fault.Invalid, "unknown disposition: use dispatched, referred, duplicate, no_action or false_report")
	}
	o := officerOf(r)
	id := mux.Vars(r)["id"]
	if err := s.opt.Triage.Ack(r.Context(), o.Agency, id, o.ID, d); err != nil {
		return err
	}
	respondJSON(w, http.StatusOK, map[string]string{"id": id, "disposition": string(d)})
	return nil
}

func (s *Server) release(w http.ResponseWriter, r *http.Request) error {
	o := officerOf(r)
	id := mux.Vars(r)["id"]
	if err := s.opt.Triage.Release(r.Context(), o.Agency, id, o.ID); err != nil {
		return err
	}
	respondJSON(w, http.StatusOK, map[string]string{"id": id, "status": "released"})
	return nil
}

func (s *Server) renew(w http.ResponseWriter, r *http.Request) error {
	o := officerOf(r)
	id := mux.Vars(r)["id"]
	until, err := s.opt.Triage.Renew(r.Context(), o.Agency, id, o.ID)
	if err != nil {
		return err
	}
	respondJSON(w, http.StatusOK, map[string]any{"id": id, "lease_until": until.UTC()})
	return nil
}

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONLimit(w, r, v, maxAPIBody)
}

// streamID matches a Redis stream id, for paging parameters.
var streamID = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

func decodeJSONLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errBadRequest
	}
	return nil
}

func respondJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}
