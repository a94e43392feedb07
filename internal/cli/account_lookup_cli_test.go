package cli

import (
	"strings"
	"testing"
	"time"

	"source-oura/internal/oura"
	"source-oura/internal/ouraemu"
	"source-oura/protocol"
)

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
