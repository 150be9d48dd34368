package deploy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
)

// parseUnit reads an INI-style systemd unit: section -> key -> values (keys may repeat).
func parseUnit(b []byte) map[string]map[string][]string {
	u := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if ok && section != "" {
				k = strings.TrimSpace(k)
				u[section][k] = append(u[section][k], strings.TrimSpace(v))
			}
		}
	}
	return u
}

func equals(want string) func([]string) bool {
	return func(v []string) bool { return len(v) > 0 && v[len(v)-1] == want }
}

func containsAll(want ...string) func([]string) bool {
	return func(v []string) bool {
		var all []string
		for _, x := range v {
			all = append(all, strings.Fields(x)...)
		}
		for _, w := range want {
			if !slices.Contains(all, w) {
				return false
			}
		}
		return true
	}
}

func atLeast(d time.Duration) func([]string) bool {
	return func(v []string) bool {
		got, err := time.ParseDuration(last(v))
		return err == nil && got >= d
	}
}

var systemdWant = []struct {
	section, key, want string
	ok                 func([]string) bool
}{
	{"Service", "DynamicUser", "yes", equals("yes")},
	{"Service", "StateDirectory", "hotline (the spool)", equals("hotline")},
	{"Service", "ProtectSystem", "strict", equals("strict")},
	{"Service", "ProtectHome", "yes", equals("yes")},
	{"Service", "PrivateTmp", "yes", equals("yes")},
	{"Service", "PrivateDevices", "yes", equals("yes")},
	{"Service", "NoNewPrivileges", "yes", equals("yes")},
	{"Service", "CapabilityBoundingSet", "empty (no capabilities)", equals("")},
	{"Service", "RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX", equals("AF_INET AF_INET6 AF_UNIX")},
	{"Service", "RestrictNamespaces", "yes", equals("yes")},
	{"Service", "LockPersonality", "yes", equals("yes")},
	{"Service", "MemoryDenyWriteExecute", "yes", equals("yes")},
	{"Service", "SystemCallFilter", "@system-service", containsAll("@system-service")},
	{"Service", "SystemCallArchitectures", "native", equals("native")},
	{"Service", "ProtectKernelTunables", "yes", equals("yes")},
	{"Service", "ProtectKernelModules", "yes", equals("yes")},
	{"Service", "ProtectKernelLogs", "yes", equals("yes")},
	{"Service", "ProtectControlGroups", "yes", equals("yes")},
	{"Service", "ProtectClock", "yes", equals("yes")},
	{"Service", "ProtectHostname", "yes", equals("yes")},
	{"Service", "RestrictRealtime", "yes", equals("yes")},
	{"Service", "RestrictSUIDSGID", "yes", equals("yes")},
	{"Service", "UMask", "0077", equals("0077")},
	{"Service", "LoadCredential", "pepper and twilio_auth_token", func(v []string) bool {
		return slices.ContainsFunc(v, func(s string) bool { return strings.HasPrefix(s, "pepper:") }) &&
			slices.ContainsFunc(v, func(s string) bool { return strings.HasPrefix(s, "twilio_auth_token:") })
	}},
	{"Service", "Restart", "on-failure", equals("on-failure")},
	{"Service", "TimeoutStopSec", "at least 30s for the drain", atLeast(30 * time.Second)},
	{"Service", "ExecStart", "hotline serve --config", func(v []string) bool {
		return strings.Contains(last(v), "hotline serve --config ")
	}},
}

func checkSystemd(fsys files) []string {
	u := parseUnit(fsys["systemd/hotline.service"])
	var ps []string
	for _, w := range systemdWant {
		v, present := u[w.section][w.key]
		if !present || !w.ok(v) {
			ps = append(ps, fmt.Sprintf("systemd/hotline.service: want [%s] %s=%s, got %q", w.section, w.key, w.want, v))
		}
	}
	for _, k := range []string{"User", "AmbientCapabilities"} {
		if v := last(u["Service"][k]); v != "" && (k != "User" || v == "root" || v == "0") {
			ps = append(ps, fmt.Sprintf("systemd/hotline.service: %s=%s grants too much", k, v))
		}
	}
	return ps
}
