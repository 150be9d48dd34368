package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/spool"
	"github.com/hotline-org/hotline/queue"
)

// durability is what keeps an acknowledged tip from being lost while Redis
// is away (the spool, and the publisher that falls back to it and drains
// it), and what shows how the gateway is doing (the metrics).
type durability struct {
	spool *spool.Spool
	// held keeps the tips Redis took but its replicas did not confirm.
	held      *spool.Spool
	publisher *spool.Publisher
	metrics   *metrics.Metrics
	cfg       *config.Config
}

// openDurability opens the spool (repairing what a crash left) and builds
// the publisher and the metrics around q.
func openDurability(c *config.Config, q *queue.Queue, agencies []string, log *slog.Logger) (*durability, error) {
	dir := c.SpoolDir(os.Getenv)
	if dir == "" {
		return nil, errors.New("spool.dir: no directory for the spool\nhint: set spool.dir (or STATE_DIRECTORY) to a directory on a local disk that only the gateway can write")
	}
	sp, err := spool.Open(dir, spool.Options{MaxBytes: c.Spool.MaxBytes, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("spool.dir %s: %w\nhint: the gateway needs a private, writable directory of its own for the spool", dir, err)
	}
	if st := sp.Stats(); st.Records > 0 {
		log.Info("spool: tips from an earlier run will be handed to redis", "tips", st.Records)
	}
	// A directory of its own: the spool's drain stops at the first tip
	// Redis does not take, the held tips' drain at the first one the
	// replicas do not confirm, and neither holds up the other.
	held, err := spool.Open(filepath.Join(dir, heldDir), spool.Options{MaxBytes: c.Spool.MaxBytes, Logger: log})
	if err != nil {
		sp.Close()
		return nil, fmt.Errorf("spool.dir %s: %w\nhint: the gateway needs a private, writable directory of its own for the spool", dir, err)
	}
	if st := held.Stats(); st.Records > 0 {
		log.Info("spool: tips from an earlier run wait for redis replicas to confirm them", "tips", st.Records)
	}
	pub := &spool.Publisher{Primary: q, Spool: sp, Held: held, Timeout: c.Redis.Timeout, Logger: log}
	m := metrics.New(metrics.Options{
		Agencies: agencies,
		Depth:    q.Depth,
		Spool: func() metrics.SpoolStats {
			s, h := sp.Stats(), held.Stats()
			// Bytes against MaxBytes is the room for tips Redis does not
			// take; the held tips have a bound of their own.
			return metrics.SpoolStats{Records: s.Records, Bytes: s.Bytes, MaxBytes: s.MaxBytes,
				Appended: s.Appended, Drained: s.Drained, Unconfirmed: h.Records,
				Oldest: sp.Oldest(), Stuck: pub.StuckReason()}
		},
	})
	logReplicas(c, q, log)
	pub.Metrics = m
	return &durability{spool: sp, held: held, publisher: pub, metrics: m, cfg: c}, nil
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
// closes the spool, all within shutdownTimeout.
func (d *durability) start(ctx context.Context, log *slog.Logger) (stop func(), err error) {
	var ml *metrics.Listener
	if addr := d.cfg.Metrics.Listen; addr != "" {
		if ml, err = d.metrics.Listen(addr, log); err != nil {
			d.close()
			return nil, fmt.Errorf("metrics.listen: %w", err)
		}
	}
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { d.publisher.Run(dctx) })
	return func() {
		sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer scancel()
		cancel()
		wg.Wait()
		// The last tips taken in may be in the spool: hand them over now if
		// Redis answers, since a container's spool may not outlive it.
		if left := d.publisher.Flush(sctx); left > 0 {
			log.Warn("spool: tips kept for the next start", "tips", left, "dir", d.spool.Dir())
		}
		if ml != nil {
			if err := ml.Shutdown(sctx); err != nil {
				log.Warn("metrics: shutdown", "err", err)
			}
		}
		if err := d.spool.Close(); err != nil {
			log.Error("spool: close failed", "err", err)
		}
		if err := d.held.Close(); err != nil {
			log.Error("spool: close failed", "err", err)
		}
	}, nil
}

// close releases the spool when the gateway does not start after all.
func (d *durability) close() {
	d.spool.Close()
	d.held.Close()
}

// heldDir is the held tips' spool, inside the spool directory.
const heldDir = "unconfirmed"
