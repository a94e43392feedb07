package ouraemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"testing"
	"time"
)

// generated serves a month of generated data, whose documents have every field.
func generated(o *Options) {
	last := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	o.Dataset = Generate(GenOptions{Seed: 3, First: last.AddDate(0, 0, -30), Last: last})
}

func topKeys(t *testing.T, doc json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatalf("decoding %s: %v", doc, err)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestFieldsKeepsAskedAndAlwaysReturnedFields(t *testing.T) {
	e := newEmu(t, generated)
	const q = "?start_date=2024-03-01&end_date=2024-03-05"
	whole := decodePage(t, e.get(t, live+"sleep"+q, allToken))
	narrow := decodePage(t, e.get(t, live+"sleep"+q+"&fields=average_hrv,efficiency", allToken))
	if len(whole.Data) == 0 || len(narrow.Data) != len(whole.Data) {
		t.Fatalf("%d projected documents for %d whole ones", len(narrow.Data), len(whole.Data))
	}
	for i, d := range narrow.Data {
		if got, want := topKeys(t, d), []string{"average_hrv", "day", "efficiency", "id"}; !slices.Equal(got, want) {
			t.Fatalf("projected keys %v, want %v", got, want)
		}
		var full, part map[string]json.RawMessage
		_ = json.Unmarshal(whole.Data[i], &full)
		_ = json.Unmarshal(d, &part)
		for k, v := range part {
			if string(v) != string(full[k]) {
				t.Errorf("%s: projected %s, whole %s", k, v, full[k])
			}
		}
	}
	// Time series keep their timestamp; an empty fields is every field.
	hr := decodePage(t, e.get(t, live+"heartrate?start_datetime=2024-03-01T00:00:00Z&end_datetime=2024-03-01T01:00:00Z&fields=bpm", allToken))
	if len(hr.Data) == 0 || !slices.Equal(topKeys(t, hr.Data[0]), []string{"bpm", "timestamp"}) {
		t.Fatalf("heartrate with fields=bpm: %s", hr.Data)
	}
	all := decodePage(t, e.get(t, live+"sleep"+q+"&fields=", allToken))
	if !slices.Equal(topKeys(t, all.Data[0]), topKeys(t, whole.Data[0])) {
		t.Fatal("an empty fields parameter dropped fields")
	}
}

func TestFieldsIgnoredWhereOuraIgnoresIt(t *testing.T) {
	e := newEmu(t, generated)
	for _, c := range []string{"tag", "enhanced_tag", "daily_resilience"} {
		q := "?start_date=2024-02-01&end_date=2024-03-10"
		whole := e.get(t, live+c+q, allToken)
		asked := e.get(t, live+c+q+"&fields=id", allToken)
		if len(decodePage(t, whole).Data) == 0 {
			t.Fatalf("%s: no documents to compare", c)
		}
		if string(whole.body) != string(asked.body) {
			t.Errorf("%s: fields changed the answer", c)
		}
	}
	// Nor do the sandbox routes take it.
	q := "?start_date=2024-03-01&end_date=2024-03-05"
	if a, b := e.get(t, "/v2/sandbox/usercollection/sleep"+q, allToken), e.get(t, "/v2/sandbox/usercollection/sleep"+q+"&fields=id", allToken); string(a.body) != string(b.body) {
		t.Error("the sandbox route projected documents")
	}
}

func TestRefuseFieldsKnob(t *testing.T) {
	e := newEmu(t, generated)
	e.SetFaults(Faults{RefuseFields: true})
	q := "?start_date=2024-03-01&end_date=2024-03-05"
	if r := e.get(t, live+"sleep"+q+"&fields=id", allToken); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d with fields, want 422", r.status)
	}
	if r := e.get(t, live+"sleep"+q, allToken); r.status != http.StatusOK {
		t.Fatalf("status %d without fields, want 200", r.status)
	}
	reqs := e.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests logged, want 2", len(reqs))
	}
	if reqs[0].Fault != FaultRefuseFields || reqs[1].Fault != "" {
		t.Fatalf("faults logged %q, %q", reqs[0].Fault, reqs[1].Fault)
	}
}

// TestProjectKeepsBytes: asking for every field gives each generated document back byte for
// byte, and asking for none leaves exactly the always-returned fields, values unchanged.
func TestProjectKeepsBytes(t *testing.T) {
	var o Options
	generated(&o)
	n := 0
	for c, docs := range o.Dataset.Docs {
		for _, d := range docs {
			keys := topKeys(t, d.JSON)
			all := map[string]bool{}
			for _, k := range keys {
				all[k] = true
			}
			if got := project(d.JSON, all); string(got) != string(d.JSON) {
				t.Fatalf("%s: every field asked for, got\n%s\nwant\n%s", c, got, d.JSON)
			}
			var full, none map[string]json.RawMessage
			_ = json.Unmarshal(d.JSON, &full)
			if err := json.Unmarshal(project(d.JSON, map[string]bool{}), &none); err != nil {
				t.Fatalf("%s: projection is not JSON: %v", c, err)
			}
			for k := range full {
				if alwaysReturned[k] != (none[k] != nil) || (none[k] != nil && string(none[k]) != string(full[k])) {
					t.Fatalf("%s: field %s: projected %s, whole %s", c, k, none[k], full[k])
				}
			}
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("only %d documents checked", n)
	}
	if got := string(project([]byte(`{ "a" : "x\"}" , "id":[1,{"b":"]"}], "c":null }`), map[string]bool{"c": true})); got != `{"id":[1,{"b":"]"}],"c":null}` {
		t.Fatalf("escapes and nesting: %s", got)
	}
}
