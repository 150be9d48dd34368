package main

import (
	"fmt"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/photo"
	"github.com/hotline-org/hotline/handlers"
	"github.com/redis/go-redis/v9"
)

// webOptions wires the witness form: its follow-up store, rate limits and
// proof of work share the queue's Redis and key prefix, and the pepper.
func webOptions(c *config.Config, rdb redis.UniversalClient, keyer *pseudonym.Keyer, followups *followup.Store) (handlers.WebOptions, error) {
	w := c.Web
	proxies, err := config.ParseTrustedProxies(w.TrustedProxies)
	if err != nil {
		return handlers.WebOptions{}, fmt.Errorf("web.trusted_proxies: %w", err)
	}
	emergency := map[string]string{}
	for _, a := range c.Agencies {
		if a.Emergency != "" {
			emergency[a.ID] = a.Emergency
		}
	}
	rate := func(s string) handlers.Rate {
		n, p, _ := config.ParseRate(s) // checked by Validate
		return handlers.Rate{Count: n, Period: p}
	}
	return handlers.WebOptions{
		Emergency: emergency,
		Followups: followups,
		Keyer:     keyer, Redis: rdb, Prefix: c.Redis.Prefix,
		OnionAddress: w.OnionAddress, ExitURL: w.ExitURL, TrustedProxies: proxies,
		RateLimit: rate(w.RateLimit), OnionRateLimit: rate(w.OnionRateLimit),
		InvalidRateLimit: rate(w.InvalidRateLimit), OnionInvalidRateLimit: rate(w.OnionInvalidRateLimit),
		PoW: w.PoW, PoWBits: w.PoWBits, PoWFlood: w.PoWFlood, PoWWait: w.PoWWait, MaxPhoto: w.MaxPhoto,
		// One budget for the whole process: every photo decoded here
		// shares it.
		PhotoBudget: photo.NewBudget(w.PhotoMemory),
	}, nil
}
