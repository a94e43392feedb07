package cli

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"source-oura/protocol"
)

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
