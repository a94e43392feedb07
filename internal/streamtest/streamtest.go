// Package streamtest says which of the emulator's documents a stream must deliver, for the
// tests of the reader and of the binary. Only tests import it, so it never ships in the binary.
package streamtest

import (
	"encoding/json"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/streams"
)

// Expected lists, in the emulator's order, the documents of stream s whose cursor lies in
// [from, to]: whole days for date streams (only the day of to counts), instants for time
// series. A stream without a cursor gets every document, and personal_info its one object.
func Expected(t testing.TB, ds *ouraemu.Dataset, s *streams.Stream, from, to time.Time) []string {
	t.Helper()
	if s.Params == streams.Single {
		return []string{string(ds.PersonalInfo)}
	}
	layout := time.RFC3339
	if s.Params == streams.Dates {
		layout = time.DateOnly
		to = time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, time.UTC)
	}
	var out []string
	for _, d := range ds.Docs[s.Path] {
		if s.Cursor == "" {
			out = append(out, string(d.JSON))
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(d.JSON, &doc); err != nil {
			t.Fatalf("%s: emulator document is not JSON: %v", s.Name, err)
		}
		v, _ := doc[s.Cursor].(string)
		c, err := time.Parse(layout, v)
		if err != nil {
			t.Fatalf("%s: cursor %q: %v", s.Name, v, err)
		}
		if !c.Before(from) && !c.After(to) {
			out = append(out, string(d.JSON))
		}
	}
	return out
}
