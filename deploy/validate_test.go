package deploy_test

// The real validators of the files that have one, besides redis-server (redis_test.go):
// systemd-analyze for the unit, caddy for the Caddyfile. Under CI=true each must be installed.

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/queue/queuetest"
)

// TestSystemdAnalyze runs systemd's own checks on the unit: `systemd-analyze verify` must
// accept it without a word (an unknown key or a bad value is only a warning there, so any
// output fails), and `systemd-analyze security --offline` must rate its exposure OK.
// The binary paths are pointed at an executable of the test's: verify checks that they exist.
func TestSystemdAnalyze(t *testing.T) {
	bin := queuetest.NeedProgram(t, "systemd-analyze")
	dir := t.TempDir()
	exe := filepath.Join(dir, "hotline")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(dir, "hotline.service")
	writeFile(t, unit, strings.ReplaceAll(string(readFile(t, "systemd/hotline.service")), "/usr/local/bin/hotline", exe))
	run := func(args ...string) string {
		t.Helper()
		out, err := runTool(bin, nil, args...)
		if err != nil {
			t.Errorf("systemd-analyze %s: %v\n%s", args[0], err, out)
		}
		return out
	}
	if out := run("verify", "--man=no", unit); strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify systemd/hotline.service:\n%s", out)
	}
	out := run("security", "--offline=true", "--no-pager", unit)
	m := regexp.MustCompile(`Overall exposure level for hotline.service: ([0-9.]+) (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security printed no exposure level:\n%s", out)
	}
	if level, err := strconv.ParseFloat(m[1], 64); err != nil || level > 2 || m[2] != "OK" {
		t.Errorf("systemd-analyze security: exposure %s %s, want OK at 2.0 or below (it was 1.4)\n%s", m[1], m[2], out)
	}
}

// TestCaddyValidates runs Caddy's own validation on the Caddyfile (the command its header
// suggests): it must adapt and provision without a warning.
func TestCaddyValidates(t *testing.T) {
	bin := queuetest.NeedProgram(t, "caddy")
	home := t.TempDir()
	// Caddy keeps its state under HOME and XDG_*: the test's own, never the machine's.
	out, err := runTool(bin, []string{"HOTLINE_DOMAIN=hotline.example.org", "HOME=" + home,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config")},
		"validate", "--config", "Caddyfile", "--adapter", "caddyfile")
	if err != nil || !strings.Contains(out, "Valid configuration") {
		t.Fatalf("caddy validate deploy/Caddyfile: %v\n%s", err, out)
	}
	if strings.Contains(out, `"level":"warn"`) {
		t.Errorf("caddy validate deploy/Caddyfile warns:\n%s", out)
	}
}
