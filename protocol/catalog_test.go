package protocol

import (
	"strings"
	"testing"
)

// onlyDailySleepIncremental stands in for the stream table: daily_sleep has a cursor, the rest not.
func onlyDailySleepIncremental(name string) bool { return name == "daily_sleep" }

// TestParseAnyCatalogShapes: the bare catalog from discover, discover's raw output (one line or
// several, logs included) and a configured catalog all give the streams with their modes.
func TestParseAnyCatalogShapes(t *testing.T) {
	bare := `{"streams":[{"name":"daily_sleep","json_schema":{}},{"name":"personal_info","json_schema":{}}]}`
	cases := []struct {
		name, doc string
		chosen    bool
	}{
		{"bare catalog", bare, true},
		{"discover output, one line", `{"type":"CATALOG","catalog":` + bare + `}`, true},
		{"discover output with logs", `{"type":"LOG","log":{"level":"WARN","message":"x"}}` + "\n" +
			`{"type":"CATALOG","catalog":` + bare + "}\n" + `{"type":"TRACE","trace":{}}` + "\n", true},
		{"configured catalog", `{"streams":[` +
			`{"stream":{"name":"daily_sleep","json_schema":{}},"sync_mode":"incremental","destination_sync_mode":"append_dedup"},` +
			`{"stream":{"name":"personal_info","json_schema":{}},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat, chosen, err := ParseAnyCatalog("cat.json", []byte(c.doc), onlyDailySleepIncremental)
			if err != nil {
				t.Fatal(err)
			}
			if chosen != c.chosen {
				t.Fatalf("chosen = %v, want %v", chosen, c.chosen)
			}
			if len(cat.Streams) != 2 {
				t.Fatalf("want 2 streams, got %+v", cat.Streams)
			}
			got := []ConfiguredStream{cat.Streams[0], cat.Streams[1]}
			if got[0].Stream.Name != "daily_sleep" || got[0].SyncMode != Incremental || got[0].DestinationSyncMode != AppendDedup {
				t.Errorf("daily_sleep: %+v, want incremental + append_dedup", got[0])
			}
			if got[1].Stream.Name != "personal_info" || got[1].SyncMode != FullRefresh || got[1].DestinationSyncMode != Overwrite {
				t.Errorf("personal_info: %+v, want full_refresh + overwrite", got[1])
			}
		})
	}
}

// TestParseAnyCatalogOtherShapes: anything else is one line that names the file, says what the
// file looked like, and says what to pass instead.
func TestParseAnyCatalogOtherShapes(t *testing.T) {
	cases := map[string]string{
		`[{"name":"daily_sleep"}]`:           "is a JSON array",
		`"catalog"`:                          "is not a JSON object",
		`{"api_key":"x","start_datetime":1}`: `keys "api_key", "start_datetime" but no "streams"`,
		`{"type":"RECORD","record":{}}` + "\n" + `{"type":"STATE","state":{}}` + "\n" + `{"type":"RECORD","record":{}}`: "(2 RECORD, 1 STATE) but no CATALOG",
		`{"type":"SPEC","spec":{}}`:                                     "(1 SPEC) but no CATALOG",
		`{"streams":[{"json_schema":{}}]}`:                              `neither "stream"`,
		`{"streams":[{"name":"","json_schema":{}}]}`:                    "has no name",
		`{"type":"CATALOG","catalog":{"streams":[]}}`:                   "catalog with no streams",
		`{"streams":[{"stream":{"name":"a"},"sync_mode":"sometimes"}]}`: `sync_mode "sometimes"`,
	}
	for doc, want := range cases {
		_, _, err := ParseAnyCatalog("cat.json", []byte(doc), onlyDailySleepIncremental)
		if err == nil {
			t.Errorf("%s: accepted", doc)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "catalog file cat.json: ") || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
			t.Errorf("%s: want one line naming the file with %q, got %q", doc, want, msg)
		}
		if !strings.Contains(want, "sync_mode") && !strings.Contains(msg, "leave out --catalog") {
			t.Errorf("%s: the error should say what to pass: %q", doc, msg)
		}
	}
}

// TestReadJSONFileAcceptsDiscoverOutput: several lines of messages are a catalog file, not a JSON error.
func TestReadJSONFileAcceptsDiscoverOutput(t *testing.T) {
	lines := `{"type":"LOG","log":{"level":"INFO","message":"x"}}` + "\n" + `{"type":"CATALOG","catalog":{"streams":[{"name":"a"}]}}` + "\n"
	p := writeFile(t, lines)
	if _, err := ReadJSONFile("catalog", p, false); err != nil {
		t.Fatalf("discover output rejected: %v", err)
	}
	if _, err := ReadJSONFile("config", p, false); err == nil {
		t.Fatal("a config file must still be one JSON document")
	}
}

// FuzzParseAnyCatalog: any bytes give a runnable catalog or a one-line error naming the file.
func FuzzParseAnyCatalog(f *testing.F) {
	for _, s := range []string{
		`{"streams":[{"name":"daily_sleep","json_schema":{}}]}`,
		`{"type":"CATALOG","catalog":{"streams":[{"name":"a"}]}}` + "\n" + `{"type":"LOG"}`,
		`{"streams":[{"stream":{"name":"a"},"sync_mode":"full_refresh"}]}`, `{}`, `[]`, "{}\n{}", `{"type":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := ParseAnyCatalog("cat.json", data, onlyDailySleepIncremental)
		runnableOrOneLine(t, c, err)
	})
}
