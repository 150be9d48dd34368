package triage

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/handlers/officerapi"
	"github.com/hotline-org/hotline/queue/officer"
)

// TestShowSaveMedia: `triage show ID --save-media DIR` writes each media
// item of the decrypted tip (a recording, a photo) byte-identical into DIR
// under a generated name (never one of the reporter's), mode 0600, without
// overwriting a file there; an item the gateway could not fetch is named,
// not written; the terminal gets no raw bytes.
func TestShowSaveMedia(t *testing.T) {
	ctx := context.Background()
	st := newOfficerStack(t)
	s, srv, tok, limaPath, dir := st.Stack, st.srv, st.token, st.identity, t.TempDir()
	audio := make([]byte, 10<<10)
	rand.Read(audio)
	copy(audio, "ID3\x1b[2J")
	photo := append([]byte("\xff\xd8\xff\xe0"), bytes.Repeat([]byte{0x1b, 0x07, 0x00}, 100)...)
	rcpt, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelVoice, From: "+51911112222", To: gatewaytest.NumberLima,
		Media: []gateway.Media{
			{URL: "../../etc/passwd", ContentType: "audio/mpeg", Data: audio, DurationS: 9},
			{URL: "https://x/evil.sh", ContentType: "text/x-shellscript", Data: photo},
			{URL: "https://x/y", ContentType: "image/jpeg", Error: "not fetched: too large"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Queue.Claim(ctx, gatewaytest.Lima, mustOfficerID(t, s, tok)); err != nil {
		t.Fatal(err)
	}
	media := filepath.Join(dir, "media")
	show := func(asJSON bool) string {
		var out, errOut bytes.Buffer
		tr := &Terminal{Ctx: ctx, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Client: officerapi.New(srv.URL, tok, nil),
			IdentityPath: limaPath, JSON: asJSON, SaveMedia: media}
		if err := tr.Explain(tr.Show(rcpt.TipID)); err != nil {
			t.Fatalf("show: %v (%s)", err, errOut.String())
		}
		return out.String()
	}
	out := show(false)
	if strings.ContainsAny(out, "\x1b\x07\x00") || bytes.Contains([]byte(out), audio[10:40]) {
		t.Fatalf("the terminal got raw bytes:\n%q", out)
	}
	if !strings.Contains(out, "media 3   not saved: not fetched: too large") || !strings.Contains(out, "audio/mpeg 9s") {
		t.Fatalf("show output:\n%s", out)
	}
	want := map[string][]byte{"tip-" + rcpt.TipID + "-1.mp3": audio, "tip-" + rcpt.TipID + "-2.bin": photo}
	entries, err := os.ReadDir(media)
	if err != nil || len(entries) != len(want) {
		t.Fatalf("%d files in the media directory (%v), want %d", len(entries), err, len(want))
	}
	for name, data := range want {
		p := filepath.Join(media, name)
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: %v, %d bytes: want the item byte-identical", name, err, len(got))
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
			t.Fatalf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
		if !strings.Contains(out, "saved to "+p) {
			t.Fatalf("the output does not say where %s went:\n%s", name, out)
		}
	}
	// Again: the files there stay, the new ones get new names.
	var answer struct {
		Saved []savedMedia `json:"saved_media"`
	}
	if err := json.Unmarshal([]byte(show(true)), &answer); err != nil || len(answer.Saved) != 3 ||
		filepath.Base(answer.Saved[0].Path) != "tip-"+rcpt.TipID+"-1-2.mp3" || answer.Saved[2].Error == "" {
		t.Fatalf("second save: %+v %v", answer.Saved, err)
	}
	if got, _ := os.ReadFile(filepath.Join(media, "tip-"+rcpt.TipID+"-1.mp3")); !bytes.Equal(got, audio) {
		t.Fatal("the first file was overwritten")
	}
}

// officerStack is a pipeline whose Lima agency has a key of the test's
// own, the officer API over it, an officer of Lima and the key's identity
// file.
type officerStack struct {
	*gatewaytest.Stack
	srv      *httptest.Server
	token    string
	identity string
}

func newOfficerStack(t *testing.T) officerStack {
	t.Helper()
	lima, err := seal.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := seal.ParseRecipients([]string{lima.Recipient})
	if err != nil {
		t.Fatal(err)
	}
	s := gatewaytest.New(t, func(o *gateway.Options) {
		o.Sealer = seal.NewKeyring(map[string]*seal.Recipients{gatewaytest.Lima: rs})
	})
	path := filepath.Join(t.TempDir(), "lima.key")
	if err := seal.WriteIdentityFile(path, lima, time.Now()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handlers.New(handlers.Options{Intake: s.Intake, Triage: s.Queue, Officers: officer.New(s.Queue), Logger: s.Logger,
		Agencies: []handlers.AgencyInfo{{ID: gatewaytest.Lima, Recipients: []string{lima.Recipient}}}}))
	t.Cleanup(srv.Close)
	tok, _, err := officer.New(s.Queue).Add(context.Background(), gatewaytest.Lima, "Ana", officer.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	return officerStack{Stack: s, srv: srv, token: tok, identity: path}
}

func mustOfficerID(t *testing.T, s *gatewaytest.Stack, tok string) string {
	t.Helper()
	o, err := officer.New(s.Queue).Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}
