package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue/queuetest"
)

// TestCanaryNothingIdentifyingInClear sends tips whose number, text, name
// and location are unique strings, drives them through every path (queued,
// duplicate, forged, oversized, claimed by an officer), then reads every key
// and value in Redis and every log line: none of the canaries may appear.
func TestCanaryNothingIdentifyingInClear(t *testing.T) {
	h := newHarness(t)
	b := make([]byte, 6)
	rand.Read(b)
	tag := hex.EncodeToString(b)
	digits := fmt.Sprintf("51%09d", 100000000+int(b[0])<<16|int(b[1])<<8|int(b[2]))
	number := "+" + digits
	text := "canarytext" + tag + " nos tienen encerrados"
	name := "CanaryName" + tag
	lat, lon := "-12.0"+digits[4:9], "-76.9"+digits[2:7]

	sms := smsForm("SMcanary"+tag, number, text)
	wa := smsForm("SMcanarywa"+tag, "whatsapp:"+number, text+" whatsapp")
	wa.Set("ProfileName", name)
	wa.Set("Latitude", lat)
	wa.Set("Longitude", lon)
	wa.Set("To", "whatsapp:+15005550006")
	var responses []string
	for _, c := range []struct {
		name   string
		status int
		send   func() (int, string)
	}{
		{"sms", 200, func() (int, string) { return h.postSMS(t, sms, addValidSignature) }},
		{"sms retry", 200, func() (int, string) { return h.postSMS(t, sms, addValidSignature) }},
		{"whatsapp", 200, func() (int, string) { return h.postSMS(t, wa, addValidSignature) }},
		{"forged", 403, func() (int, string) { return h.postSMS(t, smsForm("SMf"+tag, number, text), addInvalidSignature) }},
		{"oversized", 413, func() (int, string) {
			return h.postSMS(t, smsForm("SMo"+tag, number, text+strings.Repeat(" "+text, 3000)), addValidSignature)
		}},
	} {
		status, body := c.send()
		if status != c.status {
			t.Fatalf("%s: status %d, want %d", c.name, status, c.status)
		}
		responses = append(responses, body)
	}
	token := h.officer(t, "pe-lima")
	// One case: the SMS and the WhatsApp message of one number.
	s, body := h.api(t, "POST", "/api/v1/tips/claim", token, "{}")
	var claimed handlers.TipJSON
	if err := json.Unmarshal([]byte(body), &claimed); s != 200 || err != nil || len(claimed.Messages) != 2 {
		t.Fatalf("claim: %d %s", s, body)
	}
	responses = append(responses, body)
	for _, path := range []string{"/api/v1/tips", "/api/v1/cases/" + claimed.Case, "/api/v1/tips/" + claimed.Messages[1].ID} {
		s, body := h.api(t, "GET", path, token, "")
		if s != 200 {
			t.Fatalf("GET %s: %d %s", path, s, body)
		}
		responses = append(responses, body)
	}

	canaries := []string{number, digits, digits[2:], text, "canarytext" + tag, name, lat, lon, strings.ToLower(name)}
	dump := dumpRedis(t, h.Redis)
	if len(dump) < 200 {
		t.Fatalf("Redis dump is only %d bytes: the test is not reading what the gateway wrote", len(dump))
	}
	logs := h.Log.Bytes()
	if !bytes.Contains(logs, []byte("tip queued")) {
		t.Fatalf("no intake log lines captured: the test is not reading the gateway's logs")
	}
	assertNoCanaries(t, dump, logs, responses, canaries...)
}

// assertNoCanaries fails for each canary found in the Redis dump, the logs
// or one of the responses.
func assertNoCanaries(t *testing.T, dump, logs []byte, responses []string, canaries ...string) {
	t.Helper()
	for _, c := range canaries {
		if bytes.Contains(dump, []byte(c)) {
			t.Errorf("canary %q found in Redis", c)
		}
		if bytes.Contains(logs, []byte(c)) {
			t.Errorf("canary %q found in the logs", c)
		}
		for i, r := range responses {
			if strings.Contains(r, c) {
				t.Errorf("canary %q found in response %d", c, i)
			}
		}
	}
}

// dumpRedis returns every key and value of the database, of every type.
func dumpRedis(t *testing.T, r *queuetest.Redis) []byte {
	t.Helper()
	ctx := context.Background()
	var out bytes.Buffer
	iter := r.Admin.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		out.WriteString(k + "\n")
		switch r.Admin.Type(ctx, k).Val() {
		case "string":
			out.WriteString(r.Admin.Get(ctx, k).Val())
		case "hash":
			for f, v := range r.Admin.HGetAll(ctx, k).Val() {
				out.WriteString(f + "=" + v + "\n")
			}
		case "list":
			out.WriteString(strings.Join(r.Admin.LRange(ctx, k, 0, -1).Val(), "\n"))
		case "set":
			out.WriteString(strings.Join(r.Admin.SMembers(ctx, k).Val(), "\n"))
		case "zset":
			out.WriteString(strings.Join(r.Admin.ZRange(ctx, k, 0, -1).Val(), "\n"))
		case "stream":
			for _, m := range r.Admin.XRange(ctx, k, "-", "+").Val() {
				for f, v := range m.Values {
					fmt.Fprintf(&out, "%s %s=%v\n", m.ID, f, v)
				}
			}
			groups, _ := r.Admin.XInfoGroups(ctx, k).Result()
			for _, g := range groups {
				out.WriteString(g.Name + "\n")
				pend, _ := r.Admin.Do(ctx, "XPENDING", k, g.Name, "-", "+", 1000).Slice()
				for _, p := range pend {
					if e, ok := p.([]any); ok && len(e) >= 2 {
						fmt.Fprintf(&out, "%v %v\n", e[0], e[1]) // id, consumer
					}
				}
			}
		}
		out.WriteByte('\n')
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
