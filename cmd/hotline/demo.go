package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/hotline-org/hotline/cmd/internal/demo"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/handlers/server"
)

// cmdDemo runs a complete gateway on throwaway keys, for a first look.
func cmdDemo(e *env, args []string) error {
	fs := e.newFlags("demo", "demo [--listen ADDR]")
	listenAddr := fs.String("listen", "127.0.0.1:8080", "the `address` to serve on")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	d, err := demo.New(e.ctx, *listenAddr, e.getenv, e.stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	c, err := config.Load(d.ConfigPath)
	if err != nil {
		return err
	}
	parts, log, stop, err := startGateway(e, c)
	if err != nil {
		return err
	}
	defer stop(d.DeleteKeys)
	token, _, err := parts.queue.AddOfficer(e.ctx, "pe-lima", "Demo Officer", "officer")
	if err != nil {
		return fmt.Errorf("failed to create the demo officer: %w", err)
	}
	self := selfCommand()
	return server.Serve(e.ctx, c.Listen, parts.handler, log, func(addr string) {
		fmt.Fprintf(e.stdout, `
hotline demo: serving on http://%[1]s (configuration and throwaway keys in %[2]s)

1. Text the hotline as a victim would (a request signed the way Twilio signs it):

   %[3]s simulate sms --config %[4]s --from +51987654321 \
     --body "Nos tienen encerrados en una casa en La Molina, -12.0857, -76.9397. Somos 40."

2. Claim the tip and decrypt it on the officer's side (the gateway cannot):

   %[3]s triage next --server http://%[1]s --token %[5]s --identity %[6]s

   A witness would use the web form instead: http://%[1]s/report

3. Close it:

   %[3]s triage ack TIP-ID --disposition dispatched --server http://%[1]s --token %[5]s

Press Ctrl-C to stop; the demo directory is deleted on exit.
`, addr, d.Dir, self, d.ConfigPath, token, d.Identity)
	})
}

// selfCommand is how the printed commands should call this program.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil || strings.Contains(exe, "go-build") {
		return "go run ./cmd/hotline"
	}
	return exe
}
