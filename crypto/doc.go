// Package crypto groups the hotline's cryptography. It holds no code of its
// own; no subpackage is named crypto so that none shadows the standard
// library.
//
//   - crypto/seal is the one place the hotline uses age (filippo.io/age):
//     sealing tips to an agency's recipients, opening them with an
//     officer's identities (files and plugins) under a size limit, the
//     gateway's own reply key and the records only it reads back (reply
//     handles, scrub jobs, side records; an AEAD key derived from the reply
//     key), and the code-locked keys of follow-up threads.
//   - crypto/x25519 is a faster X25519 recipient that crypto/seal may seal
//     with, proven against upstream age and the C2SP vectors.
//   - crypto/pseudonym names senders by a keyed HMAC, never in clear.
//   - crypto/internal/upstream is upstream age alone, for the tests.
package crypto
