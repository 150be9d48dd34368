package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
)

// emptyRegions is the drawing of an agency without regions of its own (the
// default agency may have none).
const emptyRegions = `{"type":"FeatureCollection","features":[]}`

// Roster lists an agency's officers. The Officers option is asked for it
// (officer.Store is one); without it GET /officers answers 404.
type Roster interface {
	List(ctx context.Context, agency string) ([]officer.Officer, error)
}

// AuditVerifier checks an agency's audit chain. The Triage option is asked
// for it (queue.Queue is one); without it GET /audit/verify answers 404.
type AuditVerifier interface {
	VerifyAudit(ctx context.Context, agency string) (int64, error)
}

// routesConsole registers what the officer's console needs besides triage:
// the agency's regions to draw its map, and the supervisor's screen (the
// officers and their tokens, the audit chain's verification). Like every
// officer route each has a short form and an /agencies/{agency} form that
// refuses a token of another agency.
func (s *Server) routesConsole(authed *mux.Router) {
	regions := s.regionsHandler()
	for _, prefix := range []string{"", "/agencies/{agency}"} {
		authed.Handle(prefix+"/regions", regions).Methods(http.MethodGet)
		authed.Handle(prefix+"/officers", s.json(s.listOfficers)).Methods(http.MethodGet)
		authed.Handle(prefix+"/audit/verify", s.json(s.verifyAudit)).Methods(http.MethodGet)
	}
}

type drawing struct {
	body []byte
	etag string
}

func newDrawing(body []byte) drawing {
	sum := sha256.Sum256(body)
	return drawing{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// regionsHandler serves the token's agency's regions as the GeoJSON
// FeatureCollection given in Options.Regions, computed once at start: it
// changes only with the configuration, so it is cached privately and
// revalidated by its ETag.
func (s *Server) regionsHandler() http.Handler {
	byAgency := make(map[string]drawing, len(s.opt.Regions))
	for agency, body := range s.opt.Regions {
		byAgency[agency] = newDrawing(body)
	}
	empty := newDrawing([]byte(emptyRegions))
	return s.json(func(w http.ResponseWriter, r *http.Request) error {
		d, ok := byAgency[officerOf(r).Agency]
		if !ok {
			d = empty
		}
		h := w.Header()
		h.Set("Cache-Control", "private, max-age=300")
		h.Set("ETag", d.etag)
		h.Set("Vary", "Authorization")
		if etagMatch(r.Header.Get("If-None-Match"), d.etag) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		h.Set("Content-Type", "application/geo+json")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(d.body)
		return err
	})
}

// etagMatch applies If-None-Match's weak comparison to one strong tag.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// errNotAvailable answers a route whose part is not wired into this gateway.
var errNotAvailable = fault.New(fault.NotFound, "not available on this gateway")

// supervisor returns the request's officer, who must be a supervisor.
func supervisor(r *http.Request) (officer.Officer, error) {
	o := officerOf(r)
	if o.Role != officer.RoleSupervisor {
		return o, fault.New(fault.Forbidden, "supervisors only")
	}
	return o, nil
}

// OfficerJSON is an officer as supervisors see it: never a token or its hash.
type OfficerJSON struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Agency  string    `json:"agency"`
	Created time.Time `json:"created"`
	// Token is "active" or "revoked".
	Token string `json:"token"`
	// LastUsed is when the token was last taken, to the minute; absent if
	// never (or not since the release that records it).
	LastUsed time.Time `json:"last_used,omitzero"`
}

// listOfficers is for supervisors: the agency's officers, oldest first.
func (s *Server) listOfficers(w http.ResponseWriter, r *http.Request) error {
	o, err := supervisor(r)
	if err != nil {
		return err
	}
	roster, ok := s.opt.Officers.(Roster)
	if !ok {
		return errNotAvailable
	}
	list, err := roster.List(r.Context(), o.Agency)
	if err != nil {
		return err
	}
	out := make([]OfficerJSON, 0, len(list))
	for _, x := range list {
		state := "active"
		if x.Revoked {
			state = "revoked"
		}
		out = append(out, OfficerJSON{ID: x.ID, Name: x.Name, Role: x.Role, Agency: x.Agency, Created: x.Created, Token: state, LastUsed: x.LastUsed})
	}
	respondJSON(w, http.StatusOK, map[string]any{"officers": out})
	return nil
}

// AuditVerification is the answer of GET /audit/verify.
type AuditVerification struct {
	OK bool `json:"ok"`
	// Entries is the number of entries found intact (before the break).
	Entries  int64  `json:"entries"`
	BrokenAt string `json:"broken_at,omitempty"` // stream id of the first bad entry, or "head" or "end"
	Seq      int64  `json:"seq,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// verifyAudit is for supervisors: it walks the agency's audit chain from
// the start and names the first entry that breaks it.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	o, err := supervisor(r)
	if err != nil {
		return err
	}
	v, ok := s.opt.Triage.(AuditVerifier)
	if !ok {
		return errNotAvailable
	}
	n, err := v.VerifyAudit(r.Context(), o.Agency)
	var broken *queue.AuditBreak
	switch {
	case errors.As(err, &broken):
		respondJSON(w, http.StatusOK, AuditVerification{Entries: n, BrokenAt: broken.ID, Seq: broken.Seq, Reason: broken.Reason})
	case err != nil:
		return err
	default:
		respondJSON(w, http.StatusOK, AuditVerification{OK: true, Entries: n})
	}
	return nil
}
