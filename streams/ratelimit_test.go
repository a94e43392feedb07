package streams_test

import (
	"fmt"
	"strings"
	"testing"

	"source-oura/internal/ouraemu"
)

// TestRateLimitWaitIsShownToAirbyte: while a stream waits on a 429's Retry-After, Airbyte gets
// STREAM_STATUS RUNNING with a RATE_LIMITED reason whose quota_reset is when requests resume
// (Retry-After after the moment the wait began), then a plain RUNNING once requests flow again,
// and the records follow.
func TestRateLimitWaitIsShownToAirbyte(t *testing.T) {
	f := newFixture(t, 20, 1000)
	f.srv.SetFaults(ouraemu.Faults{OnlyPaths: []string{"daily_sleep"}, RateLimitFirst: 1, RetryAfter: 1})
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-04-01T00:00:00Z","end_datetime":"2025-04-10T00:00:00Z"}`, token, f.url)
	out := f.read(t, cfg, catalogOf(incremental, "daily_sleep"), "")
	if out.code != 0 {
		t.Fatalf("exit %d:\n%s", out.code, out.raw)
	}
	var events []string
	for _, m := range out.msgs {
		switch {
		case m.Trace != nil && m.Trace.StreamStatus != nil:
			st := m.Trace.StreamStatus
			ev := string(st.Status)
			for _, r := range st.Reasons {
				if r.Type != "RATE_LIMITED" || r.RateLimited == nil {
					t.Fatalf("reason %+v", r)
				}
				// The wait began at most a moment before the status was written.
				ahead := r.RateLimited.QuotaReset - m.Trace.EmittedAt
				if ahead <= 500 || ahead > 1001 {
					t.Errorf("quota_reset is %d ms after emitted_at, want Retry-After (1000 ms) from when the wait began", ahead)
				}
				ev += "(RATE_LIMITED)"
			}
			events = append(events, ev)
		case m.Record != nil && (len(events) == 0 || events[len(events)-1] != "RECORD"):
			events = append(events, "RECORD")
		}
	}
	got := strings.Join(events, " ")
	if want := "STARTED RUNNING(RATE_LIMITED) RUNNING RECORD COMPLETE"; got != want {
		t.Errorf("statuses %q, want %q", got, want)
	}
}

// TestNoRateLimitNoReason: a read that never waits has no RATE_LIMITED status at all.
func TestNoRateLimitNoReason(t *testing.T) {
	f := newFixture(t, 20, 1000)
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-04-01T00:00:00Z","end_datetime":"2025-04-10T00:00:00Z"}`, token, f.url)
	out := f.read(t, cfg, catalogOf(incremental), "")
	for _, m := range out.msgs {
		if m.Trace != nil && m.Trace.StreamStatus != nil && len(m.Trace.StreamStatus.Reasons) > 0 {
			t.Fatalf("unexpected reason in %+v", m.Trace.StreamStatus)
		}
	}
}
