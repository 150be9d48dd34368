package seal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

// maxIdentityFile bounds an identity file; real ones are a few lines.
const maxIdentityFile = 1 << 20

// ParseIdentities reads an identity file: native X25519 (AGE-SECRET-KEY-1...),
// post-quantum hybrid (AGE-SECRET-KEY-PQ-1...) and plugin identities
// (AGE-PLUGIN-NAME-1..., for example from age-plugin-yubikey, which are
// handed to the plugin binary on PATH through ui). Blank lines and lines
// starting with # are ignored. Errors name the line, never its content.
func ParseIdentities(r io.Reader, ui *plugin.ClientUI) ([]Identity, error) {
	lr := &io.LimitedReader{R: r, N: maxIdentityFile + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), maxIdentityFile)
	var ids []Identity
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, err := parseIdentity(line, ui)
		if err != nil {
			return nil, fmt.Errorf("identity file line %d: %w", n, err)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("failed to read identity file: %w", err)
	}
	if lr.N == 0 {
		return nil, errors.New("identity file is too long")
	}
	if len(ids) == 0 {
		return nil, errors.New("no identities found in identity file")
	}
	return ids, nil
}

func parseIdentity(line string, ui *plugin.ClientUI) (Identity, error) {
	switch {
	case strings.HasPrefix(line, "AGE-SECRET-KEY-PQ-1"):
		id, err := age.ParseHybridIdentity(line)
		if err != nil {
			return nil, errors.New("malformed post-quantum identity")
		}
		return id, nil
	case strings.HasPrefix(line, "AGE-SECRET-KEY-1"):
		id, err := age.ParseX25519Identity(line)
		if err != nil {
			return nil, errors.New("malformed X25519 identity")
		}
		return id, nil
	case strings.HasPrefix(line, "AGE-PLUGIN-"):
		if ui == nil {
			return nil, errors.New("plugin identities need an interactive client")
		}
		id, err := plugin.NewIdentity(line, ui)
		if err != nil {
			return nil, errors.New("malformed plugin identity")
		}
		return id, nil
	case strings.HasPrefix(line, "age1"):
		return nil, errors.New("this is a public recipient, not an identity; use the identity file written by 'hotline keygen'")
	default:
		return nil, errors.New("unknown identity type")
	}
}

// TerminalUI is the plugin UI of an officer at a terminal: a plugin's
// messages and warnings go to w, each line after prefix (such as
// "hotline: "), and a PIN or a touch is asked for on the terminal itself
// (/dev/tty), whatever stdin and stdout are.
func TerminalUI(w io.Writer, prefix string) *plugin.ClientUI {
	return plugin.NewTerminalUI(
		func(format string, v ...any) { fmt.Fprintf(w, prefix+format+"\n", v...) },
		func(format string, v ...any) { fmt.Fprintf(w, prefix+"warning: "+format+"\n", v...) })
}

// LoadIdentityFile reads identities from path.
func LoadIdentityFile(path string, ui *plugin.ClientUI) ([]Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open identity file: %w", err)
	}
	defer f.Close()
	return ParseIdentities(f, ui)
}

// RecipientOf returns the recipient of a native identity (X25519 or
// post-quantum). A plugin identity (a hardware key) does not reveal its
// recipient: ok is false.
func RecipientOf(id Identity) (recipient string, ok bool) {
	switch x := id.(type) {
	case *age.X25519Identity:
		return x.Recipient().String(), true
	case *age.HybridIdentity:
		return x.Recipient().String(), true
	}
	return "", false
}

// MatchRecipients reports whether the recipients of the identities could
// all be derived (checked), and whether one of them is among recipients.
// With a plugin identity, checked is false unless another identity
// matches: only opening a tip can tell.
func MatchRecipients(ids []Identity, recipients []string) (checked, matches bool) {
	checked = true
	for _, id := range ids {
		r, ok := RecipientOf(id)
		if !ok {
			checked = false
			continue
		}
		if slices.Contains(recipients, r) {
			return true, true
		}
	}
	return checked, false
}
