package photo

import (
	"context"
	"fmt"

	"golang.org/x/sync/semaphore"
)

// DefaultBudget is the memory, in bytes, that all photo decoding of one
// process may hold at once. A 12-megapixel phone JPEG costs about 70 MB of
// it, so two decode side by side and the rest wait; a 48-megapixel one
// (a phone's "high resolution" mode) about 140 MB, which still fits. With
// the gateway's own working set (about 40 MB) and the collector's slack it
// keeps a gateway under a 512 MiB limit (deploy/k8s sets GOMEMLIMIT).
const DefaultBudget = 160 << 20

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
