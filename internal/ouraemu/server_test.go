package ouraemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const live = "/v2/usercollection/"

func TestDateBoundaryPerCollection(t *testing.T) {
	e := newEmu(t, nil)
	tests := []struct {
		collection, query string
		wantDays          []string
	}{
		// Activity is keyed at 04:00, so a bare end date (00:00) leaves its day out.
		{"daily_activity", "start_date=2024-03-05&end_date=2024-03-07", []string{"2024-03-05", "2024-03-06"}},
		{"daily_readiness", "start_date=2024-03-05&end_date=2024-03-07", []string{"2024-03-05", "2024-03-06", "2024-03-07"}},
		{"daily_sleep", "start_date=2024-03-05&end_date=2024-03-07", []string{"2024-03-05", "2024-03-06", "2024-03-07"}},
		// Sleep is keyed at bedtime the evening before its day, so the start day drops out.
		{"sleep", "start_date=2024-03-05&end_date=2024-03-07", []string{"2024-03-06", "2024-03-07"}},
		// A date-time end reaches into the day.
		{"daily_activity", "start_date=2024-03-05&end_date=2024-03-07T23:59:59", []string{"2024-03-05", "2024-03-06", "2024-03-07"}},
		// Only the wall-clock part of a date-time counts, whatever its offset.
		{"daily_activity", "start_date=2024-03-05&end_date=2024-03-07T04:00:00%2B05:00", []string{"2024-03-05", "2024-03-06", "2024-03-07"}},
		{"daily_activity", "start_date=2024-03-05&end_date=2024-03-07T03:59:59Z", []string{"2024-03-05", "2024-03-06"}},
		{"daily_readiness", "start_date=2024-03-07&end_date=2024-03-07", []string{"2024-03-07"}},
		// Defaults: end is today (2024-03-10), start the day before.
		{"daily_readiness", "", []string{"2024-03-09", "2024-03-10"}},
		{"daily_activity", "", []string{"2024-03-09"}},
		{"daily_readiness", "start_date=2024-03-08", []string{"2024-03-08", "2024-03-09", "2024-03-10"}},
		{"daily_readiness", "end_date=2024-03-05", []string{"2024-03-04", "2024-03-05"}},
		{"daily_readiness", "start_date=2030-01-01&end_date=2030-01-02", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.collection+"?"+tt.query, func(t *testing.T) {
			p := decodePage(t, e.get(t, live+tt.collection+"?"+tt.query, allToken))
			if got := field(t, p.Data, "day"); !slices.Equal(got, tt.wantDays) {
				t.Errorf("days = %v, want %v", got, tt.wantDays)
			}
		})
	}
}

func TestDatetimeWindow(t *testing.T) {
	e := newEmu(t, nil)
	tests := []struct {
		name, collection, query string
		wantFirst, wantLast     string
		wantCount               int
	}{
		{"default is the 24 h ending now", "heartrate", "",
			"2024-03-09T12:00:00Z", "2024-03-10T12:00:00Z", 25},
		{"both bounds inclusive", "heartrate", "start_datetime=2024-03-01T00:00:00Z&end_datetime=2024-03-01T03:00:00Z",
			"2024-03-01T00:00:00Z", "2024-03-01T03:00:00Z", 4},
		{"offsets are instants", "heartrate", "start_datetime=2024-03-01T02:00:00%2B02:00&end_datetime=2024-03-01T01:00:00Z",
			"2024-03-01T00:00:00Z", "2024-03-01T01:00:00Z", 2},
		{"only start: end is now", "heartrate", "start_datetime=2024-03-10T10:00:00Z",
			"2024-03-10T10:00:00Z", "2024-03-10T12:00:00Z", 3},
		{"only end: start is a day earlier", "heartrate", "end_datetime=2024-03-01T00:00:00Z",
			"2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z", 25},
		{"battery too", "ring_battery_level", "start_datetime=2024-03-01T00:00:00Z&end_datetime=2024-03-02T00:00:00Z",
			"2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := decodePage(t, e.get(t, live+tt.collection+"?"+tt.query, allToken))
			ts := field(t, p.Data, "timestamp")
			if len(ts) != tt.wantCount {
				t.Fatalf("got %d rows %v, want %d", len(ts), ts, tt.wantCount)
			}
			if ts[0] != tt.wantFirst || ts[len(ts)-1] != tt.wantLast {
				t.Errorf("rows span %s..%s, want %s..%s", ts[0], ts[len(ts)-1], tt.wantFirst, tt.wantLast)
			}
		})
	}
}

func TestQueryRejections(t *testing.T) {
	e := newEmu(t, nil)
	tests := []struct {
		name, path, wantDetail string
	}{
		{"31 days of heart rate", "heartrate?start_datetime=2024-02-01T00:00:00Z&end_datetime=2024-03-02T00:00:01Z", "30 days"},
		{"31 days of battery", "ring_battery_level?start_datetime=2024-02-01T00:00:00Z&end_datetime=2024-03-02T00:00:01Z", "30 days"},
		{"only a start far back", "heartrate?start_datetime=2024-01-01T00:00:00Z", "30 days"},
		{"unencoded plus", "heartrate?start_datetime=2024-03-01T00:00:00+02:00", "%2B"},
		{"bare date for a datetime", "heartrate?start_datetime=2024-03-01", "start_datetime"},
		{"datetime without offset", "heartrate?end_datetime=2024-03-01T00:00:00", "end_datetime"},
		{"datetime start after end", "heartrate?start_datetime=2024-03-02T00:00:00Z&end_datetime=2024-03-01T00:00:00Z", "after"},
		{"date start after end", "daily_sleep?start_date=2024-03-02&end_date=2024-03-01", "after"},
		{"date start after default end", "daily_sleep?start_date=2024-03-11", "after"},
		{"garbage date", "daily_sleep?start_date=1", "start_date"},
		{"empty date", "daily_sleep?end_date=", "end_date"},
		{"slashed date", "daily_sleep?start_date=2024/03/01", "start_date"},
		{"malformed token", "daily_sleep?next_token=not-a-token", "next_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(t, live+tt.path, allToken)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", r.status, r.body)
			}
			if d := detail(t, r); !strings.Contains(d, tt.wantDetail) {
				t.Errorf("detail %q does not mention %q", d, tt.wantDetail)
			}
		})
	}

	// Exactly 30 days is still allowed.
	r := e.get(t, live+"heartrate?start_datetime=2024-02-01T00:00:00Z&end_datetime=2024-03-02T00:00:00Z", allToken)
	if p := decodePage(t, r); len(p.Data) == 0 {
		t.Errorf("30-day range returned no rows")
	}
}

func TestPagingVisitsEveryDocumentOnce(t *testing.T) {
	e := newEmu(t, func(o *Options) { o.PageSize = 2 })
	cases := []struct{ collection, query string }{
		{"daily_readiness", "start_date=2024-02-01&end_date=2024-03-10"},
		{"heartrate", "start_datetime=2024-03-01T00:00:00Z&end_datetime=2024-03-03T00:00:00Z"},
		{"ring_configuration", ""},
	}
	for _, c := range cases {
		for _, resend := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s resend=%v", c.collection, resend), func(t *testing.T) {
				got := e.listAll(t, live+c.collection, c.query, resend)
				s := e.Server
				s.mu.RLock()
				ds := s.data
				s.mu.RUnlock()
				var want []string
				for _, d := range ds.Docs[c.collection] {
					if c.query == "" {
						want = append(want, string(d.JSON))
						continue
					}
					w, err := s.firstPage(mustQuery(t, c.query), c.collection, kindOf(c.collection))
					if err != nil {
						t.Fatal(err)
					}
					if !d.Key.Before(w.Start) && !d.Key.After(w.End) {
						want = append(want, string(d.JSON))
					}
				}
				if len(want) <= 2 {
					t.Fatalf("test needs more than one page, have %d docs", len(want))
				}
				var gotS []string
				for _, d := range got {
					gotS = append(gotS, string(d))
				}
				if !slices.Equal(gotS, want) {
					t.Errorf("paged documents differ from the window:\n got %d %v\nwant %d %v", len(gotS), gotS, len(want), want)
				}
			})
		}
	}
}

func TestPagingIgnoresParamsSentWithToken(t *testing.T) {
	e := newEmu(t, func(o *Options) { o.PageSize = 2 })
	p := decodePage(t, e.get(t, live+"daily_sleep?start_date=2024-03-01&end_date=2024-03-05", allToken))
	if p.NextToken == nil {
		t.Fatal("want a next_token")
	}
	// Other dates sent with the token do not change the window the token belongs to.
	p2 := decodePage(t, e.get(t, live+"daily_sleep?start_date=2024-02-01&next_token="+*p.NextToken, allToken))
	if got := field(t, p2.Data, "day"); !slices.Equal(got, []string{"2024-03-03", "2024-03-04"}) {
		t.Errorf("second page days = %v", got)
	}
	// A token only works for the collection it came from.
	r := e.get(t, live+"daily_activity?next_token="+*p.NextToken, allToken)
	if r.status != http.StatusBadRequest {
		t.Errorf("foreign token: status %d, want 400", r.status)
	}
	// An empty next_token is the same as none.
	p3 := decodePage(t, e.get(t, live+"daily_sleep?start_date=2024-03-01&end_date=2024-03-05&next_token=", allToken))
	if got := field(t, p3.Data, "day"); !slices.Equal(got, []string{"2024-03-01", "2024-03-02"}) {
		t.Errorf("first page days = %v", got)
	}
}

func TestPersonalInfoIsBare(t *testing.T) {
	e := newEmu(t, nil)
	r := e.get(t, live+"personal_info", allToken)
	if r.status != http.StatusOK || string(r.body) != `{"id":"me","age":40}` {
		t.Errorf("personal_info = %d %s", r.status, r.body)
	}
}

func TestSingleDocument(t *testing.T) {
	e := newEmu(t, nil)
	r := e.get(t, live+"daily_sleep/daily_sleep-2024-03-03", allToken)
	if r.status != http.StatusOK || string(r.body) != `{"id":"daily_sleep-2024-03-03","day":"2024-03-03"}` {
		t.Errorf("existing document = %d %s", r.status, r.body)
	}
	r = e.get(t, live+"ring_configuration/ring-1", allToken)
	if r.status != http.StatusOK || string(r.body) != `{"id":"ring-1"}` {
		t.Errorf("ring configuration = %d %s", r.status, r.body)
	}
	r = e.get(t, live+"daily_sleep/nope", allToken)
	if r.status != http.StatusNotFound || string(r.body) != `{"detail":"Document not found."}` {
		t.Errorf("missing document = %d %s", r.status, r.body)
	}
	for _, p := range []string{"heartrate/x", "ring_battery_level/x", "personal_info/x", "daily_sleep/a/b"} {
		r = e.get(t, live+p, allToken)
		if r.status != http.StatusNotFound || string(r.body) != `{"detail":"Not Found"}` {
			t.Errorf("%s = %d %s, want route-level 404", p, r.status, r.body)
		}
	}
}

func TestSandbox(t *testing.T) {
	first, last := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	e := newEmu(t, func(o *Options) {
		o.Sandbox = handDataset("sb-", first, last)
		o.Tokens["no-scopes"] = nil
	})
	p := decodePage(t, e.get(t, "/v2/sandbox/usercollection/daily_sleep?start_date=2024-03-02&end_date=2024-03-02", "no-scopes"))
	if got := field(t, p.Data, "id"); !slices.Equal(got, []string{"sb-daily_sleep-2024-03-02"}) {
		t.Errorf("sandbox ids = %v", got)
	}
	r := e.get(t, "/v2/sandbox/usercollection/daily_sleep/sb-daily_sleep-2024-03-02", "no-scopes")
	if r.status != http.StatusOK {
		t.Errorf("sandbox single document: %d %s", r.status, r.body)
	}
	if r := e.get(t, live+"daily_sleep", "no-scopes"); r.status != http.StatusForbidden {
		t.Errorf("live route with no scopes: %d, want 403", r.status)
	}
	if r := e.get(t, "/v2/sandbox/usercollection/daily_sleep", ""); r.status != http.StatusUnauthorized {
		t.Errorf("sandbox without a token: %d, want 401", r.status)
	}
	r = e.get(t, "/v2/sandbox/usercollection/personal_info", allToken)
	if r.status != http.StatusNotFound || detail(t, r) != "Not Found" {
		t.Errorf("sandbox personal_info = %d %s, want 404", r.status, r.body)
	}

	// Without a sandbox dataset the sandbox routes serve the live data.
	e2 := newEmu(t, nil)
	p = decodePage(t, e2.get(t, "/v2/sandbox/usercollection/daily_sleep?start_date=2024-03-02&end_date=2024-03-02", allToken))
	if got := field(t, p.Data, "id"); !slices.Equal(got, []string{"daily_sleep-2024-03-02"}) {
		t.Errorf("sandbox falling back to live data: ids = %v", got)
	}
}

func TestBearerOnly(t *testing.T) {
	e := newEmu(t, nil)
	cases := []struct {
		name, header, query, wantDetail string
	}{
		{"no credentials", "", "", "missing Authorization"},
		{"token in the query", "", "?access_token=" + allToken, "Authorization header"},
		{"token in the query and the header", "Bearer " + allToken, "?access_token=" + allToken, "Authorization header"},
		{"basic auth", "Basic " + allToken, "", "Bearer"},
		{"unknown token", "Bearer nope", "", "Invalid access token"},
		{"empty bearer", "Bearer ", "", "Bearer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.URL+live+"daily_sleep"+c.query, nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			r := do(t, req)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", r.status)
			}
			if d := detail(t, r); !strings.Contains(d, c.wantDetail) {
				t.Errorf("detail %q does not mention %q", d, c.wantDetail)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL+live+"daily_sleep", nil)
	req.Header.Set("Authorization", "bearer "+allToken)
	if r := do(t, req); r.status != http.StatusOK {
		t.Errorf("lower-case scheme: %d, want 200", r.status)
	}
}

func TestScopes(t *testing.T) {
	for _, status := range []int{0, http.StatusUnauthorized} {
		want := status
		if want == 0 {
			want = http.StatusForbidden
		}
		e := newEmu(t, func(o *Options) { o.MissingScopeStatus = status })
		for _, c := range Collections {
			scope := ScopeOf(c)
			if scope == "" {
				t.Fatalf("collection %s has no scope", c)
			}
			var others []string
			for _, s := range AllScopes {
				if s != scope {
					others = append(others, s)
				}
			}
			without := e.IssueAccessToken(others...)
			r := e.get(t, live+c, without)
			if r.status != want || !strings.Contains(detail(t, r), scope) {
				t.Errorf("%s without %q: %d %s, want %d naming the scope", c, scope, r.status, r.body, want)
			}
			if r := e.get(t, live+c, e.IssueAccessToken(scope)); r.status != http.StatusOK {
				t.Errorf("%s with only %q: %d %s", c, scope, r.status, r.body)
			}
		}
	}
}

func TestRoutesAndMethods(t *testing.T) {
	e := newEmu(t, nil)
	for _, p := range []string{"/", "/v2/usercollection/heart_rate", "/v2/usercollection/", "/v1/sleep", "/v2/webhook/subscription"} {
		r := e.get(t, p, allToken)
		if r.status != http.StatusNotFound || string(r.body) != `{"detail":"Not Found"}` {
			t.Errorf("GET %s = %d %s, want 404 Not Found", p, r.status, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET %s content type %q", p, ct)
		}
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, live + "daily_sleep"},
		{http.MethodDelete, live + "daily_sleep/x"},
		{http.MethodGet, "/oauth/token"},
		{http.MethodPost, "/oauth/authorize"},
	} {
		req, _ := http.NewRequest(c.method, e.URL+c.path, nil)
		req.Header.Set("Authorization", "Bearer "+allToken)
		r := do(t, req)
		if r.status != http.StatusMethodNotAllowed || detail(t, r) == "" || r.header.Get("Allow") == "" {
			t.Errorf("%s %s = %d %s, want 405 with Allow", c.method, c.path, r.status, r.body)
		}
	}
}

func TestRequestLog(t *testing.T) {
	e := newEmu(t, nil)
	e.get(t, live+"daily_sleep?start_date=2024-03-01&end_date=2024-03-02", allToken)
	e.get(t, live+"daily_sleep?access_token=x", "")
	e.get(t, live+"heartrate?start_datetime=2024-03-01T00:00:00+02:00", allToken)
	e.get(t, "/nowhere", "")

	got := e.Requests()
	want := []Request{
		{Method: "GET", Path: live + "daily_sleep", AuthScheme: "Bearer", Status: 200},
		{Method: "GET", Path: live + "daily_sleep", AuthScheme: "query", Status: 401},
		{Method: "GET", Path: live + "heartrate", AuthScheme: "Bearer", Status: 400},
		{Method: "GET", Path: "/nowhere", AuthScheme: "", Status: 404},
	}
	if len(got) != len(want) {
		t.Fatalf("logged %d requests, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Method != w.Method || g.Path != w.Path || g.AuthScheme != w.AuthScheme || g.Status != w.Status || g.Fault != "" {
			t.Errorf("request %d = %+v, want %+v", i, g, w)
		}
		if !g.Time.Equal(testNow) {
			t.Errorf("request %d time %v, want the server clock %v", i, g.Time, testNow)
		}
	}
	if got[0].Query.Get("start_date") != "2024-03-01" || got[0].Query.Get("end_date") != "2024-03-02" {
		t.Errorf("query of request 0 = %v", got[0].Query)
	}
	// The log shows what the server decoded: an unencoded '+' arrived as a space.
	if v := got[2].Query.Get("start_datetime"); v != "2024-03-01T00:00:00 02:00" {
		t.Errorf("start_datetime logged as %q", v)
	}

	e.ResetRequests()
	if n := len(e.Requests()); n != 0 {
		t.Errorf("after reset the log has %d entries", n)
	}
}

func TestRequestLogLimit(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	e := newEmu(t, func(o *Options) {
		o.RequestLogLimit = 3
		o.OnRequest = func(r Request) {
			mu.Lock()
			seen = append(seen, r.Path)
			mu.Unlock()
		}
	})
	for i := range 10 {
		e.get(t, fmt.Sprintf("/n%d", i), "")
	}
	got := e.Requests()
	if len(got) < 3 || len(got) >= 6 || got[len(got)-1].Path != "/n9" {
		t.Errorf("bounded log holds %d entries ending %v", len(got), got[len(got)-1].Path)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 10 {
		t.Errorf("OnRequest saw %d requests, want 10", len(seen))
	}
}

func TestSetDatasetSwapsData(t *testing.T) {
	e := newEmu(t, nil)
	day := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	e.SetDataset(handDataset("new-", day, day))
	p := decodePage(t, e.get(t, live+"daily_sleep", allToken))
	if got := field(t, p.Data, "id"); !slices.Equal(got, []string{"new-daily_sleep-2024-03-10"}) {
		t.Errorf("after SetDataset ids = %v", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	ds := handDataset("", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC))
	e := newEmu(t, func(o *Options) { o.PageSize = 5 })
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				// Not e.get: t.Fatal must not be called off the test goroutine.
				req, _ := http.NewRequest(http.MethodGet, e.URL+live+"daily_sleep?start_date=2024-02-01", nil)
				req.Header.Set("Authorization", "Bearer "+allToken)
				resp, err := testClient.Do(req)
				if err != nil {
					t.Errorf("concurrent request: %v", err)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Errorf("concurrent request: %d %v", resp.StatusCode, err)
				}
				if i == 0 {
					e.SetDataset(ds)
					e.SetFaults(Faults{})
					_ = e.IssueAccessToken("daily")
				}
			}
		}()
	}
	wg.Wait()
	if n := len(e.Requests()); n != 40 {
		t.Errorf("logged %d requests, want 40", n)
	}
}

func TestEnvelopeIsValidJSON(t *testing.T) {
	docs := []Doc{{JSON: []byte(`{"a":1}`)}, {JSON: []byte(`{"b":[2]}`)}}
	for _, next := range []string{"", "abc_-"} {
		b := envelope(docs, next)
		var v struct {
			Data      []map[string]any `json:"data"`
			NextToken *string          `json:"next_token"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("envelope %s: %v", b, err)
		}
		if len(v.Data) != 2 || (next == "") != (v.NextToken == nil) || cap(b) != len(b) {
			t.Errorf("envelope %s (cap %d) decoded to %+v", b, cap(b), v)
		}
	}
	if got := string(envelope(nil, "")); got != `{"data":[],"next_token":null}` {
		t.Errorf("empty envelope = %s", got)
	}
}

// BenchmarkListPage measures serving a 721-row heart-rate page through the handler.
func BenchmarkListPage(b *testing.B) {
	first := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	s := NewServer(Options{
		Dataset: handDataset("", first, first.AddDate(0, 0, 60)),
		Now:     func() time.Time { return testNow },
		Tokens:  map[string][]string{allToken: AllScopes},
		// Bounded so the benchmark measures serving, not the log growing.
		RequestLogLimit: 100,
	})
	req := httptest.NewRequest(http.MethodGet,
		live+"heartrate?start_datetime=2024-02-01T00:00:00Z&end_datetime=2024-03-01T00:00:00Z", nil)
	req.Header.Set("Authorization", "Bearer "+allToken)
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
		b.SetBytes(int64(w.Body.Len()))
	}
}

func TestServesGeneratedData(t *testing.T) {
	// The newest 40 days of seed 1 before testNow in which every collection has a document, so
	// that none goes untested: rest mode comes only a few times a year.
	gen := DefaultOptions(testNow)
	var ds *Dataset
	for tries := 0; ; tries++ {
		gen.First = gen.Last.AddDate(0, 0, -39)
		ds = Generate(gen)
		if !slices.ContainsFunc(Collections, func(c string) bool { return c != "personal_info" && len(ds.Docs[c]) == 0 }) {
			break
		}
		if tries == 20 {
			t.Fatalf("seed 1 has no 40 days with every collection in the %d days before %s", 40*tries, testNow.Format(time.DateOnly))
		}
		gen.Last = gen.First.AddDate(0, 0, -1)
	}
	e := newEmu(t, func(o *Options) {
		o.Dataset = ds
		o.PageSize = 25
	})
	from, to := ds.First, ds.Last.AddDate(0, 0, 1)

	// Every list pages out exactly the stored documents of its window, in order.
	for _, c := range Collections {
		var query string
		switch kindOf(c) {
		case kindPersonal:
			continue
		case kindDate:
			query = "start_date=" + from.Format(time.DateOnly) + "&end_date=" + to.Format(time.DateOnly)
		case kindSeries:
			from := to.AddDate(0, 0, -30)
			query = "start_datetime=" + from.Format(time.RFC3339) + "&end_datetime=" + to.Format(time.RFC3339)
		}
		t.Run(c, func(t *testing.T) {
			var want []string
			w, err := e.firstPage(mustQuery(t, query), c, kindOf(c))
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range ds.Docs[c] {
				if kindOf(c) == kindAll || (!d.Key.Before(w.Start) && !d.Key.After(w.End)) {
					want = append(want, string(d.JSON))
				}
			}
			if len(want) == 0 {
				t.Fatalf("seed 1 has no %s documents in the listed window", c)
			}
			var got []string
			for _, d := range e.listAll(t, live+c, query, false) {
				got = append(got, string(d))
			}
			if !slices.Equal(got, want) {
				t.Errorf("served %d documents, want %d", len(got), len(want))
			}
		})
	}

	r := e.get(t, live+"personal_info", allToken)
	if r.status != http.StatusOK || string(r.body) != string(ds.PersonalInfo) {
		t.Errorf("personal_info = %d %s", r.status, r.body)
	}

	// The end-day split holds on generated documents too: find a day with both an activity
	// and a readiness document and ask for the two days ending on it.
	days := func(c string) map[string]bool {
		m := map[string]bool{}
		for _, d := range ds.Docs[c] {
			m[d.Day] = true
		}
		return m
	}
	act, ready := days("daily_activity"), days("daily_readiness")
	for d := ds.Last.AddDate(0, 0, -5); d.After(ds.First); d = d.AddDate(0, 0, -1) {
		day := d.Format(time.DateOnly)
		if !act[day] || !ready[day] {
			continue
		}
		q := "?start_date=" + d.AddDate(0, 0, -1).Format(time.DateOnly) + "&end_date=" + day
		if got := field(t, decodePage(t, e.get(t, live+"daily_activity"+q, allToken)).Data, "day"); slices.Contains(got, day) {
			t.Errorf("daily_activity%s includes the end day: %v", q, got)
		}
		if got := field(t, decodePage(t, e.get(t, live+"daily_readiness"+q, allToken)).Data, "day"); !slices.Contains(got, day) {
			t.Errorf("daily_readiness%s misses the end day: %v", q, got)
		}
		break
	}
}

func TestReviseThroughServer(t *testing.T) {
	gen := DefaultOptions(testNow)
	gen.First = gen.Last.AddDate(0, 0, -3)
	ds := Generate(gen)
	e := newEmu(t, func(o *Options) { o.Dataset = ds })
	id := ds.Docs["daily_sleep"][0].ID
	before := e.get(t, live+"daily_sleep/"+id, allToken)
	doc, err := e.Revise("daily_sleep", id)
	if err != nil {
		t.Fatalf("Revise: %v", err)
	}
	after := e.get(t, live+"daily_sleep/"+id, allToken)
	if after.status != http.StatusOK || string(after.body) != string(doc.JSON) || string(after.body) == string(before.body) {
		t.Errorf("after Revise the server answers %s (was %s, Revise returned %s)", after.body, before.body, doc.JSON)
	}
	var unknown *UnknownDocumentError
	if _, err := e.Revise("daily_sleep", "nope"); !errors.As(err, &unknown) {
		t.Errorf("Revise of an unknown id: %v, want an UnknownDocumentError", err)
	}
}

// TestRequestsWaitsForAnswersStillBeingLogged: a request is logged when its handler returns,
// which can come after its client has read the answer; Requests waits for it rather than
// returning a log one entry short (TestRefuseFieldsKnob failed that way in CI).
func TestRequestsWaitsForAnswersStillBeingLogged(t *testing.T) {
	s := NewServer(Options{})
	s.arrivals.Add(1) // arrived, its handler still running
	go func() {
		time.Sleep(50 * time.Millisecond)
		s.record(Request{Path: "/late", seq: 1})
	}()
	if got := s.Requests(); len(got) != 1 || got[0].Path != "/late" {
		t.Fatalf("Requests() = %+v, want the request whose handler was still running", got)
	}
}
