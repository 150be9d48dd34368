package spool

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/hotline-org/hotline/gateway/metrics"
)

// HeldDir is the directory of the held tips' spool, inside the spool
// directory. It is a spool of its own: the spool's drain stops at the
// first tip Redis does not take, the held tips' drain at the first one the
// replicas do not confirm, and neither holds up the other.
const HeldDir = "unconfirmed"

// OpenPublisher opens the spool in dir and the held tips' spool inside it
// (repairing what a crash left), and returns the publisher that queues
// tips in primary, with timeout for each call. It logs how many tips an
// earlier run left.
func OpenPublisher(dir string, primary Primary, opt Options, timeout time.Duration) (*Publisher, error) {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sp, err := Open(dir, opt)
	if err != nil {
		return nil, err
	}
	if st := sp.Stats(); st.Records > 0 {
		log.Info("spool: tips from an earlier run will be handed to redis", "tips", st.Records)
	}
	held, err := Open(filepath.Join(dir, HeldDir), opt)
	if err != nil {
		sp.Close()
		return nil, err
	}
	if st := held.Stats(); st.Records > 0 {
		log.Info("spool: tips from an earlier run wait for redis replicas to confirm them", "tips", st.Records)
	}
	return &Publisher{Primary: primary, Spool: sp, Held: held, Timeout: timeout, Logger: log}, nil
}

// Stats are the spool's figures for the metrics. Bytes against MaxBytes is
// the room for tips Redis does not take; the held tips have a bound of
// their own.
func (p *Publisher) Stats() metrics.SpoolStats {
	s := p.Spool.Stats()
	st := metrics.SpoolStats{Records: s.Records, Bytes: s.Bytes, MaxBytes: s.MaxBytes,
		Appended: s.Appended, Drained: s.Drained, Oldest: p.Spool.Oldest(), Stuck: p.StuckReason()}
	if p.Held != nil {
		st.Unconfirmed = p.Held.Stats().Records
	}
	return st
}

// Start runs the drainer. The returned stop, called once no tip comes in
// any more, stops it, hands what it can of the spool to the primary before
// ctx ends (a container's spool may not outlive it), and closes the spools.
func (p *Publisher) Start() (stop func(ctx context.Context)) {
	dctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { p.Run(dctx) })
	return func(ctx context.Context) {
		cancel()
		wg.Wait()
		if left := p.Flush(ctx); left > 0 {
			p.logger().Warn("spool: tips kept for the next start", "tips", left, "dir", p.Spool.Dir())
		}
		if err := p.Close(); err != nil {
			p.logger().Error("spool: close failed", "err", err)
		}
	}
}

// Close closes the spools.
func (p *Publisher) Close() error {
	var err error
	if p.Held != nil {
		err = p.Held.Close()
	}
	return errors.Join(p.Spool.Close(), err)
}
