package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"
)

// makeRequest builds the i-th request of a run.
type makeRequest func(ctx context.Context) (*http.Request, error)

// load describes one run of a load generator.
type load struct {
	// workers is the number of concurrent requests (and keep-alive
	// connections). In closed loop each sends its next request when the
	// last one is answered.
	workers int
	// rate, if set, makes the run open loop: requests are scheduled at this
	// many a second whatever the answers, and latency is counted from the
	// scheduled time, so a slow server cannot hide its queue (coordinated
	// omission).
	rate     float64
	warmup   time.Duration
	duration time.Duration
	make     makeRequest
	// ok is the status that counts as success.
	ok int
}

// stats is what one run measured, over the requests started after the
// warm-up.
type stats struct {
	// AllSent and AllOK include the warm-up: every request the server saw.
	AllSent  int
	AllOK    int
	Sent     int
	OK       int
	Codes    map[int]int
	Errors   int // transport errors and timeouts
	Dropped  int // open loop: could not be sent on time, all workers busy
	Duration time.Duration
	lat      []time.Duration // every answered request
	okLat    []time.Duration
}

// Throughput is successful requests a second.
func (s stats) Throughput() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.OK) / s.Duration.Seconds()
}

// Percentile is the q-quantile (0 < q <= 1) latency of the answered
// requests, nearest rank.
func (s stats) Percentile(q float64) time.Duration { return percentile(s.lat, q) }

// OKPercentile is the same over the successful requests only.
func (s stats) OKPercentile(q float64) time.Duration { return percentile(s.okLat, q) }

func percentile(lat []time.Duration, q float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// recorder collects one worker's results without locks.
type recorder struct {
	allSent, allOK int
	sent, ok, errs int
	codes          map[int]int
	lat, okLat     []time.Duration
}

// all counts a request of the warm-up or of the measured time.
func (r *recorder) all(code int, err error, okCode int) {
	r.allSent++
	if err == nil && code == okCode {
		r.allOK++
	}
}

func (r *recorder) add(code int, err error, d time.Duration, okCode int) {
	r.sent++
	if err != nil {
		r.errs++
		return
	}
	r.codes[code]++
	r.lat = append(r.lat, d)
	if code == okCode {
		r.ok++
		r.okLat = append(r.okLat, d)
	}
}

func merge(rs []*recorder, d time.Duration, dropped int) stats {
	s := stats{Codes: map[int]int{}, Duration: d, Dropped: dropped}
	for _, r := range rs {
		s.AllSent += r.allSent
		s.AllOK += r.allOK
		s.Sent += r.sent
		s.OK += r.ok
		s.Errors += r.errs
		for c, n := range r.codes {
			s.Codes[c] += n
		}
		s.lat = append(s.lat, r.lat...)
		s.okLat = append(s.okLat, r.okLat...)
	}
	return s
}

// do sends one request and reads the whole answer, so the connection is
// reused.
func do(ctx context.Context, c *http.Client, mk makeRequest) (int, error) {
	req, err := mk(ctx)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

// drive runs l against c and returns what it measured.
func drive(ctx context.Context, c *http.Client, l load) stats {
	if l.rate > 0 {
		return driveOpen(ctx, c, l)
	}
	start := time.Now()
	from, end := start.Add(l.warmup), start.Add(l.warmup+l.duration)
	wait := startWorkers(l.workers, func(r *recorder) {
		for ctx.Err() == nil {
			t0 := time.Now()
			if !t0.Before(end) {
				return
			}
			r.send(ctx, c, l, t0, from)
		}
	})
	return merge(wait(), l.duration, 0)
}

// startWorkers runs work on n goroutines, each with its own recorder; wait
// returns the recorders once every work has returned.
func startWorkers(n int, work func(r *recorder)) (wait func() []*recorder) {
	rs := make([]*recorder, n)
	var wg sync.WaitGroup
	for w := range rs {
		r := &recorder{codes: map[int]int{}}
		rs[w] = r
		wg.Go(func() { work(r) })
	}
	return func() []*recorder {
		wg.Wait()
		return rs
	}
}

// send sends one request of l and records it; it is measured, with its
// latency counted from due, only when due is past the warm-up (from).
func (r *recorder) send(ctx context.Context, c *http.Client, l load, due, from time.Time) {
	code, err := do(ctx, c, l.make)
	r.all(code, err, l.ok)
	if due.Before(from) {
		return
	}
	r.add(code, err, time.Since(due), l.ok)
}

// driveOpen schedules requests at l.rate and has l.workers send them. A
// request whose worker is not free within a second of its time is dropped
// and counted: the client, not the server, would be measured past that.
func driveOpen(ctx context.Context, c *http.Client, l load) stats {
	interval := time.Duration(float64(time.Second) / l.rate)
	backlog := max(1, int(l.rate)) // a second of requests
	queue := make(chan time.Time, backlog)
	start := time.Now()
	from, end := start.Add(l.warmup), start.Add(l.warmup+l.duration)
	wait := startWorkers(l.workers, func(r *recorder) {
		for at := range queue {
			if ctx.Err() == nil {
				r.send(ctx, c, l, at, from)
			}
		}
	})
	dropped := 0
	for i := 0; ctx.Err() == nil; i++ {
		at := start.Add(time.Duration(i) * interval)
		if !at.Before(end) {
			break
		}
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		select {
		case queue <- at:
		default:
			if !at.Before(from) {
				dropped++
			}
		}
	}
	close(queue)
	return merge(wait(), l.duration, dropped)
}
