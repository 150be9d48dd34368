// Package triage is the officer's terminal: it runs the triage commands
// through handlers/officerapi, prints tips, notes and the gateway's answers
// for a terminal, and explains what went wrong with a hint on what to do.
// Everything that came from a report or the gateway is printed through
// cmd/internal/termsafe, so that it cannot act on the officer's terminal.
package triage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hotline-org/hotline/cmd/internal/termsafe"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

// claimedTip is what `triage next --json` prints; Claimed is false, and
// nothing else is set, when no tip was waiting.
type claimedTip struct {
	Claimed    bool            `json:"claimed"`
	ID         string          `json:"id,omitempty"`
	Case       string          `json:"case,omitempty"`
	Agency     string          `json:"agency,omitempty"`
	Region     string          `json:"region,omitempty"`
	Priority   string          `json:"priority,omitempty"`
	Channel    string          `json:"channel,omitempty"`
	ReceivedAt *time.Time      `json:"received_at,omitempty"`
	LeaseUntil *time.Time      `json:"lease_until,omitempty"`
	Deliveries int64           `json:"deliveries,omitempty"`
	Report     *gateway.Report `json:"report,omitempty"`
	// Messages are every message of the case in order, opened (the first
	// one's report is Report too).
	Messages []officerapi.OpenedMessage `json:"messages,omitempty"`
}

// Terminal is one triage command at the officer's terminal: the client of
// the gateway, the officer's identity file, and where to print.
type Terminal struct {
	Ctx          context.Context
	Stdin        io.Reader
	Stdout       io.Writer
	Stderr       io.Writer
	Client       *officerapi.Client
	IdentityPath string
	JSON         bool // print JSON instead of text
	// SaveMedia, with Show, is a directory to write the tip's media items
	// (photos, recordings) into; "" saves nothing.
	SaveMedia string
	// Now is the clock of watch's lines; nil is time.Now.
	Now func() time.Time
}

func (t *Terminal) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Explain says what went wrong in the officer's terms, with a hint on what
// to do; anything the gateway sent is made safe for the terminal.
func (t *Terminal) Explain(err error) error {
	var (
		ae *officerapi.Error
		wi *officerapi.WrongIdentityError
		ua *officerapi.UnknownAgencyError
		re *officerapi.ReleasedError
		oe *officerapi.OpenError
		nh *officerapi.NotHeldError
	)
	v := termsafe.String
	switch {
	case errors.As(err, &re) && re.ReleaseErr != nil:
		return fmt.Errorf("tip %s: identity %s cannot open it: %w, and releasing it failed: %w\nhint: release it with `hotline triage release %s` so a colleague with the right key can take it",
			v(re.TipID), t.IdentityPath, re.Err, t.Explain(re.ReleaseErr), v(re.TipID))
	case errors.As(err, &re):
		return fmt.Errorf("tip %s: identity %s cannot open it (%w); it was released back to the queue at once\nhint: check that %s is the identity (or plugin key) of agency %s",
			v(re.TipID), t.IdentityPath, re.Err, t.IdentityPath, v(re.Agency))
	case errors.As(err, &wi):
		return fmt.Errorf("identity %s does not match any recipient of agency %s\nhint: use the identity file made for %s (its recipient is in the gateway's config), or ask your supervisor; no tip was claimed",
			t.IdentityPath, v(wi.Agency), v(wi.Agency))
	case errors.As(err, &nh) && nh.State == "waiting":
		return fmt.Errorf("tip %s is waiting, not held by you: nothing was transferred\nhint: claim it first (hotline triage next %s), then transfer it", v(nh.TipID), v(nh.TipID))
	case errors.As(err, &nh):
		return fmt.Errorf("tip %s is %s, not held by you: nothing was transferred\nhint: only the officer holding an open tip may transfer it (hotline triage list shows who holds what)", v(nh.TipID), v(nh.State))
	case errors.As(err, &ua):
		return fmt.Errorf("unknown agency %s\nhint: one of %s", v(ua.ID), v(strings.Join(ua.Known, ", ")))
	case errors.As(err, &oe) && oe.Note > 0:
		return fmt.Errorf("note %d of tip %s cannot be opened with %s: %w\nhint: it would be lost in the transfer; ask a colleague whose identity opens it", oe.Note, v(oe.TipID), t.IdentityPath, oe.Err)
	case errors.As(err, &oe) && errors.Is(err, officerapi.ErrOtherTip):
		return fmt.Errorf("tip %s: the sealed report belongs to another tip; do not act on it and tell your supervisor", v(oe.TipID))
	case errors.As(err, &oe):
		return fmt.Errorf("tip %s: %w", v(oe.TipID), oe.Err)
	case !errors.As(err, &ae) || err != error(ae):
		return err
	}
	hint := ""
	switch {
	case ae.Status == 401:
		hint = "\nhint: check --token (or HOTLINE_TOKEN); a revoked token stops working at once"
	case ae.Status == 403 && strings.Contains(ae.Message, "holding"):
		hint = "\nhint: claim it first (hotline triage next), or ask the officer holding it or a supervisor"
	case ae.Status == 403:
		hint = "\nhint: your token belongs to another agency"
	case ae.Status == 409 && strings.Contains(ae.Message, "too old to reply"):
		hint = "\nhint: nothing was sent. Only if the reporter's life is at risk, they asked to be contacted, or a supervisor approved: add --override life_at_risk|reporter_asked|supervisor_approved (audited)"
	case ae.Status == 404:
		hint = "\nhint: check the id (hotline triage list shows the open tips of your agency)"
	case ae.Status == 409 && strings.Contains(ae.Message, "lease lapsed"):
		hint = "\nhint: hotline triage next claims the oldest waiting tip, this one included if nobody took it"
	case ae.Status == 503:
		hint = "\nhint: the gateway cannot reach its queue; try again in a moment"
	}
	return fmt.Errorf("gateway answered %d: %s%s", ae.Status, v(ae.Message), hint)
}

// print prints an answer as JSON (one line, as every --json answer), or
// else the line for a terminal.
func (t *Terminal) print(answer any, format string, args ...any) error {
	if t.JSON {
		return termsafe.JSON(t.Stdout, answer, false)
	}
	fmt.Fprintf(t.Stdout, format, args...)
	return nil
}

func (t *Terminal) identities() (*seal.Identities, error) {
	if t.IdentityPath == "" {
		return nil, errors.New("--identity is needed to open tips (or HOTLINE_IDENTITY)")
	}
	return seal.LoadIdentities(t.IdentityPath, t.Stderr, "hotline: ")
}

func (t *Terminal) Next() error {
	ids, err := t.identities()
	if err != nil {
		return err
	}
	return t.NextWith(ids)
}

// NextWith claims and opens the next tip with identities already loaded.
func (t *Terminal) NextWith(ids *seal.Identities) error {
	c, rep, err := t.Client.Next(t.Ctx, ids)
	if err != nil {
		return err
	}
	if c == nil {
		return t.print(claimedTip{}, "no tip waiting; nothing was claimed (hotline triage watch tells you when one arrives)\n")
	}
	msgs, err := officerapi.OpenMessages(ids, c.Case, c.Messages, rep)
	if err != nil {
		return err
	}
	out := claimedTip{Claimed: true, ID: c.ID, Case: c.Case, Agency: c.Agency, Region: c.Region, Priority: c.Priority,
		Channel: c.Channel, ReceivedAt: &c.ReceivedAt, LeaseUntil: &c.LeaseUntil, Deliveries: c.Deliveries, Report: rep, Messages: msgs}
	if t.JSON {
		return termsafe.JSON(t.Stdout, out, false)
	}
	printTip(t.Stdout, out)
	return nil
}

// Lease acks, releases or renews a held tip.
func (t *Terminal) Lease(sub, id, disposition string) error {
	var out officerapi.Answer
	var err error
	switch sub {
	case "ack":
		if disposition == "" {
			return errors.New("triage ack needs --disposition: dispatched, referred, duplicate, no_action or false_report")
		}
		if out, err = t.Client.Ack(t.Ctx, id, disposition); err == nil {
			return t.print(out, "closed %s as %s\n", termsafe.String(id), termsafe.String(disposition))
		}
	case "release":
		if out, err = t.Client.Release(t.Ctx, id); err == nil {
			return t.print(out, "released %s back to the queue\n", termsafe.String(id))
		}
	default:
		if out, err = t.Client.Renew(t.Ctx, id); err == nil {
			return t.print(out, "lease on %s renewed until %s\n", termsafe.String(id), termsafe.String(fmt.Sprint(out["lease_until"])))
		}
	}
	return err
}

func (t *Terminal) List() error {
	tips, err := t.Client.List(t.Ctx)
	if err != nil {
		return err
	}
	if t.JSON {
		return termsafe.JSON(t.Stdout, struct {
			Tips []officerapi.Listed `json:"tips"`
		}{tips}, false)
	}
	if len(tips) == 0 {
		fmt.Fprintln(t.Stdout, "no open tips")
		return nil
	}
	tw := tabwriter.NewWriter(t.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRIORITY\tSTATE\tWAITING\tCASE\tTIP\tMESSAGES\tCHANNEL\tREGION\tHOLDER")
	for _, l := range tips {
		state := l.State
		if l.Escalated {
			state += "*"
		}
		v := termsafe.String
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", v(strings.ToUpper(l.Priority)), v(state),
			time.Since(l.ReceivedAt).Round(time.Second), v(l.Case), v(l.ID), max(l.MessageCount, 1), v(l.Channel), v(dash(l.Region)), v(dash(l.Holder)))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (t *Terminal) Show(id string) error {
	ids, err := t.identities()
	if err != nil {
		return err
	}
	l, rep, err := t.Client.Open(t.Ctx, id, ids)
	if err != nil {
		return err
	}
	msgs, err := officerapi.OpenMessages(ids, l.Case, l.Messages, rep)
	if err != nil {
		return err
	}
	l.Messages = nil // the sealed copies: the opened ones are printed
	notes, err := t.Client.OpenNotes(t.Ctx, id, ids)
	if err != nil {
		return err
	}
	if notes == nil {
		notes = []officerapi.OpenedNote{} // [] in --json, never null
	}
	for i, n := range notes {
		if !n.Opened {
			notes[i].Text = "(cannot open this note with your identity)"
		}
	}
	var saved []savedMedia
	if t.SaveMedia != "" && rep != nil {
		if saved, err = saveMedia(t.SaveMedia, l.ID, rep.Media); err != nil {
			return err
		}
		for i, m := range msgs {
			if i == 0 || m.Report == nil || len(m.Report.Media) == 0 {
				continue
			}
			more, err := saveMedia(t.SaveMedia, m.ID, m.Report.Media)
			for j := range more {
				more[j].Message = m.ID
			}
			saved = append(saved, more...)
			if err != nil {
				return err
			}
		}
	}
	if t.JSON {
		l.Sealed = nil
		answer := map[string]any{"tip": l, "report": rep, "notes": notes, "messages": msgs}
		if t.SaveMedia != "" {
			answer["saved_media"] = saved
		}
		return termsafe.JSON(t.Stdout, answer, false)
	}
	// The lease line, with renew and ack, is for the holder only.
	var lease *time.Time
	mine := false
	if l.State == "held" {
		if me, err := t.Client.Me(t.Ctx); err == nil && me.ID == l.Holder {
			lease, mine = l.LeaseUntil, true
		}
	}
	printTip(t.Stdout, claimedTip{ID: l.ID, Case: l.Case, Agency: l.Agency, Region: l.Region, Priority: l.Priority,
		Channel: l.Channel, ReceivedAt: &l.ReceivedAt, LeaseUntil: lease, Deliveries: l.Deliveries, Report: rep, Messages: msgs})
	state := l.State
	if l.Holder != "" {
		state += " by " + l.Holder
	}
	if l.Disposition != "" {
		state += fmt.Sprintf(" as %s by %s", l.Disposition, l.ClosedBy)
	}
	fmt.Fprintf(t.Stdout, "state     %s\n", termsafe.String(state))
	switch {
	case l.State == "held" && !mine:
		fmt.Fprintln(t.Stdout, "next      another officer holds it: ask them or a supervisor before acting on it")
	case l.State == "waiting":
		fmt.Fprintf(t.Stdout, "next      nobody holds it: hotline triage next %s claims it\n", termsafe.String(l.ID))
	case l.State == "closed":
		fmt.Fprintln(t.Stdout, "next      it is closed: nothing more to do on it")
	}
	for _, s := range saved {
		if s.Message != "" {
			fmt.Fprintf(t.Stdout, "message %s: ", termsafe.String(s.Message))
		}
		if s.Error != "" {
			fmt.Fprintf(t.Stdout, "media %d   not saved: %s\n", s.Item, termsafe.String(s.Error))
			continue
		}
		fmt.Fprintf(t.Stdout, "media %d   saved to %s (%d bytes)\n", s.Item, termsafe.String(s.Path), s.Bytes)
	}
	for _, n := range notes {
		termsafe.Block(t.Stdout, fmt.Sprintf("note      %s %s: ", n.At.Local().Format("2006-01-02 15:04"), termsafe.String(n.Officer)), n.Text)
	}
	return nil
}

func (t *Terminal) Escalate(id, reason string) error {
	out, err := t.Client.Escalate(t.Ctx, id, reason)
	if err != nil {
		return err
	}
	return t.print(out, "escalated %s: it is urgent now and back in the queue for a colleague or supervisor\n", termsafe.String(id))
}

// Transfer re-seals a held tip to another agency on this machine (the
// gateway cannot read it) and hands it over.
func (t *Terminal) Transfer(id, target string) error {
	if target == "" {
		return errors.New("triage transfer needs --to AGENCY")
	}
	ids, err := t.identities()
	if err != nil {
		return err
	}
	done, err := t.Client.TransferTo(t.Ctx, id, target, ids)
	if err != nil {
		return err
	}
	return t.print(done.Answer, "transferred %s to %s with %d note(s) (re-sealed to its %d recipient(s)); closed here as referred\n",
		termsafe.String(id), termsafe.String(target), done.Notes, done.Recipients)
}

// readText is --text, or standard input (up to max bytes) for "-".
func (t *Terminal) readText(text string, max int64) (string, error) {
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(t.Stdin, max))
		if err != nil {
			return "", fmt.Errorf("failed to read standard input: %w", err)
		}
		text = string(b)
	}
	return strings.TrimSpace(text), nil
}

// Note seals a note to the officer's own agency and adds it.
func (t *Terminal) Note(id, text string) error {
	text, err := t.readText(text, 64<<10)
	if err != nil {
		return err
	}
	if text == "" {
		return errors.New("triage note needs --text (or --text - to read standard input)")
	}
	out, a, err := t.Client.Note(t.Ctx, id, text, time.Now())
	if err != nil {
		return err
	}
	return t.print(out, "note added to %s (sealed to %s)\n", termsafe.String(id), termsafe.String(a.ID))
}

// Watch shows the agency's queue live and rings the terminal bell when an
// urgent tip arrives.
func (t *Terminal) Watch(max int) error {
	seen := 0
	return t.Client.Watch(t.Ctx, func(ev officerapi.Event) bool {
		seen++
		more := max <= 0 || seen < max
		if t.JSON {
			line := watchLine{Event: ev.Name, At: t.now().UTC()}
			if ev.Name == "counts" {
				var cnt officerapi.Counts
				if json.Unmarshal(ev.Data, &cnt) != nil {
					return more
				}
				line.Waiting, line.Held = cnt.Waiting, cnt.Held
			}
			if ev.Name == "appended" {
				var a appendedEvent
				if json.Unmarshal(ev.Data, &a) != nil {
					return more
				}
				line.ID, line.Case, line.Tip, line.Priority = a.ID, a.Case, a.Tip, a.Priority
			}
			if termsafe.JSON(t.Stdout, line, false) != nil {
				return false
			}
			return more
		}
		now := t.now().Format("15:04:05")
		switch ev.Name {
		case "counts":
			var cnt officerapi.Counts
			if json.Unmarshal(ev.Data, &cnt) == nil {
				fmt.Fprintf(t.Stdout, "%s  urgent %d waiting, %d held  |  normal %d waiting, %d held\n", now,
					cnt.Waiting["urgent"], cnt.Held["urgent"], cnt.Waiting["normal"], cnt.Held["normal"])
			}
		case "urgent":
			// The bell is the CLI's own alert, never text from a report,
			// and only rung on a terminal: a log or a pipe gets plain text.
			bell := ""
			if isTerminal(t.Stdout) {
				bell = "\a"
			}
			fmt.Fprintf(t.Stdout, "%s%s  URGENT TIP WAITING: hotline triage next\n", bell, now)
		case "appended":
			var a appendedEvent
			if json.Unmarshal(ev.Data, &a) == nil {
				v := termsafe.String
				fmt.Fprintf(t.Stdout, "%s  new message %s on case %s you hold (%s): hotline triage show %s\n", now,
					v(a.Tip), v(a.Case), v(a.Priority), v(a.ID))
			}
		case "error":
			fmt.Fprintf(t.Stdout, "%s  the gateway cannot reach its queue; updates resume when it does\n", now)
		}
		return more
	})
}

// watchLine is one line of `triage watch --json` (JSON lines): event is
// counts (with waiting and held per priority), urgent or error.
type watchLine struct {
	Event   string         `json:"event"`
	At      time.Time      `json:"at"`
	Waiting map[string]int `json:"waiting,omitempty"`
	Held    map[string]int `json:"held,omitempty"`
	// appended: the case you hold (its item id and ref), the new message
	// and the case's priority.
	ID       string `json:"id,omitempty"`
	Case     string `json:"case,omitempty"`
	Tip      string `json:"tip,omitempty"`
	Priority string `json:"priority,omitempty"`
}

// appendedEvent is the data of an "appended" event.
type appendedEvent struct {
	ID       string `json:"id"`
	Case     string `json:"case"`
	Tip      string `json:"tip"`
	Priority string `json:"priority"`
}

// Reply sends a message to the reporter through the channel the tip came
// from. For a web tip the follow-up handle is in the sealed report, so the
// identity is needed to find it.
func (t *Terminal) Reply(id, text, override string) error {
	text, err := t.readText(text, 16<<10)
	if err != nil {
		return err
	}
	if text == "" {
		return errors.New("triage reply needs --text (or --text - to read standard input)\nhint: keep it short and neutral: whoever holds the phone may read it")
	}
	req := officerapi.Reply{Text: text, Override: override}
	l, err := t.Client.Tip(t.Ctx, id)
	if err != nil {
		return err
	}
	if l.Channel == "web" {
		ids, err := t.identities()
		if err != nil {
			return err
		}
		rep, err := officerapi.OpenReport(ids, l.Sealed, l.ID, l.Case)
		if err != nil {
			return err
		}
		req.Followup = rep.Followup
	}
	out, err := t.Client.Reply(t.Ctx, id, req)
	if err != nil {
		return err
	}
	if l.Channel == "web" {
		return t.print(out, "posted to the witness's follow-up page of case %s\n", termsafe.String(l.Case))
	}
	return t.print(out, "sent to the reporter of case %s by %s\n", termsafe.String(l.Case), termsafe.String(l.Channel))
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// printTip prints a tip for a terminal. Every value that came from the
// report or the gateway goes through termsafe.
func printTip(w io.Writer, t claimedTip) {
	v := termsafe.String
	r := t.Report
	fmt.Fprintf(w, "%s tip %s  case %s  agency %s  via %s\n", v(strings.ToUpper(t.Priority)), v(t.ID), v(t.Case), v(t.Agency), v(t.Channel))
	if t.ReceivedAt != nil {
		fmt.Fprintf(w, "received  %s (%s ago)\n", t.ReceivedAt.Local().Format("2006-01-02 15:04:05 MST"), time.Since(*t.ReceivedAt).Round(time.Second))
	}
	if t.Deliveries > 1 {
		fmt.Fprintf(w, "note      handed out %d times: a colleague's lease lapsed or it was released\n", t.Deliveries)
	}
	if r == nil {
		r = &gateway.Report{}
	}
	if r.From != "" {
		fmt.Fprintf(w, "from      %s\n", v(r.From))
	}
	if r.ProfileName != "" {
		fmt.Fprintf(w, "name      %s (WhatsApp profile)\n", v(r.ProfileName))
	}
	if r.Contact != "" {
		fmt.Fprintf(w, "contact   %s\n", v(r.Contact))
	}
	if l := r.Location; l != nil {
		switch {
		case l.Lat != 0 || l.Lon != 0:
			fmt.Fprintf(w, "location  %.6f, %.6f (from %s", l.Lat, l.Lon, v(string(l.Source)))
		default:
			fmt.Fprintf(w, "location  %s (from %s", v(l.Region), v(string(l.Source)))
		}
		if l.Match != "" {
			fmt.Fprintf(w, ": \"%s\"", v(l.Match))
		}
		fmt.Fprintln(w, ")")
	} else {
		fmt.Fprintln(w, "location  none found in the message")
	}
	fmt.Fprintf(w, "routing   %s -> %s\n", v(r.Routing.Reason), v(strings.Join(r.Routing.Agencies, ", ")))
	if len(r.NumberGeography) > 0 {
		var parts []string
		for _, k := range []string{"FromCity", "FromState", "FromCountry"} {
			if g := r.NumberGeography[k]; g != "" {
				parts = append(parts, g)
			}
		}
		fmt.Fprintf(w, "number    registered in %s (the phone's origin, not where the sender is)\n", v(strings.Join(parts, ", ")))
	}
	printMedia(w, t.ID, r.Media)
	if len(t.Messages) > 1 {
		fmt.Fprintf(w, "message 1 of %d:\n", len(t.Messages))
	} else {
		fmt.Fprintln(w, "message:")
	}
	for _, line := range termsafe.Lines(r.Text) {
		fmt.Fprintf(w, "  %s\n", line)
	}
	// The case's later messages, in order, each with its time and channel.
	for i, m := range t.Messages {
		if i == 0 {
			continue
		}
		fmt.Fprintf(w, "message %d of %d (%s, via %s, %s, tip %s):\n", i+1, len(t.Messages),
			m.ReceivedAt.Local().Format("2006-01-02 15:04:05 MST"), v(m.Channel), v(m.Priority), v(m.ID))
		mr := m.Report
		if mr == nil {
			mr = &gateway.Report{}
		}
		if l := mr.Location; l != nil {
			if l.Lat != 0 || l.Lon != 0 {
				fmt.Fprintf(w, "  location  %.6f, %.6f (from %s)\n", l.Lat, l.Lon, v(string(l.Source)))
			} else {
				fmt.Fprintf(w, "  location  %s (from %s)\n", v(l.Region), v(string(l.Source)))
			}
		}
		printMedia(w, t.ID, mr.Media)
		for _, line := range termsafe.Lines(mr.Text) {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	if t.LeaseUntil != nil {
		fmt.Fprintf(w, "lease until %s (hotline triage renew %s keeps it). Then: hotline triage ack %s --disposition dispatched|referred|duplicate|no_action|false_report\n",
			t.LeaseUntil.Local().Format("15:04:05"), v(t.ID), v(t.ID))
	}
}

// printMedia prints a message's media items, one line each.
func printMedia(w io.Writer, id string, media []gateway.Media) {
	v := termsafe.String
	for i, m := range media {
		fmt.Fprintf(w, "media %d   %s", i+1, v(m.ContentType))
		if m.DurationS > 0 {
			fmt.Fprintf(w, " %ds", m.DurationS)
		}
		if len(m.Data) > 0 {
			fmt.Fprintf(w, " %d bytes (hotline triage show %s --save-media DIR)", len(m.Data), v(id))
		}
		if m.Error != "" {
			fmt.Fprintf(w, " %s", v(m.Error))
		}
		fmt.Fprintf(w, " %s\n", v(m.URL))
	}
}

// openTip finds an open tip of the officer's agency by its id (clear
// metadata only); false when it is not open (closed, or not the agency's).
func (t *Terminal) openTip(id string) (officerapi.Listed, bool, error) {
	tips, err := t.Client.List(t.Ctx)
	if err != nil {
		return officerapi.Listed{}, false, err
	}
	for _, l := range tips {
		if l.ID == id || l.Case == id {
			return l, true, nil
		}
	}
	return officerapi.Listed{}, false, nil
}

// NextID is `triage next ID`: the gateway hands out tips in order (urgent
// first, then the oldest), so a chosen tip is claimed only when it is the
// one the queue hands out; otherwise it says why not and what to do, and
// nothing is claimed.
func (t *Terminal) NextID(id string) error {
	v := termsafe.String
	l, open, err := t.openTip(id)
	if err != nil {
		return err
	}
	if !open {
		return fmt.Errorf("tip %s is not open (closed, or not a tip of your agency): nothing was claimed\nhint: hotline triage list shows the open tips", v(id))
	}
	if l.State == "held" {
		me, err := t.Client.Me(t.Ctx)
		if err != nil {
			return err
		}
		if l.Holder == me.ID {
			return fmt.Errorf("you hold tip %s already: nothing was claimed\nhint: hotline triage show %s", v(id), v(id))
		}
		return fmt.Errorf("tip %s is held by %s: nothing was claimed\nhint: ask them to release it, or a supervisor; it comes back to the queue when its lease lapses", v(id), v(l.Holder))
	}
	return fmt.Errorf("tip %s is waiting, but the gateway hands out tips in order (urgent first, then the oldest) and cannot claim a chosen one: nothing was claimed\nhint: hotline triage next claims the tip at the head of the queue (hotline triage list shows the order)", v(id))
}

// ExplainTip is Explain for a verb on tip id: a refusal because the tip is
// not held by the officer says what state the tip is in and what to do.
func (t *Terminal) ExplainTip(id string, err error) error {
	var ae *officerapi.Error
	if id == "" || !errors.As(err, &ae) || !(ae.Status == 409 && strings.Contains(ae.Message, "not held") || ae.Status == 403 && strings.Contains(ae.Message, "holding")) {
		return t.Explain(err)
	}
	v := termsafe.String
	l, open, lerr := t.openTip(id)
	said := fmt.Sprintf("gateway answered %d: %s", ae.Status, v(ae.Message))
	switch {
	case lerr != nil:
		return t.Explain(err)
	case !open:
		// The gateway's own text ("claim it first") would mislead here.
		return fmt.Errorf("gateway answered %d: tip %s is closed (or not a tip of your agency): nothing was done\nhint: a closed tip takes no more actions; hotline triage list shows the open tips", ae.Status, v(id))
	case l.State == "waiting":
		return fmt.Errorf("%s\ntip %s is waiting, not held by you: nothing was done\nhint: claim it first (hotline triage next), then try again", said, v(id))
	}
	return fmt.Errorf("%s\ntip %s is held by %s, not by you: nothing was done\nhint: ask them or a supervisor; it comes back to the queue when their lease lapses", said, v(id), v(l.Holder))
}
