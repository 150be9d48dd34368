// Package officer holds the identities of the officer API: who may claim,
// read and answer the tips of which agency, and as what (officer or
// supervisor).
//
// It protects the bearer tokens. A token carries 256 random bits and is
// shown once; Redis holds only its SHA-256, compared in constant time, so a
// copy of Redis lets no one in; a revoked token fails at once. Adding and
// revoking a token are written to the queue's audit chain. Officers live
// beside the queue they open (same Redis, key prefix and audit chain), in a
// package of their own so that the queue knows nothing of tokens.
package officer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/redis/go-redis/v9"

	"github.com/hotline-org/hotline/gateway/breaker"
	"github.com/hotline-org/hotline/queue"
)

// Roles of officers.
const (
	RoleOfficer    = "officer"
	RoleSupervisor = "supervisor"
)

// ErrBadToken is returned for a token that is malformed, unknown or revoked.
var ErrBadToken = fault.NewPublic(fault.Unauthenticated, "invalid token", "unauthorized")

// Officer is an API identity, scoped to one agency.
type Officer struct {
	ID      string
	Agency  string
	Name    string
	Role    string
	Created time.Time
	Revoked bool
	// LastUsed is when the token was last taken, to the minute (usedEvery);
	// zero if never since the release that records it.
	LastUsed time.Time
}

// usedEvery is how often Authenticate records an officer's use of the
// token: at most a write a minute per officer, however many requests (an
// open console makes one every few seconds).
const usedEvery = time.Minute

var tokenEnc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// tokenPrefix marks hotline officer tokens so that secret scanners can find
// a leaked one.
const tokenPrefix = "hlo_"

// Store keeps the officers in the queue's Redis. It is safe for concurrent
// use. Its errors wrap the queue's (queue.ErrUnavailable, ErrInvalid,
// ErrNotFound).
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	calls  breaker.Calls
	q      *queue.Queue // the audit chain
}

// New returns the officers of q.
func New(q *queue.Queue) *Store {
	rdb, prefix, timeout := q.Keyspace()
	return &Store{rdb: rdb, prefix: prefix, q: q,
		calls: breaker.Calls{Timeout: timeout, Unavailable: queue.ErrUnavailable}}
}

func (s *Store) key(id string) string { return s.prefix + ":officer:{" + id + "}" }

// Add creates an officer and returns its bearer token. The token is shown
// once: only its SHA-256 is stored (it carries 256 random bits, so a slow
// hash would add nothing).
func (s *Store) Add(ctx context.Context, agency, name, role string) (string, Officer, error) {
	if role == "" {
		role = RoleOfficer
	}
	if role != RoleOfficer && role != RoleSupervisor {
		return "", Officer{}, fmt.Errorf("%w: unknown role", queue.ErrInvalid)
	}
	idb := make([]byte, 10)
	secret := make([]byte, 32)
	rand.Read(idb)
	rand.Read(secret)
	o := Officer{ID: tokenEnc.EncodeToString(idb), Agency: agency, Name: name, Role: role, Created: time.Now().UTC()}
	token := tokenPrefix + o.ID + "_" + tokenEnc.EncodeToString(secret)
	sum := sha256.Sum256(secret)
	ctx, cancel := s.calls.Context(ctx)
	defer cancel()
	err := s.rdb.HSet(ctx, s.key(o.ID),
		"agency", agency, "name", name, "role", role,
		"hash", sum[:], "created", o.Created.UnixMilli()).Err()
	if err != nil {
		return "", Officer{}, s.calls.Fail("store officer", err)
	}
	if err := s.q.Audit(ctx, agency, queue.AuditTokenAdd, o.ID, "", role); err != nil {
		s.rdb.Del(context.WithoutCancel(ctx), s.key(o.ID))
		return "", Officer{}, err
	}
	return token, o, nil
}

// TokenID returns the officer id a token names, or "" if it is not a
// token. It does not check the token.
func TokenID(token string) string {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return ""
	}
	id, _, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 {
		return ""
	}
	return id
}

// Authenticate returns the officer a token belongs to.
func (s *Store) Authenticate(ctx context.Context, token string) (Officer, error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return Officer{}, ErrBadToken
	}
	id, secretText, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secretText) != 52 {
		return Officer{}, ErrBadToken
	}
	secret, err := tokenEnc.DecodeString(secretText)
	// One token, one spelling: the last character's unused bits are zero.
	if err != nil || tokenEnc.EncodeToString(secret) != secretText {
		return Officer{}, ErrBadToken
	}
	ctx, cancel := s.calls.Context(ctx)
	defer cancel()
	v, err := s.rdb.HGetAll(ctx, s.key(id)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return Officer{}, s.calls.Fail("", err)
	}
	sum := sha256.Sum256(secret)
	stored := []byte(v["hash"])
	if len(stored) != len(sum) || subtle.ConstantTimeCompare(stored, sum[:]) != 1 || v["revoked"] != "" {
		return Officer{}, ErrBadToken
	}
	o := officerOf(id, v)
	if now := time.Now(); now.Sub(o.LastUsed) >= usedEvery {
		// Only helps a supervisor (GET /officers): the request goes on if
		// it cannot be written.
		ms := now.UnixMilli()
		if n, err := usedScript.Run(ctx, s.rdb, []string{s.key(id)}, ms, usedEvery.Milliseconds()).Int(); err == nil && n == 1 {
			o.LastUsed = time.UnixMilli(ms).UTC()
		}
	}
	return o, nil
}

// usedScript records a use of the officer's token at ARGV[1] (Unix ms),
// unless it was revoked meanwhile, or a use at most ARGV[2] ms older (or
// a later one, another gateway's) is recorded: a time never goes back,
// and none is recorded after a revocation. It returns 1 if it wrote.
var usedScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'revoked') == 1 or redis.call('HEXISTS', KEYS[1], 'hash') == 0 then return 0 end
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0') or 0
if used > tonumber(ARGV[1]) - tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'used', ARGV[1])
return 1
`)

// officerOf reads an officer's hash.
func officerOf(id string, v map[string]string) Officer {
	var created, used int64
	fmt.Sscan(v["created"], &created)
	o := Officer{ID: id, Agency: v["agency"], Name: v["name"], Role: v["role"],
		Created: time.UnixMilli(created).UTC(), Revoked: v["revoked"] != ""}
	if _, err := fmt.Sscan(v["used"], &used); err == nil && used > 0 {
		o.LastUsed = time.UnixMilli(used).UTC()
	}
	return o
}

// Revoke makes the officer's token invalid at once.
func (s *Store) Revoke(ctx context.Context, id string) error {
	ctx, cancel := s.calls.Context(ctx)
	defer cancel()
	agency, err := s.rdb.HGet(ctx, s.key(id), "agency").Result()
	if errors.Is(err, redis.Nil) {
		return queue.ErrNotFound
	}
	if err != nil {
		return s.calls.Fail("", err)
	}
	if err := s.rdb.HSet(ctx, s.key(id), "revoked", time.Now().UnixMilli()).Err(); err != nil {
		return s.calls.Fail("", err)
	}
	return s.q.Audit(ctx, agency, queue.AuditTokenRevoke, id, "", "")
}

// List returns the officers, of one agency or of all when agency is "",
// oldest first.
func (s *Store) List(ctx context.Context, agency string) ([]Officer, error) {
	ctx, cancel := s.calls.Context(ctx)
	defer cancel()
	keys, err := queue.ScanKeys(ctx, s.rdb, s.prefix+":officer:*")
	if err != nil {
		return nil, s.calls.Fail("", err)
	}
	var out []Officer
	for _, k := range keys {
		v, err := s.rdb.HGetAll(ctx, k).Result()
		if err != nil {
			return nil, s.calls.Fail("", err)
		}
		if agency != "" && v["agency"] != agency {
			continue
		}
		out = append(out, officerOf(strings.TrimSuffix(strings.TrimPrefix(k, s.prefix+":officer:{"), "}"), v))
	}
	slices.SortFunc(out, func(a, b Officer) int { return a.Created.Compare(b.Created) })
	return out, nil
}
