package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue/queuetest"
)

// TestDemoRedisServerFromPath: without REDIS_URL or a local Redis, the
// demo runs a redis-server of its own from PATH and stops it on exit.
func TestDemoRedisServerFromPath(t *testing.T) {
	path := queuetest.NeedProgram(t, "redis-server")
	var stderr bytes.Buffer
	ctx := context.Background()
	u, stop, err := startRedisServer(ctx, path, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(u, "redis://"), "/0")
	if !pingRedis(ctx, addr, time.Second) || !strings.Contains(stderr.String(), "keeps nothing") {
		t.Fatalf("redis-server at %s does not answer: %s", u, stderr.String())
	}
	stop()
	if pingRedis(ctx, addr, 200*time.Millisecond) {
		t.Fatal("redis-server still answers after stop")
	}
}
