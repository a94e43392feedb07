package oura

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// recordingObserver notes the calls a RateLimitObserver gets, in order.
type recordingObserver struct {
	mu     sync.Mutex
	events []string
}

func (o *recordingObserver) Waiting(until time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, "wait until "+until.UTC().Format(time.TimeOnly))
}

func (o *recordingObserver) Sending() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, "send")
}

func (o *recordingObserver) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return fmt.Sprint(o.events)
}

// wantHeard reads every page of f's list with a client tuned by tweak on clk (nil: the system
// clock), and fails unless the observer heard want.
func wantHeard(t *testing.T, f *fakeOura, tweak func(*Config), clk clock, want string) {
	t.Helper()
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), tweak, clk)
	obs := &recordingObserver{}
	p := c.Pages(listPath, nil)
	for p.Next(WithRateLimitObserver(context.Background(), obs), discard) {
	}
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if got := obs.String(); got != want {
		t.Errorf("observer heard %s, want %s", got, want)
	}
}

// TestObserverHearsA429Wait: a 429 with Retry-After tells the observer when requests resume
// (the clock's now plus Oura's wait), then that the retry is sent.
func TestObserverHearsA429Wait(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, call int) {
			if call == 1 {
				w.Header().Set("Retry-After", "1")
				writeJSON(w, 429, `{"detail":"Too many requests"}`)
				return
			}
			writeJSON(w, 200, `{"data":[{"id":"a"}],"next_token":null}`)
		},
	})
	clk := newFakeClock() // 12:00:00; retryablehttp still sleeps the real second
	wantHeard(t, f, func(cfg *Config) { cfg.MaxRetryAfter = 5 * time.Second }, clk, "[send wait until 12:00:01 send]")
}

// TestObserverHearsTheBudgetWait: the client's own rolling budget (here 1 request per 5 minutes)
// reports the moment the window frees a slot.
func TestObserverHearsTheBudgetWait(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, call int) {
			if call == 1 {
				writeJSON(w, 200, `{"data":[{"id":"a"}],"next_token":"t2"}`)
				return
			}
			writeJSON(w, 200, `{"data":[{"id":"b"}],"next_token":null}`)
		},
	})
	clk := newFakeClock()
	wantHeard(t, f, func(cfg *Config) { cfg.RequestsPer5Min = 1 }, clk, "[send wait until 12:05:00 send]")
}

// TestObserverIgnoresOtherRetries: a 503 retried with backoff is an outage, not a rate limit.
func TestObserverIgnoresOtherRetries(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, call int) {
			if call == 1 {
				writeJSON(w, 503, `{}`)
				return
			}
			writeJSON(w, 200, `{"data":[],"next_token":null}`)
		},
	})
	wantHeard(t, f, nil, nil, "[send send]")
}
