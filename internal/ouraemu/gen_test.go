package ouraemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"source-oura/internal/orderedjson"
)

// genFixedNow is the "now" of the shared dataset; its two years hold seed 1's trip and a
// ring replacement (TestTimeZoneOffsets and TestRingConfiguration check that).
var genFixedNow = time.Date(2025, 6, 15, 9, 30, 0, 0, time.UTC)

// genDefaultDataset is the default two-year dataset, generated once for the read-only tests.
var genDefaultDataset = sync.OnceValue(func() *Dataset { return Generate(DefaultOptions(genFixedNow)) })

func genDate(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// genFieldsCache holds decoded documents by the address of their JSON, so the tests that
// read the shared dataset decode each document once (which matters under -race).
var genFieldsCache sync.Map

// genFields decodes a document, keeping numbers as json.Number. The map is shared: read it only.
func genFields(t *testing.T, d Doc) map[string]any {
	t.Helper()
	if len(d.JSON) == 0 {
		t.Fatal("empty document")
	}
	if m, ok := genFieldsCache.Load(&d.JSON[0]); ok {
		return m.(map[string]any)
	}
	n, err := orderedjson.DecodeObject(d.JSON)
	if err != nil {
		t.Fatalf("decoding %s: %v", d.JSON, err)
	}
	m := orderedjson.Plain(n).(map[string]any)
	genFieldsCache.Store(&d.JSON[0], m)
	return m
}

func genInt(v any) int {
	n, ok := v.(json.Number)
	if !ok {
		return -1
	}
	i, err := n.Int64()
	if err != nil {
		return -1
	}
	return int(i)
}

// genWall reads the wall clock of a local timestamp (with or without offset) as UTC.
func genWall(t *testing.T, s string) time.Time {
	t.Helper()
	w, err := time.Parse("2006-01-02T15:04:05", s[:19])
	if err != nil {
		t.Fatalf("timestamp %q: %v", s, err)
	}
	return w
}

func genInstant(t *testing.T, s string) time.Time {
	t.Helper()
	i, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("timestamp %q: %v", s, err)
	}
	return i
}

func TestDefaultOptions(t *testing.T) {
	now := time.Date(2025, 6, 15, 23, 30, 0, 0, time.FixedZone("UTC-3", -3*3600)) // 02:30 UTC on the 16th
	o := DefaultOptions(now)
	if o.Seed != 1 {
		t.Errorf("Seed = %d, want 1", o.Seed)
	}
	if want := genDate("2025-06-16"); !o.Last.Equal(want) {
		t.Errorf("Last = %v, want %v (now's UTC date)", o.Last, want)
	}
	if days := o.Last.Sub(o.First).Hours()/24 + 1; days != 730 {
		t.Errorf("span = %v days, want 730", days)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	opts := GenOptions{Seed: 3, First: genDate("2024-02-01"), Last: genDate("2024-04-30")}
	a, b := Generate(opts), Generate(opts)
	if !reflect.DeepEqual(a.Docs, b.Docs) || !bytes.Equal(a.PersonalInfo, b.PersonalInfo) {
		t.Fatal("two Generate calls with the same options differ")
	}
	c := Generate(GenOptions{Seed: 4, First: opts.First, Last: opts.Last})
	if bytes.Equal(a.Docs["daily_sleep"][0].JSON, c.Docs["daily_sleep"][0].JSON) {
		t.Error("another seed gives the same documents")
	}
}

// A longer span holds every document of a shorter one, byte for byte: days added at either
// end never change the days already there.
func TestLongerSpanKeepsEarlierDocuments(t *testing.T) {
	short := GenOptions{Seed: 7, First: genDate("2024-01-01"), Last: genDate("2024-04-30")}
	for _, longer := range []GenOptions{
		{Seed: 7, First: short.First, Last: genDate("2024-06-15")},
		{Seed: 7, First: genDate("2023-10-01"), Last: genDate("2024-07-31")},
	} {
		a, b := Generate(short), Generate(longer)
		for _, c := range Collections {
			if c == "personal_info" {
				continue
			}
			have := map[string]Doc{}
			for _, d := range b.Docs[c] {
				have[string(d.JSON)] = d
			}
			missing := 0
			for _, d := range a.Docs[c] {
				got, ok := have[string(d.JSON)]
				if !ok || got.ID != d.ID || got.Day != d.Day || !got.Key.Equal(d.Key) {
					missing++
				}
			}
			if missing > 0 {
				t.Errorf("%s..%s: %d of %d %s documents of the shorter span are missing or changed",
					longer.First.Format(time.DateOnly), longer.Last.Format(time.DateOnly), missing, len(a.Docs[c]), c)
			}
			if len(b.Docs[c]) < len(a.Docs[c]) {
				t.Errorf("%s: longer span has fewer documents", c)
			}
		}
		if n, m := len(a.Docs["daily_readiness"]), len(b.Docs["daily_readiness"]); m <= n {
			t.Errorf("longer span added no days (%d vs %d)", m, n)
		}
	}
}

func TestLastBeforeFirstGivesEmptyCollections(t *testing.T) {
	ds := Generate(GenOptions{Seed: 1, First: genDate("2024-05-02"), Last: genDate("2024-05-01")})
	for _, c := range Collections {
		if c == "personal_info" {
			continue
		}
		docs, ok := ds.Docs[c]
		if !ok || len(docs) != 0 {
			t.Errorf("%s: present=%v, %d documents; want an empty collection", c, ok, len(docs))
		}
	}
	if !json.Valid(ds.PersonalInfo) {
		t.Errorf("personal_info = %q", ds.PersonalInfo)
	}
}

func TestKeysDaysAndOrder(t *testing.T) {
	ds := genDefaultDataset()
	for _, c := range Collections {
		if c == "personal_info" {
			continue
		}
		docs := ds.Docs[c]
		if len(docs) == 0 {
			t.Errorf("%s: no documents", c)
			continue
		}
		sorted := slices.IsSortedFunc(docs, func(a, b Doc) int {
			if k := a.Key.Compare(b.Key); k != 0 {
				return k
			}
			return strings.Compare(a.ID, b.ID)
		})
		if !sorted {
			t.Errorf("%s: documents not sorted by Key then ID", c)
		}
		step := 1
		if c == "heartrate" || c == "ring_battery_level" {
			step = 53
		}
		for i := 0; i < len(docs); i += step {
			d := docs[i]
			f := genFields(t, d)
			var wantKey time.Time
			wantDay, _ := f["day"].(string)
			switch c {
			case "heartrate", "ring_battery_level":
				wantKey, wantDay = genInstant(t, f["timestamp"].(string)), ""
			case "daily_activity", "vO2_max":
				wantKey = genWall(t, f["timestamp"].(string))
			case "sleep":
				wantKey = genWall(t, f["bedtime_start"].(string))
			case "session", "workout":
				wantKey = genWall(t, f["start_datetime"].(string))
			case "tag":
				wantKey = genWall(t, f["timestamp"].(string))
			case "enhanced_tag":
				wantKey, wantDay = genWall(t, f["start_time"].(string)), f["start_day"].(string)
			case "rest_mode_period":
				wantDay = f["start_day"].(string)
				wantKey = genDate(wantDay)
				if s, ok := f["start_time"].(string); ok {
					wantKey = genWall(t, s)
				}
			case "ring_configuration":
				wantKey, wantDay = genInstant(t, f["set_up_at"].(string)), ""
			default:
				wantKey = genDate(wantDay)
			}
			id, _ := f["id"].(string)
			if !d.Key.Equal(wantKey) || d.Key.Location() != time.UTC || d.Day != wantDay || d.ID != id {
				t.Errorf("%s: Key=%v Day=%q ID=%q, want %v %q %q", c, d.Key, d.Day, d.ID, wantKey, wantDay, id)
				break
			}
		}
	}
}

// lastSundayOf returns the date of a month's last Sunday.
func lastSundayOf(year int, month time.Month) time.Time {
	d := time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -int(d.Weekday()))
}

func TestTimeZoneOffsets(t *testing.T) {
	ds := genDefaultDataset()
	offsets := map[string]string{} // day -> offset of local midnight
	for _, d := range ds.Docs["daily_readiness"] {
		ts := genFields(t, d)["timestamp"].(string)
		offsets[d.Day] = ts[len(ts)-6:]
	}
	checked := 0
	for y := ds.First.Year(); y <= ds.Last.Year(); y++ {
		for _, sw := range []struct {
			month         time.Month
			before, after string
		}{{time.March, "+02:00", "+03:00"}, {time.October, "+03:00", "+02:00"}} {
			sunday := lastSundayOf(y, sw.month)
			// Sunday's midnight is still on the old offset: the clocks change at 01:00 UTC.
			for day, want := range map[time.Time]string{sunday.AddDate(0, 0, -1): sw.before, sunday: sw.before, sunday.AddDate(0, 0, 1): sw.after} {
				got, ok := offsets[day.Format(time.DateOnly)]
				if !ok {
					continue
				}
				checked++
				if got != want {
					t.Errorf("%s: offset %s, want %s", day.Format(time.DateOnly), got, want)
				}
			}
		}
	}
	if checked < 6 {
		t.Errorf("only %d days around the summer-time changes were checked", checked)
	}

	// One trip of about ten days to UTC-05:00 or UTC-04:00.
	var tripDays []time.Time
	for day, off := range offsets {
		if off == "-05:00" || off == "-04:00" {
			tripDays = append(tripDays, genDate(day))
		} else if off != "+02:00" && off != "+03:00" {
			t.Errorf("%s: unexpected offset %s", day, off)
		}
	}
	sort.Slice(tripDays, func(i, j int) bool { return tripDays[i].Before(tripDays[j]) })
	if len(tripDays) < 8 {
		t.Fatalf("trip days = %d, want about ten", len(tripDays))
	}
	if span := tripDays[len(tripDays)-1].Sub(tripDays[0]).Hours()/24 + 1; span > 13 {
		t.Errorf("trip days spread over %v days, want one trip of about ten", span)
	}

	// Timestamps carry the offset of their moment: a night across the March change starts
	// on +02:00 and ends on +03:00.
	crossed := 0
	for _, d := range ds.Docs["sleep"] {
		f := genFields(t, d)
		from, to := f["bedtime_start"].(string), f["bedtime_end"].(string)
		if from[len(from)-6:] == "+02:00" && to[len(to)-6:] == "+03:00" {
			crossed++
			if want := genInstant(t, from).Add(time.Duration(genInt(f["time_in_bed"])) * time.Second); !genInstant(t, to).Equal(want) {
				t.Errorf("sleep %s: bedtime_end %s is not bedtime_start + time_in_bed", d.ID, to)
			}
		}
	}
	if crossed == 0 {
		t.Error("no sleep period crosses the March change")
	}
}

// noDataDays returns the days of the span without a readiness document.
func noDataDays(ds *Dataset) []time.Time {
	have := map[string]bool{}
	for _, d := range ds.Docs["daily_readiness"] {
		have[d.Day] = true
	}
	var missing []time.Time
	for day := ds.First; !day.After(ds.Last); day = day.AddDate(0, 0, 1) {
		if !have[day.Format(time.DateOnly)] {
			missing = append(missing, day)
		}
	}
	return missing
}

func TestDaysWithoutData(t *testing.T) {
	ds := genDefaultDataset()
	missing := noDataDays(ds)
	days := int(ds.Last.Sub(ds.First).Hours()/24) + 1
	if pct := 100 * len(missing) / days; pct < 2 || pct > 5 {
		t.Errorf("%d of %d days have no data, want about 3%%", len(missing), days)
	}
	for start := ds.First; !start.AddDate(0, 0, 59).After(ds.Last); start = start.AddDate(0, 0, 1) {
		end := start.AddDate(0, 0, 59)
		if !slices.ContainsFunc(missing, func(d time.Time) bool { return !d.Before(start) && !d.After(end) }) {
			t.Fatalf("no day without data in the 60 days from %s", start.Format(time.DateOnly))
		}
	}
	byDay := map[string]bool{}
	for _, d := range missing {
		byDay[d.Format(time.DateOnly)] = true
	}
	for c, docs := range ds.Docs {
		for _, d := range docs {
			if byDay[d.Day] {
				t.Errorf("%s document %s falls on %s, a day without data", c, d.ID, d.Day)
			}
		}
	}
	zone := newGenZone(1)
	for _, day := range missing {
		n := civilDay(day)
		from, to := time.Unix(zone.midnight(n), 0), time.Unix(zone.midnight(n+1), 0)
		for _, c := range []string{"heartrate", "ring_battery_level"} {
			rows := ds.Docs[c]
			i := sort.Search(len(rows), func(i int) bool { return !rows[i].Key.Before(from) })
			if i < len(rows) && rows[i].Key.Before(to) {
				t.Errorf("%s row %s on %s, a day without data", c, rows[i].JSON, day.Format(time.DateOnly))
			}
		}
	}
}

// hrRow is a decoded heartrate row.
type hrRow struct {
	Timestamp     string `json:"timestamp"`
	TimestampUnix int64  `json:"timestamp_unix"`
	BPM           int    `json:"bpm"`
	Source        string `json:"source"`
}

// genSpans returns [start, end) of the documents of a collection, by two timestamp fields.
func genSpans(t *testing.T, docs []Doc, from, to string) [][2]time.Time {
	var out [][2]time.Time
	for _, d := range docs {
		f := genFields(t, d)
		out = append(out, [2]time.Time{genInstant(t, f[from].(string)), genInstant(t, f[to].(string))})
	}
	return out
}

func within(spans [][2]time.Time, at time.Time) bool {
	for _, s := range spans {
		if !at.Before(s[0]) && at.Before(s[1]) {
			return true
		}
	}
	return false
}

func TestHeartRateRows(t *testing.T) {
	ds := Generate(GenOptions{Seed: 5, First: genDate("2024-03-01"), Last: genDate("2024-05-31")})
	sleeps := genSpans(t, ds.Docs["sleep"], "bedtime_start", "bedtime_end")
	workouts := genSpans(t, ds.Docs["workout"], "start_datetime", "end_datetime")
	rows := ds.Docs["heartrate"]
	seen := map[string]bool{}
	sources := map[string]int{}
	gaps := map[int64]int{}
	var prev time.Time
	for i, d := range rows {
		var r hrRow
		if err := json.Unmarshal(d.JSON, &r); err != nil {
			t.Fatalf("row %s: %v", d.JSON, err)
		}
		at := genInstant(t, r.Timestamp)
		if !strings.HasSuffix(r.Timestamp, "+00:00") || !at.Equal(d.Key) || r.TimestampUnix != at.UnixMilli() {
			t.Fatalf("row %s: timestamp, timestamp_unix and Key %v disagree", d.JSON, d.Key)
		}
		if k := r.Timestamp + r.Source; seen[k] {
			t.Fatalf("duplicate row %s", d.JSON)
		} else {
			seen[k] = true
		}
		if r.BPM < 35 || r.BPM > 200 {
			t.Errorf("row %s: bpm out of range", d.JSON)
		}
		sources[r.Source]++
		if (r.Source == "sleep") != within(sleeps, at) {
			t.Errorf("row %s: source does not match the sleep periods", d.JSON)
		}
		if (r.Source == "workout") != within(workouts, at) {
			t.Errorf("row %s: source does not match the workouts", d.JSON)
		}
		if i > 0 {
			gap := int64(at.Sub(prev) / time.Second)
			if gap%300 != 0 {
				t.Fatalf("rows %s and %s are not on the 5-minute grid", rows[i-1].JSON, d.JSON)
			}
			gaps[gap]++
		}
		prev = at
	}
	for _, s := range []string{"awake", "sleep", "workout", "session"} {
		if sources[s] == 0 {
			t.Errorf("no %s rows (sources %v)", s, sources)
		}
	}
	// While worn, rows are exactly 300 s apart; the ring is off about three hours a day.
	if gaps[300]*100 < len(rows)*97 {
		t.Errorf("only %d of %d gaps are 300 s", gaps[300], len(rows))
	}
	hours := float64(len(rows)) * 5 / 60 / float64(len(ds.Docs["daily_readiness"]))
	if hours < 19.5 || hours > 23 {
		t.Errorf("worn %.1f h a day, want about 21", hours)
	}
}

func TestBatteryRows(t *testing.T) {
	ds := Generate(GenOptions{Seed: 5, First: genDate("2024-03-01"), Last: genDate("2024-04-15")})
	type row struct {
		Timestamp string `json:"timestamp"`
		Charging  *bool  `json:"charging"`
		InCharger *bool  `json:"in_charger"`
		Level     int    `json:"level"`
	}
	var prev row
	var prevAt time.Time
	charging, falls := 0, 0
	for i, d := range ds.Docs["ring_battery_level"] {
		var r row
		if err := json.Unmarshal(d.JSON, &r); err != nil {
			t.Fatal(err)
		}
		at := genInstant(t, r.Timestamp)
		if r.Level < 0 || r.Level > 100 {
			t.Errorf("row %s: level out of range", d.JSON)
		}
		if r.Charging != nil && *r.Charging {
			charging++
			if r.InCharger != nil && !*r.InCharger {
				t.Errorf("row %s: charging outside the charger", d.JSON)
			}
		}
		if i > 0 {
			gap := at.Sub(prevAt)
			if gap <= 0 || gap%(30*time.Minute) != 0 {
				t.Fatalf("rows %s and %s are not 30 minutes apart", ds.Docs["ring_battery_level"][i-1].JSON, d.JSON)
			}
			offFinger := func(r row) bool { return r.InCharger == nil || *r.InCharger }
			if gap == 30*time.Minute && !offFinger(prev) && !offFinger(r) {
				falls++
				if r.Level > prev.Level {
					t.Errorf("level rose on the finger: %s then %s", ds.Docs["ring_battery_level"][i-1].JSON, d.JSON)
				}
			}
		}
		prev, prevAt = r, at
	}
	if charging == 0 || falls == 0 {
		t.Errorf("charging rows %d, rows on the finger %d; want both", charging, falls)
	}
}

var reMetStart = regexp.MustCompile(`^(\d{4}-\d\d-\d\d)T04:00:00\.000[+-]\d\d:\d\d$`)

func TestDailyActivityShape(t *testing.T) {
	ds := genDefaultDataset()
	for _, d := range ds.Docs["daily_activity"] {
		f := genFields(t, d)
		met := f["met"].(map[string]any)
		items := met["items"].([]any)
		ts := met["timestamp"].(string)
		if m := reMetStart.FindStringSubmatch(ts); m == nil || m[1] != d.Day || string(met["interval"].(json.Number)) != "60.0" || len(items) != 1440 {
			t.Fatalf("%s: met interval %v, %d items, timestamp %s; want 60.0, 1440, %sT04:00:00.000±hh:mm",
				d.Day, met["interval"], len(items), ts, d.Day)
		}
		if want := ts[:19] + ts[23:]; f["timestamp"] != want {
			t.Errorf("%s: timestamp %v, want %s", d.Day, f["timestamp"], want)
		}
		if c, ok := f["class_5_min"].(string); ok && (len(c) != 288 || strings.Trim(c, "012345") != "") {
			t.Errorf("%s: class_5_min %q", d.Day, c)
		}
		total := 0
		for _, k := range []string{"non_wear_time", "resting_time", "sedentary_time", "low_activity_time", "medium_activity_time", "high_activity_time"} {
			total += genInt(f[k])
		}
		if total != 86400 {
			t.Errorf("%s: activity times add up to %d s, want 86400", d.Day, total)
		}
	}
}

func TestScoresWithinRange(t *testing.T) {
	ds := genDefaultDataset()
	check := func(where string, v any) {
		if v == nil {
			return
		}
		if n := genInt(v); n < 1 || n > 100 {
			t.Errorf("%s = %v, want 1..100", where, v)
		}
	}
	checkAll := func(c string, f map[string]any) {
		check(c+".score", f["score"])
		if con, ok := f["contributors"].(map[string]any); ok {
			for k, v := range con {
				check(c+".contributors."+k, v)
			}
		}
	}
	for _, c := range []string{"daily_activity", "daily_readiness", "daily_sleep"} {
		for _, d := range ds.Docs[c] {
			checkAll(c, genFields(t, d))
		}
	}
	for _, d := range ds.Docs["sleep"] {
		f := genFields(t, d)
		check("sleep.efficiency", f["efficiency"])
		if r, ok := f["readiness"].(map[string]any); ok {
			checkAll("sleep.readiness", r)
		}
	}
}

func TestSleepPeriods(t *testing.T) {
	ds := genDefaultDataset()
	mains, naps := 0, map[string]int{}
	nullItems := 0
	for _, d := range ds.Docs["sleep"] {
		f := genFields(t, d)
		tib := genInt(f["time_in_bed"])
		start, end := f["bedtime_start"].(string), f["bedtime_end"].(string)
		kind, _ := f["type"].(string)
		period := genInt(f["period"])
		switch {
		case period == 0:
			mains++
			if kind != "" && kind != "long_sleep" {
				t.Errorf("%s: main period of type %s", d.ID, kind)
			}
			if end[:10] != d.Day {
				t.Errorf("%s: day %s is not the wake-up day of %s", d.ID, d.Day, end)
			}
		case kind == "sleep" || kind == "late_nap":
			naps[kind]++
			if kind == "late_nap" {
				if w := genWall(t, start); w.Hour() < 18 || w.Format(time.DateOnly) != genDate(d.Day).AddDate(0, 0, -1).Format(time.DateOnly) {
					t.Errorf("%s: late nap starts %s for day %s", d.ID, start, d.Day)
				}
			}
		case kind != "":
			t.Errorf("%s: nap of type %s", d.ID, kind)
		}
		for k, per := range map[string]int{"sleep_phase_5_min": 300, "app_sleep_phase_5_min": 300, "sleep_phase_30_sec": 30, "movement_30_sec": 30} {
			if s, ok := f[k].(string); ok && len(s) != (tib+per-1)/per {
				t.Errorf("%s: %s has %d chars for %d s in bed", d.ID, k, len(s), tib)
			}
		}
		for _, k := range []string{"heart_rate", "hrv"} {
			s, ok := f[k].(map[string]any)
			if !ok {
				continue
			}
			items := s["items"].([]any)
			if string(s["interval"].(json.Number)) != "300.0" || len(items) != (tib+299)/300 || s["timestamp"].(string)[:19] != start[:19] {
				t.Errorf("%s: %s sample interval %v, %d items, from %v", d.ID, k, s["interval"], len(items), s["timestamp"])
			}
			for _, v := range items {
				if v == nil {
					nullItems++
				}
			}
		}
		if f["deep_sleep_duration"] != nil && f["light_sleep_duration"] != nil && f["rem_sleep_duration"] != nil && f["total_sleep_duration"] != nil && f["awake_time"] != nil {
			total := genInt(f["total_sleep_duration"])
			if genInt(f["deep_sleep_duration"])+genInt(f["light_sleep_duration"])+genInt(f["rem_sleep_duration"]) != total || total+genInt(f["awake_time"]) != tib {
				t.Errorf("%s: durations do not add up", d.ID)
			}
		}
	}
	napTotal := naps["sleep"] + naps["late_nap"]
	if napTotal*100 < mains*5 || napTotal*100 > mains*20 || naps["sleep"] == 0 || naps["late_nap"] == 0 {
		t.Errorf("naps %v on %d nights, want about 10%% of days and both kinds", naps, mains)
	}
	if nullItems == 0 {
		t.Error("sleep samples never have null gaps")
	}
}

func TestEventCollections(t *testing.T) {
	ds := genDefaultDataset()
	days := len(ds.Docs["daily_readiness"])
	activities := map[string]int{}
	distances := map[bool]int{}
	for _, d := range ds.Docs["workout"] {
		f := genFields(t, d)
		activities[f["activity"].(string)]++
		distances[f["distance"] == nil]++
	}
	if len(activities) < 5 || distances[true] == 0 || distances[false] == 0 {
		t.Errorf("workouts: activities %v, null/non-null distances %v", activities, distances)
	}
	for _, d := range ds.Docs["session"] {
		f := genFields(t, d)
		secs := genInstant(t, f["end_datetime"].(string)).Sub(genInstant(t, f["start_datetime"].(string))).Seconds()
		for _, k := range []string{"heart_rate", "heart_rate_variability", "motion_count"} {
			if s, ok := f[k].(map[string]any); ok {
				if string(s["interval"].(json.Number)) != "5.0" || float64(len(s["items"].([]any))) != secs/5 {
					t.Errorf("session %s: %s interval %v with %d items over %v s", d.ID, k, s["interval"], len(s["items"].([]any)), secs)
				}
			}
		}
	}
	codes := map[string]int{}
	for _, d := range ds.Docs["enhanced_tag"] {
		f := genFields(t, d)
		code, _ := f["tag_type_code"].(string)
		switch {
		case code == "custom" && f["custom_name"] == nil, code != "custom" && f["custom_name"] != nil:
			t.Errorf("enhanced tag %s: code %q with custom_name %v", d.ID, code, f["custom_name"])
		case code == "" && f["comment"] == nil:
			t.Errorf("enhanced tag %s: text-only tag without a comment", d.ID)
		}
		codes[strings.SplitN(code+"_", "_", 3)[0]+"…"]++
	}
	if codes["tag…"] == 0 || codes["custom…"] == 0 || codes["…"] == 0 {
		t.Errorf("enhanced tag codes %v: want tag_generic_*, custom and text-only", codes)
	}
	if n := len(ds.Docs["rest_mode_period"]); n < 4 || n > 10 {
		t.Errorf("%d rest-mode periods in two years, want a few a year", n)
	}
	episodes := 0
	for _, d := range ds.Docs["rest_mode_period"] {
		episodes += len(genFields(t, d)["episodes"].([]any))
	}
	if episodes == 0 {
		t.Error("rest-mode periods never have episodes")
	}
	if n := len(ds.Docs["sleep_time"]); n != days {
		t.Errorf("sleep_time has %d documents for %d days", n, days)
	}
	if n := len(ds.Docs["vO2_max"]); n*100 < days*15 || n*100 > days*50 {
		t.Errorf("vO2_max on %d of %d days, want every few days", n, days)
	}
	quiet := 0
	for _, d := range ds.Docs["daily_stress"] {
		f := genFields(t, d)
		if f["day_summary"] == nil {
			quiet++
			if genInt(f["stress_high"]) != 0 || genInt(f["recovery_high"]) != 0 {
				t.Errorf("stress %s: no summary but times %v/%v", d.Day, f["stress_high"], f["recovery_high"])
			}
		}
	}
	if quiet == 0 {
		t.Error("daily_stress never has a day without data")
	}
}

func TestRingConfiguration(t *testing.T) {
	ds := genDefaultDataset()
	rings := ds.Docs["ring_configuration"]
	if len(rings) != 2 {
		t.Fatalf("%d rings, want 2", len(rings))
	}
	first := genInstant(t, genFields(t, rings[0])["set_up_at"].(string))
	second := genInstant(t, genFields(t, rings[1])["set_up_at"].(string))
	if !first.Before(ds.First) || second.Before(ds.First) || second.After(ds.Last.AddDate(0, 0, 1)) {
		t.Errorf("rings set up %v and %v; want one before %v and one replacing it within the span", first, second, ds.First)
	}
	ids := map[string]bool{}
	for _, d := range ds.Docs["sleep"] {
		if id, ok := genFields(t, d)["ring_id"].(string); ok {
			ids[id] = true
		}
	}
	if len(ids) != 2 {
		t.Errorf("sleep periods name %d rings, want 2", len(ids))
	}
}

func TestPlanStretchesDoNotOverlap(t *testing.T) {
	g := newGenerator(11, civilDay(genDate("2021-01-01")), civilDay(genDate("2025-12-31")))
	for i, s := range g.timeline {
		if s.from >= s.to {
			t.Fatalf("stretch %d is empty: %+v", i, s)
		}
		if i > 0 && g.timeline[i-1].to > s.from {
			t.Fatalf("stretches overlap: %+v and %+v", g.timeline[i-1], s)
		}
	}
}

func TestJSONRoundTripsThroughTheModels(t *testing.T) {
	ds := Generate(GenOptions{Seed: 9, First: genDate("2024-01-01"), Last: genDate("2024-04-30")})
	var w docWriter
	for c, newModel := range revisers {
		for _, d := range ds.Docs[c] {
			m := newModel()
			if err := json.Unmarshal(d.JSON, m); err != nil {
				t.Fatalf("%s: %v", c, err)
			}
			if got := encodeModel(&w, m); !bytes.Equal(got, d.JSON) {
				t.Fatalf("%s: re-encoded\n%s\nwant\n%s", c, got, d.JSON)
			}
		}
	}
}

func TestRevise(t *testing.T) {
	ds := Generate(GenOptions{Seed: 2, First: genDate("2023-01-01"), Last: genDate("2024-06-30")})
	for c := range revisers {
		docs := ds.Docs[c]
		if len(docs) == 0 {
			t.Errorf("%s: nothing to revise", c)
			continue
		}
		i := len(docs) - 1
		if len(docs) > 10 {
			i = len(docs) - 4 // a few days back, as incremental-sync tests do
		}
		before := docs[i]
		seen := map[string]bool{string(before.JSON): true}
		for round := range 2 {
			got, err := ds.Revise(c, before.ID)
			if err != nil {
				t.Fatalf("%s: %v", c, err)
			}
			if got.ID != before.ID || got.Day != before.Day || !got.Key.Equal(before.Key) {
				t.Errorf("%s: revision %d moved the document: %+v -> %+v", c, round, before, got)
			}
			if seen[string(got.JSON)] {
				t.Errorf("%s: revision %d did not change the document: %s", c, round, got.JSON)
			}
			seen[string(got.JSON)] = true
			if !bytes.Equal(ds.Docs[c][i].JSON, got.JSON) {
				t.Errorf("%s: the dataset does not hold the revision at the same place", c)
			}
			old, _ := orderedjson.DecodeObject(before.JSON)
			now, err := orderedjson.DecodeObject(got.JSON)
			if err != nil || !slices.Equal(old.Keys, now.Keys) {
				t.Errorf("%s: revision changed the fields: %v -> %s", c, old.Keys, got.JSON)
			}
		}
	}
	for _, c := range []string{"daily_sleep", "heartrate", "nonsense"} {
		_, err := ds.Revise(c, "no-such-id")
		var unknown *UnknownDocumentError
		if !errors.As(err, &unknown) || unknown.Collection != c {
			t.Errorf("Revise(%s, no-such-id) = %v, want an UnknownDocumentError", c, err)
		}
	}
}

// BenchmarkGenerateFiveYears measures the largest span the emulator is meant for.
func BenchmarkGenerateFiveYears(b *testing.B) {
	opts := GenOptions{Seed: 1, First: genDate("2020-07-01"), Last: genDate("2025-06-30")}
	b.ReportAllocs()
	for b.Loop() {
		ds := Generate(opts)
		if len(ds.Docs["heartrate"]) == 0 {
			b.Fatal("no heart rate")
		}
	}
}

// ExampleGenerate shows the shape of a generated heart-rate row.
func ExampleGenerate() {
	ds := Generate(GenOptions{Seed: 1, First: genDate("2024-12-13"), Last: genDate("2024-12-13")})
	fmt.Println(len(ds.Docs["daily_readiness"]), strings.Contains(string(ds.Docs["heartrate"][0].JSON), `"timestamp_unix":`))
	// Output: 1 true
}
