package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// TestFloodCheckErrorMeansFlooded: when the flood counter cannot be read
// (Redis down, or refusing MGET as the shipped ACL once did), the form asks
// for proof of work as in a flood, and the failure is counted; with Redis
// answering and no flood, it does not.
func TestFloodCheckErrorMeansFlooded(t *testing.T) {
	k, err := pseudonym.New(bytes.Repeat([]byte("pepper-for-tests!"), 2))
	if err != nil {
		t.Fatal(err)
	}
	guardOn := func(rdb redis.UniversalClient, prefix string) (*guard, *[]string) {
		o := WebOptions{Keyer: k, Redis: rdb, Prefix: prefix, PoW: PoWFlood}
		o.defaults()
		g := newGuard(o, slog.New(slog.DiscardHandler))
		var counted []string
		g.failedSafe = func(c string) { counted = append(counted, c) }
		return g, &counted
	}
	ctx := context.Background()

	r := queuetest.New(t)
	calm, counted := guardOn(r.Client, r.Prefix)
	if calm.powRequired(ctx) || len(*counted) != 0 {
		t.Fatalf("no flood, Redis answering: proof of work required %v, failures counted %v", calm.powRequired(ctx), *counted)
	}

	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer down.Close()
	unknown, counted := guardOn(down, "hl")
	if !unknown.powRequired(ctx) {
		t.Error("flood counter unreadable: proof of work not required, want required (unknown is a flood)")
	}
	if !slices.Equal(*counted, []string{CheckWebFlood}) {
		t.Errorf("failures counted %v, want [%s]", *counted, CheckWebFlood)
	}
}
