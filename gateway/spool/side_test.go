package spool_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/spool"
	"github.com/hotline-org/hotline/queue"
)

// TestDrainAppliesSideRecords: a spooled tip's side record (its reply
// handle and scrub job) is applied once the tip is in Redis; an apply that
// Redis does not take keeps the record for the next drain; tips without
// one (old records) drain as before, without an apply.
func TestDrainAppliesSideRecords(t *testing.T) {
	sp, err := spool.Open(t.TempDir(), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	applied := map[string]int{}
	failApply := 1
	p := &spool.Publisher{Primary: &fakePrimary{}, Spool: sp, Timeout: time.Second,
		Apply: func(ctx context.Context, e queue.Entry) error {
			mu.Lock()
			defer mu.Unlock()
			if failApply > 0 {
				failApply--
				return fmt.Errorf("%w: connection refused", queue.ErrUnavailable)
			}
			applied[e.TipID+" "+string(e.Side)]++
			return nil
		}}
	base := queue.Entry{Case: "ABCD-EFGH", Agency: "pe-lima", Channel: "sms", Priority: queue.Normal,
		ReceivedAt: time.UnixMilli(1700000000000).UTC(), ReplyCapable: true, Sealed: []byte("sealed")}
	old, with := base, base
	old.TipID = "old"
	with.TipID, with.Side = "with", []byte("sealed side")
	for _, e := range []queue.Entry{old, with} {
		if err := sp.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if left := p.Flush(context.Background()); left != 1 {
		t.Fatalf("%d records left after a refused apply, want the one whose side record was not applied", left)
	}
	if left := p.Flush(context.Background()); left != 0 {
		t.Fatalf("%d records left", left)
	}
	if len(applied) != 1 || applied["with sealed side"] != 1 {
		t.Fatalf("applied = %v", applied)
	}
}

// TestSideSealedOnlyForTheSpool: a tip Redis takes pays no seal for its
// side record; one that goes to the spool is sealed then, and drains with it.
func TestSideSealedOnlyForTheSpool(t *testing.T) {
	sp, err := spool.Open(t.TempDir(), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	primary := &fakePrimary{}
	var applied []string
	p := &spool.Publisher{Primary: primary, Spool: sp, Timeout: time.Second,
		Apply: func(ctx context.Context, e queue.Entry) error {
			applied = append(applied, e.TipID+" "+string(e.Side))
			return nil
		}}
	seals := 0
	entry := func(id string) queue.Entry {
		return queue.Entry{TipID: id, Case: "ABCD-EFGH", Agency: "pe-lima", Channel: "sms", Priority: queue.Normal,
			ReceivedAt: time.UnixMilli(1700000000000).UTC(), ReplyCapable: true, Sealed: []byte("sealed"),
			SealSide: func() ([]byte, error) { seals++; return []byte("side of " + id), nil }}
	}
	ctx := context.Background()
	if err := p.Publish(ctx, entry("up")); err != nil {
		t.Fatal(err)
	}
	if seals != 0 {
		t.Fatalf("%d side seals for a tip Redis took, want 0", seals)
	}
	primary.mode.Store(down)
	if err := p.Publish(ctx, entry("spooled")); err != nil {
		t.Fatal(err)
	}
	if seals != 1 {
		t.Fatalf("%d side seals for a spooled tip, want 1", seals)
	}
	primary.mode.Store(up)
	if left := p.Flush(ctx); left != 0 {
		t.Fatalf("%d records left", left)
	}
	if len(applied) != 1 || applied[0] != "spooled side of spooled" {
		t.Fatalf("applied = %q, want the spooled tip's side record", applied)
	}
}
