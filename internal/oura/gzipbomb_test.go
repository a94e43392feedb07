//go:build !race

package oura_test

// This test is left out of race-detector builds rather than skipped there: inflating and scanning
// 64 MiB under -race takes half a minute, and a skip would read as a test CI did not run.
// make test runs it in a build without -race, right after the race-detector suite.

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"source-oura/internal/oura"
)

// TestGzipBombStaysBounded: a gzip body of a few hundred KB that inflates to a 200 MB string inside "data"
// stops at the 64 MiB record limit with a clear error, the heap growing well under 256 MiB.
func TestGzipBombStaysBounded(t *testing.T) {
	var zipped bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestCompression)
	_, _ = zw.Write([]byte(`{"data":["`))
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for range 200 {
		_, _ = zw.Write(chunk)
	}
	_, _ = zw.Write([]byte(`"]}`))
	_ = zw.Close()
	var requests atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(zipped.Bytes())
	}))
	defer hs.Close()
	c, err := oura.New(oura.Config{BaseURL: hs.URL, Tokens: oura.StaticToken(emuToken), MinBackoff: time.Microsecond, MaxBackoff: time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	var rerr error
	peak := peakHeap(func() { _, rerr = readAll(c, "/v2/usercollection/tag", nil) })
	if !strings.Contains(fmt.Sprint(rerr), "larger than the 64 MiB a record may take") {
		t.Fatalf("err = %v; want the record size limit", rerr)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests; an oversized record is not worth asking again", n)
	}
	if peak > 256<<20 {
		t.Errorf("heap grew by %d MiB", peak>>20)
	}
	t.Logf("gzip body %d KB, heap growth %d MiB", zipped.Len()>>10, peak>>20)
}
