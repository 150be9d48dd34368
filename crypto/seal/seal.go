// Package seal encrypts tips with age to the public recipients of an agency
// and opens them on the officer's side. It is the hotline's only user of
// age, and holds the hotline's other sealing too: the gateway's own records
// (ReplyKey, an AEAD key derived from its reply identity) and the follow-up
// threads' locked keys. Every opening of an age file goes through one size
// check (OpenLimited).
//
// It protects the content of a tip against everyone who is not the agency:
// the gateway holds only recipients (public keys) and cannot read what it
// sealed; Redis, the spool, backups and Twilio see only ciphertext. Errors
// never quote an identity: a line that looks like a secret key is reported by
// its position only.
package seal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/plugin"

	"github.com/hotline-org/hotline/crypto/x25519"
)

// Kind is the key type of a recipient set. age refuses to seal one file to
// post-quantum and classic recipients together (the classic one would undo
// the post-quantum protection), so an agency's set must be of one kind.
type Kind string

// Kinds of recipient sets.
const (
	KindPostQuantum Kind = "post-quantum" // age1pq1...: ML-KEM-768 + X25519 hybrid
	KindX25519      Kind = "x25519"       // age1...
	KindPlugin      Kind = "plugin"       // age1NAME1...: wrapped by age-plugin-NAME
)

// MaxSealedSize bounds what Open will read, so that a hostile or corrupt
// entry cannot make an officer's CLI allocate without limit.
const MaxSealedSize = 64 << 20

// Identity opens what was sealed to its recipient: an X25519, post-quantum
// or plugin identity from ParseIdentities, or a ReplyKey's. It is age's
// interface, named here so that no package outside crypto/ imports age.
type Identity = age.Identity

// ErrTooLarge is returned by OpenLimited (and Open) for sealed data longer
// than the limit.
var ErrTooLarge = errors.New("sealed data is larger than the limit")

// ErrIdentityNotRecipient is returned when a secret identity was given where a
// public recipient belongs. The value is never quoted.
var ErrIdentityNotRecipient = errors.New("this is a secret identity, not a recipient")

// ErrMixedKinds is returned for a set that mixes post-quantum and classic recipients.
var ErrMixedKinds = errors.New("post-quantum (age1pq1...) and X25519 (age1...) recipients cannot be mixed in one set")

// RecipientError names the position of a recipient that could not be parsed.
type RecipientError struct {
	Index int
	Err   error
}

func (e *RecipientError) Error() string {
	return fmt.Sprintf("recipient %d: %v", e.Index+1, e.Err)
}

func (e *RecipientError) Unwrap() error { return e.Err }

// Recipients is an agency's set of public keys, all of one Kind.
type Recipients struct {
	list    []age.Recipient
	encoded []string
	kind    Kind
	// fast holds list when every recipient is crypto/x25519's: the file
	// is then written by x25519.Seal, the same file as age.Encrypt's.
	fast []*x25519.Recipient
}

// Options chooses how recipients are sealed to.
type Options struct {
	// FastX25519 seals to X25519 recipients with crypto/x25519 (one
	// fixed-base and one variable-base scalar multiplication per recipient
	// instead of upstream age's four variable-base ones, and two fixed-base
	// ones once a recipient has wrapped a few keys; the same stanza, proven
	// against upstream and the C2SP vectors) rather than with
	// age.X25519Recipient, and writes the file with x25519.Seal (the same
	// file as age.Encrypt's, proven byte for byte).
	FastX25519 bool
}

// ParseRecipients parses public recipients as printed by age-keygen or
// `hotline keygen`, sealing with upstream age's own recipients. Plugin
// recipients (age1yubikey1... and others) need the plugin binary on PATH
// when sealing.
func ParseRecipients(lines []string) (*Recipients, error) {
	return ParseRecipientsWith(lines, Options{})
}

// ParseRecipientsWith is ParseRecipients with options.
func ParseRecipientsWith(lines []string, opt Options) (*Recipients, error) {
	if len(lines) == 0 {
		return nil, errors.New("no recipients")
	}
	rs := &Recipients{kind: KindPlugin}
	for i, line := range lines {
		s := strings.TrimSpace(line)
		r, kind, err := parseRecipient(s, opt)
		if err != nil {
			return nil, &RecipientError{Index: i, Err: err}
		}
		// Plugin recipients may go with either kind (the plugin declares
		// which when wrapping); native ones fix the kind of the whole set,
		// whatever their position.
		switch {
		case kind == KindPlugin:
		case rs.kind == KindPlugin:
			rs.kind = kind
		case rs.kind != kind:
			return nil, &RecipientError{Index: i, Err: ErrMixedKinds}
		}
		rs.list = append(rs.list, r)
		rs.encoded = append(rs.encoded, s)
	}
	for _, r := range rs.list {
		f, ok := r.(*x25519.Recipient)
		if !ok {
			rs.fast = nil
			break
		}
		rs.fast = append(rs.fast, f)
	}
	return rs, nil
}

func parseRecipient(s string, opt Options) (age.Recipient, Kind, error) {
	// Anywhere in the string, not only as a prefix: age's parse errors quote
	// their input, and a recipient pasted together with its identity (the
	// whole age-keygen output, say) must not be echoed back. Bech32 has no
	// '-', so no real recipient contains these.
	upper := strings.ToUpper(s)
	switch {
	case strings.Contains(upper, "AGE-SECRET-KEY-") || strings.Contains(upper, "AGE-PLUGIN-"):
		return nil, "", ErrIdentityNotRecipient
	case strings.HasPrefix(s, "age1pq1"):
		r, err := age.ParseHybridRecipient(s)
		if err != nil {
			return nil, "", fmt.Errorf("malformed post-quantum recipient: %w", err)
		}
		return r, KindPostQuantum, nil
	case strings.HasPrefix(s, "age1") && len(s) == 62 && opt.FastX25519:
		r, err := x25519.ParseRecipient(s)
		if err != nil {
			return nil, "", err
		}
		return r, KindX25519, nil
	case strings.HasPrefix(s, "age1") && len(s) == 62:
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, "", fmt.Errorf("malformed X25519 recipient: %w", err)
		}
		return r, KindX25519, nil
	case strings.HasPrefix(s, "age1"):
		name, _, err := plugin.ParseRecipient(s)
		if err != nil {
			return nil, "", fmt.Errorf("malformed recipient: %w", err)
		}
		r, err := plugin.NewRecipient(s, pluginUI)
		if err != nil {
			return nil, "", fmt.Errorf("plugin recipient for age-plugin-%s: %w", name, err)
		}
		return r, KindPlugin, nil
	case strings.HasPrefix(s, "ssh-"):
		return nil, "", errors.New("SSH keys are not accepted; use an age recipient (age1...)")
	default:
		return nil, "", errors.New("not an age recipient (expected age1... or age1pq1...)")
	}
}

// pluginUI answers plugins on the sealing side, where nobody is at a
// terminal: wrapping must never ask for input.
var pluginUI = &plugin.ClientUI{
	DisplayMessage: func(name, message string) error { return nil },
	RequestValue: func(name, prompt string, secret bool) (string, error) {
		return "", fmt.Errorf("age-plugin-%s asked for input while sealing", name)
	},
	Confirm: func(name, prompt, yes, no string) (bool, error) {
		return false, fmt.Errorf("age-plugin-%s asked for confirmation while sealing", name)
	},
	WaitTimer: func(name string) {},
}

// Kind reports the key type of the set: that of its native recipients, or
// KindPlugin if all of them are plugin recipients.
func (r *Recipients) Kind() Kind { return r.kind }

// Len reports the number of recipients.
func (r *Recipients) Len() int { return len(r.list) }

// Strings returns the recipients as given. Recipients are public and may be
// shown; identities never are.
func (r *Recipients) Strings() []string { return append([]string(nil), r.encoded...) }

// Seal encrypts plaintext to every recipient of the set. The result is a
// binary age file.
func (r *Recipients) Seal(plaintext []byte) ([]byte, error) {
	if r.fast != nil {
		out, err := x25519.Seal(plaintext, r.fast...)
		if err != nil {
			return nil, fmt.Errorf("failed to seal: %w", err)
		}
		return out, nil
	}
	var buf bytes.Buffer
	perRecipient := 1300 // a post-quantum stanza
	if r.kind == KindX25519 {
		perRecipient = 100 // "-> X25519 " share, body
	}
	buf.Grow(len(plaintext) + 200 + perRecipient*len(r.list))
	w, err := age.Encrypt(&buf, r.list...)
	if err != nil {
		return nil, fmt.Errorf("failed to seal: %w", err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, fmt.Errorf("failed to seal: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("failed to seal: %w", err)
	}
	return buf.Bytes(), nil
}

// SealJSON encodes v as JSON and seals it to every recipient of the set.
// The encoding is cleared once sealed.
func (r *Recipients) SealJSON(v any) ([]byte, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("failed to encode: %w", err)
	}
	defer clear(plain)
	return r.Seal(plain)
}

// Open decrypts a sealed tip with the officer's identities, up to
// MaxSealedSize.
func Open(sealed []byte, ids ...Identity) ([]byte, error) {
	return OpenLimited(sealed, MaxSealedSize, ids...)
}

// OpenLimited decrypts sealed data of at most limit bytes. The limit is
// checked once, on the sealed input, before anything is parsed: an age
// payload is always longer than its plaintext (a header, a nonce and a tag
// per chunk), so the plaintext is bounded too. Every opening in the
// hotline goes through here.
func OpenLimited(sealed []byte, limit int, ids ...Identity) ([]byte, error) {
	if len(sealed) > limit {
		return nil, ErrTooLarge
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), ids...)
	if err != nil {
		return nil, fmt.Errorf("failed to open sealed data: %w", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		clear(out)
		return nil, fmt.Errorf("failed to read sealed data: %w", err)
	}
	return out, nil
}

// OpenJSON opens sealed data of at most limit bytes and decodes it into v.
// The plaintext is cleared once decoded.
func OpenJSON(sealed []byte, limit int, v any, ids ...Identity) error {
	plain, err := OpenLimited(sealed, limit, ids...)
	if err != nil {
		return err
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, v); err != nil {
		return fmt.Errorf("failed to decode sealed data: %w", err)
	}
	return nil
}
