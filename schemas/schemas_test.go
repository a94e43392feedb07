package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"source-oura/internal/orderedjson"
	"source-oura/internal/protocoltest"
)

// streamFacts is what the catalog promises about a stream: the OpenAPI model
// its records follow, its cursor field ("" when it has none) and its primary key.
type streamFacts struct {
	model  string
	cursor string
	pk     []string
}

// streamTable lists every stream source-oura exposes. A schema file that is
// missing, or one that is not in this table, fails TestNamesAreExactlyTheStreams.
var streamTable = map[string]streamFacts{
	"daily_activity":           {"PublicDailyActivity", "day", []string{"id"}},
	"daily_readiness":          {"PublicDailyReadiness", "day", []string{"id"}},
	"daily_sleep":              {"PublicDailySleep", "day", []string{"id"}},
	"heart_rate":               {"PublicHeartRateRow", "timestamp", []string{"timestamp", "source"}},
	"sessions":                 {"PublicSession", "day", []string{"id"}},
	"sleep_periods":            {"PublicModifiedSleepModel", "day", []string{"id"}},
	"tags":                     {"TagModel", "day", []string{"id"}},
	"workouts":                 {"PublicWorkout", "day", []string{"id"}},
	"daily_spo2":               {"PublicDailySpO2", "day", []string{"id"}},
	"daily_stress":             {"PublicDailyStress", "day", []string{"id"}},
	"daily_resilience":         {"DailyResilienceModel", "day", []string{"id"}},
	"daily_cardiovascular_age": {"PublicDailyCardiovascularAge", "day", []string{"day"}},
	"vo2_max":                  {"PublicVO2Max", "day", []string{"id"}},
	"enhanced_tags":            {"EnhancedTagModel", "start_day", []string{"id"}},
	"sleep_time":               {"PublicSleepTime", "day", []string{"id"}},
	"rest_mode_periods":        {"PublicRestModePeriod", "start_day", []string{"id"}},
	"ring_battery_level":       {"PublicRingBatteryLevelRow", "timestamp", []string{"timestamp"}},
	"ring_configurations":      {"PublicRingConfiguration", "", []string{"id"}},
	"personal_info":            {"PersonalInfoResponse", "", []string{"id"}},
}

const draft07 = "http://json-schema.org/draft-07/schema#"

func TestNamesAreExactlyTheStreams(t *testing.T) {
	want := slices.Sorted(maps.Keys(streamTable))
	got := Names()
	if slices.Equal(got, want) {
		return
	}
	var missing, extra []string
	for _, n := range want {
		if !slices.Contains(got, n) {
			missing = append(missing, n)
		}
	}
	for _, n := range got {
		if !slices.Contains(want, n) {
			extra = append(extra, n)
		}
	}
	t.Errorf("Names() = %v\nmissing schema files: %v\nfiles for unknown streams: %v\n(or the list is not sorted)", got, missing, extra)
}

func TestGetReturnsOneLineFreshCopies(t *testing.T) {
	for _, name := range Names() {
		raw, err := Get(name)
		if err != nil {
			t.Fatalf("Get(%q): %v", name, err)
		}
		if bytes.ContainsAny(raw, "\r\n") {
			t.Errorf("Get(%q) spans several lines; an Airbyte message must fit on one", name)
		}
		if !json.Valid(raw) {
			t.Errorf("Get(%q) is not valid JSON", name)
		}
	}
	first, err := Get("daily_activity")
	if err != nil {
		t.Fatal(err)
	}
	first[0] = 'X'
	second, err := Get("daily_activity")
	if err != nil {
		t.Fatal(err)
	}
	if second[0] != '{' {
		t.Error("changing the bytes Get returned changed what the next Get returns")
	}
}

func TestGetRejectsUnknownStreams(t *testing.T) {
	for _, name := range []string{"no_such_stream", "", "DAILY_ACTIVITY", "daily_activity.json", "../schemas/daily_activity", "./daily_activity"} {
		raw, err := Get(name)
		var unknown *UnknownStreamError
		if !errors.As(err, &unknown) {
			t.Errorf("Get(%q) = %q, %v; want an *UnknownStreamError", name, raw, err)
			continue
		}
		if unknown.Stream != name || !strings.Contains(err.Error(), strconv.Quote(name)) {
			t.Errorf("Get(%q) error %q does not name the stream", name, err)
		}
	}
}

// TestSchemaConventions checks each file against the rules every stream schema
// follows; see conventionProblems and keyFieldProblems.
func TestSchemaConventions(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(streamTable)) {
		t.Run(name, func(t *testing.T) {
			raw, err := Get(name)
			if err != nil {
				t.Fatalf("%v (is schemas/%s.json missing?)", err, name)
			}
			compileDraft7(t, name, raw)
			root := decodeSchema(t, raw)
			for _, p := range conventionProblems(root) {
				t.Error(p)
			}
			for _, p := range keyFieldProblems(root, streamTable[name]) {
				t.Error(p)
			}
		})
	}
}

// TestSchemasMatchOpenAPI compares every schema with the Oura model it was
// written from, so a new revision of the spec shows exactly what to update.
func TestSchemasMatchOpenAPI(t *testing.T) {
	models := openAPIModels(t)
	for _, name := range slices.Sorted(maps.Keys(streamTable)) {
		t.Run(name, func(t *testing.T) {
			raw, err := Get(name)
			if err != nil {
				t.Fatalf("%v (is schemas/%s.json missing?)", err, name)
			}
			for _, d := range driftDiffs(name, models, streamTable[name].model, decodeSchema(t, raw)) {
				t.Error(d)
			}
		})
	}
}

// TestDriftCheckReportsChanges proves driftDiffs is not blind: each change
// below, made to a schema that matches its model, must be reported.
func TestDriftCheckReportsChanges(t *testing.T) {
	models := openAPIModels(t)
	const stream = "sleep_periods"
	model := streamTable[stream].model
	fresh := func(t *testing.T) *orderedjson.Object {
		t.Helper()
		raw, err := Get(stream)
		if err != nil {
			t.Fatal(err)
		}
		return decodeSchema(t, raw)
	}
	if d := driftDiffs(stream, models, model, fresh(t)); len(d) != 0 {
		t.Fatalf("the %s schema must match its model before it is changed; differences: %q", stream, d)
	}

	cases := []struct {
		name   string
		mutate func(t *testing.T, root *orderedjson.Object)
		want   string // a reported difference must start with this
	}{
		{"top-level field deleted", func(t *testing.T, r *orderedjson.Object) { field(t, r).Child("properties").Delete("time_in_bed") },
			"sleep_periods: time_in_bed: in the OpenAPI model but missing from the schema"},
		{"nested field deleted", func(t *testing.T, r *orderedjson.Object) {
			field(t, r, "readiness", "contributors").Child("properties").Delete("sleep_regularity")
		}, "sleep_periods: readiness.contributors.sleep_regularity: in the OpenAPI model but missing from the schema"},
		{"field added", func(t *testing.T, r *orderedjson.Object) {
			made := &orderedjson.Object{}
			made.Set("type", "string")
			field(t, r).Child("properties").Set("made_up", made)
		}, "sleep_periods: made_up: not in the OpenAPI model"},
		{"integer became number", func(t *testing.T, r *orderedjson.Object) { field(t, r, "period").Set("type", "number") },
			"sleep_periods: period: type is number but the OpenAPI model says integer"},
		{"null dropped from a scalar", func(t *testing.T, r *orderedjson.Object) { field(t, r, "average_hrv").Set("type", "integer") },
			"sleep_periods: average_hrv: nullable is false but the OpenAPI model says true"},
		{"null dropped from an object", func(t *testing.T, r *orderedjson.Object) { field(t, r, "readiness").Set("type", "object") },
			"sleep_periods: readiness: nullable is false but the OpenAPI model says true"},
		{"null added to a non-null field", func(t *testing.T, r *orderedjson.Object) {
			field(t, r, "low_battery_alert").Set("type", []any{"null", "boolean"})
		}, "sleep_periods: low_battery_alert: nullable is true but the OpenAPI model says false"},
		{"array item type changed", func(t *testing.T, r *orderedjson.Object) {
			field(t, r, "heart_rate", "items").Child("items").Set("type", []any{"null", "integer"})
		}, "sleep_periods: heart_rate.items[]: type is integer but the OpenAPI model says number"},
		{"time zone flag flipped", func(t *testing.T, r *orderedjson.Object) {
			field(t, r, "bedtime_start").Set("airbyte_type", "timestamp_without_timezone")
		}, `sleep_periods: bedtime_start: airbyte_type is "timestamp_without_timezone" but should be "timestamp_with_timezone"`},
		{"date format dropped", func(t *testing.T, r *orderedjson.Object) { field(t, r, "day").Delete("format") },
			`sleep_periods: day: format is "" but should be "date"`},
		{"format added to a plain string", func(t *testing.T, r *orderedjson.Object) { field(t, r, "ring_id").Set("format", "date-time") },
			`sleep_periods: ring_id: format is "date-time" but should be ""`},
		{"enum value left out of the description", func(t *testing.T, r *orderedjson.Object) {
			f := field(t, r, "type")
			f.Set("description", strings.ReplaceAll(f.Str("description"), "late_nap", "late nap"))
		}, `sleep_periods: type: description does not list the known value "late_nap"`},
		{"properties reordered", func(t *testing.T, r *orderedjson.Object) {
			p := field(t, r, "readiness").Child("properties")
			p.Keys[0], p.Keys[1] = p.Keys[1], p.Keys[0]
		}, "sleep_periods: readiness: properties are ordered"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := fresh(t)
			tc.mutate(t, root)
			diffs := driftDiffs(stream, models, model, root)
			if !slices.ContainsFunc(diffs, func(d string) bool { return strings.HasPrefix(d, tc.want) }) {
				t.Errorf("no difference starting with %q; got %q", tc.want, diffs)
			}
		})
	}
}

// TestConventionCheckReportsViolations proves conventionProblems and
// keyFieldProblems are not blind, and that a property merely named like a
// keyword is not mistaken for one.
func TestConventionCheckReportsViolations(t *testing.T) {
	bad := `{
	  "$schema": "http://json-schema.org/draft-04/schema#",
	  "title": "t", "description": "d", "type": "object", "additionalProperties": false,
	  "properties": {
	    "enum": {"type": "string", "description": "a field that happens to be called enum"},
	    "silent": {"type": "integer"},
	    "choice": {"type": "string", "description": "x", "enum": ["a", "b"]},
	    "nested": {"type": ["null", "object"], "description": "x", "properties": {
	      "deep": {"description": "x", "anyOf": [{"type": "string"}, {"type": "null"}]}}},
	    "list": {"type": "array", "description": "x", "items": {"$ref": "#/definitions/x"}},
	    "null_last": {"type": ["integer", "null"], "description": "x"},
	    "hollow": {"type": "object", "description": "x"},
	    "day": {"type": ["null", "string"], "format": "date", "description": "x"},
	    "blob": {"type": "object", "description": "x", "properties": {"a": {"type": "string", "description": "x"}}}
	  }
	}`
	root := decodeSchema(t, []byte(bad))
	problems := conventionProblems(root)
	problems = append(problems, keyFieldProblems(root, streamFacts{cursor: "day", pk: []string{"id", "blob"}})...)
	for _, want := range []string{
		`top level: $schema is "http://json-schema.org/draft-04/schema#"`,
		"top level: additionalProperties must be absent or true",
		"silent: no description",
		`choice: forbidden keyword "enum"`,
		`nested.deep: forbidden keyword "anyOf"`,
		"nested.deep: no type",
		`list[]: forbidden keyword "$ref"`,
		"null_last: type",
		"hollow: an object schema needs properties",
		"key field id: not among the top-level properties",
		"key field day: must not be nullable",
		"key field blob: must be a scalar",
	} {
		if !slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, want) }) {
			t.Errorf("no problem starting with %q; got %q", want, problems)
		}
	}
	for _, p := range problems {
		if strings.HasPrefix(p, "enum:") {
			t.Errorf("a property named enum was reported as a keyword: %q", p)
		}
	}
}

// TestRecordsValidate runs record shapes Oura has been seen to send (and a few
// it is likely to send next) through the schemas, and checks that the schemas
// still reject data of the wrong type.
func TestRecordsValidate(t *testing.T) {
	cases := []struct {
		stream, record string
		valid          bool
	}{
		// Shapes recorded from the real API (Dec 2024), ids replaced.
		{"daily_readiness", `{"id":"r1","contributors":{"activity_balance":94,"body_temperature":97,"hrv_balance":95,"previous_day_activity":91,"previous_night":77,"recovery_index":64,"resting_heart_rate":92,"sleep_balance":92},"day":"2024-11-11","score":86,"temperature_deviation":0.1,"temperature_trend_deviation":0.13,"timestamp":"2024-11-11T00:00:00+00:00"}`, true},
		{"heart_rate", `{"bpm":91,"source":"awake","timestamp":"2024-12-13T12:31:21+00:00"}`, true},
		{"workouts", `{"id":"w1","activity":"walking","calories":21.967,"day":"2024-10-09","distance":null,"end_datetime":"2024-10-09T09:18:00+02:00","intensity":"easy","label":null,"source":"confirmed","start_datetime":"2024-10-09T09:07:00+02:00"}`, true},
		{"daily_stress", `{"id":"s1","day":"2024-11-11","stress_high":0,"recovery_high":0,"day_summary":null}`, true},
		{"daily_activity", `{"id":"a1","day":"2024-11-11","score":null,"meters_to_target":-3500,"steps":9000,"contributors":{"stay_active":null},"timestamp":"2024-11-11T04:00:00+01:00","met":{"interval":60.0,"items":[1.2,null,0.9],"timestamp":"2024-11-11T04:00:00.000+01:00"}}`, true},
		{"sleep_periods", `{"id":"p1","day":"2024-10-10","period":0,"low_battery_alert":false,"time_in_bed":28800,"bedtime_start":"2024-10-09T23:01:59+02:00","bedtime_end":"2024-10-10T07:01:59+02:00","readiness":null,"type":"long_sleep","heart_rate":{"interval":300.0,"items":[null,52,51.5],"timestamp":"2024-10-09T23:01:59.000+02:00"}}`, true},
		// Oura adds keys and enum values over time; neither may fail a record.
		{"workouts", `{"id":"w2","activity":"padel","day":"2026-01-02","intensity":"extreme","source":"imported","new_key":{"x":1}}`, true},
		{"daily_spo2", `{"id":"o1","day":"2024-11-11","breathing_disturbance_index":null,"spo2_percentage":null}`, true},
		// Wrong types must still be caught.
		{"heart_rate", `{"bpm":91.5,"source":"awake","timestamp":"2024-12-13T12:31:21+00:00"}`, false},
		{"workouts", `{"id":"w3","calories":"21","day":"2024-10-09"}`, false},
		{"daily_stress", `{"id":null,"day":"2024-11-11"}`, false},
		{"daily_activity", `{"id":"a2","day":"11/11/2024"}`, false},
		{"sleep_periods", `{"id":"p2","heart_rate":{"items":["fast"]}}`, false},
	}
	compiled := map[string]*jsonschema.Schema{}
	for i, tc := range cases {
		s, ok := compiled[tc.stream]
		if !ok {
			raw, err := Get(tc.stream)
			if err != nil {
				t.Fatal(err)
			}
			s = compileDraft7(t, tc.stream, raw)
			compiled[tc.stream] = s
		}
		dec := json.NewDecoder(strings.NewReader(tc.record))
		dec.UseNumber()
		var record any
		if err := dec.Decode(&record); err != nil {
			t.Fatalf("case %d: bad test record: %v", i, err)
		}
		err := s.Validate(record)
		if tc.valid && err != nil {
			t.Errorf("case %d (%s): record rejected: %v", i, tc.stream, err)
		}
		if !tc.valid && err == nil {
			t.Errorf("case %d (%s): record %s accepted, want a validation error", i, tc.stream, tc.record)
		}
	}
}

// compileDraft7 compiles raw as a draft-07 schema, failing the test if it does not compile.
func compileDraft7(t *testing.T, name string, raw []byte) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	url := "mem:///" + name + ".json"
	if err := c.AddResource(url, bytes.NewReader(raw)); err != nil {
		t.Fatalf("loading %s as a JSON schema: %v", name, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compiling %s as a draft-07 schema: %v", name, err)
	}
	return s
}

func decodeSchema(t *testing.T, raw []byte) *orderedjson.Object {
	t.Helper()
	root, err := orderedjson.DecodeObject(raw)
	if err != nil {
		t.Fatalf("decoding schema: %v", err)
	}
	return root
}

// field walks from a schema's root through the named properties and fails the
// test if one is missing, so a mutation never silently hits nothing.
func field(t *testing.T, root *orderedjson.Object, path ...string) *orderedjson.Object {
	t.Helper()
	cur := root
	for _, name := range path {
		next := cur.Child("properties").Child(name)
		if next == nil {
			t.Fatalf("schema has no property %s", strings.Join(path, "."))
		}
		cur = next
	}
	return cur
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func label(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// Keywords a stream schema must not use anywhere: Airbyte's checks reject the
// combinators and $ref, and an enum would fail records when Oura adds a value.
var forbiddenKeywords = []string{"$ref", "allOf", "anyOf", "oneOf", "not", "enum"}

var scalarTypes = []string{"string", "integer", "number", "boolean"}

// schemaType reads a schema's "type": one non-null JSON type, or ["null", T].
func schemaType(o *orderedjson.Object) (base string, nullable bool, err error) {
	valid := func(s string) bool { return slices.Contains(scalarTypes, s) || s == "object" || s == "array" }
	switch t := o.Get("type").(type) {
	case nil:
		return "", false, errors.New("no type")
	case string:
		if !valid(t) {
			return "", false, fmt.Errorf("type %q is not a non-null JSON type", t)
		}
		return t, false, nil
	case []any:
		if len(t) == 2 && t[0] == "null" {
			if s, ok := t[1].(string); ok && valid(s) {
				return s, true, nil
			}
		}
	}
	return "", false, fmt.Errorf("type %v must be one JSON type or [\"null\", type]", o.Get("type"))
}

// conventionProblems lists the ways a stream schema breaks the project's rules:
// draft-07 header, title and description; no forbidden keywords at any depth;
// a description on every property; additionalProperties absent or true; types
// written as T or ["null", T]; objects that spell out their properties.
func conventionProblems(root *orderedjson.Object) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if s := root.Str("$schema"); s != draft07 {
		add("top level: $schema is %q, want %q", s, draft07)
	}
	for _, k := range []string{"title", "description"} {
		if strings.TrimSpace(root.Str(k)) == "" {
			add("top level: no %s", k)
		}
	}
	if root.Get("type") != "object" {
		add("top level: type must be \"object\", got %v", root.Get("type"))
	}

	var walk func(o *orderedjson.Object, path string, isProperty bool)
	walk = func(o *orderedjson.Object, path string, isProperty bool) {
		where := label(path)
		for _, k := range forbiddenKeywords {
			if o.Has(k) {
				add("%s: forbidden keyword %q", where, k)
			}
		}
		if isProperty && strings.TrimSpace(o.Str("description")) == "" {
			add("%s: no description", where)
		}
		if o.Has("additionalProperties") && o.Get("additionalProperties") != true {
			add("%s: additionalProperties must be absent or true, got %v", where, o.Get("additionalProperties"))
		}
		base, _, err := schemaType(o)
		if err != nil {
			add("%s: %v", where, err)
		}
		if base == "object" && o.Child("properties").Len() == 0 {
			add("%s: an object schema needs properties", where)
		}
		if base == "array" && o.Child("items") == nil {
			add("%s: an array schema needs one items schema", where)
		}
		// Under "properties" the keys are field names, not keywords: a field
		// called "enum" is fine.
		if props := o.Child("properties"); props != nil {
			for _, name := range props.Keys {
				child, ok := props.Get(name).(*orderedjson.Object)
				if !ok {
					add("%s: is not a schema object", join(path, name))
					continue
				}
				walk(child, join(path, name), true)
			}
		}
		if items := o.Child("items"); items != nil {
			walk(items, path+"[]", false)
		}
		// Descend into every other place a subschema can hide, so a
		// forbidden keyword is found wherever it is.
		for _, k := range []string{"additionalProperties", "additionalItems", "contains", "propertyNames", "if", "then", "else", "not"} {
			if c := o.Child(k); c != nil {
				walk(c, path+"/"+k, false)
			}
		}
		for _, k := range []string{"items", "allOf", "anyOf", "oneOf"} {
			if list, ok := o.Get(k).([]any); ok {
				for i, v := range list {
					if c, ok := v.(*orderedjson.Object); ok {
						walk(c, fmt.Sprintf("%s/%s[%d]", path, k, i), false)
					}
				}
			}
		}
		for _, k := range []string{"definitions", "$defs", "patternProperties", "dependencies"} {
			if m := o.Child(k); m != nil {
				for _, name := range m.Keys {
					if c, ok := m.Get(name).(*orderedjson.Object); ok {
						walk(c, path+"/"+k+"/"+name, false)
					}
				}
			}
		}
	}
	walk(root, "", false)
	return problems
}

// keyFieldProblems checks that the cursor and primary-key fields are top-level
// properties holding a non-null scalar, as Airbyte needs to dedupe and resume.
func keyFieldProblems(root *orderedjson.Object, facts streamFacts) []string {
	var problems []string
	fields := slices.Clone(facts.pk)
	if facts.cursor != "" && !slices.Contains(fields, facts.cursor) {
		fields = append(fields, facts.cursor)
	}
	for _, f := range fields {
		p := root.Child("properties").Child(f)
		if p == nil {
			problems = append(problems, fmt.Sprintf("key field %s: not among the top-level properties", f))
			continue
		}
		base, nullable, err := schemaType(p)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("key field %s: %v", f, err))
		case nullable:
			problems = append(problems, fmt.Sprintf("key field %s: must not be nullable", f))
		case !slices.Contains(scalarTypes, base):
			problems = append(problems, fmt.Sprintf("key field %s: must be a scalar, is %s", f, base))
		}
	}
	return problems
}

// openAPIModels returns components.schemas of the OpenAPI document, skipping the test (failing
// under CI=true) when the document is not beside the repository.
func openAPIModels(t *testing.T) *orderedjson.Object {
	t.Helper()
	models := protocoltest.OpenAPI(t).Child("components").Child("schemas")
	if models == nil {
		t.Fatal("../shared/reference/oura-openapi.json has no components.schemas")
	}
	return models
}

// apiShape is an OpenAPI schema reduced to what a stream schema must mirror.
type apiShape struct {
	typ         string // JSON type without null
	nullable    bool
	format      string // "", "date" or "date-time"
	airbyteType string // "", "timestamp_with_timezone" or "timestamp_without_timezone"
	enum        []string
	props       *orderedjson.Object // the OpenAPI properties of an object
	items       any                 // the OpenAPI items of an array
}

type driftCheck struct {
	stream string
	models *orderedjson.Object
	diffs  []string
}

// driftDiffs compares a stream schema with the OpenAPI model it was written
// from, recursing through $ref and anyOf. It reports, per path: fields missing
// or extra, property order, JSON type, nullability, date and date-time formats,
// array item types, and enum values absent from the description.
func driftDiffs(stream string, models *orderedjson.Object, model string, schema *orderedjson.Object) []string {
	c := &driftCheck{stream: stream, models: models}
	ref := &orderedjson.Object{}
	ref.Set("$ref", "#/components/schemas/"+model)
	api, err := c.resolve(ref, 0)
	if err != nil {
		c.add("top level: reading OpenAPI model %s: %v", model, err)
		return c.diffs
	}
	c.compare("", schema, api)
	return c.diffs
}

func (c *driftCheck) add(format string, args ...any) {
	c.diffs = append(c.diffs, c.stream+": "+fmt.Sprintf(format, args...))
}

func (c *driftCheck) resolve(node any, depth int) (apiShape, error) {
	if depth > 32 {
		return apiShape{}, errors.New("$ref chain too deep")
	}
	o, ok := node.(*orderedjson.Object)
	if !ok {
		return apiShape{}, fmt.Errorf("OpenAPI schema is a JSON %T, not an object", node)
	}
	if variants, ok := o.Get("anyOf").([]any); ok {
		var out apiShape
		found, nullable := false, false
		for _, v := range variants {
			if vo, ok := v.(*orderedjson.Object); ok && vo.Get("type") == "null" {
				nullable = true
				continue
			}
			if found {
				return apiShape{}, errors.New("anyOf with more than one non-null variant")
			}
			s, err := c.resolve(v, depth+1)
			if err != nil {
				return apiShape{}, err
			}
			out, found = s, true
		}
		if !found {
			return apiShape{}, errors.New("anyOf with no non-null variant")
		}
		out.nullable = out.nullable || nullable
		return out, nil
	}
	for _, k := range []string{"allOf", "oneOf", "not"} {
		if o.Has(k) {
			return apiShape{}, fmt.Errorf("%s is not supported by the drift check", k)
		}
	}
	if ref, ok := o.Get("$ref").(string); ok {
		name, found := strings.CutPrefix(ref, "#/components/schemas/")
		target := c.models.Child(name)
		if !found || target == nil {
			return apiShape{}, fmt.Errorf("unresolvable $ref %q", ref)
		}
		s, err := c.resolve(target, depth+1)
		if err != nil {
			return apiShape{}, fmt.Errorf("%s: %w", name, err)
		}
		// The date and time aliases are plain strings in the spec; only
		// their names say what the string holds.
		switch name {
		case "ISODate":
			s.format = "date"
		case "LocalizedDateTime", "UtcDateTime":
			s.format, s.airbyteType = "date-time", "timestamp_with_timezone"
		case "LocalDateTime":
			s.format, s.airbyteType = "date-time", "timestamp_without_timezone"
		}
		return s, nil
	}

	var s apiShape
	switch t := o.Get("type").(type) {
	case string:
		s.typ = t
	case []any: // OpenAPI 3.1 also allows "type": ["string", "null"]
		for _, v := range t {
			switch {
			case v == "null":
				s.nullable = true
			case s.typ == "":
				s.typ, _ = v.(string)
			default:
				return apiShape{}, fmt.Errorf("type %v has more than one non-null type", t)
			}
		}
	case nil:
		switch {
		case o.Has("properties"):
			s.typ = "object"
		case o.Has("items"):
			s.typ = "array"
		}
	}
	if s.typ == "" || s.typ == "null" {
		return apiShape{}, fmt.Errorf("cannot tell the type of %v", o.Keys)
	}
	switch o.Str("format") {
	case "date":
		s.format = "date"
	case "date-time": // RFC 3339 date-times carry an offset
		s.format, s.airbyteType = "date-time", "timestamp_with_timezone"
	}
	if values, ok := o.Get("enum").([]any); ok {
		for _, v := range values {
			s.enum = append(s.enum, fmt.Sprint(v))
		}
	}
	s.props = o.Child("properties")
	s.items = o.Get("items")
	return s, nil
}

func (c *driftCheck) compare(path string, node any, api apiShape) {
	where := label(path)
	o, ok := node.(*orderedjson.Object)
	if !ok {
		c.add("%s: schema is a JSON %T, not an object", where, node)
		return
	}
	base, nullable, err := schemaType(o)
	if err != nil {
		c.add("%s: %v", where, err)
		return
	}
	if base != api.typ {
		c.add("%s: type is %s but the OpenAPI model says %s", where, base, api.typ)
		return // the nested checks would only repeat this one
	}
	if nullable != api.nullable {
		c.add("%s: nullable is %t but the OpenAPI model says %t", where, nullable, api.nullable)
	}
	if got := o.Str("format"); got != api.format {
		c.add("%s: format is %q but should be %q", where, got, api.format)
	}
	if got := o.Str("airbyte_type"); got != api.airbyteType {
		c.add("%s: airbyte_type is %q but should be %q", where, got, api.airbyteType)
	}
	for _, v := range api.enum {
		if !mentions(o.Str("description"), v) {
			c.add("%s: description does not list the known value %q", where, v)
		}
	}
	switch {
	case api.typ == "object" && api.props != nil:
		c.compareProperties(path, o.Child("properties"), api.props)
	case api.typ == "array" && api.items != nil:
		item, err := c.resolve(api.items, 0)
		if err != nil {
			c.add("%s[]: reading the OpenAPI model: %v", path, err)
			return
		}
		c.compare(path+"[]", o.Get("items"), item)
	}
}

func (c *driftCheck) compareProperties(path string, got, want *orderedjson.Object) {
	for _, name := range want.Keys {
		p := join(path, name)
		if !got.Has(name) {
			c.add("%s: in the OpenAPI model but missing from the schema", p)
			continue
		}
		api, err := c.resolve(want.Get(name), 0)
		if err != nil {
			c.add("%s: reading the OpenAPI model: %v", p, err)
			continue
		}
		c.compare(p, got.Get(name), api)
	}
	if got == nil {
		return
	}
	for _, name := range got.Keys {
		if !want.Has(name) {
			c.add("%s: not in the OpenAPI model", join(path, name))
		}
	}
	gotOrder := slices.DeleteFunc(slices.Clone(got.Keys), func(k string) bool { return !want.Has(k) })
	wantOrder := slices.DeleteFunc(slices.Clone(want.Keys), func(k string) bool { return !got.Has(k) })
	if !slices.Equal(gotOrder, wantOrder) {
		c.add("%s: properties are ordered %v but the OpenAPI model has %v", label(path), gotOrder, wantOrder)
	}
}

// mentions reports whether word appears in text as a whole word, so that the
// value "rest" is not found inside "restored".
func mentions(text, word string) bool {
	re := regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(word) + `($|[^A-Za-z0-9_])`)
	return re.MatchString(text)
}
