package integrationtests

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"source-oura/internal/protocoltest"
)

// The suite decodes the connector's output into its own minimal copy of the Airbyte message
// types rather than the connector's protocol package: it checks the binary from outside, as
// the platform and the acceptance tests do.

// message is one line of connector output.
type message struct {
	Type             string            `json:"type"`
	Record           *record           `json:"record"`
	State            *stateMessage     `json:"state"`
	Trace            *trace            `json:"trace"`
	ConnectionStatus *connectionStatus `json:"connectionStatus"`
	Catalog          *catalog          `json:"catalog"`
	Spec             json.RawMessage   `json:"spec"`
	Log              *struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	} `json:"log"`
}

type record struct {
	Stream    string          `json:"stream"`
	Data      json.RawMessage `json:"data"`
	EmittedAt json.Number     `json:"emitted_at"`
}

type descriptor struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type streamState struct {
	StreamDescriptor descriptor      `json:"stream_descriptor"`
	StreamState      json.RawMessage `json:"stream_state,omitempty"`
}

type stateMessage struct {
	Type        string          `json:"type,omitempty"`
	Stream      *streamState    `json:"stream,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	SourceStats *struct {
		RecordCount *float64 `json:"recordCount"`
	} `json:"sourceStats,omitempty"`
}

type trace struct {
	Type  string `json:"type"`
	Error *struct {
		Message          string      `json:"message"`
		FailureType      string      `json:"failure_type"`
		StreamDescriptor *descriptor `json:"stream_descriptor"`
	} `json:"error"`
	StreamStatus *struct {
		StreamDescriptor descriptor `json:"stream_descriptor"`
		Status           string     `json:"status"`
	} `json:"stream_status"`
}

type connectionStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

type catalog struct {
	Streams []stream `json:"streams"`
}

type stream struct {
	Name                    string          `json:"name"`
	JSONSchema              json.RawMessage `json:"json_schema"`
	SupportedSyncModes      []string        `json:"supported_sync_modes"`
	SourceDefinedCursor     bool            `json:"source_defined_cursor,omitempty"`
	DefaultCursorField      []string        `json:"default_cursor_field,omitempty"`
	SourceDefinedPrimaryKey [][]string      `json:"source_defined_primary_key,omitempty"`
	IsResumable             bool            `json:"is_resumable,omitempty"`
}

func (s stream) supports(mode string) bool {
	for _, m := range s.SupportedSyncModes {
		if m == mode {
			return true
		}
	}
	return false
}

type configuredStream struct {
	Stream              stream     `json:"stream"`
	SyncMode            string     `json:"sync_mode"`
	DestinationSyncMode string     `json:"destination_sync_mode"`
	CursorField         []string   `json:"cursor_field,omitempty"`
	PrimaryKey          [][]string `json:"primary_key,omitempty"`
}

type configuredCatalog struct {
	Streams []configuredStream `json:"streams"`
}

// output is what one run of the connector produced.
type output struct {
	args   []string
	stdout []byte
	stderr []byte
	code   int
	msgs   []message
}

func (o *output) of(typ string) []message {
	var out []message
	for _, m := range o.msgs {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

func (o *output) records() []record {
	var out []record
	for _, m := range o.of("RECORD") {
		out = append(out, *m.Record)
	}
	return out
}

func (o *output) states() []stateMessage {
	var out []stateMessage
	for _, m := range o.of("STATE") {
		out = append(out, *m.State)
	}
	return out
}

func (o *output) errorTraces() []message {
	var out []message
	for _, m := range o.of("TRACE") {
		if m.Trace.Type == "ERROR" {
			out = append(out, m)
		}
	}
	return out
}

// describe is a short account of a run for failure messages.
func (o *output) describe() string {
	return "source-oura " + strings.Join(o.args, " ") + "\nexit " + strconv.Itoa(o.code) +
		"\nstdout:\n" + clip(string(o.stdout), 3000) + "\nstderr:\n" + clip(string(o.stderr), 2000)
}

// runConnector runs the binary with args and decodes every stdout line as an Airbyte message;
// a line that is not one fails the test, because the platform drops such lines.
func runConnector(t *testing.T, args ...string) *output {
	t.Helper()
	r := protocoltest.RunBinary(t, suite.bin, protocoltest.Run{Args: args})
	o := &output{args: args, stdout: r.Stdout, stderr: r.Stderr, code: r.Code}
	if c := protocolChecker(t); c != nil {
		c.CheckOutput(t, o.stdout)
	}
	o.msgs = protocoltest.DecodeMessages(t, o.describe(), o.stdout, func(m *message) bool { return m.Type != "" })
	return o
}

var (
	checkerOnce sync.Once
	checker     *protocoltest.Checker
)

// protocolChecker returns the checker for airbyte_protocol.yaml, or nil when ../shared is not
// beside the repository (under CI=true that fails the test). It does not skip the test then:
// every other check still applies.
func protocolChecker(t *testing.T) *protocoltest.Checker {
	if !protocoltest.HasSharedReference(t, "airbyte_protocol.yaml") {
		t.Log("not checking messages against ../shared/reference/airbyte_protocol.yaml: it is not beside the repository")
		return nil
	}
	checkerOnce.Do(func() { checker = protocoltest.NewChecker(t) })
	return checker
}

// testConfig is the connector config for the emulated account.
func testConfig() map[string]any {
	return map[string]any{
		"api_key":                token,
		"base_url":               suite.baseURL,
		"start_datetime":         syncFirst.Format(time.DateOnly) + "T00:00:00Z",
		"end_datetime":           syncLast.Format(time.DateOnly),
		"lookback_window_days":   7,
		"max_concurrent_streams": 4,
	}
}

// writeJSON writes v into a new file in the test's temp folder and returns its path.
func writeJSON(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// configFile writes testConfig, changed by edit when it is not nil.
func configFile(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	c := testConfig()
	if edit != nil {
		edit(c)
	}
	return writeJSON(t, "config.json", c)
}

// readFixture decodes a JSON file of this folder into v.
func readFixture(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

var (
	discoverOnce sync.Once
	discovered   *catalog
	discoverErr  string
)

// discover returns the catalog the connector discovers, running discover once per suite.
func discover(t *testing.T) *catalog {
	t.Helper()
	discoverOnce.Do(func() {
		o := runConnector(t, "discover", "--config", configFile(t, nil))
		cats := o.of("CATALOG")
		if o.code != 0 || len(cats) != 1 {
			discoverErr = "discover did not print exactly one catalog:\n" + o.describe()
			return
		}
		discovered = cats[0].Catalog
	})
	if discovered == nil {
		t.Fatal(discoverErr)
	}
	return discovered
}

// catalogFromDiscovery configures every discovered stream the way the acceptance tests' basic
// read does: the first supported sync mode, append, the default cursor and the source's key.
func catalogFromDiscovery(t *testing.T) configuredCatalog {
	var c configuredCatalog
	for _, s := range discover(t).Streams {
		c.Streams = append(c.Streams, configuredStream{
			Stream:              s,
			SyncMode:            s.SupportedSyncModes[0],
			DestinationSyncMode: "append",
			CursorField:         s.DefaultCursorField,
			PrimaryKey:          s.SourceDefinedPrimaryKey,
		})
	}
	return c
}

// fixtureCatalog is configured_catalog.json, with only the streams keep accepts.
func fixtureCatalog(t *testing.T, keep func(configuredStream) bool) configuredCatalog {
	t.Helper()
	var all, c configuredCatalog
	readFixture(t, "configured_catalog.json", &all)
	for _, s := range all.Streams {
		if keep == nil || keep(s) {
			c.Streams = append(c.Streams, s)
		}
	}
	return c
}

func incrementalOnly(s configuredStream) bool { return s.SyncMode == "incremental" }

// read runs a read of cat with the config file cfg and, when state is not nil, that state.
func read(t *testing.T, cfg string, cat configuredCatalog, state any) *output {
	t.Helper()
	args := []string{"read", "--config", cfg, "--catalog", writeJSON(t, "catalog.json", cat)}
	if state != nil {
		args = append(args, "--state", writeJSON(t, "state.json", state))
	}
	return runConnector(t, args...)
}

// recentDays is the length of the shorter sync range some checks use. The full range holds
// about 27,000 records, nearly all heart-rate and battery samples; checks whose point does
// not depend on how much data there is read the last three weeks instead, which keeps the
// suite fast under the race detector.
const recentDays = 21

// recentRange narrows a config to the last recentDays of the sync range.
func recentRange(c map[string]any) {
	c["start_datetime"] = syncLast.AddDate(0, 0, 1-recentDays).Format(time.DateOnly) + "T00:00:00Z"
}

// latestStates rebuilds a state input from a read's STATE messages the way the acceptance
// tests do: the last state of each stream, by name only.
func latestStates(states []stateMessage) []any {
	latest := map[string]json.RawMessage{}
	for _, s := range states {
		if s.Stream != nil {
			latest[s.Stream.StreamDescriptor.Name] = s.Stream.StreamState
		}
	}
	names := make([]string, 0, len(latest))
	for n := range latest {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []any
	for _, n := range names {
		out = append(out, map[string]any{
			"type":   "STREAM",
			"stream": map[string]any{"stream_descriptor": map[string]any{"name": n}, "stream_state": latest[n]},
		})
	}
	return out
}

// dataSet is the set of distinct record payloads, in canonical JSON, as the acceptance tests
// compare reads (order and repeats do not count).
func dataSet(t *testing.T, recs []record) map[string]bool {
	t.Helper()
	set := map[string]bool{}
	for _, r := range recs {
		set[canonical(t, r.Data)] = true
	}
	return set
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// canonical re-encodes JSON with sorted keys and numbers as written, so equal documents
// compare equal as strings.
func canonical(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	v, err := decodeJSON(raw)
	if err != nil {
		t.Fatalf("not JSON: %v: %s", err, clip(string(raw), 200))
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
