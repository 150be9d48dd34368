package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

// claimedTip is what `triage next --json` prints.
type claimedTip struct {
	ID         string          `json:"id"`
	Case       string          `json:"case"`
	Agency     string          `json:"agency"`
	Region     string          `json:"region,omitempty"`
	Priority   string          `json:"priority"`
	Channel    string          `json:"channel"`
	ReceivedAt time.Time       `json:"received_at"`
	LeaseUntil time.Time       `json:"lease_until"`
	Deliveries int64           `json:"deliveries"`
	Report     *gateway.Report `json:"report"`
}

// triage is one triage command: the client, the officer's identity file
// and the output format.
type triage struct {
	*env
	c            *officerapi.Client
	identityPath string
	asJSON       bool
}

func cmdTriage(e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: hotline triage next|list|show|ack|release|renew|escalate|transfer|note|reply|watch --server URL --token TOKEN [--identity FILE] [--json]")
		return errUsage
	}
	sub := args[0]
	fs := e.newFlags("triage "+sub, "triage "+sub+" [ID] --server URL --token TOKEN [--identity FILE] [--json]")
	server := fs.String("server", "", "the gateway's `URL` (HOTLINE_SERVER)")
	token := fs.String("token", "", "your officer `token` (HOTLINE_TOKEN)")
	tokenFile := fs.String("token-file", "", "read the token from this `file` (HOTLINE_TOKEN_FILE), keeping it out of shell history")
	identity := fs.String("identity", "", "your agency identity `file` (HOTLINE_IDENTITY); read locally, never sent")
	asJSON := fs.Bool("json", false, "print JSON")
	disposition := fs.String("disposition", "", "with ack: dispatched, referred, duplicate, no_action or false_report")
	reason := fs.String("reason", "urgent", "with escalate: urgent, supervisor or other")
	target := fs.String("to", "", "with transfer: the `agency` to hand the tip to")
	text := fs.String("text", "", "with note: the note's text (- reads standard input)")
	events := fs.Int("events", 0, "with watch: stop after this many updates (0: until interrupted)")
	override := fs.String("override", "", "with reply, outside the reply window: life_at_risk, reporter_asked or supervisor_approved (audited)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	srv, tok := e.orEnv(*server, "HOTLINE_SERVER"), e.orEnv(*token, "HOTLINE_TOKEN")
	if path := e.orEnv(*tokenFile, "HOTLINE_TOKEN_FILE"); tok == "" && path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("cannot read the token file: %w", err)
		}
		tok = strings.TrimSpace(string(b))
	}
	if strings.TrimRight(srv, "/") == "" || tok == "" {
		return errors.New("--server and --token are needed (or HOTLINE_SERVER and HOTLINE_TOKEN)")
	}
	t := &triage{env: e, c: officerapi.New(srv, tok, nil), identityPath: e.orEnv(*identity, "HOTLINE_IDENTITY"), asJSON: *asJSON}
	id := ""
	switch sub {
	case "next", "list", "watch":
	case "ack", "release", "renew", "reply", "show", "escalate", "transfer", "note":
		if len(pos) != 1 {
			return fmt.Errorf("triage %s needs the tip id", sub)
		}
		id = pos[0]
	default:
		return fmt.Errorf("unknown triage command %q", sub)
	}
	switch sub {
	case "next":
		err = t.next()
	case "list":
		err = t.list()
	case "watch":
		err = t.watch(*events)
	case "ack", "release", "renew":
		err = t.lease(sub, id, *disposition)
	case "reply":
		err = t.reply(id, *text, *override)
	case "show":
		err = t.show(id)
	case "escalate":
		err = t.escalate(id, *reason)
	case "transfer":
		err = t.transfer(id, *target)
	default:
		err = t.note(id, *text)
	}
	return t.explain(err)
}

// explain says what went wrong in the officer's terms, with a hint on what
// to do; anything the gateway sent is made safe for the terminal.
func (t *triage) explain(err error) error {
	var (
		ae *officerapi.Error
		wi *officerapi.WrongIdentityError
		ua *officerapi.UnknownAgencyError
		re *officerapi.ReleasedError
		oe *officerapi.OpenError
	)
	v := visible
	switch {
	case errors.As(err, &re) && re.ReleaseErr != nil:
		return fmt.Errorf("tip %s: identity %s cannot open it: %w, and releasing it failed: %w\nhint: release it with `hotline triage release %s` so a colleague with the right key can take it",
			v(re.TipID), t.identityPath, re.Err, t.explain(re.ReleaseErr), v(re.TipID))
	case errors.As(err, &re):
		return fmt.Errorf("tip %s: identity %s cannot open it (%w); it was released back to the queue at once\nhint: check that %s is the identity (or plugin key) of agency %s",
			v(re.TipID), t.identityPath, re.Err, t.identityPath, v(re.Agency))
	case errors.As(err, &wi):
		return fmt.Errorf("identity %s does not match any recipient of agency %s\nhint: use the identity file made for %s (its recipient is in the gateway's config), or ask your supervisor; no tip was claimed",
			t.identityPath, v(wi.Agency), v(wi.Agency))
	case errors.As(err, &ua):
		return fmt.Errorf("unknown agency %s\nhint: one of %s", v(ua.ID), v(strings.Join(ua.Known, ", ")))
	case errors.As(err, &oe) && oe.Note > 0:
		return fmt.Errorf("note %d of tip %s cannot be opened with %s: %w\nhint: it would be lost in the transfer; ask a colleague whose identity opens it", oe.Note, v(oe.TipID), t.identityPath, oe.Err)
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
	case ae.Status == 409 && strings.Contains(ae.Message, "lease lapsed"):
		hint = "\nhint: hotline triage next claims the oldest waiting tip, this one included if nobody took it"
	case ae.Status == 503:
		hint = "\nhint: the gateway cannot reach its queue; try again in a moment"
	}
	return fmt.Errorf("gateway answered %d: %s%s", ae.Status, v(ae.Message), hint)
}

// print prints an answer as JSON, or else the line for a terminal.
func (t *triage) print(answer any, indent bool, format string, args ...any) error {
	if t.asJSON {
		return writeJSON(t.stdout, answer, indent)
	}
	fmt.Fprintf(t.stdout, format, args...)
	return nil
}

func (t *triage) identities() (*seal.Identities, error) {
	if t.identityPath == "" {
		return nil, errors.New("--identity is needed to open tips (or HOTLINE_IDENTITY)")
	}
	return seal.LoadIdentities(t.identityPath, t.stderr, "hotline: ")
}

func (t *triage) next() error {
	ids, err := t.identities()
	if err != nil {
		return err
	}
	return t.nextWith(ids)
}

// nextWith claims and opens the next tip with identities already loaded.
func (t *triage) nextWith(ids *seal.Identities) error {
	c, rep, err := t.c.Next(t.ctx, ids)
	if err != nil {
		return err
	}
	if c == nil {
		return t.print(nil, false, "no tip waiting\n")
	}
	out := claimedTip{ID: c.ID, Case: c.Case, Agency: c.Agency, Region: c.Region, Priority: c.Priority,
		Channel: c.Channel, ReceivedAt: c.ReceivedAt, LeaseUntil: c.LeaseUntil, Deliveries: c.Deliveries, Report: rep}
	if t.asJSON {
		return writeJSON(t.stdout, out, true)
	}
	printTip(t.stdout, out)
	return nil
}

// lease acks, releases or renews a held tip.
func (t *triage) lease(sub, id, disposition string) error {
	var out officerapi.Answer
	var err error
	switch sub {
	case "ack":
		if disposition == "" {
			return errors.New("triage ack needs --disposition: dispatched, referred, duplicate, no_action or false_report")
		}
		if out, err = t.c.Ack(t.ctx, id, disposition); err == nil {
			return t.print(out, false, "closed %s as %s\n", visible(id), visible(disposition))
		}
	case "release":
		if out, err = t.c.Release(t.ctx, id); err == nil {
			return t.print(out, false, "released %s back to the queue\n", visible(id))
		}
	default:
		if out, err = t.c.Renew(t.ctx, id); err == nil {
			return t.print(out, false, "lease on %s renewed until %s\n", visible(id), visible(fmt.Sprint(out["lease_until"])))
		}
	}
	return err
}

func (t *triage) list() error {
	tips, err := t.c.List(t.ctx)
	if err != nil {
		return err
	}
	if t.asJSON {
		return writeJSON(t.stdout, struct {
			Tips []officerapi.Listed `json:"tips"`
		}{tips}, false)
	}
	if len(tips) == 0 {
		fmt.Fprintln(t.stdout, "no open tips")
		return nil
	}
	tw := tabwriter.NewWriter(t.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRIORITY\tSTATE\tWAITING\tCASE\tTIP\tCHANNEL\tREGION\tHOLDER")
	for _, l := range tips {
		state := l.State
		if l.Escalated {
			state += "*"
		}
		v := visible
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v(strings.ToUpper(l.Priority)), v(state),
			time.Since(l.ReceivedAt).Round(time.Second), v(l.Case), v(l.ID), v(l.Channel), v(dash(l.Region)), v(dash(l.Holder)))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (t *triage) show(id string) error {
	ids, err := t.identities()
	if err != nil {
		return err
	}
	l, rep, err := t.c.Open(t.ctx, id, ids)
	if err != nil {
		return err
	}
	notes, err := t.c.OpenNotes(t.ctx, id, ids)
	if err != nil {
		return err
	}
	for i, n := range notes {
		if !n.Opened {
			notes[i].Text = "(cannot open this note with your identity)"
		}
	}
	if t.asJSON {
		l.Sealed = nil
		return writeJSON(t.stdout, map[string]any{"tip": l, "report": rep, "notes": notes}, true)
	}
	var lease time.Time
	if l.LeaseUntil != nil {
		lease = *l.LeaseUntil
	}
	printTip(t.stdout, claimedTip{ID: l.ID, Case: l.Case, Agency: l.Agency, Region: l.Region, Priority: l.Priority,
		Channel: l.Channel, ReceivedAt: l.ReceivedAt, LeaseUntil: lease, Deliveries: l.Deliveries, Report: rep})
	state := l.State
	if l.Holder != "" {
		state += " by " + l.Holder
	}
	if l.Disposition != "" {
		state += fmt.Sprintf(" as %s by %s", l.Disposition, l.ClosedBy)
	}
	fmt.Fprintf(t.stdout, "state     %s\n", visible(state))
	for _, n := range notes {
		printBlock(t.stdout, fmt.Sprintf("note      %s %s: ", n.At.Local().Format("2006-01-02 15:04"), visible(n.Officer)), n.Text)
	}
	return nil
}

func (t *triage) escalate(id, reason string) error {
	out, err := t.c.Escalate(t.ctx, id, reason)
	if err != nil {
		return err
	}
	return t.print(out, false, "escalated %s: it is urgent now and back in the queue for a colleague or supervisor\n", visible(id))
}

// transfer re-seals a held tip to another agency on this machine (the
// gateway cannot read it) and hands it over.
func (t *triage) transfer(id, target string) error {
	if target == "" {
		return errors.New("triage transfer needs --to AGENCY")
	}
	ids, err := t.identities()
	if err != nil {
		return err
	}
	done, err := t.c.TransferTo(t.ctx, id, target, ids)
	if err != nil {
		return err
	}
	return t.print(done.Answer, false, "transferred %s to %s with %d note(s) (re-sealed to its %d recipient(s)); closed here as referred\n",
		visible(id), visible(target), done.Notes, done.Recipients)
}

// readText is --text, or standard input (up to max bytes) for "-".
func (t *triage) readText(text string, max int64) (string, error) {
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(t.stdin, max))
		if err != nil {
			return "", fmt.Errorf("failed to read standard input: %w", err)
		}
		text = string(b)
	}
	return strings.TrimSpace(text), nil
}

// note seals a note to the officer's own agency and adds it.
func (t *triage) note(id, text string) error {
	text, err := t.readText(text, 64<<10)
	if err != nil {
		return err
	}
	if text == "" {
		return errors.New("triage note needs --text (or --text - to read standard input)")
	}
	out, a, err := t.c.Note(t.ctx, id, text, time.Now())
	if err != nil {
		return err
	}
	return t.print(out, false, "note added to %s (sealed to %s)\n", visible(id), visible(a.ID))
}

// watch shows the agency's queue live and rings the terminal bell when an
// urgent tip arrives.
func (t *triage) watch(max int) error {
	seen := 0
	return t.c.Watch(t.ctx, func(ev officerapi.Event) bool {
		now := time.Now().Format("15:04:05")
		switch ev.Name {
		case "counts":
			var cnt officerapi.Counts
			if json.Unmarshal(ev.Data, &cnt) == nil {
				fmt.Fprintf(t.stdout, "%s  urgent %d waiting, %d held  |  normal %d waiting, %d held\n", now,
					cnt.Waiting["urgent"], cnt.Held["urgent"], cnt.Waiting["normal"], cnt.Held["normal"])
			}
		case "urgent":
			// The bell is the CLI's own alert, never text from a report,
			// and only rung on a terminal: a log or a pipe gets plain text.
			bell := ""
			if isTerminal(t.stdout) {
				bell = "\a"
			}
			fmt.Fprintf(t.stdout, "%s%s  URGENT TIP WAITING: hotline triage next\n", bell, now)
		case "error":
			fmt.Fprintf(t.stdout, "%s  the gateway cannot reach its queue\n", now)
		}
		seen++
		return max <= 0 || seen < max
	})
}

// reply sends a message to the reporter through the channel the tip came
// from. For a web tip the follow-up handle is in the sealed report, so the
// identity is needed to find it.
func (t *triage) reply(id, text, override string) error {
	text, err := t.readText(text, 16<<10)
	if err != nil {
		return err
	}
	if text == "" {
		return errors.New("triage reply needs --text (or --text - to read standard input)\nhint: keep it short and neutral: whoever holds the phone may read it")
	}
	req := officerapi.Reply{Text: text, Override: override}
	l, err := t.c.Tip(t.ctx, id)
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
	out, err := t.c.Reply(t.ctx, id, req)
	if err != nil {
		return err
	}
	if l.Channel == "web" {
		return t.print(out, false, "posted to the witness's follow-up page of case %s\n", visible(l.Case))
	}
	return t.print(out, false, "sent to the reporter of case %s by %s\n", visible(l.Case), visible(l.Channel))
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
// report or the gateway goes through visible (or printBlock for the
// message): see visible.go.
func printTip(w io.Writer, t claimedTip) {
	v := visible
	r := t.Report
	fmt.Fprintf(w, "%s tip %s  case %s  agency %s  via %s\n", v(strings.ToUpper(t.Priority)), v(t.ID), v(t.Case), v(t.Agency), v(t.Channel))
	fmt.Fprintf(w, "received  %s (%s ago)\n", t.ReceivedAt.Local().Format("2006-01-02 15:04:05 MST"), time.Since(t.ReceivedAt).Round(time.Second))
	if t.Deliveries > 1 {
		fmt.Fprintf(w, "note      handed out %d times: a colleague's lease lapsed or it was released\n", t.Deliveries)
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
	for i, m := range r.Media {
		fmt.Fprintf(w, "media %d   %s %s\n", i+1, v(m.ContentType), v(m.URL))
	}
	fmt.Fprintln(w, "message:")
	for _, line := range visibleLines(r.Text) {
		fmt.Fprintf(w, "  %s\n", line)
	}
	fmt.Fprintf(w, "lease until %s. Then: hotline triage ack %s --disposition dispatched|referred|duplicate|no_action|false_report\n",
		t.LeaseUntil.Local().Format("15:04:05"), v(t.ID))
}
