package main

// Helpers of the fault tests: a redis-server and a gateway run as child
// processes that a test can SIGKILL and restart, a load of signed SMS, and a
// count of the queue by tip id.

import (
	"context"
	"encoding/base32"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

const (
	faultPepper = "pepper-for-the-fault-tests-0123456789"
	faultToken  = "fault-tests-twilio-auth-token"
	faultNumber = "+15005550006"
)

// buildHotline builds the gateway into a directory of the test's.
func buildHotline(t *testing.T) string {
	t.Helper()
	return buildHotlineInto(t, t.TempDir())
}

// buildHotlineInto builds the gateway into dir.
func buildHotlineInto(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "hotline")
	cmd := exec.Command("go", "build", "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// newRedisProc prepares a redis-server with AOF fsync'd on every write,
// which a test can kill and restart on the same port with the same data.
func newRedisProc(t *testing.T) *queuetest.Server {
	t.Helper()
	return queuetest.NewServer(t, "--appendonly", "yes", "--appendfsync", "always", "--save", "")
}

// redisClient is a client of r, closed when t ends.
func redisClient(t *testing.T, r *queuetest.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// gatewayProc is `hotline serve` as a child process.
type gatewayProc struct {
	t           *testing.T
	bin         string
	dir         string
	cfg         string
	port        int
	metricsPort int
	spoolDir    string
	log         *queuetest.SyncBuffer
	cmd         *exec.Cmd
	exited      chan error
}

// newGatewayProc writes a config for one agency, whose X25519 recipient is
// made here, pointed at redisURL.
func newGatewayProc(t *testing.T, bin, redisURL, prefix string) *gatewayProc {
	t.Helper()
	g := &gatewayProc{t: t, bin: bin, dir: t.TempDir(), port: queuetest.FreePort(t),
		metricsPort: queuetest.FreePort(t), log: &queuetest.SyncBuffer{}}
	g.spoolDir = filepath.Join(g.dir, "spool")
	g.cfg = writeFaultConfig(t, g.dir, g.port, g.metricsPort, redisURL, prefix, g.spoolDir)
	t.Cleanup(g.kill)
	return g
}

// writeFaultConfig writes the config of a gateway with one agency, whose
// X25519 recipient is made here, and returns its path.
func writeFaultConfig(t *testing.T, dir string, port, metricsPort int, redisURL, prefix, spoolDir string) string {
	t.Helper()
	id, err := seal.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`listen: 127.0.0.1:%[1]d
public_url: http://127.0.0.1:%[1]d
redis:
  url: %[2]s
  prefix: %[3]s
  timeout: 500ms
secrets:
  pepper: env:HOTLINE_PEPPER
twilio:
  account_sid: AC00000000000000000000000000000000
  auth_token: env:TWILIO_AUTH_TOKEN
  numbers:
    "%[4]s": { region: lima }
regions:
  - id: lima
    polygon: [[[-77.2, -12.4], [-76.7, -12.4], [-76.7, -11.7], [-77.2, -11.7]]]
agencies:
  - id: pe-lima
    name: Lima unit
    recipients: [%[5]s]
    regions: [lima]
default_agency: pe-lima
spool:
  dir: %[6]s
metrics:
  listen: 127.0.0.1:%[7]d
log:
  format: json
`, port, redisURL, prefix, faultNumber, id.Recipient, spoolDir, metricsPort)
	path := filepath.Join(dir, "hotline.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadFaultConfig writes the config of writeFaultConfig, spool included, in
// a fresh directory, appends extra (YAML) to it and loads it as serve does.
func loadFaultConfig(t *testing.T, port, metricsPort int, redisURL, prefix, extra string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	path := writeFaultConfig(t, dir, port, metricsPort, redisURL, prefix, filepath.Join(dir, "spool"))
	if extra != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString(extra)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (g *gatewayProc) baseURL() string { return fmt.Sprintf("http://127.0.0.1:%d", g.port) }

// start runs the gateway and waits until it answers /healthz.
func (g *gatewayProc) start() {
	g.t.Helper()
	g.cmd = exec.Command(g.bin, "serve", "--config", g.cfg)
	env := []string{"HOTLINE_PEPPER=" + faultPepper, "TWILIO_AUTH_TOKEN=" + faultToken}
	for _, kv := range os.Environ() {
		// The config names this test's own Redis; REDIS_URL would override it.
		if !strings.HasPrefix(kv, "REDIS_URL=") && !strings.HasPrefix(kv, "STATE_DIRECTORY=") {
			env = append(env, kv)
		}
	}
	g.cmd.Env = env
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	if err := g.cmd.Start(); err != nil {
		g.t.Fatalf("start gateway: %v", err)
	}
	g.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan error) { exited <- cmd.Wait() }(g.cmd, g.exited)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-g.exited:
			g.cmd = nil
			g.t.Fatalf("gateway exited at start: %v\n%s", err, g.log.String())
		default:
		}
		resp, err := client.Get(g.baseURL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("gateway did not answer /healthz:\n%s", g.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill SIGKILLs the gateway: no shutdown, nothing flushed.
func (g *gatewayProc) kill() {
	if g.cmd == nil {
		return
	}
	g.cmd.Process.Kill()
	<-g.exited
	g.cmd = nil
}

// stop sends SIGTERM and returns the exit error once the gateway is gone.
func (g *gatewayProc) stop(timeout time.Duration) error {
	g.t.Helper()
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-g.exited:
		g.cmd = nil
		return err
	case <-time.After(timeout):
		g.t.Fatalf("gateway still running %v after SIGTERM", timeout)
		return nil
	}
}

// metric returns the value of one sample of the gateway's metrics, or -1.
func (g *gatewayProc) metric(name string) float64 {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", g.metricsPort))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// smsLoad sends signed SMS from a few workers until stopped, and remembers
// which MessageSids were answered 200.
type smsLoad struct {
	url     string // the gateway's base URL (also its public_url)
	seq     atomic.Int64
	retries bool // every 7th request repeats an acknowledged message, as Twilio does

	mu       sync.Mutex
	acked    map[string]bool
	ackOrder []string
	statuses map[string]int // answers to new messages: "200", "503", "conn" ...
	// retried counts answers to retries of acknowledged messages. A retry
	// may meet a stale in-progress mark and be answered 503 (Twilio then
	// uses its fallback); what matters is that it is not queued twice.
	retried map[string]int

	stop chan struct{}
	wg   sync.WaitGroup
}

func startLoad(url string, workers int, retries bool) *smsLoad {
	return startLoadAt(url, workers, retries, 0)
}

// startLoadAt is startLoad whose message numbers start after first: a
// second load on the same gateway sends new messages, never a first
// load's again (setting seq once the workers run would race with them).
func startLoadAt(url string, workers int, retries bool, first int64) *smsLoad {
	l := &smsLoad{url: url, retries: retries, acked: map[string]bool{}, statuses: map[string]int{},
		retried: map[string]int{}, stop: make(chan struct{})}
	l.seq.Store(first)
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range workers {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				sid, retry := "", false
				if l.retries && i%7 == 6 {
					l.mu.Lock()
					if n := len(l.ackOrder); n > 0 {
						sid, retry = l.ackOrder[(i*31+w)%n], true
					}
					l.mu.Unlock()
				}
				if sid == "" {
					sid = fmt.Sprintf("SM%032x", l.seq.Add(1))
				}
				l.send(client, sid, retry)
				// A steady load, not a flood: the point is what happens to
				// tips in flight, and the test runs on two cores.
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	return l
}

func (l *smsLoad) send(client *http.Client, sid string, retry bool) {
	n, _ := strconv.ParseUint(sid[len(sid)-8:], 16, 64)
	form := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
		"From": {fmt.Sprintf("+5198%07d", n%10000000)}, "To": {faultNumber},
		"Body": {fmt.Sprintf("tip number %d, somos muchos", n)}, "NumMedia": {"0"},
	}
	req, _ := http.NewRequest(http.MethodPost, l.url+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", handlers.TwilioSignature([]byte(faultToken), l.url+"/twilio/sms", form))
	status := "conn"
	resp, err := client.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = strconv.Itoa(resp.StatusCode)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if retry {
		l.retried[status]++
	} else {
		l.statuses[status]++
	}
	if status == "200" && !l.acked[sid] {
		l.acked[sid] = true
		l.ackOrder = append(l.ackOrder, sid)
	}
}

func (l *smsLoad) finish() {
	close(l.stop)
	l.wg.Wait()
}

func (l *smsLoad) ackedCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// tipIDOf is the tip id the gateway derives from a MessageSid (gateway's
// encodeTipID over the keyed provider pseudonym).
func tipIDOf(t *testing.T, sid string) string {
	k, err := pseudonym.New([]byte(faultPepper))
	if err != nil {
		t.Fatal(err)
	}
	sum := k.Sum(pseudonym.DomainProvider+"/ids", sid)
	return base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding).EncodeToString(sum[:16])
}

// queuedTips counts the entries of the agency's streams by tip id.
func queuedTips(t *testing.T, rdb *redis.Client, prefix, agency string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, p := range []string{"urgent", "normal"} {
		stream := prefix + ":{" + agency + "}:tips:" + p
		start := "-"
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			msgs, err := rdb.XRangeN(ctx, stream, start, "+", 1000).Result()
			cancel()
			if err != nil {
				t.Fatalf("xrange %s: %v", stream, err)
			}
			for _, m := range msgs {
				tip, _ := m.Values["tip"].(string)
				counts[tip]++
			}
			if len(msgs) < 1000 {
				break
			}
			start = "(" + msgs[len(msgs)-1].ID
		}
	}
	return counts
}

// checkExactlyOnce fails unless every acknowledged message is in the queue
// exactly once, and no tip is there twice. It waits (up to a deadline) for
// the spool to drain first.
func checkExactlyOnce(t *testing.T, l *smsLoad, rdb *redis.Client, prefix string, g *gatewayProc) map[string]int {
	t.Helper()
	want := map[string]string{}
	l.mu.Lock()
	for sid := range l.acked {
		want[tipIDOf(t, sid)] = sid
	}
	l.mu.Unlock()
	var counts map[string]int
	deadline := time.Now().Add(30 * time.Second)
	for {
		counts = queuedTips(t, rdb, prefix, "pe-lima")
		missing := 0
		for id := range want {
			if counts[id] == 0 {
				missing++
			}
		}
		if missing == 0 && g.metric("hotline_spool_records") == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged tips not in the queue after the drain (spool records: %v)\n%s",
				missing, len(want), g.metric("hotline_spool_records"), tail(g.log.String(), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("tip %s is in the queue %d times", id, n)
		}
	}
	for id, sid := range want {
		if counts[id] != 1 {
			t.Errorf("acknowledged message %s (tip %s) is in the queue %d times", sid, id, counts[id])
		}
	}
	return counts
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
