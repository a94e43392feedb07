package oura

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"
)

func TestPagesFollowNextTokenAndResendQuery(t *testing.T) {
	// Records with odd spacing, escapes and nesting: they must come back byte for byte.
	pages := map[string]string{
		"": `{"data":[ {"id":"a","day":"2024-11-11"} ,{"id":"b","n":[1,2.5e3,null],"s":"\u00e9\"x"}],` +
			`"next_token":"tok/2+="}`,
		"tok/2+=": "{\n  \"next_token\": \"tok-3\",\n  \"data\": [\n    {\"id\": \"c\", \"o\": {\"k\": []}}\n  ]\n}",
		"tok-3":   `{"data":[{"id":"d"}],"meta":{"x":1}}`, // no next_token at all: the last page
	}
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, _ int) {
			body, ok := pages[r.URL.Query().Get("next_token")]
			if !ok {
				t.Errorf("unknown next_token in %s", r.URL.RawQuery)
				writeJSON(w, 404, `{"detail":"no such page"}`)
				return
			}
			writeJSON(w, 200, body)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	q := url.Values{"start_date": {"2024-11-01"}, "end_date": {"2024-11-30"}}
	p := c.Pages(listPath, q)
	q.Set("start_date", "changed after the call") // the iterator keeps its own copy

	var records []string
	var tokens []string
	for p.Next(context.Background(), keep(&records)) {
		tokens = append(tokens, p.Page().NextToken)
	}
	if err := p.Err(); err != nil {
		t.Fatalf("Pages: %v", err)
	}
	want := []string{
		`{"id":"a","day":"2024-11-11"}`,
		`{"id":"b","n":[1,2.5e3,null],"s":"\u00e9\"x"}`,
		`{"id": "c", "o": {"k": []}}`,
		`{"id":"d"}`,
	}
	if fmt.Sprintf("%q", records) != fmt.Sprintf("%q", want) {
		t.Errorf("records =\n%q\nwant\n%q", records, want)
	}
	if fmt.Sprint(tokens) != "[tok/2+= tok-3 ]" {
		t.Errorf("next tokens = %q", tokens)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(reqs))
	}
	for i, wantToken := range []string{"", "tok/2+=", "tok-3"} {
		r := reqs[i]
		if r.Query.Get("start_date") != "2024-11-01" || r.Query.Get("end_date") != "2024-11-30" {
			t.Errorf("request %d lost the query: %v", i+1, r.Query)
		}
		if _, has := r.Query["next_token"]; has != (wantToken != "") || r.Query.Get("next_token") != wantToken {
			t.Errorf("request %d next_token = %v, want %q", i+1, r.Query["next_token"], wantToken)
		}
	}
	if s := p.Stats(); s.Pages != 3 || s.Records != 4 || s.Requests != 3 || s.Retries != 0 {
		t.Errorf("stats = %+v", s)
	}
	if s := c.Stats(); s.Pages != 3 || s.Records != 4 {
		t.Errorf("client stats = %+v", s)
	}
	if p.Next(context.Background(), discard) {
		t.Error("Next returned true after the last page")
	}
}

func TestPagesStopOnNullOrEmptyToken(t *testing.T) {
	for _, body := range []string{
		`{"data":[{"id":"a"}],"next_token":null}`,
		`{"data":[{"id":"a"}],"next_token":""}`,
		`{"data":[{"id":"a"}]}`,
	} {
		f := newFake(t, map[string]handlerFunc{
			listPath: func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 200, body) },
		})
		c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
		p := c.Pages(listPath, nil)
		n := 0
		for p.Next(context.Background(), discard) {
			n++
		}
		if n != 1 || p.Err() != nil || f.callsTo(listPath) != 1 {
			t.Errorf("%s: pages = %d, err = %v, calls = %d; want 1 page, no error, 1 call",
				body, n, p.Err(), f.callsTo(listPath))
		}
	}
}

func TestPagesEmptyList(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 200, `{"data":[],"next_token":null}`)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	p := c.Pages(listPath, nil)
	if !p.Next(context.Background(), discard) {
		t.Fatalf("Next: %v", p.Err())
	}
	if n := p.Page().Records; n != 0 {
		t.Errorf("records = %d, want none", n)
	}
}

func TestPagesTokenLoop(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, call int) {
			// Page 1 and 2 both point at "again": following it would never end.
			writeJSON(w, 200, fmt.Sprintf(`{"data":[{"n":%d}],"next_token":"again"}`, call))
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	p := c.Pages(listPath, nil)
	pages := 0
	for p.Next(context.Background(), discard) && pages < 10 { // the bound keeps a broken loop check from hanging
		pages++
	}
	if pages != 1 {
		t.Errorf("pages delivered = %d, want 1", pages)
	}
	e := asError(t, p.Err())
	if e.Kind != BadResponse || !strings.Contains(p.Err().Error(), "same next_token twice") ||
		!strings.Contains(p.Err().Error(), listPath+" page 2") {
		t.Errorf("error = %v, want BadResponse about a repeated next_token on page 2", p.Err())
	}
	if n := f.callsTo(listPath); n != 2 {
		t.Errorf("server calls = %d, want 2", n)
	}
}

func TestPagesResumeFromSavedToken(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, _ int) {
			if r.URL.Query().Get("next_token") != "saved" {
				t.Errorf("first request did not resume: %s", r.URL.RawQuery)
			}
			writeJSON(w, 200, `{"data":[{"id":"x"}],"next_token":"saved"}`)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	p := c.Pages(listPath, url.Values{"next_token": {"saved"}})
	for i := 0; i < 10 && p.Next(context.Background(), discard); i++ { // bounded, so a broken loop check cannot hang
	}
	if asError(t, p.Err()).Kind != BadResponse || f.callsTo(listPath) != 1 {
		t.Errorf("err = %v, calls = %d: a page pointing at itself must stop at once", p.Err(), f.callsTo(listPath))
	}
}

func TestPagesRejectBodiesOfTheWrongShape(t *testing.T) {
	for _, body := range []string{
		`[]`,
		`{"detail":"not a list"}`,
		`{"data":{"id":"a"},"next_token":null}`,
		`{"data":null}`,
		`{"data":[],"next_token":5}`,
		`"text"`,
	} {
		f := newFake(t, map[string]handlerFunc{
			listPath: func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 200, body) },
		})
		c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
		p := c.Pages(listPath, nil)
		if p.Next(context.Background(), discard) {
			t.Errorf("%s: accepted", body)
			continue
		}
		e := asError(t, p.Err())
		if e.Kind != BadResponse || e.Path != listPath {
			t.Errorf("%s: error = %+v, want BadResponse for %s", body, e, listPath)
		}
		// Valid JSON of the wrong shape will not improve by asking again.
		if n := f.callsTo(listPath); n != 1 {
			t.Errorf("%s: server calls = %d, want 1", body, n)
		}
	}
}

func TestPagesStatusErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		kind   Kind
		detail string
		advice string
	}{
		{404, `{"detail":"Document not found."}`, NotFound, "Document not found.", "document id"},
		{426, `{"detail":"Upgrade Required"}`, UpgradeRequired, "Upgrade Required", "update the Oura mobile app"},
		{400, `{"detail":"Invalid date range"}`, BadRequest, "Invalid date range", "dates"},
		{422, `{"detail":[{"type":"value_error","loc":["query","start_date"],"msg":"Start date must be before end date","input":"2025-11-11"}]}`,
			BadRequest, "query.start_date: Start date must be before end date", "dates"},
		{501, `<html>Not Implemented</html>`, ServerError, "", "try again later"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			f := newFake(t, map[string]handlerFunc{
				listPath: func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, tc.status, tc.body) },
			})
			c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
			p := c.Pages(listPath, nil)
			if p.Next(context.Background(), discard) {
				t.Fatal("Next succeeded")
			}
			e := asError(t, p.Err())
			if e.Kind != tc.kind || e.Status != tc.status || e.Detail != tc.detail || e.Path != listPath {
				t.Errorf("error = %+v, want kind %v detail %q", e, tc.kind, tc.detail)
			}
			if msg := p.Err().Error(); !strings.Contains(msg, tc.advice) {
				t.Errorf("message %q lacks %q", msg, tc.advice)
			}
			if n := f.callsTo(listPath); n != 1 {
				t.Errorf("server calls = %d, want 1 (not retried)", n)
			}
		})
	}
}

// TestLongNextTokenEndsTheWalk: a server that answers with a 512 KiB next_token is not followed: the walk
// ends on the first page with a BadResponse that gives the token's length (not the token), the page's
// record went through emit once, and no second request was made.
func TestLongNextTokenEndsTheWalk(t *testing.T) {
	long := strings.Repeat("Z", 512<<10)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeJSON(w, 200, `{"data":[{"id":"a1"}],"next_token":"`+long+`"}`)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, StaticToken(testToken), nil, nil)
	p := c.Pages(listPath, url.Values{"start_date": {"2024-01-01"}, "end_date": {"2024-12-31"}})
	var records []string
	for p.Next(context.Background(), keep(&records)) {
		t.Fatalf("a page with a %d-byte next_token was accepted", len(long))
	}
	var oe *Error
	if err := p.Err(); !errors.As(err, &oe) || oe.Kind != BadResponse {
		t.Fatalf("err = %v, want a BadResponse", err)
	}
	msg := p.Err().Error()
	if !strings.Contains(msg, fmt.Sprintf("%d bytes", len(long))) || !strings.Contains(msg, "next_token") || strings.Contains(msg, "ZZZZ") {
		t.Errorf("error should name next_token and its length %d, not its text: %.300s", len(long), msg)
	}
	if fmt.Sprint(records) != "[{\"id\":\"a1\"}]" || calls.Load() != 1 {
		t.Errorf("records %v over %d requests, want the page's one record once over 1 request", records, calls.Load())
	}
}

// TestSeenTokensTakeConstantMemory: the walk remembers every next_token to catch a loop, but at a fixed size
// each: 800 pages with distinct 4,000-byte tokens (3.2 MB of tokens) leave the heap less than 1 MiB larger.
func TestSeenTokensTakeConstantMemory(t *testing.T) {
	const pages, size = 800, 4000
	pad := strings.Repeat("t", size-8)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1)
		token := fmt.Sprintf(`"%08d%s"`, k, pad)
		if k == pages {
			token = "null"
		}
		writeJSON(w, 200, `{"data":[{"id":1}],"next_token":`+token+`}`)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, StaticToken(testToken), func(cfg *Config) {
		cfg.Logger = zerolog.Nop()
		cfg.RequestsPer5Min = 1 << 30
	}, nil)
	p := c.Pages(listPath, url.Values{"start_date": {"2024-01-01"}, "end_date": {"2024-01-01"}})
	var base runtime.MemStats
	read := 0
	for p.Next(context.Background(), discard) {
		if read++; read == 1 {
			runtime.GC()
			runtime.ReadMemStats(&base)
		}
	}
	if err := p.Err(); err != nil || read != pages {
		t.Fatalf("%d pages, err %v", read, err)
	}
	var end runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&end)
	runtime.KeepAlive(p)
	grew := int64(end.HeapAlloc) - int64(base.HeapAlloc)
	t.Logf("%d pages with %d-byte tokens: live heap grew %d KiB", pages, size, grew>>10)
	if grew > 1<<20 {
		t.Errorf("the walk kept %d KiB more after %d pages of %d-byte tokens; each seen token should cost a fixed few bytes",
			grew>>10, pages, size)
	}
}

// TestResumeRemembersTheFirstWalk: a walk resumed with another query (as the reader does after Oura refuses
// fields) asks the failed page again from the last token, still knows the first walk's tokens, so a server
// that sends it back to a page already read is caught as a loop, and keeps counting toward the page limit.
func TestResumeRemembersTheFirstWalk(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		switch tok := q.Get("next_token"); {
		case tok == "":
			writeJSON(w, 200, `{"data":[{"id":"a"}],"next_token":"t1"}`)
		case tok == "t1":
			writeJSON(w, 200, `{"data":[{"id":"b"}],"next_token":"t2"}`)
		case q.Has("fields"):
			writeJSON(w, 400, `{"detail":"fields"}`)
		default: // the page after t2, asked without fields, points back at t1
			writeJSON(w, 200, `{"data":[{"id":"c"}],"next_token":"t1"}`)
		}
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv.URL, StaticToken(testToken), nil, nil)
	q := url.Values{"start_date": {"2024-01-01"}, "end_date": {"2024-01-01"}, "fields": {"id"}}
	p := c.Pages(listPath, q)
	var records []string
	for p.Next(context.Background(), keep(&records)) {
	}
	var oe *Error
	if !errors.As(p.Err(), &oe) || oe.Kind != BadRequest {
		t.Fatalf("first walk: %v, want the 400", p.Err())
	}
	q.Del("fields")
	p = p.Resume(q)
	for p.Next(context.Background(), keep(&records)) {
	}
	if !errors.As(p.Err(), &oe) || oe.Kind != BadResponse || !strings.Contains(oe.Detail, "same next_token twice") {
		t.Fatalf("resumed walk: %v, want the loop caught", p.Err())
	}
	if got := strings.Join(records, " "); got != `{"id":"a"} {"id":"b"} {"id":"c"}` {
		t.Errorf("records %s: each page once", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(queries) != 4 || !strings.Contains(queries[3], "next_token=t2") || strings.Contains(queries[3], "fields") {
		t.Errorf("requests %q: the resumed walk should ask the page after t2 again, without fields", queries)
	}

	// The page limit counts both walks: one day allows pagesBase+pagesPerDay pages in all.
	p = c.Pages(listPath, q)
	p.n, p.stats.Pages, p.next = p.limit, int64(p.limit), "t2"
	p = p.Resume(q)
	if p.Next(context.Background(), discard) || !strings.Contains(fmt.Sprint(p.Err()), "kept sending a next_token") {
		t.Errorf("a resumed walk past the limit: %v, want the page-limit error", p.Err())
	}
}
