package streams_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/protocol"
	"source-oura/streams"
)

// logs returns the LOG messages of a read at level, in order.
func (o output) logs(level protocol.Level) []string {
	var out []string
	for _, m := range o.msgs {
		if m.Log != nil && m.Log.Level == level {
			out = append(out, m.Log.Message)
		}
	}
	return out
}

// matching counts the messages that contain every one of parts.
func matching(msgs []string, parts ...string) int {
	n := 0
	for _, m := range msgs {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(m, p)
		}
		if all {
			n++
		}
	}
	return n
}

// summaryOf returns a stream's summary line.
func (o output) summaryOf(t *testing.T, stream string) string {
	t.Helper()
	for _, m := range o.logs(protocol.LevelInfo) {
		if strings.HasPrefix(m, "stream summary stream="+stream+" ") {
			return m
		}
	}
	t.Fatalf("no summary for %s in:\n%s", stream, o.raw)
	return ""
}

// discovered is a configured catalog of the named streams with the schemas discover gives
// (all columns selected), edited by edit when it is not nil.
func discovered(t *testing.T, edit func(name string, props map[string]json.RawMessage), names ...string) protocol.ConfiguredCatalog {
	t.Helper()
	cat, err := streams.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	var c protocol.ConfiguredCatalog
	for _, s := range cat.Streams {
		if !contains(names, s.Name) {
			continue
		}
		if edit != nil {
			var schema map[string]json.RawMessage
			var props map[string]json.RawMessage
			if err := json.Unmarshal(s.JSONSchema, &schema); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(schema["properties"], &props); err != nil {
				t.Fatal(err)
			}
			edit(s.Name, props)
			schema["properties"], _ = json.Marshal(props)
			s.JSONSchema, _ = json.Marshal(schema)
		}
		c.Streams = append(c.Streams, protocol.ConfiguredStream{Stream: s, SyncMode: protocol.FullRefresh, DestinationSyncMode: protocol.Overwrite})
	}
	return c
}

// TestUndeclaredFieldsAreReportedOncePerStreamAndField: fields Oura sends that the configured
// schema lacks get one WARN per stream and field, naming the field and the schema refresh, and
// a count in the summary; the records still carry them byte for byte. A catalog that declares
// the field, or declares nothing at all ({}), gets no warning.
func TestUndeclaredFieldsAreReportedOncePerStreamAndField(t *testing.T) {
	f := newFixture(t, 40, 10)
	url := newFieldsServer(t, f,
		ouraemu.NewField{Collection: "sleep", Name: "sleep_regularity", Value: json.RawMessage(`0.82`)},
		ouraemu.NewField{Collection: "sleep", Name: "pulse_wave_velocity", Value: json.RawMessage(`7.1`)},
		ouraemu.NewField{Collection: "daily_readiness", Name: "pulse_wave_velocity", Value: json.RawMessage(`6.5`)})
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-03-20T00:00:00Z"}`, token, url)
	names := []string{"sleep_periods", "daily_readiness", "daily_sleep"}

	out := f.read(t, cfg, discovered(t, nil, names...), "")
	if out.code != 0 {
		t.Fatalf("exit %d:\n%s", out.code, out.raw)
	}
	warns := out.logs(protocol.LevelWarn)
	for _, c := range []struct {
		stream, field string
		fields        int
	}{{"sleep_periods", "sleep_regularity", 2}, {"sleep_periods", "pulse_wave_velocity", 2}, {"daily_readiness", "pulse_wave_velocity", 1}} {
		if n := matching(warns, "stream="+c.stream, "field="+c.field, "Refresh source schema", "Airbyte drops the field"); n != 1 {
			t.Errorf("%s.%s: %d warnings, want 1:\n%s", c.stream, c.field, n, strings.Join(warns, "\n"))
		}
		if sum := out.summaryOf(t, c.stream); !strings.Contains(sum, fmt.Sprintf("undeclared_fields=%d ", c.fields)) {
			t.Errorf("summary %q does not count %d undeclared fields", sum, c.fields)
		}
	}
	if n := matching(warns, "stream=daily_sleep"); n != 0 || !strings.Contains(out.summaryOf(t, "daily_sleep"), "undeclared_fields=0 ") {
		t.Errorf("daily_sleep has no new field but got %d warnings", n)
	}
	if len(out.records["sleep_periods"]) < 10 {
		t.Fatalf("only %d sleep periods: the test would prove little", len(out.records["sleep_periods"]))
	}
	for _, r := range out.records["sleep_periods"] {
		if !strings.HasSuffix(r, `,"pulse_wave_velocity":7.1,"sleep_regularity":0.82}`) {
			t.Fatalf("record not as Oura sent it: %s", trunc(r[len(r)-80:]))
		}
	}

	// Declared by the catalog (as after a schema refresh), or a catalog with no properties.
	declare := func(name string, props map[string]json.RawMessage) {
		props["sleep_regularity"] = json.RawMessage(`{"type":["null","number"]}`)
		props["pulse_wave_velocity"] = json.RawMessage(`{"type":["null","number"]}`)
	}
	for what, cat := range map[string]protocol.ConfiguredCatalog{
		"declared": discovered(t, declare, names...), "no properties": catalogOf(fullRefresh, names...),
	} {
		out := f.read(t, cfg, cat, "")
		if n := matching(out.logs(protocol.LevelWarn), "does not declare"); out.code != 0 || n != 0 {
			t.Errorf("%s: exit %d, %d undeclared-field warnings, want none", what, out.code, n)
		}
	}
}

// TestMissingPrimaryKeysAreWrittenAndReportedOnce: records whose key is absent or null are
// written and counted, and the stream ends with one WARN naming the key and the count.
func TestMissingPrimaryKeysAreWrittenAndReportedOnce(t *testing.T) {
	f := newFixture(t, 40, 7)
	docs := f.ds.Docs["daily_readiness"]
	idField := regexp.MustCompile(`"id":"[^"]*"`)
	for i := range docs[len(docs)-12:] {
		d := &docs[len(docs)-12+i]
		switch {
		case i%3 == 0: // absent, as in the December 2024 cardiovascular-age documents
			d.JSON = []byte(strings.Replace(idField.ReplaceAllString(string(d.JSON), `"_":0`), `"_":0,`, ``, 1))
		case i%3 == 1:
			d.JSON = []byte(idField.ReplaceAllString(string(d.JSON), `"id":null`))
		}
	}
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-03-15T00:00:00Z"}`, token, f.url)
	out := f.read(t, cfg, catalogOf(fullRefresh, "daily_readiness", "daily_sleep"), "")
	if out.code != 0 {
		t.Fatalf("exit %d:\n%s", out.code, out.raw)
	}
	s, _ := streams.Lookup("daily_readiness")
	want := expected(t, f.ds, s, time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC), time.Date(2025, 4, 21, 0, 0, 0, 0, time.UTC))
	sameMultiset(t, "daily_readiness", out.records["daily_readiness"], want)
	missing := 0
	for _, r := range out.records["daily_readiness"] {
		var m map[string]any
		_ = json.Unmarshal([]byte(r), &m)
		if m["id"] == nil {
			missing++
		}
	}
	if missing != 8 {
		t.Fatalf("%d records without id written, want 8", missing)
	}
	warns := out.logs(protocol.LevelWarn)
	if n := matching(warns, "daily_readiness", "primary key id missing in 8 records"); n != 1 {
		t.Errorf("%d warnings naming the key and the count, want 1:\n%s", n, strings.Join(warns, "\n"))
	}
	if n := matching(warns, "primary key"); n != 1 {
		t.Errorf("%d primary-key warnings, want only daily_readiness's", n)
	}
	if sum := out.summaryOf(t, "daily_readiness"); !strings.Contains(sum, "missing_keys=8 ") {
		t.Errorf("summary %q does not count 8 records", sum)
	}
}

// TestOuraAccountFieldLosesToTheAccountColumn: when Oura itself sends a top-level oura_account
// and account_column is on, each record has exactly one oura_account, the connector's label
// (JSON readers keep the last of two equal keys, so Oura's would otherwise win and mix people in
// shared tables); the rest of the record is byte for byte the record read with the column off,
// and one WARN per stream names the collision. Streams without the field are untouched.
func TestOuraAccountFieldLosesToTheAccountColumn(t *testing.T) {
	f := newFixture(t, 20, 10)
	url := newFieldsServer(t, f,
		ouraemu.NewField{Collection: "sleep", Name: "oura_account", Value: json.RawMessage(`"evil"`)},
		ouraemu.NewField{Collection: "sleep", Name: "sleep_regularity", Value: json.RawMessage(`0.82`)})
	base := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-04-01T00:00:00Z"`, token, url)
	names := []string{"sleep_periods", "daily_sleep"}
	withColumn := func(name string, props map[string]json.RawMessage) {
		props["oura_account"] = json.RawMessage(`{"type":"string"}`) // as discover declares it
	}

	off := f.read(t, base+"}", discovered(t, nil, names...), "")
	for what, cat := range map[string]protocol.ConfiguredCatalog{
		"discovered": discovered(t, withColumn, names...), "no properties": catalogOf(fullRefresh, names...),
	} {
		on := f.read(t, base+`,"account_column":{"enabled":true,"label":"p-01"}}`, cat, "")
		if on.code != 0 || off.code != 0 {
			t.Fatalf("%s: exit %d / %d:\n%s", what, on.code, off.code, on.raw)
		}
		for _, stream := range names {
			got, plain := on.records[stream], off.records[stream]
			if len(got) < 5 || len(got) != len(plain) {
				t.Fatalf("%s %s: %d records with the column, %d without", what, stream, len(got), len(plain))
			}
			for i, rec := range got {
				if n := strings.Count(rec, `"oura_account":`); n != 1 {
					t.Fatalf("%s %s: %d oura_account keys in %s", what, stream, n, trunc(rec))
				}
				var doc struct {
					Account string `json:"oura_account"`
				}
				if err := json.Unmarshal([]byte(rec), &doc); err != nil || doc.Account != "p-01" {
					t.Fatalf("%s %s: oura_account %q, want the label p-01 (%v)", what, stream, doc.Account, err)
				}
				// Oura's bytes, less its own oura_account member, follow the column unchanged.
				want := strings.Replace(plain[i], `"oura_account":"evil",`, "", 1)
				if stream == "sleep_periods" && want == plain[i] {
					t.Fatalf("%s: the record read without the column lacks Oura's field: %s", what, trunc(plain[i]))
				}
				if rec != `{"oura_account":"p-01",`+want[1:] {
					t.Fatalf("%s %s: record changed beyond the account column:\n got %s\nwant %s", what, stream, rec, want)
				}
			}
		}
		warns := on.logs(protocol.LevelWarn)
		if n := matching(warns, "stream=sleep_periods", "oura_account", "connector's column wins"); n != 1 {
			t.Errorf("%s: %d collision warnings for sleep_periods, want 1:\n%s", what, n, strings.Join(warns, "\n"))
		}
		if n := matching(warns, "stream=daily_sleep"); n != 0 {
			t.Errorf("%s: daily_sleep has no oura_account of Oura's but got %d warnings", what, n)
		}
		if n := matching(warns, "field=oura_account", "does not declare"); n != 0 {
			t.Errorf("%s: the declared account column was reported as undeclared", what)
		}
	}
}

// newFieldsServer serves f's dataset in pages of 10, at a now of 2025-04-20T20:00Z, with the
// given fields added to their collections' documents, and returns its URL.
func newFieldsServer(t *testing.T, f *fixture, fields ...ouraemu.NewField) string {
	t.Helper()
	now := time.Date(2025, 4, 20, 20, 0, 0, 0, time.UTC)
	hs := httptest.NewServer(ouraemu.NewServer(ouraemu.Options{
		Dataset: f.ds, PageSize: 10, Tokens: map[string][]string{token: allScopes},
		Now: func() time.Time { return now }, NewFields: fields,
	}))
	t.Cleanup(hs.Close)
	return hs.URL
}
