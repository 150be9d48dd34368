package officerapi

import (
	"time"

	"github.com/hotline-org/hotline/handlers"
)

// Officer is who a token belongs to (GET /api/v1/me).
type Officer struct {
	ID     string `json:"id"`
	Agency string `json:"agency"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	// The gateway's deadlines in seconds (0 from a gateway that does not
	// say): the reply window and the paging of urgent unclaimed cases.
	ReplyWindowS         int64 `json:"reply_window_s,omitempty"`
	PageAfterS           int64 `json:"page_after_s,omitempty"`
	PageSupervisorAfterS int64 `json:"page_supervisor_after_s,omitempty"`
}

// The answers that the gateway's handlers define.
type (
	// Agency is what officers may know of an agency: its name and public
	// recipients, so that their client can re-seal a tip when
	// transferring it.
	Agency = handlers.AgencyInfo
	// Claimed is a claimed tip: clear metadata and the sealed report
	// (POST /api/v1/tips/claim).
	Claimed = handlers.TipJSON
	// Listed is a tip's clear metadata (GET /api/v1/tips), with its sealed
	// report when one tip is asked for (GET /api/v1/tips/{id}).
	Listed = handlers.ListedJSON
)

// Note is a note on a tip, sealed to the agency (GET /api/v1/tips/{id}/notes).
type Note struct {
	Officer string    `json:"officer"`
	At      time.Time `json:"at"`
	Sealed  []byte    `json:"sealed"`
}

// Transfer hands a held tip to another agency, re-sealed to it on the
// officer's machine (POST /api/v1/tips/{id}/transfer).
type Transfer struct {
	Agency string   `json:"agency"`
	Sealed []byte   `json:"sealed"`
	Notes  [][]byte `json:"notes"`
	// Messages are the case's later messages re-sealed, in order.
	Messages [][]byte `json:"messages,omitempty"`
	Followup string   `json:"followup"`
}

// Reply is a message to the reporter (POST /api/v1/tips/{id}/reply).
// Followup is the web tip's follow-up handle, found in its sealed report.
type Reply struct {
	Text     string `json:"text"`
	Override string `json:"override"`
	Followup string `json:"followup,omitempty"`
}

// Counts are the agency's tips per priority (the "counts" event).
type Counts struct {
	Waiting map[string]int `json:"waiting"`
	Held    map[string]int `json:"held"`
}

// Event is one server-sent event of GET /api/v1/events: "counts" (Data
// holds Counts), "urgent" or "error".
type Event struct {
	Name string
	Data []byte
}

// Answer is the gateway's JSON answer to an action on a tip, as it came.
type Answer map[string]any
