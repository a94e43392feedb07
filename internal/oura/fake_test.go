package oura

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"source-oura/internal/fakeclock"
	"source-oura/internal/protocoltest"
)

// seenRequest is what the fake server saw of one request.
type seenRequest struct {
	Path  string
	Query url.Values
	Auth  string
	Agent string
}

// handlerFunc answers one request; call is the 1-based number of requests to this path so far.
type handlerFunc func(w http.ResponseWriter, r *http.Request, call int)

// fakeOura is a tiny stand-in for the Oura API: fixed routes, a call counter per path, a record of every
// request, and a loud failure for any route the test did not expect.
type fakeOura struct {
	t      *testing.T
	srv    *httptest.Server
	routes map[string]handlerFunc

	mu    sync.Mutex
	calls map[string]int
	seen  []seenRequest
}

func newFake(t *testing.T, routes map[string]handlerFunc) *fakeOura {
	t.Helper()
	f := &fakeOura{t: t, routes: routes, calls: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOura) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls[r.URL.Path]++
	n := f.calls[r.URL.Path]
	f.seen = append(f.seen, seenRequest{Path: r.URL.Path, Query: r.URL.Query(),
		Auth: r.Header.Get("Authorization"), Agent: r.Header.Get("User-Agent")})
	f.mu.Unlock()
	h, ok := f.routes[r.URL.Path]
	if !ok || r.Method != http.MethodGet {
		f.t.Errorf("fake Oura: unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "the fake has no such route", http.StatusTeapot)
		return
	}
	h(w, r, n)
}

func (f *fakeOura) callsTo(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

func (f *fakeOura) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer = protocoltest.SyncBuffer

// newTestClient builds a client for base with fast backoffs and a debug logger writing to the returned
// buffer. tweak adjusts the config; clk replaces the clock when not nil.
func newTestClient(t *testing.T, base string, tokens TokenSource, tweak func(*Config), clk clock) (*Client, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	cfg := Config{
		BaseURL:     base,
		Tokens:      tokens,
		MinBackoff:  time.Millisecond,
		MaxBackoff:  5 * time.Millisecond,
		Timeout:     5 * time.Second,
		MaxAttempts: 4,
		Logger:      zerolog.New(logs).Level(zerolog.DebugLevel),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	if clk == nil {
		clk = systemClock{}
	}
	c, err := newClient(cfg, clk)
	if err != nil {
		t.Fatalf("newClient: %v", err)
	}
	return c, logs
}

// fakeClock is the shared test clock: its Sleep moves time forward at once and records how long it was asked to wait.
type fakeClock = fakeclock.Clock

func newFakeClock() *fakeClock {
	return fakeclock.New(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

// refreshingTokens hands out "old" until Refresh is called, then the refreshed token; it counts refreshes.
type refreshingTokens struct {
	mu       sync.Mutex
	current  string
	fresh    string
	err      error
	rejected []string
}

func (s *refreshingTokens) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current, nil
}

func (s *refreshingTokens) Refresh(_ context.Context, rejected string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected = append(s.rejected, rejected)
	if s.err != nil {
		return "", s.err
	}
	s.current = s.fresh
	return s.fresh, nil
}

func (s *refreshingTokens) refreshes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rejected...)
}

// writeJSON answers with status and a JSON body.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// hangUp closes the connection without any response.
func hangUp(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Errorf("response writer cannot hijack")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}
