package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/cmd/internal/redisstats"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// ownRedis starts a Redis server for the test alone, and returns its URL
// and the options of a client of it.
func ownRedis(t *testing.T) (string, *redis.Options) {
	t.Helper()
	srv := queuetest.StartServer(t)
	opt, err := redis.ParseURL(srv)
	if err != nil {
		t.Fatal(err)
	}
	opt.DisableIdentity = true
	return srv, opt
}

// signedSMS is a Twilio SMS webhook request for form, signed with token
// for the gateway at public.
func signedSMS(token []byte, public string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", handlers.TwilioSignature(token, public+"/twilio/sms", form))
	return req
}

// commandStats reads Redis's count of calls by command (commands that
// scripts run count too).
func commandStats(t *testing.T, admin *redis.Client) map[string]int64 {
	t.Helper()
	info, err := admin.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	return redisstats.Parse(info)
}

// redisCost is what one request cost Redis.
type redisCost struct {
	trips, commands int64
	by              string
}

func (c redisCost) String() string {
	return fmt.Sprintf("%d round trips, %d commands (%s)", c.trips, c.commands, c.by)
}

// measureSMS wires the gateway over rdb (reply key, scrub on, no replicas
// configured) and measures a new sender's message, a message in its
// thread and a retry of that one. admins read INFO commandstats of every
// master.
func measureSMS(t *testing.T, rdb redis.UniversalClient, redisURL string, admins ...*redis.Client) (newSender, inThread, retry redisCost) {
	t.Helper()
	trips := &queuetest.Counter{}
	rdb.AddHook(trips)
	t.Setenv("HOTLINE_PEPPER", faultPepper)
	const token = "0123456789abcdef0123456789abcdef" // the REST client takes only this form
	t.Setenv("TWILIO_AUTH_TOKEN", token)
	port := queuetest.FreePort(t)
	c := loadFaultConfig(t, port, queuetest.FreePort(t), redisURL, "hl", "")
	none := 0
	c.Redis.MinReplicas = &none
	reply, err := seal.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	c.Secrets.ReplyKey.Set("env:HOTLINE_REPLY_KEY", []byte(reply.Identity))
	parts, err := wire(context.Background(), c, rdb, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := parts.dur.publisher.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	stats := func() map[string]int64 {
		sum := map[string]int64{}
		for _, a := range admins {
			for k, v := range commandStats(t, a) {
				sum[k] += v
			}
		}
		return sum
	}
	public := fmt.Sprintf("http://127.0.0.1:%d", port)
	send := func(t *testing.T, from, sid string) redisCost {
		t.Helper()
		form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
			"From": {from}, "To": {faultNumber}, "Body": {"quiero contar algo que vi en el mercado"}, "NumMedia": {"0"}}
		req := signedSMS([]byte(token), public, form)
		before, tripsBefore := stats(), trips.RoundTrips.Load()
		rec := httptest.NewRecorder()
		parts.handler.ServeHTTP(rec, req)
		cost := redisCost{trips: trips.RoundTrips.Load() - tripsBefore}
		after := stats()
		var names []string
		for name, n := range after {
			// INFO is the measure's; a Cluster client asks for the
			// slots now and then, and greets a node it opens a new
			// connection to, whatever it sends.
			if name == "info" || name == "hello" || strings.HasPrefix(name, "cluster") || n == before[name] {
				continue
			}
			cost.commands += n - before[name]
			names = append(names, fmt.Sprintf("%s %d", name, n-before[name]))
		}
		sort.Strings(names)
		cost.by = strings.Join(names, ", ")
		if rec.Code != http.StatusOK {
			t.Fatalf("SMS: %d %s", rec.Code, rec.Body)
		}
		return cost
	}
	// Scripts are loaded, connections made.
	send(t, "+51987000001", "SM"+strings.Repeat("0", 31)+"1")
	send(t, "+51987000001", "SM"+strings.Repeat("0", 31)+"4")

	newSender = send(t, "+51987000002", "SM"+strings.Repeat("0", 31)+"2")
	inThread = send(t, "+51987000002", "SM"+strings.Repeat("0", 31)+"3")
	retry = send(t, "+51987000002", "SM"+strings.Repeat("0", 31)+"3")
	// Four messages of two senders: two cases (stream entries), each
	// with a message appended; every message has its metadata.
	var queued, cases int64
	for _, a := range admins {
		queued += a.HLen(context.Background(), "hl:{pe-lima}:meta").Val()
		cases += a.XLen(context.Background(), "hl:{pe-lima}:tips:normal").Val() +
			a.XLen(context.Background(), "hl:{pe-lima}:tips:urgent").Val()
	}
	if queued != 4 || cases != 2 {
		t.Fatalf("%d messages queued in %d cases, want 4 in 2 (the retry is not queued again)", queued, cases)
	}
	// Every message has its scrub job: a case's entry carries its first
	// message's, an appended message's is in the schedule.
	var carried, scheduled int64
	for _, a := range admins {
		scheduled += a.ZCard(context.Background(), "hl:{scrub}:due").Val()
		for _, p := range []string{"normal", "urgent"} {
			for _, e := range a.XRange(context.Background(), "hl:{pe-lima}:tips:"+p, "-", "+").Val() {
				if v, _ := e.Values["scrub"].(string); v != "" {
					carried++
				}
			}
		}
	}
	if carried != 2 || scheduled != 2 {
		t.Fatalf("scrub jobs: %d carried by entries, %d in the schedule; want 2 and 2", carried, scheduled)
	}
	// Every sender's reply handle is sealed in its record, under no key of
	// its own.
	for _, a := range admins {
		for _, k := range a.Keys(context.Background(), "hl:*").Val() {
			if strings.Contains(k, ":handle:") {
				t.Fatalf("a reply handle under a key of its own: %s", k)
			}
			if strings.HasPrefix(k, "hl:thread:") && !strings.Contains(a.Get(context.Background(), k).Val(), `"h":"`) {
				t.Fatalf("the record %s holds no sealed handle", k)
			}
		}
	}
	return newSender, inThread, retry
}

// TestRedisBudgetPerSMS measures what one signed SMS costs Redis through
// the real wiring (reply key, scrub on, no replicas configured), on a
// Redis of its own so that nothing else counts: round trips counted by a
// hook on the gateway's client, commands by INFO commandstats (commands
// run inside scripts count too). The budget of issue 16: two round trips
// for a new sender and for a sender in a thread (one for a retry).
func TestRedisBudgetPerSMS(t *testing.T) {
	srv, opt := ownRedis(t)
	admin := redis.NewClient(opt)
	t.Cleanup(func() { admin.Close() })
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	newSender, inThread, retry := measureSMS(t, rdb, srv, admin)
	// Round trips and commands: issue 16's budget, 2 and 6. The read
	// (MGET), the script (EVALSHA), the sender's record, which carries the
	// message's dedupe mark, is the batch's guard and holds the sealed
	// reply handle (SET), the tip (a new case: HSETNX that files the case,
	// XADD, which carries the scrub job, HSETNX of its metadata, which
	// holds the entry's ref and the sealed way to the sender's record; a
	// message in a thread is appended to its case instead: HGET, HSETNX,
	// HINCRBY, HSET, and its scrub job is a ZADD).
	checkBudget(t, map[string]redisCost{"new sender": newSender, "sender in a thread": inThread, "retry of the same MessageSid": retry},
		map[string][2]int64{"new sender": {2, 6}, "sender in a thread": {2, 8}, "retry of the same MessageSid": {1, 1}})
}

// checkBudget logs each case's cost and holds it to want: round trips,
// and at most so many commands (0: any).
func checkBudget(t *testing.T, costs map[string]redisCost, want map[string][2]int64) {
	t.Helper()
	for _, name := range []string{"new sender", "sender in a thread", "retry of the same MessageSid"} {
		c, w := costs[name], want[name]
		t.Logf("%s: %s", name, c)
		if c.trips != w[0] || (w[1] > 0 && c.commands > w[1]) {
			t.Errorf("%s: %s; want %d round trips and at most %d commands", name, c, w[0], w[1])
		}
	}
}

// TestRedisBudgetPerSMSOnCluster is TestRedisBudgetPerSMS on a three-master
// Redis Cluster, where a script touches one hash slot: the read is one
// pipeline (an MGET per slot), the publish a script in the agency's slot,
// then one pipeline of scripts for the other slots (the sender's, the
// message's dedupe mark, the limiter's, the scrub queue's).
func TestRedisBudgetPerSMSOnCluster(t *testing.T) {
	cluster := queuetest.StartCluster(t)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cluster.Addrs, DisableIdentity: true})
	t.Cleanup(func() { rdb.Close() })
	var admins []*redis.Client
	for _, a := range cluster.Addrs {
		c := redis.NewClient(&redis.Options{Addr: a, DisableIdentity: true})
		t.Cleanup(func() { c.Close() })
		admins = append(admins, c)
	}
	newSender, inThread, retry := measureSMS(t, rdb, "redis://"+cluster.Addrs[0]+"/0", admins...)
	checkBudget(t, map[string]redisCost{"new sender": newSender, "sender in a thread": inThread, "retry of the same MessageSid": retry},
		map[string][2]int64{"new sender": {3, 0}, "sender in a thread": {3, 0}, "retry of the same MessageSid": {1, 0}})
}

// pipelineKinds records, for each pipeline a client sends, whether it
// holds a read (MGET) and a publish (a script).
type pipelineKinds struct {
	mixed, reads, publishes atomic.Int64
}

func (*pipelineKinds) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (*pipelineKinds) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (p *pipelineKinds) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var read, publish bool
		for _, c := range cmds {
			switch c.Name() {
			case "mget":
				read = true
			case "evalsha", "eval":
				publish = true
			}
		}
		switch {
		case read && publish:
			p.mixed.Add(1)
		case read:
			p.reads.Add(1)
		case publish:
			p.publishes.Add(1)
		}
		return next(ctx, cmds)
	}
}

// TestConcurrentSMSShareBatches: a message reads its sender's state, then
// publishes; under load, the reads of some messages go to Redis in the
// same pipeline as the publishes of others (one coalescer for both), not
// in round trips of their own. Senders keep sending until a pipeline holds
// both, for at most a few seconds: with a coalescer each, none ever does.
func TestConcurrentSMSShareBatches(t *testing.T) {
	srv, opt := ownRedis(t)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	kinds := &pipelineKinds{}
	rdb.AddHook(kinds)
	t.Setenv("HOTLINE_PEPPER", faultPepper)
	const token = "0123456789abcdef0123456789abcdef"
	t.Setenv("TWILIO_AUTH_TOKEN", token)
	port := queuetest.FreePort(t)
	c := loadFaultConfig(t, port, queuetest.FreePort(t), srv, "hl", "")
	none := 0
	c.Redis.MinReplicas = &none
	parts, err := wire(context.Background(), c, rdb, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := parts.dur.publisher.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	public := fmt.Sprintf("http://127.0.0.1:%d", port)
	var sent atomic.Int64
	send := func() error {
		n := sent.Add(1)
		sid := fmt.Sprintf("SM%032d", n)
		form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
			"From": {fmt.Sprintf("+51987%06d", n)}, "To": {faultNumber}, "Body": {"quiero contar algo que vi en el mercado"}, "NumMedia": {"0"}}
		rec := httptest.NewRecorder()
		parts.handler.ServeHTTP(rec, signedSMS([]byte(token), public, form))
		if rec.Code != http.StatusOK {
			return fmt.Errorf("SMS %d: %d %s", n, rec.Code, rec.Body)
		}
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for kinds.mixed.Load() == 0 && time.Now().Before(deadline) {
				if err := send(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d messages: %d pipelines with reads and publishes, %d with reads only, %d with publishes only",
		sent.Load(), kinds.mixed.Load(), kinds.reads.Load(), kinds.publishes.Load())
	if kinds.mixed.Load() == 0 {
		t.Fatalf("%d concurrent messages, and no pipeline held both a read and a publish", sent.Load())
	}
}
