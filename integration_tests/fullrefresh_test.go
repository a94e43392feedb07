package integrationtests

import (
	"math"
	"testing"
	"time"
)

// TestFullRefresh reads every stream in full refresh twice, as the acceptance tests do:
// records carry a real emission time that grows from one read to the next, and the first
// read's records are all in the second.
func TestFullRefresh(t *testing.T) {
	cat := fixtureCatalog(t, nil)
	for i := range cat.Streams {
		cat.Streams[i].SyncMode = "full_refresh"
		cat.Streams[i].CursorField = nil
	}
	cfg := configFile(t, recentRange)
	before := time.Now().UnixMilli()
	first := read(t, cfg, cat, nil)
	// The acceptance tests wait a moment between reads too; emitted_at is in milliseconds.
	time.Sleep(100 * time.Millisecond)
	second := read(t, cfg, cat, nil)
	after := time.Now().UnixMilli()
	for _, o := range []*output{first, second} {
		if o.code != 0 || len(o.errorTraces()) > 0 {
			t.Fatalf("full refresh read failed\n%s", o.describe())
		}
	}
	r1, r2 := first.records(), second.records()
	if len(r1) == 0 {
		t.Fatal("the first full refresh read printed no records")
	}

	first1, last1 := emittedRange(t, r1)
	first2, last2 := emittedRange(t, r2)
	if first1 < before || last2 > after {
		t.Errorf("emitted_at runs from %d to %d, outside the reads' wall-clock time %d to %d; it must be the time of emission in milliseconds",
			first1, last2, before, after)
	}
	if last1 >= first2 {
		t.Errorf("emitted_at does not increase between reads: the first read ends at %d, the second starts at %d", last1, first2)
	}

	pks := map[string][][]string{}
	for _, s := range cat.Streams {
		pks[s.Stream.Name] = s.Stream.SourceDefinedPrimaryKey
	}
	second2 := map[string]string{}
	for _, r := range r2 {
		second2[r.Stream+" "+keyOf(t, pks[r.Stream], r.Data)] = canonical(t, r.Data)
	}
	missing := 0
	for _, r := range r1 {
		key := r.Stream + " " + keyOf(t, pks[r.Stream], r.Data)
		if got, ok := second2[key]; !ok || got != canonical(t, r.Data) {
			if missing++; missing <= 10 {
				t.Errorf("%s record %s of the first read is not in the second, or differs", r.Stream, key)
			}
		}
	}

	t.Run("a state for every stream", func(t *testing.T) {
		var names []string
		for _, s := range cat.Streams {
			names = append(names, s.Stream.Name)
		}
		for _, p := range stateProblems(first.states(), names) {
			t.Error(p)
		}
	})
}

// emittedRange returns the smallest and largest emitted_at of records, which must be whole
// milliseconds.
func emittedRange(t *testing.T, recs []record) (lo, hi int64) {
	t.Helper()
	lo, hi = math.MaxInt64, math.MinInt64
	for _, r := range recs {
		ms, err := r.EmittedAt.Int64()
		if err != nil {
			t.Fatalf("%s: emitted_at %q is not an integer of milliseconds", r.Stream, r.EmittedAt)
		}
		lo, hi = min(lo, ms), max(hi, ms)
	}
	return lo, hi
}
