package officer_test

import (
	"testing"

	"github.com/hotline-org/hotline/queue/queuetest"
)

// TestMain runs the suite on a three-master Redis Cluster when
// HOTLINE_TEST_REDIS_MODE=cluster: List scans every master.
func TestMain(m *testing.M) { queuetest.Main(m) }
