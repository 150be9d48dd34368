package seal_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/plugin"
	"github.com/hotline-org/hotline/crypto/seal"
)

// BuildFakePlugin builds age-plugin-hotlinetest into a directory put first
// on PATH for the test, and returns a plugin recipient and identity line
// that wrap a fresh X25519 key.
func buildFakePlugin(t *testing.T) (recipient, identity string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "age-plugin-hotlinetest"), "./testdata/age-plugin-hotlinetest")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fake plugin: %v\n%s", err, out)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return plugin.EncodeRecipient("hotlinetest", []byte(id.Recipient().String())),
		plugin.EncodeIdentity("hotlinetest", []byte(id.String()))
}

func TestPluginRecipientAndIdentity(t *testing.T) {
	recipient, identity := buildFakePlugin(t)
	rs, err := seal.ParseRecipients([]string{recipient})
	if err != nil {
		t.Fatal(err)
	}
	if rs.Kind() != seal.KindPlugin {
		t.Fatalf("kind = %s, want plugin", rs.Kind())
	}
	sealed, err := rs.Seal([]byte("sealed through a plugin"))
	if err != nil {
		t.Fatalf("seal through the plugin: %v", err)
	}
	var shown bytes.Buffer
	ui := &plugin.ClientUI{
		DisplayMessage: func(name, msg string) error { shown.WriteString(msg); return nil },
		RequestValue:   func(name, prompt string, secret bool) (string, error) { return "", nil },
		Confirm:        func(name, prompt, yes, no string) (bool, error) { return true, nil },
	}
	ids, err := seal.ParseIdentities(strings.NewReader("# a hardware key\n"+identity+"\n"), ui)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := seal.Open(sealed, ids...)
	if err != nil || string(plain) != "sealed through a plugin" {
		t.Fatalf("open through the plugin = %q, %v", plain, err)
	}
	other, _ := age.GenerateX25519Identity()
	otherLine := plugin.EncodeIdentity("hotlinetest", []byte(other.String()))
	ids, err = seal.ParseIdentities(strings.NewReader(otherLine), ui)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.Open(sealed, ids...); err == nil {
		t.Fatal("another plugin identity opened the tip")
	}
}

func TestPluginMissingFromPath(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	id, _ := age.GenerateX25519Identity()
	r := plugin.EncodeRecipient("hotlinetest", []byte(id.Recipient().String()))
	rs, err := seal.ParseRecipients([]string{r})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Seal([]byte("x")); err == nil || !strings.Contains(err.Error(), "hotlinetest") {
		t.Fatalf("seal without the plugin binary: err = %v, want one naming the plugin", err)
	}
}
