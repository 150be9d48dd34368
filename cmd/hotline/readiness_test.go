package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// startRedisWithShippedACL starts a redis-server whose users are those of
// deploy/redis/users.acl (a password filled in), plus an administrator for
// the test. It returns the hotline user's URL and the administrator's client.
func startRedisWithShippedACL(t *testing.T) (string, *redis.Client) {
	t.Helper()
	acl, err := os.ReadFile("../../deploy/redis/users.acl")
	if err != nil {
		t.Fatal(err)
	}
	const password, adminPassword = "readiness-test-password", "readiness-admin-password"
	sum := sha256.Sum256([]byte(password))
	text := strings.Replace(string(acl), "#REPLACE_WITH_SHA256_OF_THE_REDIS_PASSWORD", "#"+hex.EncodeToString(sum[:]), 1)
	text += "user testadmin on >" + adminPassword + " ~* &* +@all\n"
	aclPath := filepath.Join(t.TempDir(), "users.acl")
	if err := os.WriteFile(aclPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := queuetest.NewServer(t, "--save", "", "--appendonly", "no", "--aclfile", aclPath)
	srv.Start()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr, Username: "testadmin",
		Password: adminPassword, DisableIdentity: true})
	t.Cleanup(func() { admin.Close() })
	return fmt.Sprintf("redis://hotline:%s@%s/0", password, srv.Addr), admin
}

// waitFor polls cond until it holds or d has passed.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestSpoolRefusedFailsReadiness: under the shipped ACL, when Redis refuses
// the gateway's writes for good (here the ACL loses HSETNX, which the publish
// script runs, as the shipped ACL once did; Redis is full, OOM; a key the script
// writes holds another type, WRONGTYPE; Redis lost the scripts and the gateway may
// not send them again), a tip is still taken (it is spooled), but /readyz fails within seconds, the metrics show the stuck
// spool and the age of its oldest tip, and the log says how to fix it. Once
// Redis accepts the writes again, the spool drains and /readyz recovers.
func TestSpoolRefusedFailsReadiness(t *testing.T) {
	redisURL, admin := startRedisWithShippedACL(t)
	t.Setenv("HOTLINE_PEPPER", faultPepper)
	t.Setenv("TWILIO_AUTH_TOKEN", faultToken)
	t.Setenv("REDIS_URL", redisURL)
	port := queuetest.FreePort(t)
	c := loadFaultConfig(t, port, queuetest.FreePort(t), redisURL, "hl", "")
	rdb, err := newRedis(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() }) // after the durability stops
	logs := &queuetest.SyncBuffer{}
	parts := wireDurable(t, c, rdb, slog.New(slog.NewJSONHandler(logs, nil)))
	ctx := context.Background()

	readyz := func() int {
		rec := httptest.NewRecorder()
		parts.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code
	}
	metric := func(name string) float64 {
		rec := httptest.NewRecorder()
		parts.dur.metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		for _, l := range strings.Split(rec.Body.String(), "\n") {
			if v, ok := strings.CutPrefix(l, name+" "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				return f
			}
		}
		return -1
	}
	public := fmt.Sprintf("http://127.0.0.1:%d", port)
	sms := func(n int) int {
		sid := fmt.Sprintf("SM%032x", n)
		form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
			"From": {fmt.Sprintf("+5198%07d", n)}, "To": {faultNumber}, "Body": {"somos muchos en una casa"}, "NumMedia": {"0"}}
		rec := httptest.NewRecorder()
		parts.handler.ServeHTTP(rec, signedSMS([]byte(faultToken), public, form))
		io.Copy(io.Discard, rec.Body)
		return rec.Code
	}
	queued := func() int64 {
		return admin.XLen(ctx, "hl:{pe-lima}:tips:normal").Val() + admin.XLen(ctx, "hl:{pe-lima}:tips:urgent").Val()
	}

	if code := readyz(); code != http.StatusOK {
		t.Fatalf("/readyz under the shipped ACL: %d, want 200\n%s", code, logs.String())
	}
	if code := sms(1); code != http.StatusOK || queued() != 1 {
		t.Fatalf("first tip: %d, %d queued; want 200 and 1\n%s", code, queued(), logs.String())
	}

	do := func(t *testing.T, cmds [][]any) {
		t.Helper()
		for _, c := range cmds {
			if err := admin.Do(ctx, c...).Err(); err != nil {
				t.Fatalf("%v: %v", c, err)
			}
		}
	}
	// A Redis that restarts (or whose scripts are flushed) forgets the gateway's scripts: the
	// next call gets NOSCRIPT, and the gateway sends the script again. That passes by itself:
	// the tip reaches Redis at once and the gateway stays ready.
	t.Run("NOSCRIPT after a reload", func(t *testing.T) {
		before := queued()
		do(t, [][]any{{"SCRIPT", "FLUSH"}})
		if code := sms(50); code != http.StatusOK || queued() != before+1 {
			t.Fatalf("tip after SCRIPT FLUSH: %d, %d queued; want 200 and %d", code, queued(), before+1)
		}
		if code := readyz(); code != http.StatusOK {
			t.Fatalf("/readyz after SCRIPT FLUSH: %d, want 200", code)
		}
	})

	const meta = "hl:{pe-lima}:meta"
	for i, c := range []struct {
		name           string
		refuse, accept [][]any
		reason, hint   string
	}{
		// The ACL loses a command of the publish script, as the shipped ACL once lacked it.
		{"NOPERM", [][]any{{"ACL", "SETUSER", "hotline", "-hsetnx"}}, [][]any{{"ACL", "SETUSER", "hotline", "+hsetnx"}}, "noperm", "users.acl"},
		// Redis is full (maxmemory with noeviction).
		{"OOM", [][]any{{"CONFIG", "SET", "maxmemory", "1"}}, [][]any{{"CONFIG", "SET", "maxmemory", "0"}}, "oom", "maxmemory"},
		// A key the publish script writes holds another type (another program shares the prefix).
		{"WRONGTYPE", [][]any{{"RENAME", meta, meta + ":aside"}, {"SET", meta, "not a hash"}},
			[][]any{{"DEL", meta}, {"RENAME", meta + ":aside", meta}}, "wrongtype", "prefix of its own"},
		// Redis restarted without the scripts, and the gateway may not send them again (EVAL is not
		// granted): NOSCRIPT, then NOPERM for EVAL. It will not pass by itself.
		{"NOSCRIPT without EVAL", [][]any{{"ACL", "SETUSER", "hotline", "-eval"}, {"SCRIPT", "FLUSH"}},
			[][]any{{"ACL", "SETUSER", "hotline", "+eval"}}, "noperm", "users.acl"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stuck := `hotline_spool_stuck{refusal="` + c.reason + `"}`
			before := queued()
			logged := len(logs.String())
			do(t, c.refuse)
			if code := sms(2 + i); code != http.StatusOK {
				t.Fatalf("tip while Redis refuses: %d, want 200 (spooled)", code)
			}
			refusedAt := time.Now()
			waitFor(t, 5*time.Second, "/readyz to fail", func() bool { return readyz() == http.StatusServiceUnavailable })
			t.Logf("/readyz failed %v after the refusal", time.Since(refusedAt).Round(time.Millisecond))
			if v := metric(stuck); v != 1 {
				t.Errorf("%s = %v, want 1", stuck, v)
			}
			if v := metric("hotline_spool_records"); v != 1 {
				t.Errorf("hotline_spool_records = %v, want 1", v)
			}
			waitFor(t, 5*time.Second, "hotline_spool_oldest_seconds to grow", func() bool { return metric("hotline_spool_oldest_seconds") > 0 })
			out := logs.String()[logged:]
			if !strings.Contains(out, `"level":"ERROR"`) || !strings.Contains(out, `"reason":"`+c.reason+`"`) || !strings.Contains(out, c.hint) {
				t.Errorf("no error with a hint in the log:\n%s", out)
			}
			if queued() != before {
				t.Errorf("%d tips queued while Redis refuses, want %d", queued(), before)
			}

			// Redis accepts the writes again: the spool drains and the gateway is ready.
			do(t, c.accept)
			waitFor(t, 5*time.Second, "/readyz to recover", func() bool { return readyz() == http.StatusOK })
			waitFor(t, 5*time.Second, "the spooled tip to reach Redis", func() bool { return queued() == before+1 })
			if v := metric(stuck); v != 0 {
				t.Errorf("%s = %v after recovery, want 0", stuck, v)
			}
			if v := metric("hotline_spool_oldest_seconds"); v != 0 {
				t.Errorf("hotline_spool_oldest_seconds = %v after the spool drained, want 0", v)
			}
		})
	}
}
