package streams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"source-oura/internal/oura"
	"source-oura/internal/ouraemu"
	"source-oura/protocol"
	"source-oura/schemas"
	"source-oura/streams"
)

// narrowed keeps only the listed top-level properties of each stream's discovered schema, as
// Airbyte's configured catalog does when columns are deselected.
func narrowed(t *testing.T, keep map[string][]string) protocol.ConfiguredCatalog {
	t.Helper()
	var names []string
	for n := range keep {
		names = append(names, n)
	}
	return discovered(t, func(name string, props map[string]json.RawMessage) {
		for p := range props {
			if !contains(keep[name], p) {
				delete(props, p)
			}
		}
	}, names...)
}

// byKey indexes a stream's records by their primary key, each reduced to the fields listed.
func byKey(t *testing.T, stream string, records []string, fields []string) map[string]string {
	t.Helper()
	s, _ := streams.Lookup(stream)
	out := map[string]string{}
	for _, r := range records {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r), &m); err != nil {
			t.Fatal(err)
		}
		var key []string
		for _, k := range s.PrimaryKey {
			key = append(key, string(m[k[0]]))
		}
		kept := map[string]json.RawMessage{}
		for _, f := range fields {
			if v, ok := m[f]; ok {
				kept[f] = v
			}
		}
		b, _ := json.Marshal(kept)
		k := strings.Join(key, "|")
		if _, dup := out[k]; dup {
			t.Fatalf("%s: key %s twice", stream, k)
		}
		out[k] = string(b)
	}
	return out
}

// listRequests returns the emulator's list requests for a collection.
func listRequests(srv *ouraemu.Server, collection string) []ouraemu.Request {
	var out []ouraemu.Request
	for _, r := range srv.Requests() {
		if r.Path == "/v2/usercollection/"+collection {
			out = append(out, r)
		}
	}
	return out
}

// projection is the catalog of the column-selection tests: sleep periods without their key or
// cursor selected, heart rate (several 30-day windows) with bpm only, daily activity without
// its series, and rest-mode periods, whose cursor start_day is not among the fields the emulator
// always returns (the fixture has no such period: only the request is checked).
var projection = map[string][]string{
	"sleep_periods":     {"average_hrv", "efficiency"},
	"heart_rate":        {"bpm"},
	"daily_activity":    {"id", "day", "score", "steps", "contributors"},
	"rest_mode_periods": {"id", "episodes"},
}

// wantFields is the fields parameter each stream of projection must send: the selected
// columns, the primary key and the cursor.
var wantFields = map[string]string{
	"sleep":            "average_hrv,day,efficiency,id",
	"heartrate":        "bpm,source,timestamp",
	"daily_activity":   "contributors,day,id,score,steps",
	"rest_mode_period": "episodes,id,start_day",
}

// projectionRead starts the emulator for the column-selection tests and reads the streams of
// projection, sorted by name, with every column selected: the fixture, its config, the names
// and that full read, which the narrowed reads are compared with.
func projectionRead(t *testing.T) (*fixture, string, []string, output) {
	t.Helper()
	f := newFixture(t, 70, 25)
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-02-15T00:00:00Z"}`, token, f.url)
	names := slices.Sorted(maps.Keys(projection))
	full := f.read(t, cfg, discovered(t, nil, names...), "")
	if full.code != 0 {
		t.Fatalf("full read: exit %d:\n%s", full.code, full.raw)
	}
	return f, cfg, names, full
}

// TestNarrowedCatalogFetchesOnlySelectedColumns: a catalog with columns deselected sends fields=
// with the selected, key and cursor fields on every request of those streams, and the records
// carry the same values for those fields as a full read. A catalog with every column selected
// asks for whole documents.
func TestNarrowedCatalogFetchesOnlySelectedColumns(t *testing.T) {
	f, cfg, names, full := projectionRead(t)
	for _, r := range f.srv.Requests() {
		if r.Query.Has("fields") {
			t.Fatalf("every column selected, yet %s asked for fields=%s", r.Path, r.Query.Get("fields"))
		}
	}
	f.srv.ResetRequests()
	narrow := f.read(t, cfg, narrowed(t, projection), "")
	if narrow.code != 0 {
		t.Fatalf("narrowed read: exit %d:\n%s", narrow.code, narrow.raw)
	}
	for collection, want := range wantFields {
		reqs := listRequests(f.srv, collection)
		if len(reqs) < 2 && collection != "rest_mode_period" {
			t.Fatalf("%s: %d requests; the test wants paging or windows", collection, len(reqs))
		}
		for _, r := range reqs {
			if got := r.Query.Get("fields"); got != want {
				t.Errorf("%s asked for fields=%q, want %q", collection, got, want)
			}
		}
	}
	for _, name := range names {
		s, _ := streams.Lookup(name)
		cols := append(append([]string{}, projection[name]...), s.Cursor)
		for _, k := range s.PrimaryKey {
			cols = append(cols, k[0])
		}
		got, want := byKey(t, name, narrow.records[name], cols), byKey(t, name, full.records[name], cols)
		if (len(want) == 0 && name != "rest_mode_periods") || len(got) != len(want) {
			t.Fatalf("%s: %d records narrowed, %d in full", name, len(got), len(want))
		}
		for k, w := range want {
			if got[k] != w {
				t.Fatalf("%s %s: narrowed %s, full %s", name, k, got[k], w)
			}
		}
		// And less came over the wire: the deselected columns are not in the records.
		if name == "sleep_periods" && strings.Contains(narrow.records[name][0], `"heart_rate"`) {
			t.Errorf("sleep_periods records still carry heart_rate: %s", trunc(narrow.records[name][0]))
		}
	}
}

// TestRefusedFieldsStillYieldsEveryDocumentOnce: when Oura answers a request with fields with
// 422, that request is sent again without it, one WARN says so, the rest of the stream asks
// for whole documents, and every document arrives exactly once.
func TestRefusedFieldsStillYieldsEveryDocumentOnce(t *testing.T) {
	f, cfg, names, full := projectionRead(t)
	f.srv.SetFaults(ouraemu.Faults{RefuseFields: true})
	f.srv.ResetRequests()
	out := f.read(t, cfg, narrowed(t, projection), "")
	if out.code != 0 {
		t.Fatalf("exit %d:\n%s", out.code, out.raw)
	}
	for _, name := range names {
		sameMultiset(t, name, out.records[name], full.records[name])
		if n := matching(out.logs(protocol.LevelWarn), "stream="+name, "Oura refused the fields parameter"); n != 1 {
			t.Errorf("%s: %d warnings about the refused fields parameter, want 1", name, n)
		}
	}
	// heart_rate: at most the windows already asked for (4 fetched ahead) were refused; each
	// was asked again without fields, and every later window asked without it.
	reqs := listRequests(f.srv, "heartrate")
	refused := 0
	for i, r := range reqs {
		if r.Status == http.StatusUnprocessableEntity {
			refused++
			continue
		}
		if r.Query.Has("fields") {
			t.Errorf("request %d with fields got %d", i, r.Status)
		}
	}
	if refused < 1 || refused > 4 || len(reqs)-refused < 3 {
		t.Errorf("heartrate: %d requests, %d refused", len(reqs), refused)
	}
}

// TestAccountColumnIsNotAskedOfOura: with account_column on, the catalog declares the account
// column, which the connector adds itself: it is neither asked of Oura in fields= nor taken for a
// primary-key field Oura left out, and the records still carry it.
func TestAccountColumnIsNotAskedOfOura(t *testing.T) {
	f := newFixture(t, 20, 50)
	client, err := oura.New(oura.Config{BaseURL: f.url, Tokens: oura.StaticToken(token)})
	if err != nil {
		t.Fatal(err)
	}
	validator, err := schemas.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := protocol.NewWriter(&buf, protocol.NewMasker())
	r := &streams.Reader{Client: client, Out: w, Log: protocol.NewLogger(w, false), Validator: validator,
		Start: time.Date(2025, 4, 5, 0, 0, 0, 0, time.UTC), Now: time.Now,
		Account: protocol.AccountColumn{Name: "oura_account", Value: "p1"}}
	// The catalog of discover with account_column on declares the column; here it is narrowed too.
	cat := discovered(t, func(_ string, props map[string]json.RawMessage) {
		for p := range props {
			if p != "average_hrv" {
				delete(props, p)
			}
		}
		props["oura_account"] = json.RawMessage(`{"type":"string"}`)
	}, "sleep_periods")
	s, _ := streams.Lookup("sleep_periods")
	if err := r.Read(context.Background(), []streams.Job{{Stream: s, Mode: protocol.FullRefresh,
		Desc: protocol.StreamDescriptor{Name: s.Name}, Schema: cat.Streams[0].Stream.JSONSchema}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	reqs := listRequests(f.srv, "sleep")
	if len(reqs) == 0 {
		t.Fatal("no sleep request")
	}
	for _, r := range reqs {
		if got := r.Query.Get("fields"); got != "average_hrv,day,id" {
			t.Errorf("fields=%q, want average_hrv,day,id", got)
		}
	}
	out := buf.String()
	if !strings.Contains(out, `"data":{"oura_account":"p1","id":`) {
		t.Fatalf("records lack the account column:\n%s", out)
	}
	if strings.Contains(out, "primary key") || strings.Contains(out, "does not declare") {
		t.Errorf("the account column was taken for one of Oura's fields:\n%s", out)
	}
}
