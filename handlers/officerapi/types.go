package officerapi

import "time"

// Officer is who a token belongs to (GET /api/v1/me).
type Officer struct {
	ID     string `json:"id"`
	Agency string `json:"agency"`
	Name   string `json:"name"`
	Role   string `json:"role"`
}

// Agency is what officers may know of an agency: its name and public
// recipients, so that their client can re-seal a tip when transferring it.
type Agency struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Recipients []string `json:"recipients"`
}

// Claimed is a claimed tip: clear metadata and the sealed report
// (POST /api/v1/tips/claim).
type Claimed struct {
	ID           string    `json:"id"`
	Case         string    `json:"case"`
	Agency       string    `json:"agency"`
	Region       string    `json:"region,omitempty"`
	Channel      string    `json:"channel"`
	Priority     string    `json:"priority"`
	ReceivedAt   time.Time `json:"received_at"`
	ReplyCapable bool      `json:"reply_capable"`
	Deliveries   int64     `json:"deliveries"`
	LeaseUntil   time.Time `json:"lease_until"`
	Sealed       []byte    `json:"sealed"` // the binary age file (base64 in JSON)
}

// Listed is a tip's clear metadata (GET /api/v1/tips), with its sealed
// report when one tip is asked for (GET /api/v1/tips/{id}).
type Listed struct {
	ID          string     `json:"id"`
	Case        string     `json:"case"`
	Agency      string     `json:"agency"`
	Region      string     `json:"region,omitempty"`
	Channel     string     `json:"channel"`
	Priority    string     `json:"priority"`
	ReceivedAt  time.Time  `json:"received_at"`
	State       string     `json:"state"`
	Holder      string     `json:"holder,omitempty"`
	LeaseUntil  *time.Time `json:"lease_until,omitempty"`
	Deliveries  int64      `json:"deliveries"`
	Escalated   bool       `json:"escalated,omitempty"`
	Disposition string     `json:"disposition,omitempty"`
	ClosedBy    string     `json:"closed_by,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	Sealed      []byte     `json:"sealed,omitempty"`
}

// Note is a note on a tip, sealed to the agency (GET /api/v1/tips/{id}/notes).
type Note struct {
	Officer string    `json:"officer"`
	At      time.Time `json:"at"`
	Sealed  []byte    `json:"sealed"`
}

// Transfer hands a held tip to another agency, re-sealed to it on the
// officer's machine (POST /api/v1/tips/{id}/transfer).
type Transfer struct {
	Agency   string   `json:"agency"`
	Sealed   []byte   `json:"sealed"`
	Notes    [][]byte `json:"notes"`
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
