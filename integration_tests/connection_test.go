package integrationtests

import (
	"strings"
	"testing"

	"source-oura/internal/protocoltest"
)

// TestConnection runs `check` in the three outcomes the acceptance tests know: succeed, failed
// (exactly one CONNECTION_STATUS, FAILED, exit 0) and exception (exactly one error TRACE).
func TestConnection(t *testing.T) {
	t.Run("succeed", func(t *testing.T) {
		o := runConnector(t, "check", "--config", configFile(t, nil))
		st := onlyStatus(t, o)
		if st.Status != "SUCCEEDED" || o.code != 0 {
			t.Errorf("check with a valid token: status %s, exit %d; want SUCCEEDED, 0\n%s", st.Status, o.code, o.describe())
		}
	})

	t.Run("failed: invalid_config.json", func(t *testing.T) {
		var cfg map[string]any
		readFixture(t, "invalid_config.json", &cfg)
		// The fixture carries no base_url, so against Airbyte it asks the real API; here the
		// emulator answers the same way Oura does for an unknown token.
		cfg["base_url"] = suite.baseURL
		failedCheck(t, "a wrong token", "401", writeJSON(t, "invalid_config.json", cfg)) // Oura refused the token
	})

	t.Run("failed: config against the spec", func(t *testing.T) {
		failedCheck(t, "lookback_window_days 500", "lookback_window_days", configFile(t, func(c map[string]any) { c["lookback_window_days"] = 500 }))
	})

	t.Run("exception: Oura unreachable", func(t *testing.T) {
		o := runConnector(t, "check", "--config", configFile(t, func(c map[string]any) { c["base_url"] = protocoltest.ClosedLoopbackURL(t) }))
		traces := o.of("TRACE")
		if len(traces) != 1 || traces[0].Trace.Error == nil || traces[0].Trace.Error.Message == "" {
			t.Fatalf("want exactly one TRACE, an error with a message; got %d traces\n%s", len(traces), o.describe())
		}
		if n := len(o.of("CONNECTION_STATUS")); n != 0 {
			t.Errorf("a connector problem is reported as a trace alone; got %d CONNECTION_STATUS too", n)
		}
		if o.code == 0 {
			t.Error("check exited 0 although it could not reach Oura; the platform reads a non-zero exit as an unexpected failure")
		}
	})
}

// failedCheck runs check with config, which has the problem what, and fails unless check
// reports it as the one FAILED CONNECTION_STATUS, exit 0, with a message that says phrase.
func failedCheck(t *testing.T, what, phrase, config string) {
	t.Helper()
	o := runConnector(t, "check", "--config", config)
	st := onlyStatus(t, o)
	if st.Status != "FAILED" || o.code != 0 {
		t.Fatalf("check with %s: status %s, exit %d; want FAILED, 0\n%s", what, st.Status, o.code, o.describe())
	}
	if !strings.Contains(st.Message, phrase) {
		t.Errorf("check with %s: the FAILED message should say %q: %q", what, phrase, st.Message)
	}
}

// onlyStatus returns the one CONNECTION_STATUS of a check, failing when there is not exactly
// one or when check also printed a TRACE the acceptance tests would count.
func onlyStatus(t *testing.T, o *output) *connectionStatus {
	t.Helper()
	st := o.of("CONNECTION_STATUS")
	if len(st) != 1 {
		t.Fatalf("check printed %d CONNECTION_STATUS messages, want 1\n%s", len(st), o.describe())
	}
	for _, m := range o.of("TRACE") {
		if m.Trace.StreamStatus != nil {
			t.Errorf("check printed a stream status trace; check should print no stream statuses")
		}
	}
	return st[0].ConnectionStatus
}
