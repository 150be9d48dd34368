package handlers

import (
	_ "embed"
	"net/http"
)

// openAPIDoc documents the officer API; a test checks that it lists every
// route the router serves under /api/v1.
//
//go:embed openapi.yaml
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(openAPIDoc)
	return err
}
