package officer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
	"github.com/hotline-org/hotline/queue/queuetest"
)

// withAna is a store of officers with one, Ana of pe-lima, and her token.
func withAna(t *testing.T) (*queuetest.Redis, *officer.Store, string, officer.Officer) {
	t.Helper()
	r := queuetest.New(t)
	s := officer.New(queue.New(r.Client, queue.Options{Prefix: r.Prefix}))
	token, o, err := s.Add(context.Background(), "pe-lima", "Ana", officer.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	return r, s, token, o
}

func TestOfficers(t *testing.T) {
	r, s, token, o := withAna(t)
	ctx := context.Background()
	got, err := s.Authenticate(ctx, token)
	if err != nil || got.ID != o.ID || got.Agency != "pe-lima" || got.Name != "Ana" || got.Role != officer.RoleOfficer {
		t.Fatalf("authenticate = %+v, %v; want %+v", got, err, o)
	}
	for _, k := range r.Keys(t) {
		vals := r.Admin.HGetAll(ctx, k).Val()
		for f, v := range vals {
			if v == token || len(token) > 20 && containsSub(v, token[20:]) {
				t.Fatalf("token stored in clear in %s.%s", k, f)
			}
		}
	}
	bad := []string{"", "hlo_", token + "x", token[:len(token)-1] + "a", "Bearer " + token,
		"hlo_aaaaaaaaaaaaaaaa_" + token[len(token)-52:], respelled(token)}
	for _, b := range bad {
		if b == token {
			continue
		}
		if _, err := s.Authenticate(ctx, b); !errors.Is(err, officer.ErrBadToken) {
			t.Errorf("authenticate(%q): err = %v, want ErrBadToken", b, err)
		}
	}
	if _, _, err := s.Add(ctx, "pe-lima", "X", "admin"); !errors.Is(err, queue.ErrInvalid) {
		t.Errorf("unknown role: err = %v, want ErrInvalid", err)
	}
	if err := s.Revoke(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, token); !errors.Is(err, officer.ErrBadToken) {
		t.Fatalf("revoked token: err = %v, want ErrBadToken", err)
	}
	if err := s.Revoke(ctx, "nobody"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("revoke unknown: err = %v, want ErrNotFound", err)
	}
}

// respelled is token with its last character's unused bits set: the same
// secret, spelled otherwise.
func respelled(token string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	v := strings.IndexByte(alphabet, token[len(token)-1])
	return token[:len(token)-1] + string(alphabet[v^1])
}

func containsSub(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestOfficersList(t *testing.T) {
	r := queuetest.New(t)
	s := officer.New(queue.New(r.Client, queue.Options{Prefix: r.Prefix}))
	ctx := context.Background()
	_, a, _ := s.Add(ctx, "pe-lima", "Ana", officer.RoleOfficer)
	_, b, _ := s.Add(ctx, "pe-lima", "Beto", officer.RoleSupervisor)
	s.Add(ctx, "my-kl", "Siti", officer.RoleOfficer)
	if err := s.Revoke(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, "pe-lima")
	if err != nil || len(list) != 2 {
		t.Fatalf("officers = %+v, %v", list, err)
	}
	for _, o := range list {
		if o.ID == a.ID && !o.Revoked || o.ID == b.ID && (o.Revoked || o.Role != officer.RoleSupervisor) {
			t.Fatalf("officer %+v", o)
		}
	}
}

// TestOfficerLastUsed: a token's use is recorded, to the minute, for the
// supervisor's list: not before the first use, not by a guess or a revoked
// token, and not again within the minute however many requests come.
func TestOfficerLastUsed(t *testing.T) {
	r, s, token, o := withAna(t)
	ctx := context.Background()
	used := func() time.Time {
		t.Helper()
		list, err := s.List(ctx, "pe-lima")
		if err != nil || len(list) != 1 {
			t.Fatalf("officers = %+v, %v", list, err)
		}
		return list[0].LastUsed
	}
	key := r.Prefix + ":officer:{" + o.ID + "}"
	if u := used(); !u.IsZero() {
		t.Fatalf("last used %v before any use", u)
	}
	// A guess at the secret, with the officer's id, is not a use.
	i := len(token) - 10
	guess := token[:i] + map[bool]string{true: "b", false: "a"}[token[i] == 'a'] + token[i+1:]
	if _, err := s.Authenticate(ctx, guess); !errors.Is(err, officer.ErrBadToken) {
		t.Fatalf("guess: %v", err)
	}
	if u := used(); !u.IsZero() {
		t.Fatalf("a wrong token recorded a use at %v", u)
	}
	before := time.Now().Add(-time.Millisecond)
	got, err := s.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	first := used()
	if first.Before(before) || first.After(time.Now()) || !got.LastUsed.Equal(first) {
		t.Fatalf("last used %v (authenticate said %v), want since %v", first, got.LastUsed, before)
	}
	// Within the minute, nothing is written again.
	half := time.Now().Add(-30 * time.Second).UnixMilli()
	r.Admin.HSet(ctx, key, "used", half)
	if _, err := s.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if u := used(); u.UnixMilli() != half {
		t.Fatalf("last used %v, want %v kept within the minute", u, time.UnixMilli(half))
	}
	// After it, the use is recorded.
	r.Admin.HSet(ctx, key, "used", time.Now().Add(-2*time.Minute).UnixMilli())
	before = time.Now().Add(-time.Millisecond)
	if _, err := s.Authenticate(ctx, token); err != nil {
		t.Fatal(err)
	}
	if u := used(); u.Before(before) {
		t.Fatalf("last used %v, want since %v", u, before)
	}
	// A revoked token's tries are not uses.
	if err := s.Revoke(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	r.Admin.HSet(ctx, key, "used", half)
	if _, err := s.Authenticate(ctx, token); !errors.Is(err, officer.ErrBadToken) {
		t.Fatalf("revoked: %v", err)
	}
	if u := used(); u.UnixMilli() != half {
		t.Fatalf("a revoked token recorded a use at %v", u)
	}
}
