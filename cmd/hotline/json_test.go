package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/cmd/internal/golden"
	"github.com/hotline-org/hotline/queue/officer"
)

// TestJSONGolden (issue 14): the --json shapes of the operator commands
// (officer list, add, revoke; audit verify; keygen; check-config; simulate; probe), compared with
// testdata/golden/*.json (-update rewrites them): snake_case fields, never
// Go field names, and an empty list is [] not null. Those of triage are in
// cmd/internal/triage.
func TestJSONGolden(t *testing.T) {
	created := time.Date(2026, 3, 1, 4, 5, 6, 0, time.UTC)
	ana := officer.Officer{ID: "of1", Agency: "pe-lima", Name: "Ana", Role: "officer", Created: created}
	bo := officer.Officer{ID: "of2", Agency: "pe-lima", Name: "Bo", Role: "supervisor", Created: created, Revoked: true,
		LastUsed: time.Date(2026, 3, 2, 23, 59, 0, 0, time.UTC)}
	shapes := map[string]any{
		"officer_list":       officersJSON([]officer.Officer{ana, bo}),
		"officer_list_empty": officersJSON(nil),
		"officer_add":        addedJSON{officerOf(ana), "hlo_example"},
		"officer_revoke":     revokedJSON{ID: "of1", Revoked: true},
		"audit_verify":       auditJSON{Agency: "pe-lima", Entries: 42, Intact: true},
		"keygen":             keygenJSON{Recipient: "age1example", Kind: "post-quantum", File: "agency.key"},
		"check_config": checkJSON{OK: false, Problems: []checkProblem{{Level: "error", Field: "redis.url", Message: "missing", Fix: "set redis.url"},
			{Level: "warning", Field: "regions", Message: "region lima has no agency"}}},
		"check_config_ok":    checkJSON{OK: true, Problems: []checkProblem{}},
		"simulate_sms":       simulatedSMS{SID: "SM00", Status: 200, Replies: []string{"Gracias. Recibimos su mensaje."}},
		"simulate_sms_quiet": simulatedSMS{SID: "SM00", Status: 200, Replies: []string{}},
		"simulate_call": simulatedCall{SID: "CA00", Steps: []callStep{{Path: "/twilio/voice", Status: 200, Say: []string{"Press 9"}},
			{Path: "/twilio/voice/choice", Status: 200, Say: []string{}}}, Record: &callRecord{MaxLength: "120", Callback: "https://h.example/twilio/voice/recording"}},
		"simulate_recording": simulatedRecording{SID: "RE00", Status: 204},
		"probe":              probeJSON{Ready: true, URL: "http://127.0.0.1:8080/readyz"},
	}
	for name, v := range shapes {
		var out bytes.Buffer
		if err := writeJSON(&out, v, false); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, name, out.Bytes())
	}
}

// TestKeygenOut: keygen --out - writes the identity to stdout and its
// recipient to stderr; --out FILE makes a 0600 file, never over an existing
// one; --json prints the recipient, never the identity.
func TestKeygenOut(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keygen", "--x25519", "--out", "-"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("keygen --out - = %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "AGE-SECRET-KEY-1") || strings.Contains(errOut.String(), "AGE-SECRET-KEY") {
		t.Fatalf("the identity belongs on stdout only:\nstdout %q\nstderr %q", out.String(), errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if rcpt := lines[len(lines)-1]; !strings.HasPrefix(rcpt, "age1") || !strings.Contains(out.String(), "# public key: "+rcpt) {
		t.Fatalf("stderr does not end with the identity's recipient: %q", errOut.String())
	}
	path := filepath.Join(t.TempDir(), "agency.key")
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"keygen", "--x25519", "--out", path, "--json"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("keygen --json = %d: %s", code, errOut.String())
	}
	var k keygenJSON
	if err := json.Unmarshal(out.Bytes(), &k); err != nil || !strings.HasPrefix(k.Recipient, "age1") || k.Kind != "x25519" || k.File != path || strings.Contains(out.String(), "SECRET") {
		t.Fatalf("keygen --json: %s (%v)", out.String(), err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v, %v", st, err)
	}
	before, _ := os.ReadFile(path)
	errOut.Reset()
	if code := run(context.Background(), []string{"keygen", "--out", path}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "already exists") {
		t.Fatalf("keygen over an existing file = %d: %s", code, errOut.String())
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("keygen changed an existing identity file")
	}
	if code := run(context.Background(), []string{"keygen", "--out", "-", "--json"}, nil, &out, &errOut); code != 2 {
		t.Fatalf("keygen --out - --json = %d, want 2", code)
	}
}
