package officer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
	"github.com/hotline-org/hotline/queue/queuetest"
)

func TestOfficers(t *testing.T) {
	r := queuetest.New(t)
	s := officer.New(queue.New(r.Client, queue.Options{Prefix: r.Prefix}))
	ctx := context.Background()
	token, o, err := s.Add(ctx, "pe-lima", "Ana", officer.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
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
		"hlo_aaaaaaaaaaaaaaaa_" + token[len(token)-52:]}
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
