package main

import (
	"fmt"
	"net"

	"github.com/hotline-org/hotline/gateway/config"
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
	log := newLogger(e.stderr, c.Log.Format, c.Log.Level)
	redis.SetLogger(redisLogger{log})
	rdb, err := newRedis(c)
	if err != nil {
		return err
	}
	defer rdb.Close()
	parts, err := wire(e.ctx, c, rdb, log)
	if err != nil {
		return err
	}
	stop, err := parts.start(e.ctx, log)
	if err != nil {
		return err
	}
	defer stop()
	return serveHTTP(e.ctx, c.Listen, parts.handler, log, nil)
}
