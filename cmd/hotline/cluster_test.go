package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue/queuetest"
)

const clusterConfig = `listen: 127.0.0.1:%d
public_url: https://hotline.example.org
spool:
  dir: spool%d
redis:
  mode: cluster
  addrs: [%s]
  prefix: hlc
secrets:
  pepper: env:HOTLINE_PEPPER
twilio:
  auth_token: env:TWILIO_AUTH_TOKEN
  numbers:
    "+15005550006": { region: lima }
regions:
  - id: lima
    polygon: [[[-77.2, -12.4], [-76.7, -12.4], [-76.7, -11.7], [-77.2, -11.7]]]
  - id: kuala-lumpur
    polygon: [[[101.6, 3.0], [101.8, 3.0], [101.8, 3.3], [101.6, 3.3]]]
agencies:
  - id: pe-lima
    name: Lima unit
    recipients: [%s]
    regions: [lima]
  - id: my-kl
    name: Kuala Lumpur unit
    recipients: [%s]
    regions: [kuala-lumpur]
default_agency: pe-lima
`

// TestClusterTwoGateways sends tips through two gateway processes sharing a
// three-master Redis Cluster, with Twilio retrying some messages on the
// other gateway, and has officers of both agencies drain the queues: every
// tip arrives exactly once, readable by its agency only.
func TestClusterTwoGateways(t *testing.T) {
	cluster := queuetest.StartCluster(t)
	bin := buildHotline(t)
	dir := t.TempDir()
	ids, recipients := map[string]*seal.Identities{}, map[string]string{}
	for _, a := range []string{"pe-lima", "my-kl"} {
		g, err := seal.Generate(true)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, a+".key")
		if err := seal.WriteIdentityFile(path, g, time.Now()); err != nil {
			t.Fatal(err)
		}
		if ids[a], err = seal.LoadIdentities(path, &bytes.Buffer{}, ""); err != nil {
			t.Fatal(err)
		}
		recipients[a] = g.Recipient
	}
	const token = "cluster-test-auth-token"
	env := append(os.Environ(), "HOTLINE_PEPPER=cluster-test-pepper-0123456789abcdef", "TWILIO_AUTH_TOKEN="+token, "REDIS_URL=")
	var gateways []string
	for i := range 2 {
		port := queuetest.FreePort(t)
		cfg := filepath.Join(dir, fmt.Sprintf("gw%d.yaml", i))
		body := fmt.Sprintf(clusterConfig, port, i, strings.Join(cluster.Addrs, ", "),
			recipients["pe-lima"], recipients["my-kl"])
		if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		cmd := exec.Command(bin, "serve", "--config", cfg)
		cmd.Env, cmd.Stderr = env, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
			if t.Failed() {
				t.Logf("gateway %d log:\n%s", i, logs.String())
			}
		})
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		waitReady(t, base)
		gateways = append(gateways, base)
	}
	officer := func(agency, name string) string {
		cmd := exec.Command(bin, "officer", "add", "--config", filepath.Join(dir, "gw0.yaml"),
			"--agency", agency, "--name", name)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("officer add: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	tokens := map[string][]string{
		"pe-lima": {officer("pe-lima", "Ana"), officer("pe-lima", "Beto")},
		"my-kl":   {officer("my-kl", "Siti")},
	}

	// 60 messages, half for each agency, spread over both gateways; every
	// fifth is retried on the other gateway as Twilio would.
	const n = 60
	want := map[string]string{} // tip id -> agency
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(gw, sid, body string) {
		form := url.Values{"MessageSid": {sid}, "From": {"+51987654321"}, "To": {"+15005550006"}, "Body": {body}}
		req, _ := http.NewRequest(http.MethodPost, gw+"/twilio/sms", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", handlers.TwilioSignature([]byte(token), "https://hotline.example.org/twilio/sms", form))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s answered %d for %s", gw, resp.StatusCode, sid)
		}
	}
	var wg sync.WaitGroup
	for i := range n {
		sid := fmt.Sprintf("SMc1a5%028x", i)
		body := fmt.Sprintf("tip %d at -12.0857, -76.9397", i)
		agency := "pe-lima"
		if i%2 == 1 {
			body, agency = fmt.Sprintf("tip %d at 3.1478, 101.6953", i), "my-kl"
		}
		want[body] = agency
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(gateways[i%2], sid, body)
			if i%5 == 0 {
				send(gateways[(i+1)%2], sid, body)
			}
		}()
	}
	wg.Wait()

	got := map[string]int{}
	var mu sync.Mutex
	for agency, toks := range tokens {
		for k, tok := range toks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				gw := gateways[k%2]
				for {
					req, _ := http.NewRequest(http.MethodPost, gw+"/api/v1/tips/claim", strings.NewReader("{}"))
					req.Header.Set("Authorization", "Bearer "+tok)
					resp, err := client.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					var tip handlers.TipJSON
					json.NewDecoder(resp.Body).Decode(&tip)
					resp.Body.Close()
					if resp.StatusCode == http.StatusNoContent {
						return
					}
					// A case: every message of it, the first included.
					for _, m := range tip.Messages {
						plain, err := ids[agency].Open(m.Sealed)
						if err != nil {
							t.Errorf("%s cannot open message %s of its case %s: %v", agency, m.ID, tip.ID, err)
							return
						}
						var rep gateway.Report
						json.Unmarshal(plain, &rep)
						mu.Lock()
						got[agency+"|"+rep.Text]++
						mu.Unlock()
					}
					req, _ = http.NewRequest(http.MethodPost, gw+"/api/v1/tips/"+tip.ID+"/ack", strings.NewReader(`{"disposition":"dispatched"}`))
					req.Header.Set("Authorization", "Bearer "+tok)
					if resp, err := client.Do(req); err != nil || resp.StatusCode != 200 {
						t.Errorf("ack %s: %v %v", tip.ID, err, resp)
					} else {
						resp.Body.Close()
					}
				}
			}()
		}
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("officers received %d distinct tips, want %d", len(got), n)
	}
	for body, agency := range want {
		if c := got[agency+"|"+body]; c != 1 {
			t.Errorf("%q reached %s %d times, want once", body, agency, c)
		}
	}
	for _, a := range []string{"pe-lima", "my-kl"} {
		cmd := exec.Command(bin, "audit", "verify", "--config", filepath.Join(dir, "gw1.yaml"), "--agency", a)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("audit verify %s: %v\n%s", a, err, out)
		}
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready", base)
}
