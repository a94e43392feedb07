package oura

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestRateWindowLetsABurstThroughThenWaitsExactly(t *testing.T) {
	clk := newFakeClock()
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 200, `{}`) },
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.RequestsPer5Min = 3 }, clk)
	get := func() {
		t.Helper()
		if _, err := c.Get(context.Background(), docPath, nil); err != nil {
			t.Fatalf("Get: %v", err)
		}
	}

	// A first burst of the whole budget goes through without waiting.
	get()
	clk.Advance(time.Minute)
	get()
	get()
	if s := clk.Sleeps(); len(s) != 0 {
		t.Fatalf("waited %v within the budget", s)
	}
	// The fourth request must wait until the first leaves the window: 5 min after it, 4 min from now.
	get()
	if s := clk.Sleeps(); fmt.Sprint(s) != "[4m0s]" {
		t.Errorf("waits = %v, want [4m0s]", s)
	}
	// The fifth waits for the second and third (sent at +1 min), i.e. until +6 min; it is now +5 min.
	get()
	if s := clk.Sleeps(); fmt.Sprint(s) != "[4m0s 1m0s]" {
		t.Errorf("waits = %v, want [4m0s 1m0s]", s)
	}
	if n := f.callsTo(docPath); n != 5 {
		t.Errorf("server calls = %d, want 5", n)
	}
}

func TestRateWindowCountsRetries(t *testing.T) {
	clk := newFakeClock()
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, call int) {
			if call == 1 {
				writeJSON(w, 503, `{}`)
				return
			}
			writeJSON(w, 200, `{}`)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.RequestsPer5Min = 2 }, clk)
	if _, err := c.Get(context.Background(), docPath, nil); err != nil {
		t.Fatalf("Get: %v", err)
	}
	// The 503 and its retry used both slots, so the next request waits for the whole window.
	if _, err := c.Get(context.Background(), docPath, nil); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if s := clk.Sleeps(); fmt.Sprint(s) != "[5m0s]" {
		t.Errorf("waits = %v, want [5m0s]", s)
	}
}

func TestRateWindowWaitObeysContext(t *testing.T) {
	clk := newFakeClock()
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 200, `{}`) },
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.RequestsPer5Min = 1 }, clk)
	if _, err := c.Get(context.Background(), docPath, nil); err != nil {
		t.Fatalf("Get: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cancelledAfterOneCall(t, ctx, c, f)
}

func TestRateWindowRealClockWaitObeysContext(t *testing.T) {
	w := newRateWindow(1, time.Hour, systemClock{}, zerolog.Nop())
	if _, err := w.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	if _, err := w.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled (and no hour-long wait)", err)
	}
}

func TestRateWindowHoldsUnderConcurrentCallers(t *testing.T) {
	const limit, callers = 4, 23
	clk := newFakeClock()
	w := newRateWindow(limit, budgetWindow, clk, zerolog.Nop())
	var mu sync.Mutex
	var granted []time.Time
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			at, err := w.wait(context.Background())
			if err != nil {
				t.Errorf("wait: %v", err)
				return
			}
			mu.Lock()
			granted = append(granted, at)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(granted) != callers {
		t.Fatalf("%d grants, want %d", len(granted), callers)
	}
	sort.Slice(granted, func(i, j int) bool { return granted[i].Before(granted[j]) })
	for i := limit; i < len(granted); i++ {
		if gap := granted[i].Sub(granted[i-limit]); gap < budgetWindow {
			t.Errorf("grants %d and %d are %s apart: more than %d in 5 minutes", i-limit, i, gap, limit)
		}
	}
	for i := 1; i < limit; i++ {
		if !granted[i].Equal(granted[0]) {
			t.Errorf("the first burst of %d was not immediate: %v", limit, granted[:limit])
		}
	}
}

func TestRateWindowSharedByConcurrentRequests(t *testing.T) {
	const limit, callers = 4, 13
	clk := newFakeClock()
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 200, `{}`) },
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.RequestsPer5Min = limit }, clk)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if _, err := c.Get(context.Background(), docPath, nil); err != nil {
				t.Errorf("Get: %v", err)
			}
		})
	}
	wg.Wait()
	if n := f.callsTo(docPath); n != callers {
		t.Errorf("server calls = %d, want %d", n, callers)
	}
	// 13 requests with a budget of 4 cannot all be sent within 15 minutes of the first.
	if moved := clk.Now().Sub(newFakeClock().Now()); moved < 3*budgetWindow {
		t.Errorf("the clock moved only %s (waits %v); 13 requests at 4 per 5 min need 15 min", moved, clk.Sleeps())
	}
}
