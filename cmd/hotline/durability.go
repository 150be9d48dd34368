package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/spool"
	"github.com/hotline-org/hotline/handlers/server"
	"github.com/hotline-org/hotline/queue"
)

// durability is what keeps an acknowledged tip from being lost while Redis
// is away (the spool, and the publisher that falls back to it and drains
// it), and what shows how the gateway is doing (the metrics).
type durability struct {
	publisher *spool.Publisher
	metrics   *metrics.Metrics
	cfg       *config.Config
}

// openDurability opens the spool and builds the publisher and the metrics
// around q.
func openDurability(c *config.Config, q *queue.Queue, agencies []string, log *slog.Logger) (*durability, error) {
	dir := c.SpoolDir(os.Getenv)
	if dir == "" {
		return nil, errors.New("spool.dir: no directory for the spool\nhint: set spool.dir (or STATE_DIRECTORY) to a directory on a local disk that only the gateway can write")
	}
	pub, err := spool.OpenPublisher(dir, q, spool.Options{MaxBytes: c.Spool.MaxBytes, Logger: log}, c.Redis.Timeout)
	if err != nil {
		return nil, fmt.Errorf("spool.dir %s: %w\nhint: the gateway needs a private, writable directory of its own for the spool", dir, err)
	}
	m := metrics.New(metrics.Options{Agencies: agencies, Depth: q.Depth, Spool: pub.Stats})
	pub.Metrics = m
	logReplicas(c, q, log)
	return &durability{publisher: pub, metrics: m, cfg: c}, nil
}

// logReplicas says at startup what an acknowledgement means: confirmed by
// how many replicas, or, if they cannot be counted, by none.
func logReplicas(c *config.Config, q *queue.Queue, log *slog.Logger) {
	if c.Redis.MinReplicas != nil {
		log.Info("redis: a tip is acknowledged once this many replicas confirm it, or once it is spooled too", "replicas", *c.Redis.MinReplicas)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Redis.Timeout)
	defer cancel()
	n, err := q.ReplicaCount(ctx)
	switch {
	case err != nil:
		log.Warn("redis: cannot count the master's replicas now; until it can, no replica is waited for. hint: set redis.min_replicas to the number of replicas", "err", err)
	case n > 0:
		log.Info("redis: a tip is acknowledged once the master's replicas confirm it, or once it is spooled too", "replicas", n)
	}
}

// start runs the spool drainer and the metrics listener. The returned stop
// is called once the HTTP server has finished the requests in flight: it
// stops them in reverse order, hands what it can of the spool to Redis, and
// closes the spool, all within server.ShutdownTimeout.
func (d *durability) start(log *slog.Logger) (stop func(), err error) {
	var ml *server.Listener
	if addr := d.cfg.Metrics.Listen; addr != "" {
		if ml, err = server.Start(addr, d.metrics.ListenerHandler(), log.With("listener", "metrics")); err != nil {
			d.publisher.Close()
			return nil, fmt.Errorf("metrics.listen: %w", err)
		}
	}
	stopDrain := d.publisher.Start()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), server.ShutdownTimeout)
		defer cancel()
		stopDrain(ctx)
		if ml != nil {
			if err := ml.Shutdown(ctx); err != nil {
				log.Warn("metrics: shutdown", "err", err)
			}
		}
	}, nil
}
