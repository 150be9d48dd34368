package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
)

func cmdOfficer(e *env, args []string) error {
	if err := e.verb(args, "officer add|list|revoke --config FILE ..."); err != nil {
		return err
	}
	switch args[0] {
	case "add":
		return officerAdd(e, args[1:])
	case "revoke":
		return officerRevoke(e, args[1:])
	case "list":
		return officerList(e, args[1:])
	default:
		fmt.Fprintf(e.stderr, "hotline: unknown officer command %q\n", args[0])
		return errUsage
	}
}

// openQueue connects to the config's Redis with the audit key derived from
// its pepper, for the operator commands; agency, if set, must be one of the
// config's.
func openQueue(path, agency string) (*queue.Queue, func(), error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	if agency != "" && c.Agency(agency) == nil {
		return nil, nil, fmt.Errorf("unknown agency %q\nhint: use one of the ids under agencies in %s", agency, path)
	}
	keyer, err := pseudonym.New(c.Secrets.Pepper.Value())
	if err != nil {
		return nil, nil, fmt.Errorf("secrets.pepper: %w", err)
	}
	rdb, err := newRedis(c)
	if err != nil {
		return nil, nil, err
	}
	return newQueue(c, rdb, keyer), func() { rdb.Close() }, nil
}

func officerList(e *env, args []string) error {
	fs := e.newFlags("officer list", "officer list --config FILE [--agency ID] [--json]")
	cfgPath := fs.String("config", "", "the configuration `file`")
	agency := fs.String("agency", "", "only this agency")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseNeeding(fs, args, cfgPath); err != nil {
		return err
	}
	q, closeFn, err := openQueue(*cfgPath, "")
	if err != nil {
		return err
	}
	defer closeFn()
	list, err := officer.New(q).List(e.ctx, *agency)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, officersJSON(list), false)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAGENCY\tROLE\tNAME\tCREATED\tLAST USED\tSTATUS")
	for _, o := range list {
		status := "active"
		if o.Revoked {
			status = "revoked"
		}
		used := "never"
		if !o.LastUsed.IsZero() {
			used = o.LastUsed.UTC().Format("2006-01-02 15:04Z")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", visible(o.ID), visible(o.Agency), visible(o.Role), visible(o.Name), o.Created.Format("2006-01-02"), used, status)
	}
	return tw.Flush()
}

// officerJSON is one officer of `officer list --json`.
type officerJSON struct {
	ID      string    `json:"id"`
	Agency  string    `json:"agency"`
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
	Revoked bool      `json:"revoked"`
	// LastUsed: when the token was last taken, to the minute; absent if
	// never.
	LastUsed time.Time `json:"last_used,omitzero"`
}

func officerOf(o officer.Officer) officerJSON {
	return officerJSON{ID: o.ID, Agency: o.Agency, Name: o.Name, Role: o.Role, Created: o.Created.UTC(), Revoked: o.Revoked, LastUsed: o.LastUsed.UTC()}
}

// officersJSON is what `officer list --json` prints: {"officers": [...]},
// never null.
func officersJSON(list []officer.Officer) any {
	out := make([]officerJSON, 0, len(list))
	for _, o := range list {
		out = append(out, officerOf(o))
	}
	return struct {
		Officers []officerJSON `json:"officers"`
	}{out}
}

func officerAdd(e *env, args []string) error {
	fs := e.newFlags("officer add", "officer add --config FILE --agency ID --name NAME [--role officer|supervisor] [--json]")
	cfgPath := fs.String("config", "", "the configuration `file`")
	agency := fs.String("agency", "", "the agency `id` the officer works for")
	name := fs.String("name", "", "the officer's `name`, for the audit trail")
	role := fs.String("role", officer.RoleOfficer, "officer or supervisor")
	asJSON := fs.Bool("json", false, "print the officer with the token as JSON")
	if err := parseNeeding(fs, args, cfgPath, agency, name); err != nil {
		return err
	}
	q, closeFn, err := openQueue(*cfgPath, *agency)
	if err != nil {
		return err
	}
	defer closeFn()
	token, o, err := officer.New(q).Add(e.ctx, *agency, *name, *role)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "hotline: officer %s added to %s; the token is shown once, hand it over privately\n", o.ID, o.Agency)
	if *asJSON {
		return writeJSON(e.stdout, addedJSON{officerOf(o), token}, false)
	}
	fmt.Fprintln(e.stdout, token)
	return nil
}

func officerRevoke(e *env, args []string) error {
	fs := e.newFlags("officer revoke", "officer revoke --config FILE --id ID | --token-file FILE [--json]")
	cfgPath := fs.String("config", "", "the configuration `file`")
	id := fs.String("id", "", "the officer `id` (see officer list)")
	tokenFile := fs.String("token-file", "", "revoke the token in this `file` (a leaked token, for instance)")
	asJSON := fs.Bool("json", false, `print {"id", "revoked": true}`)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *id == "" && *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("cannot read the token file: %w", err)
		}
		*id = officer.TokenID(strings.TrimSpace(string(b)))
		if *id == "" {
			return fmt.Errorf("%s does not hold an officer token", *tokenFile)
		}
	}
	if *cfgPath == "" || *id == "" {
		fs.Usage()
		return errUsage
	}
	q, closeFn, err := openQueue(*cfgPath, "")
	if err != nil {
		return err
	}
	defer closeFn()
	if err := officer.New(q).Revoke(e.ctx, *id); err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, revokedJSON{ID: *id, Revoked: true}, false)
	}
	fmt.Fprintf(e.stdout, "revoked %s: its token stops working at once\n", *id)
	return nil
}

// addedJSON is what `officer add --json` prints: the officer and its
// token, shown once.
type addedJSON struct {
	officerJSON
	Token string `json:"token"`
}

// revokedJSON is what `officer revoke --json` prints.
type revokedJSON struct {
	ID      string `json:"id"`
	Revoked bool   `json:"revoked"`
}

// auditJSON is what `audit verify --json` prints when the chain is intact.
type auditJSON struct {
	Agency  string `json:"agency"`
	Entries int64  `json:"entries"`
	Intact  bool   `json:"intact"`
}

func cmdAudit(e *env, args []string) error {
	if err := e.verb(args, "audit verify --config FILE --agency ID [--json]"); err != nil {
		return err
	}
	if args[0] != "verify" {
		fmt.Fprintf(e.stderr, "hotline: unknown audit command %q\nusage: hotline audit verify --config FILE --agency ID\n", args[0])
		return errUsage
	}
	fs := e.newFlags("audit verify", "audit verify --config FILE --agency ID")
	cfgPath := fs.String("config", "", "the configuration `file` (its pepper keys the chain)")
	agency := fs.String("agency", "", "the agency `id`")
	asJSON := fs.Bool("json", false, `print {"agency", "entries", "intact": true} (a break is an error, exit 1)`)
	if err := parseNeeding(fs, args[1:], cfgPath, agency); err != nil {
		return err
	}
	q, closeFn, err := openQueue(*cfgPath, *agency)
	if err != nil {
		return err
	}
	defer closeFn()
	n, err := q.VerifyAudit(e.ctx, *agency)
	var br *queue.AuditBreak
	if errors.As(err, &br) {
		return &exitError{code: 1, err: fmt.Errorf("%s\nhint: the entries before it are intact; keep a copy of the Redis data and tell the agency's supervisor", visible(br.Error()))}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, auditJSON{Agency: *agency, Entries: n, Intact: true}, false)
	}
	fmt.Fprintf(e.stdout, "ok: %d audit entries of %s intact\n", n, *agency)
	return nil
}
