package cli

import (
	"strings"
	"testing"

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
