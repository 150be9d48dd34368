package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
)

// pluginLike is an identity whose recipient cannot be derived, as with a
// hardware key behind an age plugin; this one opens nothing.
type pluginLike struct{}

func (pluginLike) Unwrap([]*age.Stanza) ([]byte, error) { return nil, age.ErrIncorrectIdentity }

func TestMatchRecipients(t *testing.T) {
	x, _ := age.GenerateX25519Identity()
	pq, _ := age.GenerateHybridIdentity()
	other, _ := age.GenerateX25519Identity()
	agency := []string{x.Recipient().String(), pq.Recipient().String()}
	for _, c := range []struct {
		name             string
		ids              []age.Identity
		checked, matches bool
	}{
		{"x25519", []age.Identity{x}, true, true},
		{"hybrid", []age.Identity{pq}, true, true},
		{"wrong", []age.Identity{other}, true, false},
		{"wrong and right", []age.Identity{other, x}, true, true},
		{"plugin", []age.Identity{pluginLike{}}, false, false},
		{"plugin and right", []age.Identity{pluginLike{}, pq}, true, true},
	} {
		if checked, matches := matchRecipients(c.ids, agency); checked != c.checked || matches != c.matches {
			t.Errorf("%s: checked %v matches %v, want %v %v", c.name, checked, matches, c.checked, c.matches)
		}
	}
}

// TestNextWithPluginIdentityReleasesAtOnce (issue 11, point 4): with an
// identity whose recipient cannot be checked and that does not open the
// tip, the CLI releases it at once (audited) and says so: the tip is
// waiting again, not held for a lease.
func TestNextWithPluginIdentityReleasesAtOnce(t *testing.T) {
	s := gatewaytest.New(t)
	ctx := context.Background()
	lima := s.Identities[gatewaytest.Lima].(*age.X25519Identity)
	srv := httptest.NewServer(handlers.New(handlers.Options{Intake: s.Intake, Triage: s.Queue, Officers: officer.New(s.Queue), Logger: s.Logger,
		Agencies: []handlers.AgencyInfo{{ID: gatewaytest.Lima, Recipients: []string{lima.Recipient().String()}}}}))
	t.Cleanup(srv.Close)
	tok, _, err := officer.New(s.Queue).Add(ctx, gatewaytest.Lima, "Ana", officer.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: "nos van a mover", Urgent: true}); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	e := &env{ctx: ctx, stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(string) string { return "" }}
	c := &triageClient{server: srv.URL, token: tok, http: &http.Client{}}
	err = nextWith(e, c, []age.Identity{pluginLike{}}, "yubikey.txt", false)
	if err == nil || !strings.Contains(err.Error(), "identity yubikey.txt cannot open it") || !strings.Contains(err.Error(), "released back to the queue") {
		t.Fatalf("next with a plugin identity that does not open the tip: %v", err)
	}
	list, err := s.Queue.List(ctx, gatewaytest.Lima, 0)
	if err != nil || len(list) != 1 || list[0].State != queue.StateWaiting {
		t.Fatalf("after the failed open: %+v, %v", list, err)
	}
	log, _ := s.Queue.AuditLog(ctx, gatewaytest.Lima, "", 100)
	if n := len(log); n < 2 || log[n-1].Action != queue.AuditRelease || log[n-2].Action != queue.AuditClaim {
		t.Fatalf("audit trail ends with %+v", log)
	}
	// The right key opens it at once.
	out.Reset()
	if err := nextWith(e, c, []age.Identity{lima}, "lima.key", false); err != nil || !strings.Contains(out.String(), "nos van a mover") {
		t.Fatalf("next with the right key: %v\n%s", err, out.String())
	}
}
