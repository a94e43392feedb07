package cli

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
)

// progressRun reads two streams of a generated month from the emulator, with stderr a terminal or not.
func progressRun(t *testing.T, terminal bool) result {
	t.Helper()
	first := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 1, First: first, Last: first.AddDate(0, 0, 29)})
	srv := ouraemu.NewServer(ouraemu.Options{Dataset: ds, Tokens: map[string][]string{testToken: ouraemu.AllScopes}})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	cfg := writeJSON(t, "config.json", `{"api_key":"`+testToken+`","base_url":"`+hs.URL+`","start_datetime":"2024-01-01T00:00:00Z","end_datetime":"2024-01-31T00:00:00Z"}`)
	catalog := writeJSON(t, "catalog.json", `{"streams":[`+
		`{"stream":{"name":"daily_sleep","json_schema":{}},"sync_mode":"incremental","destination_sync_mode":"append"},`+
		`{"stream":{"name":"heart_rate","json_schema":{}},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)
	return runEnv(t, Env{Terminal: func() bool { return terminal }}, "read", "--config", cfg, "--catalog", catalog)
}

// TestProgressOnATerminal: with stderr a terminal, read prints progress lines on stderr with days
// done of total, records, requests and retries, and a last line per stream; stdout stays the
// same Airbyte messages.
func TestProgressOnATerminal(t *testing.T) {
	r := progressRun(t, true)
	if r.code != ExitOK {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
	line := regexp.MustCompile(`^source-oura: (done )?(daily_sleep|heart_rate) \d+/\d+ days, \d+ records?, \d+ requests?, \d+ retr(y|ies)$`)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("stderr line %q is not a progress line", l)
		}
	}
	for _, want := range []string{"source-oura: done daily_sleep 30/30 days, ", "source-oura: done heart_rate 30/30 days, "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("want a last line starting %q in stderr:\n%s", want, r.stderr)
		}
	}
	plain := progressRun(t, false)
	if recordCount(r) == 0 || recordCount(r) != recordCount(plain) || len(r.msgs) != len(plain.msgs) {
		t.Errorf("stdout changed with progress on: %d messages (%d records), without: %d (%d)",
			len(r.msgs), recordCount(r), len(plain.msgs), recordCount(plain))
	}
}

// TestNoProgressWithoutATerminal: when stderr is not a terminal (the platform, CI), read prints
// nothing on it.
func TestNoProgressWithoutATerminal(t *testing.T) {
	r := progressRun(t, false)
	if r.code != ExitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want nothing on stderr", r.code, r.stderr)
	}
}
