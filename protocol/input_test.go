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
