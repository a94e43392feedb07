package protocol

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func fixedWriter(buf *bytes.Buffer, secrets ...string) *Writer {
	w := NewWriter(buf, NewMasker(secrets...))
	w.SetClock(func() time.Time { return time.UnixMilli(1700000000123) })
	return w
}

// TestGoldenMessages pins the exact line of every message type a source writes.
func TestGoldenMessages(t *testing.T) {
	var buf bytes.Buffer
	w := fixedWriter(&buf)
	desc := StreamDescriptor{Name: "daily_sleep"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Write(&Message{Type: TypeSpec, Spec: json.RawMessage(`{"connectionSpecification":{"type":"object"}}`)}))
	must(w.ConnectionStatus(StatusSucceeded, ""))
	must(w.ConnectionStatus(StatusFailed, "Oura rejected the token"))
	must(w.Write(&Message{Type: TypeCatalog, Catalog: &Catalog{Streams: []Stream{{
		Name: "daily_sleep", JSONSchema: json.RawMessage(`{"type":"object"}`),
		SupportedSyncModes: []SyncMode{FullRefresh, Incremental}, SourceDefinedCursor: true,
		DefaultCursorField: []string{"day"}, SourceDefinedPrimaryKey: [][]string{{"id"}}, IsResumable: true,
	}, {Name: "ring_configurations", JSONSchema: json.RawMessage(`{"type":"object"}`), SupportedSyncModes: []SyncMode{FullRefresh}}}}}))
	must(w.Record(NewRecordPrefix("daily_sleep", ""), []byte(`{"id":"a","day":"2024-01-01","score":80}`)))
	must(w.Record(NewRecordPrefix("tags", "oura"), []byte("{\n  \"id\": \"b\"\n}")))
	must(w.State(desc, json.RawMessage(`{"cursor":"2024-01-01","v":1}`), 2))
	must(w.State(StreamDescriptor{Name: "personal_info", Namespace: "ns"}, json.RawMessage(`{"__ab_no_cursor_state_message":true}`), 0))
	must(w.Log(LevelInfo, "hello"))
	must(w.Error(ConfigError, "Stream daily_sleep failed: grant the daily scope", "HTTP 403", &desc))
	must(w.Error(SystemError, "boom", "", nil))
	must(w.Status(desc, Started))
	must(w.Status(desc, Running, StreamStatusReason{Type: "RATE_LIMITED", RateLimited: &RateLimited{QuotaReset: 1700000060000}}))
	must(w.Status(desc, Complete))
	must(w.Status(desc, Incomplete))
	must(w.Write(&Message{Type: TypeTrace, Trace: &Trace{Type: TraceEstimate, EmittedAt: 1, Estimate: &Estimate{Name: "heart_rate", Type: EstimateStream, RowEstimate: 10}}}))
	must(w.ControlConfig(json.RawMessage(`{"credentials":{"refresh_token":"new"}}`)))
	must(w.Flush())

	golden := filepath.Join("testdata", "messages.golden")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./protocol -update to create it)", err)
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	exp := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	if len(got) != len(exp) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(exp), buf.String())
	}
	for i := range got {
		if got[i] != exp[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, got[i], exp[i])
		}
	}
}

// TestOptionalFieldsOmitted: an optional field is left out, never written as null or "".
func TestOptionalFieldsOmitted(t *testing.T) {
	var buf bytes.Buffer
	w := fixedWriter(&buf)
	_ = w.ConnectionStatus(StatusSucceeded, "")
	_ = w.State(StreamDescriptor{Name: "x"}, json.RawMessage(`{}`), 0)
	_ = w.Error(SystemError, "m", "", nil)
	_ = w.Flush()
	for _, bad := range []string{"null", `""`, `"namespace"`, `"internal_message"`, `"stream_descriptor":{"name":"x","namespace"`} {
		if strings.Contains(buf.String(), bad) {
			t.Errorf("output contains %s:\n%s", bad, buf.String())
		}
	}
	if !strings.Contains(buf.String(), `"sourceStats":{"recordCount":0.0}`) {
		t.Errorf("state lacks sourceStats.recordCount: %s", buf.String())
	}
}

// TestConcurrentWritesStayOnTheirLines: many goroutines, every line one whole message.
func TestConcurrentWritesStayOnTheirLines(t *testing.T) {
	var buf bytes.Buffer
	w := fixedWriter(&buf)
	var wg sync.WaitGroup
	prefix := NewRecordPrefix("s", "")
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if i%50 == 0 {
					_ = w.Log(LevelInfo, strings.Repeat("x", 100))
				}
				_ = w.Record(prefix, []byte(`{"g":`+string(rune('0'+g))+`,"pad":"`+strings.Repeat("y", 300)+`"}`))
			}
		}(g)
	}
	wg.Wait()
	_ = w.Flush()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 8*500+8*10 {
		t.Fatalf("got %d lines, want %d", len(lines), 8*510)
	}
	for i, l := range lines {
		var m Message
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not one message: %v", i, err)
		}
	}
}

func TestMaskingHidesSecretsInLogsTracesAndStatus(t *testing.T) {
	var buf bytes.Buffer
	w := fixedWriter(&buf, "tok-SECRET-1")
	w.Masker().Add("refresh-SECRET-2")
	_ = w.Log(LevelWarn, "sending tok-SECRET-1 and refresh-SECRET-2")
	_ = w.Error(ConfigError, "bad tok-SECRET-1", "internal refresh-SECRET-2", nil)
	_ = w.ConnectionStatus(StatusFailed, "token tok-SECRET-1 refused")
	log := NewLogger(w, false)
	log.Error().Str("token", "tok-SECRET-1").Msg("failed with refresh-SECRET-2")
	_ = w.Flush()
	if strings.Contains(buf.String(), "SECRET") {
		t.Fatalf("a secret leaked:\n%s", buf.String())
	}
	if c := strings.Count(buf.String(), Masked); c != 7 {
		t.Errorf("want 7 masked values, got %d:\n%s", c, buf.String())
	}
}

func TestControlMessageKeepsTheConfig(t *testing.T) {
	var buf bytes.Buffer
	w := fixedWriter(&buf, "rt-new")
	_ = w.ControlConfig(json.RawMessage(`{"credentials":{"refresh_token":"rt-new"}}`))
	_ = w.Flush()
	if !strings.Contains(buf.String(), `"refresh_token":"rt-new"`) {
		t.Fatalf("the platform needs the new token unmasked in CONTROL: %s", buf.String())
	}
}

func TestLoggerLevelsAndDebug(t *testing.T) {
	var buf bytes.Buffer
	w := fixedWriter(&buf)
	quiet := NewLogger(w, false)
	quiet.Debug().Msg("hidden")
	l := NewLogger(w, true)
	l.Debug().Msg("shown")
	l.Info().Int("n", 3).Str("stream", "heart_rate").Msg("done")
	l.Warn().Str("field", "a\nERROR\u0085b").Msg("w")
	l.Error().Msg("e")
	_ = w.Flush()
	want := []string{
		`{"type":"LOG","log":{"level":"DEBUG","message":"shown"}}`,
		`{"type":"LOG","log":{"level":"INFO","message":"done n=3 stream=heart_rate"}}`,
		// A value with a line break or other control character is quoted, so that it cannot
		// pose as a second line of the message.
		`{"type":"LOG","log":{"level":"WARN","message":"w field=\"a\\nERROR` + "\u0085" + `b\""}}`,
		`{"type":"LOG","log":{"level":"ERROR","message":"e"}}`,
	}
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteErrorSticks(t *testing.T) {
	w := NewWriter(failingWriter{}, nil)
	if err := w.Log(LevelInfo, "x"); err == nil {
		t.Fatal("want an error when stdout is gone")
	}
	if err := w.Record(NewRecordPrefix("s", ""), []byte(`{}`)); err == nil {
		t.Fatal("later writes must fail too")
	}
}

// TestLogFieldsReadAsWritten: a field value is quoted when it holds a space, quote, = or control
// character, and keeps & < > as they are: a --debug query reads a=1&b=2, not a=1\u0026b=2.
func TestLogFieldsReadAsWritten(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(fixedWriter(&buf), false)
	log.Info().Str("query", "end_date=2026-11-30&start_date=2026-11-01").Str("body", "<html>").Msg("Oura request")
	var m Message
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if want := `Oura request query="end_date=2026-11-30&start_date=2026-11-01" body=<html>`; m.Log == nil || m.Log.Message != want {
		t.Errorf("got %+v, want %q", m.Log, want)
	}
}

// TestHeldLogsReleaseOrDrop: held events reach the writer only on Release, in order and at their
// level; Drop forgets them.
func TestHeldLogsReleaseOrDrop(t *testing.T) {
	var buf bytes.Buffer
	w := fixedWriter(&buf)
	var h HeldLogs
	log := h.Logger(false)
	log.Warn().Msg("first")
	log.Info().Str("k", "v").Msg("second")
	log.Debug().Msg("dropped: not debug")
	if buf.Len() != 0 {
		t.Fatalf("held events were written before Release: %s", buf.String())
	}
	h.Release(w)
	want := `{"type":"LOG","log":{"level":"WARN","message":"first"}}` + "\n" + `{"type":"LOG","log":{"level":"INFO","message":"second k=v"}}` + "\n"
	if buf.String() != want {
		t.Errorf("released:\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	log.Warn().Msg("third")
	h.Drop()
	h.Release(w)
	if buf.Len() != 0 {
		t.Errorf("a dropped event was written: %s", buf.String())
	}

	// What is held is bounded in bytes (a server answering discover's samples with endless
	// warnings): past maxHeldBytes events are only counted, and Release says how many.
	line := strings.Repeat("x", 1000)
	const n = 3 * maxHeldBytes / 1000
	for range n {
		log.Warn().Msg(line)
	}
	h.mu.Lock()
	held, size, dropped := len(h.events), h.size, h.dropped
	h.mu.Unlock()
	if size > maxHeldBytes || held+dropped != n || dropped == 0 {
		t.Fatalf("held %d events of %d bytes, %d dropped; want at most %d bytes and the rest counted", held, size, dropped, maxHeldBytes)
	}
	h.Release(w)
	if !strings.Contains(buf.String(), fmt.Sprintf(`"%d more log lines were left out`, dropped)) {
		t.Errorf("Release does not say how many lines were left out:\n%.300s", buf.String()[max(0, buf.Len()-300):])
	}
}
