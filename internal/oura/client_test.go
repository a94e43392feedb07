package oura

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"source-oura/internal/jsonscan"
)

const (
	testToken = "tok-SECRET-3f9a1c"
	listPath  = "/v2/usercollection/daily_sleep"
	docPath   = "/v2/usercollection/personal_info"
)

// asError extracts the *Error from err or fails the test.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got nil")
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q (%T) is not an *oura.Error", err, err)
	}
	return e
}

func TestGetSendsBearerHeaderAndReturnsBodyUnchanged(t *testing.T) {
	body := `{"id":"u1", "age": 42, "email":"a\u0040b.c"}`
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, r *http.Request, _ int) {
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept = %q", got)
			}
			writeJSON(w, 200, body)
		},
	})
	c, _ := newTestClient(t, f.srv.URL+"/", StaticToken(testToken), func(cfg *Config) { cfg.UserAgent = "test-agent/1" }, nil)

	got, err := c.Get(context.Background(), docPath, url.Values{"a": {"x+y"}})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if string(got) != body {
		t.Errorf("body = %s, want the bytes Oura sent: %s", got, body)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Auth != "Bearer "+testToken {
		t.Errorf("Authorization = %q", r.Auth)
	}
	if r.Agent != "test-agent/1" {
		t.Errorf("User-Agent = %q", r.Agent)
	}
	if r.Query.Get("a") != "x+y" || len(r.Query) != 1 {
		t.Errorf("query = %v, want only a=x+y", r.Query)
	}
	for k, vs := range r.Query {
		for _, v := range vs {
			if strings.Contains(k+v, testToken) {
				t.Errorf("token sent in the query: %s=%s", k, v)
			}
		}
	}
	if s := c.Stats(); s.Requests != 1 || s.Retries != 0 {
		t.Errorf("stats = %+v, want 1 request and no retry", s)
	}
}

func TestRateLimitedWithRetryAfterThenSuccessDeliversEveryRecordOnce(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, call int) {
			switch call {
			case 1:
				writeJSON(w, 200, `{"data":[{"id":"a"},{"id":"b"}],"next_token":"t2"}`)
			case 2:
				w.Header().Set("Retry-After", "1")
				w.Header().Set("X-RateLimit-Limit", "5000")
				writeJSON(w, 429, `{"detail":"Too many requests"}`)
			case 3:
				if r.URL.Query().Get("next_token") != "t2" {
					t.Errorf("retry lost next_token: %s", r.URL.RawQuery)
				}
				writeJSON(w, 200, `{"data":[{"id":"c"}],"next_token":null}`)
			default:
				t.Errorf("unexpected call %d", call)
				writeJSON(w, 500, `{}`)
			}
		},
	})
	c, logs := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.MaxRetryAfter = 5 * time.Second }, nil)

	var ids []string
	p := c.Pages(listPath, nil)
	for p.Next(context.Background(), keep(&ids)) {
	}
	if err := p.Err(); err != nil {
		t.Fatalf("Pages: %v", err)
	}
	want := []string{`{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("records = %v, want %v", ids, want)
	}
	if n := f.callsTo(listPath); n != 3 {
		t.Errorf("server calls = %d, want 3", n)
	}
	if s := p.Stats(); s.Requests != 3 || s.Retries != 1 || s.Pages != 2 || s.Records != 3 {
		t.Errorf("page stats = %+v", s)
	}
	// The wait was Oura's, not the 1-5 ms backoff: the warning records it.
	if l := logs.String(); !strings.Contains(l, `"level":"warn"`) || !strings.Contains(l, `"retry_after":"1s"`) {
		t.Errorf("no warning about the honoured Retry-After in the log:\n%s", l)
	}
}

func TestRetryAfterBeyondCapFailsAtOnce(t *testing.T) {
	clk := newFakeClock()
	for _, tc := range []struct {
		name   string
		header func(h http.Header)
	}{
		{"seconds", func(h http.Header) { h.Set("Retry-After", "3600") }},
		{"reset epoch", func(h http.Header) {
			h.Set("X-RateLimit-Reset", fmt.Sprint(clk.Now().Add(time.Hour).Unix()))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, map[string]handlerFunc{
				listPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
					tc.header(w.Header())
					writeJSON(w, 429, `{"detail":"Rate limit exceeded"}`)
				},
			})
			c, logs := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) {
				cfg.MaxRetryAfter = 2 * time.Minute
				cfg.MaxAttempts = 6
			}, clk)

			// A guard, not a timing assertion: a client that slept through the hour fails here instead of hanging.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p := c.Pages(listPath, nil)
			if p.Next(ctx, discard) {
				t.Fatal("Next succeeded on a 429")
			}
			e := asError(t, p.Err())
			if e.Kind != RateLimited || e.Status != 429 || e.RetryAfter != time.Hour {
				t.Errorf("error = %+v, want RateLimited 429 with RetryAfter 1h", e)
			}
			// One attempt, no sleeping through the hour and no retry loop.
			if n := f.callsTo(listPath); n != 1 {
				t.Errorf("server calls = %d, want 1", n)
			}
			msg := p.Err().Error()
			for _, want := range []string{"1h0m0s", "next sync resumes", listPath + " page 1"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not contain %q", msg, want)
				}
			}
			if !e.Transient() {
				t.Error("a rate limit should be transient")
			}
			if !strings.Contains(logs.String(), `"level":"warn"`) {
				t.Errorf("no warning logged:\n%s", logs.String())
			}
		})
	}
}

func TestServerErrorBurstsAreRetried(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f := newFake(t, map[string]handlerFunc{
				docPath: func(w http.ResponseWriter, _ *http.Request, call int) {
					if call <= 3 {
						writeJSON(w, status, `{"detail":"upstream trouble"}`)
						return
					}
					writeJSON(w, 200, `{"id":"u1"}`)
				},
			})
			c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.MaxAttempts = 4 }, nil)
			getsU1After(t, context.Background(), c, f, 4)
			if s := c.Stats(); s.Requests != 4 || s.Retries != 3 {
				t.Errorf("stats = %+v, want 4 requests, 3 retries", s)
			}
		})
	}
}

func TestAttemptsAreBounded(t *testing.T) {
	for _, attempts := range []int{1, 3, 6} {
		t.Run(fmt.Sprint(attempts), func(t *testing.T) {
			f := newFake(t, map[string]handlerFunc{
				docPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
					writeJSON(w, 503, `{"detail":"maintenance"}`)
				},
			})
			c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.MaxAttempts = attempts }, nil)
			_, err := c.Get(context.Background(), docPath, nil)
			e := asError(t, err)
			if e.Kind != ServerError || e.Status != 503 || e.Attempts != attempts || e.Detail != "maintenance" {
				t.Errorf("error = %+v", e)
			}
			if n := f.callsTo(docPath); n != attempts {
				t.Errorf("server calls = %d, want exactly %d", n, attempts)
			}
			if !e.Transient() {
				t.Error("a 503 should be transient")
			}
			if msg := err.Error(); !strings.Contains(msg, "try again later") || !strings.Contains(msg, docPath) {
				t.Errorf("message %q lacks the path or the advice", msg)
			}
		})
	}
}

func TestRateLimitAttemptsAreBounded(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", "0")
			writeJSON(w, 429, `{"detail":"slow down"}`)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.MaxAttempts = 5 }, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	e := asError(t, err)
	if e.Kind != RateLimited || e.Attempts != 5 {
		t.Errorf("error = %+v, want RateLimited after 5 attempts", e)
	}
	if n := f.callsTo(docPath); n != 5 {
		t.Errorf("server calls = %d, want 5", n)
	}
}

// noKeepAlive makes every attempt use a new connection, so Go's transport never silently re-sends a request
// on a reused connection and the server's count equals the client's attempts.
func noKeepAlive(cfg *Config) {
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
}

func TestDroppedConnectionsAreRetried(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, call int) {
			if call <= 2 {
				hangUp(t, w)
				return
			}
			writeJSON(w, 200, `{"id":"u1"}`)
		},
	})
	c, logs := newTestClient(t, f.srv.URL, StaticToken(testToken), noKeepAlive, nil)
	getsU1After(t, context.Background(), c, f, 3)
	// Each retry is a WARN a person sees: what happened, which attempt of how many, how long the wait.
	for _, want := range []string{"failed (EOF) on attempt 1 of 4; asking again in ", "on attempt 2 of 4"} {
		if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), `"level":"warn"`) {
			t.Errorf("retries not logged as warnings (want %q):\n%s", want, logs.String())
		}
	}
}

func TestDroppedConnectionsExhaustAttempts(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, _ int) { hangUp(t, w) },
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), noKeepAlive, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	e := asError(t, err)
	if e.Kind != Network || e.Status != 0 || e.Attempts != 4 || e.Err == nil {
		t.Errorf("error = %+v, want Network after 4 attempts with a cause", e)
	}
	if n := f.callsTo(docPath); n != 4 {
		t.Errorf("server calls = %d, want 4", n)
	}
	if strings.Contains(err.Error(), f.srv.URL) {
		t.Errorf("message repeats the URL: %q", err)
	}
}

func TestConnectionRefusedIsNetworkError(t *testing.T) {
	f := newFake(t, nil)
	base := f.srv.URL
	f.srv.Close() // nothing listens there any more
	c, _ := newTestClient(t, base, StaticToken(testToken), func(cfg *Config) { cfg.MaxAttempts = 2 }, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	e := asError(t, err)
	if e.Kind != Network || e.Attempts != 2 || !e.Transient() {
		t.Errorf("error = %+v, want a transient Network error after 2 attempts", e)
	}
	if !strings.Contains(err.Error(), "could not reach Oura") {
		t.Errorf("message = %q", err)
	}
}

func TestBrokenSuccessBodiesAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  func(w http.ResponseWriter)
	}{
		{"truncated", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"data":[{"id":"a"},{"id":`))
		}},
		{"cut JSON with a correct length", func(w http.ResponseWriter) {
			writeJSON(w, 200, `{"data":[{"id":"a"},{"id":`)
		}},
		{"empty", func(w http.ResponseWriter) { w.WriteHeader(200) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, map[string]handlerFunc{
				listPath: func(w http.ResponseWriter, _ *http.Request, call int) {
					if call == 1 {
						tc.bad(w)
						return
					}
					writeJSON(w, 200, `{"data":[{"id":"a"},{"id":"b"}],"next_token":null}`)
				},
			})
			c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), noKeepAlive, nil)
			p := c.Pages(listPath, nil)
			var n int
			for p.Next(context.Background(), discard) {
				n += p.Page().Records
			}
			if err := p.Err(); err != nil {
				t.Fatalf("Pages: %v", err)
			}
			if n != 2 {
				t.Errorf("records = %d, want 2", n)
			}
			if calls := f.callsTo(listPath); calls != 2 {
				t.Errorf("server calls = %d, want 2", calls)
			}
		})
	}
}

func TestBrokenSuccessBodiesExhaustAttempts(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 200, `{"id":`)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.MaxAttempts = 3 }, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	e := asError(t, err)
	if e.Kind != BadResponse || e.Attempts != 3 || e.Status != 200 {
		t.Errorf("error = %+v, want BadResponse after 3 attempts", e)
	}
	if n := f.callsTo(docPath); n != 3 {
		t.Errorf("server calls = %d, want 3", n)
	}
}

func TestSlowServerTimesOutAndIsRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		slow func(w http.ResponseWriter, r *http.Request)
	}{
		{"no headers", func(_ http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}},
		{"stalled body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"data":[`))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, map[string]handlerFunc{
				docPath: func(w http.ResponseWriter, r *http.Request, call int) {
					if call == 1 {
						tc.slow(w, r)
						return
					}
					writeJSON(w, 200, `{"id":"u1"}`)
				},
			})
			c, logs := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) {
				noKeepAlive(cfg)
				cfg.Timeout = 100 * time.Millisecond
			}, nil)
			// A guard, not a timing assertion: without a working per-attempt timeout the call fails here.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			getsU1After(t, ctx, c, f, 2)
			if !strings.Contains(logs.String(), "within 100ms") {
				t.Errorf("the timeout is not named in the retry log:\n%s", logs.String())
			}
		})
	}
}

func TestSlowServerExhaustsAttempts(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		docPath: func(_ http.ResponseWriter, r *http.Request, _ int) { <-r.Context().Done() },
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) {
		noKeepAlive(cfg)
		cfg.Timeout = 50 * time.Millisecond
		cfg.MaxAttempts = 2
	}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // guard against a hang
	defer cancel()
	_, err := c.Get(ctx, docPath, nil)
	e := asError(t, err)
	var to interface{ Timeout() bool }
	if e.Kind != Network || e.Attempts != 2 || !errors.As(err, &to) || !to.Timeout() {
		t.Errorf("error = %+v, want a Network timeout after 2 attempts", e)
	}
	if n := f.callsTo(docPath); n != 2 {
		t.Errorf("server calls = %d, want 2", n)
	}
}

func TestCancelledContextStopsRetryWait(t *testing.T) {
	responded := make(chan struct{}, 1)
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", "100")
			writeJSON(w, 503, `{}`)
			responded <- struct{}{}
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.MaxRetryAfter = 200 * time.Second }, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-responded
		cancel()
	}()
	cancelledAfterOneCall(t, ctx, c, f)
}

func TestNewChecksConfig(t *testing.T) {
	ok := Config{BaseURL: "https://api.ouraring.com", Tokens: StaticToken("x")}
	for _, tc := range []struct {
		field string
		edit  func(*Config)
	}{
		{"BaseURL", func(c *Config) { c.BaseURL = "" }},
		{"BaseURL", func(c *Config) { c.BaseURL = "api.ouraring.com" }},
		{"BaseURL", func(c *Config) { c.BaseURL = "ftp://api.ouraring.com" }},
		{"BaseURL", func(c *Config) { c.BaseURL = "https://api.ouraring.com?access_token=x" }},
		{"Tokens", func(c *Config) { c.Tokens = nil }},
		{"Timeout", func(c *Config) { c.Timeout = -time.Second }},
		{"MaxAttempts", func(c *Config) { c.MaxAttempts = -1 }},
		{"MinBackoff", func(c *Config) { c.MinBackoff = 2 * time.Minute }},
		{"MaxBackoff", func(c *Config) { c.MaxBackoff = -1 }},
		{"MaxRetryAfter", func(c *Config) { c.MaxRetryAfter = -1 }},
		{"RequestsPer5Min", func(c *Config) { c.RequestsPer5Min = -5 }},
	} {
		cfg := ok
		tc.edit(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: err = %v, want an error naming the field", tc.field, err)
		}
	}
	c, err := New(ok)
	if err != nil {
		t.Fatalf("New with defaults: %v", err)
	}
	if c.maxAttempts != DefaultMaxAttempts || c.minBackoff != DefaultMinBackoff || c.maxBackoff != DefaultMaxBackoff ||
		c.maxRetryAfter != DefaultMaxRetryAfter || c.userAgent != DefaultUserAgent {
		t.Errorf("defaults not applied: %+v", c)
	}
}

// getsU1After fails unless c gets the document {"id":"u1"} at docPath from f, which took
// exactly calls requests (the failed attempts and the one that answered).
func getsU1After(t *testing.T, ctx context.Context, c *Client, f *fakeOura, calls int) {
	t.Helper()
	got, err := c.Get(ctx, docPath, nil)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if string(got) != `{"id":"u1"}` {
		t.Errorf("body = %s", got)
	}
	if n := f.callsTo(docPath); n != calls {
		t.Errorf("server calls = %d, want %d", n, calls)
	}
}

// cancelledAfterOneCall fails unless a Get with ctx, which the caller cancels (or has
// cancelled), ends with context.Canceled once f has been called once and no more.
func cancelledAfterOneCall(t *testing.T, ctx context.Context, c *Client, f *fakeOura) {
	t.Helper()
	if _, err := c.Get(ctx, docPath, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := f.callsTo(docPath); n != 1 {
		t.Errorf("server calls = %d, want 1", n)
	}
}

// TestOversizedDocumentIsRefusedOnce: a document answer longer than jsonscan.MaxRecord (an endless
// or runaway body) is refused after reading one byte past the limit, not held whole, and not asked
// for again: the next answer would be as large.
func TestOversizedDocumentIsRefusedOnce(t *testing.T) {
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"`))
			for range jsonscan.MaxRecord>>20 + 2 {
				if _, err := w.Write(chunk); err != nil {
					return // the client has stopped reading
				}
			}
			_, _ = w.Write([]byte(`"}`))
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.MaxAttempts = 3 }, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	if !strings.Contains(fmt.Sprint(err), "larger than the 64 MiB a record may take") {
		t.Fatalf("err = %v; want the record size limit", err)
	}
	if n := f.callsTo(docPath); n != 1 {
		t.Errorf("server calls = %d, want 1", n)
	}
}
