//go:build !demo

package demo

import (
	"io"
	"strings"
	"testing"
)

// TestNoInProcessRedisInTheProductionBinary: built without -tags demo, the
// demo says in one line how to get a Redis instead of starting its own.
func TestNoInProcessRedisInTheProductionBinary(t *testing.T) {
	_, _, err := inProcessRedis(io.Discard)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "REDIS_URL") || !strings.Contains(err.Error(), "make run") {
		t.Fatalf("inProcessRedis = %v", err)
	}
}
