package deploy_test

import (
	"fmt"
	"regexp"
	"strings"
)

// secretPatterns look like real secrets. A match is allowed only if it is clearly a placeholder.
var secretPatterns = []struct {
	what string
	re   *regexp.Regexp
}{
	{"an age identity", regexp.MustCompile(`AGE-SECRET-KEY-[A-Z0-9-]*1[0-9A-Z]{20,}`)},
	{"an age plugin identity", regexp.MustCompile(`AGE-PLUGIN-[A-Z0-9-]+1[0-9A-Z]{20,}`)},
	{"a private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
	{"a complete age recipient (an example key left in would receive real tips)", regexp.MustCompile(`\bage1(pq1)?[02-9ac-hj-np-z]{58,}\b`)},
	{"a Twilio SID", regexp.MustCompile(`\b(AC|SK)[0-9a-f]{32}\b`)},
	{"a 32-hex token (Twilio auth token)", regexp.MustCompile(`\b[0-9a-fA-F]{32}\b`)},
	{"a 64-hex value (password hash, key)", regexp.MustCompile(`\b[0-9a-fA-F]{64}\b`)},
	{"a URL with a password", regexp.MustCompile(`[a-z]+://[^\s/:@]+:([^\s@/]+)@`)},
	{"an AWS key", regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`)},
	{"a long base64 string", regexp.MustCompile(`[A-Za-z0-9+/]{40,}={0,2}`)},
}

// looksRandom: random base64 mixes digits, upper and lower case; paths and words do not.
func looksRandom(s string) bool {
	return strings.ContainsAny(s, "0123456789") &&
		strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
		strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz")
}

func isPlaceholder(s string) bool {
	for _, p := range []string{"REPLACE", "PASSWORD", "%s", "$", "<", "..."} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func checkNoSecrets(fsys files) []string {
	var ps []string
	for name, b := range fsys {
		for i, line := range strings.Split(string(b), "\n") {
			for _, p := range secretPatterns {
				for _, m := range p.re.FindAllString(line, -1) {
					if isPlaceholder(m) {
						continue
					}
					if p.what == "a long base64 string" && !looksRandom(m) {
						continue // a path or a word, not random data
					}
					ps = append(ps, fmt.Sprintf("%s:%d: looks like %s; use a REPLACE placeholder", name, i+1, p.what))
				}
			}
		}
	}
	return ps
}
