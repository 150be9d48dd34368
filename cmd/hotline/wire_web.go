package main

import (
	"fmt"
	"log/slog"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/photo"
	"github.com/hotline-org/hotline/gateway/web"
	"github.com/hotline-org/hotline/handlers"
	"github.com/redis/go-redis/v9"
)

// webOptions wires the witness form: its channel's follow-up store, rate
// limits and proof of work share the queue's Redis and key prefix, and the
// pepper. The follow-up store is returned too: officers post to it.
func webOptions(c *config.Config, rdb redis.UniversalClient, keyer *pseudonym.Keyer, intake web.Intake,
	m web.Metrics, log *slog.Logger) (handlers.WebOptions, *followup.Store, error) {
	w := c.Web
	proxies, err := config.ParseTrustedProxies(w.TrustedProxies)
	if err != nil {
		return handlers.WebOptions{}, nil, fmt.Errorf("web.trusted_proxies: %w", err)
	}
	rate := func(s string) web.Rate {
		n, p, _ := config.ParseRate(s) // checked by Validate
		return web.Rate{Count: n, Period: p}
	}
	emergency := map[string]string{}
	for _, a := range c.Agencies {
		if a.Emergency != "" {
			emergency[a.ID] = a.Emergency
		}
	}
	followups := followup.New(rdb, keyer, followup.Options{Prefix: c.Redis.Prefix, TTL: w.FollowupTTL, Timeout: c.Redis.Timeout})
	channel := web.New(web.Options{
		Intake: intake, Followups: followups, Keyer: keyer, Redis: rdb, Prefix: c.Redis.Prefix,
		Emergency: emergency, Metrics: m, Logger: log,
		RateLimit: rate(w.RateLimit), OnionRateLimit: rate(w.OnionRateLimit),
		InvalidRateLimit: rate(w.InvalidRateLimit), OnionInvalidRateLimit: rate(w.OnionInvalidRateLimit),
		PoW: w.PoW, PoWBits: w.PoWBits, PoWFlood: w.PoWFlood, PoWWait: w.PoWWait, MaxPhoto: w.MaxPhoto,
		// One budget for the whole process: every photo decoded here
		// shares it.
		PhotoBudget: photo.NewBudget(w.PhotoMemory),
	})
	// The photos being read share the decoding's budget: as much again.
	return handlers.WebOptions{Channel: channel, OnionAddress: w.OnionAddress, ExitURL: w.ExitURL, TrustedProxies: proxies,
			UploadMemory: w.PhotoMemory},
		followups, nil
}
