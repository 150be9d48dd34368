package x25519

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Seal encrypts plaintext to the recipients as one age file, byte for byte
// the file age.Encrypt writes for the same recipients and the same random
// bytes (TestSealIsUpstreamsFile), drawn in the same order: the file key,
// each recipient's ephemeral scalar, the payload nonce. It writes the
// file in one buffer of its final size, without age's per-stanza base64
// encoders and stream writer, which are most of what age.Encrypt costs
// beyond the recipients' own work.
//
// The format (https://age-encryption.org/v1): the header, a line per
// stanza "-> X25519 share" and its body (32 bytes: 43 base64 characters,
// one line), then "--- " and the header's MAC, HMAC-SHA-256 under
// HKDF(file key, "header") of the header up to "---"; then a 16-byte
// nonce and the payload, ChaCha20-Poly1305 under HKDF(file key, nonce,
// "payload") in chunks of 64 KiB, the nonce of each its 11-byte big-endian
// index and a last byte 1 for the final chunk (an empty plaintext is one
// empty final chunk).
func Seal(plaintext []byte, recipients ...*Recipient) ([]byte, error) {
	if len(recipients) == 0 {
		return nil, errors.New("no recipients specified")
	}
	fileKey := make([]byte, fileKeySize)
	defer clear(fileKey)
	rand.Read(fileKey) // never fails (crypto/rand since Go 1.24)

	chunks := max((len(plaintext)+chunkSize-1)/chunkSize, 1)
	out := make([]byte, 0, sealedSize(len(recipients), len(plaintext)))
	out = append(out, intro...)
	for i, r := range recipients {
		stanzas, err := r.Wrap(fileKey)
		if err != nil {
			return nil, fmt.Errorf("failed to wrap key for recipient #%d: %w", i, err)
		}
		s := stanzas[0]
		if len(stanzas) != 1 || s.Type != stanzaType || len(s.Args) != 1 || len(s.Body) != bodySize {
			return nil, fmt.Errorf("recipient #%d: unexpected stanza", i) // unreachable: Wrap writes exactly this
		}
		out = append(out, "-> "+stanzaType+" "...)
		out = append(out, s.Args[0]...)
		out = append(out, '\n')
		out = base64.RawStdEncoding.AppendEncode(out, s.Body)
		out = append(out, '\n')
	}
	out = append(out, footer...)
	macKey, err := hkdf.Key(sha256.New, fileKey, nil, "header", 32)
	if err != nil {
		return nil, fmt.Errorf("failed to derive header MAC key: %w", err)
	}
	mac := hmac.New(sha256.New, macKey)
	clear(macKey)
	mac.Write(out)
	out = append(out, ' ')
	out = base64.RawStdEncoding.AppendEncode(out, mac.Sum(nil))
	out = append(out, '\n')

	var nonce [nonceSize]byte
	rand.Read(nonce[:])
	out = append(out, nonce[:]...)
	key, err := hkdf.Key(sha256.New, fileKey, nonce[:], "payload", chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("failed to derive payload key: %w", err)
	}
	aead, err := chacha20poly1305.New(key)
	clear(key)
	if err != nil {
		return nil, fmt.Errorf("failed to seal payload: %w", err)
	}
	var chunkNonce [chacha20poly1305.NonceSize]byte
	for c := range chunks {
		chunk := plaintext[c*chunkSize : min((c+1)*chunkSize, len(plaintext))]
		if c == chunks-1 {
			chunkNonce[len(chunkNonce)-1] = 1
		}
		out = aead.Seal(out, chunkNonce[:], chunk, nil)
		// The index, big-endian in the first 11 bytes.
		for i := len(chunkNonce) - 2; i >= 0; i-- {
			chunkNonce[i]++
			if chunkNonce[i] != 0 {
				break
			}
		}
	}
	return out, nil
}

// sealedSize is the length of the file Seal writes for n recipients and a
// plaintext of size bytes: the header (the intro, a line pair per stanza,
// "--- " and the MAC's line), the nonce, and the payload with a tag per
// chunk.
func sealedSize(n, size int) int {
	chunks := max((size+chunkSize-1)/chunkSize, 1)
	return len(intro) + n*stanzaLen + len(footer) + 1 + macLen + 1 +
		nonceSize + size + chunks*chacha20poly1305.Overhead
}

const (
	intro       = "age-encryption.org/v1\n"
	footer      = "---"
	fileKeySize = 16
	nonceSize   = 16
	chunkSize   = 64 * 1024
	bodySize    = fileKeySize + chacha20poly1305.Overhead
	// "-> X25519 " + share + "\n" + body + "\n"
	stanzaLen = len("-> "+stanzaType+" ") + 43 + 1 + 43 + 1
	macLen    = 43
)
