package conversation

// What a transfer of a case from one agency to another does to the
// conversation with its reporter: the new agency gets the reply handle and
// the reporter's thread follows.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// CopyHandle gives agency to the reply handle that agency from holds for
// a case, when a tip is transferred. The handle is sealed to the gateway's
// own reply key, not to an agency, so it is copied as it is, with the same
// expiry, and listed in the sender's record (its sender pseudonym is
// inside the seal) with the same last message. It reports whether a copy
// was made: false when from has no handle (a web tip, an expired or closed
// conversation) or to already has one for the case, which is kept.
func (s *Store) CopyHandle(ctx context.Context, from, to, caseRef string) (bool, error) {
	if s.key == nil {
		return false, nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	src := s.handleKey(from, caseRef)
	sealed, legacyLast, err := s.readHandle(ctx, src)
	if err != nil {
		return false, err
	}
	if len(sealed) == 0 {
		return s.copyRecordHandle(ctx, from, to, caseRef)
	}
	ttl, err := s.rdb.PTTL(ctx, src).Result()
	if err != nil {
		return false, s.fail(err)
	}
	if ttl <= 0 {
		return false, nil
	}
	var h Handle
	if err := s.key.OpenJSON(placeHandle(caseRef), sealed, &h); err != nil {
		return false, fmt.Errorf("reply handle of case %s cannot be opened: %w", caseRef, err)
	}
	if h.Sender != "" {
		err := s.updateSender(ctx, h.Sender, func(r *record, now time.Time) {
			e := r.Handles[from+" "+caseRef]
			e.Last = max(e.Last, legacyLast.UnixMilli())
			e.Until = max(e.Until, now.Add(ttl).UnixMilli())
			r.mergeHandle(to+" "+caseRef, e)
		})
		if err != nil {
			return false, s.fail(err)
		}
	}
	// Under the new agency's key, with the source's expiry, unless that
	// agency already has a handle for the case.
	ok, err := s.rdb.SetNX(ctx, s.handleKey(to, caseRef), sealed, ttl).Result()
	if err != nil {
		return false, s.fail(err)
	}
	return ok, nil
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
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	err = s.updateSender(ctx, h.Sender, func(r *record, now time.Time) {
		if _, ok := r.thread(now); !ok || r.Case != caseRef || !slices.Contains(r.Agencies, from) {
			return
		}
		agencies := make([]string, 0, len(r.Agencies))
		for _, a := range r.Agencies {
			if a == from {
				a = to
			}
			if !slices.Contains(agencies, a) {
				agencies = append(agencies, a)
			}
		}
		r.Agencies = agencies
	})
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// copyRecordHandle is CopyHandle for a handle the sender's record holds
// (Ops): the record lists the copy, with the same sealed handle and times;
// the tip's Reach, which the transfer carries to the new agency, leads
// there.
func (s *Store) copyRecordHandle(ctx context.Context, from, to, caseRef string) (bool, error) {
	sender, err := s.reach(ctx, from, caseRef)
	if err != nil || sender == "" {
		return false, err
	}
	copied := false
	err = s.updateSender(ctx, sender, func(r *record, now time.Time) {
		copied = false
		e, ok := r.sealedHandle(from, caseRef, now)
		if !ok {
			return
		}
		if o, has := r.sealedHandle(to, caseRef, now); has {
			// The copy of a transfer that did not finish (a crash before
			// UncopyHandle) is this copy.
			copied = bytes.Equal(o.Sealed, e.Sealed)
			return
		}
		r.mergeHandle(to+" "+caseRef, e)
		copied = true
	})
	if err != nil {
		return false, s.fail(err)
	}
	return copied, nil
}

// UncopyHandle takes back the copy CopyHandle made for agency to when the
// transfer fails: the handle is found through agency from, whose case is
// still open (the new agency has no tip of the case to lead to it).
func (s *Store) UncopyHandle(ctx context.Context, from, to, caseRef string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.rdb.Del(ctx, s.handleKey(to, caseRef)).Err(); err != nil {
		return s.fail(err)
	}
	if s.key == nil {
		return nil
	}
	sender, err := s.reach(ctx, from, caseRef)
	if err != nil || sender == "" {
		return err
	}
	if err := s.updateSender(ctx, sender, func(r *record, _ time.Time) { delete(r.Handles, to+" "+caseRef) }); err != nil {
		return s.fail(err)
	}
	return nil
}
