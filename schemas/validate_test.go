package schemas_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"source-oura/internal/jsonscan"
	"source-oura/internal/ouraemu"
	"source-oura/schemas"
	"source-oura/streams"
)

// v5Valid is the reference: the record decoded and checked by jsonschema/v5.
func v5Valid(t testing.TB, v *schemas.Validator, stream string, raw []byte) bool {
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return false
	}
	return len(v.Check(stream, doc)) == 0
}

func newValidatorT(t testing.TB) *schemas.Validator {
	t.Helper()
	v, err := schemas.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEveryStreamHasAFastSchema(t *testing.T) {
	v := newValidatorT(t)
	for _, s := range streams.AllStreams() {
		if v.Schema(s.Name) == nil {
			doc, _ := schemas.Get(s.Name)
			_, err := jsonscan.Compile(doc)
			t.Errorf("%s: no fast schema: %v", s.Name, err)
		}
	}
}

func TestFastCheckRefusesUnknownKeywords(t *testing.T) {
	for _, doc := range []string{`{"type":"object","required":["id"]}`, `{"properties":{"a":{"enum":[1]}}}`, `{"additionalProperties":false}`, `{"format":"email"}`} {
		if _, err := jsonscan.Compile([]byte(doc)); err == nil {
			t.Errorf("%s: compiled, but the fast checker cannot honour it", doc)
		}
	}
}

// fastCheck is the fast path alone: whether jsonscan accepts raw against the stream's schema.
func fastCheck(f *jsonscan.Schema, raw []byte, cursor string) (string, bool) {
	res, err := jsonscan.Check(raw, f, cursor)
	return res.Cursor, err == nil && res.SchemaOK
}

// escapeStrings rewrites some characters of every string value as \u escapes ("+" as
// "\u002B"): the same text to any JSON reader.
func escapeStrings(rng *rand.Rand, raw []byte) []byte {
	var b strings.Builder
	inStr := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && inStr:
			b.WriteByte(c)
			i++
			b.WriteByte(raw[i])
			continue
		case c == '"':
			inStr = !inStr
		case inStr && strings.IndexByte("+-:T0123456789Zabc", c) >= 0 && rng.Intn(3) == 0:
			fmt.Fprintf(&b, "\\u%04X", c)
			continue
		}
		b.WriteByte(c)
	}
	return []byte(b.String())
}

// deepen adds an unknown field nested up to the record depth limit at the front of a record.
func deepen(rng *rand.Rand, raw []byte) []byte {
	n := 60 + rng.Intn(jsonscan.MaxDepth-61)
	deep := strings.Repeat(`{"d":[`, n/2) + `1.5` + strings.Repeat(`]}`, n/2)
	return append([]byte(`{"zz_deep":`+deep+`,`), raw[1:]...)
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
// (all valid), and on thousands of mutated ones (values of another type, strings written
// with \u escapes, unknown fields nested up to jsonscan.MaxDepth) the fast checker never
// accepts a record jsonschema/v5 rejects, nor rejects one it accepts but for the strict
// integer rule; cursors match the decoded value.
func TestFastCheckAgreesWithJSONSchema(t *testing.T) {
	v := newValidatorT(t)
	last := time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC)
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 11, First: last.AddDate(0, 0, -60), Last: last})
	rng := rand.New(rand.NewSource(1))
	for _, s := range streams.AllStreams() {
		var docs [][]byte
		if s.Params == streams.Single {
			docs = [][]byte{ds.PersonalInfo}
		}
		for i, d := range ds.Docs[s.Path] {
			if s.Params == streams.DateTimes && i%50 != 0 {
				continue // a sample of the time series is plenty
			}
			docs = append(docs, d.JSON)
		}
		if len(docs) == 0 {
			continue
		}
		f := v.Schema(s.Name)
		for _, raw := range docs {
			cur, ok := fastCheck(f, raw, s.Cursor)
			if !ok || !v5Valid(t, v, s.Name, raw) {
				t.Fatalf("%s: generated document not valid (fast %v): %.200s", s.Name, ok, raw)
			}
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			if want, _ := m[s.Cursor].(string); s.Cursor != "" && cur != want {
				t.Fatalf("%s: cursor %q, want %q", s.Name, cur, want)
			}
		}
		for i := 0; i < 600; i++ {
			raw := mutate(rng, docs[rng.Intn(len(docs))])
			switch i % 4 {
			case 1:
				raw = escapeStrings(rng, raw)
			case 2:
				raw = deepen(rng, raw)
			case 3:
				raw = deepen(rng, escapeStrings(rng, raw))
			}
			res, err := jsonscan.Check(raw, f, s.Cursor)
			fast := err == nil && res.SchemaOK
			ref := v5Valid(t, v, s.Name, raw)
			strictInteger := err == nil && strings.HasSuffix(res.Failure, "a number with a fraction or exponent where the schema asks for an integer")
			if fast != ref && !(ref && strictInteger) {
				t.Fatalf("%s: fast says %v (%v %s), jsonschema/v5 says %v for %.300s", s.Name, fast, err, res.Failure, ref, raw)
			}
			if fast && !ref {
				t.Fatalf("%s: fast checker accepted what jsonschema/v5 rejects: %.300s", s.Name, raw)
			}
		}
	}
}

// TestCheckRawReportsTheRealFailure: a record that fails only the strict integer rule is
// reported with the field and that reason; escapes in a timestamp and deep nesting are no
// failure at all; other failures carry jsonschema/v5's message for the field.
func TestCheckRawReportsTheRealFailure(t *testing.T) {
	v := newValidatorT(t)
	_, fails := v.CheckRaw("heart_rate", []byte(`{"timestamp":"2025-01-01T00:00:00+00:00","timestamp_unix":1,"bpm":60.0,"source":"awake"}`), "timestamp")
	if len(fails) != 1 || fails[0] != "/bpm: a number with a fraction or exponent where the schema asks for an integer" {
		t.Fatalf("got %v", fails)
	}
	cur, fails := v.CheckRaw("heart_rate", []byte(`{"timestamp":"2025-01-01T00:00:00+00:00","timestamp_unix":1,"bpm":"sixty","source":"awake"}`), "timestamp")
	if cur != "2025-01-01T00:00:00+00:00" || len(fails) != 1 || !strings.HasPrefix(fails[0], "/bpm") {
		t.Fatalf("got %q %v", cur, fails)
	}
	cur, fails = v.CheckRaw("heart_rate", []byte(`{"timestamp":"2025-01-01T00:00:00\u002B01:00","timestamp_unix":1,"bpm":60,"source":"awake"}`), "timestamp")
	if cur != "2025-01-01T00:00:00+01:00" || fails != nil {
		t.Fatalf("escaped timestamp: cursor %q, failures %v", cur, fails)
	}
	deep := `{"extra":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `,"timestamp":"2025-01-01T00:00:00Z","timestamp_unix":1,"bpm":60,"source":"awake"}`
	if _, fails = v.CheckRaw("heart_rate", []byte(deep), "timestamp"); fails != nil {
		t.Fatalf("200 levels deep: failures %v", fails)
	}
}

// FuzzFastCheck: any bytes — never a panic, never "valid" for something that is not JSON,
// and never valid where jsonschema/v5 says invalid.
func FuzzFastCheck(f *testing.F) {
	for _, seed := range []string{
		`{"timestamp":"2025-01-01T00:00:00+00:00","timestamp_unix":1,"bpm":60,"source":"awake"}`,
		`{"bpm":1.5}`, `{"bpm":"x"}`, `[]`, `{`, `{"a":"\u00e9\n"}`, `{"timestamp":"2025-02-30T00:00:00Z"}`, `{"bpm":-0}`, `{"bpm":1e5}`,
		`{"timestamp":"2025-01-01T00:00:00\u002B01:00"}`, `{"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	} {
		f.Add([]byte(seed))
	}
	v, err := schemas.NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	fs := v.Schema("heart_rate")
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, ok := fastCheck(fs, raw, "timestamp")
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
		s, _ := streams.Lookup(name)
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
// time.Parse and with the date-time pattern which jsonschema/v5 uses.
func TestFormatsMatchTheReference(t *testing.T) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-4-01", "20240101", "2024-01-01x", "0000-01-01", "2024-12-31"} {
		_, err := time.Parse("2006-01-02", s)
		if jsonscan.IsDate([]byte(s)) != (err == nil) {
			t.Errorf("date %q: fast %v, time.Parse %v", s, jsonscan.IsDate([]byte(s)), err == nil)
		}
	}
	for _, s := range []string{"2024-01-01T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01 00:00:00.123+02:00", "2024-01-01T00:00:00.+02:00",
		"2024-01-01T00:00:00+0200", "2024-01-01T00:00:00+02", "2024-01-01T00:00Z", "2024-01-01", "2024-01-01T00:00:00.5-05:00", "x024-01-01T00:00:00"} {
		if jsonscan.IsDateTime([]byte(s)) != schemas.DateTimeRe.MatchString(s) {
			t.Errorf("date-time %q: fast %v, regexp %v", s, jsonscan.IsDateTime([]byte(s)), schemas.DateTimeRe.MatchString(s))
		}
	}
}
