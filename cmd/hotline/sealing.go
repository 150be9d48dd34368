package main

import (
	"log/slog"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/config"
)

// logSealing says, per agency, what kind of recipients its tips are sealed
// to and by what code: an operator checking that tips are post-quantum
// sealed must be able to trust this line.
func logSealing(log *slog.Logger, c *config.Config, k *seal.Keyring) {
	for _, a := range c.Agencies {
		rs := k.Recipients(a.ID)
		if rs == nil {
			continue
		}
		var with string
		switch rs.Kind() {
		case seal.KindPostQuantum:
			with = "age, ML-KEM-768 + X25519 hybrid"
		case seal.KindX25519:
			if c.Crypto.UseFastX25519() {
				with = "crypto/x25519"
			} else {
				with = "upstream age"
			}
		case seal.KindPlugin:
			with = "age plugin"
		default:
			with = "age"
		}
		log.Info("sealing tips to the agency's recipients", "agency", a.ID, "kind", string(rs.Kind()),
			"recipients", rs.Len(), "with", with, "crypto.fast_x25519", c.Crypto.UseFastX25519())
	}
}
