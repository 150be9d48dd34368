package main

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/handlers/console"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

const consoleSynopsis = "console --server URL --token TOKEN --identity FILE [--listen 127.0.0.1:0] [--no-browser]"

// cmdConsole runs the officer's console on this machine: tips are opened
// here, and shown to a browser of this machine only.
func cmdConsole(e *env, args []string) error {
	fs := e.newFlags("console", consoleSynopsis)
	conn := addGatewayFlags(fs)
	identity := fs.String("identity", "", "your agency identity `file` (HOTLINE_IDENTITY); read locally, never sent")
	listen := fs.String("listen", "127.0.0.1:0", "the loopback `address` to serve the console on (port 0: any free port)")
	noBrowser := fs.Bool("no-browser", false, "print the one-time URL only; do not open a browser")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &exitError{code: 2, err: errors.New("console takes no arguments\nhint: hotline console --help")}
	}
	l, err := console.Listen(*listen)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%w\nhint: use --listen 127.0.0.1:PORT and open the console on this machine", err)}
	}
	defer l.Close()
	srv, tok, err := e.gateway(conn, "console")
	if err != nil {
		return err
	}
	idPath := e.orEnv(*identity, "HOTLINE_IDENTITY")
	if idPath == "" {
		return &exitError{code: 2, err: errors.New("--identity is needed (or HOTLINE_IDENTITY): tips are opened on this machine with it\nhint: hotline console --help")}
	}
	ids, err := seal.LoadIdentities(idPath, e.stderr, "hotline: ")
	if err != nil {
		return err
	}
	api := officerapi.New(srv, tok, nil)
	a, err := api.MyAgency(e.ctx)
	if err != nil {
		return fmt.Errorf("%w\nhint: check --server and --token", err)
	}
	if checked, matches := ids.Match(a.Recipients); checked && !matches {
		return fmt.Errorf("the identity in %s matches no recipient of agency %q: the console could open none of its tips\nhint: use your agency's current identity, or ask your supervisor", idPath, a.ID)
	}
	c, err := console.New(e.ctx, console.Options{API: api, Identities: ids, Logger: newLogger(e.stderr, "text", "warn"), Regions: api.Regions,
		ReplyWindow: config.DefaultReplyWindow, PageAfter: config.DefaultPageAfter, PageSupervisorAfter: config.DefaultPageSupervisorAfter})
	if err != nil {
		return err
	}
	return c.Serve(e.ctx, l, func(url string) {
		fmt.Fprintln(e.stdout, url)
		if !*noBrowser {
			if err := openBrowser(url); err != nil {
				fmt.Fprintf(e.stderr, "hotline: could not open a browser (%v); open the URL above yourself\n", err)
			}
		}
	})
}

// openBrowser opens url in the desktop's browser.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
