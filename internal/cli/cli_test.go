package cli

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/rs/zerolog"

	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
	"source-oura/protocol"
)

const testToken = "tok-very-secret-123"

// result is what one command run produced.
type result struct {
	code   int
	stdout []byte
	stderr string
	msgs   []protocol.Message
}

func (r result) ofType(t protocol.MessageType) []protocol.Message {
	var out []protocol.Message
	for _, m := range r.msgs {
		if m.Type == t {
			out = append(out, m)
		}
	}
	return out
}

func (r result) errors() []*protocol.ErrorTrace {
	var out []*protocol.ErrorTrace
	for _, m := range r.ofType(protocol.TypeTrace) {
		if m.Trace.Error != nil {
			out = append(out, m.Trace.Error)
		}
	}
	return out
}

func specBytes(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(protocoltest.RepoRoot(t), "spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runCLI runs a command the way main does and decodes stdout; every line must be a message.
func runCLI(t *testing.T, argv ...string) result {
	t.Helper()
	r := runEnv(t, Env{}, argv...)
	if strings.Contains(string(r.stdout), "goroutine ") || strings.Contains(string(r.stdout), "panic:") {
		t.Fatalf("stack trace on stdout:\n%s", r.stdout)
	}
	return r
}

func writeJSON(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// emulator serves a small dataset with one all-scopes token.
func emulator(t *testing.T, scopes ...string) (*ouraemu.Server, string) {
	t.Helper()
	if scopes == nil {
		scopes = ouraemu.AllScopes
	}
	ds := &ouraemu.Dataset{Docs: map[string][]ouraemu.Doc{}, PersonalInfo: []byte(`{"id":"user-1","age":40,"weight":70.5,"height":1.8,"biological_sex":"female","email":"a@example.com"}`)}
	srv := ouraemu.NewServer(ouraemu.Options{Dataset: ds, Tokens: map[string][]string{testToken: scopes}})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

func configFor(t *testing.T, baseURL, token string) string {
	return writeJSON(t, "config.json", `{"api_key":"`+token+`","base_url":"`+baseURL+`","start_datetime":"2024-01-01T00:00:00Z"}`)
}

func TestSpecIsOneMessageOnOneLine(t *testing.T) {
	r := runCLI(t, "spec")
	if r.code != ExitOK || len(r.msgs) != 1 || r.msgs[0].Type != protocol.TypeSpec {
		t.Fatalf("code %d, msgs %+v", r.code, r.msgs)
	}
	if bytes.Count(r.stdout, []byte("\n")) != 1 {
		t.Fatalf("spec must be printed on one line")
	}
	if bytes.Contains(r.msgs[0].Spec, []byte(`"protocol_version"`)) {
		t.Fatal("spec must not set protocol_version")
	}
}

// TestExitCodeTable runs every row of the exit-code table in README.md.
func TestExitCodeTable(t *testing.T) {
	_, url := emulator(t)
	good := configFor(t, url, testToken)
	badToken := configFor(t, url, "wrong-token")
	invalid := writeJSON(t, "invalid.json", `{"api_key":"x","lookback_window_days":500}`)
	catalog := writeJSON(t, "catalog.json", `{"streams":[{"stream":{"name":"personal_info","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`)
	missing := filepath.Join(t.TempDir(), "missing.json")

	cases := []struct {
		name   string
		argv   []string
		code   int
		status protocol.Status      // expected CONNECTION_STATUS, "" for none
		fail   protocol.FailureType // expected ERROR trace failure type, "" for none
		text   string               // expected in the status message or error trace
	}{
		{"spec", []string{"spec"}, 0, "", "", ""},
		{"check ok", []string{"check", "--config", good}, 0, protocol.StatusSucceeded, "", ""},
		{"check bad token", []string{"check", "--config", badToken}, 0, protocol.StatusFailed, "", "access token"},
		{"check invalid config", []string{"check", "--config", invalid}, 0, protocol.StatusFailed, "", "lookback_window_days"},
		{"check missing file", []string{"check", "--config", missing}, 0, protocol.StatusFailed, protocol.ConfigError, "does not exist"},
		{"discover ok", []string{"discover", "--config", good}, 0, "", "", ""},
		{"discover invalid config", []string{"discover", "--config", invalid}, 1, "", protocol.ConfigError, "lookback_window_days"},
		{"read invalid config", []string{"read", "--config", invalid, "--catalog", catalog}, 1, "", protocol.ConfigError, "lookback_window_days"},
		{"read ok", []string{"read", "--config", good, "--catalog", catalog}, 0, "", "", ""},
		{"read missing catalog", []string{"read", "--config", good, "--catalog", missing}, 1, "", protocol.ConfigError, "catalog file"},
		{"unknown command", []string{"sync"}, 2, "", protocol.ConfigError, `unknown command "sync"`},
		{"missing flag", []string{"read", "--catalog", catalog}, 2, "", protocol.ConfigError, "needs --config"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.argv...)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d; stdout:\n%s", r.code, c.code, r.stdout)
			}
			st := r.ofType(protocol.TypeConnectionStatus)
			if c.status == "" && len(st) != 0 || c.status != "" && (len(st) != 1 || st[0].ConnectionStatus.Status != c.status) {
				t.Fatalf("connection status %+v, want %q", st, c.status)
			}
			errs := r.errors()
			if c.fail == "" && len(errs) != 0 {
				t.Fatalf("unexpected error trace %+v", errs[0])
			}
			if c.fail != "" && (len(errs) == 0 || errs[len(errs)-1].FailureType != c.fail) {
				t.Fatalf("want a %s error trace, got %+v", c.fail, errs)
			}
			if c.text != "" {
				var text string
				for _, s := range st {
					text += s.ConnectionStatus.Message
				}
				for _, e := range errs {
					text += e.Message
				}
				if !strings.Contains(text, c.text) {
					t.Fatalf("want %q in %q", c.text, text)
				}
			}
		})
	}
}

func TestCheckFailsWithAdviceForMissingScope(t *testing.T) {
	_, url := emulator(t, []string{}...) // no scope at all: nothing can be read (some scopes: check_cli_test.go)
	r := runCLI(t, "check", "--config", configFor(t, url, testToken))
	st := r.ofType(protocol.TypeConnectionStatus)
	if r.code != 0 || len(st) != 1 || st[0].ConnectionStatus.Status != protocol.StatusFailed {
		t.Fatalf("code %d status %+v", r.code, st)
	}
	if !strings.Contains(st[0].ConnectionStatus.Message, "personal") {
		t.Errorf("message should name the missing scope: %s", st[0].ConnectionStatus.Message)
	}
}

func TestCheckUpgradeRequired(t *testing.T) {
	srv, url := emulator(t)
	srv.SetFaults(ouraemu.Faults{UpgradeRequired: true})
	r := runCLI(t, "check", "--config", configFor(t, url, testToken))
	st := r.ofType(protocol.TypeConnectionStatus)
	if len(st) != 1 || st[0].ConnectionStatus.Status != protocol.StatusFailed || !strings.Contains(strings.ToLower(st[0].ConnectionStatus.Message), "app") {
		t.Fatalf("want FAILED telling to update the app, got %+v", st)
	}
}

func TestCheckNetworkFailureIsTransient(t *testing.T) {
	hs := httptest.NewServer(nil)
	url := hs.URL
	hs.Close() // nothing listens there any more
	r := runCLI(t, "check", "--config", configFor(t, url, testToken))
	errs := r.errors()
	if r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.TransientError {
		t.Fatalf("code %d errors %+v", r.code, errs)
	}
	if len(r.ofType(protocol.TypeConnectionStatus)) != 0 {
		t.Fatal("a connector-side failure gets a trace, not a status")
	}
}

func TestBadInputsGetOneLineErrors(t *testing.T) {
	_, url := emulator(t)
	good := configFor(t, url, testToken)
	dir := t.TempDir()
	cat := func(body string) string { return writeJSON(t, "cat.json", body) }
	cases := []struct {
		name string
		argv []string
		want string
	}{
		{"config is a directory", []string{"discover", "--config", dir}, "is a directory"},
		{"config empty", []string{"discover", "--config", writeJSON(t, "e.json", "")}, "is empty"},
		{"config not json", []string{"discover", "--config", writeJSON(t, "n.json", "api_key=1")}, "is not valid JSON"},
		{"config array", []string{"discover", "--config", writeJSON(t, "a.json", "[1]")}, "must be a JSON object"},
		{"both keys", []string{"discover", "--config", writeJSON(t, "b.json", `{"api_key":"a","credentials":{"auth_type":"api_key","api_key":"b"}}`)}, "not both"},
		{"no credentials", []string{"discover", "--config", writeJSON(t, "c.json", `{"start_datetime":"2024-01-01"}`)}, `"credentials"`},
		{"start after end", []string{"discover", "--config", writeJSON(t, "d.json", `{"api_key":"a","start_datetime":"2025-01-01T00:00:00Z","end_datetime":"2024-01-01T00:00:00Z"}`)}, "is after end_datetime"},
		{"http base url", []string{"discover", "--config", writeJSON(t, "h.json", `{"api_key":"a","base_url":"http://example.com"}`)}, "plain http"},
		{"wrong type", []string{"discover", "--config", writeJSON(t, "w.json", `{"api_key":"a","max_concurrent_streams":"four"}`)}, "max_concurrent_streams"},
		{"bad date", []string{"discover", "--config", writeJSON(t, "x.json", `{"api_key":"a","start_datetime":"yesterday"}`)}, "start_datetime"},
		{"unknown stream", []string{"read", "--config", good, "--catalog", cat(`{"streams":[{"stream":{"name":"steps","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`)}, `"steps"`},
		{"CAT invalid catalog", []string{"read", "--config", good, "--catalog", cat(`{"streams":[{"stream":{"name":"__AIRBYTE__stream_that_does_not_exist","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"INVALID","destination_sync_mode":"INVALID"}]}`)}, `"INVALID"`},
		{"incremental on full-refresh stream", []string{"read", "--config", good, "--catalog", cat(`{"streams":[{"stream":{"name":"personal_info","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`)}, "supports only full_refresh"},
		{"malformed state", []string{"read", "--config", good, "--catalog", cat(`{"streams":[{"stream":{"name":"daily_sleep","json_schema":{},"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`), "--state", writeJSON(t, "s.json", `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"daily_sleep"},"stream_state":{"cursor":"soon"}}}]`)}, "stream daily_sleep"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, c.argv...)
			errs := r.errors()
			if r.code != ExitFailure || len(errs) != 1 {
				t.Fatalf("code %d, errors %+v\n%s", r.code, errs, r.stdout)
			}
			if errs[0].FailureType != protocol.ConfigError || !strings.Contains(errs[0].Message, c.want) || strings.Contains(errs[0].Message, "\n") {
				t.Fatalf("want one config_error line with %q, got %+v", c.want, errs[0])
			}
		})
	}
}

func TestUnknownConfigKeysAreWarned(t *testing.T) {
	_, url := emulator(t)
	p := writeJSON(t, "c.json", `{"api_key":"`+testToken+`","base_url":"`+url+`","colour":"blue"}`)
	r := runCLI(t, "discover", "--config", p)
	if r.code != 0 {
		t.Fatalf("unknown keys must be accepted: %s", r.stdout)
	}
	found := false
	for _, m := range r.ofType(protocol.TypeLog) {
		if m.Log.Level == protocol.LevelWarn && strings.Contains(m.Log.Message, "colour") {
			found = true
		}
	}
	if !found {
		t.Fatal("want a WARN naming the unknown key")
	}
}

func TestOlderConnectorConfigIsAccepted(t *testing.T) {
	// The shape airbyte/source-oura documents.
	p := writeJSON(t, "c.json", `{"api_key":"abc","start_datetime":"2024-01-01T00:00:00Z","end_datetime":"2024-02-01T00:00:00Z"}`)
	if r := runCLI(t, "discover", "--config", p); r.code != 0 || len(r.ofType(protocol.TypeCatalog)) != 1 {
		t.Fatalf("code %d: %s", r.code, r.stdout)
	}
}

func TestFlagsInAnyOrder(t *testing.T) {
	_, url := emulator(t)
	good := configFor(t, url, testToken)
	for _, argv := range [][]string{
		{"--debug", "discover", "--config", good},
		{"discover", "--config=" + good, "--debug"},
	} {
		if r := runCLI(t, argv...); r.code != 0 || len(r.ofType(protocol.TypeCatalog)) != 1 {
			t.Fatalf("%v: code %d", argv, r.code)
		}
	}
	if r := runCLI(t, "--help"); r.code != 0 || len(r.stdout) != 0 || !strings.Contains(r.stderr, "Usage") {
		t.Fatalf("--help must print usage on stderr only")
	}
	if r := runCLI(t, "--version"); r.code != 0 || !strings.Contains(r.stderr, "test") {
		t.Fatalf("--version: %q", r.stderr)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	_, url := emulator(t)
	secret := "tok-another-secret-999"
	for _, argv := range [][]string{
		{"check", "--config", configFor(t, url, secret)},
		{"discover", "--config", writeJSON(t, "c.json", `{"api_key":"`+secret+`","base_url":"http://example.com"}`)},
		{"--debug", "check", "--config", configFor(t, url, testToken)},
	} {
		r := runCLI(t, argv...)
		for _, s := range []string{secret, testToken} {
			if bytes.Contains(r.stdout, []byte(s)) || strings.Contains(r.stderr, s) {
				t.Fatalf("%v leaked a secret:\n%s\n%s", argv, r.stdout, r.stderr)
			}
		}
	}
}

// TestEveryLineIsAnAirbyteMessage checks spec, check, discover and read output against
// airbyte_protocol.yaml (skipped when ../shared is absent).
func TestEveryLineIsAnAirbyteMessage(t *testing.T) {
	checker := protocoltest.NewChecker(t)
	_, url := emulator(t)
	good := configFor(t, url, testToken)
	catalog := writeJSON(t, "catalog.json", `{"streams":[{"stream":{"name":"personal_info","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"},{"stream":{"name":"daily_sleep","json_schema":{},"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`)
	for _, argv := range [][]string{
		{"spec"},
		{"check", "--config", good},
		{"check", "--config", configFor(t, url, "bad")},
		{"discover", "--config", good},
		{"--debug", "read", "--config", good, "--catalog", catalog},
		{"read", "--config", good, "--catalog", "/nope"},
	} {
		r := runCLI(t, argv...)
		if len(r.stdout) == 0 {
			t.Fatalf("%v printed nothing", argv)
		}
		checker.CheckOutput(t, r.stdout)
	}
}

// writerFailing fails every write with err.
type writerFailing struct{ err error }

func (w writerFailing) Write([]byte) (int, error) { return 0, w.err }

// TestStdoutFailureIsOneLineOnStderr: when stdout cannot be written (a full disk), every command
// exits 1 and says so in exactly one line on stderr, with no line per dropped log event; a closed
// pipe (read | head -1) exits 1 too, but quietly: the reader chose to stop.
func TestStdoutFailureIsOneLineOnStderr(t *testing.T) {
	_, url := emulator(t)
	config := configFor(t, url, testToken)
	full := errors.New("write /dev/stdout: no space left on device")
	// zerolog prints a failed event on the process's stderr, not env.Stderr: count those instead.
	var spam atomic.Int64
	defer func(h func(error)) { zerolog.ErrorHandler = h }(zerolog.ErrorHandler)
	zerolog.ErrorHandler = func(error) { spam.Add(1) }
	for _, argv := range [][]string{{"spec"}, {"check", "--config", config}, {"discover", "--config", config}, {"read", "--config", config}} {
		for _, tc := range []struct {
			err  error
			want string
		}{
			{full, "source-oura: cannot write to stdout: write /dev/stdout: no space left on device; nothing more can be reported there\n"},
			{&os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EPIPE}, ""},
		} {
			var errb bytes.Buffer
			env := Env{Stdout: writerFailing{tc.err}, Stderr: &errb, Spec: specBytes(t), Version: "test"}
			code := Run(context.Background(), argv, env)
			if code != ExitFailure || errb.String() != tc.want {
				t.Errorf("%s with stdout failing (%v): exit %d, stderr %q; want exit 1 and stderr %q", argv[0], tc.err, code, errb.String(), tc.want)
			}
			if n := spam.Swap(0); n != 0 {
				t.Errorf("%s with stdout failing (%v): zerolog reported %d failed events on stderr", argv[0], tc.err, n)
			}
		}
	}
}

// TestDebugQueryIsReadable: --debug request lines show a query as Oura got it, a=1&b=2, not with
// the \u0026 json.Marshal writes for &.
func TestDebugQueryIsReadable(t *testing.T) {
	_, url := emulator(t)
	r := runCLI(t, "check", "--config", configFor(t, url, testToken), "--debug")
	var lines []string
	for _, m := range r.ofType(protocol.TypeLog) {
		if strings.HasPrefix(m.Log.Message, "Oura request ") && strings.Contains(m.Log.Message, "start_date") {
			lines = append(lines, m.Log.Message)
		}
	}
	if len(lines) == 0 {
		t.Fatalf("no debug request line with a query\n%s", r.stdout)
	}
	for _, l := range lines {
		if strings.Contains(l, `\u0026`) || !strings.Contains(l, "&") {
			t.Errorf("query not readable: %q", l)
		}
	}
}
