package integrationtests

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// TestIncremental applies the acceptance tests' incremental checks to every stream that
// supports incremental sync, with the catalog of configured_catalog.json.
func TestIncremental(t *testing.T) {
	cat := fixtureCatalog(t, incrementalOnly)
	if len(cat.Streams) == 0 {
		t.Fatal("configured_catalog.json has no incremental streams")
	}

	recent := configFile(t, recentRange)

	t.Run("two sequential reads", func(t *testing.T) {
		first := read(t, recent, cat, nil)
		if first.code != 0 || len(first.states()) == 0 || len(first.records()) == 0 {
			t.Fatalf("the first read needs records and states and a clean exit\n%s", first.describe())
		}
		second := read(t, recent, cat, latestStates(first.states()))
		if second.code != 0 {
			t.Fatalf("the read from the first read's states failed\n%s", second.describe())
		}
		r1, r2 := first.records(), second.records()
		if sameSet(dataSet(t, r1), dataSet(t, r2)) {
			t.Errorf("the second read, from the first read's states, gave the same %d records again", len(r2))
		}
		if len(r2) >= len(r1) {
			t.Errorf("the second read gave %d records, the first %d; a read from saved state should read less", len(r2), len(r1))
		}
	})

	t.Run("sequential slices", func(t *testing.T) {
		for _, s := range cat.Streams {
			t.Run(s.Stream.Name, func(t *testing.T) {
				t.Parallel()
				readFromCheckpoints(t, s)
			})
		}
	})

	t.Run("abnormal state", func(t *testing.T) {
		var states []map[string]any
		readFixture(t, "abnormal_state.json", &states)
		covered := map[string]bool{}
		for _, s := range states {
			st, _ := s["stream"].(map[string]any)
			d, _ := st["stream_descriptor"].(map[string]any)
			name, _ := d["name"].(string)
			covered[name] = true
		}
		for _, s := range cat.Streams {
			if !covered[s.Stream.Name] {
				t.Errorf("abnormal_state.json has no state for incremental stream %s", s.Stream.Name)
			}
		}
		o := read(t, recent, cat, states)
		if o.code != 0 {
			t.Fatalf("a read from far-future states failed\n%s", o.describe())
		}
		if recs := o.records(); len(recs) != 0 {
			t.Errorf("a read from far-future states gave %d records (first from %s); want none", len(recs), recs[0].Stream)
		}
		if len(o.states()) == 0 {
			t.Error("a read from far-future states printed no STATE; it must still checkpoint")
		}
	})

	t.Run("sample_state.json", func(t *testing.T) {
		var states []any
		readFixture(t, "sample_state.json", &states)
		input := cursorsOf(t, states)
		o := read(t, recent, cat, states)
		if o.code != 0 || len(o.errorTraces()) > 0 {
			t.Fatalf("a read from sample_state.json failed\n%s", o.describe())
		}
		lookback := time.Duration(testConfig()["lookback_window_days"].(int)) * 24 * time.Hour
		for _, s := range cat.Streams {
			name, field := s.Stream.Name, s.CursorField[0]
			from, ok := input[name]
			if !ok {
				t.Errorf("sample_state.json has no state for %s", name)
				continue
			}
			start, err := parseCursor(from)
			if err != nil {
				t.Fatalf("sample_state.json: %s cursor %q: %v", name, from, err)
			}
			// A read resumes at the cursor less the lookback window, never earlier. Days are
			// whole UTC days, so compare from the start of the cursor's day.
			earliest := start.Add(-lookback).Truncate(24 * time.Hour)
			for _, r := range o.records() {
				if r.Stream != name {
					continue
				}
				var doc map[string]any
				if err := json.Unmarshal(r.Data, &doc); err != nil {
					t.Fatal(err)
				}
				v, _ := doc[field].(string)
				if at, err := parseCursor(v); err == nil && at.Before(earliest) {
					t.Errorf("%s: record with %s %s is before the saved cursor %s less the lookback", name, field, v, from)
					break
				}
			}
		}
		for name, c := range cursorsOf(t, latestStates(o.states())) {
			before, _ := parseCursor(input[name])
			after, err := parseCursor(c)
			if err != nil || after.Before(before) {
				t.Errorf("%s: the cursor went from %s back to %s (%v); it must never move back", name, input[name], c, err)
			}
		}
	})
}

// readFromCheckpoints is the acceptance tests' sequential-slices check for one stream: a full
// read must checkpoint along the way, and a read resumed from a checkpoint must give at least
// the records that came after it, and not simply everything again.
func readFromCheckpoints(t *testing.T, s configuredStream) {
	one := configuredCatalog{Streams: []configuredStream{s}}
	// Day-keyed streams read the whole range: the sparse ones (rest-mode periods, tags) need
	// it to have records on both sides of a checkpoint. The 5-minute sample series have
	// plenty in the recent range.
	cfg := configFile(t, nil)
	if len(s.CursorField) == 1 && s.CursorField[0] == "timestamp" {
		cfg = configFile(t, recentRange)
	}
	full := read(t, cfg, one, nil)
	if full.code != 0 {
		t.Fatalf("full read failed\n%s", full.describe())
	}
	all := full.records()
	if len(all) == 0 {
		t.Fatalf("%s has no records in the emulated account", s.Stream.Name)
	}
	picks := pickCheckpoints(full.states())
	if len(picks) == 0 {
		t.Fatalf("no state of %s counts any records (sourceStats.recordCount); nothing to resume from", s.Stream.Name)
	}
	t.Logf("%d records, %d states; resuming from %d of them", len(all), len(full.states()), len(picks))
	allSet := dataSet(t, all)
	for i, p := range picks {
		o := read(t, cfg, one, latestStates([]stateMessage{p.state}))
		if o.code != 0 {
			t.Fatalf("read from checkpoint %d failed\n%s", i, o.describe())
		}
		recs := o.records()
		if len(recs) < p.after {
			t.Errorf("from state %s: %d records; the full read had %d after that state", p.state.Stream.StreamState, len(recs), p.after)
		}
		if sameSet(allSet, dataSet(t, recs)) {
			t.Errorf("from state %s: the same %d records as the full read", p.state.Stream.StreamState, len(all))
		}
	}
}

// checkpoint is a state of a full read and how many records came after it.
type checkpoint struct {
	state stateMessage
	after int
}

// pickCheckpoints chooses the states to resume from the way the acceptance tests do. A run of
// identical states counts as its first one; states that count no records are dropped. With
// fewer than three left only the last is used; otherwise about five are sampled, leaving out
// the first and the last, which prove little.
func pickCheckpoints(states []stateMessage) []checkpoint {
	type counted struct {
		state stateMessage
		count float64
	}
	var runs []counted
	for _, s := range states {
		if s.Stream == nil {
			continue
		}
		c := 0.0
		if s.SourceStats != nil && s.SourceStats.RecordCount != nil {
			c = *s.SourceStats.RecordCount
		}
		if n := len(runs); n > 0 && string(runs[n-1].state.Stream.StreamState) == string(s.Stream.StreamState) {
			runs[n-1].count += c
			continue
		}
		runs = append(runs, counted{s, c})
	}
	total := 0.0
	var nonZero []counted
	for _, r := range runs {
		if r.count != 0 {
			nonZero = append(nonZero, r)
			total += r.count
		}
	}
	var all []checkpoint
	seen := 0.0
	for _, r := range nonZero {
		seen += r.count
		all = append(all, checkpoint{state: r.state, after: int(total - seen)})
	}
	if len(all) < 3 {
		if len(all) == 0 {
			return nil
		}
		return all[len(all)-1:]
	}
	rate := max(len(all)/5, 1)
	var out []checkpoint
	for i := 1; i < len(all)-1; i++ {
		if i%rate == 0 {
			out = append(out, all[i])
		}
	}
	return out
}

// cursorsOf maps stream names to the cursor inside each state blob ({"cursor": …}, the form
// the README documents).
func cursorsOf(t *testing.T, states []any) map[string]string {
	t.Helper()
	var decoded []struct {
		Stream struct {
			StreamDescriptor descriptor `json:"stream_descriptor"`
			StreamState      struct {
				Cursor string `json:"cursor"`
			} `json:"stream_state"`
		} `json:"stream"`
	}
	if err := json.Unmarshal(mustMarshal(t, states), &decoded); err != nil {
		t.Fatalf("decoding states: %v", err)
	}
	out := map[string]string{}
	for _, s := range decoded {
		out[s.Stream.StreamDescriptor.Name] = s.Stream.StreamState.Cursor
	}
	return out
}

// parseCursor reads a day (2025-04-20) or an RFC 3339 time.
func parseCursor(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("cursor %q is neither a day nor an RFC 3339 time", s)
	}
	return t, nil
}
