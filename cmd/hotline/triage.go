package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/hotline-org/hotline/cmd/internal/termsafe"
	"github.com/hotline-org/hotline/cmd/internal/triage"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

// triageVerb is one verb of triage: whether it works on one tip (its id
// follows the verb) rather than on the queue, whether it opens sealed
// reports (--identity), and its own flags beyond the shared ones.
type triageVerb struct {
	id       string // "ID", "[ID]" or "" (works on the queue)
	identity bool
	flags    string // the synopsis of its own flags
	about    string
}

var triageVerbs = map[string]triageVerb{
	"next":     {id: "[ID]", identity: true, about: "claim the most urgent, oldest waiting tip and open it (with ID: claim that tip, or say why not)"},
	"list":     {about: "list the agency's open tips (clear metadata only)"},
	"watch":    {flags: "[--events N]", about: "follow the queue live; rings the bell for an urgent tip"},
	"show":     {id: "ID", identity: true, flags: "[--save-media DIR]", about: "open a tip you hold, with its notes"},
	"ack":      {id: "ID", flags: "--disposition D", about: "close a tip you hold"},
	"release":  {id: "ID", about: "hand a tip you hold back to the queue"},
	"renew":    {id: "ID", about: "extend the lease on a tip you hold"},
	"escalate": {id: "ID", flags: "[--reason R]", about: "make a tip urgent and hand it back for a colleague or supervisor"},
	"transfer": {id: "ID", identity: true, flags: "--to AGENCY", about: "re-seal a tip you hold to another agency and hand it over"},
	"note":     {id: "ID", flags: "--text TEXT|-", about: "add a note, sealed to your agency on this machine"},
	"reply":    {id: "ID", identity: true, flags: "--text TEXT|- [--override REASON]", about: "send a message to the reporter"},
}

const triageSynopsis = "triage VERB [ID] --server URL --token TOKEN [--identity FILE] [--json]"

// triageHelp is `hotline triage --help`: every verb with what it does.
func triageHelp() string {
	names := make([]string, 0, len(triageVerbs))
	for n := range triageVerbs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(triageSynopsis + "\n\nverbs:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-9s %s\n", n, triageVerbs[n].about)
	}
	b.WriteString("\nhotline triage VERB --help shows a verb's flags.")
	return b.String()
}

// synopsis is a verb's usage line.
func (v triageVerb) synopsis(name string) string {
	s := "triage " + name
	if v.id != "" {
		s += " " + v.id
	}
	s += " --server URL --token TOKEN"
	if v.identity {
		s += " --identity FILE"
	}
	if v.flags != "" {
		s += " " + v.flags
	}
	return s + " [--json]"
}

func cmdTriage(e *env, args []string) error {
	if err := e.verb(args, triageHelp()); err != nil {
		return err
	}
	sub := args[0]
	v, known := triageVerbs[sub]
	if !known {
		fmt.Fprintf(e.stderr, "hotline: unknown triage command %q\nusage: hotline %s\n", sub, triageHelp())
		return errUsage
	}
	synopsis := v.synopsis(sub)
	fs := e.newFlags("triage "+sub, synopsis)
	conn := addGatewayFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON (see README, \"JSON output\")")
	identity := new(string)
	if v.identity {
		fs.StringVar(identity, "identity", "", "your agency identity `file` (HOTLINE_IDENTITY); read locally, never sent")
	}
	var disposition, reason, target, text, saveMedia, override string
	var events int
	switch sub {
	case "ack":
		fs.StringVar(&disposition, "disposition", "", "the `outcome`: dispatched, referred, duplicate, no_action or false_report")
	case "escalate":
		fs.StringVar(&reason, "reason", "urgent", "`why`: urgent, supervisor or other")
	case "transfer":
		fs.StringVar(&target, "to", "", "the `agency` to hand the tip to")
	case "note":
		fs.StringVar(&text, "text", "", "the `note`'s text (- reads standard input)")
	case "reply":
		fs.StringVar(&text, "text", "", "the `message` (- reads standard input); keep it short and neutral")
		fs.StringVar(&override, "override", "", "the `reason`, outside the reply window: life_at_risk, reporter_asked or supervisor_approved (audited)")
	case "watch":
		fs.IntVar(&events, "events", 0, "stop after `N` updates (0: until interrupted)")
	case "show":
		fs.StringVar(&saveMedia, "save-media", "", "also write the tip's photos and recordings into this `directory` (files 0600, generated names)")
	}
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case v.id == "ID" && len(pos) != 1:
		return &exitError{code: 2, err: fmt.Errorf("triage %s needs one tip id: hotline %s", sub, synopsis)}
	case v.id == "[ID]" && len(pos) > 1:
		return &exitError{code: 2, err: fmt.Errorf("triage %s takes at most one tip id: hotline %s", sub, synopsis)}
	case v.id == "" && len(pos) > 0:
		return &exitError{code: 2, err: fmt.Errorf("triage %s takes no tip id: it works on the queue (to read a tip you hold: hotline triage show ID)", sub)}
	}
	srv, tok, err := e.gateway(conn, "triage "+sub)
	if err != nil {
		return err
	}
	t := &triage.Terminal{Ctx: e.ctx, Stdin: e.stdin, Stdout: e.stdout, Stderr: e.stderr, Client: officerapi.New(srv, tok, nil),
		IdentityPath: e.orEnv(*identity, "HOTLINE_IDENTITY"), JSON: *asJSON, SaveMedia: saveMedia}
	id := ""
	if len(pos) == 1 {
		id = pos[0]
	}
	switch sub {
	case "next":
		if id != "" {
			err = t.NextID(id)
		} else {
			err = t.Next()
		}
	case "list":
		err = t.List()
	case "watch":
		err = t.Watch(events)
	case "ack", "release", "renew":
		err = t.Lease(sub, id, disposition)
	case "reply":
		err = t.Reply(id, text, override)
	case "show":
		err = t.Show(id)
	case "escalate":
		err = t.Escalate(id, reason)
	case "transfer":
		err = t.Transfer(id, target)
	default:
		err = t.Note(id, text)
	}
	return t.ExplainTip(id, err)
}

// gatewayFlags are the flags that reach the gateway as an officer, shared
// by triage and console.
type gatewayFlags struct{ server, token, tokenFile *string }

func addGatewayFlags(fs *flag.FlagSet) gatewayFlags {
	return gatewayFlags{
		server:    fs.String("server", "", "the gateway's `URL` (HOTLINE_SERVER)"),
		token:     fs.String("token", "", "your officer `token` (HOTLINE_TOKEN)"),
		tokenFile: fs.String("token-file", "", "read the token from this `file` (HOTLINE_TOKEN_FILE), keeping it out of shell history"),
	}
}

// gateway resolves the gateway's URL and the token from the flags, then the
// environment; cmd names the command for the hint.
func (e *env) gateway(g gatewayFlags, cmd string) (server, token string, err error) {
	server, token = e.orEnv(*g.server, "HOTLINE_SERVER"), e.orEnv(*g.token, "HOTLINE_TOKEN")
	if path := e.orEnv(*g.tokenFile, "HOTLINE_TOKEN_FILE"); token == "" && path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", "", fmt.Errorf("cannot read the token file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if strings.TrimRight(server, "/") == "" || token == "" {
		return "", "", &exitError{code: 2, err: errors.New("--server and --token are needed (or HOTLINE_SERVER and HOTLINE_TOKEN, or --token-file)\nhint: hotline " + cmd + " --help")}
	}
	if err := privateServer(server); err != nil {
		return "", "", &exitError{code: 2, err: err}
	}
	return server, token, nil
}

// privateServer refuses a gateway URL that would carry the token, and the
// sealed reports, across the network in clear: https, or http only to
// this machine or to an onion address (Tor encrypts it end to end).
func privateServer(server string) error {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("--server: not a gateway URL (https://HOST)")
	}
	if u.Scheme == "https" {
		return nil
	}
	host := strings.ToLower(u.Hostname())
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() || strings.HasSuffix(host, ".onion") {
		return nil
	}
	return fmt.Errorf("--server: http:// would send your token to %s in clear; use https://%s (http only to this machine or an onion address)",
		termsafe.String(u.Host), termsafe.String(u.Host))
}
