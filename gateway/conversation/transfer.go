package conversation

// What a transfer of a case from one agency to another does to the
// conversation with its reporter: the new agency gets the reply handle and
// the reporter's thread follows.

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/redis/go-redis/v9"
)

// CopyHandle gives agency to the reply handle that agency from holds for
// a case, when a tip is transferred. The handle is sealed to the gateway's
// own reply key, not to an agency, so it is copied as it is, with the same
// expiry. It reports whether a copy was made: false when from has no
// handle (a web tip, an expired or closed conversation) or to already has
// one for the case, which is kept.
func (s *Store) CopyHandle(ctx context.Context, from, to, caseRef string) (bool, error) {
	if s.key == nil {
		return false, nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	src := s.handleKey(from, caseRef)
	var v *redis.MapStringStringCmd
	var ttl *redis.DurationCmd
	// Both reads are of one key, so they stay in one slot on a cluster.
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		v = p.HGetAll(ctx, src)
		ttl = p.PTTL(ctx, src)
		return nil
	})
	if err != nil {
		return false, s.fail(err)
	}
	if v.Val()["sealed"] == "" || ttl.Val() <= 0 {
		return false, nil
	}
	// Under the new agency's key, with the source's expiry, unless that
	// agency already has a handle for the case.
	n, err := setHandleIfAbsentScript.Run(ctx, s.rdb, []string{s.handleKey(to, caseRef)},
		v.Val()["sealed"], v.Val()["last"], ttl.Val().Milliseconds()).Int()
	if err != nil {
		return false, s.fail(err)
	}
	return n == 1, nil
}

// Retarget points the reporter's open thread of a case, if any, at agency
// to instead of from, after a transfer: the reporter's next messages then
// reach the agency now handling the case, and keep its reply handle fresh.
// The thread is found through the handle to holds (its sender pseudonym
// is inside the seal).
func (s *Store) Retarget(ctx context.Context, from, to, caseRef string) error {
	h, _, err := s.Handle(ctx, to, caseRef)
	if errors.Is(err, ErrNoHandle) {
		return nil
	}
	if err != nil {
		return err
	}
	t, ok, err := s.Thread(ctx, h.Sender)
	if err != nil || !ok || t.Case != caseRef || !slices.Contains(t.Agencies, from) {
		return err
	}
	agencies := make([]string, 0, len(t.Agencies))
	for _, a := range t.Agencies {
		if a == from {
			a = to
		}
		if !slices.Contains(agencies, a) {
			agencies = append(agencies, a)
		}
	}
	t.Agencies = agencies
	b, _ := json.Marshal(t)
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.rdb.SetArgs(ctx, s.threadKey(h.Sender), b, redis.SetArgs{KeepTTL: true, Mode: "XX"}).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return s.fail(err)
	}
	return nil
}
