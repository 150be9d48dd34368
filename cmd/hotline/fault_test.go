package main

// Fault tests: the gateway and its Redis run as separate processes that are
// SIGKILLed in the middle of a load of signed SMS. The promise under test
// (DESIGN.md, promise 3): a tip answered 200 is in the queue, exactly once,
// once the spool has drained. Each test runs in seconds; they need
// redis-server on PATH (mandatory under CI=true).

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue/queuetest"
)

const faultPrefix = "ft"

// TestFaults builds the gateway once and runs each fault scenario on it.
func TestFaults(t *testing.T) {
	queuetest.NeedRedisServer(t)
	bin := buildHotline(t)
	t.Run("RedisKilledDuringLoad", func(t *testing.T) { testRedisKilledDuringLoad(t, bin) })
	t.Run("GatewayKilledDuringLoad", func(t *testing.T) { testGatewayKilledDuringLoad(t, bin) })
	t.Run("TornSpoolRecord", func(t *testing.T) { testTornSpoolRecord(t, bin) })
	t.Run("GracefulShutdownFinishesInFlight", func(t *testing.T) { testGracefulShutdownFinishesInFlight(t, bin) })
}

// startFaultStack starts a redis-server, unless redisUp is false (it is
// made but not started), and the gateway bin pointed at it.
func startFaultStack(t *testing.T, bin string, redisUp bool) (*queuetest.Server, *gatewayProc) {
	t.Helper()
	r := newRedisProc(t)
	if redisUp {
		r.Start()
	}
	g := newGatewayProc(t, bin, r.URL(), faultPrefix)
	g.start()
	return r, g
}

// testRedisKilledDuringLoad: Redis is SIGKILLed under load and
// restarted from its AOF. While it is away every tip is still answered 200
// (from the spool); afterwards every acknowledged tip is in the queue once.
func testRedisKilledDuringLoad(t *testing.T, bin string) {
	r, g := startFaultStack(t, bin, true)

	l := startLoad(g.baseURL(), 4, true)
	time.Sleep(1500 * time.Millisecond)
	r.Kill()
	killedAt := l.ackedCount()
	time.Sleep(2 * time.Second)
	acked := l.ackedCount() - killedAt
	r.Start()
	time.Sleep(1500 * time.Millisecond)
	l.finish()

	counts := checkExactlyOnce(t, l, redisClient(t, r), faultPrefix, g)
	t.Logf("%d tips acknowledged (%d while Redis was dead), %d in the queue; answers %v, to retries %v; spooled %v, drained %v",
		l.ackedCount(), acked, len(counts), l.statuses, l.retried, g.metric("hotline_spool_appended_total"), g.metric("hotline_spool_drained_total"))
	if acked < 20 {
		t.Fatalf("only %d tips acknowledged while Redis was dead: the spool was not exercised", acked)
	}
	if n := g.metric("hotline_spool_drained_total"); n < float64(acked) {
		t.Errorf("drained %v tips from the spool, want at least the %d acknowledged while Redis was dead", n, acked)
	}
	for status, n := range l.statuses {
		if status != "200" {
			t.Errorf("%d answers %s: with the spool, a Redis outage must not turn tips away", n, status)
		}
	}
}

// testGatewayKilledDuringLoad: the gateway is SIGKILLed under load,
// first while Redis is up, then while it is spooling because Redis is dead,
// and restarted on the same spool each time. Every acknowledged tip is in
// the queue once after the last restart and the drain.
func testGatewayKilledDuringLoad(t *testing.T, bin string) {
	r, g := startFaultStack(t, bin, true)
	l := startLoad(g.baseURL(), 4, true)

	time.Sleep(time.Second)
	g.kill() // Redis up: tips in flight die with the process
	g.start()
	time.Sleep(time.Second)

	r.Kill()
	time.Sleep(time.Second)
	spooled := g.metric("hotline_spool_records")
	g.kill() // spooling: appends in flight are cut short
	g.start()
	if !strings.Contains(g.log.String(), "tips from an earlier run") {
		t.Fatalf("the restarted gateway found no spooled tips (%v spooled before the kill)", spooled)
	}
	time.Sleep(time.Second) // still spooling, Redis still dead
	r.Start()
	time.Sleep(time.Second)
	l.finish()

	counts := checkExactlyOnce(t, l, redisClient(t, r), faultPrefix, g)
	t.Logf("%d tips acknowledged, %d in the queue; %v in the spool at the second kill; answers %v, to retries %v",
		l.ackedCount(), len(counts), spooled, l.statuses, l.retried)
	if l.statuses["conn"] == 0 {
		t.Error("no request failed on a killed gateway: the kills did not happen under load")
	}
}

// testTornSpoolRecord: the gateway spools tips while Redis is away and
// is killed; the spool file is then cut in the middle of its last record, as
// a crash mid-append would leave it. The restarted gateway cuts the torn
// record off, hands the good ones to Redis and takes new tips.
func testTornSpoolRecord(t *testing.T, bin string) {
	r, g := startFaultStack(t, bin, false) // the gateway starts without Redis
	l := startLoad(g.baseURL(), 1, false)
	for l.ackedCount() < 20 {
		time.Sleep(10 * time.Millisecond)
	}
	l.finish()
	g.kill()

	segs, _ := filepath.Glob(filepath.Join(g.spoolDir, "*.spool"))
	if len(segs) != 1 {
		t.Fatalf("spool segments: %v", segs)
	}
	fi, err := os.Stat(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("spool file mode %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(g.spoolDir); di.Mode().Perm() != 0o700 {
		t.Errorf("spool dir mode %v, want 0700", di.Mode().Perm())
	}
	if err := os.Truncate(segs[0], fi.Size()-10); err != nil {
		t.Fatal(err)
	}

	r.Start()
	g.start()
	if !strings.Contains(g.log.String(), "torn last record cut off") {
		t.Errorf("no repair logged:\n%s", tail(g.log.String(), 20))
	}
	// The last acknowledged tip is the one cut: a simulated disk fault
	// after its fsync. Every other one drains exactly once.
	last := l.ackOrder[len(l.ackOrder)-1]
	delete(l.acked, last)
	counts := checkExactlyOnce(t, l, redisClient(t, r), faultPrefix, g)
	if counts[tipIDOf(t, last)] != 0 {
		t.Error("the torn record was queued")
	}
	if len(counts) != len(l.acked) {
		t.Errorf("%d tips in the queue, want %d", len(counts), len(l.acked))
	}
	// The gateway runs on: a new tip goes straight through.
	l2 := startLoadAt(g.baseURL(), 1, false, 1000)
	for l2.ackedCount() < 1 {
		time.Sleep(10 * time.Millisecond)
	}
	l2.finish()
	// An answered tip is durable, in Redis or, while the publisher has not
	// yet seen Redis back since the restart, in the spool it drains in
	// order: wait for the drain, not for a fixed time.
	rdb := redisClient(t, r)
	queuetest.WaitUntil(t, 15*time.Second, "the new tips to reach the queue", func() error {
		if got := queuedTips(t, rdb, faultPrefix, "pe-lima"); len(got) != len(counts)+l2.ackedCount() {
			return fmt.Errorf("new tips not queued after the repair: %d in the queue, want %d", len(got), len(counts)+l2.ackedCount())
		}
		return nil
	})
}

// testGracefulShutdownFinishesInFlight: Redis hangs (SIGSTOP), so tips
// in flight wait for its deadline; SIGTERM arrives meanwhile. The gateway
// answers every one of them 200 (from the spool) before it exits 0, and the
// next start hands them to Redis.
func testGracefulShutdownFinishesInFlight(t *testing.T, bin string) {
	r, g := startFaultStack(t, bin, true)
	l := startLoad(g.baseURL(), 4, false)
	time.Sleep(500 * time.Millisecond)
	r.Signal(syscall.SIGSTOP)
	time.Sleep(200 * time.Millisecond) // requests now wait on the hung Redis
	if err := g.stop(30 * time.Second); err != nil {
		t.Fatalf("gateway exit after SIGTERM: %v\n%s", err, tail(g.log.String(), 20))
	}
	l.finish()
	r.Signal(syscall.SIGCONT)
	if !strings.Contains(g.log.String(), `"shutting down"`) {
		t.Fatal("no graceful shutdown logged")
	}
	for status, n := range l.statuses {
		// Requests sent after the listener closed are refused ("conn");
		// none that was taken in may end in anything but 200.
		if status != "200" && status != "conn" {
			t.Errorf("%d answers %s during a graceful shutdown", n, status)
		}
	}
	g.start()
	counts := checkExactlyOnce(t, l, redisClient(t, r), faultPrefix, g)
	t.Logf("%d tips acknowledged, %d in the queue; answers %v", l.ackedCount(), len(counts), l.statuses)
}
