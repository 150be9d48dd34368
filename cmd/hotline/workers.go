package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/gateway/paging"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
	"github.com/redis/go-redis/v9"
)

// newQueue builds the queue with an audit key derived from the pepper, so
// that the audit chain cannot be rewritten by someone who can only write
// to Redis.
func newQueue(c *config.Config, rdb redis.UniversalClient, keyer *pseudonym.Keyer) *queue.Queue {
	return queue.New(rdb, queue.Options{Prefix: c.Redis.Prefix, Lease: c.Queue.Lease, Timeout: c.Redis.Timeout,
		AuditKey: keyer.Sum("audit-key", "v1"), Replicas: c.Redis.QueueReplicas(), ReplicaWait: c.Redis.ReplicaWait})
}

// agencyInfo lists the agencies and their public recipients for officers.
func agencyInfo(c *config.Config) ([]handlers.AgencyInfo, error) {
	out := make([]handlers.AgencyInfo, 0, len(c.Agencies))
	for _, a := range c.Agencies {
		lines, err := c.RecipientLines(a)
		if err != nil {
			return nil, err
		}
		out = append(out, handlers.AgencyInfo{ID: a.ID, Name: a.Name, Recipients: lines})
	}
	return out, nil
}

// start runs the spool drainer, the metrics listener and the background
// workers. The returned stop, called once the HTTP server has finished the
// requests in flight, stops them in reverse order.
func (p *gatewayParts) start(ctx context.Context, log *slog.Logger) (stop func(), err error) {
	stopDurability, err := p.dur.start(log)
	if err != nil {
		return nil, err
	}
	stopWorkers := runWorkers(ctx, p.workers)
	return func() {
		stopWorkers()
		stopDurability()
	}, nil
}

// runWorkers starts the background workers and returns a function that
// stops them and waits.
func runWorkers(ctx context.Context, workers []func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w(ctx) })
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// pageSender adapts the Twilio client to the pager.
type pageSender struct{ c *twilioapi.Client }

func (p pageSender) Send(ctx context.Context, from, to, body string) error {
	_, err := p.c.Send(ctx, from, to, body)
	return err
}

// pagerWorker pages on-call officers for urgent tips left unclaimed.
func pagerWorker(c *config.Config, q *queue.Queue, sms paging.SMS, log *slog.Logger) func(context.Context) {
	nums := make([]string, 0, len(c.Twilio.Numbers))
	for n := range c.Twilio.Numbers {
		nums = append(nums, n)
	}
	var agencies []paging.Agency
	for _, a := range c.Agencies {
		agencies = append(agencies, paging.Agency{ID: a.ID, Name: a.Name,
			OnCall:     paging.Target{SMS: a.OnCall.SMS, Webhook: a.OnCall.Webhook},
			Supervisor: paging.Target{SMS: a.Supervisor.SMS, Webhook: a.Supervisor.Webhook}})
	}
	p := paging.New(paging.Options{Queue: q, SMS: sms, From: paging.Sender(c.Paging.From, nums), Agencies: agencies,
		After: c.Paging.After, SupervisorAfter: c.Paging.SupervisorAfter, Interval: c.Paging.Interval, Logger: log})
	return p.Run
}
