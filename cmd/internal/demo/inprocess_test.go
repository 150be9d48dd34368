//go:build demo

package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestInProcessRedis: built with -tags demo (make run), the demo brings a
// Redis of its own, and says loudly that nothing is kept.
func TestInProcessRedis(t *testing.T) {
	var stderr bytes.Buffer
	u, stop, err := inProcessRedis(&stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	addr := strings.TrimSuffix(strings.TrimPrefix(u, "redis://"), "/0")
	if !pingRedis(context.Background(), addr, time.Second) || !strings.Contains(stderr.String(), "NOTHING IS KEPT") {
		t.Fatalf("in-process Redis at %s: %s", u, stderr.String())
	}
}
