package streams

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"source-oura/protocol"
)

// TestInvalidUTF8AndDeepRecords: a page holding a document with bytes that are not UTF-8 and one nested
// 9,990 levels deep: every stdout line is valid UTF-8 JSON, the first document is written with U+FFFD in
// place of each bad byte and counted, the deep one is not written and is counted and logged, and the
// documents around them are written unchanged.
func TestInvalidUTF8AndDeepRecords(t *testing.T) {
	deep := `{"id":"deep","day":"2025-03-02","x":` + strings.Repeat("[", 9990) + strings.Repeat("]", 9990) + `}`
	page := "{\"data\":[{\"id\":\"a\",\"day\":\"2025-03-01\"},{\"id\":\"caf\xe9\",\"day\":\"2025-03-02\",\"note\":\"\xff ok\"}," +
		deep + `,{"id":"c","day":"2025-03-03"}],"next_token":null}`
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(page)) }))
	defer hs.Close()
	r, out := directReader(t, hs.URL, time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC), 20, 1)
	if err := r.Read(context.Background(), []Job{fullRefreshJob(t, "tags")}); err != nil {
		t.Fatal(err)
	}
	_ = r.Out.Flush()
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
