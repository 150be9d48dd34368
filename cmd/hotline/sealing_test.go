package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/config"
)

// TestSealingLogSaysTheKind: the startup log names the kind of each agency's
// recipients; post-quantum agencies are never reported as X25519.
func TestSealingLogSaysTheKind(t *testing.T) {
	recipients := func(x25519 bool) *seal.Recipients {
		g, err := seal.Generate(x25519)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := seal.ParseRecipients([]string{g.Recipient})
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	c := &config.Config{}
	c.Agencies = append(c.Agencies, config.Agency{ID: "pe-lima"}, config.Agency{ID: "my-kl"})
	k := seal.NewKeyring(map[string]*seal.Recipients{"pe-lima": recipients(false), "my-kl": recipients(true)})
	var buf bytes.Buffer
	logSealing(slog.New(slog.NewJSONHandler(&buf, nil)), c, k)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a line per agency, got:\n%s", buf.String())
	}
	for i, want := range []string{`"agency":"pe-lima","kind":"post-quantum"`, `"agency":"my-kl","kind":"x25519"`} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d: want %s in\n%s", i, want, lines[i])
		}
	}
	if strings.Contains(lines[0], "X25519 recipients") || strings.Contains(lines[0], "crypto/x25519") {
		t.Errorf("a post-quantum agency reported as X25519:\n%s", lines[0])
	}
}
