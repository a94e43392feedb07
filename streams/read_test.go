package streams_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"source-oura/internal/config"
	"source-oura/internal/oura"
	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
	"source-oura/internal/streamtest"
	"source-oura/protocol"
	"source-oura/schemas"
	"source-oura/streams"
)

const token = "stream-test-token-1"

// allScopes reads every collection.
var allScopes = ouraemu.AllScopes

// fixture is a generated dataset served on loopback.
type fixture struct {
	ds   *ouraemu.Dataset
	srv  *ouraemu.Server
	url  string
	dir  string
	spec []byte
}

func newFixture(t *testing.T, days, pageSize int, scopes ...string) *fixture {
	t.Helper()
	if scopes == nil {
		scopes = allScopes
	}
	last := time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC) // spans the March DST change
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 7, First: last.AddDate(0, 0, -(days - 1)), Last: last})
	srv := ouraemu.NewServer(ouraemu.Options{
		Dataset: ds, PageSize: pageSize, Tokens: map[string][]string{token: scopes},
		Now: func() time.Time { return last.Add(20 * time.Hour) },
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	spec, err := os.ReadFile(filepath.Join(protocoltest.RepoRoot(t), "spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{ds: ds, srv: srv, url: hs.URL, dir: t.TempDir(), spec: spec}
}

func catalogOf(mode func(*streams.Stream) protocol.SyncMode, names ...string) protocol.ConfiguredCatalog {
	var c protocol.ConfiguredCatalog
	for _, s := range streams.AllStreams() {
		if len(names) > 0 && !contains(names, s.Name) {
			continue
		}
		c.Streams = append(c.Streams, protocol.ConfiguredStream{
			Stream:   protocol.Stream{Name: s.Name, JSONSchema: json.RawMessage(`{}`), SupportedSyncModes: []protocol.SyncMode{protocol.FullRefresh}},
			SyncMode: mode(s), DestinationSyncMode: protocol.Append,
		})
	}
	return c
}

func fullRefresh(*streams.Stream) protocol.SyncMode { return protocol.FullRefresh }

func incremental(s *streams.Stream) protocol.SyncMode {
	if s.Incremental() {
		return protocol.Incremental
	}
	return protocol.FullRefresh
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// output is a decoded read.
type output struct {
	code    int
	raw     []byte
	msgs    []protocol.Message
	records map[string][]string // stream → record data, in order
}

// read runs the reader the way the read command wires it (config checked against spec.json,
// the Oura client with the stream table's scopes, one locked writer for records and logs) but
// without internal/cli, so these tests hold the reader alone. Backoffs are shortened; a
// failed read exits 1 with the error as a trace, as the command does.
func (f *fixture) read(t *testing.T, cfgJSON string, cat protocol.ConfiguredCatalog, state string) output {
	t.Helper()
	v, err := config.NewValidator(f.spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := v.Parse([]byte(cfgJSON))
	if err != nil {
		t.Fatalf("config %s: %v", cfgJSON, err)
	}
	var out bytes.Buffer
	w := protocol.NewWriter(&out, protocol.NewMasker(v.Secrets([]byte(cfgJSON))...))
	log := protocol.NewLogger(w, false)
	scopes := map[string]string{}
	for _, s := range streams.AllStreams() {
		scopes[s.Path] = s.Scope
	}
	client, err := oura.New(oura.Config{BaseURL: cfg.BaseURL, Tokens: oura.StaticToken(cfg.Auth.APIKey), RequestsPer5Min: cfg.RequestsPer5Min,
		Logger: log, Scopes: scopes, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	validator, err := schemas.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	r := &streams.Reader{Client: client, Out: w, Log: log, Start: cfg.Start, End: cfg.End, LookbackDays: cfg.LookbackDays,
		Sandbox: cfg.Sandbox, Concurrency: cfg.MaxConcurrent, Prefetch: 4, Validator: validator, Now: time.Now}
	if a := cfg.Account; a.Enabled && a.Label != "" { // as read wires a labelled account_column
		r.Account = protocol.AccountColumn{Name: config.AccountColumnName, Value: a.Label}
	}
	o := output{records: map[string][]string{}}
	if err := r.Read(context.Background(), jobsOf(t, cat, state)); err != nil {
		o.code = 1
		_ = w.Error(protocol.SystemError, err.Error(), "", nil)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	o.raw = out.Bytes()
	o.msgs = protocoltest.DecodeMessages(t, "read", o.raw, func(m *protocol.Message) bool { return m.Type != "" })
	for _, m := range o.msgs {
		if m.Record != nil {
			o.records[m.Record.Stream] = append(o.records[m.Record.Stream], string(m.Record.Data))
		}
	}
	return o
}

// jobsOf pairs each stream of cat with its state in the state file's content (state may be "").
func jobsOf(t *testing.T, cat protocol.ConfiguredCatalog, state string) []streams.Job {
	t.Helper()
	var in *protocol.InputState
	if state != "" {
		var err error
		if in, err = protocol.ParseState("state.json", []byte(state)); err != nil {
			t.Fatal(err)
		}
	}
	var jobs []streams.Job
	for _, cs := range cat.Streams {
		s, ok := streams.Lookup(cs.Stream.Name)
		if !ok {
			t.Fatalf("no stream %q", cs.Stream.Name)
		}
		// The configured json_schema is the columns Airbyte keeps, as with read --catalog.
		job := streams.Job{Stream: s, Mode: cs.SyncMode, Desc: protocol.StreamDescriptor{Name: s.Name}, Schema: cs.Stream.JSONSchema}
		if blob, ok := in.Get(job.Desc); ok && cs.SyncMode == protocol.Incremental {
			if err := s.CheckState(blob); err != nil {
				t.Fatal(err)
			}
			job.State = blob
		}
		jobs = append(jobs, job)
	}
	return jobs
}

// expected lists the documents of a stream whose cursor lies in [from, to] (days for date
// streams, instants for time series), as the emulator serves them.
func expected(t *testing.T, ds *ouraemu.Dataset, s *streams.Stream, from, to time.Time) []string {
	t.Helper()
	return streamtest.Expected(t, ds, s, from, to)
}

func sameMultiset(t *testing.T, stream string, got, want []string) {
	t.Helper()
	g := append([]string(nil), got...)
	w := append([]string(nil), want...)
	sort.Strings(g)
	sort.Strings(w)
	if len(g) != len(w) {
		t.Errorf("%s: got %d records, want %d", stream, len(g), len(w))
	}
	seen := map[string]int{}
	for _, x := range g {
		seen[x]++
	}
	for _, x := range w {
		if seen[x] == 0 {
			t.Errorf("%s: missing %s", stream, trunc(x))
			return
		}
		seen[x]--
	}
	for x, n := range seen {
		if n > 0 {
			t.Errorf("%s: %d unexpected or duplicated records, e.g. %s", stream, n, trunc(x))
			return
		}
	}
}

func trunc(s string) string {
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}

// TestFullRefreshDeliversExactlyTheWindow: every stream returns exactly the documents whose
// cursor lies in [start_datetime, end_datetime], byte for byte as the API sent them: none
// missing, none twice, none outside. The window crosses the DST change, is longer than 30
// days (heart_rate needs several requests), and small pages force paging.
func TestFullRefreshDeliversExactlyTheWindow(t *testing.T) {
	f := newFixture(t, 90, 40)
	start := time.Date(2025, 2, 10, 0, 0, 0, 0, time.UTC)
	end := time.Date(2025, 4, 12, 23, 59, 59, 0, time.UTC)
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":%q,"end_datetime":%q}`, token, f.url, start.Format(time.RFC3339), end.Format(time.RFC3339))
	out := f.read(t, cfg, catalogOf(fullRefresh), "")
	if out.code != 0 {
		t.Fatalf("exit %d:\n%s", out.code, out.raw)
	}
	for _, s := range streams.AllStreams() {
		t.Run(s.Name, func(t *testing.T) {
			from, to := start, end
			if s.Params == streams.Dates {
				from, to = time.Date(2025, 2, 10, 0, 0, 0, 0, time.UTC), time.Date(2025, 4, 12, 0, 0, 0, 0, time.UTC)
			}
			want := expected(t, f.ds, s, from, to)
			if len(want) == 0 && s.Name != "rest_mode_periods" {
				t.Fatalf("the fixture has no %s documents in the window: the test would prove nothing", s.Name)
			}
			sameMultiset(t, s.Name, out.records[s.Name], want)
		})
	}
	// Boundary days: the first and last day of the window are there for the collections
	// whose Oura filter would have lost them.
	for _, s := range []string{"daily_activity", "daily_readiness", "sleep_periods"} {
		days := map[string]bool{}
		for _, r := range out.records[s] {
			var d struct{ Day string }
			_ = json.Unmarshal([]byte(r), &d)
			days[d.Day] = true
		}
		for _, want := range []string{"2025-02-10", "2025-04-12"} {
			if !days[want] {
				t.Errorf("%s: boundary day %s missing", s, want)
			}
		}
	}
	// heart_rate needed more than one 30-day window.
	n := 0
	for _, r := range f.srv.Requests() {
		if strings.HasSuffix(r.Path, "/heartrate") && r.Query.Get("next_token") == "" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("heart_rate: %d windows requested, want 3 for 62 days", n)
	}
}

// TestStatusAndStateSequence: per stream STARTED, RUNNING (at the first record), then
// states with recordCount, and COMPLETE last; an empty stream still gets one state.
func TestStatusAndStateSequence(t *testing.T) {
	f := newFixture(t, 40, 1000)
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-04-01T00:00:00Z","end_datetime":"2025-04-10T00:00:00Z"}`, token, f.url)
	out := f.read(t, cfg, catalogOf(incremental), "")
	if out.code != 0 {
		t.Fatalf("exit %d", out.code)
	}
	type seq struct {
		events  []string
		counted float64
		states  int
	}
	per := map[string]*seq{}
	get := func(n string) *seq {
		if per[n] == nil {
			per[n] = &seq{}
		}
		return per[n]
	}
	for _, m := range out.msgs {
		switch {
		case m.Trace != nil && m.Trace.StreamStatus != nil:
			s := get(m.Trace.StreamStatus.StreamDescriptor.Name)
			s.events = append(s.events, string(m.Trace.StreamStatus.Status))
		case m.Record != nil:
			s := get(m.Record.Stream)
			if len(s.events) == 0 || s.events[len(s.events)-1] != "RECORD" {
				s.events = append(s.events, "RECORD")
			}
		case m.State != nil:
			if m.State.Type != protocol.StateStream || m.State.SourceStats == nil {
				t.Fatalf("state without STREAM type or sourceStats: %+v", m.State)
			}
			s := get(m.State.Stream.StreamDescriptor.Name)
			s.states++
			s.counted += m.State.SourceStats.RecordCount
			if s.events[len(s.events)-1] != "STATE" {
				s.events = append(s.events, "STATE")
			}
		}
	}
	for _, st := range streams.AllStreams() {
		s := per[st.Name]
		if s == nil {
			t.Fatalf("%s: no messages", st.Name)
		}
		got := strings.Join(s.events, " ")
		n := len(out.records[st.Name])
		if n > 0 && !strings.HasPrefix(got, "STARTED RUNNING RECORD") || !strings.HasSuffix(got, "STATE COMPLETE") {
			t.Errorf("%s: sequence %q", st.Name, got)
		}
		if n == 0 && got != "STARTED STATE COMPLETE" {
			t.Errorf("%s (empty): sequence %q", st.Name, got)
		}
		if int(s.counted) != n {
			t.Errorf("%s: states count %v records, %d were sent", st.Name, s.counted, n)
		}
	}
}

func TestMissingScopeFailsOnlyThatStream(t *testing.T) {
	scopes := []string{"personal", "daily", "workout", "tag", "session", "spo2Daily", "stress", "heart_health", "ring_configuration"}
	f := newFixture(t, 20, 1000, scopes...)
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-04-10T00:00:00Z"}`, token, f.url)
	out := f.read(t, cfg, catalogOf(fullRefresh, "heart_rate", "daily_sleep", "workouts"), "")
	if out.code != 1 {
		t.Fatalf("exit %d, want 1", out.code)
	}
	var streamErr, finalErr *protocol.ErrorTrace
	status := map[string]string{}
	for _, m := range out.msgs {
		if m.Trace != nil && m.Trace.Error != nil {
			if m.Trace.Error.StreamDescriptor != nil {
				streamErr = m.Trace.Error
			} else {
				finalErr = m.Trace.Error
			}
		}
		if m.Trace != nil && m.Trace.StreamStatus != nil {
			status[m.Trace.StreamStatus.StreamDescriptor.Name] = string(m.Trace.StreamStatus.Status)
		}
	}
	if streamErr == nil || streamErr.StreamDescriptor.Name != "heart_rate" || streamErr.FailureType != protocol.ConfigError ||
		!strings.Contains(streamErr.Message, "heartrate") {
		t.Fatalf("want a config_error naming heart_rate and the scope, got %+v", streamErr)
	}
	if finalErr == nil || !strings.Contains(finalErr.Message, "heart_rate") || out.msgs[len(out.msgs)-1].Trace == nil {
		t.Fatalf("want a final error listing heart_rate as the last message, got %+v", finalErr)
	}
	if status["heart_rate"] != "INCOMPLETE" || status["daily_sleep"] != "COMPLETE" || status["workouts"] != "COMPLETE" {
		t.Fatalf("statuses %v", status)
	}
	if len(out.records["daily_sleep"]) == 0 {
		t.Fatal("the other streams must still deliver")
	}
}

func TestSandboxReadsSandboxRoutes(t *testing.T) {
	f := newFixture(t, 20, 1000)
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"sandbox":true,"start_datetime":"2025-04-10T00:00:00Z"}`, token, f.url)
	out := f.read(t, cfg, catalogOf(fullRefresh, "daily_sleep", "personal_info"), "")
	if out.code != 0 {
		t.Fatalf("exit %d\n%s", out.code, out.raw)
	}
	for _, r := range f.srv.Requests() {
		if !strings.HasPrefix(r.Path, "/v2/sandbox/usercollection/") {
			t.Fatalf("sandbox read asked %s", r.Path)
		}
	}
	if len(out.records["daily_sleep"]) == 0 || len(out.records["personal_info"]) != 0 {
		t.Fatalf("records: %d daily_sleep, %d personal_info", len(out.records["daily_sleep"]), len(out.records["personal_info"]))
	}
	warned := false
	for _, m := range out.msgs {
		if m.Log != nil && m.Log.Level == protocol.LevelWarn && strings.Contains(m.Log.Message, "sandbox") && strings.Contains(m.Log.Message, "personal_info") {
			warned = true
		}
	}
	if !warned {
		t.Fatal("want a WARN saying personal_info has no sandbox route")
	}
}

// TestInvalidRecordsAreWrittenAndCounted: a document that breaks the schema is still
// written, unchanged, and counted; a non-object element is reported and not written.
func TestInvalidRecordsAreWrittenAndCounted(t *testing.T) {
	ds := &ouraemu.Dataset{Docs: map[string][]ouraemu.Doc{"daily_sleep": {
		{ID: "a", Day: "2025-04-10", Key: time.Date(2025, 4, 10, 0, 0, 0, 0, time.UTC), JSON: []byte(`{"id":"a","day":"2025-04-10","score":"high","new_field":1}`)},
		{ID: "b", Day: "2025-04-11", Key: time.Date(2025, 4, 11, 0, 0, 0, 0, time.UTC), JSON: []byte(`{"id":"b","day":"2025-04-11","score":"low"}`)},
		{ID: "c", Day: "2025-04-11", Key: time.Date(2025, 4, 11, 0, 0, 0, 0, time.UTC), JSON: []byte(`[1,2]`)},
	}}}
	srv := ouraemu.NewServer(ouraemu.Options{Dataset: ds, Tokens: map[string][]string{token: allScopes}, Now: func() time.Time { return time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC) }})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	spec, _ := os.ReadFile(filepath.Join(protocoltest.RepoRoot(t), "spec.json"))
	f := &fixture{ds: ds, srv: srv, url: hs.URL, dir: t.TempDir(), spec: spec}
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-04-01T00:00:00Z"}`, token, f.url)
	out := f.read(t, cfg, catalogOf(fullRefresh, "daily_sleep"), "")
	if out.code != 0 {
		t.Fatalf("exit %d\n%s", out.code, out.raw)
	}
	got := out.records["daily_sleep"]
	if len(got) != 2 || got[0] != `{"id":"a","day":"2025-04-10","score":"high","new_field":1}` {
		t.Fatalf("records %v", got)
	}
	warns, summary := 0, ""
	for _, m := range out.msgs {
		if m.Log != nil && m.Log.Level == protocol.LevelWarn && strings.Contains(m.Log.Message, "/score") {
			warns++
		}
		if m.Log != nil && strings.Contains(m.Log.Message, "stream summary") {
			summary = m.Log.Message
		}
	}
	if warns != 1 {
		t.Errorf("want one WARN for the score field, got %d", warns)
	}
	if !strings.Contains(summary, "schema_warnings=2") || !strings.Contains(summary, "not_objects=1") {
		t.Errorf("summary should count 2 schema warnings and 1 non-object: %q", summary)
	}
}

// TestFailedWindowIsNamedWithoutStraySpace: a stream's error names what was being fetched as
// "fetching <path> from X to Y: ..." and, for a collection without a range, "fetching <path>: ..."
// (it read "fetching ring_configuration : fetching ...").
func TestFailedWindowIsNamedWithoutStraySpace(t *testing.T) {
	f := newFixture(t, 20, 1000, "personal") // neither the daily nor the ring_configuration scope
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2025-04-10T00:00:00Z","end_datetime":"2025-04-20"}`, token, f.url)
	out := f.read(t, cfg, catalogOf(fullRefresh, "ring_configurations", "daily_sleep"), "")
	want := map[string]string{
		"ring_configurations": "fetching ring_configuration: fetching ",
		"daily_sleep":         "fetching daily_sleep from 2025-04-10 to 2025-04-20: fetching ",
	}
	for _, m := range out.msgs {
		if m.Trace == nil || m.Trace.Error == nil || m.Trace.Error.StreamDescriptor == nil {
			continue
		}
		name := m.Trace.Error.StreamDescriptor.Name
		if w, ok := want[name]; !ok || !strings.Contains(m.Trace.Error.Message, w) || strings.Contains(m.Trace.Error.Message, " : ") {
			t.Errorf("%s: error %q; want it to hold %q and no \" : \"", name, m.Trace.Error.Message, w)
		}
		delete(want, name)
	}
	if len(want) > 0 {
		t.Errorf("no stream error for %v\n%s", want, out.raw)
	}
}
