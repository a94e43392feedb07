package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

// probeServer answers personal_info with a document and every other route with list.
func probeServer(t *testing.T, list func(w http.ResponseWriter)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/personal_info") {
			_, _ = w.Write([]byte(`{"id":"u1"}`))
			return
		}
		list(w)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestCheckReadsProbePagesLikeRead: a list answered with {"data":{}}, {"data":null} or a web page
// fails read, so it fails check too (FAILED, naming the problem), instead of passing.
func TestCheckReadsProbePagesLikeRead(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"data object": {`{"data":{},"next_token":null}`, `"data" is not an array`},
		"data null":   {`{"data":null,"next_token":null}`, `"data" is not an array`},
		"web page":    {`<html><body>Welcome to nginx</body></html>`, `it starts "<html><body>Welcome to nginx</body></html>"; check base_url`},
	} {
		t.Run(name, func(t *testing.T) {
			url := probeServer(t, func(w http.ResponseWriter) { _, _ = w.Write([]byte(tc.body)) })
			r := runCLI(t, "check", "--config", configFor(t, url, testToken))
			st := r.ofType(protocol.TypeConnectionStatus)
			if r.code != ExitOK || len(st) != 1 || st[0].ConnectionStatus.Status != protocol.StatusFailed ||
				!strings.Contains(st[0].ConnectionStatus.Message, tc.want) {
				t.Fatalf("exit %d, statuses %+v; want FAILED saying %q\n%s", r.code, st, tc.want, r.stdout)
			}
		})
	}
	// An empty list is a good answer.
	url := probeServer(t, func(w http.ResponseWriter) { _, _ = w.Write([]byte(`{"data":[],"next_token":null}`)) })
	r := runCLI(t, "check", "--config", configFor(t, url, testToken))
	if st := r.ofType(protocol.TypeConnectionStatus); len(st) != 1 || st[0].ConnectionStatus.Status != protocol.StatusSucceeded {
		t.Fatalf("empty lists: statuses %+v\n%s", st, r.stdout)
	}
}

// TestCheckRateLimitAdviceIsCheckAdvice: a Retry-After longer than check waits is reported as asked
// (27h46m40s, not clamped to a day) with check's own advice: when to try the check again, not what
// the next sync resumes from.
func TestCheckRateLimitAdviceIsCheckAdvice(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "100000")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"detail":"Rate limit exceeded."}`))
	}))
	defer srv.Close()
	now := func() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) }
	r := runEnv(t, Env{Now: now}, "check", "--config", configFor(t, srv.URL, testToken))
	errs := r.errors()
	if r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.TransientError {
		t.Fatalf("exit %d, errors %+v", r.code, errs)
	}
	msg := errs[0].Message
	for _, want := range []string{"Oura asked to wait 27h46m40s, longer than the 10s the check waits",
		"try the check again after 2026-12-02T13:46:40Z"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "next sync") {
		t.Errorf("message %q speaks of a sync", msg)
	}
}
