// Package fakeclock is the one settable clock the tests share: the emulator, the OAuth token
// source, the HTTP client's rate limits and the progress lines all take a clock, and a test
// must move them together. Only tests import it, so it never ships in the binary.
package fakeclock

import (
	"context"
	"sync"
	"time"
)

// Clock is a clock that moves only when told to. It is safe for concurrent use, because the
// code under test reads it from its own goroutines while the test moves it.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// New returns a clock that reads now until it is moved.
func New(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time; pass the method value where code takes a func() time.Time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Sleep returns at once with the clock moved forward by d, and records d, so a test of a
// wait (a retry's backoff, a rate limit) neither takes that long nor guesses how long it was.
// It returns the context's error without moving when ctx is already done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

// Sleeps returns every duration Sleep was asked for, in order.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}
