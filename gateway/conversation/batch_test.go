package conversation_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/redis/go-redis/v9"
)

// TestReadSender: one read gives the thread, the opt-out, the message's
// dedupe mark and extra keys as the one-call-per-key methods wrote them;
// when Redis does not answer, the answers are the safe ones (opted out,
// no thread, not seen) with the error.
func TestReadSender(t *testing.T) {
	s, r := newStore(t)
	ctx := context.Background()
	th := conversation.Thread{Case: "ABCD-EFGH", Agencies: []string{"pe-lima"}, Seq: 2, Last: time.Now().UTC().Truncate(time.Millisecond)}
	if err := s.SaveThread(ctx, "p1", th, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOptOut(ctx, "p1", true); err != nil {
		t.Fatal(err)
	}
	mark := s.DedupeKey("m1")
	extra := r.Prefix + ":rate:sender:p1"
	r.Client.Set(ctx, mark, "done ABCD-EFGH", time.Minute)
	r.Client.Set(ctx, extra, "3", time.Minute)
	got := s.ReadSender(ctx, "p1", "m1", extra, r.Prefix+":none")
	if got.Err != nil || !got.InThread || got.Thread.Case != th.Case || got.Thread.Seq != 2 || !got.Thread.Last.Equal(th.Last) ||
		!got.OptedOut || got.Seen != "done ABCD-EFGH" || got.Extra[0] == nil || *got.Extra[0] != "3" || got.Extra[1] != nil {
		t.Fatalf("ReadSender = %+v", got)
	}
	if got := s.ReadSender(ctx, "p2", ""); got.Err != nil || got.InThread || got.OptedOut || got.Seen != "" {
		t.Fatalf("a new sender: %+v", got)
	}

	// A closed client: every call fails at once, in every mode (r.URL is
	// empty on a Cluster).
	closed := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	closed.Close()
	down := conversation.New(closed, r.Prefix, time.Second, nil)
	if got := down.ReadSender(ctx, "p1", "m1", extra); got.Err == nil || !got.OptedOut || got.InThread || got.Seen != "" || got.Extra[0] != nil {
		t.Fatalf("Redis down: %+v; want the safe answers and the error", got)
	}
}
