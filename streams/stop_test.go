package streams

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"source-oura/internal/oura"
	"source-oura/internal/ouratest"
	"source-oura/protocol"
)

// stopReader is a directReader whose client retries three times with no wait, reading the
// given streams one at a time.
func stopReader(t *testing.T, baseURL string) *Reader {
	t.Helper()
	r, _ := directReader(t, baseURL, time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC), 20, 1)
	client, err := oura.New(oura.Config{BaseURL: baseURL, Tokens: oura.StaticToken("direct-reader-token"),
		RequestsPer5Min: 1 << 30, MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.Client = client
	return r
}

var stopStreams = []string{"daily_sleep", "tags", "workouts", "sessions"}

func stopJobs(t *testing.T) []Job {
	jobs := make([]Job, len(stopStreams))
	for i, name := range stopStreams {
		jobs[i] = fullRefreshJob(t, name)
	}
	return jobs
}

// TestUnreachableOuraStopsTheSync: a server that takes every connection and closes it without a
// word fails the first stream after its three attempts; the three streams after it are not
// attempted (no connection of theirs, INCOMPLETE without STARTED), and the sync ends with one
// transient UnreachableError naming all four. Before, each stream spent its own attempts, minutes
// each against a server that hangs.
func TestUnreachableOuraStopsTheSync(t *testing.T) {
	addr, conns := ouratest.Listen(t, nil)
	r := stopReader(t, "http://"+addr)
	err := r.Read(context.Background(), stopJobs(t))
	var ue *UnreachableError
	if !errors.As(err, &ue) || len(ue.Failed) != len(stopStreams) || ue.Type != protocol.TransientError {
		t.Fatalf("Read = %v; want an UnreachableError, transient, naming all %d streams", err, len(stopStreams))
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections; want the first stream's 3 attempts and nothing for the streams after it", n)
	}
	_ = r.Out.Flush()
}

// TestServerErrorsDoNotStopTheSync: a 503 is an answer. A stream that gets nothing else fails on
// its own and the next streams are still tried (Oura may be down for one collection only).
func TestServerErrorsDoNotStopTheSync(t *testing.T) {
	var requests atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer hs.Close()
	r := stopReader(t, hs.URL)
	err := r.Read(context.Background(), stopJobs(t))
	var se *SyncError
	var ue *UnreachableError
	if !errors.As(err, &se) || errors.As(err, &ue) || len(se.Failed) != len(stopStreams) {
		t.Fatalf("Read = %v; want a SyncError naming all %d streams", err, len(stopStreams))
	}
	if n := requests.Load(); n != 3*int64(len(stopStreams)) {
		t.Errorf("%d requests; want 3 attempts for each of the %d streams", n, len(stopStreams))
	}
}
