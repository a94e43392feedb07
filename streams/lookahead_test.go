package streams

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// endlessHeartRate answers every heart-rate request with a ~4 MB page of samples and a fresh next_token,
// so no window ever ends.
func endlessHeartRate(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var body bytes.Buffer
	body.WriteString(`{"data":[`)
	for i := 0; body.Len() < 4<<20; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		// 2019: outside every window, so the writer checks each sample and writes none.
		fmt.Fprintf(&body, `{"bpm":%d,"source":"awake","timestamp":"2019-01-01T00:%02d:00+00:00"}`, 50+i%50, i%60)
	}
	body.WriteString(`],"next_token":"`)
	page := body.Bytes()
	var n atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/heartrate") {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(page)
		fmt.Fprintf(w, `fresh-%d"}`, n.Add(1))
	}))
	t.Cleanup(hs.Close)
	return hs.URL, &n
}

// TestEndlessBigPagesStayInTheByteBudget: endless 4 MB pages in every heart-rate window, with 4 windows
// fetched ahead: the look-ahead never holds more than its byte budget (plus the written window's slack),
// the heap stays far under 256 MiB, the budget is all given back, and the stream ends with a clear error
// when the sync is stopped.
func TestEndlessBigPagesStayInTheByteBudget(t *testing.T) {
	base, pages := endlessHeartRate(t)
	r, out := directReader(t, base, time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), 150, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapAlloc
	var peakHeap, peakBudget int64
	done := make(chan error)
	go func() {
		done <- r.Read(ctx, []Job{fullRefreshJob(t, "heart_rate")})
	}()
	var readErr error
	for waiting := true; waiting; {
		select {
		case readErr = <-done:
			waiting = false
		case <-time.After(2 * time.Millisecond):
		}
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, int64(ms.HeapAlloc)-int64(baseHeap))
		peakBudget = max(peakBudget, lookahead.inUse())
	}
	_ = r.Out.Flush()

	if readErr == nil {
		t.Fatal("the read of endless windows succeeded")
	}
	if pages.Load() < 8 {
		t.Fatalf("only %d pages were served; the test did not stress the look-ahead", pages.Load())
	}
	if peakBudget > LookaheadBytes+1<<20 {
		t.Errorf("the look-ahead held %d MiB, over its %d MiB budget", peakBudget>>20, LookaheadBytes>>20)
	}
	if peakBudget < LookaheadBytes/2 {
		t.Errorf("the look-ahead peaked at %d MiB: the windows were not fetched ahead", peakBudget>>20)
	}
	if left := lookahead.inUse(); left != 0 {
		t.Errorf("%d bytes of the budget were not given back", left)
	}
	if peakHeap > 256<<20 {
		t.Errorf("the heap grew by %d MiB", peakHeap>>20)
	}
	var failed bool
	for _, m := range messages(t, out) {
		if m.Trace != nil && m.Trace.Error != nil && strings.Contains(m.Trace.Error.Message, "Stream heart_rate failed") {
			failed = true
		}
	}
	if !failed {
		t.Errorf("no error trace for heart_rate:\n%.2000s", out.String())
	}
	t.Logf("%d pages of 4 MB served; look-ahead peak %d MiB, heap growth peak %d MiB", pages.Load(), peakBudget>>20, peakHeap>>20)
}
