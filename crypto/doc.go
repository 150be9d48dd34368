// Package crypto groups the hotline's cryptography: sealing tips to agencies
// (crypto/seal) and sender pseudonyms (crypto/pseudonym). It holds no code of
// its own; no subpackage is named crypto so that none shadows the standard
// library.
package crypto
