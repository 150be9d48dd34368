//go:build !demo

package demo

import (
	"errors"
	"io"
)

// inProcessRedis is missing from the production binary: it never keeps
// tips in a Redis of its own memory.
func inProcessRedis(io.Writer) (string, func(), error) {
	return "", nil, errors.New("the demo needs Redis: set REDIS_URL, install redis-server, or run `make run` (go run -tags demo ./cmd/hotline demo), which brings an in-process one")
}
