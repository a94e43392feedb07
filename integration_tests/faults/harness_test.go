// Package faults runs the built source-oura binary against the Oura API emulator while the
// emulator misbehaves (rate limits, server errors, dropped connections, cut-off bodies, a
// next_token loop, revoked tokens, missing scopes, an app too old, a restart mid-sync), and
// checks what a user gets: every document of the sync window, or a clear per-stream error
// with an exit code of 1 and a state to resume from. security_test.go checks that no secret
// leaks through any output or file, and reliability_doc_test.go keeps docs/reliability.md in
// step with these tests.
//
// The binary runs with its default retry settings (6 attempts, backoff from 1 s, Retry-After
// honoured up to 120 s), so the faults are sized to be survived in a few seconds or to fail
// at once; nothing here asserts on wall time.
package faults

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
	"source-oura/internal/streamtest"
	"source-oura/protocol"
	"source-oura/streams"
)

// binary is the connector, built once by TestMain.
var binary string

// repoRoot is the folder holding go.mod.
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(setUp(m))
}

func setUp(m *testing.M) int {
	root, err := protocoltest.FindRepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault suite:", err)
		return 1
	}
	repoRoot = root
	dir, err := os.MkdirTemp("", "source-oura-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault suite: making a scratch folder:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if binary, err = protocoltest.BuildConnector(dir); err != nil {
		fmt.Fprintln(os.Stderr, "fault suite:", err)
		return 1
	}
	return m.Run()
}

// quietLog discards a test server's own error log.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// The emulated account: 60 days of data, of which the sync window takes 41 whole days, so
// the days either side hold documents a widened request sees and the connector must drop.
var (
	dataFirst = time.Date(2025, 2, 19, 0, 0, 0, 0, time.UTC)
	dataLast  = time.Date(2025, 4, 19, 0, 0, 0, 0, time.UTC)
	syncStart = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	syncEnd   = time.Date(2025, 4, 10, 23, 59, 59, 0, time.UTC)
)

const (
	// apiKey is the emulator's static token; it grants every scope.
	apiKey = "faults-suite-static-token-5c1d"
	// pageSize is small so that a date stream takes several pages, and so several requests
	// and several checkpoints.
	pageSize = 8
	// clientID and clientSecret are the emulator's OAuth application.
	clientID     = "faults-suite-client-id"
	clientSecret = "faults-suite-client-secret-e07b"
	// runDeadline guards against a connector that never ends (a followed next_token loop):
	// far above any run's normal length, it only turns a hang into a failure.
	runDeadline = 3 * time.Minute
)

// dataset is generated once: every test serves the same account.
var dataset = sync.OnceValue(func() *ouraemu.Dataset {
	return ouraemu.Generate(ouraemu.GenOptions{Seed: 11, First: dataFirst, Last: dataLast})
})

// defaultStreams is the catalog most tests read: date collections that take several pages
// each (sleep_periods is the one whose day can differ from the instant Oura filters on),
// a small one, and the single-document personal_info.
var defaultStreams = []string{"daily_sleep", "daily_activity", "daily_readiness", "sleep_periods", "workouts", "tags", "personal_info"}

// emuOptions shapes one emulator.
type emuOptions struct {
	pageSize int
	// scopes of the static apiKey token; nil grants every scope.
	scopes []string
	// moreTokens are further static tokens and their scopes.
	moreTokens map[string][]string
	// missingScopeStatus is the emulator's answer for a missing scope (default 403).
	missingScopeStatus int
	// wrap, when set, wraps the emulator's handler (to add headers or inspect requests).
	wrap func(http.Handler) http.Handler
	// tls serves HTTPS with httptest's self-signed certificate.
	tls bool
}

// emulator is an Oura API emulator on loopback, with a hook on every request.
type emulator struct {
	srv *ouraemu.Server
	ds  *ouraemu.Dataset
	url string

	mu      sync.Mutex
	hs      *httptest.Server
	handler http.Handler

	dataRequests atomic.Int64
	// onData, when set, is called with the count after every data request (on the request's
	// goroutine).
	onData atomic.Pointer[func(n int64)]
}

func newEmulator(t *testing.T, o emuOptions) *emulator {
	t.Helper()
	if o.pageSize == 0 {
		o.pageSize = pageSize
	}
	if o.scopes == nil {
		o.scopes = ouraemu.AllScopes
	}
	tokens := map[string][]string{apiKey: o.scopes}
	for tok, scopes := range o.moreTokens {
		tokens[tok] = scopes
	}
	e := &emulator{ds: dataset()}
	e.srv = ouraemu.NewServer(ouraemu.Options{
		Dataset:            e.ds,
		PageSize:           o.pageSize,
		Tokens:             tokens,
		Clients:            map[string]string{clientID: clientSecret},
		MissingScopeStatus: o.missingScopeStatus,
		OnRequest: func(req ouraemu.Request) {
			if !strings.HasPrefix(req.Path, "/v2/") {
				return
			}
			n := e.dataRequests.Add(1)
			if f := e.onData.Load(); f != nil {
				(*f)(n)
			}
		},
	})
	e.handler = e.srv
	if o.wrap != nil {
		e.handler = o.wrap(e.srv)
	}
	hs := httptest.NewUnstartedServer(e.handler)
	// The self-signed certificate test makes the TLS server log every refused handshake.
	hs.Config.ErrorLog = quietLog()
	if o.tls {
		hs.StartTLS()
	} else {
		hs.Start()
	}
	e.hs = hs
	e.url = hs.URL
	t.Cleanup(e.close)
	return e
}

// whenData sets the hook called after every data request.
func (e *emulator) whenData(f func(n int64)) { e.onData.Store(&f) }

func (e *emulator) close() {
	e.mu.Lock()
	hs := e.hs
	e.mu.Unlock()
	if hs != nil {
		hs.Close()
	}
}

// stop shuts the emulator down as if its process were killed: the listener closes and every
// open connection with it. Requests in flight are cut off.
func (e *emulator) stop() {
	e.mu.Lock()
	hs := e.hs
	e.hs = nil
	e.mu.Unlock()
	hs.CloseClientConnections()
	hs.Close()
}

// start serves the same data again on the same address, as a restarted emulator would.
func (e *emulator) start(t *testing.T) {
	addr := strings.TrimPrefix(e.url, "http://")
	var ln net.Listener
	var err error
	for range 50 {
		// The port was ours a moment ago; the kernel may need a moment to let it go.
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("restarting the emulator on %s: %v", addr, err)
		return
	}
	hs := httptest.NewUnstartedServer(e.handler)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Config.ErrorLog = quietLog()
	hs.Start()
	e.mu.Lock()
	e.hs = hs
	e.mu.Unlock()
}

// requestsFor returns the emulator's log entries for one collection's list route.
func (e *emulator) requestsFor(collection string) []ouraemu.Request {
	var out []ouraemu.Request
	for _, r := range e.srv.Requests() {
		if r.Path == "/v2/usercollection/"+collection {
			out = append(out, r)
		}
	}
	return out
}

// faultCount counts the log entries shaped by an injected fault.
func (e *emulator) faultCount(fault string) int {
	n := 0
	for _, r := range e.srv.Requests() {
		if r.Fault == fault {
			n++
		}
	}
	return n
}

// retryAfterOn5xx adds "Retry-After: 0" to every 5xx answer, as a gateway that wants an
// immediate retry may. It lets a test exhaust the connector's six attempts without waiting
// through its default backoff (up to 31 s), which other tests exercise.
func retryAfterOn5xx(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&retryAfterWriter{ResponseWriter: w}, r)
	})
}

type retryAfterWriter struct{ http.ResponseWriter }

func (w *retryAfterWriter) WriteHeader(code int) {
	if code >= 500 {
		w.Header().Set("Retry-After", "0")
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection, which the emulator hijacks to
// drop it.
func (w *retryAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// files is a folder of input files for one test.
type files struct {
	t   *testing.T
	dir string
}

func newFiles(t *testing.T) *files { return &files{t: t, dir: t.TempDir()} }

// write writes content (a string, or any value encoded as JSON) to name with mode 0600.
func (f *files) write(name string, content any) string {
	f.t.Helper()
	var b []byte
	switch c := content.(type) {
	case string:
		b = []byte(c)
	case []byte:
		b = c
	default:
		var err error
		if b, err = json.Marshal(c); err != nil {
			f.t.Fatal(err)
		}
	}
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// apiKeyConfig is a config reading the sync window with a personal access token.
func apiKeyConfig(baseURL, token string) map[string]any {
	return map[string]any{
		"api_key":        token,
		"base_url":       baseURL,
		"start_datetime": syncStart.Format(time.RFC3339),
		"end_datetime":   syncEnd.Format(time.RFC3339),
	}
}

// oauthConfig is a config reading the sync window with OAuth credentials, pretty-printed as
// a person would keep it.
func oauthConfig(baseURL, refresh, access string, expiry time.Time) string {
	extra := ""
	if access != "" {
		extra = fmt.Sprintf(",\n    \"access_token\": %q,\n    \"token_expiry_date\": %q", access, expiry.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf(`{
  "credentials": {
    "auth_type": "oauth2.0",
    "client_id": %q,
    "client_secret": %q,
    "refresh_token": %q%s
  },
  "base_url": %q,
  "start_datetime": %q,
  "end_datetime": %q
}
`, clientID, clientSecret, refresh, extra, baseURL, syncStart.Format(time.RFC3339), syncEnd.Format(time.RFC3339))
}

// catalog configures the named streams, incrementally where the stream allows it when
// incremental is true, else as full refresh.
func catalog(t *testing.T, incremental bool, names ...string) protocol.ConfiguredCatalog {
	t.Helper()
	var c protocol.ConfiguredCatalog
	for _, name := range names {
		s, ok := streams.Lookup(name)
		if !ok {
			t.Fatalf("no stream %q", name)
		}
		mode, dest := protocol.FullRefresh, protocol.Overwrite
		if incremental && s.Incremental() {
			mode, dest = protocol.Incremental, protocol.Append
		}
		c.Streams = append(c.Streams, protocol.ConfiguredStream{
			Stream:   protocol.Stream{Name: name, JSONSchema: json.RawMessage(`{}`), SupportedSyncModes: []protocol.SyncMode{mode}},
			SyncMode: mode, DestinationSyncMode: dest,
		})
	}
	return c
}

// result is one run of the binary.
type result struct {
	argv   []string
	code   int
	stdout []byte
	stderr string
	msgs   []protocol.Message
}

// invocation is how to run the binary.
type invocation struct {
	args  []string
	stdin string
	// env is added to the test process's environment.
	env []string
}

// run runs the binary with args and checks what every run must satisfy: stdout holds only
// Airbyte messages, neither stream holds a panic or a stack trace, and a read that exits 0
// has no error trace and no unfinished stream.
func run(t *testing.T, args ...string) result {
	t.Helper()
	return runWith(t, invocation{args: args})
}

func runWith(t *testing.T, inv invocation) result {
	t.Helper()
	o := protocoltest.RunBinary(t, binary, protocoltest.Run{Args: inv.args, Stdin: inv.stdin, Env: inv.env, Timeout: runDeadline})
	r := result{argv: inv.args, code: o.Code, stdout: o.Stdout, stderr: string(o.Stderr)}
	r.decode(t)
	r.checkInvariants(t)
	return r
}

func (r *result) decode(t *testing.T) {
	t.Helper()
	r.msgs = protocoltest.DecodeMessages(t, fmt.Sprint(r.argv), r.stdout, func(m *protocol.Message) bool { return m.Type != "" })
}

func (r *result) checkInvariants(t *testing.T) {
	t.Helper()
	for _, s := range []string{string(r.stdout), r.stderr} {
		for _, bad := range []string{"panic:", "goroutine ", "runtime error"} {
			if strings.Contains(s, bad) {
				t.Errorf("%v: %q in the output, a crash or stack trace:\n%s", r.argv, bad, s)
			}
		}
	}
	for _, m := range r.msgs {
		if m.Trace != nil && m.Trace.Error != nil && m.Trace.Error.StackTrace != "" {
			t.Errorf("%v: an error trace carries a stack trace: %+v", r.argv, m.Trace.Error)
		}
	}
	// check may exit 0 with a config_error trace beside its FAILED status (the README's exit
	// code table); for a read, exit 0 promises that everything arrived.
	if r.code == 0 && slices.Contains(r.argv, "read") {
		if errs := r.errors(); len(errs) > 0 {
			t.Errorf("%v: exit 0 with an error trace: %+v", r.argv, errs[0])
		}
		for name, st := range r.statuses() {
			if st != protocol.Complete {
				t.Errorf("%v: exit 0 but stream %s ended %s", r.argv, name, st)
			}
		}
	}
}

// errors returns every error trace.
func (r *result) errors() []*protocol.ErrorTrace {
	var out []*protocol.ErrorTrace
	for _, m := range r.msgs {
		if m.Trace != nil && m.Trace.Error != nil {
			out = append(out, m.Trace.Error)
		}
	}
	return out
}

// streamErrors returns the error traces naming stream.
func (r *result) streamErrors(stream string) []*protocol.ErrorTrace {
	var out []*protocol.ErrorTrace
	for _, e := range r.errors() {
		if e.StreamDescriptor != nil && e.StreamDescriptor.Name == stream {
			out = append(out, e)
		}
	}
	return out
}

// statuses maps each stream to the last status it reported.
func (r *result) statuses() map[string]protocol.StreamStatusValue {
	out := map[string]protocol.StreamStatusValue{}
	for _, m := range r.msgs {
		if m.Trace != nil && m.Trace.StreamStatus != nil {
			out[m.Trace.StreamStatus.StreamDescriptor.Name] = m.Trace.StreamStatus.Status
		}
	}
	return out
}

// records returns the record data of each stream, in order.
func (r *result) records() map[string][]string {
	out := map[string][]string{}
	for _, m := range r.msgs {
		if m.Record != nil {
			out[m.Record.Stream] = append(out[m.Record.Stream], string(m.Record.Data))
		}
	}
	return out
}

// controls returns the configs carried by CONNECTOR_CONFIG control messages.
func (r *result) controls() []json.RawMessage {
	var out []json.RawMessage
	for _, m := range r.msgs {
		if m.Control != nil && m.Control.ConnectorConfig != nil {
			out = append(out, m.Control.ConnectorConfig.Config)
		}
	}
	return out
}

// logs returns the messages of the LOG messages at level.
func (r *result) logs(level protocol.Level) []string {
	var out []string
	for _, m := range r.msgs {
		if m.Log != nil && m.Log.Level == level {
			out = append(out, m.Log.Message)
		}
	}
	return out
}

// stateFile is the last state of every stream, in the array form the platform passes back.
func (r *result) stateFile(t *testing.T) []protocol.StateMessage {
	t.Helper()
	last := map[string]protocol.StateMessage{}
	var order []string
	for _, m := range r.msgs {
		if m.State == nil || m.State.Stream == nil {
			continue
		}
		name := m.State.Stream.StreamDescriptor.Name
		if _, ok := last[name]; !ok {
			order = append(order, name)
		}
		st := *m.State
		st.SourceStats = nil
		last[name] = st
	}
	out := make([]protocol.StateMessage, 0, len(order))
	for _, name := range order {
		out = append(out, last[name])
	}
	return out
}

// expected lists the documents of stream whose cursor lies in the sync window, as the
// emulator serves them: whole UTC days for date collections, instants for time series.
func expected(t *testing.T, ds *ouraemu.Dataset, name string) []string {
	t.Helper()
	s, ok := streams.Lookup(name)
	if !ok {
		t.Fatalf("no stream %q", name)
	}
	out := streamtest.Expected(t, ds, s, syncStart, syncEnd)
	if len(out) == 0 {
		t.Fatalf("the dataset has no %s documents in the window: the test would prove nothing", name)
	}
	return out
}

// exactlyOnce fails unless got holds each wanted document once and nothing else.
func exactlyOnce(t *testing.T, stream string, got, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	missing, twice := 0, 0
	for _, w := range want {
		switch count[w] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
		delete(count, w)
	}
	if missing > 0 || twice > 0 || len(count) > 0 {
		t.Errorf("%s: %d records for %d documents: %d missing, %d sent more than once, %d not in the window",
			stream, len(got), len(want), missing, twice, len(count))
	}
}

// atLeastOnce fails unless got holds every wanted document and nothing outside the window.
func atLeastOnce(t *testing.T, stream string, got, want []string) {
	t.Helper()
	have := map[string]bool{}
	for _, g := range got {
		have[g] = true
	}
	missing := 0
	for _, w := range want {
		if !have[w] {
			missing++
		}
		delete(have, w)
	}
	if missing > 0 || len(have) > 0 {
		t.Errorf("%s: %d of %d documents missing, %d records not in the window", stream, missing, len(want), len(have))
	}
}

// completeAndExact checks that every stream of names finished and delivered exactly the
// window.
func completeAndExact(t *testing.T, r result, names ...string) {
	t.Helper()
	st := r.statuses()
	recs := r.records()
	for _, name := range names {
		if st[name] != protocol.Complete {
			t.Errorf("stream %s ended %q, want COMPLETE; its errors: %s", name, st[name], traceText(r.streamErrors(name)))
			continue
		}
		exactlyOnce(t, name, recs[name], expected(t, dataset(), name))
	}
}

// onlyStreamFailed checks that stream failed clearly (failedClearly) and every other default
// stream finished with exactly the documents of the window: one stream's failure costs no other.
func onlyStreamFailed(t *testing.T, r result, stream string, ft protocol.FailureType, phrases ...string) {
	t.Helper()
	failedClearly(t, r, stream, ft, phrases...)
	completeAndExact(t, r, without(defaultStreams, stream)...)
}

// failedClearly checks that stream failed the way a user can act on: exit 1, an error
// trace naming the stream with the failure type and every phrase of advice, INCOMPLETE as
// its last status, and a final error trace listing it.
func failedClearly(t *testing.T, r result, stream string, ft protocol.FailureType, phrases ...string) {
	t.Helper()
	if r.code != 1 {
		t.Errorf("exit %d, want 1 when %s fails", r.code, stream)
	}
	errs := r.streamErrors(stream)
	if len(errs) != 1 {
		t.Fatalf("%d error traces name %s, want 1; all errors: %s", len(errs), stream, traceText(r.errors()))
	}
	e := errs[0]
	if e.FailureType != ft {
		t.Errorf("%s failed with %s, want %s: %s", stream, e.FailureType, ft, e.Message)
	}
	if !strings.Contains(e.Message, stream) {
		t.Errorf("the error does not name the stream %s: %s", stream, e.Message)
	}
	for _, p := range phrases {
		if !strings.Contains(e.Message, p) {
			t.Errorf("the error for %s lacks %q: %s", stream, p, e.Message)
		}
	}
	if st := r.statuses()[stream]; st != protocol.Incomplete {
		t.Errorf("stream %s ended %q, want INCOMPLETE", stream, st)
	}
	all := r.errors()
	if last := all[len(all)-1]; last.StreamDescriptor != nil || !strings.Contains(last.Message, stream) {
		t.Errorf("the last message is not a sync-level error listing %s: %+v", stream, last)
	} else if last.FailureType != ft {
		// One failed stream: the sync-level error carries its type, so the platform retries
		// a transient failure and asks the user to fix a config one.
		t.Errorf("the sync-level error is %s, want %s like the stream's", last.FailureType, ft)
	}
}

func traceText(errs []*protocol.ErrorTrace) string {
	var parts []string
	for _, e := range errs {
		parts = append(parts, fmt.Sprintf("[%s] %s", e.FailureType, e.Message))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "\n")
}

// readArgs writes config and catalog (and state, when not nil) and returns the read command.
func readArgs(f *files, config any, cat protocol.ConfiguredCatalog, state any) []string {
	args := []string{"read", "--config", f.write("config.json", config), "--catalog", f.write("catalog.json", cat)}
	if state != nil {
		args = append(args, "--state", f.write("state.json", state))
	}
	return args
}

// statusesOf lists the HTTP statuses of log entries, in order.
func statusesOf(reqs []ouraemu.Request) []int {
	out := make([]int, len(reqs))
	for i, r := range reqs {
		out[i] = r.Status
	}
	return out
}

// distinct returns the sorted distinct values of xs.
func distinct(xs []int) []int {
	out := slices.Clone(xs)
	sort.Ints(out)
	return slices.Compact(out)
}
