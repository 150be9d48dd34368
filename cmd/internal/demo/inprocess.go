//go:build demo

package demo

import (
	"fmt"
	"io"
	"strings"

	"github.com/alicebob/miniredis/v2"
)

// inProcessRedis starts a Redis inside the process (miniredis), for make
// run on a machine without one. It is built only with -tags demo: the
// production binary carries no in-process Redis.
func inProcessRedis(w io.Writer) (string, func(), error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return "", nil, fmt.Errorf("failed to start the in-process Redis: %w", err)
	}
	banner := strings.Repeat("!", 78)
	fmt.Fprintf(w, "%s\n!! DEMO ONLY: no Redis found, using an in-process Redis. NOTHING IS KEPT.    !!\n!! Set REDIS_URL or run redis-server for a real queue.                       !!\n%s\n", banner, banner)
	return "redis://" + m.Addr() + "/0", m.Close, nil
}
