package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// codes summarises the answers: "200×4210" or "403×9000, err×2".
func codes(s stats) string {
	var keys []int
	for c := range s.Codes {
		keys = append(keys, c)
	}
	slices.Sort(keys)
	var parts []string
	for _, c := range keys {
		parts = append(parts, fmt.Sprintf("%d×%d", c, s.Codes[c]))
	}
	if s.Errors > 0 {
		parts = append(parts, fmt.Sprintf("error×%d", s.Errors))
	}
	if s.Dropped > 0 {
		parts = append(parts, fmt.Sprintf("not sent×%d", s.Dropped))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func (b *bench) find(id string) *result {
	for i := range b.results {
		if b.results[i].id == id && b.results[i].skipped == "" {
			return &b.results[i]
		}
	}
	return nil
}

// ratio is the row's throughput against the one it is compared with.
func (b *bench) ratio(r result) string {
	switch {
	case strings.HasSuffix(r.id, "/sms"), strings.HasSuffix(r.id, "/sms-upstream"), strings.HasSuffix(r.id, "/sms-noreply"), strings.HasSuffix(r.id, "/form"):
		if ref, _, ok := b.reference(r.group); ok {
			return fmt.Sprintf("%.2f× reference", r.stats.Throughput()/ref)
		}
		return ""
	case strings.HasSuffix(r.id, "/forged"), strings.HasSuffix(r.id, "/ref"), strings.HasSuffix(r.id, "/ref-after"):
		o := b.find("bare")
		if o == nil || o.stats.Throughput() == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f× bare", r.stats.Throughput()/o.stats.Throughput())
	}
	return ""
}

// reference is the reference pipeline's throughput and server CPU per tip
// for recipient kind k: the mean of its runs before and after the
// gateway's rows (the host's speed drifts between rows; the mean of two
// runs around them is what the gateway's rows are compared with).
func (b *bench) reference(k string) (perSecond float64, cpu time.Duration, ok bool) {
	n := 0
	for _, id := range []string{k + "/ref", k + "/ref-after"} {
		if r := b.find(id); r != nil && r.stats.Throughput() > 0 {
			perSecond += r.stats.Throughput()
			cpu += r.cpuPerOK
			n++
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	return perSecond / float64(n), cpu / time.Duration(n), true
}

// report renders BENCHMARKS.md.
func (b *bench) report() string {
	var sb strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	m := b.machine
	cmd := "go run ./cmd/hotline-load"
	if len(b.opt.args) > 0 {
		cmd += " " + strings.Join(b.opt.args, " ")
	}
	w("# Benchmarks\n\n")
	w("Written by `hotline-load` (`make bench` runs it after the `go test` benchmarks); run it again rather than editing this file.\n\n")
	w("- Command: `%s` (%s, %s in all)\n", cmd, b.started.UTC().Format("2006-01-02 15:04 MST"), time.Since(b.started).Round(time.Second))
	w("- Machine: %d CPUs (nproc), %s, %s, %s RAM; %s; load average %s when the run started\n", m.nproc, m.cpu, m.kernel, m.mem, m.goVersion, m.loadBefore)
	w("- Redis %s at %s (AOF %s), keys under a prefix of the run's own, deleted afterwards\n", m.redis, m.redisAt, m.redisAOF)
	w("- Each server is a child process on 127.0.0.1: `hotline serve` built with `go build`, and for comparison a bare net/http handler and a reference pipeline " +
		"(twilio-go signature check, upstream `age.Encrypt` to the same recipients, one XADD). The load generator shares the machine. " +
		"The reference runs before and again after the gateway's closed-loop SMS rows of each key kind: the host's speed drifts from row to row, and the gateway's ratios are against the mean of the two runs.\n")
	if b.opt.waitQuiet > 0 {
		w("- Before each scenario the bench waited (up to %s) until other processes used under %.2f of a core.\n", b.opt.waitQuiet, quietCores)
	}
	if b.opt.retryBusy > 0 {
		w("- A scenario during which other processes used %.2f of a core or more was run again, up to %d times, and the least disturbed run kept (a flood on a fresh gateway each time, so that each run counts its own queue).\n", quietCores, b.opt.retryBusy)
	}
	w("- Closed loop: %d keep-alive connections, each sending its next request when answered; %s warm-up, then %s measured. "+
		"Open loop: requests scheduled at a fixed rate, latency counted from the scheduled time (no coordinated omission).\n",
		b.opt.workers, b.opt.warmup, b.opt.duration)
	w("- Generated config: one agency with two recipients, whose region holds the coordinates in each SMS; a reply key (as in production: per tip the gateway also seals a reply handle " +
		"and a Twilio scrub job to it), except in the row that says otherwise; " +
		"a spool directory. Every SMS has a new MessageSid and sender. The web form is measured at capacity with its rate limit and proof of work off, " +
		"and flooded against its production defaults, from addresses spread over many networks (X-Forwarded-For through a trusted loopback proxy).\n")
	w("- Two recipients per agency. Peak RSS is the server's VmHWM, reset before each scenario. CPU is user+system time per successful request, warm-up included, " +
		"of the server, of Redis (if /proc shows it) and of the load generator. \"Other load\" is CPU that other processes on the machine used meanwhile: " +
		"where it is above a few tenths of a core, that row's figures are low.\n\n")

	w("## Results\n\n")
	w("| scenario | recipients | server | load | ok/s | p50 ms | p99 ms | answers | CPU µs/ok: server, Redis, load generator | other load (cores) | peak RSS MB | ratio |\n")
	w("| --- | --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |\n")
	for _, r := range b.results {
		server := r.server
		if r.impl != "" {
			server += ", " + r.impl
		}
		if r.skipped != "" {
			w("| %s | %s | %s | — | — | — | — | skipped: %s | — | — | — | — |\n", r.scenario, kindName(r.group), server, r.skipped)
			continue
		}
		answers := codes(r.stats)
		if r.extra != "" {
			answers += "; " + r.extra
		}
		w("| %s | %s | %s | %s | %.0f | %.1f | %.1f | %s | %s | %s | %.0f | %s |\n", r.scenario, kindName(r.group), server, r.load,
			r.stats.Throughput(), ms(r.stats.Percentile(0.5)), ms(r.stats.Percentile(0.99)), answers,
			b.cpuSplit(r), other(r.otherCores), float64(r.rss)/(1<<20), b.ratio(r))
	}

	w("%s", b.busyWarning())
	w("%s", b.interleavedReport())
	w("\n## Targets (issue 16)\n\n")
	if len(b.interleaved) > 0 {
		w("A throughput ratio is met only if both the rows above and the interleaved comparison meet it. The pinned comparison is told beside them, not judged.\n\n")
	}
	w("| target | %s |\n| --- |%s\n", strings.Join(kindNames(b.opt.kinds), " | "), strings.Repeat(" --- |", len(b.opt.kinds)))
	for _, t := range b.targets() {
		w("| %s |", t.name)
		for _, k := range b.opt.kinds {
			w(" %s |", t.eval(k))
		}
		w("\n")
	}
	w("\n## Redis commands per successful request\n\n")
	w("From INFO commandstats around each run (commands that scripts run count too; other clients of the same Redis add a little). " +
		"With a reply key, each run ends once the gateway's scrub mover has read every entry its tips made (it runs every 15 s), so that the commands it spends on them count: the scrub jobs themselves run a minute later, outside every row.\n\n")
	w("| scenario | recipients | server | commands |\n| --- | --- | --- | --- |\n")
	for _, r := range b.results {
		if r.skipped != "" || len(r.redisCalls) == 0 || !(strings.Contains(r.id, "/sms") || strings.HasSuffix(r.id, "/ref") || strings.HasSuffix(r.id, "/form")) {
			continue
		}
		server := r.server
		if r.impl != "" {
			server += ", " + r.impl
		}
		w("| %s | %s | %s | %s |\n", r.scenario, kindName(r.group), server, callSummary(r.redisCalls))
	}
	if len(b.notes) > 0 {
		w("\n## Notes\n\n")
		for _, n := range b.notes {
			w("- %s\n", n)
		}
	}
	return sb.String()
}

// callSummary lists the commands of at least 0.05 a request, most first.
func callSummary(calls map[string]float64) string {
	type kv struct {
		k string
		v float64
	}
	var list []kv
	total := 0.0
	for k, v := range calls {
		total += v
		if v >= 0.05 {
			list = append(list, kv{k, v})
		}
	}
	slices.SortFunc(list, func(a, b kv) int {
		if a.v != b.v {
			return cmp.Compare(b.v, a.v)
		}
		return strings.Compare(a.k, b.k)
	})
	parts := []string{fmt.Sprintf("**%.1f** in all", total)}
	for _, e := range list {
		parts = append(parts, fmt.Sprintf("%s %.1f", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}

// other shows the competing load, in bold where it spoils the row.
func other(cores float64) string {
	if cores >= quietCores {
		return fmt.Sprintf("**%.2f**", cores)
	}
	return fmt.Sprintf("%.2f", cores)
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d)/float64(time.Microsecond)) }

func (b *bench) cpuSplit(r result) string {
	redis := "—"
	if b.machine.redisPID != 0 {
		redis = us(r.redisPerOK)
	}
	return us(r.cpuPerOK) + ", " + redis + ", " + us(r.clientPerOK)
}

func kindName(g string) string {
	switch g {
	case "x25519":
		return "2 × X25519"
	case "pq":
		return "2 × post-quantum"
	}
	return "—"
}

func kindNames(ks []string) []string {
	var out []string
	for _, k := range ks {
		out = append(out, kindName(k))
	}
	return out
}

// busyWarning says how many rows other work on the machine disturbed.
func (b *bench) busyWarning() string {
	n, all := 0, 0
	for _, r := range b.results {
		if r.skipped == "" {
			all++
			if r.otherCores >= quietCores {
				n++
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("\n**%d of %d rows ran while other processes used %.2f of a core or more (in bold): their figures are low.**\n", n, all, quietCores)
}

type target struct {
	name string
	eval func(kind string) string
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// Before issue 16 (BENCHMARKS.md of 2026-11-22, 2 × X25519): the web form
// answered 188 reports a second at 9,489 µs of server CPU each.
const (
	formBeforePerSecond = 188
	formBeforeCPU       = 9489 * time.Microsecond
)

// targets are issue 16's (and issue 7's that still hold), evaluated per
// recipient kind.
func (b *bench) targets() []target {
	missing := "not measured"
	ratio := func(k, id string, want float64) string {
		gw := b.find(k + "/" + id)
		ref, refCPU, ok := b.reference(k)
		if gw == nil || !ok {
			return missing
		}
		x := gw.stats.Throughput() / ref
		met := x >= want
		detail := ""
		if refCPU > 0 && gw.cpuPerOK > 0 {
			detail = fmt.Sprintf("server CPU per tip %s µs against %s µs: %.2f×", us(gw.cpuPerOK), us(refCPU), float64(refCPU)/float64(gw.cpuPerOK))
		}
		if ix, icpu, ok := b.interleavedRatio(k, id, false); ok {
			met = met && ix >= want
			detail += fmt.Sprintf("; interleaved: %.2f×, server CPU %.2f×", ix, icpu)
		}
		// Told, not judged: the verdict is the shared machine's.
		if px, _, ok := b.interleavedRatio(k, id, true); ok {
			detail += fmt.Sprintf("; pinned, each server on a core of its own: %.2f×", px)
		}
		s := fmt.Sprintf("%.2f×: %s", x, verdict(met))
		if detail != "" {
			s += " (" + strings.TrimPrefix(detail, "; ") + ")"
		}
		return s
	}
	return []target{
		{"full intake ≥ 1.6× the reference pipeline, without a reply key", func(k string) string {
			return ratio(k, "sms-noreply", 1.6)
		}},
		{"full intake ≥ 1.3× the reference pipeline, with a reply key", func(k string) string {
			s := ratio(k, "sms", 1.3)
			if up := b.find(k + "/sms-upstream"); up != nil {
				if ref, _, ok := b.reference(k); ok {
					s += fmt.Sprintf("; with upstream X25519: %.2f×", up.stats.Throughput()/ref)
				}
			}
			return s
		}},
		{"≤ 6 Redis commands per tip, with a reply key", func(k string) string {
			r := b.find(k + "/sms")
			if r == nil || r.redisCalls == nil {
				return missing
			}
			var n float64
			for _, v := range r.redisCalls {
				n += v
			}
			return fmt.Sprintf("%.1f: %s", n, verdict(n <= 6.05))
		}},
		{"web form ≥ 5× its reports per second before issue 16 (188/s), at the same CPU (≤ 1/5 of 9,489 µs a report)", func(k string) string {
			r := b.find(k + "/form")
			if r == nil || r.skipped != "" || r.cpuPerOK == 0 {
				return missing
			}
			x := r.stats.Throughput() / formBeforePerSecond
			c := float64(formBeforeCPU) / float64(r.cpuPerOK)
			return fmt.Sprintf("%.0f/s, %.1f× (CPU per report %s µs, %.1f× less): %s", r.stats.Throughput(), x, us(r.cpuPerOK), c, verdict(x >= 5 && c >= 5))
		}},
		{"forged requests rejected ≥ 0.4× the bare handler", func(k string) string {
			f, bare := b.find(k+"/forged"), b.find("bare")
			if f == nil || bare == nil || bare.stats.Throughput() == 0 {
				return missing
			}
			x := f.stats.Throughput() / bare.stats.Throughput()
			return fmt.Sprintf("%.2f×: %s", x, verdict(x >= 0.4))
		}},
		{"p99 < 100 ms at 80% of peak", func(k string) string {
			r := b.find(k + "/80")
			if r == nil {
				return missing
			}
			p := r.stats.Percentile(0.99)
			return fmt.Sprintf("%.1f ms: %s", ms(p), verdict(p < 100*time.Millisecond && r.stats.Dropped == 0 && r.stats.Errors == 0))
		}},
		{"peak RSS < 100 MB (any gateway scenario with the production form defences)", func(k string) string {
			var peak, open int64
			for _, r := range b.results {
				switch {
				case r.group != k || r.server != "gateway" || r.skipped != "":
				case strings.HasSuffix(r.id, "/flood-open"):
					open = r.rss
				default:
					peak = max(peak, r.rss)
				}
			}
			if peak == 0 {
				return missing
			}
			s := fmt.Sprintf("%.0f MB: %s", float64(peak)/(1<<20), verdict(peak < 100<<20))
			if open > 0 {
				s += fmt.Sprintf(" (flooded with the defences off: %.0f MB)", float64(open)/(1<<20))
			}
			return s
		}},
		{"signed SMS p99 < 1 s during a 5× web-form flood (the form's production defences on)", func(k string) string {
			r := b.find(k + "/flood")
			if r == nil {
				return missing
			}
			p := r.stats.Percentile(0.99)
			return fmt.Sprintf("%.1f ms: %s", ms(p), verdict(p < time.Second && r.stats.Errors == 0))
		}},
		{"no SMS answered 200 lost during the flood", func(k string) string {
			r := b.find(k + "/flood")
			if r == nil {
				return missing
			}
			s := fmt.Sprintf("%d lost of %d: %s", max(0, r.lost), r.stats.AllOK, verdict(r.lost <= 0))
			if o := b.find(k + "/flood-open"); o != nil {
				s += fmt.Sprintf(" (defences off: %d lost of %d, p99 %.1f ms)", max(0, o.lost), o.stats.AllOK, ms(o.stats.Percentile(0.99)))
			}
			return s
		}},
	}
}
