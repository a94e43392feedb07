package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"source-oura/internal/cli"
	"source-oura/internal/oura"
	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
	"source-oura/protocol"
	"source-oura/streams"
)

// Each test below injects one fault and checks what the user gets. The faults the binary
// is expected to survive are sized within its retry budget (six attempts, backoff from 1 s,
// Retry-After up to 120 s); the ones it must fail on go past it.

// readFaulty reads the default streams (incremental, or in full) with a personal access token
// from an emulator with faults f.
func readFaulty(t *testing.T, f ouraemu.Faults, incremental bool) (*emulator, result) {
	t.Helper()
	e := newEmulator(t, emuOptions{})
	e.srv.SetFaults(f)
	return e, run(t, readArgs(newFiles(t), apiKeyConfig(e.url, apiKey), catalog(t, incremental, defaultStreams...), nil)...)
}

// readThrough reads the default streams from an emulator with faults f and fails unless the
// read exits 0 with every stream complete and each document written exactly once.
func readThrough(t *testing.T, f ouraemu.Faults) (*emulator, result) {
	t.Helper()
	e, r := readFaulty(t, f, false)
	if r.code != 0 {
		t.Fatalf("exit %d; errors: %s", r.code, traceText(r.errors()))
	}
	completeAndExact(t, r, defaultStreams...)
	return e, r
}

// TestRateLimitStormRecovers: the first daily_sleep request is refused with 429 five
// times, the most six attempts can absorb, and every fourth request after that once, all
// with Retry-After: 1. The connector waits as asked and delivers the whole window once.
func TestRateLimitStormRecovers(t *testing.T) {
	t.Parallel()
	e, r := readThrough(t, ouraemu.Faults{OnlyPaths: []string{"daily_sleep"}, RateLimitFirst: 5, RateLimitEvery: 4, RetryAfter: 1})
	got := statusesOf(e.requestsFor("daily_sleep"))
	if len(got) < 6 || !slices.Equal(got[:6], []int{429, 429, 429, 429, 429, 200}) {
		t.Errorf("daily_sleep answers %v, want five 429s and then a 200", got)
	}
	if n := e.faultCount(ouraemu.FaultRateLimit); n < 6 {
		t.Errorf("%d rate-limited answers, want the storm of 5 and at least one more", n)
	}
	if !anyContains(r.logs(protocol.LevelWarn), "Oura asked to wait") {
		t.Errorf("no WARN about waiting for Retry-After; warnings: %q", r.logs(protocol.LevelWarn))
	}
}

// TestRateLimitStormLongerThanAttemptsFails: six 429s in a row on daily_sleep, one more
// than the attempts allow. That stream fails with a transient error that says to run the
// sync again later; the others finish.
func TestRateLimitStormLongerThanAttemptsFails(t *testing.T) {
	t.Parallel()
	e, r := readFaulty(t, ouraemu.Faults{OnlyPaths: []string{"daily_sleep"}, RateLimitFirst: 6, RetryAfter: 0}, false)
	onlyStreamFailed(t, r, "daily_sleep", protocol.TransientError, "rate limit", "6 attempts", "run the sync again later")
	if got := statusesOf(e.requestsFor("daily_sleep")); len(got) != 6 {
		t.Errorf("daily_sleep was asked %d times (%v), want exactly 6 attempts", len(got), got)
	}
}

// TestRetryAfterBeyondCapFailsFast: a 429 asking to wait an hour, far over the 120 s the
// connector waits. The stream fails at once, without a retry, and the message says how
// long Oura asked for and that the next sync resumes.
func TestRetryAfterBeyondCapFailsFast(t *testing.T) {
	t.Parallel()
	e, r := readFaulty(t, ouraemu.Faults{OnlyPaths: []string{"daily_sleep"}, RateLimitFirst: 1, RetryAfter: 3600}, true)
	onlyStreamFailed(t, r, "daily_sleep", protocol.TransientError, "1h0m0s", "next sync resumes")
	if got := statusesOf(e.requestsFor("daily_sleep")); !slices.Equal(got, []int{429}) {
		t.Errorf("daily_sleep answers %v, want the single 429 and no retry", got)
	}
	if !anyContains(r.logs(protocol.LevelWarn), "longer than allowed") {
		t.Errorf("no WARN about the over-long Retry-After; warnings: %q", r.logs(protocol.LevelWarn))
	}
}

// TestServerErrorBurstsRecover: a burst of three 5xx answers, then every fourth request,
// rotating through 500, 502, 503 and 504, on two streams read at the same time. The
// connector retries with its own backoff (no Retry-After) and delivers the window once.
func TestServerErrorBurstsRecover(t *testing.T) {
	t.Parallel()
	e := newEmulator(t, emuOptions{})
	e.srv.SetFaults(ouraemu.Faults{
		OnlyPaths:        []string{"daily_activity", "sleep"},
		ServerErrorFirst: 3, ServerErrorEvery: 4,
		ServerErrors: []int{500, 502, 503, 504},
	})
	r := run(t, readArgs(newFiles(t), apiKeyConfig(e.url, apiKey), catalog(t, false, defaultStreams...), nil)...)
	if r.code != 0 {
		t.Fatalf("exit %d; errors: %s", r.code, traceText(r.errors()))
	}
	completeAndExact(t, r, defaultStreams...)
	var answered []int
	for _, req := range e.srv.Requests() {
		if req.Fault == ouraemu.FaultServerError {
			answered = append(answered, req.Status)
		}
	}
	if got := distinct(answered); !slices.Equal(got, []int{500, 502, 503, 504}) {
		t.Errorf("server errors answered %v, want each of 500, 502, 503 and 504", answered)
	}
}

// TestServerErrorsBeyondAttemptsFailThenResume: after three pages, every sleep request is
// answered 503 (with Retry-After: 0, so the test does not sit through the backoff). The
// stream fails after six attempts with a transient error; the others finish. A second
// read from the states of the first starts where it stopped and leaves no gap.
func TestServerErrorsBeyondAttemptsFailThenResume(t *testing.T) {
	t.Parallel()
	e := newEmulator(t, emuOptions{wrap: retryAfterOn5xx})
	e.srv.SetFaults(ouraemu.Faults{OnlyPaths: []string{"sleep"}, FailAfterPages: 3})
	f := newFiles(t)
	cat := catalog(t, true, defaultStreams...)
	first := run(t, readArgs(f, apiKeyConfig(e.url, apiKey), cat, nil)...)
	failedClearly(t, first, "sleep_periods", protocol.TransientError, "Oura is unavailable", "HTTP 503, 6 attempts", "try again later")
	completeAndExact(t, first, without(defaultStreams, "sleep_periods")...)
	if n := e.faultCount(ouraemu.FaultFailAfterPages); n != 6 {
		t.Errorf("%d requests answered 503, want the 6 attempts of one request", n)
	}
	if len(first.records()["sleep_periods"]) == 0 {
		t.Fatal("sleep_periods wrote nothing before failing: the resume would prove nothing")
	}
	resumeLeavesNoGap(t, e, f, cat, first)
}

// resumeLeavesNoGap clears the faults, reads again from the last states of first and
// checks that the two runs together hold every document of the window, that the second
// finishes cleanly, and that a stream with a saved state resumed after the window's start
// rather than reading it all again.
func resumeLeavesNoGap(t *testing.T, e *emulator, f *files, cat protocol.ConfiguredCatalog, first result) {
	t.Helper()
	e.srv.SetFaults(ouraemu.Faults{})
	state := first.stateFile(t)
	before := len(e.srv.Requests())
	second := run(t, "read", "--config", filepath.Join(f.dir, "config.json"), "--catalog", filepath.Join(f.dir, "catalog.json"),
		"--state", f.write("state.json", state))
	if second.code != 0 {
		t.Fatalf("the resumed read failed: exit %d; errors: %s", second.code, traceText(second.errors()))
	}
	r1, r2 := first.records(), second.records()
	for _, cs := range cat.Streams {
		name := cs.Stream.Name
		atLeastOnce(t, name, append(slices.Clone(r1[name]), r2[name]...), expected(t, dataset(), name))
	}
	// A date stream with a saved cursor resumes from it, less the 7-day lookback and the one
	// day the connector widens a request by, instead of reading the window again.
	for _, st := range state {
		s, ok := streams.Lookup(st.Stream.StreamDescriptor.Name)
		var blob struct{ Cursor string }
		if !ok || s.Params != streams.Dates || json.Unmarshal(st.Stream.StreamState, &blob) != nil || blob.Cursor == "" {
			continue
		}
		cursor, err := time.Parse("2006-01-02", blob.Cursor)
		if err != nil {
			t.Fatalf("%s: state cursor %q: %v", s.Name, blob.Cursor, err)
		}
		earliest := cursor.AddDate(0, 0, -8).Format("2006-01-02")
		for _, req := range e.srv.Requests()[before:] {
			if req.Path == "/v2/usercollection/"+s.Path && req.Query.Get("next_token") == "" {
				if start := req.Query.Get("start_date"); start < earliest {
					t.Errorf("%s resumed from %s, before its cursor %s less the lookback: the state was not used", s.Name, start, blob.Cursor)
				}
			}
		}
	}
}

// TestDroppedConnectionsAreRetried: the first two requests, and every fifth after them,
// have their connection closed without an answer. Two in a row get past Go's own silent
// replay of a request on a reused connection. The window arrives whole and once.
func TestDroppedConnectionsAreRetried(t *testing.T) {
	t.Parallel()
	e, _ := readThrough(t, ouraemu.Faults{DropFirst: 2, DropEvery: 5})
	if n := e.faultCount(ouraemu.FaultDrop); n < 4 {
		t.Errorf("%d connections dropped, want the first 2 and more after", n)
	}
}

// TestCutOffBodiesAreRetried: the first answer and every fourth after it is a 200 whose
// body stops half way through the JSON. No half page is written: each is asked again and
// the window arrives whole and once.
func TestCutOffBodiesAreRetried(t *testing.T) {
	t.Parallel()
	e, _ := readThrough(t, ouraemu.Faults{TruncateFirst: 1, TruncateEvery: 4})
	if n := e.faultCount(ouraemu.FaultTruncate); n < 4 {
		t.Errorf("%d bodies cut off, want at least 4", n)
	}
}

// TestSlowServerBeyondTimeoutFails runs the read in process, because the binary's request
// timeout is 60 s: with a 500 ms timeout and a daily_sleep that takes a minute to answer,
// every attempt of that stream times out and it fails with a transient error naming the
// limit; the other streams, answered at once, finish.
func TestSlowServerBeyondTimeoutFails(t *testing.T) {
	t.Parallel()
	e := newEmulator(t, emuOptions{})
	e.srv.SetFaults(ouraemu.Faults{OnlyPaths: []string{"daily_sleep"}, Latency: time.Minute})
	spec, err := os.ReadFile(filepath.Join(repoRoot, "spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	argv := readArgs(newFiles(t), apiKeyConfig(e.url, apiKey), catalog(t, false, defaultStreams...), nil)
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), argv, cli.Env{
		Stdout: &out, Stderr: &errb, Spec: spec, Version: "faults",
		Client: func(c *oura.Config) {
			c.Timeout = 500 * time.Millisecond
			c.MinBackoff, c.MaxBackoff = time.Millisecond, 10*time.Millisecond
		},
	})
	r := result{argv: argv, code: code, stdout: out.Bytes(), stderr: errb.String()}
	r.decode(t)
	r.checkInvariants(t)
	onlyStreamFailed(t, r, "daily_sleep", protocol.TransientError, "no complete response within 500ms", "6 attempts", "try again later")
}

// TestNextTokenLoopFails: every daily_sleep page hands back the token that leads to itself.
// The connector notices the repeated token on the second page instead of looping, and the
// stream fails with a transient error; the others finish.
func TestNextTokenLoopFails(t *testing.T) {
	t.Parallel()
	e, r := readFaulty(t, ouraemu.Faults{OnlyPaths: []string{"daily_sleep"}, EndlessNextToken: true}, false)
	onlyStreamFailed(t, r, "daily_sleep", protocol.TransientError, "same next_token twice", "report it")
	if n := len(e.requestsFor("daily_sleep")); n > 3 {
		t.Errorf("daily_sleep was asked %d times; the loop should be caught on the second page", n)
	}
}

// TestUnauthorizedMidSyncOAuthRefreshes: Oura revokes the OAuth access token after 10
// requests. The connector refreshes once, carries on, and delivers the whole window; it
// emits one CONTROL message with the new tokens and saves the same config to the file,
// whose mode stays 0600.
func TestUnauthorizedMidSyncOAuthRefreshes(t *testing.T) {
	t.Parallel()
	e := newEmulator(t, emuOptions{})
	access := e.srv.IssueAccessToken(ouraemu.AllScopes...)
	refresh := e.srv.IssueRefreshToken(clientID, ouraemu.AllScopes...)
	e.whenData(func(n int64) {
		if n == 10 {
			e.srv.RevokeAccessTokens()
		}
	})
	f := newFiles(t)
	config := f.write("config.json", oauthConfig(e.url, refresh, access, time.Now().Add(23*time.Hour)))
	r := run(t, "read", "--config", config, "--catalog", f.write("catalog.json", catalog(t, false, defaultStreams...)))
	if r.code != 0 {
		t.Fatalf("exit %d; errors: %s", r.code, traceText(r.errors()))
	}
	completeAndExact(t, r, defaultStreams...)
	unauthorized := 0
	tokenCalls := 0
	for _, req := range e.srv.Requests() {
		if req.Status == http.StatusUnauthorized {
			unauthorized++
		}
		if req.Path == "/oauth/token" {
			tokenCalls++
		}
	}
	if unauthorized == 0 {
		t.Fatal("no request got a 401: the token was not revoked mid-sync")
	}
	if tokenCalls != 1 {
		t.Errorf("%d token requests, want one refresh", tokenCalls)
	}
	controls := r.controls()
	if len(controls) != 1 {
		t.Fatalf("%d CONTROL messages, want 1", len(controls))
	}
	saved, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, saved); err != nil {
		t.Fatalf("the rewritten config is not JSON: %v\n%s", err, saved)
	}
	if !bytes.Equal(compact.Bytes(), controls[0]) {
		t.Errorf("the config file and the CONTROL config differ:\n%s\n%s", saved, controls[0])
	}
	if c := protocoltest.CredentialsOf(t, saved); c.RefreshToken == refresh || c.RefreshToken == "" || c.AccessToken == access || c.AccessToken == "" {
		t.Errorf("the saved config does not hold new tokens: %+v", c)
	}
	if info, err := os.Stat(config); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("config mode after the rewrite: %v %v, want 0600", info.Mode().Perm(), err)
	}
}

// TestUnauthorizedMidSyncAPIKeyFails: a personal access token revoked after 10 requests
// cannot be refreshed. Every stream either finished with its whole window before that or
// fails with a config error telling the user to enter a new key; no token endpoint is
// called and the run exits 1.
func TestUnauthorizedMidSyncAPIKeyFails(t *testing.T) {
	t.Parallel()
	e := newEmulator(t, emuOptions{})
	key := e.srv.IssueAccessToken(ouraemu.AllScopes...)
	e.whenData(func(n int64) {
		if n == 10 {
			e.srv.RevokeAccessTokens()
		}
	})
	r := run(t, readArgs(newFiles(t), apiKeyConfig(e.url, key), catalog(t, false, defaultStreams...), nil)...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	failed := 0
	for _, name := range defaultStreams {
		if r.statuses()[name] == protocol.Complete {
			completeAndExact(t, r, name)
			continue
		}
		failed++
		if len(r.streamErrors(name)) == 0 && r.statuses()[name] == protocol.Incomplete {
			continue // not started before the final 401, so not attempted: the sync's one error covers it
		}
		failedClearly(t, r, name, protocol.ConfigError, "Oura rejected the access token (HTTP 401)",
			"re-authorize the connector by signing in with Oura again")
	}
	if failed == 0 {
		t.Fatal("no stream failed: the key was not revoked mid-sync")
	}
	all := r.errors()
	if last := all[len(all)-1]; last.FailureType != protocol.ConfigError {
		t.Errorf("the final error is %s, want config_error when every failure is the user's to fix", last.FailureType)
	}
	for _, req := range e.srv.Requests() {
		if req.Path == "/oauth/token" {
			t.Error("the token endpoint was called for a personal access token")
		}
	}
}

// TestMissingScopeFailsOnlyItsStream: the token lacks the tag scope. Whether Oura answers
// 403 (documented) or 401 (reported by some clients), tags fails with a config error that
// names the scope to grant, and the other streams finish.
func TestMissingScopeFailsOnlyItsStream(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusForbidden, http.StatusUnauthorized} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			e := newEmulator(t, emuOptions{scopes: without(ouraemu.AllScopes, "tag"), missingScopeStatus: status})
			r := run(t, readArgs(newFiles(t), apiKeyConfig(e.url, apiKey), catalog(t, false, defaultStreams...), nil)...)
			onlyStreamFailed(t, r, "tags", protocol.ConfigError, `the token lacks the "tag" scope`, "re-authorize the connector")
		})
	}
}

// TestUpgradeRequiredFailsThatStream: Oura answers 426 for workouts, as it does when the
// user's Oura app is too old to share them. workouts fails with a config error telling the
// user to update the app; the other streams finish.
func TestUpgradeRequiredFailsThatStream(t *testing.T) {
	t.Parallel()
	_, r := readFaulty(t, ouraemu.Faults{OnlyPaths: []string{"workout"}, UpgradeRequired: true}, false)
	onlyStreamFailed(t, r, "workouts", protocol.ConfigError, "HTTP 426", "update the Oura mobile app")
}

// TestEmulatorRestartMidSync: after 12 data requests the emulator goes away (listener and
// open connections closed), and comes back on the same address with the same data a
// moment later. The connector either rides through on its retries or fails the streams
// it could not finish with a transient error; either way a read from its last states
// completes the window without a gap.
func TestEmulatorRestartMidSync(t *testing.T) {
	t.Parallel()
	e := newEmulator(t, emuOptions{})
	stopped := make(chan struct{})
	e.whenData(func(n int64) {
		if n == 12 {
			// Not on this goroutine: stopping waits for the request being served to end.
			go func() { e.stop(); close(stopped) }()
		}
	})
	restarted, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(restarted)
		select {
		case <-stopped:
		case <-quit:
			return
		}
		// Long enough for requests to find nothing listening, short of the retry budget.
		select {
		case <-time.After(1500 * time.Millisecond):
			e.start(t)
		case <-quit:
		}
	}()
	// Should the test end early, the restarter must not outlive it.
	t.Cleanup(func() { close(quit); <-restarted })
	f := newFiles(t)
	cat := catalog(t, true, defaultStreams...)
	first := run(t, readArgs(f, apiKeyConfig(e.url, apiKey), cat, nil)...)
	if n := e.dataRequests.Load(); n < 12 {
		t.Fatalf("the emulator was never stopped: the sync made only %d requests", n)
	}
	<-restarted
	if first.code == 0 {
		completeAndExact(t, first, defaultStreams...)
	} else {
		for name, st := range first.statuses() {
			if st == protocol.Complete {
				completeAndExact(t, first, name)
				continue
			}
			failedClearly(t, first, name, protocol.TransientError, "try again later")
		}
	}
	t.Logf("first read: exit %d, statuses %v", first.code, first.statuses())
	resumeLeavesNoGap(t, e, f, cat, first)
}

// without returns list less the names given.
func without(list []string, names ...string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(names, s) {
			out = append(out, s)
		}
	}
	return out
}

// anyContains reports whether any of list contains sub.
func anyContains(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
