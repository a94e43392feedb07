package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"source-oura/internal/auth"
	"source-oura/internal/fakeclock"
	"source-oura/internal/oura"
	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
	"source-oura/protocol"
)

const (
	oauthClientID     = "client-id-4711"
	oauthClientSecret = "client-secret-0815"
)

// oauthFixture is the emulator with an OAuth client, a small dataset served in small pages, and a
// switch that revokes every access token after a given number of data requests.
type oauthFixture struct {
	srv         *ouraemu.Server
	url         string
	clock       *fakeclock.Clock // shared by the emulator and the connector, so token expiry means the same to both
	dir         string
	first       time.Time
	revokeAfter atomic.Int64 // 0: never
	dataReqs    atomic.Int64
}

func newOAuthFixture(t *testing.T, edits ...func(*ouraemu.Options)) *oauthFixture {
	t.Helper()
	last := time.Date(2025, 4, 20, 0, 0, 0, 0, time.UTC)
	f := &oauthFixture{clock: fakeclock.New(last.Add(20 * time.Hour)), dir: t.TempDir(), first: last.AddDate(0, 0, -9)}
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 3, First: f.first, Last: last})
	opts := ouraemu.Options{
		Dataset:  ds,
		PageSize: 3,
		Now:      f.clock.Now,
		Clients:  map[string]string{oauthClientID: oauthClientSecret},
		OnRequest: func(req ouraemu.Request) {
			if !strings.HasPrefix(req.Path, "/v2/") {
				return
			}
			if n := f.dataReqs.Add(1); n == f.revokeAfter.Load() {
				f.srv.RevokeAccessTokens()
			}
		},
	}
	for _, edit := range edits {
		edit(&opts)
	}
	f.srv = ouraemu.NewServer(opts)
	hs := httptest.NewServer(f.srv)
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

// tokenRequests counts the requests the token endpoint has answered.
func (f *oauthFixture) tokenRequests() int {
	n := 0
	for _, r := range f.srv.Requests() {
		if r.Path == "/oauth/token" {
			n++
		}
	}
	return n
}

// configFile writes an OAuth config holding only a refresh token, pretty-printed, with a key the
// connector does not know.
func (f *oauthFixture) configFile(t *testing.T, name, refresh string, extra string) string {
	t.Helper()
	doc := fmt.Sprintf(`{
  "_comment": "written by hand",
  "credentials": {
    "auth_type": "oauth2.0",
    "client_id": %q,
    "client_secret": %q,
    "refresh_token": %q
  },
  "base_url": %q,
  "start_datetime": %q,%s
  "max_concurrent_streams": 4
}
`, oauthClientID, oauthClientSecret, refresh, f.url, f.first.Format("2006-01-02"), extra)
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// oauthCatalog selects five streams that take a few pages each.
func oauthCatalog(t *testing.T, dir string) string {
	t.Helper()
	var parts []string
	for _, s := range []string{"daily_sleep", "daily_activity", "daily_readiness", "sleep_periods", "personal_info"} {
		mode, dest := "incremental", "append"
		if s == "personal_info" {
			mode, dest = "full_refresh", "overwrite"
		}
		parts = append(parts, fmt.Sprintf(`{"stream":{"name":%q,"json_schema":{},"supported_sync_modes":[%q]},"sync_mode":%q,"destination_sync_mode":%q}`,
			s, mode, mode, dest))
	}
	p := filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(p, []byte(`{"streams":[`+strings.Join(parts, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runEnv runs a command with env (filled with the test defaults) and decodes stdout.
func runEnv(t *testing.T, env Env, argv ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env.Stdout, env.Stderr, env.Spec, env.Version = &out, &errb, specBytes(t), "test"
	env.Client = func(c *oura.Config) { c.MinBackoff = time.Millisecond; c.MaxBackoff = 5 * time.Millisecond }
	code := Run(context.Background(), argv, env)
	r := result{code: code, stdout: out.Bytes(), stderr: errb.String()}
	r.msgs = protocoltest.DecodeMessages(t, fmt.Sprint(argv), r.stdout, func(m *protocol.Message) bool { return m.Type != "" })
	return r
}

func (f *oauthFixture) read(t *testing.T, config, catalog string) result {
	t.Helper()
	return runEnv(t, Env{Now: f.clock.Now}, "read", "--config", config, "--catalog", catalog)
}

// controlConfigs returns the configs of the CONTROL messages of a run.
func controlConfigs(t *testing.T, r result) [][]byte {
	t.Helper()
	var out [][]byte
	for _, m := range r.ofType(protocol.TypeControl) {
		if m.Control.Type != protocol.ControlConnectorConfig || m.Control.ConnectorConfig == nil {
			t.Fatalf("unexpected control message %+v", m.Control)
		}
		out = append(out, m.Control.ConnectorConfig.Config)
	}
	return out
}

// leakCheck fails if a secret appears on stderr, or on stdout outside CONTROL messages (which
// must carry them for the platform to store).
func leakCheck(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, line := range bytes.Split(r.stdout, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(`{"type":"CONTROL"`)) {
			continue
		}
		for _, s := range secrets {
			if s != "" && bytes.Contains(line, []byte(s)) {
				t.Errorf("a secret is on stdout: %s", line)
			}
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(r.stderr, s) {
			t.Errorf("a secret is on stderr: %s", r.stderr)
		}
	}
}

func recordCount(r result) int { return len(r.ofType(protocol.TypeRecord)) }

func logsAt(r result, level protocol.Level) []string {
	var out []string
	for _, m := range r.ofType(protocol.TypeLog) {
		if m.Log.Level == level {
			out = append(out, m.Log.Message)
		}
	}
	return out
}

// TestOAuthByHandReadsKeepTheirConfigFileWorking runs three reads with one config file, as a
// person running the connector by hand would: each refreshes once (missing token, token about to
// expire, token revoked mid-sync), emits one CONTROL message and rewrites the file; then a copy
// of the original config, whose refresh token was spent, fails with a clear config error.
func TestOAuthByHandReadsKeepTheirConfigFileWorking(t *testing.T) {
	f := newOAuthFixture(t)
	original := f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...)
	cfgPath := f.configFile(t, "config.json", original, "")
	stale := f.configFile(t, "stale.json", original, "")
	catalog := oauthCatalog(t, f.dir)
	secrets := []string{oauthClientSecret, original}

	var records int
	prev := original
	for run, setup := range []func(){
		func() {}, // no access token in the file yet
		func() { f.clock.Advance(24*time.Hour - 5*time.Minute) }, // the saved token expires within 10 minutes
		func() { f.revokeAfter.Store(f.dataReqs.Load() + 5) },    // Oura revokes it after 5 requests of this run
	} {
		setup()
		before, tokenBefore := f.dataReqs.Load(), f.tokenRequests()
		r := f.read(t, cfgPath, catalog)
		if r.code != ExitOK {
			t.Fatalf("run %d: exit %d\n%s", run+1, r.code, r.stdout)
		}
		if n := f.tokenRequests() - tokenBefore; n != 1 {
			t.Errorf("run %d: %d token requests, want 1", run+1, n)
		}
		configs := controlConfigs(t, r)
		if len(configs) != 1 {
			t.Fatalf("run %d: %d CONTROL messages, want 1", run+1, len(configs))
		}
		file, err := os.ReadFile(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, file); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(compact.Bytes(), configs[0]) {
			t.Errorf("run %d: the file and the CONTROL config differ:\n%s\n%s", run+1, file, configs[0])
		}
		c := protocoltest.CredentialsOf(t, file)
		if c.RefreshToken == prev || c.RefreshToken == "" || c.AccessToken == "" {
			t.Errorf("run %d: the file was not given new tokens: %+v", run+1, c)
		}
		if want := f.clock.Now().Add(24 * time.Hour).Format(time.RFC3339); c.Expiry != want {
			t.Errorf("run %d: token_expiry_date = %q, want %q", run+1, c.Expiry, want)
		}
		order := []string{`"_comment"`, `"auth_type"`, `"client_secret"`, `"refresh_token"`, `"access_token"`,
			`"token_expiry_date"`, `"base_url"`, `"max_concurrent_streams"`}
		for i := 1; i < len(order); i++ {
			if bytes.Index(file, []byte(order[i-1])) > bytes.Index(file, []byte(order[i])) {
				t.Errorf("run %d: key order changed (%s after %s):\n%s", run+1, order[i-1], order[i], file)
			}
		}
		if info, _ := os.Stat(cfgPath); info.Mode().Perm() != 0o600 {
			t.Errorf("run %d: mode %04o, want 0600 kept", run+1, info.Mode().Perm())
		}
		if run == 0 {
			records = recordCount(r)
			if records == 0 {
				t.Fatal("run 1 read no records")
			}
		} else if recordCount(r) != records {
			t.Errorf("run %d: %d records, want %d like run 1", run+1, recordCount(r), records)
		}
		if len(r.errors()) != 0 {
			t.Errorf("run %d: error traces %+v", run+1, r.errors())
		}
		if f.dataReqs.Load()-before < 10 {
			t.Fatalf("run %d made only %d data requests; the fixture should need more", run+1, f.dataReqs.Load()-before)
		}
		secrets = append(secrets, c.RefreshToken, c.AccessToken)
		leakCheck(t, r, secrets...)
		prev = c.RefreshToken
	}
	// The third run really met a 401 and carried on.
	unauthorized := 0
	for _, req := range f.srv.Requests() {
		if req.Status == http.StatusUnauthorized {
			unauthorized++
		}
	}
	if unauthorized == 0 {
		t.Error("no request got a 401: the revocation did not happen mid-sync")
	}

	// A copy of the config that still holds the first refresh token.
	tokenBefore := f.tokenRequests()
	r := f.read(t, stale, catalog)
	if r.code != ExitFailure || len(controlConfigs(t, r)) != 0 {
		t.Fatalf("stale config: exit %d, %d CONTROL messages; want failure and none", r.code, len(controlConfigs(t, r)))
	}
	if n := f.tokenRequests() - tokenBefore; n != 1 {
		t.Errorf("stale config: %d token requests, want exactly 1 (a spent token is not sent again)", n)
	}
	errs := r.errors()
	if len(errs) == 0 {
		t.Fatal("no error trace")
	}
	for _, e := range errs {
		if e.FailureType != protocol.ConfigError {
			t.Errorf("failure type %s, want config_error: %s", e.FailureType, e.Message)
		}
	}
	msg := errs[0].Message
	for _, want := range []string{"already used", "source-oura auth", "authenticate it again"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	leakCheck(t, r, secrets...)
	if now, _ := os.ReadFile(stale); protocoltest.CredentialsOf(t, now).RefreshToken != original {
		t.Error("the stale config file was changed")
	}
}

func TestOAuthSandboxReadWithConcurrentStreamsRefreshesOnce(t *testing.T) {
	f := newOAuthFixture(t)
	// No access token and the sandbox (no account lookup first): every stream asks for a token at once.
	cfg := f.configFile(t, "config.json", f.srv.IssueRefreshToken(oauthClientID), "\n  \"sandbox\": true,")
	catalogPath := oauthCatalog(t, f.dir)
	r := f.read(t, cfg, catalogPath)
	if r.code != ExitOK || recordCount(r) == 0 {
		t.Fatalf("exit %d, %d records\n%s", r.code, recordCount(r), r.stdout)
	}
	if n := f.tokenRequests(); n != 1 {
		t.Errorf("%d token requests for 4 concurrent streams, want 1", n)
	}
	if n := len(controlConfigs(t, r)); n != 1 {
		t.Errorf("%d CONTROL messages, want 1", n)
	}
	for _, req := range f.srv.Requests() {
		if strings.HasPrefix(req.Path, "/v2/") && !strings.HasPrefix(req.Path, "/v2/sandbox/") {
			t.Errorf("sandbox read called a live route: %s", req.Path)
		}
	}
	// The token the emulator issued has no scopes: only the sandbox accepts it, as with Oura.
	leakCheck(t, r, oauthClientSecret, protocoltest.CredentialsOf(t, controlConfigs(t, r)[0]).RefreshToken)
}

func TestOAuthReadOnlyConfigWarnsAndSyncs(t *testing.T) {
	f := newOAuthFixture(t)
	cfg := f.configFile(t, "config.json", f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...), "")
	if err := os.Chmod(cfg, 0o400); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(cfg)
	r := f.read(t, cfg, oauthCatalog(t, f.dir))
	if r.code != ExitOK || recordCount(r) == 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	configs := controlConfigs(t, r)
	if len(configs) != 1 {
		t.Fatalf("%d CONTROL messages, want 1", len(configs))
	}
	warns := logsAt(r, protocol.LevelWarn)
	found := false
	for _, w := range warns {
		if strings.Contains(w, cfg) && strings.Contains(w, "refresh token") && strings.Contains(w, "CONNECTOR_CONFIG control message") {
			found = true
		}
	}
	if !found {
		t.Errorf("no WARN about saving the new refresh token; warnings: %q", warns)
	}
	// The WARN comes after the CONTROL message it points to.
	if c, w := bytes.Index(r.stdout, []byte(`"CONTROL"`)), bytes.Index(r.stdout, []byte(`"WARN"`)); c < 0 || w < c {
		t.Error("the WARN is written before the CONTROL message")
	}
	if after, _ := os.ReadFile(cfg); !bytes.Equal(before, after) {
		t.Error("a read-only config file was changed")
	}
	leakCheck(t, r, oauthClientSecret, protocoltest.CredentialsOf(t, configs[0]).RefreshToken, protocoltest.CredentialsOf(t, configs[0]).AccessToken)
}

func TestOAuthCheckRefreshesAndEmitsTheConfig(t *testing.T) {
	f := newOAuthFixture(t)
	cfg := f.configFile(t, "config.json", f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...), "")
	r := runEnv(t, Env{Now: f.clock.Now}, "check", "--config", cfg)
	status := r.ofType(protocol.TypeConnectionStatus)
	if r.code != ExitOK || len(status) != 1 || status[0].ConnectionStatus.Status != protocol.StatusSucceeded {
		t.Fatalf("check: exit %d\n%s", r.code, r.stdout)
	}
	if n := len(controlConfigs(t, r)); n != 1 {
		t.Errorf("%d CONTROL messages, want 1", n)
	}

	// The spent token, used again by check: FAILED with the advice, and no retry loop.
	stale := f.configFile(t, "stale.json", "never-issued-refresh-token", "")
	r = runEnv(t, Env{Now: f.clock.Now}, "check", "--config", stale)
	status = r.ofType(protocol.TypeConnectionStatus)
	if r.code != ExitOK || len(status) != 1 || status[0].ConnectionStatus.Status != protocol.StatusFailed ||
		!strings.Contains(status[0].ConnectionStatus.Message, "source-oura auth") {
		t.Fatalf("check with a bad refresh token: exit %d\n%s", r.code, r.stdout)
	}
	if len(r.ofType(protocol.TypeTrace)) != 0 {
		t.Errorf("check emitted a trace beside its FAILED status:\n%s", r.stdout)
	}
}

func TestAccountIDIsLoggedOncePerSyncWhenTheScopeAllows(t *testing.T) {
	sleep := `{"streams":[{"stream":{"name":"daily_sleep","json_schema":{},"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`
	// When personal_info is itself synced, the id is still logged once and the document fetched once.
	personal := `{"streams":[{"stream":{"name":"personal_info","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`
	for _, tc := range []struct {
		name    string
		scopes  []string
		catalog string
		want    bool
	}{
		{"with the personal scope", nil, sleep, true},
		{"without it", []string{"daily"}, sleep, false},
		{"syncing personal_info", nil, personal, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, url := emulator(t, tc.scopes...)
			r := runCLI(t, "read", "--config", configFor(t, url, testToken), "--catalog", writeJSON(t, "catalog.json", tc.catalog))
			if r.code != ExitOK {
				t.Fatalf("exit %d\n%s", r.code, r.stdout)
			}
			n := 0
			for _, m := range logsAt(r, protocol.LevelInfo) {
				if strings.Contains(m, "account_id=user-1") {
					n++
				}
			}
			if tc.want && n != 1 || !tc.want && n != 0 {
				t.Errorf("account id logged %d times\n%s", n, r.stdout)
			}
			if w := logsAt(r, protocol.LevelWarn); len(w) != 0 {
				t.Errorf("warnings: %q", w)
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
		})
	}
}

// freeRedirect returns a loopback redirect URI on a port that was free a moment ago.
func freeRedirect(t *testing.T) string {
	t.Helper()
	return protocoltest.ClosedLoopbackURL(t) + "/callback"
}

// browser plays the user's browser: it opens the consent URL, which the emulator answers at once
// with a redirect to the command's listener.
type browser struct {
	opened []string
	status int
	page   string
}

func (b *browser) open(t *testing.T) func(string) {
	return func(consent string) {
		b.opened = append(b.opened, consent)
		resp, err := http.Get(consent)
		if err != nil {
			t.Errorf("browser: %v", err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		b.status, b.page = resp.StatusCode, string(body)
	}
}

func TestAuthCommandEndToEnd(t *testing.T) {
	f := newOAuthFixture(t)
	redirect := freeRedirect(t)
	out := filepath.Join(f.dir, "new-config.json")
	b := &browser{}
	r := runEnv(t, Env{Now: f.clock.Now, OpenBrowser: b.open(t)}, "auth",
		"--client-id", oauthClientID, "--client-secret", oauthClientSecret,
		"--base-url", f.url, "--redirect-uri", redirect, "--output", out)
	if r.code != ExitOK {
		t.Fatalf("auth: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if len(b.opened) != 1 || b.status != http.StatusOK || !strings.Contains(b.page, "access granted") {
		t.Fatalf("browser: opened %v, got %d %q", b.opened, b.status, b.page)
	}
	consent, err := url.Parse(b.opened[0])
	if err != nil || consent.Path != "/oauth/authorize" || consent.Query().Get("client_id") != oauthClientID ||
		consent.Query().Get("redirect_uri") != redirect || consent.Query().Get("state") == "" {
		t.Errorf("consent URL %s", b.opened[0])
	}
	if !strings.Contains(r.stderr, b.opened[0]) {
		t.Errorf("the consent URL is not on stderr: %s", r.stderr)
	}
	if strings.Contains(string(r.stdout), "authorize") {
		t.Errorf("the consent URL went to stdout: %s", r.stdout)
	}

	info, err := os.Stat(out)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, mode %v", err, info)
	}
	file, _ := os.ReadFile(out)
	var doc struct {
		Credentials map[string]string `json:"credentials"`
		BaseURL     string            `json:"base_url"`
	}
	if err := json.Unmarshal(file, &doc); err != nil {
		t.Fatalf("%v\n%s", err, file)
	}
	c := doc.Credentials
	if c["auth_type"] != "oauth2.0" || c["client_id"] != oauthClientID || c["client_secret"] != oauthClientSecret ||
		c["refresh_token"] == "" || c["access_token"] == "" || c["token_expiry_date"] == "" || doc.BaseURL != f.url {
		t.Errorf("config written:\n%s", file)
	}
	logs := logsAt(r, protocol.LevelInfo)
	if len(logs) == 0 || !strings.Contains(logs[len(logs)-1], out) || !strings.Contains(logs[len(logs)-1], "account") {
		t.Errorf("no LOG naming the file and the account: %q", logs)
	}
	leakCheck(t, r, oauthClientSecret, c["refresh_token"], c["access_token"])

	// The file works as it is.
	rr := f.read(t, out, oauthCatalog(t, f.dir))
	if rr.code != ExitOK || recordCount(rr) == 0 {
		t.Fatalf("read with the written config: exit %d\n%s", rr.code, rr.stdout)
	}
	if n := len(controlConfigs(t, rr)); n != 0 {
		t.Errorf("the fresh access token was refreshed anyway (%d CONTROL messages)", n)
	}
}

func TestAuthCommandPastedCodeUpdatesAnExistingConfig(t *testing.T) {
	f := newOAuthFixture(t)
	const redirect = "http://localhost:8787/callback"
	out := filepath.Join(f.dir, "config.json")
	existing := "{\n  \"api_key\": \"old-personal-token\",\n  \"start_datetime\": \"2024-01-01\",\n  \"sandbox\": true\n}\n"
	if err := os.WriteFile(out, []byte(existing), 0o640); err != nil {
		t.Fatal(err)
	}
	code := f.srv.NewAuthCode(oauthClientID, redirect, ouraemu.AllScopes...)
	stdin := strings.NewReader(redirect + "?code=" + url.QueryEscape(code) + "&scope=daily\n")
	r := runEnv(t, Env{Now: f.clock.Now, Stdin: stdin}, "auth", "--paste",
		"--client-id", oauthClientID, "--client-secret", oauthClientSecret, "--base-url", f.url, "--output", out)
	if r.code != ExitOK {
		t.Fatalf("auth --paste: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "paste it here") {
		t.Errorf("no paste prompt on stderr: %s", r.stderr)
	}
	file, _ := os.ReadFile(out)
	s := string(file)
	if strings.Contains(s, "old-personal-token") || !strings.Contains(s, `"start_datetime": "2024-01-01"`) ||
		!strings.Contains(s, `"sandbox": true`) || !strings.Contains(s, `"auth_type": "oauth2.0"`) {
		t.Errorf("updated config:\n%s", s)
	}
	if info, _ := os.Stat(out); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600: the group must not read the new refresh token", info.Mode().Perm())
	}
	if r := runEnv(t, Env{Now: f.clock.Now}, "check", "--config", out); r.code != ExitOK ||
		r.ofType(protocol.TypeConnectionStatus)[0].ConnectionStatus.Status != protocol.StatusSucceeded {
		t.Errorf("check with the updated config:\n%s", r.stdout)
	}

	// --code skips the consent step; a code works only once.
	r = runEnv(t, Env{Now: f.clock.Now}, "auth", "--code", code,
		"--client-id", oauthClientID, "--client-secret", oauthClientSecret, "--base-url", f.url,
		"--output", filepath.Join(f.dir, "other.json"))
	errs := r.errors()
	if r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError ||
		!strings.Contains(errs[0].Message, "authorization code") || strings.Contains(string(r.stdout), code) {
		t.Errorf("reused code: exit %d\n%s", r.code, r.stdout)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "other.json")); err == nil {
		t.Error("a config was written after a failed exchange")
	}
}

func TestAuthCommandRefusals(t *testing.T) {
	f := newOAuthFixture(t)
	code := f.srv.NewAuthCode(oauthClientID, auth.DefaultRedirectURI)
	for _, tc := range []struct {
		name     string
		stdin    string
		argv     []string
		want     string
		wantCode int // 0: ExitFailure
	}{
		{"wrong secret", "", []string{"--code", code, "--client-secret", "not-the-secret"}, "--client-id and the client secret (--client-secret)", 0},
		{"pasted answer from another sign-in", auth.DefaultRedirectURI + "?code=x&state=other\n",
			[]string{"--paste", "--client-secret", oauthClientSecret}, "another sign-in", 0},
		{"user declined", auth.DefaultRedirectURI + "?error=access_denied\n",
			[]string{"--paste", "--client-secret", oauthClientSecret}, "access_denied", 0},
		{"nothing pasted", "", []string{"--paste", "--client-secret", oauthClientSecret}, "stdin closed before a code was pasted; paste the code from the consent page, or use --code", 0},
		{"redirect elsewhere", "", []string{"--redirect-uri", "https://example.com/cb", "--client-secret", oauthClientSecret}, "--paste", 0},
		{"plain http token URL", "", []string{"--token-url", "http://example.com/token", "--client-secret", oauthClientSecret}, "plain http", ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "config.json")
			argv := append([]string{"auth", "--client-id", oauthClientID, "--base-url", f.url, "--output", out}, tc.argv...)
			r := runEnv(t, Env{Now: f.clock.Now, Stdin: strings.NewReader(tc.stdin)}, argv...)
			errs := r.errors()
			if tc.wantCode == 0 {
				tc.wantCode = ExitFailure
			}
			if r.code != tc.wantCode || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError ||
				!strings.Contains(errs[0].Message, tc.want) {
				t.Fatalf("exit %d, want %d and a config_error mentioning %q\n%s", r.code, tc.wantCode, tc.want, r.stdout)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a config file was written")
			}
			leakCheck(t, r, oauthClientSecret, "not-the-secret")
		})
	}
}

// tokenPaths lists the token-endpoint paths the emulator was asked, with their statuses.
func (f *oauthFixture) tokenPaths() []string {
	var out []string
	for _, r := range f.srv.Requests() {
		if strings.HasPrefix(r.Path, "/oauth/") && r.Method == http.MethodPost {
			out = append(out, fmt.Sprintf("%s %d", r.Path, r.Status))
		}
	}
	return out
}

// TestOAuthPortalAppRefreshes runs check against an emulated app of Oura's newer developer
// portal: with credentials.oauth_app_type developer_portal the refresh goes straight to the
// portal endpoint; without it, one classic 400, one portal success and one WARN.
func TestOAuthPortalAppRefreshes(t *testing.T) {
	portal := func(o *ouraemu.Options) { o.DeveloperPortalApp = true }
	for _, tc := range []struct {
		name  string
		paths []string // nil: set oauth_app_type developer_portal
		warns int
	}{
		{"app type set", nil, 0},
		{"app type not set", []string{"/oauth/token 400", ouraemu.PortalTokenPath + " 200"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newOAuthFixture(t, portal)
			rt := f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...)
			cfg := f.configFile(t, "config.json", rt, "")
			want := tc.paths
			if tc.paths == nil {
				// The enum set, the way the Airbyte UI or `auth --app-type` writes it.
				doc, _ := os.ReadFile(cfg)
				doc = bytes.Replace(doc, []byte(`"auth_type": "oauth2.0",`), []byte(`"auth_type": "oauth2.0", "oauth_app_type": "developer_portal",`), 1)
				if err := os.WriteFile(cfg, doc, 0o600); err != nil {
					t.Fatal(err)
				}
				want = []string{ouraemu.PortalTokenPath + " 200"}
			}
			r := runEnv(t, Env{Now: f.clock.Now}, "check", "--config", cfg)
			status := r.ofType(protocol.TypeConnectionStatus)
			if r.code != ExitOK || len(status) != 1 || status[0].ConnectionStatus.Status != protocol.StatusSucceeded {
				t.Fatalf("check: exit %d\n%s", r.code, r.stdout)
			}
			if got := f.tokenPaths(); strings.Join(got, ", ") != strings.Join(want, ", ") {
				t.Errorf("token requests %q; want %q", got, want)
			}
			var warns []string
			for _, w := range logsAt(r, protocol.LevelWarn) {
				if strings.Contains(w, "oauth_app_type") {
					warns = append(warns, w)
				}
			}
			if len(warns) != tc.warns || (tc.warns > 0 && !strings.Contains(warns[0], `"developer_portal"`)) {
				t.Errorf("WARNs about oauth_app_type: %q; want %d", warns, tc.warns)
			}
			configs := controlConfigs(t, r)
			if len(configs) != 1 || protocoltest.CredentialsOf(t, configs[0]).RefreshToken == rt {
				t.Fatalf("%d CONTROL messages; want one with the new refresh token", len(configs))
			}
			leakCheck(t, r, oauthClientSecret, rt, protocoltest.CredentialsOf(t, configs[0]).RefreshToken)
		})
	}
}

// TestAuthCommandWithAppTypeDeveloperPortal signs in with --app-type developer_portal: the
// consent page and the code exchange are the portal's, the config says so, and a later refresh
// with that config goes to the portal endpoint only.
func TestAuthCommandWithAppTypeDeveloperPortal(t *testing.T) {
	f := newOAuthFixture(t, func(o *ouraemu.Options) { o.DeveloperPortalApp = true })
	t.Setenv(secretEnv, oauthClientSecret)
	out := filepath.Join(f.dir, "portal.json")
	b := &browser{}
	r := runEnv(t, Env{Now: f.clock.Now, OpenBrowser: b.open(t)}, "auth", "--app-type", "developer_portal",
		"--client-id", oauthClientID, "--base-url", f.url, "--redirect-uri", freeRedirect(t), "--output", out)
	if r.code != ExitOK || len(b.opened) != 1 {
		t.Fatalf("auth: exit %d, browser %v\n%s\n%s", r.code, b.opened, r.stdout, r.stderr)
	}
	if u, _ := url.Parse(b.opened[0]); u == nil || u.Path != ouraemu.PortalAuthorizePath {
		t.Errorf("consent URL %s; want the portal's %s", b.opened[0], ouraemu.PortalAuthorizePath)
	}
	file, _ := os.ReadFile(out)
	if !strings.Contains(string(file), `"oauth_app_type": "developer_portal"`) {
		t.Errorf("the config does not record the app type:\n%s", file)
	}
	f.clock.Advance(24 * time.Hour) // the access token expires: the next run refreshes
	f.srv.ResetRequests()
	if rr := runEnv(t, Env{Now: f.clock.Now}, "check", "--config", out); rr.code != ExitOK ||
		rr.ofType(protocol.TypeConnectionStatus)[0].ConnectionStatus.Status != protocol.StatusSucceeded {
		t.Fatalf("check with the written config:\n%s", rr.stdout)
	}
	if got := f.tokenPaths(); len(got) != 1 || got[0] != ouraemu.PortalTokenPath+" 200" {
		t.Errorf("refresh requests %q; want one at the portal", got)
	}

	// An unknown app type is refused before anything is asked, as a command line that cannot run.
	r = runEnv(t, Env{Now: f.clock.Now}, "auth", "--app-type", "https://evil.example/token",
		"--client-id", oauthClientID, "--base-url", f.url, "--output", filepath.Join(f.dir, "x.json"))
	if errs := r.errors(); r.code != ExitUsage || len(errs) != 1 || !strings.Contains(errs[0].Message, "--app-type") ||
		!strings.Contains(errs[0].Message, "developer_portal") {
		t.Errorf("unknown app type: exit %d\n%s", r.code, r.stdout)
	}
}

// TestAuthClientSecretSources gives the client secret each way the auth command takes it. The
// secret must reach the config file and never stdout or stderr; the prompt goes to stderr; the
// command-line flag works with a warning.
func TestAuthClientSecretSources(t *testing.T) {
	f := newOAuthFixture(t)
	t.Setenv(secretEnv, "")
	for _, tc := range []struct {
		name       string
		env        *string
		flag       bool
		terminal   bool
		wantPrompt bool
		wantWarn   bool
		wantErr    string
	}{
		{name: "environment", env: ptr(oauthClientSecret)},
		{name: "prompt on a terminal", terminal: true, wantPrompt: true},
		{name: "flag", flag: true, wantWarn: true},
		{name: "flag wins over the environment", env: ptr("not-the-secret"), flag: true, wantWarn: true},
		{name: "nothing", wantErr: secretEnv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != nil {
				t.Setenv(secretEnv, *tc.env)
			} else {
				os.Unsetenv(secretEnv)
			}
			out := filepath.Join(t.TempDir(), "config.json")
			argv := []string{"auth", "--client-id", oauthClientID, "--base-url", f.url, "--output", out,
				"--code", f.srv.NewAuthCode(oauthClientID, auth.DefaultRedirectURI, ouraemu.AllScopes...)}
			if tc.flag {
				argv = append(argv, "--client-secret", oauthClientSecret)
			}
			env := Env{Now: f.clock.Now, Stdin: strings.NewReader("")}
			prompted := 0
			if tc.terminal {
				env.ReadPassword = func() ([]byte, error) { prompted++; return []byte(oauthClientSecret + "\n"), nil }
			}
			r := runEnv(t, env, argv...)
			leakCheck(t, r, oauthClientSecret)
			if tc.wantErr != "" {
				if errs := r.errors(); r.code != ExitFailure || len(errs) != 1 || !strings.Contains(errs[0].Message, tc.wantErr) {
					t.Fatalf("exit %d; want a config_error naming %s\n%s", r.code, tc.wantErr, r.stdout)
				}
				return
			}
			if r.code != ExitOK {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			file, _ := os.ReadFile(out)
			if protocoltest.CredentialsOf(t, file).ClientSecret != oauthClientSecret {
				t.Errorf("config holds client_secret %q", protocoltest.CredentialsOf(t, file).ClientSecret)
			}
			if got := strings.Contains(r.stderr, "Client secret of your Oura API application"); got != tc.wantPrompt || prompted != btoi(tc.wantPrompt) {
				t.Errorf("prompt on stderr %v, read %d times; want %v\nstderr: %s", got, prompted, tc.wantPrompt, r.stderr)
			}
			if strings.Contains(string(r.stdout), "Client secret of") {
				t.Errorf("the prompt went to stdout: %s", r.stdout)
			}
			warned := false
			for _, w := range logsAt(r, protocol.LevelWarn) {
				warned = warned || strings.Contains(w, secretEnv)
			}
			if warned != tc.wantWarn {
				t.Errorf("warning about the command line: %v; want %v", warned, tc.wantWarn)
			}
		})
	}
	// Without an injected reader, a stdin that is not a terminal is never prompted on.
	if read, _ := terminalPassword(strings.NewReader("")); read != nil {
		t.Error("a strings.Reader was taken for a terminal")
	}
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pipeR.Close()
	defer pipeW.Close()
	if read, _ := terminalPassword(pipeR); read != nil {
		t.Error("a pipe was taken for a terminal")
	}
}

func ptr[T any](v T) *T { return &v }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestAuthRefusesALocalhostPortTakenOnIPv6 holds [::1]:PORT with another listener, as another
// program could: the auth command must refuse before showing the consent page, so the browser
// can never hand that program the code. With both addresses free, a browser that resolves
// localhost to ::1 reaches the command.
func TestAuthRefusesALocalhostPortTakenOnIPv6(t *testing.T) {
	squatter, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	port := squatter.Addr().(*net.TCPAddr).Port
	if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		squatter.Close()
		t.Skipf("127.0.0.1:%d is taken too: %v", port, err)
	} else {
		ln.Close()
	}
	var accepted atomic.Int64
	go func() {
		for {
			c, err := squatter.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	f := newOAuthFixture(t)
	t.Setenv(secretEnv, oauthClientSecret)
	redirect := fmt.Sprintf("http://localhost:%d/callback", port)
	b := &browser{}
	out := filepath.Join(f.dir, "config.json")
	r := runEnv(t, Env{Now: f.clock.Now, OpenBrowser: b.open(t)}, "auth", "--client-id", oauthClientID,
		"--base-url", f.url, "--redirect-uri", redirect, "--output", out)
	squatter.Close()
	errs := r.errors()
	addr := fmt.Sprintf("[::1]:%d", port)
	if r.code != ExitFailure || len(errs) != 1 || !strings.Contains(errs[0].Message, addr) ||
		!strings.Contains(errs[0].Message, "another program") {
		t.Fatalf("exit %d; want a config_error naming %s and saying another program holds it\n%s", r.code, addr, r.stdout)
	}
	if len(b.opened) != 0 || strings.Contains(r.stderr, "/oauth/authorize") || accepted.Load() != 0 {
		t.Errorf("the consent page was offered (browser %v, %d connections to the other program)\n%s", b.opened, accepted.Load(), r.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a config file was written")
	}
	// The IPv4 listener opened before the refusal is closed again.
	if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		t.Errorf("127.0.0.1:%d is still held after the refusal: %v", port, err)
	} else {
		ln.Close()
	}

	// Both free: a browser that goes to [::1] for localhost reaches the command.
	v6 := &browser{}
	open := func(consent string) {
		v6.opened = append(v6.opened, consent)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(consent)
		if err != nil {
			t.Errorf("consent: %v", err)
			return
		}
		resp.Body.Close()
		back := strings.Replace(resp.Header.Get("Location"), "//localhost:", "//[::1]:", 1)
		resp, err = http.Get(back)
		if err != nil {
			t.Errorf("redirect to %s: %v", back, err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		v6.status, v6.page = resp.StatusCode, string(body)
	}
	r = runEnv(t, Env{Now: f.clock.Now, OpenBrowser: open}, "auth", "--client-id", oauthClientID,
		"--base-url", f.url, "--redirect-uri", redirect, "--output", out)
	if r.code != ExitOK || v6.status != http.StatusOK || !strings.Contains(v6.page, "access granted") {
		t.Fatalf("auth over [::1]: exit %d, browser %d %q\n%s", r.code, v6.status, v6.page, r.stdout)
	}
}

// TestAuthWaitsEndWhenCancelled: Ctrl-C or SIGTERM (a cancelled context) ends auth while it waits
// for a pasted code or a typed client secret that never comes: within a second, with one
// transient error trace saying what was cancelled and exit 1, as an interrupted read ends.
func TestAuthWaitsEndWhenCancelled(t *testing.T) {
	for _, tc := range []struct {
		name, waitsFor string
		paste          bool
	}{
		{name: "pasted code", waitsFor: "the pasted code", paste: true},
		{name: "secret prompt", waitsFor: "the client secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "config.json")
			argv := []string{"auth", "--client-id", oauthClientID, "--output", out}
			never := make(chan struct{})
			t.Cleanup(func() { close(never) })
			pr, pw := io.Pipe() // stdin that never sends
			t.Cleanup(func() { pw.Close() })
			var stdout, stderr bytes.Buffer
			env := Env{Stdout: &stdout, Stderr: &stderr, Stdin: pr, Spec: specBytes(t), Version: "test"}
			if tc.paste {
				t.Setenv(secretEnv, oauthClientSecret)
				argv = append(argv, "--paste")
			} else {
				os.Unsetenv(secretEnv)
				env.ReadPassword = func() ([]byte, error) { <-never; return nil, io.EOF }
				argv = append(argv, "--code", "never-used")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan int, 1)
			go func() { done <- Run(ctx, argv, env) }()
			time.Sleep(100 * time.Millisecond) // well into the wait
			cancel()
			var code int
			select {
			case code = <-done:
			case <-time.After(time.Second):
				t.Fatalf("auth still waiting for %s 1 s after the cancel", tc.waitsFor)
			}
			r := result{code: code, stdout: stdout.Bytes(), stderr: stderr.String()}
			r.msgs = protocoltest.DecodeMessages(t, tc.name, r.stdout, func(m *protocol.Message) bool { return m.Type != "" })
			errs := r.errors()
			if code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.TransientError ||
				!strings.Contains(errs[0].Message, "cancelled while waiting for "+tc.waitsFor) {
				t.Fatalf("exit %d; want 1 and one transient error saying the wait for %s was cancelled\n%s", code, tc.waitsFor, r.stdout)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("a config file was written by a cancelled auth")
			}
		})
	}
}

// TestAuthChecksOutputBeforeSpendingTheCode: an authorization code works once, so a --output that
// cannot be written must be refused before the code is exchanged or the consent page is shown,
// with exit 2 and one config_error naming --output; the code then still works with a good file.
func TestAuthChecksOutputBeforeSpendingTheCode(t *testing.T) {
	f := newOAuthFixture(t)
	t.Setenv(secretEnv, oauthClientSecret)
	code := f.srv.NewAuthCode(oauthClientID, auth.DefaultRedirectURI, ouraemu.AllScopes...)
	folder := t.TempDir()
	notJSON := filepath.Join(folder, "notes.txt")
	if err := os.WriteFile(notJSON, []byte("not a config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, output, want string
	}{
		{"a folder", folder, "is a folder"},
		{"in a missing folder", filepath.Join(folder, "missing", "config.json"), "does not exist"},
		{"not JSON", notJSON, "not a JSON config"},
	} {
		for _, mode := range []string{"--code", "--paste"} {
			t.Run(tc.name+" "+mode, func(t *testing.T) {
				f.srv.ResetRequests()
				argv := []string{"auth", "--client-id", oauthClientID, "--base-url", f.url, "--output", tc.output}
				if mode == "--code" {
					argv = append(argv, "--code", code)
				} else {
					argv = append(argv, "--paste")
				}
				var opened []string
				open := func(u string) { opened = append(opened, u) }
				r := runEnv(t, Env{Now: f.clock.Now, OpenBrowser: open, Stdin: strings.NewReader("code=" + code + "\n")}, argv...)
				errs := r.errors()
				if r.code != ExitUsage || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError ||
					!strings.Contains(errs[0].Message, "--output "+tc.output) || !strings.Contains(errs[0].Message, tc.want) ||
					strings.Contains(errs[0].Message, "\n") {
					t.Fatalf("exit %d; want 2 and one config_error naming --output and saying %q\n%s", r.code, tc.want, r.stdout)
				}
				if n := f.tokenRequests(); n != 0 {
					t.Errorf("the code was sent to the token endpoint %d times before --output was checked", n)
				}
				if len(opened) != 0 || strings.Contains(r.stderr, "/oauth/authorize") {
					t.Errorf("the consent page was offered before --output was checked:\n%s", r.stderr)
				}
			})
		}
	}
	// The code was never spent.
	out := filepath.Join(folder, "config.json")
	r := runEnv(t, Env{Now: f.clock.Now}, "auth", "--client-id", oauthClientID, "--base-url", f.url, "--code", code, "--output", out)
	if r.code != ExitOK {
		t.Fatalf("auth with the same code and a good --output: exit %d\n%s", r.code, r.stdout)
	}
}

// TestAuthChecksFlagsBeforeAskingForTheSecret: a bad flag is reported before the client secret is
// asked for, so nobody types a secret only to learn that --app-type was misspelt.
func TestAuthChecksFlagsBeforeAskingForTheSecret(t *testing.T) {
	os.Unsetenv(secretEnv)
	dir := t.TempDir()
	token := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the token endpoint was called: %s", r.URL)
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer token.Close()
	for _, tc := range []struct {
		name, want string
		argv       []string
	}{
		{"app type", "--app-type", []string{"--app-type", "foo", "--output", filepath.Join(dir, "c.json")}},
		{"output", "--output", []string{"--output", dir}},
		{"redirect URI", "--redirect-uri", []string{"--redirect-uri", "not a uri", "--output", filepath.Join(dir, "c.json")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prompted := 0
			env := Env{ReadPassword: func() ([]byte, error) { prompted++; return []byte(oauthClientSecret), nil }}
			r := runEnv(t, env, append([]string{"auth", "--client-id", oauthClientID, "--code", "c", "--base-url", token.URL}, tc.argv...)...)
			errs := r.errors()
			if r.code != ExitUsage || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError ||
				!strings.Contains(errs[0].Message, tc.want) {
				t.Fatalf("exit %d; want 2 and one config_error naming %s\n%s", r.code, tc.want, r.stdout)
			}
			if prompted != 0 || strings.Contains(r.stderr, "Client secret of") {
				t.Errorf("the client secret was asked for before the bad flag was reported (%d reads)\n%s", prompted, r.stderr)
			}
		})
	}
	// Without any secret source, the flag is still what is reported.
	r := runEnv(t, Env{}, "auth", "--client-id", oauthClientID, "--app-type", "foo", "--base-url", token.URL)
	if errs := r.errors(); len(errs) != 1 || !strings.Contains(errs[0].Message, "--app-type") {
		t.Errorf("want the --app-type error, not the missing secret\n%s", r.stdout)
	}
}

// TestAuthWrongSecretNamesWhatWasTyped: the auth command's user gave flags and a secret, not a
// config file, so a refused client names --client-id and where the secret came from; a read
// with a config file keeps naming the config fields.
func TestAuthWrongSecretNamesWhatWasTyped(t *testing.T) {
	f := newOAuthFixture(t)
	for _, tc := range []struct {
		name string
		env  string // OURA_CLIENT_SECRET, "" for the prompt
		flag bool
		want string
	}{
		{name: "environment", env: "not-the-secret", want: "the client secret (" + secretEnv + ")"},
		{name: "prompt", want: "the client secret (typed at the prompt)"},
		{name: "flag", flag: true, want: "the client secret (--client-secret)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(secretEnv, tc.env)
			} else {
				os.Unsetenv(secretEnv)
			}
			argv := []string{"auth", "--client-id", oauthClientID, "--base-url", f.url, "--output", filepath.Join(t.TempDir(), "c.json"),
				"--code", f.srv.NewAuthCode(oauthClientID, auth.DefaultRedirectURI, ouraemu.AllScopes...)}
			if tc.flag {
				argv = append(argv, "--client-secret", "not-the-secret")
			}
			env := Env{Now: f.clock.Now, ReadPassword: func() ([]byte, error) { return []byte("not-the-secret"), nil }}
			r := runEnv(t, env, argv...)
			errs := r.errors()
			if r.code != ExitFailure || len(errs) != 1 || !strings.Contains(errs[0].Message, "check --client-id and "+tc.want) ||
				strings.Contains(errs[0].Message, "credentials.") {
				t.Fatalf("exit %d; want one error saying to check --client-id and %s, naming no config field\n%s", r.code, tc.want, r.stdout)
			}
			leakCheck(t, r, "not-the-secret")
		})
	}
	// read with a config file: the config fields.
	cfg := f.configFile(t, "wrong.json", f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...), "")
	doc, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, bytes.Replace(doc, []byte(oauthClientSecret), []byte("not-the-secret"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	r := f.read(t, cfg, oauthCatalog(t, f.dir))
	var msgs []string
	for _, e := range r.errors() {
		msgs = append(msgs, e.Message)
	}
	if all := strings.Join(msgs, "\n"); !strings.Contains(all, "credentials.client_id and credentials.client_secret") ||
		strings.Contains(all, "--client-id") {
		t.Errorf("read with a wrong client_secret: want the config field names\n%s", all)
	}
}

// failingStdout accepts nothing: every write fails as a closed pipe or a full disk does.
type failingStdout struct{}

func (failingStdout) Write([]byte) (int, error) {
	return 0, errors.New("write /dev/stdout: no space left on device")
}

// TestRotatedTokenIsSavedWhenStdoutFails: Oura spends the old refresh token when it issues a new
// one, so the new one must be written somewhere before anything can go wrong. With stdout failing
// from the first byte (read | true, > /dev/full), the read fails, but the config file already
// holds the new token: the next run works instead of needing a new authorization.
func TestRotatedTokenIsSavedWhenStdoutFails(t *testing.T) {
	f := newOAuthFixture(t)
	cfgPath := f.configFile(t, "config.json", f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...), "")
	catalog := oauthCatalog(t, f.dir)
	var errb bytes.Buffer
	env := Env{Stdout: failingStdout{}, Stderr: &errb, Spec: specBytes(t), Version: "test", Now: f.clock.Now,
		Client: func(c *oura.Config) { c.MinBackoff = time.Millisecond; c.MaxBackoff = 5 * time.Millisecond }}
	if code := Run(context.Background(), []string{"read", "--config", cfgPath, "--catalog", catalog}, env); code == ExitOK {
		t.Fatal("a read whose stdout cannot be written exited 0")
	}
	if n := f.tokenRequests(); n != 1 {
		t.Fatalf("%d token requests, want the one refresh", n)
	}
	r := f.read(t, cfgPath, catalog)
	if r.code != ExitOK || recordCount(r) == 0 {
		t.Fatalf("the next read with the saved config: exit %d, %d records\n%s", r.code, recordCount(r), r.stdout)
	}
}

// oauthConfigWithTokenURL writes an OAuth config whose credentials.token_url is tokenURL.
func (f *oauthFixture) oauthConfigWithTokenURL(t *testing.T, refresh, tokenURL string) string {
	t.Helper()
	p := f.configFile(t, "config.json", refresh, "")
	doc, _ := os.ReadFile(p)
	doc = bytes.Replace(doc, []byte(`"auth_type": "oauth2.0",`), []byte(`"auth_type": "oauth2.0", "token_url": "`+tokenURL+`",`), 1)
	if err := os.WriteFile(p, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSilentTokenEndpointFailsFastForTheWholeRun: a token endpoint that accepts the connection and
// never answers costs one timeout per run, not one per scope probe (check) or per stream (read):
// after the first refresh timed out every later one fails at once, with one token request made,
// a WARN, and a message that says what happened and what to do if the next run meets invalid_grant.
func TestSilentTokenEndpointFailsFastForTheWholeRun(t *testing.T) {
	const timeout = 400 * time.Millisecond
	f := newOAuthFixture(t)
	var calls atomic.Int64
	gone := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client leave
		select {
		case <-r.Context().Done():
		case <-gone:
		}
	}))
	t.Cleanup(silent.Close)
	t.Cleanup(func() { close(gone) }) // runs first: no handler outlives the test
	rt := f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...)
	cfg := f.oauthConfigWithTokenURL(t, rt, silent.URL+"/oauth/token")
	env := Env{Now: f.clock.Now, HTTPClient: &http.Client{Timeout: timeout}}

	for _, tc := range []struct {
		name string
		argv []string
	}{
		{"check", []string{"check", "--config", cfg}},
		{"read", []string{"read", "--config", cfg, "--catalog", oauthCatalog(t, f.dir)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			start := time.Now()
			r := runEnv(t, env, tc.argv...)
			took := time.Since(start)
			if n := calls.Load(); n != 1 {
				t.Errorf("%d token requests, want 1: each one waits the whole timeout", n)
			}
			if took > timeout+3*time.Second {
				t.Errorf("took %s with a %s token timeout", took, timeout)
			}
			errs := r.errors()
			if r.code != ExitFailure || len(errs) == 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stdout)
			}
			last := errs[len(errs)-1]
			if last.FailureType != protocol.TransientError {
				t.Errorf("failure_type %s, want transient_error", last.FailureType)
			}
			for _, e := range errs {
				if !strings.Contains(e.Message, "did not answer within "+timeout.String()) &&
					!strings.Contains(e.Message, "streams did not sync") {
					t.Errorf("error lacks the timeout: %s", e.Message)
				}
			}
			if !strings.Contains(string(r.stdout), "invalid_grant, run `source-oura auth` again") {
				t.Errorf("no advice for a next run that meets invalid_grant:\n%s", r.stdout)
			}
			warned := 0
			for _, w := range logsAt(r, protocol.LevelWarn) {
				if strings.Contains(w, "is not asked again") {
					warned++
				}
			}
			if warned != 1 {
				t.Errorf("%d WARN lines about the silent endpoint, want 1:\n%s", warned, r.stdout)
			}
			t.Logf("%s: %s, %d token request(s)", tc.name, took.Round(time.Millisecond), calls.Load())
		})
	}
}

// TestHTTPSTokenURLAtAPlainHTTPServerIsAConfigError: https:// in credentials.token_url at a
// server without TLS is the user's mistake, as the same in base_url is: a config_error that names
// credentials.token_url, not "try again later".
func TestHTTPSTokenURLAtAPlainHTTPServerIsAConfigError(t *testing.T) {
	f := newOAuthFixture(t)
	rt := f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...)
	cfg := f.oauthConfigWithTokenURL(t, rt, strings.Replace(f.url, "http://", "https://", 1)+"/oauth/token")
	r := runEnv(t, Env{Now: f.clock.Now}, "check", "--config", cfg)
	statuses := r.ofType(protocol.TypeConnectionStatus)
	var msg string
	for _, e := range r.errors() {
		if e.FailureType == protocol.TransientError {
			t.Errorf("transient_error: %s", e.Message)
		}
		msg = e.Message
	}
	if len(statuses) == 1 {
		msg = statuses[0].ConnectionStatus.Message
		if statuses[0].ConnectionStatus.Status != protocol.StatusFailed {
			t.Errorf("status %s", statuses[0].ConnectionStatus.Status)
		}
	}
	if r.code != ExitOK || !strings.Contains(msg, "credentials.token_url") || !strings.Contains(msg, "plain HTTP") ||
		strings.Contains(msg, "try again later") {
		t.Errorf("exit %d, message %q\n%s", r.code, msg, r.stdout)
	}
	if n := f.tokenRequests(); n != 0 {
		t.Errorf("%d token requests reached the handler", n)
	}
}

// TestParallelReadsOnOneConfigFileBothSucceed: two reads started together with one config file
// race for the same single-use refresh token. The loser's refresh is refused as already used; it
// re-reads the file, finds the token the winner saved there, and goes on instead of telling the
// user to authorize again. Afterwards the file holds a refresh token that works.
func TestParallelReadsOnOneConfigFileBothSucceed(t *testing.T) {
	f := newOAuthFixture(t)
	rt := f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...)
	cfg := f.configFile(t, "config.json", rt, "")
	catalog := oauthCatalog(t, f.dir)
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = f.read(t, cfg, catalog)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != ExitOK || recordCount(r) == 0 {
			t.Errorf("read %d: exit %d, %d records\n%s", i, r.code, recordCount(r), r.stdout)
		}
	}
	// The file's refresh token works: a third read refreshes with it.
	doc, _ := os.ReadFile(cfg)
	var saved struct {
		Credentials struct {
			RefreshToken string `json:"refresh_token"`
			AccessToken  string `json:"access_token"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal(doc, &saved); err != nil || saved.Credentials.RefreshToken == rt {
		t.Fatalf("file after the race (%v):\n%s", err, doc)
	}
	f.srv.RevokeAccessTokens()
	if r := f.read(t, cfg, catalog); r.code != ExitOK {
		t.Errorf("a later read with the file: exit %d\n%s", r.code, r.stdout)
	}
}

// TestAuthUsesTheEndpointsOfTheConfigItUpdates: auth --output naming a config that already sets
// base_url and credentials.token_url exchanges the code there (not at Oura), with an INFO line.
func TestAuthUsesTheEndpointsOfTheConfigItUpdates(t *testing.T) {
	f := newOAuthFixture(t)
	out := filepath.Join(f.dir, "config.json")
	existing := fmt.Sprintf("{\n  \"base_url\": %q,\n  \"credentials\": {\"auth_type\": \"oauth2.0\", \"token_url\": %q},\n  \"start_datetime\": \"2024-01-01\"\n}\n",
		f.url, f.url+"/oauth/token")
	if err := os.WriteFile(out, []byte(existing), 0o600); err != nil {
		t.Fatal(err)
	}
	code := f.srv.NewAuthCode(oauthClientID, auth.DefaultRedirectURI, ouraemu.AllScopes...)
	r := runEnv(t, Env{Now: f.clock.Now}, "auth", "--code", code,
		"--client-id", oauthClientID, "--client-secret", oauthClientSecret, "--output", out)
	if r.code != ExitOK || f.tokenRequests() != 1 {
		t.Fatalf("exit %d, %d token requests\n%s", r.code, f.tokenRequests(), r.stdout)
	}
	infos := strings.Join(logsAt(r, protocol.LevelInfo), "\n")
	if !strings.Contains(infos, "using base_url, credentials.token_url from the existing "+out) {
		t.Errorf("no INFO line naming what was taken from %s:\n%s", out, infos)
	}
	if r := runEnv(t, Env{Now: f.clock.Now}, "check", "--config", out); r.code != ExitOK ||
		r.ofType(protocol.TypeConnectionStatus)[0].ConnectionStatus.Status != protocol.StatusSucceeded {
		t.Errorf("check with the updated config:\n%s", r.stdout)
	}
}
