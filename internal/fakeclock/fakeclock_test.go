package fakeclock

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestClockMovesOnlyWhenTold: Now stays put until Advance, Set or Sleep; Sleep records what it
// was asked and does not move a clock whose context is done.
func TestClockMovesOnlyWhenTold(t *testing.T) {
	t0 := time.Date(2025, 4, 20, 12, 0, 0, 0, time.UTC)
	c := New(t0)
	if first := c.Now(); !first.Equal(t0) || !c.Now().Equal(first) {
		t.Fatalf("Now = %v, then %v; want %v until the clock is moved", first, c.Now(), t0)
	}
	c.Advance(time.Minute)
	if err := c.Sleep(context.Background(), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(time.Minute + 2*time.Second); !c.Now().Equal(want) {
		t.Fatalf("Now = %v; want %v", c.Now(), want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); err == nil {
		t.Fatal("Sleep with a cancelled context returned nil")
	}
	if got := c.Sleeps(); !slices.Equal(got, []time.Duration{2 * time.Second}) {
		t.Fatalf("Sleeps = %v; want [2s]", got)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("after Set, Now = %v", c.Now())
	}
}
