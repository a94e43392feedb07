package streams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"source-oura/internal/ouraemu"
	"source-oura/protocol"
)

// recordIDs lists the "id" of every record a directReader wrote, in order.
func recordIDs(t *testing.T, out *bytes.Buffer) []string {
	t.Helper()
	var ids []string
	for _, m := range messages(t, out) {
		if m.Record != nil {
			var doc struct{ ID string }
			if err := json.Unmarshal(m.Record.Data, &doc); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, doc.ID)
		}
	}
	return ids
}

// traces returns the internal messages of the TRACE errors a directReader wrote.
func traces(t *testing.T, out *bytes.Buffer) string {
	t.Helper()
	var b strings.Builder
	for _, m := range messages(t, out) {
		if m.Trace != nil && m.Trace.Error != nil {
			b.WriteString(m.Trace.Error.InternalMessage + "\n")
		}
	}
	return b.String()
}

// fieldsServer answers daily_sleep with answer(request number, query) and counts requests.
func fieldsServer(t *testing.T, answer func(n int, fields bool, token string, w http.ResponseWriter)) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		n := len(queries)
		mu.Unlock()
		answer(n, r.URL.Query().Has("fields"), r.URL.Query().Get("next_token"), w)
	}))
	t.Cleanup(srv.Close)
	return srv, &queries
}

func sleepDoc(id string) string { return fmt.Sprintf(`{"id":%q,"day":"2024-01-05","score":1}`, id) }

// readSleepWithFields reads daily_sleep with a catalog that declares three fields, so the
// reader asks Oura for those only, and returns the stream's error.
func readSleepWithFields(t *testing.T, url string) (*bytes.Buffer, error) {
	t.Helper()
	r, out := directReader(t, url, time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC), 9, 1)
	job := fullRefreshJob(t, "daily_sleep")
	job.Schema = []byte(`{"type":"object","properties":{"id":{},"day":{},"score":{}}}`)
	err := r.Read(context.Background(), []Job{job})
	_ = r.Out.Flush()
	return out, err
}

// TestRefusedFieldsAfterCutWritesNothingTwice: page 2, asked with fields, is cut off after two
// records (written); asking for it again is refused (HTTP 400). Walking the page again without
// fields would write those two again: the stream fails as transient instead, and every record
// is written once.
func TestRefusedFieldsAfterCutWritesNothingTwice(t *testing.T) {
	srv, queries := fieldsServer(t, func(n int, fields bool, token string, w http.ResponseWriter) {
		switch {
		case token == "":
			fmt.Fprintf(w, `{"data":[%s],"next_token":"t1"}`, sleepDoc("a1"))
		case fields && n == 2:
			body := fmt.Sprintf(`{"data":[%s,%s,`, sleepDoc("b1"), sleepDoc("b2"))
			w.Header().Set("Content-Length", fmt.Sprint(len(body)+100))
			_, _ = w.Write([]byte(body))
		case fields:
			w.WriteHeader(400)
			fmt.Fprint(w, `{"detail":"bad request"}`)
		default:
			fmt.Fprintf(w, `{"data":[%s,%s,%s],"next_token":null}`, sleepDoc("b1"), sleepDoc("b2"), sleepDoc("b3"))
		}
	})
	out, err := readSleepWithFields(t, srv.URL)
	if got := strings.Join(recordIDs(t, out), " "); got != "a1 b1 b2" {
		t.Errorf("records %s, want a1 b1 b2: each once, the page not walked again", got)
	}
	var se *SyncError
	if !errors.As(err, &se) || se.Type != protocol.TransientError {
		t.Errorf("read: %v, want a transient SyncError", err)
	}
	if tr := traces(t, out); !strings.Contains(tr, "cut off after 2 records") || !strings.Contains(tr, "HTTP 400") {
		t.Errorf("the error should say the page was cut after 2 records and then refused:\n%s", tr)
	}
	if len(*queries) != 3 {
		t.Errorf("requests %q, want 3: the page, the cut page, the refused ask again", *queries)
	}
}

// TestRefusedFieldsResumeKnowsEarlierTokens: fields is refused on page 3 before any of its
// records; the walk goes on without fields from page 2's token, and the server answers with the
// token of page 2 again. That is a loop to stop, not a page to write a second time.
func TestRefusedFieldsResumeKnowsEarlierTokens(t *testing.T) {
	srv, queries := fieldsServer(t, func(n int, fields bool, token string, w http.ResponseWriter) {
		switch {
		case token == "":
			fmt.Fprintf(w, `{"data":[%s],"next_token":"t1"}`, sleepDoc("a1"))
		case token == "t1":
			fmt.Fprintf(w, `{"data":[%s],"next_token":"t2"}`, sleepDoc("b1"))
		case fields:
			w.WriteHeader(422)
			fmt.Fprint(w, `{"detail":"unknown field"}`)
		default:
			fmt.Fprintf(w, `{"data":[%s],"next_token":"t1"}`, sleepDoc("c1"))
		}
	})
	out, err := readSleepWithFields(t, srv.URL)
	if got := strings.Join(recordIDs(t, out), " "); got != "a1 b1 c1" {
		t.Errorf("records %s, want a1 b1 c1: page 2 not written again", got)
	}
	if err == nil || !strings.Contains(traces(t, out), "same next_token twice") {
		t.Errorf("read: %v; the loop back to t1 should end the stream:\n%s", err, traces(t, out))
	}
	if q := *queries; len(q) != 4 || !strings.Contains(q[3], "next_token=t2") || strings.Contains(q[3], "fields") {
		t.Errorf("requests %q, want page 3 asked again from t2 without fields, and nothing after", q)
	}
}

// TestTimeSeriesRangeIsBounded: a config from year 0000 to 9999 plans heart_rate from 2015-01-01
// (Oura's first ring) to now + 1 day: 126 windows for a now of 2025-04-20T20:00Z, not 121,748.
// The read asks exactly those against the emulator, with the heap staying small, writes every
// sample, and its state claims no cursor beyond the last sample written. Date collections start
// at 2015-01-01 too (not start_date=-0001-12-31) and keep their configured end: one request either way.
func TestTimeSeriesRangeIsBounded(t *testing.T) {
	now := time.Date(2025, 4, 20, 20, 0, 0, 0, time.UTC)
	start := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, name := range []string{"heart_rate", "ring_battery_level"} {
		s, _ := Lookup(name)
		qs := s.FullRefreshQueries(start, end, now)
		if len(qs) != 126 || qs[0].Get("start_datetime") != "2015-01-01T00:00:00Z" ||
			qs[125].Get("start_datetime") != "2025-04-08T00:00:00Z" || qs[125].Get("end_datetime") != "2025-04-21T20:00:00Z" {
			t.Fatalf("%s: %d windows, first %v, last %v; want 126 from 2015-01-01 to now+1 day", name, len(qs), qs[0], qs[len(qs)-1])
		}
	}
	s, _ := Lookup("daily_sleep")
	// The plan widens a date range by a day each side (Oura's end-day quirk); the config refuses
	// years past 9998, so the end never reaches year 10000 outside this test.
	if qs := s.FullRefreshQueries(start, end, now); len(qs) != 1 || qs[0].Get("start_date") != "2014-12-31" {
		t.Errorf("daily_sleep: %v, want one range from the day before 2015-01-01", qs)
	}

	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 3, First: now.AddDate(0, 0, -3), Last: now})
	emu := ouraemu.NewServer(ouraemu.Options{Dataset: ds, PageSize: 5000, Now: func() time.Time { return now },
		Tokens: map[string][]string{"direct-reader-token": ouraemu.AllScopes}})
	hs := httptest.NewServer(emu)
	defer hs.Close()
	r, out := directReader(t, hs.URL, end, 0, 4)
	r.Start, r.Now = start, func() time.Time { return now }
	job := fullRefreshJob(t, "heart_rate")
	job.Mode = protocol.Incremental

	var base, peak runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	var stop atomic.Bool
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() {
		defer sampled.Done()
		var ms runtime.MemStats
		for !stop.Load() {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.HeapAlloc {
				peak = ms
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	err := r.Read(context.Background(), []Job{job})
	stop.Store(true)
	sampled.Wait()
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Out.Flush()
	if n := len(emu.Requests()); n != 126 {
		t.Errorf("%d requests, want 126", n)
	}
	grew := int64(peak.HeapAlloc) - int64(base.HeapAlloc)
	t.Logf("126 windows: peak heap %d MiB above the start", grew>>20)
	if grew > 64<<20 {
		t.Errorf("the heap grew %d MiB reading 126 windows of 3 days of data", grew>>20)
	}
	var latest, state string
	records := 0
	for _, m := range messages(t, out) {
		if m.Record != nil {
			records++
			var doc struct{ Timestamp string }
			_ = json.Unmarshal(m.Record.Data, &doc)
			if ts, _ := time.Parse(time.RFC3339, doc.Timestamp); ts.UTC().Format(time.RFC3339) > latest {
				latest = ts.UTC().Format(time.RFC3339)
			}
		}
		if m.State != nil && m.State.Stream != nil {
			var blob struct{ Cursor string }
			_ = json.Unmarshal(m.State.Stream.StreamState, &blob)
			state = blob.Cursor
		}
	}
	if records != len(ds.Docs["heartrate"]) || records == 0 {
		t.Errorf("%d records, the emulator holds %d", records, len(ds.Docs["heartrate"]))
	}
	if state != latest {
		t.Errorf("final state cursor %q, want the latest sample written %q", state, latest)
	}
}

// TestWindowFeedsAreMadeWhenDispatched: a plan of 5,000 windows (only reachable through plan
// itself now that syncRange bounds time series) makes no channel per window up front: by the
// time the first request arrives the heap holds no more than a few windows' worth.
func TestWindowFeedsAreMadeWhenDispatched(t *testing.T) {
	var base runtime.MemStats
	first := make(chan int64, 1)
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			first <- int64(ms.HeapAlloc) - int64(base.HeapAlloc)
		})
		_, _ = w.Write([]byte(`{"data":[],"next_token":null}`))
	}))
	defer srv.Close()
	r, _ := directReader(t, srv.URL, time.Now(), 1, 4)
	s, _ := Lookup("heart_rate")
	windows := s.plan(time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC))
	if len(windows) < 4000 {
		t.Fatalf("%d windows", len(windows))
	}
	job := fullRefreshJob(t, "heart_rate")
	run := &streamRun{job: job, prefix: protocol.NewRecordPrefix(job.Desc.Name, "")}
	run.cols = r.columnsFor(job)
	r.Prefetch = 4
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runtime.GC()
	runtime.ReadMemStats(&base)
	done := make(chan error, 1)
	go func() { done <- r.readWindows(ctx, run, windows) }()
	grew := <-first
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("readWindows: %v, want cancelled", err)
	}
	t.Logf("%d windows planned: heap grew %d KiB by the first request", len(windows), grew>>10)
	if grew > 4<<20 {
		t.Errorf("the heap grew %d MiB by the first request of %d windows: feeds made up front", grew>>20, len(windows))
	}
}

// TestSchemaFailureWarningIsCut: a record whose timestamp is a 1 MiB string that is no date-time
// is written, and the WARN about it names the field in a line of a few hundred bytes, not 1 MiB.
func TestSchemaFailureWarningIsCut(t *testing.T) {
	bad := strings.Repeat("9", 1<<20)
	page := `{"data":[{"id":"n1","day":"2025-03-02","timestamp":"` + bad + `","tags":[]}],"next_token":null}`
	out := readTagsPage(t, page)
	found := false
	for _, line := range bytes.Split(out.Bytes(), []byte("\n")) {
		if !bytes.Contains(line, []byte(`does not match the stream schema`)) {
			continue
		}
		found = true
		if len(line) > 1024 || !bytes.Contains(line, []byte("/timestamp")) {
			t.Errorf("WARN line of %d bytes, want at most 1 KiB naming /timestamp: %.300s", len(line), line)
		}
	}
	if !found {
		t.Error("no WARN about the timestamp that is no date-time")
	}
}

// TestInvalidUTF8AndDeepRecords: a page holding a document with bytes that are not UTF-8 and one nested
// 9,990 levels deep: every stdout line is valid UTF-8 JSON, the first document is written with U+FFFD in
// place of each bad byte and counted, the deep one is not written and is counted and logged, and the
// documents around them are written unchanged.
func TestInvalidUTF8AndDeepRecords(t *testing.T) {
	deep := `{"id":"deep","day":"2025-03-02","x":` + strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}`
	page := "{\"data\":[{\"id\":\"a\",\"day\":\"2025-03-01\"},{\"id\":\"caf\xe9\",\"day\":\"2025-03-02\",\"note\":\"\xff ok\"}," +
		deep + `,{"id":"c","day":"2025-03-03"}],"next_token":null}`
	out := readTagsPage(t, page)
	var records []string
	var logs strings.Builder
	for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		if !utf8.Valid(line) || !json.Valid(line) {
			t.Fatalf("stdout line is not valid UTF-8 JSON: %.200q", line)
		}
		var m protocol.Message
		_ = json.Unmarshal(line, &m)
		if m.Record != nil {
			records = append(records, string(m.Record.Data))
		}
		if m.Log != nil {
			logs.WriteString(m.Log.Message + "\n")
		}
	}
	want := []string{`{"id":"a","day":"2025-03-01"}`, "{\"id\":\"caf\uFFFD\",\"day\":\"2025-03-02\",\"note\":\"\uFFFD ok\"}", `{"id":"c","day":"2025-03-03"}`}
	if strings.Join(records, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(records, "\n"), strings.Join(want, "\n"))
	}
	for _, msg := range []string{"nested deeper than 512 levels; it is not written", "not_objects=1", "replaced by U+FFFD"} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("no log says %q:\n%s", msg, logs.String())
		}
	}
}

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

// readTagsPage reads the tags stream, full refresh, from a server that answers every request with
// page, and returns what the reader wrote.
func readTagsPage(t *testing.T, page string) *bytes.Buffer {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(page)) }))
	defer hs.Close()
	r, out := directReader(t, hs.URL, time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC), 20, 1)
	if err := r.Read(context.Background(), []Job{fullRefreshJob(t, "tags")}); err != nil {
		t.Fatal(err)
	}
	_ = r.Out.Flush()
	return out
}
