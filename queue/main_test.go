package queue_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/hotline-org/hotline/queue/queuetest"
)

// TestMain runs the queue suite on a three-master Redis Cluster when
// HOTLINE_TEST_REDIS_MODE=cluster (make test does, in a second pass), so
// that every multi-key operation is shown to stay within one hash slot.
func TestMain(m *testing.M) {
	if os.Getenv("HOTLINE_TEST_REDIS_MODE") != "cluster" {
		os.Exit(m.Run())
	}
	if err := queuetest.ClusterTools(); err != nil && os.Getenv("CI") != "true" {
		fmt.Fprintln(os.Stderr, "queue tests on Redis Cluster skipped:", err)
		os.Exit(0)
	}
	c, err := queuetest.StartClusterForMain()
	if err != nil {
		fmt.Fprintln(os.Stderr, "queue tests on Redis Cluster:", err)
		os.Exit(1)
	}
	os.Setenv(queuetest.ClusterAddrsEnv, joinAddrs(c.Addrs))
	code := m.Run()
	c.Stop()
	os.Exit(code)
}

func joinAddrs(a []string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += ","
		}
		s += x
	}
	return s
}
