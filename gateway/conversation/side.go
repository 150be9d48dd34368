package conversation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/queue"
)

// Side is what a tip from the SMS channel needs besides itself once it is
// queued: the sender's thread, the reply handle, the job erasing Twilio's
// copy, or the end of every conversation (an exit word). The channel
// writes it to Redis right after the tip; it also travels sealed with the
// tip (queue.Entry.Side) so that a tip spooled while Redis was away gets it
// when the spool drains (ApplySide). Sealed to the gateway's reply key, it
// shows nothing in the spool.
type Side struct {
	Sender string    `json:"sender"`
	Last   time.Time `json:"last"` // when the message came
	// Exit: the message was an exit word; nothing else applies.
	Exit bool `json:"exit,omitempty"`
	// Thread: the agencies and message count of the thread the message
	// joined (none for a new one) and how long a thread lasts.
	ThreadAgencies []string            `json:"thread_agencies,omitempty"`
	Seq            int                 `json:"seq"`
	ThreadWindow   time.Duration       `json:"thread_window"`
	Handle         *Handle             `json:"handle,omitempty"`
	HandleTTL      time.Duration       `json:"handle_ttl"`
	Scrub          *twilioapi.ScrubJob `json:"scrub,omitempty"`
	ScrubDue       time.Time           `json:"scrub_due,omitzero"`
}

// ErrSideUnreadable: a side record that cannot be opened or decoded (the
// reply key changed): it is dropped, never retried.
var ErrSideUnreadable = errors.New("side record cannot be opened")

// placeSide is where a side record belongs (seal.ReplyKey): beside its
// tip in the spool.
const placeSide = "side"

// SealSide seals sd to the gateway's reply key; nil when the store keeps
// no handles.
func (s *Store) SealSide(sd Side) ([]byte, error) {
	if s.key == nil {
		return nil, nil
	}
	sealed, err := s.key.SealJSON(placeSide, sd)
	if err != nil {
		return nil, fmt.Errorf("failed to seal side record: %w", err)
	}
	return sealed, nil
}

func (s *Store) openSide(sealed []byte) (Side, error) {
	var sd Side
	if s.key == nil || s.key.OpenJSON(placeSide, sealed, &sd) != nil || sd.Sender == "" {
		return Side{}, ErrSideUnreadable
	}
	return sd, nil
}

// ApplySide writes the side record of a drained tip for its agency and
// case. Applied twice (the channel already wrote it, or another agency's
// copy carried it too), it changes nothing: the handle is saved only if
// absent, the scrub job has the tip's id, the thread is merged. An error
// wrapping queue.ErrUnavailable means "try again"; ErrSideUnreadable, never.
// It does not wait for the store's breaker: the drain just reached Redis.
func (s *Store) ApplySide(ctx context.Context, e queue.Entry) error {
	if len(e.Side) == 0 {
		return nil
	}
	sd, err := s.openSide(e.Side)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.applySide(ctx, e, sd, time.Now()); err != nil {
		return fmt.Errorf("%w: %w", queue.ErrUnavailable, err)
	}
	s.calls.Record(nil)
	return nil
}

func (s *Store) applySide(ctx context.Context, e queue.Entry, sd Side, now time.Time) error {
	if err := s.applyConversation(ctx, e, sd, now); err != nil {
		return err
	}
	if sd.Scrub != nil {
		if err := s.scrubs.EnqueueOnce(ctx, e.TipID, *sd.Scrub, sd.ScrubDue); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) applyConversation(ctx context.Context, e queue.Entry, sd Side, now time.Time) error {
	if sd.Exit {
		return s.exit(ctx, sd.Sender, sd.Last, sd.HandleTTL)
	}
	// An exit word that was applied after this message wins.
	if exited, err := s.exitedAfter(ctx, sd.Sender, sd.Last); err != nil || exited {
		return err
	}
	if left := sd.ThreadWindow - now.Sub(sd.Last); left > 0 {
		if err := s.mergeThread(ctx, e, sd, left); err != nil {
			return err
		}
	}
	if left := sd.HandleTTL - now.Sub(sd.Last); sd.Handle != nil && left > 0 {
		return s.saveHandle(ctx, e.Agency, e.Case, *sd.Handle, sd.Last, left, true)
	}
	return nil
}

// mergeThread adds the tip's agency to the sender's thread of the tip's
// case, or starts that thread unless a newer one is open.
func (s *Store) mergeThread(ctx context.Context, e queue.Entry, sd Side, left time.Duration) error {
	err := s.updateSender(ctx, sd.Sender, func(r *record, now time.Time) {
		t, ok := r.thread(now)
		if !ok || t.Case != e.Case {
			if ok && t.Last.After(sd.Last) {
				return
			}
			t = Thread{Case: e.Case, Agencies: slices.Clone(sd.ThreadAgencies)}
		}
		if !slices.Contains(t.Agencies, e.Agency) {
			t.Agencies = append(t.Agencies, e.Agency)
		}
		t.Seq = max(t.Seq, sd.Seq)
		if sd.Last.After(t.Last) {
			t.Last = sd.Last
		}
		r.setThread(t, now, left)
	})
	if err != nil {
		return s.fail(err)
	}
	return nil
}
