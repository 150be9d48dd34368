package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The host's speed drifts over tens of seconds: the same code measured
// 1.02× to 1.38× the reference within 20 minutes, rows a minute apart. The
// interleaved comparison puts the reference and the gateway under the same
// drift: all three servers run (the reference, the gateway with a reply key
// and without), and each round measures each of them for a short slice,
// one after another, starting with a different one each round.
const (
	sliceFor    = 1500 * time.Millisecond
	sliceWarmup = 300 * time.Millisecond
)

// sliceRow is one server's slices, summed.
type sliceRow struct {
	id, name string
	ok       int           // measured successes
	dur      time.Duration // measured time
	allOK    int           // successes, warm-up included
	cpu      time.Duration // the server's CPU time, warm-up included
	rates    []float64     // ok/s of each slice
}

func (s *sliceRow) perSecond() float64 {
	if s.dur <= 0 {
		return 0
	}
	return float64(s.ok) / s.dur.Seconds()
}

func (s *sliceRow) cpuPerOK() time.Duration {
	if s.allOK == 0 {
		return 0
	}
	return s.cpu / time.Duration(s.allOK)
}

// interleave runs the interleaved comparison for one key kind.
func (b *bench) interleave(ctx context.Context, ks keySet, g string) error {
	if b.opt.rounds < 1 {
		return nil
	}
	type server struct {
		c   *child
		row *sliceRow
	}
	var servers []server
	defer func() {
		for _, s := range servers {
			b.stopChild(s.c)
		}
	}()
	ref, err := b.startHelper(ctx, "reference", ks)
	if err != nil {
		return err
	}
	servers = append(servers, server{ref, &sliceRow{id: "ref", name: "reference, upstream age"}})
	gw, _, err := b.startGateway(ctx, "gateway (interleaved)", ks, nil, webOpen, replyKey)
	if err != nil {
		return err
	}
	servers = append(servers, server{gw, &sliceRow{id: "sms", name: "gateway, with a reply key"}})
	bare, _, err := b.startGateway(ctx, "gateway (interleaved, no reply key)", ks, nil, webOpen)
	if err != nil {
		return err
	}
	servers = append(servers, server{bare, &sliceRow{id: "sms-noreply", name: "gateway, no reply key"}})

	// A round unmeasured: each server's first requests (connections,
	// scripts loaded, caches) weigh on none of the slices.
	for _, s := range servers {
		base := "http://" + s.c.addr
		drive(ctx, b.client, load{workers: b.opt.workers, duration: sliceFor, make: b.smsRequest(base, base, true), ok: http.StatusOK})
	}
	b.waitQuiet(ctx)
	how := "interleaved"
	if b.serverCPUs != "" {
		how = "pinned"
	}
	fmt.Fprintf(b.out, "hotline-load: %-8s %s, %d rounds of %s slices ", g, how, b.opt.rounds, sliceFor)
	busy0, _ := machineBusy()
	ours0 := b.oursCPU(servers[0].c, servers[1].c, servers[2].c)
	t0 := time.Now()
	for round := range b.opt.rounds {
		for i := range servers {
			s := servers[(round+i)%len(servers)]
			base := "http://" + s.c.addr
			cpu0, _ := s.c.cpuTime()
			st := drive(ctx, b.client, load{workers: b.opt.workers, warmup: sliceWarmup, duration: sliceFor,
				make: b.smsRequest(base, base, true), ok: http.StatusOK})
			cpu1, _ := s.c.cpuTime()
			s.row.ok += st.OK
			s.row.allOK += st.AllOK
			s.row.dur += st.Duration
			s.row.cpu += cpu1 - cpu0
			s.row.rates = append(s.row.rates, st.Throughput())
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	other := 0.0
	if busy1, err := machineBusy(); err == nil && busy1 > busy0 {
		other = max(0, float64(busy1-busy0-(b.oursCPU(servers[0].c, servers[1].c, servers[2].c)-ours0))/float64(time.Since(t0)))
	}
	rows := make([]sliceRow, len(servers))
	for i, s := range servers {
		rows[i] = *s.row
	}
	b.interleaved = append(b.interleaved, interleaved{group: g, rounds: b.opt.rounds, rows: rows, otherCores: other, pinned: b.pinnedAs})
	fmt.Fprintf(b.out, "reference %.0f/s, gateway %.0f/s and %.0f/s without a reply key; other load %.2f cores\n",
		rows[0].perSecond(), rows[1].perSecond(), rows[2].perSecond(), other)
	for _, r := range rows {
		fmt.Fprintf(b.out, "hotline-load:   %-28s slices %.0f /s\n", r.name, r.rates)
	}
	return nil
}

// oursCPU is the CPU time of the bench's own processes: the servers given,
// Redis and the load generator.
func (b *bench) oursCPU(cs ...*child) time.Duration {
	var sum time.Duration
	for _, c := range cs {
		t, _ := c.cpuTime()
		sum += t
	}
	r, _ := b.redisCPU()
	self, _ := cpuTime(0)
	return sum + r + self
}

// interleaved is the interleaved comparison of one key kind: the
// reference's row first.
type interleaved struct {
	group      string
	rounds     int
	rows       []sliceRow
	otherCores float64
	// pinned, for the pinned comparison, says where each ran.
	pinned string
}

// interleavedRatio is the gateway's row id's throughput and CPU against
// the reference's, in the interleaved comparison of kind k (the pinned
// one if pinned).
func (b *bench) interleavedRatio(k, id string, pinned bool) (x, cpu float64, ok bool) {
	for _, in := range b.interleaved {
		if in.group != k || (in.pinned != "") != pinned || len(in.rows) == 0 || in.rows[0].perSecond() == 0 {
			continue
		}
		for _, r := range in.rows[1:] {
			if r.id == id && r.cpuPerOK() > 0 {
				return r.perSecond() / in.rows[0].perSecond(), float64(in.rows[0].cpuPerOK()) / float64(r.cpuPerOK()), true
			}
		}
	}
	return 0, 0, false
}

// interleavedReport is the report's sections on the interleaved
// comparisons, shared and pinned.
func (b *bench) interleavedReport() string {
	var sb strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	table := func(ins []interleaved, pinned bool) {
		w("| recipients | server | slices | ok/s | slowest and fastest slice | server CPU µs/ok | ratio | other load (cores) |\n")
		w("| --- | --- | ---: | ---: | --- | ---: | --- | ---: |\n")
		for _, in := range ins {
			for i, r := range in.rows {
				ratio := ""
				if x, cpu, ok := b.interleavedRatio(in.group, r.id, pinned); ok && i > 0 {
					ratio = fmt.Sprintf("%.2f× reference (CPU %.2f×)", x, cpu)
				}
				lo, hi := 0.0, 0.0
				if len(r.rates) > 0 {
					lo, hi = slices.Min(r.rates), slices.Max(r.rates)
				}
				w("| %s | %s | %d | %.0f | %.0f–%.0f | %s | %s | %.2f |\n", kindName(in.group), r.name, len(r.rates), r.perSecond(), lo, hi, us(r.cpuPerOK()), ratio, in.otherCores)
			}
		}
	}
	var shared, pinned []interleaved
	for _, in := range b.interleaved {
		if in.pinned != "" {
			pinned = append(pinned, in)
		} else {
			shared = append(shared, in)
		}
	}
	if len(shared) > 0 {
		w("\n## Interleaved: the reference and the gateway in alternating slices\n\n")
		w("The host's speed drifts from one row to the next, tens of seconds apart. Here the reference and two gateways (with a reply key and without) run side by side, and each round measures each of them for %s (after %s of warm-up), one after another, starting with a different one each round: the same drift weighs on all three. Closed loop, %d connections, as above. Throughput is the slices' successes over their measured time; CPU is the server's, warm-up included.\n\n",
			sliceFor, sliceWarmup, b.opt.workers)
		table(shared, false)
	}
	if len(pinned) > 0 {
		w("\n## Pinned: each server on a core of its own\n\n")
		w("The same interleaved comparison, with %s. Above, the load generator and Redis share the machine's cores with the server measured and take a third of them and more; the gateway, which answers more requests a second and asks Redis for more, loses more to them. Here each server has a core to itself, as on a production host, where Twilio's requests come from elsewhere and Redis usually runs apart: what a server does with one core. Redis's CPU per tip is in the rows above (the gateway's is about twice the reference's); here it does not slow the server measured. The targets' verdict does not use this comparison.\n\n",
			pinned[0].pinned)
		table(pinned, true)
	}
	return sb.String()
}
