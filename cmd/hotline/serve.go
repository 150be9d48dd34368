package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/handlers"
	"github.com/redis/go-redis/v9"
)

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

func cmdServe(e *env, args []string) error {
	fs := e.newFlags("serve", "serve --config FILE")
	cfgPath := fs.String("config", "", "the configuration `file`")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" {
		fs.Usage()
		return errUsage
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
	return serveListeners(e.ctx, c, parts.handler, log)
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

// serveListeners runs the main listener and, when web.onion_listen is set,
// the onion service's own listener, whose requests (and only those) count
// in the onion rate limits. When one stops, both do.
func serveListeners(ctx context.Context, c *config.Config, h http.Handler, log *slog.Logger) error {
	if c.Web.OnionListen == "" {
		return serveHTTP(ctx, c.Listen, h, log, nil)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- serveHTTP(ctx, c.Listen, h, log, nil) }()
	go func() {
		errc <- serveHTTP(ctx, c.Web.OnionListen, handlers.ViaOnion(h), log.With("listener", "onion"), nil)
	}()
	err := <-errc
	cancel()
	return errors.Join(err, <-errc)
}
