package main

import (
	"fmt"

	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/queue"
)

func cmdOfficer(e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "usage: hotline officer add|revoke --config FILE ...")
		return errUsage
	}
	switch args[0] {
	case "add":
		return officerAdd(e, args[1:])
	case "revoke":
		return officerRevoke(e, args[1:])
	default:
		fmt.Fprintf(e.stderr, "hotline: unknown officer command %q\n", args[0])
		return errUsage
	}
}

func openQueue(path string) (*config.Config, *queue.Queue, func(), error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, nil, nil, err
	}
	rdb, err := newRedis(c)
	if err != nil {
		return nil, nil, nil, err
	}
	q := queue.New(rdb, queue.Options{Prefix: c.Redis.Prefix, Lease: c.Queue.Lease, Timeout: c.Redis.Timeout})
	return c, q, func() { rdb.Close() }, nil
}

func officerAdd(e *env, args []string) error {
	fs := e.newFlags("officer add", "officer add --config FILE --agency ID --name NAME [--role officer|supervisor]")
	cfgPath := fs.String("config", "", "the configuration `file`")
	agency := fs.String("agency", "", "the agency `id` the officer works for")
	name := fs.String("name", "", "the officer's `name`, for the audit trail")
	role := fs.String("role", queue.RoleOfficer, "officer or supervisor")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" || *agency == "" || *name == "" {
		fs.Usage()
		return errUsage
	}
	c, q, closeFn, err := openQueue(*cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	if c.Agency(*agency) == nil {
		return fmt.Errorf("unknown agency %q\nhint: use one of the ids under agencies in %s", *agency, *cfgPath)
	}
	token, o, err := q.AddOfficer(e.ctx, *agency, *name, *role)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "hotline: officer %s added to %s; the token below is shown once, hand it over privately\n", o.ID, o.Agency)
	fmt.Fprintln(e.stdout, token)
	return nil
}

func officerRevoke(e *env, args []string) error {
	fs := e.newFlags("officer revoke", "officer revoke --config FILE --id ID")
	cfgPath := fs.String("config", "", "the configuration `file`")
	id := fs.String("id", "", "the officer `id` (printed by officer add)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" || *id == "" {
		fs.Usage()
		return errUsage
	}
	_, q, closeFn, err := openQueue(*cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	if err := q.RevokeOfficer(e.ctx, *id); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revoked %s\n", *id)
	return nil
}
