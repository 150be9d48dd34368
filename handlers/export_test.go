package handlers

import "github.com/gorilla/mux"

// RouterForTest exposes the router to the package's external tests.
func RouterForTest(s *Server) *mux.Router { return s.router }

// UploadsFree reports whether the form's photos being read hold nothing.
func UploadsFree(s *Server) bool { return s.web.uploads.free() }
