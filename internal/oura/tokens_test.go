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
