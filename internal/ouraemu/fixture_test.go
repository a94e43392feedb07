package ouraemu

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"source-oura/internal/fakeclock"
)

// testNow is the fake "now" of most tests: midday UTC on 2024-03-10.
var testNow = time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC)

// fakeClock is the shared settable clock, for Options.Now.
type fakeClock = fakeclock.Clock

// handDataset builds a small dataset by hand, with the filter keys the real API uses:
// daily_activity at 04:00 of its day, daily_readiness and daily_sleep at 00:00, sleep at
// bedtime 23:00 the evening before its day, and hourly heart rate. idPrefix keeps the ids of
// two datasets apart.
func handDataset(idPrefix string, first, last time.Time) *Dataset {
	ds := &Dataset{First: first, Last: last, Docs: map[string][]Doc{}}
	add := func(c, id, day string, key time.Time, js string) {
		ds.Docs[c] = append(ds.Docs[c], Doc{ID: id, Day: day, Key: key, JSON: []byte(js)})
	}
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		for _, c := range Collections {
			switch kindOf(c) {
			case kindSeries, kindAll, kindPersonal:
				continue
			}
			key := d
			switch c {
			case "daily_activity":
				key = d.Add(4 * time.Hour)
			case "sleep":
				key = d.Add(-time.Hour)
			}
			id := fmt.Sprintf("%s%s-%s", idPrefix, c, day)
			add(c, id, day, key, fmt.Sprintf(`{"id":%q,"day":%q}`, id, day))
		}
	}
	for t := first; !t.After(last.Add(24 * time.Hour)); t = t.Add(time.Hour) {
		ts := t.Format(time.RFC3339)
		add("heartrate", "", "", t, fmt.Sprintf(`{"bpm":60,"source":"awake","timestamp":%q}`, ts))
		if t.Hour()%6 == 0 {
			add("ring_battery_level", "", "", t, fmt.Sprintf(`{"level":80,"timestamp":%q}`, ts))
		}
	}
	for i := range 3 {
		id := fmt.Sprintf("%sring-%d", idPrefix, i)
		add("ring_configuration", id, "", time.Time{}, fmt.Sprintf(`{"id":%q}`, id))
	}
	for c, docs := range ds.Docs {
		sort.SliceStable(docs, func(i, j int) bool {
			if !docs[i].Key.Equal(docs[j].Key) {
				return docs[i].Key.Before(docs[j].Key)
			}
			return docs[i].ID < docs[j].ID
		})
		ds.Docs[c] = docs
	}
	ds.PersonalInfo = []byte(fmt.Sprintf(`{"id":"%sme","age":40}`, idPrefix))
	return ds
}

const allToken = "all-scopes"

// emu is a running test server with its handler and clock.
type emu struct {
	*Server
	URL   string
	clock *fakeClock
}

// newEmu starts a server over a hand-made dataset from 2024-02-01 to 2024-03-10 with a static
// token holding every scope. edit may change the options before the server is built.
func newEmu(t *testing.T, edit func(*Options)) *emu {
	t.Helper()
	return newEmuWith(t, edit, nil)
}

// newEmuWith is newEmu with a hook that may adjust the Server before it starts serving.
func newEmuWith(t *testing.T, edit func(*Options), prep func(*Server)) *emu {
	t.Helper()
	clock := fakeclock.New(testNow)
	opts := Options{
		Dataset: handDataset("", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)),
		Now:     clock.Now,
		Tokens:  map[string][]string{allToken: AllScopes},
		Clients: map[string]string{"client-1": "secret-1"},
	}
	if edit != nil {
		edit(&opts)
	}
	s := NewServer(opts)
	if prep != nil {
		prep(s)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return &emu{Server: s, URL: hs.URL, clock: clock}
}

// result is a whole answer.
type result struct {
	status int
	header http.Header
	body   []byte
}

// get sends GET path?query with the bearer token (none when token is "").
func (e *emu) get(t *testing.T, path, token string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.URL+path, nil)
	if err != nil {
		t.Fatalf("building request for %s: %v", path, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body of %s %s: %v", req.Method, req.URL, err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: body}
}

// testClient opens a connection per request, so a fault that closes a connection hits
// exactly the request it was meant for (see TestDropOnReusedConnection for why), and it does
// not follow redirects, so /oauth/authorize can be inspected.
var testClient = &http.Client{
	Transport:     &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// page is a decoded list envelope.
type page struct {
	Data      []json.RawMessage `json:"data"`
	NextToken *string           `json:"next_token"`
}

func decodePage(t *testing.T, r result) page {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.status, r.body)
	}
	var p page
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decoding page %s: %v", r.body, err)
	}
	if !strings.Contains(string(r.body), `"next_token":`) {
		t.Fatalf("page %s lacks next_token", r.body)
	}
	return p
}

// field returns one string field of each document.
func field(t *testing.T, docs []json.RawMessage, name string) []string {
	t.Helper()
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		var m map[string]any
		if err := json.Unmarshal(d, &m); err != nil {
			t.Fatalf("decoding document %s: %v", d, err)
		}
		s, _ := m[name].(string)
		out = append(out, s)
	}
	return out
}

// detail decodes {"detail": "..."}.
func detail(t *testing.T, r result) string {
	t.Helper()
	var v struct {
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding error body %s: %v", r.body, err)
	}
	return v.Detail
}

// listAll follows next_token to the end and returns every document, failing on a loop.
// resend chooses whether the original query goes along with each token.
func (e *emu) listAll(t *testing.T, path, query string, resend bool) []json.RawMessage {
	t.Helper()
	var all []json.RawMessage
	q := query
	seen := map[string]bool{}
	for range 1000 {
		p := decodePage(t, e.get(t, path+"?"+q, allToken))
		all = append(all, p.Data...)
		if p.NextToken == nil {
			return all
		}
		if seen[*p.NextToken] {
			t.Fatalf("next_token %q repeated", *p.NextToken)
		}
		seen[*p.NextToken] = true
		q = "next_token=" + url.QueryEscape(*p.NextToken)
		if resend && query != "" {
			q = query + "&" + q
		}
	}
	t.Fatalf("paging %s did not end", path)
	return nil
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("parsing query %q: %v", raw, err)
	}
	return q
}
