package main

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

func TestRunUsage(t *testing.T) {
	type usageCase struct {
		args   []string
		code   int
		stderr string
		stdout string
	}
	tests := []usageCase{
		{nil, 2, "", "usage:"},
		{[]string{"--help"}, 0, "", "hotline serve"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`, ""},
		{[]string{"serve"}, 2, "usage: hotline serve", ""},
		{[]string{"keygen"}, 2, "usage: hotline keygen", ""},
		{[]string{"triage"}, 2, "usage: hotline triage", ""},
		{[]string{"triage", "next"}, 2, "--server and --token are needed", ""},
		{[]string{"officer", "fire"}, 2, "unknown officer command", ""},
		{[]string{"serve", "--config", "/nonexistent/hotline.yaml"}, 1, "hint: run `hotline check-config", ""},
		{[]string{"check-config", "--config", "/nonexistent/hotline.yaml"}, 1, "failed to open config", ""},
	}
	// Help is an answer: on stdout, exit 0, for every command and verb
	// (DESIGN: `hotline VERB --help` and `hotline triage VERB --help`).
	for _, cmd := range [][]string{{"serve"}, {"demo"}, {"check-config"}, {"keygen"}, {"probe"}, {"officer"},
		{"officer", "add"}, {"officer", "list"}, {"officer", "revoke"}, {"audit"}, {"audit", "verify"},
		{"simulate"}, {"simulate", "sms"}, {"simulate", "call"}, {"simulate", "recording"}, {"triage"}, {"triage", "next"}, {"triage", "list"}, {"triage", "show"},
		{"triage", "ack"}, {"triage", "release"}, {"triage", "renew"}, {"triage", "escalate"}, {"triage", "transfer"},
		{"triage", "note"}, {"triage", "reply"}, {"triage", "watch"}} {
		for _, h := range []string{"--help", "-h"} {
			tests = append(tests, usageCase{append(slices.Clone(cmd), h), 0, "", "usage: hotline " + strings.Join(cmd, " ")})
		}
	}
	tests = append(tests, usageCase{[]string{"--version"}, 0, "", "hotline "},
		usageCase{[]string{"audit", "list"}, 2, `unknown audit command "list"`, ""},
		// A tip id where none is taken is refused, not ignored; a missing
		// one is named before the server is asked for.
		usageCase{[]string{"triage", "list", "abc123"}, 2, "triage list takes no tip id", ""},
		usageCase{[]string{"triage", "next", "abc123", "def456"}, 2, "triage next takes at most one tip id", ""},
		usageCase{[]string{"triage", "ack", "--disposition", "dispatched"}, 2, "triage ack needs one tip id", ""},
		// A flag of another verb is not taken (issue 14: per-verb flags).
		usageCase{[]string{"triage", "list", "--disposition", "dispatched"}, 2, "not defined: -disposition", ""},
		usageCase{[]string{"help", "triage", "ack"}, 0, "", "usage: hotline triage ack ID"},
		usageCase{[]string{"triage", "frob"}, 2, `unknown triage command "frob"`, ""},
		usageCase{[]string{"triage", "show", "--help"}, 0, "", "usage: hotline triage show ID --server"})
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tt.args, nil, &out, &errOut)
		if code != tt.code || !strings.Contains(errOut.String(), tt.stderr) || !strings.Contains(out.String(), tt.stdout) {
			t.Errorf("run(%q) = %d\nstdout: %s\nstderr: %s\nwant %d, stderr with %q, stdout with %q",
				tt.args, code, out.String(), errOut.String(), tt.code, tt.stderr, tt.stdout)
		}
		if code == 0 && errOut.Len() > 0 {
			t.Errorf("run(%q) answered with %q on stderr", tt.args, errOut.String())
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
