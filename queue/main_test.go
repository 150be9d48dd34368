package queue_test

import (
	"testing"

	"github.com/hotline-org/hotline/queue/queuetest"
)

// TestMain runs the queue suite on a three-master Redis Cluster when
// HOTLINE_TEST_REDIS_MODE=cluster.
func TestMain(m *testing.M) { queuetest.Main(m) }
