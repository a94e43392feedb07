package ouraemu

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// statuses sends n GETs of path and returns the statuses, 0 for a dropped connection.
func (e *emu) statuses(t *testing.T, path string, n int) []int {
	t.Helper()
	var out []int
	for range n {
		req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+allToken)
		resp, err := testClient.Do(req)
		if err != nil {
			out = append(out, 0)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out = append(out, resp.StatusCode)
	}
	return out
}

func TestCounterFaults(t *testing.T) {
	const p = live + "daily_sleep"
	tests := []struct {
		name   string
		faults Faults
		want   []int
		fault  string
	}{
		{"rate limit first", Faults{RateLimitFirst: 2}, []int{429, 429, 200, 200}, FaultRateLimit},
		{"rate limit every", Faults{RateLimitEvery: 3}, []int{200, 200, 429, 200, 200, 429, 200}, FaultRateLimit},
		{"rate limit first then every", Faults{RateLimitFirst: 1, RateLimitEvery: 2}, []int{429, 200, 429, 200, 429}, FaultRateLimit},
		{"server error burst", Faults{ServerErrorFirst: 3, ServerErrors: []int{502, 503}}, []int{502, 503, 502, 200}, FaultServerError},
		{"server error every", Faults{ServerErrorEvery: 2}, []int{200, 500, 200, 500}, FaultServerError},
		{"kinds chain in order", Faults{RateLimitFirst: 2, ServerErrorFirst: 1}, []int{429, 429, 500, 200}, ""},
		{"drop first", Faults{DropFirst: 1}, []int{0, 200, 200}, FaultDrop},
		{"drop every", Faults{DropEvery: 2}, []int{200, 0, 200, 0}, FaultDrop},
		{"upgrade required", Faults{UpgradeRequired: true}, []int{426, 426}, FaultUpgradeRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEmu(t, nil)
			e.SetFaults(tt.faults)
			if got := e.statuses(t, p, len(tt.want)); !slices.Equal(got, tt.want) {
				t.Errorf("statuses = %v, want %v", got, tt.want)
			}
			log := e.Requests()
			for i, r := range log {
				if r.Status != tt.want[i] {
					t.Errorf("log entry %d status %d, want %d", i, r.Status, tt.want[i])
				}
				if tt.fault != "" && (r.Fault == tt.fault) != (tt.want[i] != 200) {
					t.Errorf("log entry %d fault %q for status %d", i, r.Fault, r.Status)
				}
			}
			// SetFaults restarts the counters.
			e.SetFaults(tt.faults)
			if got := e.statuses(t, p, 1); got[0] != tt.want[0] {
				t.Errorf("after SetFaults first status %d, want %d", got[0], tt.want[0])
			}
		})
	}
}

func TestRateLimitHeaders(t *testing.T) {
	e := newEmu(t, nil)
	e.SetFaults(Faults{RateLimitFirst: 1, RetryAfter: 7})
	r := e.get(t, live+"daily_sleep", allToken)
	want := map[string]string{
		"Retry-After":        "7",
		"X-RateLimit-Limit":  "5000",
		"X-RateLimit-Window": "300",
		"X-RateLimit-Reset":  strconv.FormatInt(testNow.Unix()+7, 10),
		"X-RateLimit-Tier":   "token",
	}
	if r.status != http.StatusTooManyRequests || detail(t, r) == "" {
		t.Fatalf("got %d %s, want 429", r.status, r.body)
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	e.SetFaults(Faults{RateLimitFirst: 1, RateLimitLimit: 10, RateLimitWindow: 60, RateLimitTier: "application"})
	r = e.get(t, live+"daily_sleep", allToken)
	if r.header.Get("X-RateLimit-Limit") != "10" || r.header.Get("X-RateLimit-Window") != "60" ||
		r.header.Get("X-RateLimit-Tier") != "application" || r.header.Get("Retry-After") != "0" {
		t.Errorf("custom rate-limit headers = %v", r.header)
	}
}

func TestOnlyPaths(t *testing.T) {
	e := newEmu(t, nil)
	e.SetFaults(Faults{OnlyPaths: []string{"heartrate"}, RateLimitFirst: 1})
	if got := e.statuses(t, live+"daily_sleep", 2); !slices.Equal(got, []int{200, 200}) {
		t.Errorf("other collection = %v", got)
	}
	if got := e.statuses(t, live+"heartrate", 2); !slices.Equal(got, []int{429, 200}) {
		t.Errorf("chosen collection = %v", got)
	}
}

func TestFaultsSpareOAuthAndUnauthenticated(t *testing.T) {
	e := newEmu(t, nil)
	e.SetFaults(Faults{UpgradeRequired: true})
	rt := e.IssueRefreshToken("client-1", "daily")
	r := e.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {"client-1"}, "client_secret": {"secret-1"}}, false)
	if r.status != http.StatusOK {
		t.Errorf("token endpoint under faults: %d %s", r.status, r.body)
	}
	e.SetFaults(Faults{RateLimitFirst: 1})
	if r := e.get(t, live+"daily_sleep", "bad-token"); r.status != http.StatusUnauthorized {
		t.Errorf("bad token: %d, want 401", r.status)
	}
	// The 401 did not use up the scheduled 429.
	if r := e.get(t, live+"daily_sleep", allToken); r.status != http.StatusTooManyRequests {
		t.Errorf("first authenticated request: %d, want 429", r.status)
	}
}

func TestFailAfterPages(t *testing.T) {
	e := newEmu(t, func(o *Options) { o.PageSize = 2 })
	e.SetFaults(Faults{FailAfterPages: 2})
	p := decodePage(t, e.get(t, live+"daily_sleep?start_date=2024-03-01&end_date=2024-03-09", allToken))
	p = decodePage(t, e.get(t, live+"daily_sleep?next_token="+*p.NextToken, allToken))
	for _, path := range []string{"daily_sleep?next_token=" + *p.NextToken, "daily_readiness", "daily_sleep/daily_sleep-2024-03-01"} {
		if r := e.get(t, live+path, allToken); r.status != http.StatusServiceUnavailable {
			t.Errorf("%s after the page budget: %d, want 503", path, r.status)
		}
	}
	if log := e.Requests(); log[len(log)-1].Fault != FaultFailAfterPages {
		t.Errorf("last log entry fault %q", log[len(log)-1].Fault)
	}
}

func TestTruncatedBody(t *testing.T) {
	e := newEmu(t, nil)
	full := e.get(t, live+"daily_sleep?start_date=2024-02-01", allToken).body
	e.SetFaults(Faults{TruncateFirst: 1})
	req, _ := http.NewRequest(http.MethodGet, e.URL+live+"daily_sleep?start_date=2024-02-01", nil)
	req.Header.Set("Authorization", "Bearer "+allToken)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("truncated answer should still start: %v", err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err == nil {
		t.Fatalf("status %d, read error %v; want 200 and a failed read", resp.StatusCode, err)
	}
	if len(got) == 0 || len(got) >= len(full) || !strings.HasPrefix(string(full), string(got)) {
		t.Errorf("got %d of %d bytes, want a strict prefix", len(got), len(full))
	}
	if r := e.get(t, live+"daily_sleep?start_date=2024-02-01", allToken); string(r.body) != string(full) {
		t.Errorf("second answer not whole")
	}
	// The truncated request may be logged after the next one: its handler ends when the cut
	// connection is torn down, so look for it rather than at a position.
	truncated := 0
	for _, r := range e.Requests() {
		if r.Fault == FaultTruncate {
			truncated++
			if r.Status != 200 {
				t.Errorf("truncated answer logged with status %d, want 200", r.Status)
			}
		}
	}
	if truncated != 1 {
		t.Errorf("%d truncated answers logged, want 1: %+v", truncated, e.Requests())
	}
}

func TestEndlessNextToken(t *testing.T) {
	e := newEmu(t, nil)
	e.SetFaults(Faults{EndlessNextToken: true})
	first := e.get(t, live+"daily_sleep", allToken)
	p := decodePage(t, first)
	if p.NextToken == nil || len(p.Data) != 2 {
		t.Fatalf("first page %s", first.body)
	}
	again := e.get(t, live+"daily_sleep?next_token="+*p.NextToken, allToken)
	if string(again.body) != string(first.body) {
		t.Errorf("following the token gave\n%s\nwant the same page\n%s", again.body, first.body)
	}
	if log := e.Requests(); log[1].Fault != FaultEndlessToken {
		t.Errorf("log fault %q", log[1].Fault)
	}
}

func TestLatency(t *testing.T) {
	var mu sync.Mutex
	var waited []time.Duration
	e := newEmuWith(t, nil, func(s *Server) {
		s.wait = func(_ context.Context, d time.Duration) {
			mu.Lock()
			waited = append(waited, d)
			mu.Unlock()
		}
	})
	e.SetFaults(Faults{Latency: 250 * time.Millisecond, OnlyPaths: []string{"daily_sleep", "heartrate"}})
	e.get(t, live+"daily_sleep", allToken)
	e.get(t, live+"daily_readiness", allToken)
	e.get(t, "/oauth/authorize?response_type=code&client_id=client-1&redirect_uri=http://x/cb", "")
	e.get(t, live+"heartrate", allToken)
	mu.Lock()
	defer mu.Unlock()
	if want := []time.Duration{250 * time.Millisecond, 250 * time.Millisecond}; !slices.Equal(waited, want) {
		t.Errorf("latency applied %v, want %v (daily_sleep and heartrate only)", waited, want)
	}
}

// Go's http.Transport quietly replays an idempotent request once when a reused keep-alive
// connection closes without an answer, so a single dropped connection is invisible to a
// client like that: it takes two drops in a row to surface an error. This pins that fact,
// which connector tests depend on when they choose DropFirst.
func TestDropOnReusedConnection(t *testing.T) {
	e := newEmu(t, nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func() error {
		req, _ := http.NewRequest(http.MethodGet, e.URL+live+"daily_sleep", nil)
		req.Header.Set("Authorization", "Bearer "+allToken)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	e.SetFaults(Faults{DropFirst: 1})
	if err := get(); err != nil {
		t.Errorf("one drop on a reused connection surfaced: %v", err)
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	e.SetFaults(Faults{DropFirst: 2})
	if err := get(); err == nil {
		t.Errorf("two drops in a row did not surface")
	}
}
