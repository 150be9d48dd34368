package handlers

import (
	"context"
	"time"

	"golang.org/x/sync/semaphore"
)

// DefaultUploadMemory is what the photos of all reports being read may
// hold at once (WebOptions.UploadMemory).
const DefaultUploadMemory = 160 << 20

// defaultUploadWait is how long a photo waits for memory to be read into:
// past it, it is read past (kept nowhere) and the report goes without it.
const defaultUploadWait = 10 * time.Second

// uploads bounds the photo bytes the form holds in memory, for all
// requests together: each photo takes the form's largest (max_photo)
// before it is read and gives back what it did not need; a report's
// photos are given back once it is queued or refused. Without a bound,
// a handful of connections that each post five photos of the largest
// size made the gateway hold gigabytes.
type uploads struct {
	sem    *semaphore.Weighted
	wait   time.Duration
	memory int64
}

func newUploads(memory int64, wait time.Duration) *uploads {
	if memory <= 0 {
		memory = DefaultUploadMemory
	}
	if wait <= 0 {
		wait = defaultUploadWait
	}
	return &uploads{sem: semaphore.NewWeighted(memory), wait: wait, memory: memory}
}

// free reports whether nothing is held (all memory could be taken now).
func (u *uploads) free() bool {
	if !u.sem.TryAcquire(u.memory) {
		return false
	}
	u.sem.Release(u.memory)
	return true
}

// hold is what one request holds of the uploads' memory.
type hold struct {
	u    *uploads
	held int64
}

// take waits for n bytes, for the uploads' wait at most; false if they did
// not come (or the request ended).
func (h *hold) take(ctx context.Context, n int64) bool {
	ctx, cancel := context.WithTimeout(ctx, h.u.wait)
	defer cancel()
	if h.u.sem.Acquire(ctx, n) != nil {
		return false
	}
	h.held += n
	return true
}

// give gives back n bytes of what h holds.
func (h *hold) give(n int64) {
	n = min(n, h.held)
	if n > 0 {
		h.u.sem.Release(n)
		h.held -= n
	}
}

// done gives back all h holds.
func (h *hold) done() { h.give(h.held) }
