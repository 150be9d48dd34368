// Package demo sets up a throwaway gateway for a first look (hotline demo,
// make run): fresh keys, example regions, a configuration, and a Redis.
// Nothing it makes is meant for real tips: keys and configuration live in a
// temporary directory and the Redis keys under a prefix of their own, and
// both are deleted on exit.
package demo

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/redis/go-redis/v9"
)

// regions are rough outlines of our own making, for the demo only.
//
//go:embed regions.geojson
var regions []byte

const config = `# hotline demo configuration: throwaway keys, example regions. Not for real tips.
listen: %[1]s
public_url: http://%[1]s
redis:
  url: %[2]s
  prefix: %[5]s
queue:
  lease: 5m
secrets:
  pepper: file:pepper
  reply_key: file:reply.key
twilio:
  account_sid: AC00000000000000000000000000000000
  auth_token: file:twilio-token
  numbers:
    # The demo reaches no real Twilio: scrubbing Twilio's copies is off.
    "+15005550006": { region: lima, scrub: false }
regions:
  - id: lima
    geojson: regions.geojson
    feature: "Lima Metropolitana (demo outline)"
    name_property: name
  - id: kuala-lumpur
    geojson: regions.geojson
    feature: "Kuala Lumpur (demo outline)"
    name_property: name
agencies:
  - id: pe-lima
    name: Lima unit (demo)
    recipients: [%[3]s]
    regions: [lima]
  - id: my-kl
    name: Kuala Lumpur unit (demo)
    recipients: [%[4]s]
    regions: [kuala-lumpur]
default_agency: pe-lima
spool:
  dir: spool
log:
  format: text
`

// Setup is a demo's directory, configuration and Redis.
type Setup struct {
	Dir        string // keys and configuration
	ConfigPath string
	// Identity is the identity file of the agency pe-lima, which the
	// demo's officer uses.
	Identity string
	Prefix   string // the Redis key prefix of this demo
	stop     func()
}

// New writes throwaway keys and a configuration serving on listen into a
// temporary directory, and finds a Redis (see redisURL); messages about
// the Redis go to w. Close undoes it all.
func New(ctx context.Context, listen string, getenv func(string) string, w io.Writer) (*Setup, error) {
	dir, err := os.MkdirTemp("", "hotline-demo-")
	if err != nil {
		return nil, fmt.Errorf("failed to create the demo directory: %w", err)
	}
	s := &Setup{Dir: dir, ConfigPath: filepath.Join(dir, "hotline.yaml"), Identity: filepath.Join(dir, "pe-lima.key"),
		stop: func() { os.RemoveAll(dir) }}
	if err := s.write(ctx, listen, getenv, w); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Setup) write(ctx context.Context, listen string, getenv func(string) string, w io.Writer) error {
	redisURL, stopRedis, err := redisURL(ctx, getenv, w)
	if err != nil {
		return err
	}
	removeDir := s.stop
	s.stop = func() { stopRedis(); removeDir() }
	// A prefix of its own, removed on exit: a demo keeps nothing, and never
	// meets an earlier demo's tips sealed to keys that no longer exist.
	s.Prefix = "hldemo-" + strings.ToLower(hex.EncodeToString([]byte(randomSecret(3)))[:8])
	var recipients [2]string
	for i, agency := range []string{"pe-lima", "my-kl"} {
		g, err := seal.Generate(false)
		if err != nil {
			return err
		}
		if err := seal.WriteIdentityFile(filepath.Join(s.Dir, agency+".key"), g, time.Now()); err != nil {
			return err
		}
		recipients[i] = g.Recipient
	}
	replyKey, err := seal.Generate(true)
	if err != nil {
		return err
	}
	if err := seal.WriteIdentityFile(filepath.Join(s.Dir, "reply.key"), replyKey, time.Now()); err != nil {
		return err
	}
	files := map[string][]byte{
		"pepper":          []byte(randomSecret(32)),
		"twilio-token":    []byte(hex.EncodeToString([]byte(randomSecret(16)))[:32]),
		"regions.geojson": regions,
		"hotline.yaml":    fmt.Appendf(nil, config, listen, redisURL, recipients[0], recipients[1], s.Prefix),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(s.Dir, name), data, 0o600); err != nil {
			return fmt.Errorf("failed to write the demo config: %w", err)
		}
	}
	return nil
}

// Close stops the demo's Redis if it started one, and removes its
// directory.
func (s *Setup) Close() { s.stop() }

// DeleteKeys removes the demo's keys.
func (s *Setup) DeleteKeys(rdb redis.UniversalClient) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, s.Prefix+":*", 500).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

func randomSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
