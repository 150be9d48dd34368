package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hotline-org/hotline/gateway/config"
)

// cmdProbe checks a running gateway's readiness, for container health
// checks in images that have no shell or curl.
func cmdProbe(e *env, args []string) error {
	fs := e.newFlags("probe", "probe --config FILE | --url URL")
	cfgPath := fs.String("config", "", "the configuration `file` (probes its listen address)")
	target := fs.String("url", "", "the `URL` to probe (default http://LISTEN/readyz)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *target == "" {
		if *cfgPath == "" {
			fs.Usage()
			return errUsage
		}
		c, err := config.Load(*cfgPath)
		if c == nil {
			return err
		}
		*target = "http://" + c.Listen + "/readyz"
	}
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get(*target)
	if err != nil {
		return &exitError{code: 1, err: errors.New("not reachable")}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &exitError{code: 1, err: fmt.Errorf("not ready (%d)", resp.StatusCode)}
	}
	fmt.Fprintln(e.stdout, "ready")
	return nil
}
