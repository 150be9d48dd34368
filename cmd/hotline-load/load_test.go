package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(101-i)*time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := percentile(lat, tc.q); got != tc.want {
			t.Errorf("percentile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

func testServer(t *testing.T, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		time.Sleep(delay)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func get(url string) makeRequest {
	return func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	}
}

// The closed loop counts every request the server saw, and only those after
// the warm-up in the stats.
func TestDriveClosed(t *testing.T) {
	srv, n := testServer(t, time.Millisecond)
	s := drive(context.Background(), srv.Client(), load{workers: 4, warmup: 100 * time.Millisecond, duration: 300 * time.Millisecond,
		make: get(srv.URL), ok: http.StatusOK})
	if int64(s.AllSent) != n.Load() {
		t.Errorf("AllSent = %d, the server saw %d", s.AllSent, n.Load())
	}
	if s.Sent == 0 || s.Sent >= s.AllSent || s.OK+s.Codes[403] != s.Sent || s.Errors != 0 {
		t.Errorf("stats %+v", s)
	}
	if s.Codes[403] == 0 || s.OK == 0 {
		t.Errorf("codes %v", s.Codes)
	}
	if p := s.Percentile(0.5); p < time.Millisecond/2 || p > 100*time.Millisecond {
		t.Errorf("p50 %v for a 1 ms server", p)
	}
}

// The open loop sends at the rate asked, and counts latency from the
// scheduled time: a server slower than the rate shows a growing queue.
func TestDriveOpen(t *testing.T) {
	srv, _ := testServer(t, 0)
	s := drive(context.Background(), srv.Client(), load{workers: 8, rate: 200, duration: 500 * time.Millisecond,
		make: get(srv.URL), ok: http.StatusOK})
	if s.AllSent < 90 || s.AllSent > 110 {
		t.Errorf("sent %d in 0.5 s at 200/s", s.AllSent)
	}

	slow, _ := testServer(t, 20*time.Millisecond)
	s = drive(context.Background(), slow.Client(), load{workers: 1, rate: 100, duration: 500 * time.Millisecond,
		make: get(slow.URL), ok: http.StatusOK})
	// One worker at 20 ms a request serves 50/s of the 100/s asked: the
	// last requests waited for hundreds of milliseconds.
	if p := s.Percentile(0.99); p < 200*time.Millisecond {
		t.Errorf("p99 %v: the queue was not counted", p)
	}
}

func TestReportRenders(t *testing.T) {
	b := &bench{opt: options{kinds: []string{"x25519", "pq"}, workers: 16, duration: time.Second}, started: time.Now(),
		machine: machine{nproc: 2, loadBefore: "3.00 1.00 1.00"}}
	ok := stats{OK: 100, AllOK: 120, Duration: time.Second, Codes: map[int]int{200: 100}, lat: []time.Duration{time.Millisecond}}
	b.results = []result{
		{id: "bare", group: "baseline", scenario: "signed SMS webhook", server: "bare net/http", stats: ok},
		{id: "x25519/ref", group: "x25519", scenario: "signed SMS webhook", server: "reference", stats: ok, cpuPerOK: time.Millisecond},
		{id: "x25519/sms", group: "x25519", scenario: "signed SMS webhook", server: "gateway", stats: ok, cpuPerOK: time.Millisecond / 2},
		{id: "x25519/form", group: "x25519", scenario: "web form", server: "gateway", skipped: "no form"},
		{id: "x25519/forged", group: "x25519", scenario: "forged", server: "gateway", stats: ok, otherCores: 0.6},
	}
	out := b.report()
	for _, want := range []string{"| signed SMS webhook | 2 × X25519 | gateway |", "1.00× reference", "skipped: no form",
		"1.00×: **missed** (server CPU per tip 500 µs against 1000 µs: 2.00×)",
		"| ≤ 6 Redis commands per tip, with a reply key | not measured |", "| p99 < 100 ms at 80% of peak | not measured | not measured |",
		"**1 of 4 rows ran while other processes", "| **0.60** |"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestReportComparesWithBothReferenceRuns: with the reference measured
// before and after the gateway's rows, the gateway's ratios (throughput
// and server CPU) are against the mean of the two.
func TestReportComparesWithBothReferenceRuns(t *testing.T) {
	b := &bench{opt: options{kinds: []string{"x25519"}, workers: 16, duration: time.Second}, started: time.Now(),
		machine: machine{nproc: 2}}
	perSecond := func(n int) stats {
		return stats{OK: n, AllOK: n, Duration: time.Second, Codes: map[int]int{200: n}, lat: []time.Duration{time.Millisecond}}
	}
	b.results = []result{
		{id: "bare", group: "baseline", scenario: "signed SMS webhook", server: "bare net/http", stats: perSecond(10000)},
		{id: "x25519/ref", group: "x25519", scenario: "signed SMS webhook", server: "reference", stats: perSecond(1000), cpuPerOK: 1200 * time.Microsecond},
		{id: "x25519/sms", group: "x25519", scenario: "signed SMS webhook", server: "gateway", stats: perSecond(2600), cpuPerOK: 500 * time.Microsecond},
		{id: "x25519/ref-after", group: "x25519", scenario: "signed SMS webhook, again", server: "reference", stats: perSecond(3000), cpuPerOK: 800 * time.Microsecond},
	}
	out := b.report()
	for _, want := range []string{"1.30× reference", "1.30×: met (server CPU per tip 500 µs against 1000 µs: 2.00×)", "0.30× bare"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// TestCountQueuedCountsAppendedMessages: a message appended to an open
// case makes no stream entry, but is queued all the same: the count reads
// the clear metadata of every tip, by channel.
func TestCountQueuedCountsAppendedMessages(t *testing.T) {
	r := queuetest.New(t)
	rdb, ok := r.Client.(*redis.Client)
	if !ok {
		t.Skip("one node only")
	}
	ctx := context.Background()
	meta := r.Prefix + ":{" + agency + "}:meta"
	if err := rdb.HSet(ctx, meta,
		"t1", `{"case":"A","agency":"x","channel":"sms","received":1}`,
		"t2", `{"case":"A","agency":"x","channel":"sms","received":2,"item":"t1"}`,
		"t3", `{"case":"B","agency":"x","channel":"web","received":3}`).Err(); err != nil {
		t.Fatal(err)
	}
	b := &bench{rdb: rdb}
	got, err := b.countQueued(ctx, r.Prefix)
	if err != nil || got["sms"] != 2 || got["web"] != 1 {
		t.Fatalf("counted %v, %v; want 2 sms (one appended) and 1 web", got, err)
	}
}

// TestSMSSendersDiffer: no two messages of a run come from one sender.
func TestSMSSendersDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 20000 {
		from := smsForm().Get("From")
		if seen[from] {
			t.Fatalf("sender %s twice", from)
		}
		seen[from] = true
	}
}

// TestInterleavedComparisonBoundsTheVerdict: the interleaved comparison's
// ratios are its slices' sums, and a throughput target is met only if the
// rows and the interleaved comparison both meet it.
func TestInterleavedComparisonBoundsTheVerdict(t *testing.T) {
	perSecond := func(n int) stats {
		return stats{OK: n, AllOK: n, Duration: time.Second, Codes: map[int]int{200: n}, lat: []time.Duration{time.Millisecond}}
	}
	slices := func(id string, ok []int, cpu time.Duration) sliceRow {
		r := sliceRow{id: id, name: id}
		for _, n := range ok {
			r.ok += n
			r.allOK += n
			r.dur += time.Second
			r.cpu += time.Duration(n) * cpu
			r.rates = append(r.rates, float64(n))
		}
		return r
	}
	for _, tc := range []struct {
		name        string
		gw, noreply []int
		want        []string
	}{
		// Rows: 1.40× and 1.70×. Interleaved: (1300+1500)/(1000+1000)
		// = 1.40× and 1.50×.
		{"the interleaved comparison misses", []int{1300, 1500}, []int{1400, 1600},
			[]string{"1.40×: met (server CPU per tip 500 µs against 1000 µs: 2.00×; interleaved: 1.40×, server CPU 2.50×; pinned, each server on a core of its own: 2.00×)",
				"1.70×: **missed** (server CPU per tip 400 µs against 1000 µs: 2.50×; interleaved: 1.50×, server CPU 2.50×; pinned, each server on a core of its own: 2.10×)",
				"| 2 × X25519 | sms | 2 | 1400 | 1300–1500 | 400 | 1.40× reference (CPU 2.50×) | 0.00 |",
				"## Pinned: each server on a core of its own\n\nThe same interleaved comparison, with each server alone on CPU 1.",
				"| 2 × X25519 | sms-noreply | 2 | 2100 | 2100–2100 | 400 | 2.10× reference (CPU 2.50×) | 0.00 |"}},
		{"both meet", []int{1300, 1500}, []int{1700, 1700},
			[]string{"1.70×: met (server CPU per tip 400 µs against 1000 µs: 2.50×; interleaved: 1.70×, server CPU 2.50×; pinned, each server on a core of its own: 2.10×)"}},
	} {
		b := &bench{opt: options{kinds: []string{"x25519"}, workers: 16, duration: time.Second, rounds: 2}, started: time.Now(),
			machine: machine{nproc: 2}}
		b.results = []result{
			{id: "x25519/ref", group: "x25519", scenario: "signed SMS webhook", server: "reference", stats: perSecond(1000), cpuPerOK: 1000 * time.Microsecond},
			{id: "x25519/sms", group: "x25519", scenario: "signed SMS webhook", server: "gateway", stats: perSecond(1400), cpuPerOK: 500 * time.Microsecond},
			{id: "x25519/sms-noreply", group: "x25519", scenario: "signed SMS webhook, no reply key", server: "gateway", stats: perSecond(1700), cpuPerOK: 400 * time.Microsecond},
		}
		b.interleaved = []interleaved{{group: "x25519", rounds: 2, rows: []sliceRow{
			slices("ref", []int{900, 1100}, 1000*time.Microsecond),
			slices("sms", tc.gw, 400*time.Microsecond),
			slices("sms-noreply", tc.noreply, 400*time.Microsecond),
		}}, {group: "x25519", rounds: 2, pinned: "each server alone on CPU 1", rows: []sliceRow{
			// Pinned: 2.00× and 2.10×, told and never judged.
			slices("ref", []int{1000, 1000}, 1000*time.Microsecond),
			slices("sms", []int{2000, 2000}, 400*time.Microsecond),
			slices("sms-noreply", []int{2100, 2100}, 400*time.Microsecond),
		}}}
		out := b.report()
		for _, want := range tc.want {
			if !strings.Contains(out, want) {
				t.Errorf("%s: report lacks %q:\n%s", tc.name, want, out)
			}
		}
	}
}

// TestCPUList: CPU lists as Linux writes them, read and written back; the
// pinned comparison splits them into the servers' last CPU and the rest.
func TestCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		cpus []int
		out  string
	}{
		{"0-1", []int{0, 1}, "0-1"},
		{"0", []int{0}, "0"},
		{"0-3,8,10-11\n", []int{0, 1, 2, 3, 8, 10, 11}, "0-3,8,10-11"},
		{"2,4-5", []int{2, 4, 5}, "2,4-5"},
	} {
		got, err := parseCPUList(tc.in)
		if err != nil || !slices.Equal(got, tc.cpus) || formatCPUList(got) != tc.out {
			t.Errorf("%q: %v, %v, written %q; want %v, %q", tc.in, got, err, formatCPUList(got), tc.cpus, tc.out)
		}
	}
	for _, bad := range []string{"", "a", "3-1", "-1", "0-99999", "1,,2"} {
		if got, err := parseCPUList(bad); err == nil {
			t.Errorf("%q read as %v", bad, got)
		}
	}
}
