// Package metrics is the gateway's Prometheus metrics.
//
// What it protects against: a metric that identifies or locates a reporter.
// Every label value comes from a fixed set (channels, priorities, the
// configured agency ids, reasons, outcomes, operations). Callers pass typed
// values, never strings of their own, and a value outside a set is counted as
// "other": no label can carry a pseudonym, a phone number, an address or any
// text of a tip. The counts themselves are still sensitive (a tip count per
// agency tells an onlooker when a tip arrived), so they are served on a
// listener of their own, off the public one.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/queue"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Reason is why a request was rejected.
type Reason uint8

// Reasons for a rejection: the complete set of the reason label.
const (
	BadSignature Reason = iota + 1
	TooLarge
	BadRequest
	RateLimited
	Unavailable
	InFlight
	Honeypot
	Unauthorized // the officer API without a valid token
)

var reasonNames = [...]string{
	BadSignature: "bad_signature", TooLarge: "too_large", BadRequest: "bad_request",
	RateLimited: "rate_limited", Unavailable: "unavailable", InFlight: "in_flight", Honeypot: "honeypot",
	Unauthorized: "unauthorized",
}

func (r Reason) String() string { return label(r, reasonNames[:]) }

// Route is what a rejected request asked for.
type Route uint8

// Routes of a rejection: the complete set of the route label.
const (
	RouteMessaging Route = iota + 1 // the SMS and WhatsApp webhooks (messages, statuses)
	RouteVoice                      // the voice webhooks
	RouteWeb                        // the witness's form and follow-up
	RouteAPI                        // the officers' API
)

var routeNames = [...]string{RouteMessaging: "messaging", RouteVoice: "voice", RouteWeb: "web", RouteAPI: "api"}

func (r Route) String() string { return label(r, routeNames[:]) }

// RedisOp is a kind of call to Redis on the intake path.
type RedisOp uint8

// Redis operations: the complete set of the op label.
const (
	RedisPublish RedisOp = iota + 1
	RedisDedupe
	RedisPing
)

var redisOpNames = [...]string{RedisPublish: "publish", RedisDedupe: "dedupe", RedisPing: "ping"}

func (o RedisOp) String() string { return label(o, redisOpNames[:]) }

// ScrubOutcome is how a job that deletes a message from the provider ended.
type ScrubOutcome uint8

// Scrub outcomes: the complete set of the outcome label of scrub jobs.
const (
	ScrubDeleted    ScrubOutcome = iota + 1 // the provider no longer holds the message
	ScrubNotFound                           // already gone
	ScrubRetry                              // failed for now, scheduled again
	ScrubFailed                             // given up: needs an operator
	ScrubUnreadable                         // the reply key cannot open the job: stays queued
)

var scrubNames = [...]string{ScrubDeleted: "deleted", ScrubNotFound: "not_found", ScrubRetry: "retry", ScrubFailed: "failed",
	ScrubUnreadable: "unreadable"}

func (o ScrubOutcome) String() string { return label(o, scrubNames[:]) }

const other = "other"

// label is the name of an enum value; zero and values past the names are
// "other".
func label[E ~uint8](v E, names []string) string {
	if v > 0 && int(v) < len(names) {
		return names[v]
	}
	return other
}

// Fixed label sets, exported so that tests can check a scrape against them.
var (
	Channels       = []string{string(gateway.ChannelSMS), string(gateway.ChannelWhatsApp), string(gateway.ChannelWeb), string(gateway.ChannelVoice), other}
	Priorities     = []string{string(queue.Urgent), string(queue.Normal), other}
	Reasons        = names(reasonNames[:])
	Routes         = names(routeNames[:])
	RedisOps       = names(redisOpNames[:])
	ScrubOutcomes  = names(scrubNames[:])
	IntakeOutcomes = []string{"queued", "unavailable", "in_flight", "invalid", "error"}
	Results        = []string{"ok", "error"}
)

func names(s []string) []string {
	out := []string{}
	for _, n := range s {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// SpoolStats is what the metrics show of the local spool.
type SpoolStats struct {
	Records, Bytes, MaxBytes, Appended, Drained int64
	// Unconfirmed is the tips Redis took but its replicas have not yet
	// confirmed, kept in the spool until they do.
	Unconfirmed int64
	// Oldest is when the oldest tip waiting in the spool was received (zero
	// when none waits).
	Oldest time.Time
	// Stuck is why the spool cannot drain (spool.StuckReasons), or "".
	Stuck string
}

// StuckReasons are the reason label's set of hotline_spool_stuck; the same
// as spool.StuckReasons (metrics cannot import spool).
var StuckReasons = []string{"noperm", "noscript", "wrongtype", "oom", "readonly", "misconf"}

// Options configures the metrics.
type Options struct {
	// Agencies are the configured agency ids: the agency label's set.
	Agencies []string
	// Depth returns an agency's waiting tips per priority; called on each
	// scrape. Nil leaves queue depth out.
	Depth func(ctx context.Context, agency string) (map[queue.Priority]int64, error)
	// DepthTimeout bounds the Redis calls of one scrape (default 1s).
	DepthTimeout time.Duration
	// Spool returns the spool's figures; called on each scrape. Nil leaves
	// the spool out.
	Spool func() SpoolStats
}

// Metrics holds the gateway's metrics. A nil *Metrics records nothing.
type Metrics struct {
	reg          *prometheus.Registry
	agencies     map[string]bool
	tips         *prometheus.CounterVec
	intake       *prometheus.HistogramVec
	seal         prometheus.Histogram
	redis        *prometheus.HistogramVec
	rejected     *prometheus.CounterVec
	scrub        *prometheus.CounterVec
	failOpen     *prometheus.CounterVec
	failSafe     *prometheus.CounterVec
	untrustedXFF prometheus.Counter
	replies      *prometheus.CounterVec
	// unconfirmed counts publishes the replicas did not confirm in time.
	unconfirmed prometheus.Counter
}

// ReplyOutcomes are the outcome label's set of officers' replies.
var ReplyOutcomes = []string{"sent", "refused_window", "refused_opted_out", "refused_no_handle", "rate_limited", "not_sent", "unavailable", "error"}

// LimiterNames are the limiter label's set.
var LimiterNames = []string{"sender", "caller", "reply_destination", "reply_number", "web"}

// Latency buckets: intake and sealing take milliseconds; a Redis call past
// its deadline (2 s) ends in the spool.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// counterVec is a counter with the given labels.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// latencyVec is a histogram of durations in seconds with the given labels.
func latencyVec(name, help string, labels ...string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets}, labels)
}

// New returns the metrics, registered on a registry of their own.
func New(opt Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), agencies: map[string]bool{}}
	for _, a := range opt.Agencies {
		m.agencies[a] = true
	}
	m.tips = counterVec("hotline_tips_queued_total", "Sealed tips made durable (in Redis or the spool), per agency copy.", "channel", "agency", "priority")
	m.intake = latencyVec("hotline_intake_duration_seconds", "Time to take in one tip, from the handler to durable.", "channel", "outcome")
	m.seal = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "hotline_seal_duration_seconds", Help: "Time to seal one tip to one agency's recipients.",
		Buckets: latencyBuckets,
	})
	m.redis = latencyVec("hotline_redis_duration_seconds", "Time of one Redis call on the intake path.", "op", "result")
	m.rejected = counterVec("hotline_rejected_total", "Requests answered with an error, by reason and route (messaging, voice, web, api, other).", "reason", "route")
	m.scrub = counterVec("hotline_scrub_jobs_total", "Jobs deleting messages from the provider, by outcome.", "outcome")
	m.failOpen = counterVec("hotline_ratelimit_fail_open_total", "Rate-limit checks answered by the in-memory fallback because Redis failed.", "limiter")
	m.replies = counterVec("hotline_officer_replies_total", "Officers' replies to reporters, by outcome.", "outcome")
	m.unconfirmed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hotline_replica_unconfirmed_total",
		Help: "Tips (per agency copy, and again at each retry) that Redis took but its replicas did not confirm in time; each was kept in the spool as well.",
	})
	for _, n := range LimiterNames {
		m.failOpen.WithLabelValues(n)
	}
	for _, o := range ReplyOutcomes {
		m.replies.WithLabelValues(o)
	}
	m.reg.MustRegister(m.tips, m.intake, m.seal, m.redis, m.rejected, m.scrub, m.failOpen, m.replies, m.unconfirmed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registerFailSafe()

	// Zero series for the known sets, so that a rate() has a start.
	for _, r := range Reasons {
		for _, rt := range Routes {
			m.rejected.WithLabelValues(r, rt)
		}
	}
	for _, o := range ScrubOutcomes {
		m.scrub.WithLabelValues(o)
	}
	for _, a := range opt.Agencies {
		for _, c := range Channels[:3] {
			for _, p := range Priorities[:2] {
				m.tips.WithLabelValues(c, a, p)
			}
		}
	}
	if opt.Depth != nil {
		timeout := opt.DepthTimeout
		if timeout <= 0 {
			timeout = time.Second
		}
		m.reg.MustRegister(&depthCollector{
			agencies: opt.Agencies, depth: opt.Depth, timeout: timeout,
			desc: prometheus.NewDesc("hotline_queue_depth",
				"Tips waiting or held in an agency's queue (read from Redis on scrape).", []string{"agency", "priority"}, nil),
			up: prometheus.NewDesc("hotline_queue_depth_up",
				"1 if the last scrape read every agency's queue depth from Redis in time.", nil, nil),
		})
	}
	if opt.Spool != nil {
		stat := func(f func(SpoolStats) int64) func() float64 {
			return func() float64 { return float64(f(opt.Spool())) }
		}
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_spool_records", Help: "Tips in the local spool waiting for Redis."},
				stat(func(s SpoolStats) int64 { return s.Records })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_spool_bytes", Help: "Size of the local spool."},
				stat(func(s SpoolStats) int64 { return s.Bytes })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_spool_max_bytes", Help: "Size at which the spool refuses tips."},
				stat(func(s SpoolStats) int64 { return s.MaxBytes })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hotline_spool_appended_total", Help: "Tips written to the spool since start."},
				stat(func(s SpoolStats) int64 { return s.Appended })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hotline_spool_drained_total", Help: "Spooled tips handed to Redis since start."},
				stat(func(s SpoolStats) int64 { return s.Drained })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_spool_unconfirmed_records",
				Help: "Tips Redis took but its replicas have not confirmed, kept in the spool until they do."},
				stat(func(s SpoolStats) int64 { return s.Unconfirmed })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_spool_oldest_seconds",
				Help: "Age of the oldest tip waiting in the local spool (0 when it is empty): tips no officer can see yet."},
				func() float64 {
					if o := opt.Spool().Oldest; !o.IsZero() {
						return max(0, time.Since(o).Seconds())
					}
					return 0
				}),
		)
		for _, reason := range StuckReasons {
			m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hotline_spool_stuck",
				Help:        "1 while Redis refuses the gateway's writes for this reason, so the spool cannot drain and /readyz fails.",
				ConstLabels: prometheus.Labels{"refusal": reason}},
				func() float64 {
					if opt.Spool().Stuck == reason {
						return 1
					}
					return 0
				}))
		}
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Timeout: 10 * time.Second})
}

// Registry is the registry the metrics are on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) agency(a string) string {
	if m.agencies[a] {
		return a
	}
	return other
}

func channel(c gateway.Channel) string {
	switch c {
	case gateway.ChannelSMS, gateway.ChannelWhatsApp, gateway.ChannelWeb, gateway.ChannelVoice:
		return string(c)
	}
	return other
}

func priority(p queue.Priority) string {
	if p.Valid() {
		return string(p)
	}
	return other
}

// TipQueued counts one agency's sealed copy of a tip made durable.
func (m *Metrics) TipQueued(c gateway.Channel, agency string, p queue.Priority) {
	if m == nil {
		return
	}
	m.tips.WithLabelValues(channel(c), m.agency(agency), priority(p)).Inc()
}

// ObserveIntake records how long one intake took and how it ended.
func (m *Metrics) ObserveIntake(c gateway.Channel, d time.Duration, err error) {
	if m == nil {
		return
	}
	outcome := "queued"
	switch {
	case err == nil:
	case errors.Is(err, gateway.ErrUnavailable):
		outcome = "unavailable"
	case errors.Is(err, gateway.ErrInFlight):
		outcome = "in_flight"
	case errors.Is(err, gateway.ErrEmpty), errors.Is(err, gateway.ErrTooLong):
		outcome = "invalid"
	default:
		outcome = "error"
	}
	m.intake.WithLabelValues(channel(c), outcome).Observe(d.Seconds())
}

// ObserveSeal records how long sealing one copy took.
func (m *Metrics) ObserveSeal(d time.Duration) {
	if m == nil {
		return
	}
	m.seal.Observe(d.Seconds())
}

// ObserveRedis records one Redis call on the intake path.
func (m *Metrics) ObserveRedis(op RedisOp, d time.Duration, err error) {
	if m == nil {
		return
	}
	result := "ok"
	switch {
	case errors.Is(err, queue.ErrNotReplicated):
		result = "unconfirmed"
	case err != nil:
		result = "error"
	}
	m.redis.WithLabelValues(op.String(), result).Observe(d.Seconds())
}

// ReplicaUnconfirmed counts a tip Redis took but its replicas did not
// confirm in time.
func (m *Metrics) ReplicaUnconfirmed() {
	if m == nil {
		return
	}
	m.unconfirmed.Inc()
}

// Rejected counts a request to route answered with an error.
func (m *Metrics) Rejected(route Route, r Reason) {
	if m == nil {
		return
	}
	m.rejected.WithLabelValues(r.String(), route.String()).Inc()
}

// ScrubJob counts a finished job that deletes a message from the provider.
func (m *Metrics) ScrubJob(o ScrubOutcome) {
	if m == nil {
		return
	}
	m.scrub.WithLabelValues(o.String()).Inc()
}

// RateLimitFailOpen counts a limiter check that fell back to memory.
func (m *Metrics) RateLimitFailOpen(limiter string) {
	if m == nil {
		return
	}
	m.failOpen.WithLabelValues(oneOf(limiter, LimiterNames)).Inc()
}

// Reply counts an officer's reply by outcome.
func (m *Metrics) Reply(outcome string) {
	if m == nil {
		return
	}
	m.replies.WithLabelValues(oneOf(outcome, ReplyOutcomes)).Inc()
}

// oneOf keeps label values within their fixed set.
func oneOf(v string, set []string) string {
	for _, s := range set {
		if v == s {
			return v
		}
	}
	return "other"
}

// depthCollector reads queue depths from Redis on each scrape, under a
// deadline, so that a slow Redis makes a scrape incomplete, not stuck.
type depthCollector struct {
	agencies []string
	depth    func(context.Context, string) (map[queue.Priority]int64, error)
	timeout  time.Duration
	desc, up *prometheus.Desc
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.up
}

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	up := 1.0
	for _, a := range c.agencies {
		d, err := c.depth(ctx, a)
		if err != nil {
			up = 0
			continue
		}
		for _, p := range queue.Priorities {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(d[p]), a, string(p))
		}
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
}
