package main

import (
	"errors"
	"fmt"

	"github.com/hotline-org/hotline/queue"
)

func cmdAudit(e *env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(e.stderr, "usage: hotline audit verify --config FILE --agency ID")
		return errUsage
	}
	fs := e.newFlags("audit verify", "audit verify --config FILE --agency ID")
	cfgPath := fs.String("config", "", "the configuration `file` (its pepper keys the chain)")
	agency := fs.String("agency", "", "the agency `id`")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *cfgPath == "" || *agency == "" {
		fs.Usage()
		return errUsage
	}
	c, q, closeFn, err := openQueue(*cfgPath)
	if err != nil {
		return err
	}
	defer closeFn()
	if c.Agency(*agency) == nil {
		return fmt.Errorf("unknown agency %q", *agency)
	}
	n, err := q.VerifyAudit(e.ctx, *agency)
	var br *queue.AuditBreak
	if errors.As(err, &br) {
		return &exitError{code: 1, err: fmt.Errorf("%s\nhint: the entries before it are intact; keep a copy of the Redis data and tell the agency's supervisor", visible(br.Error()))}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ok: %d audit entries of %s intact\n", n, *agency)
	return nil
}
