package triage

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/handlers/officerapi"
	"github.com/hotline-org/hotline/queue"
)

// pluginIdentity is the identity of a hardware key whose plugin
// (age-plugin-hotlinenone) is not installed: its recipient cannot be
// derived, and it opens nothing.
const pluginIdentity = "AGE-PLUGIN-HOTLINENONE-1XQCNYVE5X5MRWWPEV93XXER9VCCRZV3NXS6NVDEC89SKYCMYV4NQDGGF3R"

// TestNextWithPluginIdentityReleasesAtOnce (issue 11, point 4): with an
// identity whose recipient cannot be checked and that does not open the
// tip, the CLI releases it at once (audited) and says so: the tip is
// waiting again, not held for a lease.
func TestNextWithPluginIdentityReleasesAtOnce(t *testing.T) {
	ctx := context.Background()
	st := newOfficerStack(t)
	s, srv, tok, limaPath := st.Stack, st.srv, st.token, st.identity
	pluginPath := filepath.Join(t.TempDir(), "yubikey.txt")
	if err := os.WriteFile(pluginPath, []byte(pluginIdentity+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: "nos van a mover", Urgent: true}); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	next := func(path string) error {
		ids, err := seal.LoadIdentities(path, &errOut, "hotline: ")
		if err != nil {
			t.Fatal(err)
		}
		tr := &Terminal{Ctx: ctx, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Client: officerapi.New(srv.URL, tok, nil), IdentityPath: path}
		return tr.Explain(tr.NextWith(ids))
	}
	err := next(pluginPath)
	if err == nil || !strings.Contains(err.Error(), "identity "+pluginPath+" cannot open it") || !strings.Contains(err.Error(), "released back to the queue") {
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
	if err := next(limaPath); err != nil || !strings.Contains(out.String(), "nos van a mover") {
		t.Fatalf("next with the right key: %v\n%s", err, out.String())
	}
}
