package protocol

import (
	"strings"
	"testing"
)

// FuzzParseCatalog: any bytes give a catalog or a one-line error naming the file; never a panic.
func FuzzParseCatalog(f *testing.F) {
	for _, s := range []string{
		`{"streams":[{"stream":{"name":"daily_sleep","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`,
		`{"streams":[{"stream":{"name":"__AIRBYTE__stream_that_does_not_exist"},"sync_mode":"INVALID","destination_sync_mode":"INVALID"}]}`,
		`{"streams":[]}`, `[]`, `{}`, `null`, `{"streams":[{"stream":null}]}`, `{"streams":[{"stream":{"name":1}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCatalog("cat.json", data)
		runnableOrOneLine(t, c, err)
	})
}

// runnableOrOneLine fails unless a parsed catalog is one the reader can run (streams, each
// with a name and a sync mode it knows) or err is one line naming the file.
func runnableOrOneLine(t *testing.T, c *ConfiguredCatalog, err error) {
	t.Helper()
	if err != nil {
		oneLineNaming(t, err, "catalog file cat.json: ")
		return
	}
	if len(c.Streams) == 0 {
		t.Fatal("accepted a catalog with no streams")
	}
	for _, s := range c.Streams {
		if s.Stream.Name == "" || (s.SyncMode != FullRefresh && s.SyncMode != Incremental) {
			t.Fatalf("accepted a stream the reader cannot run: %+v", s)
		}
	}
}

// oneLineNaming fails unless err is one line that starts with prefix, which names the file.
func oneLineNaming(t *testing.T, err error, prefix string) {
	t.Helper()
	if !strings.HasPrefix(err.Error(), prefix) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error is not one line naming the file: %q", err)
	}
}

// FuzzParseState: any bytes give a state or a one-line error naming the file; never a panic.
func FuzzParseState(f *testing.F) {
	for _, s := range []string{
		``, `[]`, `{}`, `null`, `"x"`, `[1]`,
		`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"2024-01-01","v":1}}}]`,
		`[{"type":"GLOBAL","global":{"stream_states":[{"stream_descriptor":{"name":"a"},"stream_state":{}}]}}]`,
		`[{"type":"LEGACY","data":{"a":{"day":"2024-01-01"}}}]`, `{"daily_sleep":{"cursor":"2024-01-01"}}`,
		`{"type":"STREAM","stream":{"stream_descriptor":{"name":"x","namespace":"n"},"stream_state":null}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseState("state.json", data)
		if err != nil {
			oneLineNaming(t, err, "state file state.json: ")
			return
		}
		_, _ = st.Get(StreamDescriptor{Name: "daily_sleep"})
	})
}
