package oura_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"source-oura/internal/oura"
	"source-oura/internal/ouraemu"
	"source-oura/internal/ouratest"
)

// cutFront serves the emulator, but cuts the body of the next answer at cutAt bytes (when cutAt >= 0):
// the status is 200 and Content-Length promises the whole body, then the connection closes.
type cutFront struct {
	emu      http.Handler
	cutAt    atomic.Int64
	requests atomic.Int64
}

func (f *cutFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	rec := httptest.NewRecorder()
	f.emu.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	if k := f.cutAt.Swap(-1); k >= 0 && int(k) < len(body) {
		_, _ = w.Write(body[:k])
		return // fewer bytes than promised: net/http closes the connection
	}
	_, _ = w.Write(body)
}

// TestEveryCutIsFetchedAgainExactlyOnce: against the emulator, the first page of a list is cut off at
// every byte position in turn; each time the page is fetched again once, and the records come out exactly
// as from an uncut read: none lost, none twice, same order.
func TestEveryCutIsFetchedAgainExactlyOnce(t *testing.T) {
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 5, First: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Last: time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)})
	emu := ouraemu.NewServer(ouraemu.Options{Dataset: ds, PageSize: 2, Tokens: map[string][]string{emuToken: ouraemu.AllScopes}, Now: func() time.Time { return emuNow }})
	front := &cutFront{emu: emu}
	front.cutAt.Store(-1)
	hs := httptest.NewServer(front)
	defer hs.Close()
	c, err := oura.New(oura.Config{BaseURL: hs.URL, Tokens: oura.StaticToken(emuToken), MinBackoff: time.Microsecond,
		MaxBackoff: time.Microsecond, Timeout: 2 * time.Second, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	path := "/v2/usercollection/daily_sleep"
	q := url.Values{"start_date": {"2025-03-10"}, "end_date": {"2025-03-14"}}
	want, err := readAll(c, path, q)
	if err != nil || len(want) < 4 {
		t.Fatalf("uncut read: %d records, %v", len(want), err)
	}
	clean := front.requests.Swap(0)
	// The first page's length, to know every position to cut at.
	first := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path+"?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+emuToken)
	emu.ServeHTTP(first, req)
	size := first.Body.Len()
	for k := 0; k < size; k++ {
		front.cutAt.Store(int64(k))
		got, err := readAll(c, path, q)
		if err != nil {
			t.Fatalf("cut at %d of %d: %v", k, size, err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("cut at %d of %d: %d records, want %d exactly once:\n%s", k, size, len(got), len(want), strings.Join(got, "\n"))
		}
		if n := front.requests.Swap(0); n != clean+1 {
			t.Fatalf("cut at %d: %d requests, want %d (the cut page once more)", k, n, clean+1)
		}
	}
}

// TestChangedPageAfterACutFailsTransient: when the page fetched again after a cut does not start with the
// records already written, the walk ends with a transient error that says so, and nothing more is written.
func TestChangedPageAfterACutFailsTransient(t *testing.T) {
	var calls atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			body := `{"data":[{"id":"a"},{"id":"b"},{"id":"c"}],"next_token":null}`
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write([]byte(body[:30]))
			return
		}
		_, _ = w.Write([]byte(`{"data":[{"id":"X"},{"id":"b"},{"id":"c"}],"next_token":null}`))
	}))
	defer hs.Close()
	c, err := oura.New(oura.Config{BaseURL: hs.URL, Tokens: oura.StaticToken(emuToken), MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(c, "/v2/usercollection/tag", nil)
	var e *oura.Error
	if !errors.As(err, &e) || e.Kind != oura.BadResponse || !e.Transient() || !strings.Contains(err.Error(), "were not the same") {
		t.Fatalf("err = %v; want a transient BadResponse saying the records changed", err)
	}
	if strings.Join(got, ",") != `{"id":"a"},{"id":"b"}` {
		t.Fatalf("records %v; want only the two written before the cut", got)
	}
}

// rawServer answers every connection with head (status line and headers) and body, then closes it.
func rawServer(t *testing.T, head string, body []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				buf := make([]byte, 4096)
				_, _ = conn.Read(buf) // the request
				_, _ = conn.Write([]byte(head + "\r\n\r\n"))
				_, _ = conn.Write(body)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// peakHeap runs f while sampling the heap, and returns the most it grew over its starting size.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	<-stopped
	return peak.Load()
}

// TestHugeContentLengthAllocatesNothing: a 200 that promises 536,870,911 bytes and sends a few ends in a
// clear "cut off" error after the retries, and the client never sizes a buffer from the header.
func TestHugeContentLengthAllocatesNothing(t *testing.T) {
	base := rawServer(t, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 536870911", []byte(`{"data":[{"id":"a"}`))
	c, err := oura.New(oura.Config{BaseURL: base, Tokens: oura.StaticToken(emuToken), MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var rerr error
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	peak := peakHeap(func() { got, rerr = readAll(c, "/v2/usercollection/tag", nil) })
	runtime.ReadMemStats(&ms1)
	if !strings.Contains(fmt.Sprint(rerr), "cut off") || !strings.Contains(fmt.Sprint(rerr), "3 attempts") {
		t.Fatalf("err = %v; want the response cut off after 3 attempts", rerr)
	}
	if len(got) != 1 {
		t.Errorf("records %v; want the one complete record, once", got)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 16<<20 || peak > 16<<20 {
		t.Errorf("allocated %d MiB (peak heap growth %d MiB) for a tiny body", alloc>>20, peak>>20)
	}
}

// TestSlowConsumerIsNotATimeout: the attempt's time limit counts only the time spent waiting on
// the server. Records handed on slowly (stdout or the look-ahead budget holding the writer back
// for longer than the limit) neither cut the page nor make it be fetched again.
func TestSlowConsumerIsNotATimeout(t *testing.T) {
	body := ouratest.ActivityPage(400, "null") // several MB: more than the socket buffers hold
	var requests atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer hs.Close()
	c, err := oura.New(oura.Config{BaseURL: hs.URL, Tokens: oura.StaticToken(emuToken), Timeout: 300 * time.Millisecond,
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	p := c.Pages("/v2/usercollection/daily_activity", nil)
	for p.Next(context.Background(), func(oura.Record) error {
		n++
		if n%100 == 1 {
			time.Sleep(400 * time.Millisecond) // the writer is held back longer than the limit
		}
		return nil
	}) {
	}
	if err := p.Err(); err != nil || n != 400 || requests.Load() != 1 {
		t.Errorf("%d records in %d requests, err %v; want 400 in 1", n, requests.Load(), err)
	}
}
