package queue

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/redis/go-redis/v9"
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
}

var tokenEnc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// tokenPrefix marks hotline officer tokens so that secret scanners can find
// a leaked one.
const tokenPrefix = "hlo_"

func (q *Queue) officerKey(id string) string { return q.opt.Prefix + ":officer:{" + id + "}" }

// AddOfficer creates an officer and returns its bearer token. The token is
// shown once: only its SHA-256 is stored (it carries 256 random bits, so a
// slow hash would add nothing).
func (q *Queue) AddOfficer(ctx context.Context, agency, name, role string) (string, Officer, error) {
	if role == "" {
		role = RoleOfficer
	}
	if role != RoleOfficer && role != RoleSupervisor {
		return "", Officer{}, fmt.Errorf("%w: unknown role", ErrInvalid)
	}
	idb := make([]byte, 10)
	secret := make([]byte, 32)
	rand.Read(idb)
	rand.Read(secret)
	o := Officer{ID: tokenEnc.EncodeToString(idb), Agency: agency, Name: name, Role: role, Created: time.Now().UTC()}
	token := tokenPrefix + o.ID + "_" + tokenEnc.EncodeToString(secret)
	sum := sha256.Sum256(secret)
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	err := q.rdb.HSet(ctx, q.officerKey(o.ID),
		"agency", agency, "name", name, "role", role,
		"hash", sum[:], "created", o.Created.UnixMilli()).Err()
	if err != nil {
		return "", Officer{}, fmt.Errorf("%w: failed to store officer: %w", ErrUnavailable, err)
	}
	if err := q.Audit(ctx, agency, AuditTokenAdd, o.ID, "", role); err != nil {
		q.rdb.Del(context.WithoutCancel(ctx), q.officerKey(o.ID))
		return "", Officer{}, err
	}
	return token, o, nil
}

// OfficerID returns the officer id a token names, or "" if it is not a
// token. It does not check the token.
func OfficerID(token string) string {
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
func (q *Queue) Authenticate(ctx context.Context, token string) (Officer, error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return Officer{}, ErrBadToken
	}
	id, secretText, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secretText) != 52 {
		return Officer{}, ErrBadToken
	}
	secret, err := tokenEnc.DecodeString(secretText)
	if err != nil {
		return Officer{}, ErrBadToken
	}
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	v, err := q.rdb.HGetAll(ctx, q.officerKey(id)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return Officer{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	sum := sha256.Sum256(secret)
	stored := []byte(v["hash"])
	if len(stored) != len(sum) || subtle.ConstantTimeCompare(stored, sum[:]) != 1 || v["revoked"] != "" {
		return Officer{}, ErrBadToken
	}
	var created int64
	fmt.Sscan(v["created"], &created)
	return Officer{ID: id, Agency: v["agency"], Name: v["name"], Role: v["role"], Created: time.UnixMilli(created).UTC()}, nil
}

// RevokeOfficer makes the officer's token invalid at once.
func (q *Queue) RevokeOfficer(ctx context.Context, id string) error {
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	agency, err := q.rdb.HGet(ctx, q.officerKey(id), "agency").Result()
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err := q.rdb.HSet(ctx, q.officerKey(id), "revoked", time.Now().UnixMilli()).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return q.Audit(ctx, agency, AuditTokenRevoke, id, "", "")
}
