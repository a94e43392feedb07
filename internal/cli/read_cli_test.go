package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"source-oura/internal/oura"
	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
	"source-oura/protocol"
	"source-oura/streams"
)

// statuses maps each stream to the statuses it went through, in order.
func statuses(r result) map[string][]protocol.StreamStatusValue {
	out := map[string][]protocol.StreamStatusValue{}
	for _, m := range r.ofType(protocol.TypeTrace) {
		if s := m.Trace.StreamStatus; s != nil {
			out[s.StreamDescriptor.Name] = append(out[s.StreamDescriptor.Name], s.Status)
		}
	}
	return out
}

// noCursor marks the state of a stream read in full.
const noCursor = "__ab_no_cursor_state_message"

// stateCursors maps each stream to the last state it wrote.
func stateCursors(r result) map[string]string {
	out := map[string]string{}
	for _, m := range r.ofType(protocol.TypeState) {
		if m.State.Stream != nil {
			out[m.State.Stream.StreamDescriptor.Name] = string(m.State.Stream.StreamState)
		}
	}
	return out
}

func infoWith(r result, text string) []string {
	var out []string
	for _, l := range logsAt(r, protocol.LevelInfo) {
		if strings.Contains(l, text) {
			out = append(out, l)
		}
	}
	return out
}

// TestReadWithoutCatalogReadsEveryStream: read with no --catalog syncs all 19 streams, incremental
// where the stream has a cursor (the state file is honoured) and says so in one INFO line.
func TestReadWithoutCatalogReadsEveryStream(t *testing.T) {
	srv, url := emulator(t)
	state := writeJSON(t, "state.json", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"2024-06-01","v":1}}}]`)
	r := runCLI(t, "read", "--config", configFor(t, url, testToken), "--state", state)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	st := statuses(r)
	for _, name := range streams.Names() {
		if got := st[name]; len(got) == 0 || got[len(got)-1] != protocol.Complete {
			t.Errorf("stream %s: statuses %v, want it read to COMPLETE", name, got)
		}
	}
	lines := infoWith(r, "no --catalog given")
	if len(lines) != 1 || !strings.Contains(lines[0], "incremental + append_dedup for daily_activity") ||
		!strings.Contains(lines[0], "full_refresh + overwrite for ring_configurations, personal_info") {
		t.Fatalf("want one INFO line naming the chosen modes, got %q", lines)
	}
	// daily_sleep resumed from its state: the lookback-widened start is before the saved day,
	// not start_datetime (2024-01-01).
	for _, req := range srv.Requests() {
		if strings.HasSuffix(req.Path, "/daily_sleep") && !strings.HasPrefix(req.Query.Get("start_date"), "2024-05") {
			t.Errorf("daily_sleep asked from %s, want a start near the saved cursor 2024-06-01", req.Query.Get("start_date"))
		}
	}
	states := stateCursors(r)
	if s := states["daily_activity"]; s == "" || strings.Contains(s, noCursor) {
		t.Errorf("daily_activity should run incrementally, got state %q", s)
	}
	if s := states["personal_info"]; !strings.Contains(s, noCursor) {
		t.Errorf("personal_info should run in full, got state %q", s)
	}
}

// TestReadTakesTheCatalogFromDiscover: the output of discover, as is, or its bare catalog, is a
// catalog file: streams run incrementally where they can, with one INFO line saying so.
func TestReadTakesTheCatalogFromDiscover(t *testing.T) {
	_, url := emulator(t)
	cfg := configFor(t, url, testToken)
	disc := runCLI(t, "discover", "--config", cfg)
	if disc.code != ExitOK {
		t.Fatalf("discover: %s", disc.stdout)
	}
	// A log line before the catalog, as discover prints for a config with an unknown key.
	raw := `{"type":"LOG","log":{"level":"WARN","message":"config file has keys this connector does not know"}}` + "\n" + string(disc.stdout)
	bare := `{"streams":[{"name":"daily_sleep","json_schema":{}},{"name":"ring_configurations","json_schema":{}}]}`
	for name, doc := range map[string]string{"discover output": raw, "bare catalog": bare} {
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, "read", "--config", cfg, "--catalog", writeJSON(t, "catalog.json", doc))
			if r.code != ExitOK {
				t.Fatalf("exit %d:\n%s", r.code, r.stdout)
			}
			if len(infoWith(r, "is a catalog from discover")) != 1 {
				t.Errorf("want one INFO line about the chosen modes, got %q", logsAt(r, protocol.LevelInfo))
			}
			states := stateCursors(r)
			if s := states["daily_sleep"]; s == "" || strings.Contains(s, noCursor) {
				t.Errorf("daily_sleep should run incrementally, state %q", s)
			}
			if s := states["ring_configurations"]; !strings.Contains(s, noCursor) {
				t.Errorf("ring_configurations should run in full, state %q", s)
			}
			if st := statuses(r)["ring_configurations"]; len(st) == 0 || st[len(st)-1] != protocol.Complete {
				t.Errorf("ring_configurations: %v", st)
			}
		})
	}
}

// TestReadCatalogOfAnotherShape: a config file passed as the catalog gets one config error that
// says what it looked like and what to pass.
func TestReadCatalogOfAnotherShape(t *testing.T) {
	_, url := emulator(t)
	cfg := configFor(t, url, testToken)
	r := runCLI(t, "read", "--config", cfg, "--catalog", cfg)
	errs := r.errors()
	if r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError {
		t.Fatalf("code %d errors %+v", r.code, errs)
	}
	for _, want := range []string{`"api_key"`, `no "streams"`, "output of discover", "leave out --catalog"} {
		if !strings.Contains(errs[0].Message, want) {
			t.Errorf("want %q in %q", want, errs[0].Message)
		}
	}
}

// TestStateForOtherStreamsIsWarned: a state file naming streams the catalog does not select gets
// one WARN naming them; the selected stream's state is still used.
func TestStateForOtherStreamsIsWarned(t *testing.T) {
	_, url := emulator(t)
	catalog := writeJSON(t, "catalog.json", `{"streams":[{"stream":{"name":"daily_sleep","json_schema":{}},"sync_mode":"incremental","destination_sync_mode":"append"}]}`)
	state := writeJSON(t, "state.json", `[
	 {"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"2024-06-01","v":1}}},
	 {"type":"STREAM","stream":{"stream_descriptor":{"name":"issues","namespace":"github"},"stream_state":{"updated_at":"x"}}},
	 {"type":"STREAM","stream":{"stream_descriptor":{"name":"heart_rate"},"stream_state":{"cursor":"2024-06-01T00:00:00Z","v":1}}}]`)
	r := runCLI(t, "read", "--config", configFor(t, url, testToken), "--catalog", catalog, "--state", state)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	var warns []string
	for _, w := range logsAt(r, protocol.LevelWarn) {
		if strings.Contains(w, "state file") {
			warns = append(warns, w)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], `"github.issues"`) || !strings.Contains(warns[0], `"heart_rate"`) ||
		strings.Contains(warns[0], `"daily_sleep"`) {
		t.Fatalf("want one WARN naming github.issues and heart_rate only, got %q", warns)
	}
	// With every stream in the state selected, nothing is said.
	r = runCLI(t, "read", "--config", configFor(t, url, testToken), "--catalog", catalog,
		"--state", writeJSON(t, "s.json", `{"daily_sleep":{"cursor":"2024-06-01","v":1}}`))
	for _, w := range logsAt(r, protocol.LevelWarn) {
		if strings.Contains(w, "state file") {
			t.Fatalf("unexpected WARN %q", w)
		}
	}
}

// TestBadTokenEndsTheSyncWithOneError: with a token Oura rejects, whatever the catalog (here
// without personal_info), the first stream's 401 stops the sync: the streams after it end
// INCOMPLETE without a request, and the sync ends with one config_error that says what to do.
func TestBadTokenEndsTheSyncWithOneError(t *testing.T) {
	srv, url := emulator(t)
	cfg := writeJSON(t, "config.json", `{"api_key":"wrong-token","base_url":"`+url+`","start_datetime":"2024-01-01T00:00:00Z","max_concurrent_streams":1}`)
	catalog := writeJSON(t, "catalog.json", `{"streams":[`+
		`{"stream":{"name":"daily_sleep","json_schema":{}},"sync_mode":"incremental","destination_sync_mode":"append"},`+
		`{"stream":{"name":"heart_rate","json_schema":{}},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"},`+
		`{"stream":{"name":"workouts","json_schema":{}},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)
	srv.ResetRequests()
	r := runCLI(t, "read", "--config", cfg, "--catalog", catalog)
	if r.code != ExitFailure {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	for _, req := range srv.Requests() {
		if strings.HasSuffix(req.Path, "/heartrate") || strings.HasSuffix(req.Path, "/workout") {
			t.Errorf("a stream after the rejected token was still attempted: %s", req.Path)
		}
	}
	st := statuses(r)
	for _, name := range []string{"heart_rate", "workouts"} {
		if got := st[name]; len(got) != 1 || got[0] != protocol.Incomplete {
			t.Errorf("%s: statuses %v, want only INCOMPLETE", name, got)
		}
	}
	errs := r.errors()
	last := errs[len(errs)-1]
	if last.FailureType != protocol.ConfigError || !strings.Contains(last.Message, "rejected") ||
		!strings.Contains(last.Message, "heart_rate, workouts") {
		t.Fatalf("want the sync to end with a config_error about the token naming the streams not synced, got %+v", last)
	}
	for _, e := range errs[:len(errs)-1] {
		if e.StreamDescriptor == nil || e.StreamDescriptor.Name != "daily_sleep" {
			t.Errorf("only the stream that met the 401 has an error of its own, got %+v", e)
		}
	}
}

// emulatorWithID serves ten days of a generated person whose personal_info id is id.
func emulatorWithID(t *testing.T, id string) string {
	t.Helper()
	first := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 1, First: first, Last: first.AddDate(0, 0, 9)})
	quoted, _ := json.Marshal(id) // control characters escaped, as Oura's JSON would have them
	ds.PersonalInfo = []byte(`{"id":` + string(quoted) + `,"age":40}`)
	hs := httptest.NewServer(ouraemu.NewServer(ouraemu.Options{Dataset: ds, Tokens: map[string][]string{tokA: ouraemu.AllScopes}}))
	t.Cleanup(hs.Close)
	return hs.URL
}

// TestUnusableAccountIDIsRefused: a personal_info id of 1 MiB, or one with control characters,
// is never written into records nor logged. With account_column on and no label the read stops
// before any record with one short config_error that says Oura sent an unusable user id and
// that account_column.label avoids it; with account_column off the sync goes on without logging
// the id. A UUID-like id, the control, is written into every record.
func TestUnusableAccountIDIsRefused(t *testing.T) {
	catalog := writeJSON(t, "catalog.json", `{"streams":[{"name":"daily_sleep","json_schema":{}}]}`)
	const lineBound = 8 << 10
	for _, tc := range []struct {
		name, id string
		usable   bool
	}{
		{"UUID-like", "6c1e6b4e-2f0a-4c1e-9d8e-1a2b3c4d5e6f", true},
		{"1 MiB", strings.Repeat("a", 1<<20), false},
		{"control characters", "user-1\n\x1b[2Jfake log line", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := emulatorWithID(t, tc.id)
			records, _, r := readLines(t, "--config", accountConfig(t, url, tokA, `{"enabled":true}`), "--catalog", catalog)
			for _, l := range bytes.Split(r.stdout, []byte("\n")) {
				if len(l) > lineBound {
					t.Errorf("a %d-byte line on stdout: %.200s…", len(l), l)
				}
			}
			if tc.usable {
				if r.code != ExitOK || len(records["daily_sleep"]) == 0 {
					t.Fatalf("exit %d, %d records\n%s", r.code, len(records["daily_sleep"]), r.stdout)
				}
				for _, l := range records["daily_sleep"] {
					if !strings.Contains(l, `"data":{"oura_account":"`+tc.id+`",`) {
						t.Fatalf("record without the id: %s", l)
					}
				}
				return
			}
			errs := r.errors()
			if r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError ||
				!strings.Contains(errs[0].Message, "Oura sent an unusable user id") ||
				!strings.Contains(errs[0].Message, "set account_column.label") || strings.Contains(errs[0].Message, "personal scope") ||
				strings.ContainsAny(errs[0].Message, "\n\x1b") || len(errs[0].Message) > 512 {
				var msgs []string
				for _, e := range errs {
					msgs = append(msgs, string(e.FailureType)+": "+protocol.Cut(e.Message, 300))
				}
				t.Fatalf("exit %d, errors %q", r.code, msgs)
			}
			if n := recordCount(r); n != 0 {
				t.Errorf("%d records written with an unusable id", n)
			}
			t.Logf("error (%d bytes): %s", len(errs[0].Message), errs[0].Message)

			// Off: the sync goes on, and the id is not logged.
			records, _, r = readLines(t, "--config", accountConfig(t, url, tokA, `{"enabled":false}`), "--catalog", catalog)
			if r.code != ExitOK || len(records["daily_sleep"]) == 0 || bytes.Contains(r.stdout, []byte("account_id=")) ||
				bytes.Contains(r.stdout, []byte("oura_account")) {
				t.Fatalf("account_column off: exit %d, %d records\n%.2000s", r.code, len(records["daily_sleep"]), r.stdout)
			}
			if len(r.stdout) > 1<<20 {
				t.Errorf("%d KiB on stdout for ten days of daily_sleep", len(r.stdout)>>10)
			}
		})
	}
}

// TestAccountLookupFailureIsReported: when personal_info cannot be read because Oura fails (not
// because the token lacks the personal scope), a read that does not need the id says so in one
// WARN and syncs; one that needs it (account_column without a label) stops with a transient error
// that says to try again, not to grant a scope the token already has. A token without the personal
// scope, which is a choice, gets no WARN.
func TestAccountLookupFailureIsReported(t *testing.T) {
	srv, url, _, _ := twoAccounts(t)
	srv.SetFaults(ouraemu.Faults{OnlyPaths: []string{"personal_info"}, ServerErrorEvery: 1})
	catalog := writeJSON(t, "catalog.json", `{"streams":[{"name":"daily_sleep","json_schema":{}}]}`)
	fast := Env{Now: pinned, Client: func(c *oura.Config) { c.MinBackoff = time.Millisecond; c.MaxBackoff = 5 * time.Millisecond }}
	const warning = "could not read the Oura account id from personal_info, so it is not logged; the sync goes on"
	warnings := func(r result) (n int) {
		for _, m := range r.ofType(protocol.TypeLog) {
			if m.Log.Level == protocol.LevelWarn && strings.Contains(m.Log.Message, warning) {
				n++
			}
		}
		return n
	}

	r := runEnv(t, fast, "read", "--config", accountConfig(t, url, tokA, ""), "--catalog", catalog)
	if r.code != ExitOK || len(r.ofType(protocol.TypeRecord)) == 0 || warnings(r) != 1 {
		t.Errorf("account_column off, personal_info down: exit %d, %d records, %d WARNs; want 0, some, 1\n%s",
			r.code, len(r.ofType(protocol.TypeRecord)), warnings(r), r.stdout)
	}

	r = runEnv(t, fast, "read", "--config", accountConfig(t, url, tokA, `{"enabled":true}`), "--catalog", catalog)
	errs := r.errors()
	if r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.TransientError ||
		!strings.Contains(errs[0].Message, "try again later, or set account_column.label") ||
		strings.Contains(errs[0].Message, "personal scope") {
		t.Errorf("account_column on, personal_info down: exit %d, errors %+v", r.code, errs)
	}

	srv.SetFaults(ouraemu.Faults{})
	r = runEnv(t, fast, "read", "--config", accountConfig(t, url, tokNoPersonal, ""), "--catalog", catalog)
	if r.code != ExitOK || warnings(r) != 0 {
		t.Errorf("a token without the personal scope: exit %d, %d WARNs; want 0 and none", r.code, warnings(r))
	}
}

// stateCatalog selects daily_sleep, incremental.
const stateCatalog = `{"streams":[{"stream":{"name":"daily_sleep","json_schema":{}},"sync_mode":"incremental","destination_sync_mode":"append"}]}`

// TestEmptyStateFileReadsFromStartWithAWarn: an empty or blank state file is no state (Airbyte's
// acceptance tests may pass one), but by hand it is likely a mistake, so one WARN names the file
// and says the incremental streams start from start_datetime.
func TestEmptyStateFileReadsFromStartWithAWarn(t *testing.T) {
	srv, url := emulator(t)
	for _, content := range []string{"", " \n\t\n", "\ufeff\n"} {
		state := writeJSON(t, "state.json", content)
		r := runCLI(t, "read", "--config", configFor(t, url, testToken), "--catalog", writeJSON(t, "c.json", stateCatalog), "--state", state)
		if r.code != ExitOK {
			t.Fatalf("%q: exit %d:\n%s", content, r.code, r.stdout)
		}
		want := "state file " + state + " is empty: no stream has state, so the incremental streams read from start_datetime"
		if w := r.warnings(); len(w) != 1 || w[0] != want {
			t.Errorf("%q: WARN lines %q, want %q", content, w, want)
		}
	}
	for _, req := range srv.Requests() {
		if strings.HasSuffix(req.Path, "/daily_sleep") && req.Query.Get("start_date") > "2024-01-01" {
			t.Errorf("daily_sleep asked from %s, want start_datetime (2024-01-01) less a day", req.Query.Get("start_date"))
		}
	}
	// An explicit empty state says nothing: it was meant.
	r := runCLI(t, "read", "--config", configFor(t, url, testToken), "--catalog", writeJSON(t, "c.json", stateCatalog), "--state", writeJSON(t, "s.json", "[]"))
	if r.code != ExitOK || len(r.warnings()) != 0 {
		t.Errorf("[]: exit %d, WARN %q", r.code, r.warnings())
	}
}

// TestWrongStateFilesAreConfigErrors: the config file passed as --state, and a state naming one
// stream twice with different cursors, stop the read with one config_error before any request.
func TestWrongStateFilesAreConfigErrors(t *testing.T) {
	srv, url := emulator(t)
	cfg := configFor(t, url, testToken)
	dup := writeJSON(t, "dup.json", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_activity"},"stream_state":{"cursor":"2026-11-20","v":1}}},
	 {"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_activity"},"stream_state":{"cursor":"2026-10-05","v":1}}}]`)
	creds := writeJSON(t, "oauth.json", `{"credentials":{"auth_type":"oauth2.0","client_id":"a","client_secret":"b","refresh_token":"c"},"sandbox":false}`)
	for _, c := range []struct{ state, want string }{
		{cfg, "state file " + cfg + ": looks like a config file (it has api_key, base_url, start_datetime), not a state; pass the STATE messages a read wrote"},
		{creds, "state file " + creds + ": looks like a config file (it has credentials, sandbox), not a state; pass the STATE messages a read wrote"},
		{dup, "state file " + dup + `: names stream "daily_activity" twice, in entries 0 and 1, with different states; keep one entry per stream (the last state a read wrote for it)`},
	} {
		r := runCLI(t, "read", "--config", cfg, "--state", c.state)
		errs := r.errors()
		if r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError || errs[0].Message != c.want {
			t.Errorf("--state %s: exit %d, stdout\n%s\nwant exit 1 and one config_error %q", c.state, r.code, r.stdout, c.want)
		}
		if n := len(r.ofType(protocol.TypeState)); n != 0 {
			t.Errorf("--state %s: %d STATE messages written, want none", c.state, n)
		}
	}
	for _, req := range srv.Requests() {
		if strings.Contains(req.Path, "/usercollection/daily_") {
			t.Errorf("a refused state file still let the read ask for %s", req.Path)
		}
	}
}

// TestReadOutputIsAcceptedAsState: what `read > out.jsonl` printed, passed as --state, resumes from
// its last STATE of each stream (as --catalog takes discover's output), with one INFO line.
func TestReadOutputIsAcceptedAsState(t *testing.T) {
	srv, url := emulator(t)
	cfg, catalog := configFor(t, url, testToken), writeJSON(t, "c.json", stateCatalog)
	first := runCLI(t, "read", "--config", cfg, "--catalog", catalog,
		"--state", writeJSON(t, "s.json", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"2024-06-01","v":1}}}]`))
	if first.code != ExitOK || len(first.ofType(protocol.TypeState)) == 0 {
		t.Fatalf("first read: exit %d:\n%s", first.code, first.stdout)
	}
	// The last STATE of the stream is the one to resume from: append one with a newer cursor.
	out := string(first.stdout) + `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"2024-08-10","v":1}},"sourceStats":{"recordCount":0.0}}}` + "\n"
	path := writeJSON(t, "out.jsonl", out)
	before := len(srv.Requests())
	r := runCLI(t, "read", "--config", cfg, "--catalog", catalog, "--state", path)
	if r.code != ExitOK {
		t.Fatalf("read with a read's output as state: exit %d:\n%s", r.code, r.stdout)
	}
	lines := infoWith(r, "state file "+path+" is the output of a read")
	if len(lines) != 1 || !strings.Contains(lines[0], "using the last STATE message of each stream (streams with state: 1, STATE messages: ") {
		t.Errorf("want one INFO line saying the read's output is used, got %q", lines)
	}
	for _, req := range srv.Requests()[before:] {
		if strings.HasSuffix(req.Path, "/daily_sleep") && !strings.HasPrefix(req.Query.Get("start_date"), "2024-08") {
			t.Errorf("daily_sleep asked from %s, want a start near the last cursor 2024-08-10", req.Query.Get("start_date"))
		}
	}
	// A line that is not JSON is still an error naming the line.
	bad := writeJSON(t, "bad.jsonl", out+"source-oura: killed\n")
	r = runCLI(t, "read", "--config", cfg, "--catalog", catalog, "--state", bad)
	n := strings.Count(out, "\n") + 1
	if errs := r.errors(); r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError ||
		!strings.HasPrefix(errs[0].Message, "state file "+bad+": line "+strconv.Itoa(n)+" is not JSON") {
		t.Errorf("a bad line: exit %d, errors %+v; want a config_error naming line %d", r.code, errs, n)
	}
}

// TestFutureStateCursorIsWarned: a saved cursor years ahead makes every read fetch nothing and write
// the same state back; a WARN names the stream and the cursor, and says what to do.
func TestFutureStateCursorIsWarned(t *testing.T) {
	_, url := emulator(t)
	state := writeJSON(t, "future.json", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_activity"},"stream_state":{"cursor":"2099-01-01","v":1}}},
	 {"type":"STREAM","stream":{"stream_descriptor":{"name":"heart_rate"},"stream_state":{"cursor":"2099-01-01T00:00:00Z","v":1}}},
	 {"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"2024-06-01","v":1}}}]`)
	r := runCLI(t, "read", "--config", configFor(t, url, testToken), "--state", state)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	want := []string{
		"state for daily_activity holds cursor 2099-01-01, after today: nothing newer is read until then; reset the stream in Airbyte if this is wrong (state file " + state + ")",
		"state for heart_rate holds cursor 2099-01-01T00:00:00Z, after today: nothing newer is read until then; reset the stream in Airbyte if this is wrong (state file " + state + ")",
	}
	var got []string
	for _, w := range r.warnings() {
		if strings.Contains(w, "after today") {
			got = append(got, w)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("WARN lines\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStateCursorAfterEndIsWarned: a saved cursor after end_datetime makes the read fetch nothing
// for that stream and exit 0; a WARN names the stream, the cursor and end_datetime, and says what
// to do. A stream whose cursor lies before the end gets none.
func TestStateCursorAfterEndIsWarned(t *testing.T) {
	_, url := emulator(t)
	config := writeJSON(t, "config.json", `{"api_key":"`+testToken+`","base_url":"`+url+`","start_datetime":"2026-10-01","end_datetime":"2026-11-10"}`)
	state := writeJSON(t, "state.json", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"2026-11-25","v":1}}},
	 {"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_activity"},"stream_state":{"cursor":"2026-11-01","v":1}}}]`)
	r := runCLI(t, "read", "--config", config, "--state", state)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	want := "state for daily_sleep holds cursor 2026-11-25, after end_datetime 2026-11-10 in config file " + config +
		": nothing is read (state file " + state + "); move end_datetime later, or reset the stream in Airbyte if the cursor is wrong"
	var got []string
	for _, w := range r.warnings() {
		if strings.Contains(w, "end_datetime") {
			got = append(got, w)
		}
	}
	if len(got) != 1 || got[0] != want {
		t.Errorf("WARN lines %q\nwant %q", got, want)
	}
}

// TestForeignCursorFieldIsWarned: a catalog that sets a cursor_field other than the stream's own
// gets one WARN per such stream saying the cursor is source-defined and the given one ignored; a
// cursor_field equal to the stream's, or none, gets none.
func TestForeignCursorFieldIsWarned(t *testing.T) {
	_, url := emulator(t)
	stream := func(name, cursor string) string {
		cf := ""
		if cursor != "" {
			cf = `,"cursor_field":[` + cursor + `]`
		}
		return `{"stream":{"name":"` + name + `","json_schema":{},"supported_sync_modes":["full_refresh","incremental"]},"sync_mode":"incremental"` +
			cf + `,"destination_sync_mode":"append"}`
	}
	catalog := writeJSON(t, "catalog.json", `{"streams":[`+stream("daily_sleep", `"score"`)+`,`+stream("daily_activity", `"day"`)+`,`+
		stream("heart_rate", `"bpm"`)+`,`+stream("workouts", "")+`]}`)
	r := runCLI(t, "read", "--config", configFor(t, url, testToken), "--catalog", catalog)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	var got []string
	for _, w := range r.warnings() {
		if strings.Contains(w, "cursor_field") {
			got = append(got, w)
		}
	}
	want := []string{
		"catalog file " + catalog + `: stream daily_sleep has cursor_field ["score"], but its cursor is source-defined ("day") and the given one is ignored; leave cursor_field out or set it to ["day"]`,
		"catalog file " + catalog + `: stream heart_rate has cursor_field ["bpm"], but its cursor is source-defined ("timestamp") and the given one is ignored; leave cursor_field out or set it to ["timestamp"]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("WARN lines\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestConfigWithAByteOrderMarkWorks: a config saved as "UTF-8 with BOM" passes check.
func TestConfigWithAByteOrderMarkWorks(t *testing.T) {
	_, url := emulator(t)
	plain := configFor(t, url, testToken)
	b, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "check", "--config", writeJSON(t, "bom.json", "\ufeff"+string(b)))
	st := r.ofType(protocol.TypeConnectionStatus)
	if r.code != ExitOK || len(st) != 1 || st[0].ConnectionStatus.Status != protocol.StatusSucceeded {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
}

// TestStopDuringAccountLookupIsTransient: SIGTERM while read looks up the account id for
// account_column (no label) ends the sync as stopped, a transient_error, not as a config_error
// advising a scope the token already has.
func TestStopDuringAccountLookupIsTransient(t *testing.T) {
	hit := make(chan struct{}, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case hit <- struct{}{}:
		default:
		}
		<-r.Context().Done() // never answers
	}))
	defer hs.Close()
	cfg := writeJSON(t, "config.json", `{"api_key":"`+testToken+`","base_url":"`+hs.URL+`","start_datetime":"2025-03-01","end_datetime":"2025-03-10","account_column":{"enabled":true}}`)
	catalog := writeJSON(t, "catalog.json", `{"streams":[{"name":"daily_sleep","json_schema":{}}]}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-hit; time.Sleep(50 * time.Millisecond); cancel() }()
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Spec: specBytes(t), Version: "test",
		Client: func(c *oura.Config) { c.MinBackoff = time.Millisecond; c.MaxBackoff = 5 * time.Millisecond }}
	code := Run(ctx, []string{"read", "--config", cfg, "--catalog", catalog}, env)
	r := result{code: code, stdout: out.Bytes()}
	r.msgs = protocoltest.DecodeMessages(t, "read", r.stdout, func(m *protocol.Message) bool { return m.Type != "" })
	errs := r.errors()
	if code != ExitFailure || len(errs) != 1 {
		t.Fatalf("exit %d with %d error traces, want 1 and one error\n%s", code, len(errs), r.stdout)
	}
	if e := errs[0]; e.FailureType != protocol.TransientError || strings.Contains(e.Message, "scope") {
		t.Errorf("a sync stopped during the account lookup reported as %s: %s", e.FailureType, e.Message)
	}
}
