package main

import (
	"io"

	"github.com/hotline-org/hotline/cmd/internal/termsafe"
)

// Every human-readable output of the CLI goes through these (see package
// termsafe): a report, a note or an answer of the gateway can never act on
// the officer's terminal. JSON output goes through writeJSON.
func visible(s string) string                         { return termsafe.String(s) }
func visibleMessage(err error) string                 { return termsafe.Message(err) }
func writeJSON(w io.Writer, v any, indent bool) error { return termsafe.JSON(w, v, indent) }
