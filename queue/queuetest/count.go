package queuetest

import (
	"context"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Counter is a client hook that counts what the client sends to Redis:
// RoundTrips, one per command sent alone and one per pipeline or
// transaction; Commands, every command, alone or in a pipeline.
type Counter struct {
	RoundTrips, Commands atomic.Int64
}

// DialHook is the hook's: dials are not counted.
func (*Counter) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook counts a command sent alone.
func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.RoundTrips.Add(1)
		c.Commands.Add(1)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook counts a pipeline and its commands.
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.RoundTrips.Add(1)
		c.Commands.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}
