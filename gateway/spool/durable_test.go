package spool_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/spool"
)

// TestOpenPublisherKeepsAndHandsOver: tips spooled while Redis is down are
// counted in the stats, kept across a restart, and handed over when the
// publisher starts with Redis back; stop closes both spools.
func TestOpenPublisherKeepsAndHandsOver(t *testing.T) {
	dir := t.TempDir()
	f := &fakePrimary{byID: map[string]bool{}}
	f.mode.Store(down)
	p, err := spool.OpenPublisher(dir, f, spool.Options{}, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if p.Held == nil || p.Held.Dir() != filepath.Join(dir, spool.HeldDir) {
		t.Fatalf("held spool in %v", p.Held)
	}
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if err := p.Publish(ctx, entry(id)); err != nil {
			t.Fatal(err)
		}
	}
	if st := p.Stats(); st.Records != 2 || st.Appended != 2 || st.Oldest.IsZero() || st.Unconfirmed != 0 {
		t.Fatalf("stats while down: %+v", st)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	f.mode.Store(up)
	p, err = spool.OpenPublisher(dir, f, spool.Options{}, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	stop := p.Start()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	stop(sctx)
	if got := f.queued(); len(got) != 2 {
		t.Fatalf("after the restart: %v queued, want a and b", got)
	}
	if _, err := spool.Open(dir, spool.Options{}); err != nil {
		t.Fatalf("the spool is still locked after stop: %v", err)
	}
}
