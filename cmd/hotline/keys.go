package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/config"
)

func cmdKeygen(e *env, args []string) error {
	fs := e.newFlags("keygen", "keygen [--x25519] --out FILE")
	x25519 := fs.Bool("x25519", false, "make a classic X25519 identity instead of a post-quantum hybrid one (for hardware plugins)")
	out := fs.String("out", "", "write the identity to this `file` (created with mode 0600; never overwritten)")
	if err := parseNeeding(fs, args, out); err != nil {
		return err
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s already exists; not overwriting an identity\nhint: choose another --out file", *out)
	}
	g, err := seal.Generate(*x25519)
	if err != nil {
		return err
	}
	if err := seal.WriteIdentityFile(*out, g, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "hotline: wrote a %s identity to %s; keep it offline and give only the recipient below to the gateway's operator\n", g.Kind, *out)
	fmt.Fprintln(e.stdout, g.Recipient)
	return nil
}

func cmdCheckConfig(e *env, args []string) error {
	fs := e.newFlags("check-config", "check-config --config FILE")
	cfgPath := fs.String("config", "", "the configuration `file`")
	if err := parseNeeding(fs, args, cfgPath); err != nil {
		return err
	}
	c, err := config.Load(*cfgPath)
	if c == nil {
		return &exitError{code: 1, err: err}
	}
	failed := false
	if err != nil {
		for _, line := range splitJoined(err) {
			fmt.Fprintf(e.stdout, "error: %s\n", line)
		}
		failed = true
	}
	for _, p := range c.Validate() {
		fmt.Fprintln(e.stdout, p.String())
		failed = failed || !p.Warning
	}
	ix, _, err := loadRegions(c)
	if err != nil {
		for _, line := range splitJoined(err) {
			fmt.Fprintf(e.stdout, "error: regions: %s\n", line)
		}
		failed = true
	}
	if ix != nil {
		for _, w := range ix.Warnings() {
			fmt.Fprintf(e.stdout, "warning: regions: %s\n", w)
		}
	}
	if failed {
		return &exitError{code: 1, err: errors.New("the configuration has errors")}
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}

// splitJoined lists the errors inside an errors.Join.
func splitJoined(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, splitJoined(e)...)
		}
		return out
	}
	return []string{err.Error()}
}
