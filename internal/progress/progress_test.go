package progress

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"source-oura/internal/fakeclock"
)

var day0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// TestLinesAreRateLimited: 10,000 records over 10 s with a 1 s interval give one frame a second,
// not one line a record, and each line carries days done of total and the record count.
func TestLinesAreRateLimited(t *testing.T) {
	var out bytes.Buffer
	clock := fakeclock.New(day0)
	p := New(&out, time.Second, clock.Now)
	p.Begin("daily_sleep", day0, day0.AddDate(0, 0, 100))
	for i := 1; i <= 10000; i++ {
		clock.Advance(time.Millisecond)
		p.Records("daily_sleep", int64(i), day0.AddDate(0, 0, i/100))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 10 {
		t.Fatalf("want 10 lines for 10 s at one a second, got %d:\n%s", len(lines), out.String())
	}
	if lines[len(lines)-1] != "source-oura: daily_sleep 90/100 days, 9001 records, 0 requests, 0 retries" {
		t.Errorf("last line %q, want days done of total and records", lines[len(lines)-1])
	}
	out.Reset()
	p.End("daily_sleep", true)
	if got := out.String(); got != "source-oura: done daily_sleep 100/100 days, 10000 records, 0 requests, 0 retries\n" {
		t.Errorf("final line %q", got)
	}
	out.Reset()
	p.Records("daily_sleep", 10001, time.Time{})
	clock.Advance(time.Hour)
	p.Records("daily_sleep", 10002, time.Time{})
	if out.Len() != 0 {
		t.Errorf("an ended stream is still shown: %q", out.String())
	}
}

// TestRequestsAndRetriesAreCounted: requests through the transport count for the stream whose
// path they go to; the same URL again is a retry, the next page is not.
func TestRequestsAndRetriesAreCounted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var out bytes.Buffer
	clock := fakeclock.New(day0)
	p := New(&out, time.Second, clock.Now)
	p.Watch("/v2/usercollection/heartrate", "heart_rate")
	p.Begin("heart_rate", time.Time{}, time.Time{})
	hc := &http.Client{Transport: p.Transport(http.DefaultTransport)}
	for _, q := range []string{"?a=1", "?a=1", "?a=1&next_token=x", "?a=2"} {
		resp, err := hc.Get(srv.URL + "/v2/usercollection/heartrate" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := hc.Get(srv.URL + "/v2/usercollection/personal_info") // not watched
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p.End("heart_rate", false)
	if want := "source-oura: stopped heart_rate 0 records, 4 requests, 1 retry\n"; !strings.HasSuffix(out.String(), want) {
		t.Fatalf("got %q, want it to end with %q", out.String(), want)
	}
}

// TestRateLimitWaitIsShownAtOnce: a rate-limit wait prints the stream's line at once, within the
// interval, with the time until requests resume; the end of the wait prints it again without.
func TestRateLimitWaitIsShownAtOnce(t *testing.T) {
	var out bytes.Buffer
	clock := fakeclock.New(day0)
	p := New(&out, time.Second, clock.Now)
	p.Begin("heart_rate", day0, day0.AddDate(0, 0, 10))
	p.Records("heart_rate", 5, day0.AddDate(0, 0, 2))
	out.Reset()
	p.RateLimited("heart_rate", day0.Add(59500*time.Millisecond))
	if got, want := out.String(), "source-oura: heart_rate 2/10 days, 5 records, 0 requests, 0 retries, rate limited by Oura, resuming in 1m0s\n"; got != want {
		t.Errorf("during the wait: %q, want %q", got, want)
	}
	out.Reset()
	clock.Set(day0.Add(time.Minute))
	p.RateLimited("heart_rate", time.Time{})
	if got, want := out.String(), "source-oura: heart_rate 2/10 days, 5 records, 0 requests, 0 retries\n"; got != want {
		t.Errorf("after the wait: %q, want %q", got, want)
	}
}
