package streams_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/streams"
)

// countIn counts a collection's documents whose Key lies in [from, to].
func countIn(ds *ouraemu.Dataset, path string, from, to time.Time) int {
	n := 0
	for _, d := range ds.Docs[path] {
		if !d.Key.Before(from) && !d.Key.After(to) {
			n++
		}
	}
	return n
}

func pages(docs, pageSize int) int {
	if docs == 0 {
		return 1
	}
	return (docs + pageSize - 1) / pageSize
}

// requestsByStream counts the requests of a read per collection route.
func requestsByStream(srv *ouraemu.Server) map[string]int {
	out := map[string]int{}
	for _, r := range srv.Requests() {
		out[r.Path[strings.LastIndex(r.Path, "/")+1:]]++
	}
	return out
}

// TestRequestEconomy: a full read asks each collection the fewest requests its rules
// allow — one paged range for date collections, the fewest 30-day windows for time series —
// and a daily incremental run asks a handful.
func TestRequestEconomy(t *testing.T) {
	const pageSize = 200
	f := newFixture(t, 120, pageSize)
	start := time.Date(2024, 12, 22, 0, 0, 0, 0, time.UTC)
	end := time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC)
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":%q,"end_datetime":%q}`, token, f.url, start.Format(time.RFC3339), end.Format(time.RFC3339))
	out := f.read(t, cfg, catalogOf(incremental), "")
	if out.code != 0 {
		t.Fatalf("exit %d", out.code)
	}
	got := requestsByStream(f.srv)
	want := map[string]int{}
	for _, s := range streams.AllStreams() {
		switch s.Params {
		case streams.Dates:
			// One range, one day wider on each side; end_date is read as midnight.
			want[s.Path] = pages(countIn(f.ds, s.Path, start.AddDate(0, 0, -1), end.AddDate(0, 0, 1)), pageSize)
		case streams.DateTimes:
			n := 0
			for ws := start; ws.Before(end); ws = ws.AddDate(0, 0, 30) {
				we := ws.AddDate(0, 0, 30)
				if we.After(end) {
					we = end
				}
				n += pages(countIn(f.ds, s.Path, ws, we), pageSize)
			}
			want[s.Path] = n
		default:
			want[s.Path] = pages(len(f.ds.Docs[s.Path]), pageSize)
		}
	}
	var lines []string
	for path, w := range want {
		if got[path] != w {
			t.Errorf("%s: %d requests, the minimum is %d", path, got[path], w)
		}
		lines = append(lines, fmt.Sprintf("%s=%d", path, got[path]))
	}
	sort.Strings(lines)
	t.Logf("full read of 120 days, page size %d: %s", pageSize, strings.Join(lines, " "))

	// The next day's run, from this run's state: a handful per stream.
	f.srv.ResetRequests()
	next := f.read(t, strings.Replace(cfg, end.Format(time.RFC3339), end.AddDate(0, 0, 1).Format(time.RFC3339), 1), catalogOf(incremental), lastStates(t, out))
	if next.code != 0 {
		t.Fatalf("daily run exit %d", next.code)
	}
	daily := requestsByStream(f.srv)
	for _, s := range streams.AllStreams() {
		limit := 1
		if s.Params == streams.DateTimes {
			limit = pages(9*24*12, pageSize) // 7 lookback days + a new day of 5-minute rows
		}
		if daily[s.Path] > limit {
			t.Errorf("daily run: %s asked %d times, want at most %d", s.Name, daily[s.Path], limit)
		}
	}
}
