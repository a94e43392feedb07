package streams

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"source-oura/internal/oura"
	"source-oura/internal/ouraemu"
)

const sampleToken = "sample-test-token"

// sampleScopes reads every collection.
var sampleScopes = ouraemu.AllScopes

// sampleEmulator serves 60 generated days ending at now, with the given new fields.
func sampleEmulator(t *testing.T, now time.Time, scopes []string, fields ...ouraemu.NewField) (*ouraemu.Server, *oura.Client) {
	t.Helper()
	last := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 3, First: last.AddDate(0, 0, -59), Last: last})
	srv := ouraemu.NewServer(ouraemu.Options{
		Dataset: ds, Tokens: map[string][]string{sampleToken: scopes},
		Now: func() time.Time { return now }, NewFields: fields,
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := oura.New(oura.Config{BaseURL: hs.URL, Tokens: oura.StaticToken(sampleToken), MaxAttempts: 2,
		MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// sampledCatalog runs a Sampler and returns its catalog's schemas by stream and its log.
func sampledCatalog(t *testing.T, c *oura.Client, now time.Time) (map[string]json.RawMessage, string) {
	t.Helper()
	var logs bytes.Buffer
	s := &Sampler{Client: c, Log: zerolog.New(&logs), Start: now.AddDate(-1, 0, 0), Now: func() time.Time { return now }}
	cat, err := s.Catalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Streams) != len(AllStreams()) {
		t.Fatalf("catalog has %d streams, want %d", len(cat.Streams), len(AllStreams()))
	}
	out := map[string]json.RawMessage{}
	for _, st := range cat.Streams {
		out[st.Name] = st.JSONSchema
	}
	return out, logs.String()
}

func embeddedSchemas(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	cat, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]json.RawMessage{}
	for _, st := range cat.Streams {
		out[st.Name] = st.JSONSchema
	}
	return out
}

// TestSamplerAddsNewFieldsToExactlyTheirStreams: fields the emulator adds show up, with an
// inferred nullable type and the description, in the schema of exactly the streams whose
// documents carry them; every embedded property keeps its bytes; a field the schema already has
// (heart_rate's timestamp_unix) is left as embedded; one request per collection.
func TestSamplerAddsNewFieldsToExactlyTheirStreams(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	srv, c := sampleEmulator(t, now, sampleScopes,
		ouraemu.NewField{Collection: "sleep", Name: "sleep_quality_v2", Value: json.RawMessage(`0.82`)},
		ouraemu.NewField{Collection: "daily_activity", Name: "zone_label", Value: json.RawMessage(`"green"`)},
		ouraemu.NewField{Collection: "personal_info", Name: "ring_owner", Value: json.RawMessage(`{"since":2021}`)},
		ouraemu.NewField{Collection: "ring_configuration", Name: "nfc", Value: json.RawMessage(`null`)},
		ouraemu.NewField{Collection: "heartrate", Name: "timestamp_unix", Value: json.RawMessage(`1`)},
	)
	got, logs := sampledCatalog(t, c, now)
	want := map[string]map[string]string{
		"sleep_periods":       {"sleep_quality_v2": `["null","number"]`},
		"daily_activity":      {"zone_label": `["null","string"]`},
		"personal_info":       {"ring_owner": `["null","object"]`},
		"ring_configurations": {"nfc": ``}, // only null seen: any type
	}
	embedded := embeddedSchemas(t)
	for name, schema := range got {
		props, err := schemaProperties(schema)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		base, _ := schemaProperties(embedded[name])
		for field, raw := range base {
			if !bytes.Equal(props[field], raw) {
				t.Errorf("%s.%s changed: %s, embedded %s", name, field, props[field], raw)
			}
		}
		added := want[name]
		if len(props) != len(base)+len(added) {
			t.Errorf("%s: %d properties, want the %d embedded plus %v", name, len(props), len(base), added)
		}
		if added == nil && !bytes.Equal(schema, embedded[name]) {
			t.Errorf("%s: schema differs from the embedded one although nothing was added", name)
		}
		for field, typ := range added {
			var p struct {
				Type        json.RawMessage `json:"type"`
				Description string          `json:"description"`
			}
			if err := json.Unmarshal(props[field], &p); err != nil {
				t.Fatalf("%s.%s: %v in %s", name, field, err, props[field])
			}
			if string(p.Type) != typ || p.Description != newFieldDescription {
				t.Errorf("%s.%s = %s, want type %s and the discovered-field description", name, field, props[field], typ)
			}
		}
	}
	for _, want := range []string{"sleep_periods.sleep_quality_v2", "daily_activity.zone_label", "personal_info.ring_owner"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the INFO line does not name %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, `"warn"`) {
		t.Errorf("unexpected WARN:\n%s", logs)
	}
	if n := len(srv.Requests()); n != len(AllStreams()) {
		t.Errorf("sampling sent %d requests, want one per collection (%d)", n, len(AllStreams()))
	}
}

// TestSamplerIsDeterministic: the same data gives byte-identical schemas, whatever order the
// samples arrive in.
func TestSamplerIsDeterministic(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	_, c := sampleEmulator(t, now, sampleScopes,
		ouraemu.NewField{Collection: "sleep", Name: "b_field", Value: json.RawMessage(`1`)},
		ouraemu.NewField{Collection: "sleep", Name: "a_field", Value: json.RawMessage(`[1]`)},
		ouraemu.NewField{Collection: "tag", Name: "c", Value: json.RawMessage(`true`)})
	first, _ := sampledCatalog(t, c, now)
	for i := 0; i < 3; i++ {
		again, _ := sampledCatalog(t, c, now)
		for name := range first {
			if !bytes.Equal(first[name], again[name]) {
				t.Fatalf("run %d: %s differs:\n%s\n%s", i+2, name, first[name], again[name])
			}
		}
	}
	s := string(first["sleep_periods"])
	if a, b := strings.Index(s, `"a_field"`), strings.Index(s, `"b_field"`); a < 0 || b < a {
		t.Errorf("new fields not in name order after the embedded ones: %s", s)
	}
}

// TestSamplerFailureKeepsEmbeddedSchema: a collection the token lacks the scope for keeps its
// embedded schema with one WARN naming the stream and the scope; the rest still get their fields.
func TestSamplerFailureKeepsEmbeddedSchema(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	var scopes []string
	for _, s := range sampleScopes {
		if s != "heartrate" {
			scopes = append(scopes, s)
		}
	}
	_, c := sampleEmulator(t, now, scopes,
		ouraemu.NewField{Collection: "heartrate", Name: "new_hr", Value: json.RawMessage(`1`)},
		ouraemu.NewField{Collection: "sleep", Name: "new_sleep", Value: json.RawMessage(`1`)})
	got, logs := sampledCatalog(t, c, now)
	if !bytes.Equal(got["heart_rate"], embeddedSchemas(t)["heart_rate"]) {
		t.Errorf("heart_rate's schema changed although it could not be sampled")
	}
	if !bytes.Contains(got["sleep_periods"], []byte(`"new_sleep"`)) {
		t.Errorf("sleep_periods lost its new field")
	}
	var warns []string
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if strings.Contains(line, `"level":"warn"`) {
			warns = append(warns, line)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "could not sample heart_rate") || !strings.Contains(warns[0], "heartrate") {
		t.Errorf("want one WARN naming heart_rate and its scope, got %q", warns)
	}
}

// TestSampleQueryAsksForRecentDays: the sample asks for the last two weeks of a date
// collection and the last day of a time series, ending at the config's end when that is past,
// shaped like read's requests (a day wider on each side for dates).
func TestSampleQueryAsksForRecentDays(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC)
	cases := []struct {
		stream   *Stream
		end      time.Time
		want     string
		wantNone bool
	}{
		{&dailySleep, time.Time{}, "end_date=2026-03-12&start_date=2026-02-23", false},
		{&dailySleep, end, "end_date=2025-07-01&start_date=2025-06-15", false},
		{&heartRate, time.Time{}, "end_datetime=2026-03-10T15%3A00%3A00Z&start_datetime=2026-03-09T15%3A00%3A00Z", false},
		{&ringConfigurations, time.Time{}, "", false},
	}
	for _, tc := range cases {
		q, ok := tc.stream.sampleQuery(start, tc.end, now)
		if !ok || q.Encode() != tc.want {
			t.Errorf("%s (end %v): query %q ok=%v, want %q", tc.stream.Name, tc.end, q.Encode(), ok, tc.want)
		}
	}
	if q, ok := dailySleep.sampleQuery(now.AddDate(0, 0, 5), time.Time{}, now); ok {
		t.Errorf("a sync range starting after now has nothing to sample, got %q", q.Encode())
	}
}

// TestFieldSchemaInference: always nullable, every kind seen in a fixed order, whole numbers
// as number, and no type at all for a field seen only as null.
func TestFieldSchemaInference(t *testing.T) {
	cases := []struct {
		docs []string
		want string
	}{
		{[]string{`{"x":1}`, `{"x":2}`}, `["null","number"]`},
		{[]string{`{"x":1.5}`, `{"x":null}`}, `["null","number"]`},
		{[]string{`{"x":"a"}`, `{"x":3}`, `{"x":false}`}, `["null","boolean","number","string"]`},
		{[]string{`{"x":[]}`, `{"x":{}}`}, `["null","array","object"]`},
		{[]string{`{"x":null}`}, ``},
	}
	for _, tc := range cases {
		sm := &streamSample{types: map[string]map[kind]bool{}}
		for _, d := range tc.docs {
			sm.observe([]byte(d))
		}
		var got struct {
			Type        json.RawMessage `json:"type"`
			Description string          `json:"description"`
		}
		if err := json.Unmarshal(fieldSchema(sm.types["x"]), &got); err != nil {
			t.Fatal(err)
		}
		if string(got.Type) != tc.want || got.Description == "" {
			t.Errorf("%v: type %s, want %s (description %q)", tc.docs, got.Type, tc.want, got.Description)
		}
	}
}

// TestAddPropertiesKeepsTheRest: properties are appended to the top-level properties object
// only (not to a nested one), an empty object gets no stray comma, and other keys keep their
// bytes.
func TestAddPropertiesKeepsTheRest(t *testing.T) {
	add := []newProperty{{name: "n", schema: json.RawMessage(`{"type":["null","number"]}`)}}
	cases := []struct{ in, want string }{
		{`{"a":{"properties":{"z":{}}},"properties":{"id":{"type":"string"}},"b":1}`,
			`{"a":{"properties":{"z":{}}},"properties":{"id":{"type":"string"},"n":{"type":["null","number"]}},"b":1}`},
		{`{"properties":{}}`, `{"properties":{"n":{"type":["null","number"]}}}`},
	}
	for _, tc := range cases {
		got, err := addProperties([]byte(tc.in), add)
		if err != nil || string(got) != tc.want {
			t.Errorf("addProperties(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`[]`, `{"type":"object"}`, `{"properties":[]}`} {
		if _, err := addProperties([]byte(bad), add); err == nil {
			t.Errorf("addProperties(%s) did not fail", bad)
		}
	}
}

// TestSamplerLeavesTheAccountColumnToTheConnector: with account_column on, a field named like the
// column in Oura's data is not declared as found in Oura's data; the connector's column is, as in
// every record (ownAccount), and one WARN names the stream. With the column off, Oura's field is
// declared like any other new field.
func TestSamplerLeavesTheAccountColumnToTheConnector(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	_, c := sampleEmulator(t, now, sampleScopes,
		ouraemu.NewField{Collection: "sleep", Name: "oura_account", Value: json.RawMessage(`"evil"`)})
	for _, column := range []string{"oura_account", ""} {
		var logs bytes.Buffer
		s := &Sampler{Client: c, Log: zerolog.New(&logs), Start: now.AddDate(-1, 0, 0), Now: func() time.Time { return now },
			AccountColumn: column}
		cat, err := s.Catalog(context.Background())
		if err == nil {
			err = WithAccountColumn(cat, column)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range cat.Streams {
			if st.Name != "sleep_periods" {
				continue
			}
			props, err := schemaProperties(st.JSONSchema)
			if err != nil {
				t.Fatal(err)
			}
			var p struct{ Description string }
			if err := json.Unmarshal(props["oura_account"], &p); err != nil {
				t.Fatalf("column %q: %v in %s", column, err, props["oura_account"])
			}
			found := p.Description == newFieldDescription
			if found != (column == "") {
				t.Errorf("column %q: oura_account declared as %s", column, props["oura_account"])
			}
		}
		warned := strings.Count(logs.String(), `"level":"warn"`) == 1 && strings.Contains(logs.String(), "sleep_periods data, the name of the account column")
		if warned != (column != "") {
			t.Errorf("column %q: warned %v:\n%s", column, warned, logs.String())
		}
	}
}

// TestSampleFieldsAreBounded: a sample whose documents carry endless distinct top-level fields
// (a server gone wrong) keeps at most maxSampledFields of them, none with a name longer than
// maxSampledName bytes, and counts the rest, so neither the catalog nor discover's memory grows
// with what the server sends.
func TestSampleFieldsAreBounded(t *testing.T) {
	sm := &streamSample{types: map[string]map[kind]bool{}}
	for d := range 5 {
		var b strings.Builder
		b.WriteString(`{"id":"x"`)
		for i := range 300 {
			fmt.Fprintf(&b, `,"f%d_%d":1`, d, i)
		}
		fmt.Fprintf(&b, `,%q:1}`, strings.Repeat("n", maxSampledName+1))
		sm.observe([]byte(b.String()))
	}
	if len(sm.types) != maxSampledFields {
		t.Errorf("%d fields kept, want %d", len(sm.types), maxSampledFields)
	}
	for name := range sm.types {
		if len(name) > maxSampledName {
			t.Errorf("a %d-byte name was kept", len(name))
		}
	}
	// 302 fields a document, none kept past the first; "id", when it was among the first kept
	// (map order decides), is seen again in the other four without counting.
	want := 5*302 - maxSampledFields
	if _, kept := sm.types["id"]; kept {
		want -= 4
	}
	if sm.unlisted != want {
		t.Errorf("%d field occurrences counted as left out, want %d", sm.unlisted, want)
	}
}
