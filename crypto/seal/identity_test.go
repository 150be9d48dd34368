package seal_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/plugin"

	"github.com/hotline-org/hotline/crypto/seal"
)

// testUI is a plugin client UI that is never expected to be called: these
// tests only parse plugin identities.
var testUI = &plugin.ClientUI{
	DisplayMessage: func(name, message string) error { return nil },
	RequestValue: func(name, prompt string, secret bool) (string, error) {
		return "", errors.New("unexpected prompt")
	},
	Confirm:   func(name, prompt, yes, no string) (bool, error) { return false, errors.New("unexpected confirm") },
	WaitTimer: func(name string) {},
}

func TestParseIdentities(t *testing.T) {
	x := newPair(t, seal.KindX25519)
	pq := newPair(t, seal.KindPostQuantum)
	plugID := pluginIdentity(t)
	// A well-formed prefix with a broken body: still secret-looking.
	broken := x.secret[:len(x.secret)-6] + "QQQQQQ"
	brokenPQ := pq.secret[:len(pq.secret)/2]
	secrets := []string{x.secret, pq.secret, plugID, broken, brokenPQ}

	tests := []struct {
		name    string
		file    string
		ui      *plugin.ClientUI
		opens   []keyPair // each must be opened by the parsed identities
		wantN   int
		wantErr string
	}{
		{
			name:  "x25519 as written by keygen",
			file:  "# created: 2026-01-02T03:04:05Z\n# kind: x25519\n# public key: " + x.recipient + "\n" + x.secret + "\n",
			opens: []keyPair{x}, wantN: 1,
		},
		{
			name:  "pq with blank lines, indentation and CRLF",
			file:  "\r\n\r\n   # a comment\r\n\t" + pq.secret + "  \r\n\r\n",
			opens: []keyPair{pq}, wantN: 1,
		},
		{
			name:  "both kinds",
			file:  x.secret + "\n#\n" + pq.secret,
			opens: []keyPair{x, pq}, wantN: 2,
		},
		{name: "plugin identity", file: "# yubikey slot 1\n" + plugID + "\n", ui: testUI, wantN: 1},
		{name: "plugin identity without a UI", file: plugID, wantErr: "identity file line 1: plugin identities need an interactive client"},
		{name: "recipient pasted", file: "# key\n\n" + x.recipient, wantErr: "identity file line 3: this is a public recipient"},
		{name: "pq recipient pasted", file: pq.recipient, wantErr: "identity file line 1: this is a public recipient"},
		{name: "malformed x25519", file: x.secret + "\n" + broken, wantErr: "identity file line 2: malformed X25519 identity"},
		{name: "malformed pq", file: brokenPQ, wantErr: "identity file line 1: malformed post-quantum identity"},
		{name: "malformed plugin", file: plugID[:len(plugID)-3], ui: testUI, wantErr: "identity file line 1: malformed plugin identity"},
		{name: "lowercase identity", file: strings.ToLower(x.secret), wantErr: "identity file line 1: unknown identity type"},
		{name: "ssh key", file: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n", wantErr: "identity file line 1: unknown identity type"},
		{name: "empty", file: "", wantErr: "no identities found"},
		{name: "only comments", file: "# nothing here\n\n# still nothing\n", wantErr: "no identities found"},
		{
			name:    "too long",
			file:    x.secret + "\n" + strings.Repeat("# padding padding padding\n", seal.MaxIdentityFile/26+1),
			wantErr: "identity file is too long",
		},
		{
			name:    "one line too long",
			file:    "#" + strings.Repeat("a", seal.MaxIdentityFile+10) + "\n" + x.secret,
			wantErr: "failed to read identity file",
		},
		{
			name:  "exactly at the limit",
			file:  padTo(x.secret+"\n", seal.MaxIdentityFile),
			opens: []keyPair{x}, wantN: 1,
		},
		{
			name:    "one byte over the limit",
			file:    padTo(x.secret+"\n", seal.MaxIdentityFile+1),
			wantErr: "identity file is too long",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, err := seal.ParseIdentities(strings.NewReader(tt.file), tt.ui)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseIdentities accepted the file and returned %d identities", len(ids))
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %q, want it to contain %q", err, tt.wantErr)
				}
				if sec, ok := containsSecret(err.Error(), secrets...); ok {
					t.Errorf("error quotes key material %.25s...: %q", sec, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseIdentities: %v", err)
			}
			if len(ids) != tt.wantN {
				t.Fatalf("got %d identities, want %d", len(ids), tt.wantN)
			}
			for _, p := range tt.opens {
				sealed := sealFor(t, p, []byte("for "+p.recipient[:10]))
				got, err := seal.Open(sealed, ids...)
				if err != nil || string(got) != "for "+p.recipient[:10] {
					t.Fatalf("parsed identities cannot open a tip to %s...: %q, %v", p.recipient[:10], got, err)
				}
			}
		})
	}
}

// padTo pads an identity file with a comment to exactly n bytes.
func padTo(content string, n int) string {
	pad := n - len(content) - 2 // "#" and "\n"
	return content + "#" + strings.Repeat("x", pad) + "\n"
}

func TestLoadIdentityFileMissing(t *testing.T) {
	_, err := seal.LoadIdentityFile(filepath.Join(t.TempDir(), "nope.key"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestGenerateAndWriteIdentityFile(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("PET", -5*3600))
	tests := []struct {
		x25519     bool
		wantKind   seal.Kind
		wantPrefix string
		wantSecret string
	}{
		{x25519: false, wantKind: seal.KindPostQuantum, wantPrefix: "age1pq1", wantSecret: "AGE-SECRET-KEY-PQ-1"},
		{x25519: true, wantKind: seal.KindX25519, wantPrefix: "age1", wantSecret: "AGE-SECRET-KEY-1"},
	}
	for _, tt := range tests {
		t.Run(string(tt.wantKind), func(t *testing.T) {
			g, err := seal.Generate(tt.x25519)
			if err != nil {
				t.Fatal(err)
			}
			if g.Kind != tt.wantKind || !strings.HasPrefix(g.Recipient, tt.wantPrefix) || !strings.HasPrefix(g.Identity, tt.wantSecret) {
				t.Fatalf("Generate(%v) = kind %s, recipient %.12s..., identity %.20s...", tt.x25519, g.Kind, g.Recipient, g.Identity[:len(tt.wantSecret)])
			}
			if rs := mustParse(t, []string{g.Recipient}); rs.Kind() != tt.wantKind {
				t.Fatalf("the generated recipient parses as %s", rs.Kind())
			}
			other, err := seal.Generate(tt.x25519)
			if err != nil {
				t.Fatal(err)
			}
			if other.Identity == g.Identity || other.Recipient == g.Recipient {
				t.Fatal("two generated keys are equal")
			}

			path := filepath.Join(t.TempDir(), "agency.key")
			if err := seal.WriteIdentityFile(path, g, now); err != nil {
				t.Fatalf("WriteIdentityFile: %v", err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Fatalf("identity file mode = %v, want -rw-------", fi.Mode())
			}
			content, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{
				"# created: 2026-03-04T10:06:07Z\n",
				"# kind: " + string(tt.wantKind) + "\n",
				"# public key: " + g.Recipient + "\n",
				"\n" + g.Identity + "\n",
			} {
				if !bytes.Contains(content, []byte(want)) {
					t.Errorf("identity file lacks %q", want)
				}
			}

			ids, err := seal.LoadIdentityFile(path, nil)
			if err != nil {
				t.Fatalf("LoadIdentityFile: %v", err)
			}
			if len(ids) != 1 {
				t.Fatalf("file holds %d identities, want 1", len(ids))
			}
			var rcpt string
			switch id := ids[0].(type) {
			case *age.X25519Identity:
				rcpt = id.Recipient().String()
			case *age.HybridIdentity:
				rcpt = id.Recipient().String()
			default:
				t.Fatalf("identity of type %T", id)
			}
			if rcpt != g.Recipient {
				t.Fatalf("the file's identity has recipient %.20s..., want %.20s...", rcpt, g.Recipient)
			}

			// Overwriting an agency key would lose every tip sealed to it.
			err = seal.WriteIdentityFile(path, other, now)
			if !errors.Is(err, fs.ErrExist) {
				t.Fatalf("second WriteIdentityFile: err = %v, want fs.ErrExist", err)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, content) {
				t.Fatal("the existing identity file was changed")
			}
		})
	}
}

func TestWriteIdentityFileNoDirectory(t *testing.T) {
	g, err := seal.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	err = seal.WriteIdentityFile(filepath.Join(t.TempDir(), "missing", "agency.key"), g, time.Now())
	if err == nil {
		t.Fatal("WriteIdentityFile into a missing directory succeeded")
	}
	if strings.Contains(err.Error(), g.Identity) {
		t.Fatal("the error quotes the identity")
	}
}

// TestGeneratedNeverPrintsIdentity covers the ways a Generated could end up
// in a log line or on a terminal by accident.
func TestGeneratedNeverPrintsIdentity(t *testing.T) {
	for _, x25519 := range []bool{false, true} {
		g, err := seal.Generate(x25519)
		if err != nil {
			t.Fatal(err)
		}
		var jsonLog, textLog bytes.Buffer
		slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("generated", "key", g)
		slog.New(slog.NewTextHandler(&textLog, nil)).Info("generated", "key", g)
		//lint:ignore S1025 the path through fmt is what is tested
		viaS := fmt.Sprintf("%s", g)
		outputs := map[string]string{
			"String":      g.String(),
			"%v":          fmt.Sprintf("%v", g),
			"%+v":         fmt.Sprintf("%+v", g),
			"%s":          viaS,
			"%#v":         fmt.Sprintf("%#v", g),
			"%v pointer":  fmt.Sprintf("%v", &g),
			"slog json":   jsonLog.String(),
			"slog text":   textLog.String(),
			"error chain": fmt.Errorf("keygen: %v", g).Error(),
		}
		for how, out := range outputs {
			if strings.Contains(out, g.Identity) || strings.Contains(out, "AGE-SECRET-KEY") {
				t.Errorf("%s prints the identity: %.60s...", how, out)
			}
		}
		if !strings.Contains(g.String(), g.Recipient) {
			t.Errorf("String() = %q, want it to name the recipient", g.String())
		}
	}
}

func TestTerminalUI(t *testing.T) {
	var out bytes.Buffer
	ui := seal.TerminalUI(&out, "hotline: ")
	if err := ui.DisplayMessage("yubikey", "touch your key"); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "hotline: yubikey plugin: touch your key\n" {
		t.Fatalf("message = %q", got)
	}
}
