package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hotline-org/hotline/cmd/internal/triage"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

// triageVerbs are the verbs of triage, and whether each works on one tip
// (its id follows the verb) rather than on the queue.
var triageVerbs = map[string]bool{
	"next": false, "list": false, "watch": false,
	"show": true, "ack": true, "release": true, "renew": true, "escalate": true,
	"transfer": true, "note": true, "reply": true,
}

const triageSynopsis = "triage next|list|show|ack|release|renew|escalate|transfer|note|reply|watch --server URL --token TOKEN [--identity FILE] [--json]"

func cmdTriage(e *env, args []string) error {
	if err := e.verb(args, triageSynopsis); err != nil {
		return err
	}
	sub := args[0]
	takesID, known := triageVerbs[sub]
	if !known {
		fmt.Fprintf(e.stderr, "hotline: unknown triage command %q\nusage: hotline %s\n", sub, triageSynopsis)
		return errUsage
	}
	synopsis := "triage " + sub
	if takesID {
		synopsis += " ID"
	}
	fs := e.newFlags("triage "+sub, synopsis+" --server URL --token TOKEN [--identity FILE] [--json]")
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
	saveMedia := fs.String("save-media", "", "with show: write the tip's photos and recordings into this `directory` (files 0600, generated names)")
	override := fs.String("override", "", "with reply, outside the reply window: life_at_risk, reporter_asked or supervisor_approved (audited)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case takesID && len(pos) != 1:
		return &exitError{code: 2, err: fmt.Errorf("triage %s needs the tip id: hotline %s", sub, synopsis)}
	case *saveMedia != "" && sub != "show":
		return &exitError{code: 2, err: fmt.Errorf("--save-media goes with triage show: hotline triage show ID --save-media DIR")}
	case !takesID && len(pos) > 0:
		return &exitError{code: 2, err: fmt.Errorf("triage %s takes no tip id: it works on the queue (to read a tip you hold: hotline triage show ID)", sub)}
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
	t := &triage.Terminal{Ctx: e.ctx, Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr, Client: officerapi.New(srv, tok, nil),
		IdentityPath: e.orEnv(*identity, "HOTLINE_IDENTITY"), JSON: *asJSON, SaveMedia: *saveMedia}
	id := ""
	if takesID {
		id = pos[0]
	}
	switch sub {
	case "next":
		err = t.Next()
	case "list":
		err = t.List()
	case "watch":
		err = t.Watch(*events)
	case "ack", "release", "renew":
		err = t.Lease(sub, id, *disposition)
	case "reply":
		err = t.Reply(id, *text, *override)
	case "show":
		err = t.Show(id)
	case "escalate":
		err = t.Escalate(id, *reason)
	case "transfer":
		err = t.Transfer(id, *target)
	default:
		err = t.Note(id, *text)
	}
	return t.Explain(err)
}
