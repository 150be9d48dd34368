package handlers

import (
	"net/http"

	"github.com/gorilla/mux"
)

// claimTip claims one chosen tip for the officer (`triage next ID`, the
// console's claim button), with the same answer as claim. A tip another
// officer holds, or a closed one, is 409 with the holder and the lease's
// end, or the disposition; an unknown tip 404.
func (s *Server) claimTip(w http.ResponseWriter, r *http.Request) error {
	o := officerOf(r)
	c, err := s.opt.Triage.ClaimTip(r.Context(), o.Agency, o.ID, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	respondJSON(w, http.StatusOK, tipJSON(c))
	return nil
}
