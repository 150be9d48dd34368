package main

import (
	"strings"
	"testing"
)

// TestPrivateServer: the CLI sends the officer's token only over https,
// or over http to this machine or an onion address.
func TestPrivateServer(t *testing.T) {
	for server, ok := range map[string]bool{
		"https://hotline.example.org":          true,
		"https://10.0.0.5:8443/":               true,
		"http://127.0.0.1:8080":                true,
		"http://localhost:8080":                true,
		"http://[::1]:8080":                    true,
		"http://exampleonionaddressxyz.onion":  true,
		"http://hotline.example.org":           false,
		"http://10.0.0.5:8080":                 false,
		"http://127.0.0.1.example.org":         false,
		"ftp://hotline.example.org":            false,
		"hotline.example.org":                  false,
		"http://":                              false,
		"http://hotline.example.org\x1b[2J:80": false,
	} {
		if err := privateServer(server); (err == nil) != ok {
			t.Errorf("%q: %v, want allowed %v", server, err, ok)
		} else if err != nil && strings.ContainsRune(err.Error(), 0x1b) {
			t.Errorf("%q: the refusal prints an escape: %q", server, err)
		}
	}
}
