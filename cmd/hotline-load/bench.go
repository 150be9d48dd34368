package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/handlers"
	"github.com/redis/go-redis/v9"
)

// Defaults of a run, sized so that `make bench` stays within a few minutes
// on a 2-core machine.
const (
	DefaultDuration = 4 * time.Second
	DefaultWarmup   = time.Second
	// DefaultWorkers keep-alive connections saturate two cores without
	// queueing so deep that p99 measures only the queue.
	DefaultWorkers = 16
	// DefaultRounds of the interleaved comparison: 8 × 3 slices of 1.8 s.
	DefaultRounds = 8
	// floodWorkers is the attacker's concurrency in the flood.
	floodWorkers = 256
	// agency and hotlineNumber are the generated config's.
	agency        = "pe-lima"
	hotlineNumber = "+15005550006"
)

type options struct {
	out      string
	duration time.Duration
	warmup   time.Duration
	workers  int
	redisURL string
	// waitQuiet is how long to wait, before each scenario, for other
	// processes to leave the CPUs alone.
	waitQuiet time.Duration
	// retryBusy is how many times a scenario that other processes
	// disturbed is run again.
	retryBusy int
	kinds     []string
	args      []string
	// rounds is how many rounds the interleaved comparison runs (0: none).
	rounds int
	// pinned: the interleaved comparison runs again with each server on a
	// core of its own (see pinnedInterleave).
	pinned bool
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("hotline-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hotline-load [-out BENCHMARKS.md] [-duration 5s] [-warmup 1s] [-workers 16] [-redis URL] [-kinds x25519,pq] [-wait-quiet 30s] [-retry-busy 2] [-interleave 8] [-pinned=false]")
		fs.PrintDefaults()
	}
	var o options
	fs.StringVar(&o.out, "out", "", "write the report (Markdown) to this `file` as well as stdout")
	fs.DurationVar(&o.duration, "duration", DefaultDuration, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", DefaultWarmup, "unmeasured time before each scenario")
	fs.IntVar(&o.workers, "workers", DefaultWorkers, "concurrent connections for closed-loop scenarios")
	fs.StringVar(&o.redisURL, "redis", "", "Redis `URL` (default: REDIS_URL, else redis://127.0.0.1:6379/0)")
	kinds := fs.String("kinds", "x25519,pq", "recipient kinds to measure: x25519, pq or both")
	fs.DurationVar(&o.waitQuiet, "wait-quiet", 0, "before each scenario, wait up to this long until other processes use under a quarter of a core")
	fs.IntVar(&o.rounds, "interleave", DefaultRounds, "rounds of the interleaved comparison of the reference and the gateway (0: none)")
	fs.BoolVar(&o.pinned, "pinned", true, "run the interleaved comparison again with the servers on a core of their own, the load generator and a local Redis on the others (Linux, taskset, 2 CPUs or more)")
	fs.IntVar(&o.retryBusy, "retry-busy", 0, "run a scenario that other processes disturbed (half a core or more) up to this many times again, keeping the least disturbed run")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 || o.duration <= 0 || o.warmup < 0 || o.workers < 1 || o.retryBusy < 0 || o.rounds < 0 {
		fs.Usage()
		return o, errors.New("usage")
	}
	for _, k := range strings.Split(*kinds, ",") {
		switch k = strings.TrimSpace(k); k {
		case "x25519", "pq":
			o.kinds = append(o.kinds, k)
		default:
			fmt.Fprintf(stderr, "hotline-load: unknown kind %q (want x25519 or pq)\n", k)
			return o, errors.New("usage")
		}
	}
	if o.redisURL == "" {
		o.redisURL = os.Getenv("REDIS_URL")
	}
	if o.redisURL == "" {
		o.redisURL = "redis://127.0.0.1:6379/0"
	}
	o.args = args
	return o, nil
}

// bench is one run of every scenario.
type bench struct {
	opt     options
	out     io.Writer // progress
	dir     string
	root    string // the module's directory
	hotline string // the built gateway
	self    string
	rdb     *redis.Client
	prefix  string // every Redis key of the run starts with it
	token   []byte
	client  *http.Client
	machine machine
	started time.Time
	results []result
	// interleaved are the interleaved comparisons, one a key kind.
	interleaved []interleaved
	notes       []string
	seq         int
	// serverCPUs, if set, is the CPU list the servers started now run on
	// (taskset -c): the pinned comparison.
	serverCPUs string
	// pinnedAs says where each ran, for the report.
	pinnedAs string
}

// result is one row of the report.
type result struct {
	group    string // "baseline", "x25519" or "pq"
	scenario string
	server   string // "bare", "reference" or "gateway"
	impl     string
	load     string
	stats    stats
	rss      int64
	// CPU time per successful request, warm-up included: the server's,
	// Redis's and the load generator's.
	cpuPerOK, redisPerOK, clientPerOK time.Duration
	// otherCores is the CPU other processes used meanwhile, in cores: work
	// that was not the bench's, competing with it.
	otherCores float64
	// redisCalls is Redis commands per successful request, by command.
	redisCalls map[string]float64
	extra      string
	lost       int // flood: SMS answered 200 and not found in the queue
	skipped    string
	// id lets the targets find the row.
	id string
}

type machine struct {
	redisPID          int
	loadBefore        string // /proc/loadavg when the run started
	nproc             int
	cpu, kernel, mem  string
	goVersion, redis  string
	redisAOF, redisAt string
}

func newBench(ctx context.Context, opt options, out, stderr io.Writer) (*bench, error) {
	b := &bench{opt: opt, out: stderr, started: time.Now()}
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return nil, errors.New("run from inside the hotline module (go env GOMOD found none)")
	}
	b.root = filepath.Dir(strings.TrimSpace(string(gomod)))
	if b.self, err = os.Executable(); err != nil {
		return nil, err
	}
	if b.dir, err = os.MkdirTemp("", "hotline-load-"); err != nil {
		return nil, err
	}

	ropt, err := redis.ParseURL(opt.redisURL)
	if err != nil {
		b.close()
		return nil, fmt.Errorf("bad Redis URL: %w", err)
	}
	if host, _, _ := net.SplitHostPort(ropt.Addr); host != "127.0.0.1" && host != "localhost" && host != "::1" {
		b.close()
		return nil, fmt.Errorf("the Redis at %s is not on this machine; the bench only talks to 127.0.0.1", ropt.Addr)
	}
	b.rdb = redis.NewClient(ropt)
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := b.rdb.Ping(pctx).Err(); err != nil {
		b.close()
		return nil, fmt.Errorf("the Redis at %s does not answer (%v)\nhint: start redis-server, or set REDIS_URL", ropt.Addr, err)
	}
	b.prefix = "hlload-" + randomHex(4)
	b.token = []byte(randomHex(16))
	b.machine = b.describeMachine(ctx, ropt.Addr)

	fmt.Fprintf(b.out, "hotline-load: building hotline into %s\n", b.dir)
	b.hotline = filepath.Join(b.dir, "hotline")
	build := exec.CommandContext(ctx, "go", "build", "-o", b.hotline, "./cmd/hotline")
	build.Dir = b.root
	if out, err := build.CombinedOutput(); err != nil {
		b.close()
		return nil, fmt.Errorf("go build ./cmd/hotline: %v\n%s", err, out)
	}
	reply, err := seal.Generate(true)
	if err != nil {
		b.close()
		return nil, err
	}
	for name, data := range map[string][]byte{"twilio-token": b.token, "pepper": []byte(randomHex(32)), "reply.key": []byte(reply.Identity + "\n")} {
		if err := os.WriteFile(filepath.Join(b.dir, name), data, 0o600); err != nil {
			b.close()
			return nil, err
		}
	}
	// Loopback only, never a proxy from the environment.
	b.client = &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy: nil, MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 30 * time.Second,
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return b, nil
}

// close deletes the run's Redis keys and temporary directory.
func (b *bench) close() {
	if b.rdb != nil && b.prefix != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		n := 0
		iter := b.rdb.Scan(ctx, 0, b.prefix+"*", 1000).Iterator()
		var batch []string
		flush := func() {
			if len(batch) > 0 {
				b.rdb.Unlink(ctx, batch...)
				n += len(batch)
				batch = batch[:0]
			}
		}
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 500 {
				flush()
			}
		}
		flush()
		fmt.Fprintf(b.out, "hotline-load: deleted %d Redis keys under %s*\n", n, b.prefix)
		b.rdb.Close()
	}
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

func (b *bench) describeMachine(ctx context.Context, redisAddr string) machine {
	m := machine{nproc: runtime.NumCPU(), goVersion: runtime.Version(), cpu: "unknown", redisAt: redisAddr}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if match := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(data); match != nil {
			m.cpu = strings.TrimSpace(string(match[1]))
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = "Linux " + strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if match := regexp.MustCompile(`(?m)^MemTotal:\s*(\d+) kB`).FindSubmatch(data); match != nil {
			kb, _ := strconv.ParseInt(string(match[1]), 10, 64)
			m.mem = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.loadBefore = strings.Join(strings.Fields(string(data))[:3], " ")
	}
	if out, err := exec.CommandContext(ctx, "nproc").Output(); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil {
			m.nproc = n
		}
	}
	if info, err := b.rdb.Info(ctx, "server", "persistence").Result(); err == nil {
		if match := regexp.MustCompile(`(?m)^redis_version:(\S+)`).FindStringSubmatch(info); match != nil {
			m.redis = match[1]
		}
		if match := regexp.MustCompile(`(?m)^process_id:(\d+)`).FindStringSubmatch(info); match != nil {
			pid, _ := strconv.Atoi(match[1])
			// Only if /proc shows that very server (not one in another
			// PID namespace, such as a container).
			if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.HasPrefix(string(comm), "redis") {
				m.redisPID = pid
			}
		}
		if match := regexp.MustCompile(`(?m)^aof_enabled:(\d)`).FindStringSubmatch(info); match != nil {
			m.redisAOF = map[string]string{"0": "off", "1": "on"}[match[1]]
		}
	}
	return m
}

// keySet is an agency's throwaway keys.
type keySet struct {
	kind       string
	recipients []string
}

func newKeySet(kind string, n int) (keySet, error) {
	ks := keySet{kind: kind}
	for range n {
		g, err := seal.Generate(kind == "x25519")
		if err != nil {
			return ks, err
		}
		ks.recipients = append(ks.recipients, g.Recipient)
	}
	return ks, nil
}

// Senders are numbered from a random start, so that no two messages of a
// run come from one sender: a second message would join the first one's
// thread, appended to its case (no new stream entry).
var (
	senderBase = func() int64 { n, _ := rand.Int(rand.Reader, big.NewInt(90000000)); return n.Int64() }()
	senders    atomic.Int64
)

// smsForm is a Twilio Messaging webhook for one new message: a fresh
// MessageSid (so that deduplication never answers from memory) and sender,
// a text of typical length with coordinates inside the agency's region.
func smsForm() url.Values {
	sid := "SM" + randomHex(16)
	n := (senderBase + senders.Add(1)) % 90000000
	return url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
		"MessagingServiceSid": {"MG00000000000000000000000000000000"},
		"From":                {fmt.Sprintf("+519%08d", n+10000000)}, "To": {hotlineNumber},
		"Body": {"Ayuda, nos tienen encerrados en una casa en La Molina, -12.0857, -76.9397. Somos cuarenta, " +
			"hay menores, nos quitaron los documentos y no nos dejan salir. Por favor vengan pronto, tengan cuidado."},
		"NumMedia": {"0"}, "NumSegments": {"2"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"},
		"FromCountry": {"PE"}, "FromCity": {"LIMA"}, "FromState": {"LIMA"}, "FromZip": {""},
		"ToCountry": {"US"}, "ToCity": {""}, "ToState": {""}, "ToZip": {""},
	}
}

// smsRequest signs a new message as Twilio does (valid) or signs something
// else (forged).
func (b *bench) smsRequest(base, publicURL string, valid bool) makeRequest {
	return func(ctx context.Context) (*http.Request, error) {
		form := smsForm()
		signed := form
		if !valid {
			signed = url.Values{"MessageSid": {"SMforged"}}
		}
		sig := handlers.TwilioSignature(b.token, strings.TrimRight(publicURL, "/")+"/twilio/sms", signed)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/twilio/sms", strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		req.Header.Set("User-Agent", "TwilioProxy/1.1")
		return req, nil
	}
}

// formRequest is a witness's report through the web form, with the hidden
// fields the form page carried. spread gives each request an address of its
// own network (X-Forwarded-For through a trusted proxy), as a distributed
// flood would.
func formRequest(base string, hidden url.Values, spread bool) makeRequest {
	return func(ctx context.Context) (*http.Request, error) {
		form := url.Values{
			"message": {"Vi a una mujer y dos niñas obligadas a subir a una camioneta blanca sin placas frente al mercado, " +
				"hace diez minutos. Los hombres estaban armados. La camioneta fue hacia la avenida Javier Prado."},
			"location": {"Mercado de La Molina, Lima"}, "lang": {"es"},
		}
		for k, v := range hidden {
			if _, ok := form[k]; !ok {
				form[k] = v
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/report", strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", "es-PE,es;q=0.9")
		if spread {
			ip := make([]byte, 3)
			rand.Read(ip)
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("%d.%d.%d.7", 11+int(ip[0])%200, ip[1], ip[2]))
		}
		return req, nil
	}
}

var hiddenInput = regexp.MustCompile(`<input[^>]*type="hidden"[^>]*>`)
var attr = regexp.MustCompile(`(name|value)="([^"]*)"`)

// formFields fetches GET /report and returns its hidden fields, or an error
// saying why the form cannot be measured.
func (b *bench) formFields(ctx context.Context, base string) (url.Values, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/report", nil)
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode == http.StatusNotFound {
		return nil, errors.New("the web form is not in this build (GET /report answered 404)")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /report answered %d", resp.StatusCode)
	}
	if !bytes.Contains(page, []byte(`name="message"`)) {
		return nil, errors.New("GET /report has no message field")
	}
	hidden := url.Values{}
	for _, in := range hiddenInput.FindAll(page, -1) {
		var name, value string
		for _, m := range attr.FindAllSubmatch(in, -1) {
			if string(m[1]) == "name" {
				name = string(m[2])
			} else {
				value = string(m[2])
			}
		}
		if name != "" {
			hidden.Set(name, htmlUnescape(value))
		}
	}
	return hidden, nil
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&quot;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">", "&#43;", "+").Replace(s)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
