package streams

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"source-oura/protocol"
)

// beginRecorder is a Progress that keeps the ranges streams begin with.
type beginRecorder struct {
	mu     sync.Mutex
	ranges map[string][2]time.Time
}

func (b *beginRecorder) Begin(stream string, from, to time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ranges[stream] = [2]time.Time{from, to}
}
func (b *beginRecorder) Records(string, int64, time.Time) {}
func (b *beginRecorder) RateLimited(string, time.Time)    {}
func (b *beginRecorder) End(string, bool)                 {}

// TestProgressShowsTheRangeRead: the range a person watching sees is the one the stream reads:
// for an incremental stream, from its saved cursor less the lookback, not from start_datetime;
// a stream without days begins with no range.
func TestProgressShowsTheRangeRead(t *testing.T) {
	var asked []string
	var mu sync.Mutex
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Query().Get("start_date"))
		mu.Unlock()
		_, _ = w.Write([]byte(`{"data":[],"next_token":null}`))
	}))
	defer hs.Close()
	r, _ := directReader(t, hs.URL, time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC), 60, 1)
	rec := &beginRecorder{ranges: map[string][2]time.Time{}}
	r.Progress, r.LookbackDays = rec, 2
	sleep := fullRefreshJob(t, "daily_sleep")
	sleep.Mode, sleep.State = protocol.Incremental, json.RawMessage(`{"cursor":"2025-04-15","v":1}`)
	if err := r.Read(context.Background(), []Job{sleep, fullRefreshJob(t, "ring_configurations")}); err != nil {
		t.Fatal(err)
	}
	from := rec.ranges["daily_sleep"][0]
	if want := time.Date(2025, 4, 13, 0, 0, 0, 0, time.UTC); !from.Equal(want) {
		t.Errorf("progress began daily_sleep at %s, want the saved cursor less 2 days of lookback, %s", from, want)
	}
	if len(asked) == 0 || asked[0] == "" {
		t.Fatalf("requests %q", asked)
	}
	if day, _ := time.Parse(time.DateOnly, asked[0]); day.After(from) {
		t.Errorf("the read asked from %s, after the %s progress shows", asked[0], from.Format(time.DateOnly))
	}
	if rng, ok := rec.ranges["ring_configurations"]; !ok || !rng[0].IsZero() || !rng[1].IsZero() {
		t.Errorf("ring_configurations began with %v (seen %v), want no range", rng, ok)
	}
}
