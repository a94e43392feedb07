package streams

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"source-oura/protocol"
)

// longKey is a distinct top-level key of n bytes, as a server that builds keys from data might send.
func longKey(i, n int) string {
	tail := strconv.Itoa(i)
	return strings.Repeat("k", n-len(tail)) + tail
}

// TestUndeclaredFieldNamesAreBoundedInLogsAndMemory: 500 records, each with its own 64 KiB
// undeclared key, over five pages. Every record is written; the first maxUndeclaredNamed keys
// get one short WARN each and one more WARN says the rest are only counted, so the log stays
// small; the summary still counts all 500.
func TestUndeclaredFieldNamesAreBoundedInLogsAndMemory(t *testing.T) {
	const records, perPage, keyLen = 500, 100, 64 << 10
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("next_token"))
		var b strings.Builder
		b.WriteString(`{"data":[`)
		for i := page * perPage; i < (page+1)*perPage; i++ {
			if i > page*perPage {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":"%d","day":"2024-01-05",%q:1}`, i, longKey(i, keyLen))
		}
		next := "null"
		if (page+1)*perPage < records {
			next = strconv.Quote(strconv.Itoa(page + 1))
		}
		b.WriteString(`],"next_token":` + next + `}`)
		_, _ = w.Write([]byte(b.String()))
	}))
	defer srv.Close()
	end := time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)
	r, out := directReader(t, srv.URL, end, 9, 1)
	job := fullRefreshJob(t, "daily_sleep")
	job.Schema = []byte(`{"type":"object","properties":{"id":{},"day":{}}}`)
	if err := r.Read(context.Background(), []Job{job}); err != nil {
		t.Fatal(err)
	}
	var named, overflow, written, logBytes int
	var summary string
	for _, m := range messages(t, out) {
		switch {
		case m.Record != nil:
			written++
		case m.Log != nil:
			logBytes += len(m.Log.Message)
			if len(m.Log.Message) > 1<<10 {
				t.Errorf("a %d-byte log line: %.300s…", len(m.Log.Message), m.Log.Message)
			}
			if strings.Contains(m.Log.Message, "does not declare: they are written unchanged, but Airbyte drops the field") {
				named++
			}
			if strings.Contains(m.Log.Message, "further ones are counted in the stream summary") {
				overflow++
			}
			if strings.HasPrefix(m.Log.Message, "stream summary ") {
				summary = m.Log.Message
			}
		}
	}
	if written != records {
		t.Fatalf("%d records written, want %d", written, records)
	}
	if named != maxUndeclaredNamed || overflow != 1 {
		t.Errorf("%d named WARNs and %d overflow WARNs, want %d and 1", named, overflow, maxUndeclaredNamed)
	}
	if logBytes > 256<<10 {
		t.Errorf("%d KiB of log text for %d records", logBytes>>10, records)
	}
	if !strings.Contains(summary, fmt.Sprintf("undeclared_fields=%d ", records)) {
		t.Errorf("summary %q does not count %d undeclared fields", summary, records)
	}
	t.Logf("%d records with distinct %d KiB keys: %d WARNs, %d KiB of log text", records, keyLen>>10, named+overflow, logBytes>>10)
}

// TestUndeclaredFieldSetIsBounded: the set a stream keeps holds a digest, not the name, and
// stops at maxUndeclaredCounted with one WARN saying the count stops there.
func TestUndeclaredFieldSetIsBounded(t *testing.T) {
	var buf strings.Builder
	w := protocol.NewWriter(&buf, nil)
	r := &Reader{Log: protocol.NewLogger(w, false)}
	run := &streamRun{job: fullRefreshJob(t, "daily_sleep")}

	big := make([]string, 500)
	for i := range big {
		big[i] = longKey(i, 64<<10)
	}
	r.noteKeys(run, big, 0)
	r.noteKeys(run, big, 0) // the same names again: nothing new
	if run.sum.Undeclared != len(big) {
		t.Fatalf("counted %d, want %d", run.sum.Undeclared, len(big))
	}
	held := 0
	for k := range run.undeclared {
		held += len(k)
	}
	if held > 16*len(big) {
		t.Errorf("the set holds %d KiB for %d names", held>>10, len(big))
	}

	more := make([]string, maxUndeclaredCounted+2000)
	for i := range more {
		more[i] = "extra_" + strconv.Itoa(i)
	}
	r.noteKeys(run, more, 0)
	if run.sum.Undeclared != maxUndeclaredCounted || len(run.undeclared) != maxUndeclaredCounted {
		t.Errorf("count %d, set %d, want both %d", run.sum.Undeclared, len(run.undeclared), maxUndeclaredCounted)
	}
	logs := buf.String()
	if n := strings.Count(logs, "as many as the connector counts"); n != 1 {
		t.Errorf("%d WARNs that the count stops, want 1", n)
	}
	if n := strings.Count(logs, `"level":"WARN"`); n != maxUndeclaredNamed+2 {
		t.Errorf("%d WARNs, want %d", n, maxUndeclaredNamed+2)
	}
}
