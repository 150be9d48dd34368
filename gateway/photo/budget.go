package photo

import (
	"context"
	"fmt"

	"golang.org/x/sync/semaphore"
)

// DefaultBudget is the memory, in bytes, that all photo decoding of one
// process may hold at once. With the gateway's own working set (about
// 40 MB) it keeps a pod under a 512 MiB limit with room for the garbage
// collector's slack; a 12-megapixel phone JPEG costs about 60 MB of it, so
// two decode side by side and the rest wait.
const DefaultBudget = 128 << 20

// Budget shares a fixed amount of decoding memory between every Clean of a
// process. Each Clean reserves what its photo will cost, estimated from the
// header before any pixel is decoded, and waits while others hold the
// rest: concurrent uploads queue instead of multiplying the memory.
type Budget struct {
	sem  *semaphore.Weighted
	size int64
}

// NewBudget returns a budget of size bytes (DefaultBudget when size <= 0).
func NewBudget(size int64) *Budget {
	if size <= 0 {
		size = DefaultBudget
	}
	return &Budget{sem: semaphore.NewWeighted(size), size: size}
}

// Size is the budget in bytes: the most one photo may cost.
func (b *Budget) Size() int64 { return b.size }

// acquire waits for n bytes until ctx ends.
func (b *Budget) acquire(ctx context.Context, n int64) (release func(), err error) {
	if err := b.sem.Acquire(ctx, n); err != nil {
		return nil, fmt.Errorf("failed to wait for decoding memory: %w", err)
	}
	return func() { b.sem.Release(n) }, nil
}
