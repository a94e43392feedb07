package cli

import (
	"strings"
	"testing"

	"source-oura/protocol"
)

// TestCheckPassesWithSomeScopes: a token lacking some scopes passes check when it can read at
// least one stream, with one WARN naming each stream it cannot read and the scope it needs.
func TestCheckPassesWithSomeScopes(t *testing.T) {
	_, url := emulator(t, "daily", "workout", "tag", "session", "spo2Daily", "stress", "heart_health", "ring_configuration")
	r := runCLI(t, "check", "--config", configFor(t, url, testToken))
	st := r.ofType(protocol.TypeConnectionStatus)
	if r.code != ExitOK || len(st) != 1 || st[0].ConnectionStatus.Status != protocol.StatusSucceeded {
		t.Fatalf("code %d status %+v, want SUCCEEDED", r.code, st)
	}
	warns := logsAt(r, protocol.LevelWarn)
	if len(warns) != 1 {
		t.Fatalf("want one WARN, got %q", warns)
	}
	for _, want := range []string{`personal_info (scope "personal")`, `heart_rate (scope "heartrate")`, "17 of 19 streams"} {
		if !strings.Contains(warns[0], want) {
			t.Errorf("want %q in the WARN %q", want, warns[0])
		}
	}
	if strings.Contains(warns[0], "daily_sleep") {
		t.Errorf("the WARN names a stream the token can read: %q", warns[0])
	}
}

// TestCheckWithEveryScopeSaysNothingMore: a token with every scope passes without a WARN.
func TestCheckWithEveryScopeSaysNothingMore(t *testing.T) {
	_, url := emulator(t)
	r := runCLI(t, "check", "--config", configFor(t, url, testToken))
	st := r.ofType(protocol.TypeConnectionStatus)
	if len(st) != 1 || st[0].ConnectionStatus.Status != protocol.StatusSucceeded || st[0].ConnectionStatus.Message != "" {
		t.Fatalf("status %+v", st)
	}
	if w := logsAt(r, protocol.LevelWarn); len(w) != 0 {
		t.Fatalf("unexpected WARN %q", w)
	}
}

// TestCheckFailsWhenNothingCanBeRead: FAILED lists the scopes when no stream can be read.
func TestCheckFailsWhenNothingCanBeRead(t *testing.T) {
	_, url := emulator(t, "email")
	r := runCLI(t, "check", "--config", configFor(t, url, testToken))
	st := r.ofType(protocol.TypeConnectionStatus)
	if len(st) != 1 || st[0].ConnectionStatus.Status != protocol.StatusFailed {
		t.Fatalf("status %+v, want FAILED", st)
	}
	for _, scope := range []string{"personal", "daily", "heartrate", "spo2Daily", "ring_configuration"} {
		if !strings.Contains(st[0].ConnectionStatus.Message, scope) {
			t.Errorf("want scope %q in %q", scope, st[0].ConnectionStatus.Message)
		}
	}
}
