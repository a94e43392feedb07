package cli

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/protocol"
)

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
