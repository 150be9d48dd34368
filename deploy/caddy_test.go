package deploy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

type caddyLine struct {
	site   string // header of the top-level block ("" for the global options block)
	tokens []string
}

// parseCaddyfile returns every directive line with the top-level block it belongs to.
func parseCaddyfile(b []byte) []caddyLine {
	var out []caddyLine
	depth, site := 0, ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "#"); i == 0 || (i > 0 && line[i-1] == ' ') {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		opens := strings.HasSuffix(line, "{")
		header := strings.TrimSpace(strings.TrimSuffix(line, "{"))
		if depth == 0 && opens {
			site = header
		}
		if header != "" && header != "}" {
			out = append(out, caddyLine{site, strings.Fields(header)})
		}
		if opens {
			depth++
		}
		if line == "}" {
			depth--
		}
	}
	return out
}

// envDefault is a Caddyfile environment placeholder with a default: {$NAME:default}.
var envDefault = regexp.MustCompile(`\{\$[A-Z0-9_]+:([^}]*)\}`)

func checkCaddyfile(fsys files) []string {
	lines := parseCaddyfile(fsys["Caddyfile"])
	var ps []string
	add := func(format string, a ...any) { ps = append(ps, "Caddyfile: "+fmt.Sprintf(format, a...)) }
	has := func(pred func(caddyLine) bool) bool { return slices.ContainsFunc(lines, pred) }
	filtered := map[string]bool{}
	for _, l := range lines {
		switch l.tokens[0] {
		case "log":
			if l.site != "" {
				add("%q has a log directive: access logs would record who reported", l.site)
			}
		case "rewrite", "uri", "handle_path", "encode":
			add("%s in %q: the URI must reach the gateway unchanged (Twilio signs it), and no compression (BREACH)", l.tokens[0], l.site)
		}
		if len(l.tokens) == 2 && l.tokens[1] == "delete" && l.site == "" {
			filtered[l.tokens[0]] = true
		}
	}
	for _, f := range []string{"request>remote_ip", "request>client_ip", "request>remote_port", "request>uri", "request>headers"} {
		if !filtered[f] {
			add("the global log must delete %s", f)
		}
	}
	hsts := regexp.MustCompile(`max-age=(\d+)`)
	type rule struct {
		what string
		ok   bool
	}
	rules := []rule{
		{"request_body max_size", has(func(l caddyLine) bool { return l.tokens[0] == "max_size" })},
		{"Strict-Transport-Security with max-age of a year or more", has(func(l caddyLine) bool {
			m := hsts.FindStringSubmatch(strings.Join(l.tokens, " "))
			if l.tokens[0] != "Strict-Transport-Security" || m == nil {
				return false
			}
			n, _ := strconv.Atoi(m[1])
			return n >= 31536000
		})},
		{"reverse_proxy to hotline-1:8080 and hotline-2:8080 (by default)", has(func(l caddyLine) bool {
			// {$HOTLINE_UPSTREAMS:a b}: Caddy puts the default's tokens in place when unset.
			tokens := strings.Fields(envDefault.ReplaceAllString(strings.Join(l.tokens, " "), "$1"))
			return tokens[0] == "reverse_proxy" && slices.Contains(tokens, "hotline-1:8080") && slices.Contains(tokens, "hotline-2:8080")
		})},
		{"health_uri /readyz", has(func(l caddyLine) bool { return slices.Equal(l.tokens, []string{"health_uri", "/readyz"}) })},
		{"/metrics kept off the internet", has(func(l caddyLine) bool {
			return l.tokens[0] == "@internal" && slices.Contains(l.tokens, "/metrics")
		}) && has(func(l caddyLine) bool { return slices.Equal(l.tokens, []string{"respond", "@internal", "404"}) })},
	}
	for _, t := range []string{"read_header", "read_body", "write", "idle", "dial_timeout", "response_header_timeout"} {
		rules = append(rules, rule{t + " timeout", has(func(l caddyLine) bool { return l.tokens[0] == t && len(l.tokens) == 2 })})
	}
	for _, r := range rules {
		if !r.ok {
			add("want %s", r.what)
		}
	}
	return ps
}
