package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
		stdout string
	}{
		{nil, 2, "", "usage:"},
		{[]string{"--help"}, 0, "", "hotline serve"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`, ""},
		{[]string{"serve"}, 2, "usage: hotline serve", ""},
		{[]string{"keygen"}, 2, "usage: hotline keygen", ""},
		{[]string{"triage"}, 2, "usage: hotline triage", ""},
		{[]string{"triage", "next"}, 1, "--server and --token are needed", ""},
		{[]string{"officer", "fire"}, 2, "unknown officer command", ""},
		{[]string{"serve", "--config", "/nonexistent/hotline.yaml"}, 1, "hint: run `hotline check-config", ""},
		{[]string{"check-config", "--config", "/nonexistent/hotline.yaml"}, 1, "failed to open config", ""},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tt.args, nil, &out, &errOut)
		if code != tt.code || !strings.Contains(errOut.String(), tt.stderr) || !strings.Contains(out.String(), tt.stdout) {
			t.Errorf("run(%q) = %d\nstdout: %s\nstderr: %s\nwant %d, stderr with %q, stdout with %q",
				tt.args, code, out.String(), errOut.String(), tt.code, tt.stderr, tt.stdout)
		}
	}
}

func TestLoggerDropsPersonalKeys(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, "json", "debug")
	log.Info("x", "from", "+51987654321", "body", "secret text", "ip", "203.0.113.9", "Token", "hlo_x",
		slog.Group("req", "remote_addr", "203.0.113.9"), "tip", "abc", "agency", "pe-lima")
	out := buf.String()
	for _, bad := range []string{"+51987654321", "secret text", "203.0.113.9", "hlo_x"} {
		if strings.Contains(out, bad) {
			t.Errorf("log line carries %q: %s", bad, out)
		}
	}
	for _, good := range []string{`"tip":"abc"`, `"agency":"pe-lima"`} {
		if !strings.Contains(out, good) {
			t.Errorf("log line lost %s: %s", good, out)
		}
	}
}
