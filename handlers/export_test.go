package handlers

import "github.com/gorilla/mux"

// RouterForTest exposes the router to the package's external tests.
func RouterForTest(s *Server) *mux.Router { return s.router }
