package cli

import (
	"strings"
	"testing"

	"source-oura/protocol"
)

// When personal_info is one of the synced streams, the account id still appears exactly once, and
// the document is fetched only once.
func TestAccountIDIsLoggedOnceWhenPersonalInfoIsSynced(t *testing.T) {
	catalog := `{"streams":[{"stream":{"name":"personal_info","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`
	srv, url := emulator(t)
	r := runCLI(t, "read", "--config", configFor(t, url, testToken), "--catalog", writeJSON(t, "catalog.json", catalog))
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	n := 0
	for _, m := range logsAt(r, protocol.LevelInfo) {
		if strings.Contains(m, "account_id=user-1") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("account id logged %d times, want once\n%s", n, r.stdout)
	}
	lookups := 0
	for _, req := range srv.Requests() {
		if req.Path == "/v2/usercollection/personal_info" {
			lookups++
		}
	}
	if lookups != 1 {
		t.Errorf("personal_info requested %d times, want once", lookups)
	}
}
