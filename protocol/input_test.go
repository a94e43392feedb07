package protocol

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.json")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadJSONFileProblems(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "locked.json")
	_ = os.WriteFile(unreadable, []byte(`{}`), 0o000)
	cases := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.json"), "does not exist"},
		{"directory", dir, "is a directory"},
		{"empty", writeFile(t, "  \n"), "is empty"},
		{"not json", writeFile(t, "api_key: x"), "is not valid JSON"},
		{"truncated json", writeFile(t, "{\n\"a\": "), "line 2"},
		{"invalid utf-8", writeFile(t, "{\"a\":\"\xff\xfe\"}"), "not valid UTF-8"},
	}
	if os.Geteuid() != 0 { // root reads anything
		cases = append(cases, struct{ name, path, want string }{"unreadable", unreadable, "permission denied"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadJSONFile("config", c.path, false)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("want *FileError, got %v", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.Contains(msg, c.path) || !strings.HasPrefix(msg, "config file ") {
				t.Errorf("message %q should name the file and say %q", msg, c.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
		})
	}
}

func TestReadJSONFileTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.json")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse 100 MB file: cheap to make, still too large.
	if err := f.Truncate(100 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = ReadJSONFile("catalog", p, false)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("want a too-large error, got %v", err)
	}
}

func TestParseCatalog(t *testing.T) {
	ok := `{"streams":[{"stream":{"name":"daily_sleep","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"incremental","destination_sync_mode":"append_dedup","cursor_field":["day"]}]}`
	c, err := ParseCatalog("cat.json", []byte(ok))
	if err != nil || len(c.Streams) != 1 || c.Streams[0].SyncMode != Incremental {
		t.Fatalf("valid catalog: %v %+v", err, c)
	}
	bad := map[string]string{
		// What CAT sends to check that a bad catalog gets an error trace.
		`{"streams":[{"stream":{"name":"__AIRBYTE__stream_that_does_not_exist","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"INVALID","destination_sync_mode":"INVALID"}]}`: `sync_mode "INVALID"`,
		`{"streams":[]}`:      "has no streams",
		`[]`:                  "is a JSON array",
		`{"streams":{"a":1}}`: `field "streams"`,
		`{"streams":[{"sync_mode":"full_refresh"}]}`:                                                       "no stream.name",
		`{"streams":[{"stream":{"name":"a"},"sync_mode":"full_refresh","destination_sync_mode":"merge"}]}`: `destination_sync_mode "merge"`,
	}
	for doc, want := range bad {
		_, err := ParseCatalog("cat.json", []byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "catalog file cat.json") {
			t.Errorf("%s: want error with %q, got %v", doc, want, err)
		}
	}
}

func TestParseStateShapes(t *testing.T) {
	d := StreamDescriptor{Name: "daily_sleep"}
	cases := []struct {
		name, doc string
		want      string // blob for daily_sleep, "" for none
	}{
		{"empty", "", ""},
		{"empty array", "[]", ""},
		{"null", "null", ""},
		{"empty object", "{}", ""},
		{"stream array", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"2024-01-01","v":1}}}]`, `{"cursor":"2024-01-01","v":1}`},
		{"untyped stream entry", `[{"stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"day":"2024-02-01"}}}]`, `{"day":"2024-02-01"}`},
		{"global", `[{"type":"GLOBAL","global":{"stream_states":[{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"2024-03-01"}}]}}]`, `{"cursor":"2024-03-01"}`},
		{"legacy entry", `[{"type":"LEGACY","data":{"daily_sleep":{"cursor":"2024-04-01"}}}]`, `{"cursor":"2024-04-01"}`},
		{"empty legacy entry", `[{"type":"LEGACY","data":{}}]`, ""},
		{"legacy entry resetting a stream", `[{"type":"LEGACY","data":{"daily_sleep":null}}]`, ""},
		{"bare legacy object", `{"daily_sleep":{"cursor":"2024-05-01"}}`, `{"cursor":"2024-05-01"}`},
		{"single message", `{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"2024-06-01"}}}`, `{"cursor":"2024-06-01"}`},
		{"null blob resets", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":null}}]`, ""},
		{"namespace falls back to name", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep","namespace":"other"},"stream_state":{"cursor":"2024-07-01"}}}]`, `{"cursor":"2024-07-01"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := ParseState("s.json", []byte(c.doc))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := st.Get(d)
			if c.want == "" {
				if ok {
					t.Fatalf("want no state, got %s", got)
				}
				return
			}
			if !ok || string(got) != c.want {
				t.Fatalf("got %s (%v), want %s", got, ok, c.want)
			}
		})
	}
}

func TestParseStatePrefersExactNamespace(t *testing.T) {
	doc := `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"tags","namespace":"a"},"stream_state":{"cursor":"A"}}},
	         {"type":"STREAM","stream":{"stream_descriptor":{"name":"tags","namespace":"b"},"stream_state":{"cursor":"B"}}}]`
	st, err := ParseState("s.json", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := st.Get(StreamDescriptor{Name: "tags", Namespace: "b"}); string(b) != `{"cursor":"B"}` {
		t.Fatalf("got %s", b)
	}
}

func TestParseStateErrors(t *testing.T) {
	bad := map[string]string{
		`"hello"`:                        "not a string",
		`[1]`:                            "entry 0",
		`[{"type":"STREAM"}]`:            `no "stream" object`,
		`[{"type":"WEIRD","data":{}}]`:   `type "WEIRD"`,
		`[{"type":"LEGACY","data":[1]}]`: "not an object",
		// A LEGACY entry without a usable body would be ignored and every stream read from the start.
		`[{"type":"LEGACY"}]`:                                         `type LEGACY but no "data" object`,
		`{"type":"LEGACY"}`:                                           `type LEGACY but no "data" object`,
		`[{"type":"LEGACY","data":null}]`:                             `type LEGACY but no "data" object`,
		`[{"type":"LEGACY","legacy":{"daily_sleep":{"day":"x"}}}]`:    `type LEGACY but no "data" object`,
		`[{"type":"LEGACY","data":{"cursor":"2024-01-01"}}]`:          `"cursor" is not a stream's state object`,
		`[{"type":"LEGACY","data":{"daily_sleep":[{"day":"2024"}]}}]`: `"daily_sleep" is not a stream's state object`,
	}
	for doc, want := range bad {
		_, err := ParseState("s.json", []byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "state file s.json") {
			t.Errorf("%s: want %q, got %v", doc, want, err)
		}
	}
}

// TestReadJSONFileRefusesAFIFOWithoutBlocking: a named pipe with no writer used to block the
// open forever; it is refused at once with an error naming the file and what to pass.
func TestReadJSONFileRefusesAFIFOWithoutBlocking(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "config.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	for _, kind := range []string{"config", "catalog", "state"} {
		done := make(chan error, 1)
		go func() { _, err := ReadJSONFile(kind, fifo, true); done <- err }()
		var err error
		select {
		case err = <-done:
		case <-time.After(2 * time.Second):
			// Give the blocked open a writer so the goroutine ends, then fail.
			if w, werr := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); werr == nil {
				w.Close()
			}
			<-done
			t.Fatalf("%s: ReadJSONFile blocked on a FIFO", kind)
		}
		var fe *FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), kind+" file "+fifo) ||
			!strings.Contains(err.Error(), "named pipe") || !strings.Contains(err.Error(), "--"+kind) {
			t.Errorf("%s: want a file error naming the FIFO, got %v", kind, err)
		}
	}
}

// TestReadJSONFileRefusesDevices: a character device is not read (/dev/zero would be read
// up to the size limit, /dev/stdin of a terminal would wait for typing).
func TestReadJSONFileRefusesDevices(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := ReadJSONFile("config", "/dev/zero", false)
	if err == nil || !strings.Contains(err.Error(), "character device") {
		t.Fatalf("got %v", err)
	}
}

// readOutput is what `read > out.jsonl` leaves: statuses, records, logs and several STATE messages
// per stream, the last of each being the one to resume from.
const readOutput = `{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1,"stream_status":{"stream_descriptor":{"name":"daily_activity"},"status":"STARTED"}}}
{"type":"RECORD","record":{"stream":"daily_activity","data":{"id":"a","day":"2026-11-19"},"emitted_at":1}}
{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_activity"},"stream_state":{"cursor":"2026-11-19","v":1}},"sourceStats":{"recordCount":1.0}}}
{"type":"RECORD","record":{"stream":"daily_activity","data":{"id":"b","day":"2026-11-20"},"emitted_at":1}}
{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_activity"},"stream_state":{"cursor":"2026-11-20","v":1}},"sourceStats":{"recordCount":1.0}}}

{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"heart_rate"},"stream_state":{"cursor":"2026-11-20T10:00:00Z","v":1}},"sourceStats":{"recordCount":0.0}}}
{"type":"LOG","log":{"level":"INFO","message":"stream summary stream=daily_activity records=2"}}
{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"heart_rate"},"stream_state":{"cursor":"2026-11-21T08:00:00Z","v":1}},"sourceStats":{"recordCount":5.0}}}
{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":2,"stream_status":{"stream_descriptor":{"name":"heart_rate"},"status":"COMPLETE"}}}
`

// TestStateFileMayBeAReadsOutput: the stdout of a read passed as --state is read as the last STATE
// of each stream; records, logs and traces are skipped and the caller learns how many STATE lines
// there were, to say so.
func TestStateFileMayBeAReadsOutput(t *testing.T) {
	path := writeFile(t, readOutput)
	data, err := ReadJSONFile("state", path, true)
	if err != nil {
		t.Fatalf("a read's output refused as a state file: %v", err)
	}
	st, err := ParseState(path, data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"daily_activity": `{"cursor":"2026-11-20","v":1}`,
		"heart_rate":     `{"cursor":"2026-11-21T08:00:00Z","v":1}`,
	}
	for name, blob := range want {
		if got, ok := st.Get(StreamDescriptor{Name: name}); !ok || string(got) != blob {
			t.Errorf("%s: state %s, want the last one %s", name, got, blob)
		}
	}
	if st.Len() != 2 {
		t.Errorf("%d streams with state, want 2: %v", st.Len(), st.Streams())
	}
	if n, ok := st.FromReadOutput(); !ok || n != 4 {
		t.Errorf("FromReadOutput = %d, %v; want 4 STATE messages", n, ok)
	}
	// A state document is not a read's output.
	doc, _ := ParseState("s.json", []byte(`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"2024-01-01"}}}]`))
	if _, ok := doc.FromReadOutput(); ok {
		t.Error("a state array reported as a read's output")
	}
}

// TestStateFromReadOutputKeepsTheLastGlobalAndReset: the last GLOBAL message replaces the earlier
// ones, a stream's own STATE wins over the GLOBAL one, and a stream whose last state is null (a
// reset) has no state, whatever came before.
func TestStateFromReadOutputKeepsTheLastGlobalAndReset(t *testing.T) {
	lines := strings.Join([]string{
		`{"type":"STATE","state":{"type":"GLOBAL","global":{"stream_states":[{"stream_descriptor":{"name":"old"},"stream_state":{"cursor":"2020-01-01"}}]}}}`,
		`{"type":"STATE","state":{"type":"GLOBAL","global":{"stream_states":[{"stream_descriptor":{"name":"g"},"stream_state":{"cursor":"2024-01-01"}},{"stream_descriptor":{"name":"s"},"stream_state":{"cursor":"2024-01-01"}}]}}}`,
		`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"s"},"stream_state":{"cursor":"2024-02-02"}}}}`,
		`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"r"},"stream_state":{"cursor":"2024-03-03"}}}}`,
		`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"r"},"stream_state":null}}}`,
	}, "\n")
	st, err := ParseState("out.jsonl", []byte(lines))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"g": `{"cursor":"2024-01-01"}`, "s": `{"cursor":"2024-02-02"}`} {
		if got, ok := st.Get(StreamDescriptor{Name: name}); !ok || string(got) != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	for _, name := range []string{"old", "r"} {
		if got, ok := st.Get(StreamDescriptor{Name: name}); ok {
			t.Errorf("%s: state %s, want none", name, got)
		}
	}
	// One STATE line on its own (a grep of one message) is a read's output too.
	one, err := ParseState("one.json", []byte(`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"x"},"stream_state":{"cursor":"2024-01-01"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := one.Get(StreamDescriptor{Name: "x"}); !ok {
		t.Error("a single STATE message line gave no state")
	}
}

// TestStateFromReadOutputProblems: a line that is not JSON is named by its number, a STATE line
// that cannot be read too, and an output with no STATE at all says what it held.
func TestStateFromReadOutputProblems(t *testing.T) {
	stateLine := `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"x"},"stream_state":{"cursor":"2024-01-01"}}}}`
	for _, c := range []struct{ name, content, want string }{
		{"cut-off line", stateLine + "\n" + stateLine + "\n{\"type\":\"STA\n", `line 3 is not JSON`},
		{"text line", stateLine + "\nsource-oura: internal error\n" + stateLine, `line 2 is not JSON (invalid character 's' looking for beginning of value at column 1)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadJSONFile("state", writeFile(t, c.content), true)
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want a one-line *FileError saying %q", err, c.want)
			}
		})
	}
	for _, c := range []struct{ name, content, want string }{
		{"no state", `{"type":"LOG","log":{"level":"INFO","message":"a"}}` + "\n" + `{"type":"TRACE","trace":{"type":"ERROR"}}` + "\n" + `{"type":"LOG","log":{"level":"INFO","message":"b"}}`,
			"holds Airbyte messages (2 LOG, 1 TRACE) but no STATE message"},
		{"bad state", `{"type":"LOG","log":{}}` + "\n" + `{"type":"STATE","state":[1]}`, "line 2 is a STATE message whose state is not a state message object"},
		{"unknown state type", `{"type":"LOG","log":{}}` + "\n" + `{"type":"STATE","state":{"type":"PER_STREAM","x":{}}}`, `line 2 is a STATE message that has type "PER_STREAM"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseState("out.jsonl", []byte(c.content))
			if err == nil || !strings.HasPrefix(err.Error(), "state file out.jsonl: ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// TestStateNamingAStreamTwiceIsRefused: two entries for one stream with different cursors cannot
// both be meant; the error names the stream and the entries. The same state twice is harmless.
func TestStateNamingAStreamTwiceIsRefused(t *testing.T) {
	entry := func(cursor string) string {
		return `{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_activity"},"stream_state":{"cursor":"` + cursor + `","v":1}}}`
	}
	_, err := ParseState("dup.json", []byte("["+entry("2026-11-20")+","+entry("2026-10-05")+"]"))
	want := `state file dup.json: names stream "daily_activity" twice, in entries 0 and 1, with different states`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	global := `[{"type":"GLOBAL","global":{"stream_states":[{"stream_descriptor":{"name":"a"},"stream_state":{"cursor":"1"}},{"stream_descriptor":{"name":"a"},"stream_state":null}]}}]`
	if _, err := ParseState("g.json", []byte(global)); err == nil || !strings.Contains(err.Error(), `names stream "a" twice, in entry 0`) {
		t.Fatalf("a GLOBAL naming a stream twice: %v", err)
	}
	st, err := ParseState("same.json", []byte("["+entry("2026-11-20")+", "+strings.ReplaceAll(entry("2026-11-20"), ",", ", ")+"]"))
	if err != nil || st.Len() != 1 {
		t.Fatalf("the same state twice: %v", err)
	}
	// A LEGACY entry names streams too: beside a STREAM entry or another LEGACY one, a stream named
	// twice with different states is refused the same way (the last one used to win silently).
	for _, doc := range []string{
		"[" + entry("2026-11-20") + `,{"type":"LEGACY","data":{"daily_activity":{"cursor":"2026-01-01","v":1}}}]`,
		`[{"type":"LEGACY","data":{"daily_activity":{"cursor":"2026-11-20"}}},{"type":"LEGACY","data":{"daily_activity":{"cursor":"2026-01-01"}}}]`,
	} {
		if _, err := ParseState("legacy.json", []byte(doc)); err == nil || !strings.Contains(err.Error(), `names stream "daily_activity" twice, in entries 0 and 1`) {
			t.Errorf("%s: %v, want the stream named twice", doc, err)
		}
	}
	// Another namespace is another stream.
	ns := `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"cursor":"1"}}},{"type":"STREAM","stream":{"stream_descriptor":{"name":"a","namespace":"n"},"stream_state":{"cursor":"2"}}}]`
	if _, err := ParseState("ns.json", []byte(ns)); err != nil {
		t.Fatalf("one stream in two namespaces: %v", err)
	}
}

// TestReadJSONFileSkipsAByteOrderMark: a config, catalog or state saved "UTF-8 with BOM" reads as
// the same JSON; a BOM alone is an empty file.
func TestReadJSONFileSkipsAByteOrderMark(t *testing.T) {
	for _, kind := range []string{"config", "catalog", "state"} {
		data, err := ReadJSONFile(kind, writeFile(t, "\ufeff{\"a\": 1}\n"), false)
		if err != nil || string(data) != "{\"a\": 1}\n" {
			t.Errorf("%s with a BOM: %q, %v", kind, data, err)
		}
	}
	if data, err := ReadJSONFile("state", writeFile(t, "\ufeff \n"), true); err != nil || data != nil {
		t.Errorf("a state of a BOM and spaces: %q, %v; want empty", data, err)
	}
	if _, err := ReadJSONFile("config", writeFile(t, "\ufeff"), false); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("a config of a BOM alone: %v; want empty", err)
	}
	// Only one: a second BOM is not JSON.
	if _, err := ReadJSONFile("config", writeFile(t, "\ufeff\ufeff{}"), false); err == nil {
		t.Error("two BOMs accepted")
	}
}
