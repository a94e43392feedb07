package streams

import (
	"context"
	"sync"
)

// LookaheadBytes bounds the records fetched ahead of the writer, over every stream of the
// process: windows of heart_rate and ring_battery_level read ahead, and streams read at the
// same time, all draw on it. The window each stream is writing stays out of it: it may keep
// a couple of batches ahead of its writer (headSlack) and no more, so that the writer never
// waits on the budget and a fast body does not fill the budget that other windows need.
const LookaheadBytes = 16 << 20

// lookahead is the budget every Reader of the process shares.
var lookahead = newByteBudget(LookaheadBytes)

// byteBudget is a counting semaphore in bytes.
type byteBudget struct {
	mu      sync.Mutex
	used    int64
	limit   int64
	changed chan struct{} // closed and replaced whenever room may have appeared
}

func newByteBudget(limit int64) *byteBudget {
	return &byteBudget{limit: limit, changed: make(chan struct{})}
}

// acquire takes n bytes for a batch of a window fetched ahead, waiting until they fit
// under the limit. For the window being written (head reports true) it takes nothing and
// waits until room reports that the window has fewer than headSlack batches waiting. It
// returns the bytes taken, and fails only when ctx is done.
func (b *byteBudget) acquire(ctx context.Context, n int64, head, room func() bool) (int64, error) {
	for {
		b.mu.Lock()
		switch {
		case head():
			if room() {
				b.mu.Unlock()
				return 0, nil
			}
		case b.used+n <= b.limit:
			b.used += n
			b.mu.Unlock()
			return n, nil
		}
		wait := b.changed
		b.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// release gives back n bytes.
func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
	b.wake()
}

// wake lets waiting callers look again: room was given back, or a window became the one
// being written.
func (b *byteBudget) wake() {
	b.mu.Lock()
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// inUse reports the bytes taken, for tests.
func (b *byteBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
