package oura

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// BenchmarkPagesOverHTTP measures the whole client on loopback: request, read, check and split, 500
// activity documents (~3 MB) per page.
func BenchmarkPagesOverHTTP(b *testing.B) {
	body := samplePage(500)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	// A budget large enough that a long benchmark never waits for the window.
	c, err := New(Config{BaseURL: srv.URL, Tokens: StaticToken("bench"), RequestsPer5Min: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p := c.Pages(listPath, nil)
		if !p.Next(context.Background(), discard) || p.Page().Records != 500 {
			b.Fatalf("fetch: %d records, %v", p.Page().Records, p.Err())
		}
	}
}
