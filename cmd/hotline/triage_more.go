package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/handlers"
)

func triageList(e *env, c *triageClient, asJSON bool) error {
	var out struct {
		Tips []handlers.ListedJSON `json:"tips"`
	}
	if _, err := c.do(e.ctx, http.MethodGet, "/api/v1/tips", nil, &out); err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e.stdout, out, false)
	}
	if len(out.Tips) == 0 {
		fmt.Fprintln(e.stdout, "no open tips")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRIORITY\tSTATE\tWAITING\tCASE\tTIP\tCHANNEL\tREGION\tHOLDER")
	for _, t := range out.Tips {
		state := t.State
		if t.Escalated {
			state += "*"
		}
		v := visible
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v(strings.ToUpper(t.Priority)), v(state),
			time.Since(t.ReceivedAt).Round(time.Second), v(t.Case), v(t.ID), v(t.Channel), v(dash(t.Region)), v(dash(t.Holder)))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fetchTip gets a tip with its sealed report and opens it.
func fetchTip(e *env, c *triageClient, id, identityPath string) (handlers.ListedJSON, *gateway.Report, error) {
	ids, err := loadIdentities(e, identityPath)
	if err != nil {
		return handlers.ListedJSON{}, nil, err
	}
	var t handlers.ListedJSON
	if _, err := c.do(e.ctx, http.MethodGet, "/api/v1/tips/"+url.PathEscape(id), nil, &t); err != nil {
		return t, nil, err
	}
	plain, err := seal.Open(t.Sealed, ids...)
	if err != nil {
		return t, nil, fmt.Errorf("tip %s: %w", visible(id), err)
	}
	defer clear(plain)
	var rep gateway.Report
	if err := json.Unmarshal(plain, &rep); err != nil || rep.TipID != t.ID {
		return t, nil, fmt.Errorf("tip %s: the sealed report is not readable or belongs to another tip", visible(id))
	}
	return t, &rep, nil
}

// noteBody is what a sealed note holds.
type noteBody struct {
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

func triageShow(e *env, c *triageClient, id, identityPath string, asJSON bool) error {
	t, rep, err := fetchTip(e, c, id, identityPath)
	if err != nil {
		return err
	}
	ids, _ := loadIdentities(e, identityPath)
	var notes struct {
		Notes []struct {
			Officer string    `json:"officer"`
			At      time.Time `json:"at"`
			Sealed  []byte    `json:"sealed"`
		} `json:"notes"`
	}
	if _, err := c.do(e.ctx, http.MethodGet, "/api/v1/tips/"+url.PathEscape(id)+"/notes", nil, &notes); err != nil {
		return err
	}
	type shownNote struct {
		Officer string    `json:"officer"`
		At      time.Time `json:"at"`
		Text    string    `json:"text"`
	}
	var opened []shownNote
	for _, n := range notes.Notes {
		sn := shownNote{Officer: n.Officer, At: n.At, Text: "(cannot open this note with your identity)"}
		if plain, err := seal.Open(n.Sealed, ids...); err == nil {
			var b noteBody
			if json.Unmarshal(plain, &b) == nil {
				sn.Text = b.Text
			}
			clear(plain)
		}
		opened = append(opened, sn)
	}
	if asJSON {
		t.Sealed = nil
		return writeJSON(e.stdout, map[string]any{"tip": t, "report": rep, "notes": opened}, true)
	}
	var lease time.Time
	if t.LeaseUntil != nil {
		lease = *t.LeaseUntil
	}
	printTip(e.stdout, claimedTip{ID: t.ID, Case: t.Case, Agency: t.Agency, Region: t.Region, Priority: t.Priority,
		Channel: t.Channel, ReceivedAt: t.ReceivedAt, LeaseUntil: lease, Deliveries: t.Deliveries, Report: rep})
	state := t.State
	if t.Holder != "" {
		state += " by " + t.Holder
	}
	if t.Disposition != "" {
		state += fmt.Sprintf(" as %s by %s", t.Disposition, t.ClosedBy)
	}
	fmt.Fprintf(e.stdout, "state     %s\n", visible(state))
	for _, n := range opened {
		printBlock(e.stdout, fmt.Sprintf("note      %s %s: ", n.At.Local().Format("2006-01-02 15:04"), visible(n.Officer)), n.Text)
	}
	return nil
}

func triageEscalate(e *env, c *triageClient, id, reason string, asJSON bool) error {
	var out map[string]any
	if _, err := c.do(e.ctx, http.MethodPost, "/api/v1/tips/"+url.PathEscape(id)+"/escalate", map[string]string{"reason": reason}, &out); err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e.stdout, out, false)
	}
	fmt.Fprintf(e.stdout, "escalated %s: it is urgent now and back in the queue for a colleague or supervisor\n", visible(id))
	return nil
}

type agencyList struct {
	Agencies []handlers.AgencyInfo `json:"agencies"`
}

func (c *triageClient) agency(e *env, id string) (handlers.AgencyInfo, error) {
	var l agencyList
	if _, err := c.do(e.ctx, http.MethodGet, "/api/v1/agencies", nil, &l); err != nil {
		return handlers.AgencyInfo{}, err
	}
	i := slices.IndexFunc(l.Agencies, func(a handlers.AgencyInfo) bool { return a.ID == id })
	if i < 0 {
		var ids []string
		for _, a := range l.Agencies {
			ids = append(ids, a.ID)
		}
		return handlers.AgencyInfo{}, fmt.Errorf("unknown agency %s\nhint: one of %s", visible(id), visible(strings.Join(ids, ", ")))
	}
	return l.Agencies[i], nil
}

func (c *triageClient) me(e *env) (map[string]string, error) {
	var me map[string]string
	_, err := c.do(e.ctx, http.MethodGet, "/api/v1/me", nil, &me)
	return me, err
}

// triageTransfer re-seals a held tip to another agency on this machine
// (the gateway cannot read it) and hands it over.
func triageTransfer(e *env, c *triageClient, id, target, identityPath string, asJSON bool) error {
	if target == "" {
		return errors.New("triage transfer needs --to AGENCY")
	}
	t, rep, err := fetchTip(e, c, id, identityPath)
	if err != nil {
		return err
	}
	if t.State != "held" {
		return fmt.Errorf("tip %s is %s: claim it before transferring it", visible(id), visible(t.State))
	}
	a, err := c.agency(e, target)
	if err != nil {
		return err
	}
	rs, err := seal.ParseRecipients(a.Recipients)
	if err != nil {
		return fmt.Errorf("agency %s's recipients: %w", visible(target), err)
	}
	// The notes go with the tip: opened here and re-sealed to the target,
	// like the report. A note this identity cannot open would be lost, so
	// the transfer stops instead.
	ids, err := loadIdentities(e, identityPath)
	if err != nil {
		return err
	}
	var notes struct {
		Notes []struct {
			Sealed []byte `json:"sealed"`
		} `json:"notes"`
	}
	if _, err := c.do(e.ctx, http.MethodGet, "/api/v1/tips/"+url.PathEscape(id)+"/notes", nil, &notes); err != nil {
		return err
	}
	resealedNotes := make([][]byte, 0, len(notes.Notes))
	for i, n := range notes.Notes {
		p, err := seal.Open(n.Sealed, ids...)
		if err != nil {
			return fmt.Errorf("note %d of tip %s cannot be opened with %s: %w\nhint: it would be lost in the transfer; ask a colleague whose identity opens it", i+1, visible(id), identityPath, err)
		}
		sn, err := rs.Seal(p)
		clear(p)
		if err != nil {
			return fmt.Errorf("failed to re-seal note %d: %w", i+1, err)
		}
		resealedNotes = append(resealedNotes, sn)
	}
	rep.Routing = gateway.Routing{Reason: "transferred from " + t.Agency, Regions: rep.Routing.Regions, Agencies: []string{target}}
	plain, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	defer clear(plain)
	sealed, err := rs.Seal(plain)
	if err != nil {
		return err
	}
	var out map[string]any
	if _, err := c.do(e.ctx, http.MethodPost, "/api/v1/tips/"+url.PathEscape(id)+"/transfer",
		map[string]any{"agency": target, "sealed": sealed, "notes": resealedNotes, "followup": rep.Followup}, &out); err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e.stdout, out, false)
	}
	fmt.Fprintf(e.stdout, "transferred %s to %s with %d note(s) (re-sealed to its %d recipient(s)); closed here as referred\n",
		visible(id), visible(target), len(resealedNotes), rs.Len())
	return nil
}

// triageNote seals a note to the officer's own agency and adds it.
func triageNote(e *env, c *triageClient, id, text string, asJSON bool) error {
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(e.stdin, 64<<10))
		if err != nil {
			return err
		}
		text = string(b)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return errors.New("triage note needs --text (or --text - to read standard input)")
	}
	me, err := c.me(e)
	if err != nil {
		return err
	}
	a, err := c.agency(e, me["agency"])
	if err != nil {
		return err
	}
	rs, err := seal.ParseRecipients(a.Recipients)
	if err != nil {
		return err
	}
	plain, _ := json.Marshal(noteBody{Text: text, At: time.Now().UTC()})
	sealed, err := rs.Seal(plain)
	clear(plain)
	if err != nil {
		return err
	}
	var out map[string]any
	if _, err := c.do(e.ctx, http.MethodPost, "/api/v1/tips/"+url.PathEscape(id)+"/notes", map[string]any{"sealed": sealed}, &out); err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e.stdout, out, false)
	}
	fmt.Fprintf(e.stdout, "note added to %s (sealed to %s)\n", visible(id), visible(a.ID))
	return nil
}

// triageWatch shows the agency's queue live and rings the terminal bell
// when an urgent tip arrives.
func triageWatch(e *env, c *triageClient, max int) error {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, c.server+"/api/v1/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	// No overall timeout: the stream lasts as long as the watch; the server
	// sends an update every few seconds.
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		if e.ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("cannot reach the gateway: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("gateway answered %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 1<<30))
	event, seen := "", 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data := strings.TrimPrefix(line, "data: ")
			now := time.Now().Format("15:04:05")
			switch event {
			case "counts":
				var cnt struct {
					Waiting map[string]int `json:"waiting"`
					Held    map[string]int `json:"held"`
				}
				json.Unmarshal([]byte(data), &cnt)
				fmt.Fprintf(e.stdout, "%s  urgent %d waiting, %d held  |  normal %d waiting, %d held\n", now,
					cnt.Waiting["urgent"], cnt.Held["urgent"], cnt.Waiting["normal"], cnt.Held["normal"])
			case "urgent":
				// The bell is the CLI's own alert, never text from a
				// report, and only rung on a terminal: a log or a pipe
				// gets plain text.
				bell := ""
				if isTerminal(e.stdout) {
					bell = "\a"
				}
				fmt.Fprintf(e.stdout, "%s%s  URGENT TIP WAITING: hotline triage next\n", bell, now)
			case "error":
				fmt.Fprintf(e.stdout, "%s  the gateway cannot reach its queue\n", now)
			}
			seen++
			if max > 0 && seen >= max {
				return nil
			}
		}
	}
	if e.ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	return errors.New("the gateway closed the stream")
}

// triageReply sends a message to the reporter through the channel the tip
// came from. For a web tip the follow-up handle is in the sealed report,
// so the identity is needed to find it.
func triageReply(e *env, c *triageClient, id, text, override, identityPath string, asJSON bool) error {
	if text == "-" {
		b, err := io.ReadAll(io.LimitReader(e.stdin, 16<<10))
		if err != nil {
			return err
		}
		text = string(b)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return errors.New("triage reply needs --text (or --text - to read standard input)\nhint: keep it short and neutral: whoever holds the phone may read it")
	}
	req := map[string]string{"text": text, "override": override}
	var t handlers.ListedJSON
	if _, err := c.do(e.ctx, http.MethodGet, "/api/v1/tips/"+url.PathEscape(id), nil, &t); err != nil {
		return err
	}
	if t.Channel == "web" {
		_, rep, err := fetchTip(e, c, id, identityPath)
		if err != nil {
			return err
		}
		req["followup"] = rep.Followup
	}
	var out map[string]any
	if _, err := c.do(e.ctx, http.MethodPost, "/api/v1/tips/"+url.PathEscape(id)+"/reply", req, &out); err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e.stdout, out, false)
	}
	if t.Channel == "web" {
		fmt.Fprintf(e.stdout, "posted to the witness's follow-up page of case %s\n", visible(t.Case))
	} else {
		fmt.Fprintf(e.stdout, "sent to the reporter of case %s by %s\n", visible(t.Case), visible(t.Channel))
	}
	return nil
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
