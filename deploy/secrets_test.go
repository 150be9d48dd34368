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

var secretsMutations = []mutation{
	{"no secrets", "README.md", "## Files", "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS\n## Files"},
	{"no secrets", "hotline.example.yaml", "api_url:", "api_key: 0123456789abcdef0123456789abcdef\n  api_url:"},
	{"no secrets", "THREAT-MODEL.md", "## Out of scope", "redis://hotline:s3cretpassw0rd@redis:6379/0\n## Out of scope"},
	{"no secrets", "k8s/configmap.yaml", "# The gateway's", "# -----BEGIN OPENSSH PRIVATE KEY-----\n# The gateway's"},
	{"no secrets", "hotline.example.yaml", "age1pq1...REPLACE-with-the-backup-recipient", "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"},
	{"no secrets", "redis/users.acl", "#REPLACE_WITH_SHA256_OF_THE_REDIS_PASSWORD", "#9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
}
