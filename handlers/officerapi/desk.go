package officerapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
)

// What can go wrong on the officer's side. Every error quotes the gateway's
// values (%q): a hostile answer cannot act on the officer's terminal.
var (
	// ErrReportUnreadable is a sealed report that opened but is not a report.
	ErrReportUnreadable = errors.New("the sealed report is not readable")
	// ErrOtherTip is a sealed report of another tip, swapped in by the
	// gateway or on the way: nobody may act on it.
	ErrOtherTip = errors.New("the sealed report belongs to another tip")
)

// NotHeldError is a transfer of a tip that is not held.
type NotHeldError struct{ TipID, State string }

func (e *NotHeldError) Error() string { return fmt.Sprintf("tip %q is %q, not held", e.TipID, e.State) }

// WrongIdentityError is an identity that matches none of the agency's
// recipients: no tip was claimed.
type WrongIdentityError struct{ Agency string }

func (e *WrongIdentityError) Error() string {
	return fmt.Sprintf("the identity matches no recipient of agency %q", e.Agency)
}

// UnknownAgencyError is an agency id the gateway does not know.
type UnknownAgencyError struct {
	ID    string
	Known []string
}

func (e *UnknownAgencyError) Error() string { return fmt.Sprintf("unknown agency %q", e.ID) }

// OpenError is a tip, or one of its notes, that cannot be used on this
// machine. Note is 0 for the report, else the note's number.
type OpenError struct {
	TipID string
	Note  int
	Err   error // from crypto/seal, or ErrReportUnreadable, ErrOtherTip
}

func (e *OpenError) Error() string {
	if e.Note > 0 {
		return fmt.Sprintf("tip %q: note %d: %v", e.TipID, e.Note, e.Err)
	}
	return fmt.Sprintf("tip %q: %v", e.TipID, e.Err)
}

func (e *OpenError) Unwrap() error { return e.Err }

// ReleasedError is a claimed tip the identities cannot open (a plugin
// identity whose recipient could not be checked): it was handed back at
// once, audited, rather than held for a whole lease; unless ReleaseErr.
type ReleasedError struct {
	TipID, Agency   string
	Err, ReleaseErr error
}

func (e *ReleasedError) Error() string {
	if e.ReleaseErr != nil {
		return fmt.Sprintf("tip %q cannot be opened (%v), and releasing it failed: %v", e.TipID, e.Err, e.ReleaseErr)
	}
	return fmt.Sprintf("tip %q cannot be opened (%v); it was released", e.TipID, e.Err)
}

func (e *ReleasedError) Unwrap() []error { return []error{e.Err, e.ReleaseErr} }

// Agency finds an agency and its recipients.
func (c *Client) Agency(ctx context.Context, id string) (Agency, error) {
	list, err := c.Agencies(ctx)
	if err != nil {
		return Agency{}, err
	}
	i := slices.IndexFunc(list, func(a Agency) bool { return a.ID == id })
	if i < 0 {
		e := &UnknownAgencyError{ID: id}
		for _, a := range list {
			e.Known = append(e.Known, a.ID)
		}
		return Agency{}, e
	}
	return list[i], nil
}

// MyAgency is the agency of the token's officer.
func (c *Client) MyAgency(ctx context.Context) (Agency, error) {
	me, err := c.Me(ctx)
	if err != nil {
		return Agency{}, err
	}
	return c.Agency(ctx, me.Agency)
}

// OpenReport opens a tip's sealed report and checks that it is the tip's
// own.
func OpenReport(ids *seal.Identities, sealed []byte, tipID, caseRef string) (*gateway.Report, error) {
	plain, err := ids.Open(sealed)
	if err != nil {
		return nil, &OpenError{TipID: tipID, Err: err}
	}
	defer clear(plain)
	var rep gateway.Report
	if err := json.Unmarshal(plain, &rep); err != nil {
		return nil, &OpenError{TipID: tipID, Err: fmt.Errorf("%w: %w", ErrReportUnreadable, err)}
	}
	if rep.TipID != tipID || rep.Case != caseRef {
		return nil, &OpenError{TipID: tipID, Err: ErrOtherTip}
	}
	return &rep, nil
}

// Next claims the oldest waiting tip, the most urgent first, and opens it;
// nil when none is waiting. The identities are checked against the
// agency's recipients first, so that a wrong key does not leave a tip
// (maybe an urgent one) leased to an officer who cannot read it.
func (c *Client) Next(ctx context.Context, ids *seal.Identities) (*Claimed, *gateway.Report, error) {
	a, err := c.MyAgency(ctx)
	if err != nil {
		return nil, nil, err
	}
	if checked, matches := ids.Match(a.Recipients); checked && !matches {
		return nil, nil, &WrongIdentityError{Agency: a.ID}
	}
	t, err := c.Claim(ctx)
	if err != nil || t == nil {
		return nil, nil, err
	}
	rep, err := OpenReport(ids, t.Sealed, t.ID, t.Case)
	var oe *OpenError
	if errors.As(err, &oe) && !errors.Is(err, ErrReportUnreadable) && !errors.Is(err, ErrOtherTip) {
		_, rerr := c.Release(ctx, t.ID)
		return nil, nil, &ReleasedError{TipID: t.ID, Agency: t.Agency, Err: oe.Err, ReleaseErr: rerr}
	}
	return t, rep, err
}

// Open gets a tip with its sealed report and opens it.
func (c *Client) Open(ctx context.Context, id string, ids *seal.Identities) (Listed, *gateway.Report, error) {
	l, err := c.Tip(ctx, id)
	if err != nil {
		return l, nil, err
	}
	rep, err := OpenReport(ids, l.Sealed, l.ID, l.Case)
	return l, rep, err
}

// noteBody is what a sealed note holds.
type noteBody struct {
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

// OpenedNote is a note as the officer sees it; Opened is false for a note
// the identities cannot open.
type OpenedNote struct {
	Officer string    `json:"officer"`
	At      time.Time `json:"at"`
	Text    string    `json:"text"`
	Opened  bool      `json:"-"`
}

// OpenNotes lists a tip's notes, opened where the identities can.
func (c *Client) OpenNotes(ctx context.Context, id string, ids *seal.Identities) ([]OpenedNote, error) {
	notes, err := c.Notes(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []OpenedNote
	for _, n := range notes {
		o := OpenedNote{Officer: n.Officer, At: n.At}
		if plain, err := ids.Open(n.Sealed); err == nil {
			var b noteBody
			if json.Unmarshal(plain, &b) == nil {
				o.Text, o.Opened = b.Text, true
			}
			clear(plain)
		}
		out = append(out, o)
	}
	return out, nil
}

// Note seals text to the officer's own agency and adds it to the tip. It
// returns the agency.
func (c *Client) Note(ctx context.Context, id, text string, now time.Time) (Answer, Agency, error) {
	a, err := c.MyAgency(ctx)
	if err != nil {
		return nil, a, err
	}
	rs, err := seal.ParseRecipients(a.Recipients)
	if err != nil {
		return nil, a, err
	}
	plain, err := json.Marshal(noteBody{Text: text, At: now.UTC()})
	if err != nil {
		return nil, a, fmt.Errorf("failed to encode the note: %w", err)
	}
	sealed, err := rs.Seal(plain)
	clear(plain)
	if err != nil {
		return nil, a, err
	}
	out, err := c.AddNote(ctx, id, sealed)
	return out, a, err
}

// Transferred is what a transfer did.
type Transferred struct {
	Answer     Answer
	Notes      int // notes re-sealed with the tip
	Recipients int // the target agency's recipients
}

// TransferTo re-seals a held tip and its notes to another agency on this
// machine (the gateway cannot read them) and hands it over. A note the
// identities cannot open would be lost, so the transfer stops instead.
func (c *Client) TransferTo(ctx context.Context, id, target string, ids *seal.Identities) (Transferred, error) {
	l, rep, err := c.Open(ctx, id, ids)
	if err != nil {
		return Transferred{}, err
	}
	if l.State != "held" {
		return Transferred{}, &NotHeldError{TipID: id, State: l.State}
	}
	a, err := c.Agency(ctx, target)
	if err != nil {
		return Transferred{}, err
	}
	rs, err := seal.ParseRecipients(a.Recipients)
	if err != nil {
		return Transferred{}, fmt.Errorf("agency %q's recipients: %w", target, err)
	}
	notes, err := c.Notes(ctx, id)
	if err != nil {
		return Transferred{}, err
	}
	resealed := make([][]byte, 0, len(notes))
	for i, n := range notes {
		p, err := ids.Open(n.Sealed)
		if err != nil {
			return Transferred{}, &OpenError{TipID: id, Note: i + 1, Err: err}
		}
		sn, err := rs.Seal(p)
		clear(p)
		if err != nil {
			return Transferred{}, fmt.Errorf("failed to re-seal note %d: %w", i+1, err)
		}
		resealed = append(resealed, sn)
	}
	rep.Routing = gateway.Routing{Reason: "transferred from " + l.Agency, Regions: rep.Routing.Regions, Agencies: []string{target}}
	plain, err := json.Marshal(rep)
	if err != nil {
		return Transferred{}, fmt.Errorf("failed to encode the report: %w", err)
	}
	defer clear(plain)
	sealed, err := rs.Seal(plain)
	if err != nil {
		return Transferred{}, err
	}
	// The case's later messages, each re-sealed the same way.
	var later [][]byte
	for i, m := range l.Messages {
		if i == 0 {
			continue
		}
		mr, err := OpenReport(ids, m.Sealed, m.ID, l.Case)
		if err != nil {
			return Transferred{}, err
		}
		mr.Routing = gateway.Routing{Reason: "transferred from " + l.Agency, Regions: mr.Routing.Regions, Agencies: []string{target}}
		mp, err := json.Marshal(mr)
		if err != nil {
			return Transferred{}, fmt.Errorf("failed to encode message %d: %w", i+1, err)
		}
		ms, err := rs.Seal(mp)
		clear(mp)
		if err != nil {
			return Transferred{}, err
		}
		later = append(later, ms)
	}
	out, err := c.Transfer(ctx, id, Transfer{Agency: target, Sealed: sealed, Notes: resealed, Messages: later, Followup: rep.Followup})
	return Transferred{Answer: out, Notes: len(resealed), Recipients: rs.Len()}, err
}
