package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/plugin"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/handlers"
)

// clientTimeout bounds one API call from the officer's CLI.
const clientTimeout = 30 * time.Second

// maxResponse bounds what the CLI reads from the server.
const maxResponse = 80 << 20

type triageClient struct {
	server string
	token  string
	http   *http.Client
}

func (c *triageClient) do(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.server+path, rd)
	if err != nil {
		return 0, fmt.Errorf("bad server URL: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("cannot reach the gateway: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("failed to read the answer: %w", err)
	}
	if resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode, nil
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(data, &e)
		if e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
		hint := ""
		switch {
		case resp.StatusCode == http.StatusUnauthorized:
			hint = "\nhint: check --token (or HOTLINE_TOKEN); a revoked token stops working at once"
		case resp.StatusCode == http.StatusForbidden && strings.Contains(e.Error, "holding"):
			hint = "\nhint: claim it first (hotline triage next), or ask the officer holding it or a supervisor"
		case resp.StatusCode == http.StatusForbidden:
			hint = "\nhint: your token belongs to another agency"
		case resp.StatusCode == http.StatusConflict && strings.Contains(e.Error, "lease lapsed"):
			hint = "\nhint: hotline triage next claims the oldest waiting tip, this one included if nobody took it"
		case resp.StatusCode == http.StatusServiceUnavailable:
			hint = "\nhint: the gateway cannot reach its queue; try again in a moment"
		}
		return resp.StatusCode, fmt.Errorf("gateway answered %d: %s%s", resp.StatusCode, visible(e.Error), hint)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("unexpected answer from the gateway: %w", err)
		}
	}
	return resp.StatusCode, nil
}

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
	c := &triageClient{
		server: strings.TrimRight(e.orEnv(*server, "HOTLINE_SERVER"), "/"),
		token:  e.orEnv(*token, "HOTLINE_TOKEN"),
		http:   &http.Client{Timeout: clientTimeout},
	}
	if path := e.orEnv(*tokenFile, "HOTLINE_TOKEN_FILE"); c.token == "" && path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("cannot read the token file: %w", err)
		}
		c.token = strings.TrimSpace(string(b))
	}
	if c.server == "" || c.token == "" {
		return errors.New("--server and --token are needed (or HOTLINE_SERVER and HOTLINE_TOKEN)")
	}
	switch sub {
	case "next":
		return triageNext(e, c, e.orEnv(*identity, "HOTLINE_IDENTITY"), *asJSON)
	case "ack", "release", "renew":
		if len(pos) != 1 {
			return fmt.Errorf("triage %s needs the tip id", sub)
		}
		var body any = map[string]string{}
		if sub == "ack" {
			if *disposition == "" {
				return errors.New("triage ack needs --disposition: dispatched, referred, duplicate, no_action or false_report")
			}
			body = map[string]string{"disposition": *disposition}
		}
		var out map[string]any
		if _, err := c.do(e.ctx, http.MethodPost, "/api/v1/tips/"+url.PathEscape(pos[0])+"/"+sub, body, &out); err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.stdout, out, false)
		}
		switch sub {
		case "ack":
			fmt.Fprintf(e.stdout, "closed %s as %s\n", visible(pos[0]), visible(*disposition))
		case "release":
			fmt.Fprintf(e.stdout, "released %s back to the queue\n", visible(pos[0]))
		case "renew":
			fmt.Fprintf(e.stdout, "lease on %s renewed until %s\n", visible(pos[0]), visible(fmt.Sprint(out["lease_until"])))
		}
		return nil
	case "list":
		return triageList(e, c, *asJSON)
	case "reply":
		if len(pos) != 1 {
			return fmt.Errorf("triage reply needs the tip id")
		}
		return triageReply(e, c, pos[0], *text, *override, e.orEnv(*identity, "HOTLINE_IDENTITY"), *asJSON)
	case "show", "escalate", "transfer", "note":
		if len(pos) != 1 {
			return fmt.Errorf("triage %s needs the tip id", sub)
		}
		id := e.orEnv(*identity, "HOTLINE_IDENTITY")
		switch sub {
		case "show":
			return triageShow(e, c, pos[0], id, *asJSON)
		case "escalate":
			return triageEscalate(e, c, pos[0], *reason, *asJSON)
		case "transfer":
			return triageTransfer(e, c, pos[0], *target, id, *asJSON)
		default:
			return triageNote(e, c, pos[0], *text, *asJSON)
		}
	case "watch":
		return triageWatch(e, c, *events)
	default:
		return fmt.Errorf("unknown triage command %q", sub)
	}
}

func loadIdentities(e *env, path string) ([]age.Identity, error) {
	if path == "" {
		return nil, errors.New("--identity is needed to open tips (or HOTLINE_IDENTITY)")
	}
	ui := plugin.NewTerminalUI(
		func(format string, v ...any) { fmt.Fprintf(e.stderr, "hotline: "+format+"\n", v...) },
		func(format string, v ...any) { fmt.Fprintf(e.stderr, "hotline: warning: "+format+"\n", v...) })
	return seal.LoadIdentityFile(path, ui)
}

func triageNext(e *env, c *triageClient, identityPath string, asJSON bool) error {
	// Load the identity and check it against the agency's recipients before
	// claiming, so that a wrong or missing key does not leave a tip (maybe
	// an urgent one) leased to an officer who cannot read it.
	ids, err := loadIdentities(e, identityPath)
	if err != nil {
		return err
	}
	return nextWith(e, c, ids, identityPath, asJSON)
}

// nextWith claims and opens the next tip with identities already loaded.
func nextWith(e *env, c *triageClient, ids []age.Identity, identityPath string, asJSON bool) error {
	me, err := c.me(e)
	if err != nil {
		return err
	}
	a, err := c.agency(e, me["agency"])
	if err != nil {
		return err
	}
	checked, matches := matchRecipients(ids, a.Recipients)
	if checked && !matches {
		return fmt.Errorf("identity %s does not match any recipient of agency %s\nhint: use the identity file made for %s (its recipient is in the gateway's config), or ask your supervisor; no tip was claimed",
			identityPath, visible(a.ID), visible(a.ID))
	}
	var t handlers.TipJSON
	status, err := c.do(e.ctx, http.MethodPost, "/api/v1/tips/claim", map[string]string{}, &t)
	if err != nil {
		return err
	}
	if status == http.StatusNoContent {
		if asJSON {
			fmt.Fprintln(e.stdout, "null")
		} else {
			fmt.Fprintln(e.stdout, "no tip waiting")
		}
		return nil
	}
	plain, err := seal.Open(t.Sealed, ids...)
	if err != nil {
		// A plugin identity whose recipient could not be checked: hand the
		// tip back at once (the release is audited) rather than hold it
		// for a whole lease.
		if _, rerr := c.do(e.ctx, http.MethodPost, "/api/v1/tips/"+url.PathEscape(t.ID)+"/release", map[string]string{}, nil); rerr != nil {
			return fmt.Errorf("tip %s: identity %s cannot open it: %w, and releasing it failed: %w\nhint: release it with `hotline triage release %s` so a colleague with the right key can take it",
				visible(t.ID), identityPath, err, rerr, visible(t.ID))
		}
		return fmt.Errorf("tip %s: identity %s cannot open it (%w); it was released back to the queue at once\nhint: check that %s is the identity (or plugin key) of agency %s",
			visible(t.ID), identityPath, err, identityPath, visible(t.Agency))
	}
	defer clear(plain)
	var rep gateway.Report
	if err := json.Unmarshal(plain, &rep); err != nil {
		return fmt.Errorf("tip %s: the sealed report is not readable: %w", visible(t.ID), err)
	}
	if rep.TipID != t.ID || rep.Case != t.Case {
		return fmt.Errorf("tip %s: the sealed report belongs to another tip; do not act on it and tell your supervisor", visible(t.ID))
	}
	out := claimedTip{ID: t.ID, Case: t.Case, Agency: t.Agency, Region: t.Region, Priority: t.Priority,
		Channel: t.Channel, ReceivedAt: t.ReceivedAt, LeaseUntil: t.LeaseUntil, Deliveries: t.Deliveries, Report: &rep}
	if asJSON {
		return writeJSON(e.stdout, out, true)
	}
	printTip(e.stdout, out)
	return nil
}

// matchRecipients reports whether the recipients of the identities could
// all be derived (checked), and whether one of them is among the agency's
// recipients. Plugin identities (hardware keys) do not reveal their
// recipient: with one of those, checked is false unless another identity
// matches.
func matchRecipients(ids []age.Identity, agency []string) (checked, matches bool) {
	checked = true
	for _, id := range ids {
		var r string
		switch x := id.(type) {
		case *age.X25519Identity:
			r = x.Recipient().String()
		case *age.HybridIdentity:
			r = x.Recipient().String()
		default:
			checked = false
			continue
		}
		if slices.Contains(agency, r) {
			return true, true
		}
	}
	return checked, false
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
