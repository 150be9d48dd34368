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
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			hint = "\nhint: check --token (or HOTLINE_TOKEN); a revoked token stops working at once"
		case http.StatusForbidden:
			hint = "\nhint: your token belongs to another agency"
		}
		return resp.StatusCode, fmt.Errorf("gateway answered %d: %s%s", resp.StatusCode, e.Error, hint)
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
			return json.NewEncoder(e.stdout).Encode(out)
		}
		switch sub {
		case "ack":
			fmt.Fprintf(e.stdout, "closed %s as %s\n", pos[0], *disposition)
		case "release":
			fmt.Fprintf(e.stdout, "released %s back to the queue\n", pos[0])
		case "renew":
			fmt.Fprintf(e.stdout, "lease on %s renewed until %v\n", pos[0], out["lease_until"])
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
	// Load the identity before claiming, so that a missing key does not
	// leave a tip leased to an officer who cannot read it.
	ids, err := loadIdentities(e, identityPath)
	if err != nil {
		return err
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
		return fmt.Errorf("tip %s: %w\nhint: release it with `hotline triage release %s` so a colleague with the right key can take it", t.ID, err, t.ID)
	}
	defer clear(plain)
	var rep gateway.Report
	if err := json.Unmarshal(plain, &rep); err != nil {
		return fmt.Errorf("tip %s: the sealed report is not readable: %w", t.ID, err)
	}
	if rep.TipID != t.ID || rep.Case != t.Case {
		return fmt.Errorf("tip %s: the sealed report belongs to another tip; do not act on it and tell your supervisor", t.ID)
	}
	out := claimedTip{ID: t.ID, Case: t.Case, Agency: t.Agency, Region: t.Region, Priority: t.Priority,
		Channel: t.Channel, ReceivedAt: t.ReceivedAt, LeaseUntil: t.LeaseUntil, Deliveries: t.Deliveries, Report: &rep}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printTip(e.stdout, out)
	return nil
}

func printTip(w io.Writer, t claimedTip) {
	r := t.Report
	fmt.Fprintf(w, "%s tip %s  case %s  agency %s  via %s\n", strings.ToUpper(t.Priority), t.ID, t.Case, t.Agency, t.Channel)
	fmt.Fprintf(w, "received  %s (%s ago)\n", t.ReceivedAt.Local().Format("2006-01-02 15:04:05 MST"), time.Since(t.ReceivedAt).Round(time.Second))
	if t.Deliveries > 1 {
		fmt.Fprintf(w, "note      handed out %d times: a colleague's lease lapsed or it was released\n", t.Deliveries)
	}
	if r.From != "" {
		fmt.Fprintf(w, "from      %s\n", r.From)
	}
	if r.ProfileName != "" {
		fmt.Fprintf(w, "name      %s (WhatsApp profile)\n", r.ProfileName)
	}
	if r.Contact != "" {
		fmt.Fprintf(w, "contact   %s\n", r.Contact)
	}
	if l := r.Location; l != nil {
		switch {
		case l.Lat != 0 || l.Lon != 0:
			fmt.Fprintf(w, "location  %.6f, %.6f (from %s", l.Lat, l.Lon, l.Source)
		default:
			fmt.Fprintf(w, "location  %s (from %s", l.Region, l.Source)
		}
		if l.Match != "" {
			fmt.Fprintf(w, ": %q", l.Match)
		}
		fmt.Fprintln(w, ")")
	} else {
		fmt.Fprintln(w, "location  none found in the message")
	}
	fmt.Fprintf(w, "routing   %s -> %s\n", r.Routing.Reason, strings.Join(r.Routing.Agencies, ", "))
	if len(r.NumberGeography) > 0 {
		var parts []string
		for _, k := range []string{"FromCity", "FromState", "FromCountry"} {
			if v := r.NumberGeography[k]; v != "" {
				parts = append(parts, v)
			}
		}
		fmt.Fprintf(w, "number    registered in %s (the phone's origin, not where the sender is)\n", strings.Join(parts, ", "))
	}
	for i, m := range r.Media {
		fmt.Fprintf(w, "media %d   %s %s\n", i+1, m.ContentType, m.URL)
	}
	fmt.Fprintln(w, "message:")
	for _, line := range strings.Split(r.Text, "\n") {
		fmt.Fprintf(w, "  %s\n", line)
	}
	fmt.Fprintf(w, "lease until %s. Then: hotline triage ack %s --disposition dispatched|referred|duplicate|no_action|false_report\n",
		t.LeaseUntil.Local().Format("15:04:05"), t.ID)
}
