package cli

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
	"source-oura/protocol"
)

// warnings returns the WARN log lines of a run.
func (r result) warnings() []string {
	var out []string
	for _, m := range r.ofType(protocol.TypeLog) {
		if m.Log.Level == protocol.LevelWarn {
			out = append(out, m.Log.Message)
		}
	}
	return out
}

// TestInvalidConfigSaysDidYouMean: {"token": …} used to fail with only "credentials is
// missing"; the FAILED status and the config_error now name the misnamed key and the right one.
func TestInvalidConfigSaysDidYouMean(t *testing.T) {
	_, url := emulator(t)
	cfg := writeJSON(t, "config.json", `{"token":"`+testToken+`","base_url":"`+url+`"}`)
	r := runCLI(t, "check", "--config", cfg)
	st := r.ofType(protocol.TypeConnectionStatus)
	if len(st) != 1 || st[0].ConnectionStatus.Status != protocol.StatusFailed ||
		!strings.Contains(st[0].ConnectionStatus.Message, `"token" (did you mean "api_key"?)`) {
		t.Fatalf("check: want FAILED with a hint, got %+v", st)
	}
	r = runCLI(t, "discover", "--config", cfg)
	errs := r.errors()
	if r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError ||
		!strings.Contains(errs[0].Message, `did you mean "api_key"?`) || !strings.Contains(errs[0].Message, cfg) {
		t.Fatalf("discover: code %d errors %+v", r.code, errs)
	}
}

// TestMisnamedKeyWarnsWithHint: start_date is ignored (the read starts in 2015) but the WARN
// says which key was meant.
func TestMisnamedKeyWarnsWithHint(t *testing.T) {
	_, url := emulator(t)
	cfg := writeJSON(t, "config.json", `{"api_key":"`+testToken+`","base_url":"`+url+`","start_date":"2024-01-01"}`)
	r := runCLI(t, "check", "--config", cfg)
	if st := r.ofType(protocol.TypeConnectionStatus); len(st) != 1 || st[0].ConnectionStatus.Status != protocol.StatusSucceeded {
		t.Fatalf("check: %+v", st)
	}
	w := strings.Join(r.warnings(), "\n")
	if !strings.Contains(w, `"start_date" (did you mean "start_datetime"?)`) || !strings.Contains(w, cfg) {
		t.Fatalf("warnings %q", w)
	}
}

// TestFutureStartWarnsInCheckAndRead: a start after now passes check and reads nothing; both
// say so.
func TestFutureStartWarnsInCheckAndRead(t *testing.T) {
	_, url := emulator(t)
	cfg := writeJSON(t, "config.json", `{"api_key":"`+testToken+`","base_url":"`+url+`","start_datetime":"2027-03-01"}`)
	catalog := writeJSON(t, "catalog.json", `{"streams":[{"stream":{"name":"daily_sleep","json_schema":{},"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`)
	now := func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) }
	for _, argv := range [][]string{{"check", "--config", cfg}, {"read", "--config", cfg, "--catalog", catalog}} {
		r := runEnv(t, Env{Now: now}, argv...)
		if r.code != ExitOK {
			t.Fatalf("%s: exit %d\n%s", argv[0], r.code, r.stdout)
		}
		if w := strings.Join(r.warnings(), "\n"); !strings.Contains(w, "start_datetime 2027-03-01T00:00:00Z is in the future") {
			t.Errorf("%s: warnings %q", argv[0], w)
		}
	}
}

// TestHugeNumberIsAConfigError: 1e999999999 in a number field used to panic inside the schema
// validator (system_error, a stack on stderr); it is a config_error naming the field.
func TestHugeNumberIsAConfigError(t *testing.T) {
	for _, field := range []string{"lookback_window_days", "max_concurrent_streams", "requests_per_5_minutes"} {
		cfg := writeJSON(t, "config.json", `{"api_key":"abcdef","`+field+`":1e999999999}`)
		r := runCLI(t, "discover", "--config", cfg)
		errs := r.errors()
		if r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError ||
			!strings.Contains(errs[0].Message, `config field "`+field+`"`) {
			t.Errorf("%s: code %d errors %+v", field, r.code, errs)
		}
		if strings.Contains(r.stderr, "goroutine") {
			t.Errorf("%s: stack on stderr", field)
		}
		r = runCLI(t, "check", "--config", cfg)
		if st := r.ofType(protocol.TypeConnectionStatus); len(st) != 1 || st[0].ConnectionStatus.Status != protocol.StatusFailed ||
			!strings.Contains(st[0].ConnectionStatus.Message, field) {
			t.Errorf("%s: check %+v", field, st)
		}
	}
}

// TestDateOnlyEndIncludesTheWholeDay: end_datetime "2024-03-10" reads all of that day for the
// time series too (heart_rate and ring_battery_level used to stop at 00:00 of it).
func TestDateOnlyEndIncludesTheWholeDay(t *testing.T) {
	day := time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 5, First: day.AddDate(0, 0, -2), Last: day.AddDate(0, 0, 2)})
	srv := ouraemu.NewServer(ouraemu.Options{Dataset: ds, Tokens: map[string][]string{testToken: ouraemu.AllScopes}})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := writeJSON(t, "config.json", `{"api_key":"`+testToken+`","base_url":"`+hs.URL+`","start_datetime":"2024-03-10","end_datetime":"2024-03-10"}`)
	entry := func(name string) string {
		return `{"stream":{"name":"` + name + `","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}`
	}
	catalog := writeJSON(t, "catalog.json", `{"streams":[`+entry("heart_rate")+`,`+entry("ring_battery_level")+`,`+entry("daily_activity")+`]}`)
	r := runCLI(t, "read", "--config", cfg, "--catalog", catalog)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	latest := map[string]time.Time{}
	for _, m := range r.ofType(protocol.TypeRecord) {
		var doc struct {
			Timestamp string `json:"timestamp"`
			Day       string `json:"day"`
		}
		if err := json.Unmarshal(m.Record.Data, &doc); err != nil {
			t.Fatal(err)
		}
		var at time.Time
		if doc.Timestamp != "" {
			ts, err := time.Parse(time.RFC3339, doc.Timestamp)
			if err != nil {
				t.Fatal(err)
			}
			at = ts.UTC()
		} else {
			d, err := time.Parse(time.DateOnly, doc.Day)
			if err != nil {
				t.Fatal(err)
			}
			at = d
		}
		if at.Before(day) || !at.Before(day.AddDate(0, 0, 1)) {
			t.Errorf("%s: record outside 2024-03-10: %s", m.Record.Stream, m.Record.Data)
		}
		if at.After(latest[m.Record.Stream]) || latest[m.Record.Stream].IsZero() {
			latest[m.Record.Stream] = at
		}
	}
	for _, s := range []string{"heart_rate", "ring_battery_level"} {
		if latest[s].Before(day.Add(20 * time.Hour)) {
			t.Errorf("%s: latest record %v; want samples up to the end of 2024-03-10", s, latest[s])
		}
	}
	if _, ok := latest["daily_activity"]; !ok {
		t.Errorf("daily_activity: no record for 2024-03-10")
	}
}

// TestFIFOInputIsAConfigError: --config or --state naming a named pipe is refused at once with
// a config_error naming the file, instead of waiting for a writer that never comes.
func TestFIFOInputIsAConfigError(t *testing.T) {
	_, url := emulator(t)
	good := configFor(t, url, testToken)
	catalog := writeJSON(t, "catalog.json", `{"streams":[{"stream":{"name":"tags","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)
	fifo := filepath.Join(t.TempDir(), "pipe.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	for _, argv := range [][]string{
		{"check", "--config", fifo},
		{"read", "--config", good, "--catalog", catalog, "--state", fifo},
		{"read", "--config", good, "--catalog", fifo},
	} {
		done := make(chan result, 1)
		go func() { done <- runEnv(t, Env{}, argv...) }()
		var r result
		select {
		case r = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%v: still blocked after 5 s", argv)
		}
		errs := r.errors()
		if len(errs) == 0 || errs[0].FailureType != protocol.ConfigError || !strings.Contains(errs[0].Message, fifo) ||
			!strings.Contains(errs[0].Message, "not a regular file") {
			t.Errorf("%v: errors %+v", argv, errs)
		}
	}
}

// TestOAuthReadsWorkWhenTheConfigFolderIsReadOnly: a config whose folder cannot be written (a
// single file mounted into the image) still gets each new refresh token, rewritten in place, so
// the next run works instead of failing with invalid_grant.
func TestOAuthReadsWorkWhenTheConfigFolderIsReadOnly(t *testing.T) {
	f := newOAuthFixture(t)
	cfgPath := f.configFile(t, "config.json", f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...), "")
	catalog := oauthCatalog(t, f.dir)
	if err := os.Chmod(f.dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(f.dir, 0o700) })
	for run := 1; run <= 2; run++ {
		if run == 2 {
			f.clock.Advance(24 * time.Hour) // the saved access token has expired: refresh again
		}
		r := f.read(t, cfgPath, catalog)
		if r.code != ExitOK {
			t.Fatalf("run %d: exit %d\n%s", run, r.code, r.stdout)
		}
		if w := r.warnings(); len(w) != 0 {
			t.Errorf("run %d: warnings %q", run, w)
		}
		file, err := os.ReadFile(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		configs := controlConfigs(t, r)
		if len(configs) != 1 || protocoltest.CredentialsOf(t, file).RefreshToken != protocoltest.CredentialsOf(t, configs[0]).RefreshToken {
			t.Fatalf("run %d: the file does not hold the new refresh token:\n%s", run, file)
		}
	}
}

// TestOAuthRewriteKeepsEditsMadeDuringTheRun: the config is re-read before the rewrite, so a
// setting changed while the sync ran is still there afterwards, beside the new tokens.
func TestOAuthRewriteKeepsEditsMadeDuringTheRun(t *testing.T) {
	var (
		f              *oauthFixture
		cfgPath        string
		editAt, served atomic.Int64
	)
	f = newOAuthFixture(t, func(o *ouraemu.Options) {
		revoke := o.OnRequest
		o.OnRequest = func(req ouraemu.Request) {
			// One request (the counter gives each its own number) makes the edit, and only then
			// is the access token revoked: the refresh and the rewrite come after the edit.
			if strings.HasPrefix(req.Path, "/v2/") && served.Add(1) == editAt.Load() {
				doc, err := os.ReadFile(cfgPath)
				if err == nil {
					doc = []byte(strings.Replace(string(doc), `"max_concurrent_streams": 4`, `"max_concurrent_streams": 2`, 1))
					err = os.WriteFile(cfgPath, doc, 0o600)
				}
				if err != nil {
					t.Error(err)
				}
				f.srv.RevokeAccessTokens()
			}
			revoke(req)
		}
	})
	cfgPath = f.configFile(t, "config.json", f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...), "")
	catalog := oauthCatalog(t, f.dir)
	if r := f.read(t, cfgPath, catalog); r.code != ExitOK {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stdout)
	}
	editAt.Store(served.Load() + 3)
	r := f.read(t, cfgPath, catalog)
	if r.code != ExitOK {
		t.Fatalf("second run: exit %d\n%s", r.code, r.stdout)
	}
	file, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	configs := controlConfigs(t, r)
	if !strings.Contains(string(file), `"max_concurrent_streams": 2`) {
		t.Errorf("the edit made during the run was lost:\n%s", file)
	}
	if len(configs) != 1 || protocoltest.CredentialsOf(t, file).RefreshToken != protocoltest.CredentialsOf(t, configs[0]).RefreshToken {
		t.Errorf("the file does not hold the new refresh token:\n%s", file)
	}
}
