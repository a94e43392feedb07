package ouraemu

import (
	"slices"
	"strings"
	"time"
)

// defaultSpanDays is the length of DefaultOptions' span: two years.
const defaultSpanDays = 730

// DefaultOptions returns seed 1 and the two years (730 days) ending on now's UTC date.
func DefaultOptions(now time.Time) GenOptions {
	last := dayTime(civilDay(now))
	return GenOptions{Seed: 1, First: last.AddDate(0, 0, -(defaultSpanDays - 1)), Last: last}
}

// Generate builds a deterministic dataset for every collection in Collections.
//
// The documents of a day depend only on the seed and that day (and the planned days next to
// it), never on First or Last, so a dataset with a later Last holds the same earlier
// documents byte for byte plus the new days. Options with Last before First give a dataset
// with empty collections.
func Generate(opts GenOptions) *Dataset {
	first, last := civilDay(opts.First), civilDay(opts.Last)
	ds := &Dataset{
		First: dayTime(first),
		Last:  dayTime(last),
		Docs:  make(map[string][]Doc, len(Collections)),
	}
	for _, c := range Collections {
		if c != "personal_info" {
			ds.Docs[c] = []Doc{}
		}
	}
	g := newGenerator(opts.Seed, first, max(first, last))
	ds.PersonalInfo = g.personalInfo()
	if last < first {
		return ds
	}
	add := func(c string, docs ...Doc) { ds.Docs[c] = append(ds.Docs[c], docs...) }
	for day := first; day <= last; day++ {
		if !g.core(day).worn {
			continue
		}
		add("daily_activity", g.dailyActivity(day))
		add("daily_readiness", g.dailyReadiness(day))
		add("daily_sleep", g.dailySleep(day))
		add("daily_spo2", g.dailySpO2(day))
		add("daily_stress", g.dailyStress(day))
		add("daily_resilience", g.dailyResilience(day))
		add("daily_cardiovascular_age", g.dailyCardiovascularAge(day))
		add("sleep_time", g.sleepTime(day))
		add("sleep", g.sleepPeriods(day)...)
		add("workout", g.workouts(day)...)
		add("session", g.sessions(day)...)
		add("tag", g.tags(day)...)
		add("enhanced_tag", g.enhancedTags(day)...)
		if d, ok := g.vo2Max(day); ok {
			add("vO2_max", d)
		}
	}
	add("rest_mode_period", g.restModePeriods()...)
	add("ring_configuration", g.ringConfigurations()...)
	// The series are built in order and large: keep them as built rather than copy them.
	ds.Docs["heartrate"] = g.heartRate()
	ds.Docs["ring_battery_level"] = g.batteryLevels()
	for _, docs := range ds.Docs {
		sortDocs(docs)
	}
	return ds
}

// sortDocs orders documents by Key, then ID, as the server expects.
func sortDocs(docs []Doc) {
	cmp := func(a, b Doc) int {
		if c := a.Key.Compare(b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	}
	if !slices.IsSortedFunc(docs, cmp) {
		slices.SortStableFunc(docs, cmp)
	}
}

// civilDay returns the day number of t's UTC date.
func civilDay(t time.Time) int64 {
	y, m, d := t.UTC().Date()
	return daysFromCivil(int64(y), int64(m), int64(d))
}

// dayTime returns 00:00 UTC of a day number.
func dayTime(day int64) time.Time {
	return time.Unix(day*secondsPerDay, 0).UTC()
}

// wallKey turns local wall-clock seconds into a Doc.Key: the same wall clock, in UTC.
func wallKey(wall int64) time.Time {
	return time.Unix(wall, 0).UTC()
}

// newDoc encodes a model into a Doc.
func (g *generator) newDoc(m genModel, id, day string, keyWall int64) Doc {
	return Doc{ID: id, Day: day, Key: wallKey(keyWall), JSON: encodeModel(&g.w, m)}
}

// genPtr returns a pointer to a copy of v.
func genPtr[T any](v T) *T { return &v }

// orNull returns nil with probability p, else a pointer to v. The random draw happens
// either way, so later values do not depend on the outcome.
func orNull[T any](r *genRand, p float64, v T) *T {
	if r.chance(p) {
		return nil
	}
	return &v
}
