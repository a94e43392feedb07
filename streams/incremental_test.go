package streams_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/protocol"
	"source-oura/streams"
)

// lastStates builds a --state file from the last state of each stream in a read, as the
// platform does.
func lastStates(t *testing.T, o output) string {
	t.Helper()
	last := map[string]protocol.StateMessage{}
	var order []string
	for _, m := range o.msgs {
		if m.State != nil {
			n := m.State.Stream.StreamDescriptor.Name
			if _, ok := last[n]; !ok {
				order = append(order, n)
			}
			last[n] = *m.State
		}
	}
	arr := []protocol.StateMessage{}
	for _, n := range order {
		s := last[n]
		s.SourceStats = nil
		arr = append(arr, s)
	}
	b, _ := json.Marshal(arr)
	return string(b)
}

func cursorOf(t *testing.T, s *streams.Stream, rec string) time.Time {
	t.Helper()
	var doc map[string]any
	_ = json.Unmarshal([]byte(rec), &doc)
	v, _ := doc[s.Cursor].(string)
	if s.Params == streams.DateTimes {
		c, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c, err := time.Parse("2006-01-02", v)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func incrementalStreams() []*streams.Stream {
	var out []*streams.Stream
	for _, s := range streams.AllStreams() {
		if s.Incremental() {
			out = append(out, s)
		}
	}
	return out
}

// TestSecondReadReturnsOnlyTheLookback: read 1 without state, read 2 with read 1's last
// states returns only documents from the lookback window on, and the union of both reads
// is exactly what the emulator holds.
func TestSecondReadReturnsOnlyTheLookback(t *testing.T) {
	f := newFixture(t, 60, 50)
	start := time.Date(2025, 2, 20, 0, 0, 0, 0, time.UTC)
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":%q,"lookback_window_days":3}`, token, f.url, start.Format(time.RFC3339))
	cat := catalogOf(incremental)
	read1 := f.read(t, cfg, cat, "")
	if read1.code != 0 {
		t.Fatalf("read 1 exit %d\n%s", read1.code, read1.raw)
	}
	state := lastStates(t, read1)
	read2 := f.read(t, cfg, cat, state)
	if read2.code != 0 {
		t.Fatalf("read 2 exit %d", read2.code)
	}
	var states1 map[string]json.RawMessage = map[string]json.RawMessage{}
	var arr []protocol.StateMessage
	_ = json.Unmarshal([]byte(state), &arr)
	for _, s := range arr {
		states1[s.Stream.StreamDescriptor.Name] = s.Stream.StreamState
	}
	far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range incrementalStreams() {
		t.Run(s.Name, func(t *testing.T) {
			var st struct{ Cursor string }
			_ = json.Unmarshal(states1[s.Name], &st)
			if st.Cursor == "" {
				if len(read1.records[s.Name]) > 0 {
					t.Fatalf("records were read but the state has no cursor: %s", states1[s.Name])
				}
				return
			}
			cur := cursorOf(t, s, fmt.Sprintf(`{%q:%q}`, s.Cursor, st.Cursor))
			floor := cur.AddDate(0, 0, -3)
			for _, r := range read2.records[s.Name] {
				if cursorOf(t, s, r).Before(floor) {
					t.Fatalf("read 2 returned a document before the lookback (%s): %s", floor, trunc(r))
				}
			}
			from := start
			want := expected(t, f.ds, s, from, far)
			union := map[string]bool{}
			for _, r := range append(read1.records[s.Name], read2.records[s.Name]...) {
				union[r] = true
			}
			for _, w := range want {
				if !union[w] {
					t.Fatalf("document missing from both reads: %s", trunc(w))
				}
			}
			if len(read2.records[s.Name]) >= len(read1.records[s.Name]) && len(read1.records[s.Name]) > 10 {
				t.Errorf("read 2 re-read %d of %d documents: not incremental", len(read2.records[s.Name]), len(read1.records[s.Name]))
			}
		})
	}
}

// TestNewDaysAndRevisionsArrive: after the emulator gains two days and revises a document
// three days back, read 2 returns the new days and the revised document.
func TestNewDaysAndRevisionsArrive(t *testing.T) {
	f := newFixture(t, 30, 1000)
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-04-01T00:00:00Z"}`, token, f.url)
	cat := catalogOf(incremental, "daily_sleep", "daily_activity", "heart_rate")
	read1 := f.read(t, cfg, cat, "")
	if read1.code != 0 {
		t.Fatalf("read 1 exit %d", read1.code)
	}
	// Two more days of data, and the daily_sleep document of three days back revised.
	last := time.Date(2025, 4, 22, 0, 0, 0, 0, time.UTC)
	grown := ouraemu.Generate(ouraemu.GenOptions{Seed: 7, First: last.AddDate(0, 0, -31), Last: last})
	f.srv.SetDataset(grown)
	var target ouraemu.Doc
	for _, d := range grown.Docs["daily_sleep"] {
		if d.Day == "2025-04-17" {
			target = d
		}
	}
	if target.ID == "" {
		t.Fatal("no daily_sleep document on 2025-04-17 in the fixture")
	}
	revised, err := f.srv.Revise("daily_sleep", target.ID)
	if err != nil {
		t.Fatal(err)
	}
	read2 := f.read(t, cfg, cat, lastStates(t, read1))
	if read2.code != 0 {
		t.Fatalf("read 2 exit %d", read2.code)
	}
	found := false
	for _, r := range read2.records["daily_sleep"] {
		if r == string(revised.JSON) {
			found = true
		}
	}
	if !found {
		t.Fatal("the revised document was not read again")
	}
	for _, stream := range []string{"daily_sleep", "daily_activity"} {
		days := map[string]bool{}
		for _, r := range read2.records[stream] {
			var d struct{ Day string }
			_ = json.Unmarshal([]byte(r), &d)
			days[d.Day] = true
		}
		if !days["2025-04-21"] && !days["2025-04-22"] {
			t.Errorf("%s: the new days were not read: %v", stream, days)
		}
	}
}

// TestResumeAfterCutOff: a read cut off after K pages, resumed from the last state it
// emitted, ends with every document delivered at least once, and a date stream cut off
// between its pages resumes where it stopped rather than from the configured start.
func TestResumeAfterCutOff(t *testing.T) {
	// With one stream at a time, daily_activity (3 pages) goes first: 2 pages cut it off
	// between its pages; 3 and 9 cut off the streams after it.
	for _, k := range []int{2, 3, 9} {
		t.Run(fmt.Sprint("pages=", k), func(t *testing.T) {
			f := newFixture(t, 75, 30)
			start := time.Date(2025, 2, 10, 0, 0, 0, 0, time.UTC)
			cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":%q,"max_concurrent_streams":1,"lookback_window_days":0}`, token, f.url, start.Format(time.RFC3339))
			cat := catalogOf(incremental, "daily_activity", "sleep_periods", "heart_rate")
			f.srv.SetFaults(ouraemu.Faults{FailAfterPages: k})
			cut := f.read(t, cfg, cat, "")
			if cut.code == 0 {
				t.Fatal("the cut-off read must fail")
			}
			f.srv.SetFaults(ouraemu.Faults{})
			resumed := f.read(t, cfg, cat, lastStates(t, cut))
			if resumed.code != 0 {
				t.Fatalf("resumed read exit %d:\n%s", resumed.code, errorLines(resumed))
			}
			far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
			for _, name := range []string{"daily_activity", "sleep_periods", "heart_rate"} {
				s, _ := streams.Lookup(name)
				got := map[string]bool{}
				for _, r := range append(cut.records[name], resumed.records[name]...) {
					got[r] = true
				}
				for _, w := range expected(t, f.ds, s, start, far) {
					if !got[w] {
						t.Fatalf("%s: gap after resuming: %s", name, trunc(w))
					}
				}
			}
			// A date stream is one long paged request, so only the checkpoint at the end of
			// each page saves the work of a cut-off read: once a whole page (and so a next
			// token) was delivered, the resumed read starts after the configured start and
			// does not deliver the first day again.
			resumedMidway := 0
			for _, name := range []string{"daily_activity", "sleep_periods"} {
				s, _ := streams.Lookup(name)
				if len(cut.records[name]) < 30 || len(cut.records[name]) >= len(expected(t, f.ds, s, start, far)) {
					continue // no whole page before the cut, or the stream was already done
				}
				resumedMidway++
				first := expected(t, f.ds, s, start, far)[0]
				for _, r := range resumed.records[name] {
					if r == first {
						t.Errorf("%s: the resumed read started from scratch (it delivered the first day again, %d records) although the cut-off read delivered %d records in whole pages",
							name, len(resumed.records[name]), len(cut.records[name]))
					}
				}
			}
			if k == 2 && resumedMidway == 0 {
				t.Fatalf("no date stream was cut off after a whole page (records: %d daily_activity, %d sleep_periods): the test would prove nothing",
					len(cut.records["daily_activity"]), len(cut.records["sleep_periods"]))
			}
		})
	}
}

// TestAbnormalStateReadsNothing: a far-future state yields no records and one state per stream.
func TestAbnormalStateReadsNothing(t *testing.T) {
	f := newFixture(t, 20, 1000)
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-04-01T00:00:00Z"}`, token, f.url)
	var arr []string
	for _, s := range incrementalStreams() {
		v := "2099-12-31"
		if s.Params == streams.DateTimes {
			v = "2099-12-31T00:00:00Z"
		}
		arr = append(arr, fmt.Sprintf(`{"type":"STREAM","stream":{"stream_descriptor":{"name":%q},"stream_state":{%q:%q}}}`, s.Name, s.Cursor, v))
	}
	out := f.read(t, cfg, catalogOf(incremental), "["+strings.Join(arr, ",")+"]")
	if out.code != 0 {
		t.Fatalf("exit %d", out.code)
	}
	states := map[string]int{}
	for _, m := range out.msgs {
		if m.Record != nil && m.Record.Stream != "personal_info" && m.Record.Stream != "ring_configurations" {
			t.Fatalf("record read despite a far-future state: %s", m.Record.Stream)
		}
		if m.State != nil {
			states[m.State.Stream.StreamDescriptor.Name]++
		}
	}
	for _, s := range streams.AllStreams() {
		if states[s.Name] != 1 {
			t.Errorf("%s: %d states, want 1", s.Name, states[s.Name])
		}
	}
}

// TestStatesNeverGoBack: per stream, cursors never decrease and no two identical states
// follow each other without records in between.
func TestStatesNeverGoBack(t *testing.T) {
	f := newFixture(t, 75, 25)
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-02-10T00:00:00Z","lookback_window_days":10}`, token, f.url)
	cat := catalogOf(incremental)
	read1 := f.read(t, cfg, cat, "")
	read2 := f.read(t, cfg, cat, lastStates(t, read1))
	for _, o := range []output{read1, read2} {
		if o.code != 0 {
			t.Fatalf("exit %d", o.code)
		}
		last := map[string]string{}
		recordsSince := map[string]int{}
		for _, m := range o.msgs {
			if m.Record != nil {
				recordsSince[m.Record.Stream]++
			}
			if m.State == nil {
				continue
			}
			n := m.State.Stream.StreamDescriptor.Name
			blob := string(m.State.Stream.StreamState)
			var st struct{ Cursor string }
			_ = json.Unmarshal(m.State.Stream.StreamState, &st)
			if prev, ok := last[n]; ok {
				if blob == prev && recordsSince[n] == 0 {
					t.Errorf("%s: identical state twice with no records between: %s", n, blob)
				}
				var p struct{ Cursor string }
				_ = json.Unmarshal([]byte(prev), &p)
				if st.Cursor < p.Cursor {
					t.Errorf("%s: state went back from %s to %s", n, p.Cursor, st.Cursor)
				}
			}
			last[n] = blob
			recordsSince[n] = 0
		}
	}
}

// errorLines keeps the error traces and warnings of a read, for failure messages.
func errorLines(o output) string {
	var b strings.Builder
	for _, m := range o.msgs {
		if m.Trace != nil && m.Trace.Error != nil {
			b.WriteString(m.Trace.Error.Message + "\n")
		}
		if m.Log != nil && m.Log.Level == protocol.LevelWarn {
			b.WriteString("WARN " + m.Log.Message + "\n")
		}
	}
	return b.String()
}

// TestFutureCursor: a saved cursor more than two days after now is reported, written as the
// stream writes it, so that read can warn that nothing newer will be read until then. Today,
// tomorrow (time zones) and the past are not, nor a state without a cursor or one that is refused.
func TestFutureCursor(t *testing.T) {
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	daily, _ := streams.Lookup("daily_activity")
	hr, _ := streams.Lookup("heart_rate")
	for _, c := range []struct {
		s      *streams.Stream
		blob   string
		want   string
		future bool
	}{
		{daily, `{"cursor":"2099-01-01","v":1}`, "2099-01-01", true},
		{daily, `{"day":"2026-11-23"}`, "2026-11-23", true},
		{hr, `{"cursor":"2099-01-01T00:00:00Z","v":1}`, "2099-01-01T00:00:00Z", true},
		{hr, `{"cursor":"2026-11-22T15:00:01Z","v":1}`, "2026-11-22T15:00:01Z", true},
		{hr, `{"cursor":"2026-11-22T15:00:00Z","v":1}`, "", false}, // exactly two days: not yet
		{daily, `{"cursor":"2026-11-21","v":1}`, "", false},
		{daily, `{"cursor":"2020-01-01","v":1}`, "", false},
		{daily, `{"v":1}`, "", false},
		{daily, `{"cursor":"soon","v":1}`, "", false},
		{daily, `null`, "", false},
	} {
		got, future := c.s.FutureCursor(json.RawMessage(c.blob), now)
		if got != c.want || future != c.future {
			t.Errorf("%s %s: %q, %v; want %q, %v", c.s.Name, c.blob, got, future, c.want, c.future)
		}
	}
}

// TestCursorAfterEnd: a saved cursor after end_datetime, by more than the lookback the next read
// goes back, is reported, written as the stream writes it: that read asks for nothing. A cursor on
// the last day, one the lookback reaches back before the end, no end_datetime, and a state without
// a cursor are not.
func TestCursorAfterEnd(t *testing.T) {
	end := time.Date(2026, 11, 10, 23, 59, 59, 999999999, time.UTC) // end_datetime 2026-11-10
	daily, _ := streams.Lookup("daily_sleep")
	hr, _ := streams.Lookup("heart_rate")
	for _, c := range []struct {
		s        *streams.Stream
		blob     string
		end      time.Time
		lookback int
		want     string
	}{
		{daily, `{"cursor":"2026-11-25","v":1}`, end, 0, "2026-11-25"},
		{daily, `{"cursor":"2026-11-25","v":1}`, end, 7, "2026-11-25"},
		{daily, `{"day":"2026-11-11"}`, end, 0, "2026-11-11"},
		{hr, `{"cursor":"2026-11-11T00:00:00Z","v":1}`, end, 0, "2026-11-11T00:00:00Z"},
		{daily, `{"cursor":"2026-11-10","v":1}`, end, 0, ""},  // the last day is still read
		{daily, `{"cursor":"2026-11-25","v":1}`, end, 30, ""}, // the lookback reaches back before the end
		{daily, `{"cursor":"2026-11-25","v":1}`, time.Time{}, 0, ""},
		{hr, `{"cursor":"2026-11-10T23:00:00Z","v":1}`, end, 0, ""},
		{daily, `{"v":1}`, end, 0, ""},
		{daily, `{"cursor":"soon","v":1}`, end, 0, ""},
	} {
		got, after := c.s.CursorAfterEnd(json.RawMessage(c.blob), c.end, c.lookback)
		if got != c.want || after != (c.want != "") {
			t.Errorf("%s %s end %s lookback %d: %q, %v; want %q", c.s.Name, c.blob, c.end, c.lookback, got, after, c.want)
		}
	}
}
