package seal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

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
func ParseIdentities(r io.Reader, ui *plugin.ClientUI) ([]age.Identity, error) {
	lr := &io.LimitedReader{R: r, N: maxIdentityFile + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 4096), maxIdentityFile)
	var ids []age.Identity
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

func parseIdentity(line string, ui *plugin.ClientUI) (age.Identity, error) {
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

// LoadIdentityFile reads identities from path.
func LoadIdentityFile(path string, ui *plugin.ClientUI) ([]age.Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open identity file: %w", err)
	}
	defer f.Close()
	return ParseIdentities(f, ui)
}

// Generated is a fresh identity and its recipient.
type Generated struct {
	Identity  string // secret: written to a 0600 file, never printed or logged
	Recipient string // public: handed to the gateway's operator
	Kind      Kind
}

// String keeps the identity out of any accidental print.
func (g Generated) String() string { return "identity for " + g.Recipient }

// GoString keeps the identity out of %#v, which does not use String.
func (g Generated) GoString() string { return "seal.Generated{" + g.String() + "}" }

// LogValue keeps the identity out of logs: slog's JSON handler would
// otherwise marshal the exported fields.
func (g Generated) LogValue() slog.Value { return slog.StringValue(g.String()) }

// Generate makes a new identity: post-quantum hybrid unless x25519 is set.
func Generate(x25519 bool) (Generated, error) {
	if x25519 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return Generated{}, fmt.Errorf("failed to generate identity: %w", err)
		}
		return Generated{Identity: id.String(), Recipient: id.Recipient().String(), Kind: KindX25519}, nil
	}
	id, err := age.GenerateHybridIdentity()
	if err != nil {
		return Generated{}, fmt.Errorf("failed to generate identity: %w", err)
	}
	return Generated{Identity: id.String(), Recipient: id.Recipient().String(), Kind: KindPostQuantum}, nil
}

// WriteIdentityFile writes g to a new file readable by its owner only. It
// refuses to replace an existing file: overwriting an agency key would make
// every tip sealed to it unreadable.
func WriteIdentityFile(path string, g Generated, now time.Time) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create identity file: %w", err)
	}
	content := fmt.Sprintf("# created: %s\n# kind: %s\n# public key: %s\n%s\n",
		now.UTC().Format(time.RFC3339), g.Kind, g.Recipient, g.Identity)
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return fmt.Errorf("failed to write identity file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("failed to write identity file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to write identity file: %w", err)
	}
	return nil
}
