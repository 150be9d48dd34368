package spool

import (
	"time"

	"github.com/hotline-org/hotline/queue"
)

// The age of the oldest tip waiting in the spool is what tells an operator
// that tips are not reaching officers: hotline_spool_oldest_seconds. It is
// tracked without reading the spool: the receive time of the first tip
// appended to an empty spool, moved forward to the tip a drain stopped at.
// For tips left by an earlier run it is the time the spool was opened (a
// lower bound).

// noteAppended starts the clock when e is the first tip of an empty spool.
func (s *Spool) noteAppended(e queue.Entry) {
	t := e.ReceivedAt
	if t.IsZero() || t.After(time.Now()) {
		t = time.Now()
	}
	s.oldest.CompareAndSwap(0, t.UnixNano())
}

func (s *Spool) noteRecovered() {
	if s.pending.Load() > 0 {
		s.oldest.CompareAndSwap(0, time.Now().UnixNano())
	}
}

// notePending forgets the oldest time once nothing waits.
func (s *Spool) notePending(left int64) {
	if left <= 0 {
		s.oldest.Store(0)
	}
}

// noteWaiting records that the tip received at t is the oldest waiting: a
// drain stopped at it.
func (s *Spool) noteWaiting(t time.Time) {
	if !t.IsZero() && !s.Empty() {
		s.oldest.Store(t.UnixNano())
	}
}

// Oldest returns when the oldest tip waiting in the spool was received, or
// the zero time when the spool is empty.
func (s *Spool) Oldest() time.Time {
	n := s.oldest.Load()
	if n == 0 || s.Empty() {
		return time.Time{}
	}
	return time.Unix(0, n)
}
