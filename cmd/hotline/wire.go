package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/gateway/paging"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
	"github.com/redis/go-redis/v9"
)

// newRedis builds the Redis client of the config.
func newRedis(c *config.Config) (redis.UniversalClient, error) {
	r := c.Redis
	return queue.NewClient(queue.ClientOptions{Mode: r.Mode, URL: r.URL, Addrs: r.Addrs, MasterName: r.MasterName,
		Username: r.Username, Password: string(r.Password.Value()), TLS: r.TLS, Timeout: r.Timeout})
}

// gatewayParts is everything serve wires together.
type gatewayParts struct {
	cfg     *config.Config
	queue   *queue.Queue
	handler http.Handler
	// workers run in the background while the gateway serves, and stop
	// when their context ends.
	workers []func(context.Context)
	// dur is the spool, its drainer and the metrics.
	dur *durability
}

// loadRegions loads the configured regions and builds the router.
func loadRegions(c *config.Config) (*geo.Index, *gateway.Router, error) {
	specs := make([]geo.RegionSpec, 0, len(c.Regions))
	for _, r := range c.Regions {
		path := ""
		if r.GeoJSON != "" {
			path = c.Path(r.GeoJSON)
		}
		specs = append(specs, geo.RegionSpec{ID: r.ID, GeoJSONPath: path, Feature: r.Feature,
			NameProperty: r.NameProperty, Polygon: r.Polygon, Aliases: r.Aliases,
			EachFeature: r.EachFeature, IDProperty: r.IDProperty, SkipUnlocated: r.SkipUnlocated})
	}
	ix, err := geo.Load(specs)
	if err != nil {
		return nil, nil, err
	}
	areas := make([]gateway.AgencyArea, 0, len(c.Agencies))
	for _, a := range c.Agencies {
		areas = append(areas, gateway.AgencyArea{ID: a.ID, Regions: a.Regions})
	}
	known := map[string]bool{}
	for _, id := range ix.RegionIDs() {
		known[id] = true
	}
	var errs []error
	for _, a := range c.Agencies {
		for _, r := range a.Regions {
			if !known[r] {
				errs = append(errs, fmt.Errorf("agency %s: region %q matches no loaded region or feature", a.ID, r))
			}
		}
	}
	locator, err := geo.NewLocatorWithAliases(ix, c.Aliases)
	if err != nil {
		errs = append(errs, fmt.Errorf("aliases: %w", err))
	}
	if len(errs) > 0 {
		return ix, nil, errors.Join(errs...)
	}
	return ix, gateway.NewRouter(ix, locator, areas, c.Twilio.NumberRegions(), c.DefaultAgency), nil
}

// loadKeyring parses every agency's recipients, sealing X25519 ones with
// crypto/x25519 unless crypto.fast_x25519 is off.
func loadKeyring(c *config.Config) (*seal.Keyring, error) {
	m := map[string]*seal.Recipients{}
	opt := seal.Options{FastX25519: c.Crypto.UseFastX25519()}
	for _, a := range c.Agencies {
		lines, err := c.RecipientLines(a)
		if err != nil {
			return nil, fmt.Errorf("agency %s: %w", a.ID, err)
		}
		rs, err := seal.ParseRecipientsWith(lines, opt)
		if err != nil {
			return nil, fmt.Errorf("agency %s: %w", a.ID, err)
		}
		m[a.ID] = rs
	}
	return seal.NewKeyring(m), nil
}

// wire builds the gateway from a validated config and a Redis client.
func wire(ctx context.Context, c *config.Config, rdb redis.UniversalClient, log *slog.Logger) (*gatewayParts, error) {
	return wireWith(ctx, c, rdb, rdb, log)
}

// wireWith is wire with a client of its own for the web form (its abuse
// guard and follow-up store). Every form post asks Redis about its buckets,
// refused ones too: in a flood of them they wait for that client's
// connections, not for those the SMS webhook and the queue use.
func wireWith(ctx context.Context, c *config.Config, rdb, formRDB redis.UniversalClient, log *slog.Logger) (*gatewayParts, error) {
	if err := c.Validate().Err(); err != nil {
		return nil, fmt.Errorf("invalid config:\n%w\nhint: run `hotline check-config --config FILE`", err)
	}
	ix, router, err := loadRegions(c)
	if err != nil {
		return nil, fmt.Errorf("regions: %w", err)
	}
	drawings, err := regionDrawings(ix, c)
	if err != nil {
		return nil, fmt.Errorf("regions: %w", err)
	}
	keyring, err := loadKeyring(c)
	if err != nil {
		return nil, err
	}
	logSealing(log, c, keyring)
	keyer, err := pseudonym.New(c.Secrets.Pepper.Value())
	if err != nil {
		return nil, fmt.Errorf("secrets.pepper: %w", err)
	}
	q := newQueue(c, rdb, keyer)
	ids := make([]string, 0, len(c.Agencies))
	for _, a := range c.Agencies {
		ids = append(ids, a.ID)
	}
	if err := q.Ensure(ctx, ids...); err != nil {
		// Not fatal: the gateway answers with errors until Redis is back,
		// and readiness says so. Groups are created on first use.
		log.Warn("redis not reachable at start", "err", err)
	}
	dur, err := openDurability(c, q, ids, log)
	if err != nil {
		return nil, err
	}
	intake := gateway.NewIntake(gateway.Options{
		Sealer: keyring, Publisher: dur.publisher, Router: router, Keyer: keyer, Logger: log,
		DedupeTTL: c.Queue.DedupeTTL, MaxSealing: c.Limits.MaxSealing, Metrics: dur.metrics,
	})
	agencies, err := agencyInfo(c)
	if err != nil {
		dur.publisher.Close()
		return nil, err
	}
	web, followups, err := webOptions(c, formRDB, keyer, intake, dur.metrics, log)
	if err != nil {
		dur.publisher.Close()
		return nil, err
	}
	tw := twilioClient(c, log)
	channel, conv, err := smsChannel(c, rdb, keyer, intake, q, tw, dur.metrics, log)
	if err != nil {
		dur.publisher.Close()
		return nil, err
	}
	calls, err := voiceChannel(c, rdb, keyer, intake, tw, conv, dur.metrics, log)
	if err != nil {
		dur.publisher.Close()
		return nil, err
	}
	// A tip drained from the spool gets what it could not get while Redis
	// was away: its reply handle, scrub job and thread.
	dur.publisher.Apply = conv.ApplySide
	// A tip's stream entry carries its scrub job, which the scrubber moves
	// into its schedule (and retention, before it deletes an entry).
	conv.Scrubs().FromEntries(q, ids)
	h := handlers.New(handlers.Options{
		Intake: intake, Triage: q, Officers: officer.New(q), Ready: dur.publisher.Ready, PublicURL: c.PublicURL,
		AuthToken: c.Twilio.AuthToken.Value(), AccountSID: c.Twilio.AccountSID, MaxBody: c.Limits.MaxBody, Logger: log,
		Agencies: agencies, Metrics: dur.metrics, MetricsHandler: dur.metrics.PublicHandler(c.Metrics.OnMainListener, handlers.FromOnion), Web: web,
		SMS: channel, Voice: calls, Questions: followups, Handles: conv, Regions: drawings,
		Deadlines: handlers.Deadlines{ReplyWindow: c.Channel.ReplyWindow, PageAfter: c.Paging.After,
			PageSupervisorAfter: c.Paging.SupervisorAfter},
	})
	parts := &gatewayParts{cfg: c, queue: q, handler: h, dur: dur}
	var pagerSMS paging.SMS
	if tw != nil {
		pagerSMS = pageSender{tw}
	}
	parts.workers = append(parts.workers,
		// The reply handle and the follow-up thread die with the case.
		func(ctx context.Context) {
			// A tip's scrub job leaves its entry before the entry goes.
			moveScrubs := func(ctx context.Context, agency, _, _ string) error { return conv.Scrubs().MoveAgency(ctx, agency) }
			handle := func(ctx context.Context, agency, caseRef string) error {
				return conv.DeleteHandle(ctx, agency, caseRef)
			}
			thread := func(ctx context.Context, _, caseRef string) error { return followups.DeleteCase(ctx, caseRef) }
			q.Retain(ctx, ids, c.Retention.Closed, c.Retention.Interval, log, moveScrubs, q.WhenCaseClosed(handle, thread))
		},
		pagerWorker(c, q, pagerSMS, log),
		func(ctx context.Context) { channel.RunScrubber(ctx, 15*time.Second) })
	return parts, nil
}

// logSealing says, per agency, what kind of recipients its tips are sealed
// to and by what code: an operator checking that tips are post-quantum
// sealed must be able to trust this line.
func logSealing(log *slog.Logger, c *config.Config, k *seal.Keyring) {
	for _, a := range c.Agencies {
		rs := k.Recipients(a.ID)
		if rs == nil {
			continue
		}
		var with string
		switch rs.Kind() {
		case seal.KindPostQuantum:
			with = "age, ML-KEM-768 + X25519 hybrid"
		case seal.KindX25519:
			if c.Crypto.UseFastX25519() {
				with = "crypto/x25519"
			} else {
				with = "upstream age"
			}
		case seal.KindPlugin:
			with = "age plugin"
		default:
			with = "age"
		}
		log.Info("sealing tips to the agency's recipients", "agency", a.ID, "kind", string(rs.Kind()),
			"recipients", rs.Len(), "with", with, "crypto.fast_x25519", c.Crypto.UseFastX25519())
	}
}
