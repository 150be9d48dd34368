package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxSecretFile bounds a secret read from a file.
const maxSecretFile = 64 << 10

// Secret is a configuration value that must not be printed: a pepper, an auth
// token. In the file it is written as `env:NAME`, `file:PATH` or, for local
// tests only, the literal value. Only the reference is ever shown.
type Secret struct {
	ref   string
	value []byte
}

// UnmarshalYAML keeps the reference; Resolve reads the value.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("a secret must be a string such as env:NAME or file:PATH")
	}
	s.ref = n.Value
	return nil
}

// MarshalYAML writes the reference, never the value.
func (s Secret) MarshalYAML() (any, error) { return s.Reference(), nil }

// MarshalJSON writes the reference, never the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", s.Reference())), nil }

// Reference returns how the secret is given, with a literal replaced.
func (s Secret) Reference() string {
	if s.ref == "" {
		return ""
	}
	if s.IsLiteral() {
		return "[literal, redacted]"
	}
	return s.ref
}

// IsLiteral reports whether the value was written in the file itself.
func (s Secret) IsLiteral() bool {
	return s.ref != "" && !strings.HasPrefix(s.ref, "env:") && !strings.HasPrefix(s.ref, "file:")
}

// String never shows the value.
func (s Secret) String() string { return "[redacted]" }

// GoString never shows the value: %#v does not use String, and would print
// the value's bytes and a literal's reference.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.Reference()) }

// LogValue never shows the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Value returns the resolved secret; empty if unset.
func (s Secret) Value() []byte { return s.value }

// Set replaces the value (used for environment overrides).
func (s *Secret) Set(ref string, v []byte) { s.ref, s.value = ref, v }

// resolve reads the referenced value. baseDir anchors a relative file path.
func (s *Secret) resolve(baseDir string, getenv func(string) string) error {
	switch {
	case s.ref == "":
		return nil
	case strings.HasPrefix(s.ref, "env:"):
		name := strings.TrimPrefix(s.ref, "env:")
		v := getenv(name)
		if v == "" {
			return fmt.Errorf("environment variable %s is empty or not set", name)
		}
		s.value = []byte(v)
	case strings.HasPrefix(s.ref, "file:"):
		path := resolvePath(baseDir, strings.TrimPrefix(s.ref, "file:"))
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("cannot read secret file %s: %w", path, err)
		}
		defer f.Close()
		buf, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
		if err != nil {
			return fmt.Errorf("cannot read secret file %s: %w", path, err)
		}
		if len(buf) > maxSecretFile {
			return fmt.Errorf("secret file %s is larger than %d bytes", path, maxSecretFile)
		}
		s.value = []byte(strings.TrimRight(string(buf), "\r\n"))
	default:
		s.value = []byte(s.ref)
	}
	return nil
}
