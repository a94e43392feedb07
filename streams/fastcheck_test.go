package streams

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/schemas"
)

// v5Valid is the reference: the record decoded and checked by jsonschema/v5.
func v5Valid(t testing.TB, v *Validator, stream string, raw []byte) bool {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return false
	}
	return len(v.Check(stream, doc)) == 0
}

func newValidatorT(t testing.TB) *Validator {
	t.Helper()
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEveryStreamHasAFastSchema(t *testing.T) {
	v := newValidatorT(t)
	for _, s := range registry {
		if v.fast[s.Name] == nil {
			doc, _ := schemas.Get(s.Name)
			_, err := compileFast(doc)
			t.Errorf("%s: no fast schema: %v", s.Name, err)
		}
	}
}

func TestFastCheckRefusesUnknownKeywords(t *testing.T) {
	for _, doc := range []string{`{"type":"object","required":["id"]}`, `{"properties":{"a":{"enum":[1]}}}`, `{"additionalProperties":false}`, `{"format":"email"}`} {
		if _, err := compileFast([]byte(doc)); err == nil {
			t.Errorf("%s: compiled, but the fast checker cannot honour it", doc)
		}
	}
}

// mutate changes one random value of a record into another JSON type.
func mutate(rng *rand.Rand, raw []byte) []byte {
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	keys := make([]string, 0, len(doc))
	for k := range doc {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return raw
	}
	k := keys[rng.Intn(len(keys))]
	replacements := []any{nil, true, "text", "2024-13-45", 3, 2.5, map[string]any{"x": 1}, []any{1, "a"}, "2024-01-02T03:04:05"}
	if sub, ok := doc[k].(map[string]any); ok && rng.Intn(2) == 0 {
		for sk := range sub {
			sub[sk] = replacements[rng.Intn(len(replacements))]
			break
		}
	} else {
		doc[k] = replacements[rng.Intn(len(replacements))]
	}
	out, _ := json.Marshal(doc)
	return out
}

// TestFastCheckAgreesWithJSONSchema: on every generated document the two validators agree
// (all valid), and on thousands of mutated ones the fast checker never accepts a record
// jsonschema/v5 rejects, nor rejects one it accepts; cursors match the decoded value.
func TestFastCheckAgreesWithJSONSchema(t *testing.T) {
	v := newValidatorT(t)
	last := time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC)
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 11, First: last.AddDate(0, 0, -60), Last: last})
	rng := rand.New(rand.NewSource(1))
	for _, s := range registry {
		var docs [][]byte
		if s.Params == Single {
			docs = [][]byte{ds.PersonalInfo}
		}
		for i, d := range ds.Docs[s.Path] {
			if s.Params == DateTimes && i%50 != 0 {
				continue // a sample of the time series is plenty
			}
			docs = append(docs, d.JSON)
		}
		if len(docs) == 0 {
			continue
		}
		f := v.fast[s.Name]
		for _, raw := range docs {
			cur, ok := f.check(raw, s.Cursor)
			if !ok || !v5Valid(t, v, s.Name, raw) {
				t.Fatalf("%s: generated document not valid (fast %v): %.200s", s.Name, ok, raw)
			}
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			if want, _ := m[s.Cursor].(string); s.Cursor != "" && cur != want {
				t.Fatalf("%s: cursor %q, want %q", s.Name, cur, want)
			}
		}
		for i := 0; i < 300; i++ {
			raw := mutate(rng, docs[rng.Intn(len(docs))])
			_, fast := f.check(raw, s.Cursor)
			ref := v5Valid(t, v, s.Name, raw)
			if fast != ref && !(ref && strings.ContainsAny(string(raw), ".eE")) {
				t.Fatalf("%s: fast says %v, jsonschema/v5 says %v for %.300s", s.Name, fast, ref, raw)
			}
			if fast && !ref {
				t.Fatalf("%s: fast checker accepted what jsonschema/v5 rejects: %.300s", s.Name, raw)
			}
		}
	}
}

func TestCheckRawReportsStrictIntegers(t *testing.T) {
	v := newValidatorT(t)
	_, fails := v.CheckRaw("heart_rate", []byte(`{"timestamp":"2025-01-01T00:00:00+00:00","timestamp_unix":1,"bpm":60.0,"source":"awake"}`), "timestamp")
	if len(fails) != 1 || fails[0] != strictIntegerFailure {
		t.Fatalf("got %v", fails)
	}
	cur, fails := v.CheckRaw("heart_rate", []byte(`{"timestamp":"2025-01-01T00:00:00+00:00","timestamp_unix":1,"bpm":"sixty","source":"awake"}`), "timestamp")
	if cur != "2025-01-01T00:00:00+00:00" || len(fails) != 1 || !strings.HasPrefix(fails[0], "/bpm") {
		t.Fatalf("got %q %v", cur, fails)
	}
}

// FuzzFastCheck: any bytes — never a panic, never "valid" for something that is not JSON,
// and never valid where jsonschema/v5 says invalid.
func FuzzFastCheck(f *testing.F) {
	for _, seed := range []string{
		`{"timestamp":"2025-01-01T00:00:00+00:00","timestamp_unix":1,"bpm":60,"source":"awake"}`,
		`{"bpm":1.5}`, `{"bpm":"x"}`, `[]`, `{`, `{"a":"\u00e9\n"}`, `{"timestamp":"2025-02-30T00:00:00Z"}`, `{"bpm":-0}`, `{"bpm":1e5}`,
	} {
		f.Add([]byte(seed))
	}
	v, err := NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	fs := v.fast["heart_rate"]
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, ok := fs.check(raw, "timestamp")
		if !ok {
			return
		}
		if !json.Valid(raw) {
			t.Fatalf("accepted bytes that are not JSON: %q", raw)
		}
		if !v5Valid(t, v, "heart_rate", raw) {
			t.Fatalf("accepted what jsonschema/v5 rejects: %q", raw)
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	v := newValidatorT(b)
	last := time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC)
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 11, First: last.AddDate(0, 0, -30), Last: last})
	for _, name := range []string{"heart_rate", "daily_activity", "sleep_periods"} {
		s, _ := Lookup(name)
		docs := ds.Docs[s.Path]
		var size int64
		for _, d := range docs {
			size += int64(len(d.JSON))
		}
		b.Run(name+"/fast", func(b *testing.B) {
			b.SetBytes(size / int64(len(docs)))
			for i := 0; i < b.N; i++ {
				if _, fails := v.CheckRaw(name, docs[i%len(docs)].JSON, s.Cursor); fails != nil {
					b.Fatal(fails)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run(name+"/jsonschema-v5", func(b *testing.B) {
			b.SetBytes(size / int64(len(docs)))
			for i := 0; i < b.N; i++ {
				var doc any
				_ = json.Unmarshal(docs[i%len(docs)].JSON, &doc)
				if fails := v.Check(name, doc); fails != nil {
					b.Fatal(fmt.Sprint(fails))
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// TestFormatsMatchTheReference: the hand-written date and date-time checks agree with
// time.Parse and with dateTimeRe, which jsonschema/v5 uses.
func TestFormatsMatchTheReference(t *testing.T) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-4-01", "20240101", "2024-01-01x", "0000-01-01", "2024-12-31"} {
		_, err := time.Parse("2006-01-02", s)
		if isDate([]byte(s)) != (err == nil) {
			t.Errorf("date %q: fast %v, time.Parse %v", s, isDate([]byte(s)), err == nil)
		}
	}
	for _, s := range []string{"2024-01-01T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01 00:00:00.123+02:00", "2024-01-01T00:00:00.+02:00",
		"2024-01-01T00:00:00+0200", "2024-01-01T00:00:00+02", "2024-01-01T00:00Z", "2024-01-01", "2024-01-01T00:00:00.5-05:00", "x024-01-01T00:00:00"} {
		if isDateTime([]byte(s)) != dateTimeRe.MatchString(s) {
			t.Errorf("date-time %q: fast %v, regexp %v", s, isDateTime([]byte(s)), dateTimeRe.MatchString(s))
		}
	}
}
