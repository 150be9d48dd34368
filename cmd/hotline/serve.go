package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/handlers/server"
	"github.com/redis/go-redis/v9"
)

func cmdServe(e *env, args []string) error {
	fs := e.newFlags("serve", "serve --config FILE")
	cfgPath := fs.String("config", "", "the configuration `file`")
	if err := parseNeeding(fs, args, cfgPath); err != nil {
		return err
	}
	c, err := config.Load(*cfgPath)
	if err != nil {
		return fmt.Errorf("%w\nhint: run `hotline check-config --config %s`", err, *cfgPath)
	}
	parts, log, stop, err := startGateway(e, c)
	if err != nil {
		return err
	}
	defer stop(nil)
	return server.ServeWithOnion(e.ctx, c.Listen, c.Web.OnionListen, parts.handler, log)
}

// startGateway wires and starts the gateway of config c. stop stops it,
// then runs last (if not nil) while Redis is still open.
func startGateway(e *env, c *config.Config) (parts *gatewayParts, log *slog.Logger, stop func(last func(redis.UniversalClient)), err error) {
	log = newLogger(e.stderr, c.Log.Format, c.Log.Level)
	redis.SetLogger(redisLogger{log})
	rdb, err := newRedis(c)
	if err != nil {
		return nil, nil, nil, err
	}
	if parts, err = wire(e.ctx, c, rdb, log); err != nil {
		rdb.Close()
		return nil, nil, nil, err
	}
	stopParts, err := parts.start(e.ctx, log)
	if err != nil {
		rdb.Close()
		return nil, nil, nil, err
	}
	return parts, log, func(last func(redis.UniversalClient)) {
		stopParts()
		if last != nil {
			last(rdb)
		}
		rdb.Close()
	}, nil
}

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
