package seal

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"filippo.io/age"
)

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

// WriteIdentity writes g as an identity file's content to w (for
// `hotline keygen --out -`, which writes it to standard output).
func WriteIdentity(w io.Writer, g Generated, now time.Time) error {
	_, err := fmt.Fprintf(w, "# created: %s\n# kind: %s\n# public key: %s\n%s\n",
		now.UTC().Format(time.RFC3339), g.Kind, g.Recipient, g.Identity)
	return err
}

// WriteIdentityFile writes g to a new file readable by its owner only. It
// refuses to replace an existing file: overwriting an agency key would make
// every tip sealed to it unreadable.
func WriteIdentityFile(path string, g Generated, now time.Time) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create identity file: %w", err)
	}
	if err := WriteIdentity(f, g, now); err != nil {
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
