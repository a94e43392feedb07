package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
	"source-oura/protocol"
)

// Distinctive secrets, each for one role, so a leak says which value escaped. Tokens the
// emulator issues (refresh and access tokens, authorization codes) are random and are
// added to the watch list as they appear.
const (
	secretWrongKey          = "SECRET-wrong-api-key-31f0a"
	secretNarrowKey         = "SECRET-narrow-api-key-6b2e9"
	secretStaleAccess       = "SECRET-stale-access-token-0a91"
	secretDeadRefresh       = "SECRET-dead-refresh-token-77c3"
	secretWrongClientSecret = "SECRET-wrong-client-secret-8d24"
	secretBadJSONKey        = "SECRET-key-in-broken-json-5e1"
	secretArrayKey          = "SECRET-key-in-an-array-c4a7"
)

// leakWatch runs the binary in a sandbox folder (HOME, TMPDIR and the working folder all
// inside it) and remembers every secret and every output, to scan them all at the end.
type leakWatch struct {
	t       *testing.T
	e       *emulator
	root    string
	work    string
	env     []string
	secrets map[string]bool
	configs map[string]bool // files that hold secrets by design: config files
	runs    []result
	// tokenDown makes the emulator's token endpoint answer 503.
	tokenDown *atomic.Bool
}

func newLeakWatch(t *testing.T) *leakWatch {
	t.Helper()
	root := t.TempDir()
	w := &leakWatch{t: t, root: root, work: filepath.Join(root, "work"), secrets: map[string]bool{},
		configs: map[string]bool{}, tokenDown: &atomic.Bool{}}
	for _, d := range []string{"work", "home", "tmp", "cache"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	w.env = []string{"HOME=" + filepath.Join(root, "home"), "TMPDIR=" + filepath.Join(root, "tmp"),
		"XDG_CACHE_HOME=" + filepath.Join(root, "cache"), "XDG_CONFIG_HOME=" + filepath.Join(root, "home")}
	down := w.tokenDown
	w.e = newEmulator(t, emuOptions{moreTokens: map[string][]string{secretNarrowKey: {"daily"}}, wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/oauth/token" && down.Load() {
				http.Error(rw, `{"detail":"Service Unavailable"}`, http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(rw, r)
		})
	}})
	w.watch(apiKey, clientSecret, secretWrongKey, secretNarrowKey, secretStaleAccess, secretDeadRefresh,
		secretWrongClientSecret, secretBadJSONKey, secretArrayKey)
	return w
}

func (w *leakWatch) watch(secrets ...string) {
	for _, s := range secrets {
		if s != "" {
			w.secrets[s] = true
		}
	}
}

// config writes a config file, which is allowed to hold secrets.
func (w *leakWatch) config(name string, content any) string {
	w.t.Helper()
	f := &files{t: w.t, dir: w.work}
	p := f.write(name, content)
	w.configs[p] = true
	return p
}

// input writes a file that must never hold a secret (a catalog or a state).
func (w *leakWatch) input(name string, content any) string {
	w.t.Helper()
	return (&files{t: w.t, dir: w.work}).write(name, content)
}

// run runs the binary in the sandbox and keeps its output for the final scan. It also
// collects the tokens of any CONTROL message.
func (w *leakWatch) run(stdin string, args ...string) result {
	w.t.Helper()
	r := runWith(w.t, invocation{args: args, stdin: stdin, env: w.env})
	for _, c := range r.controls() {
		w.watchConfig(c)
	}
	w.runs = append(w.runs, r)
	return r
}

// watchConfig adds the tokens of a config document to the watch list.
func (w *leakWatch) watchConfig(doc []byte) {
	var c struct {
		Credentials map[string]any `json:"credentials"`
	}
	if json.Unmarshal(doc, &c) != nil {
		return
	}
	for _, k := range []string{"client_secret", "refresh_token", "access_token"} {
		if s, ok := c.Credentials[k].(string); ok {
			w.watch(s)
		}
	}
}

// watchFile adds the tokens of a config file to the watch list.
func (w *leakWatch) watchFile(path string) {
	w.t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		w.t.Fatal(err)
	}
	w.watchConfig(doc)
}

// scan checks every output and every file in the sandbox against every secret.
func (w *leakWatch) scan() {
	t := w.t
	t.Helper()
	found := func(where, text string) {
		for s := range w.secrets {
			if strings.Contains(text, s) {
				t.Errorf("secret %q is in %s:\n%s", s, where, excerpt(text, s))
			} else if p := secretPiece(text, s); p != "" {
				t.Errorf("%q, a piece of secret %q, is in %s:\n%s", p, s, where, excerpt(text, p))
			}
		}
	}
	for _, r := range w.runs {
		for i, line := range strings.Split(string(r.stdout), "\n") {
			if strings.HasPrefix(line, `{"type":"CONTROL"`) {
				continue // carries the new config for the platform to store
			}
			found(fmt.Sprintf("stdout line %d of %v", i+1, r.argv), line)
		}
		found(fmt.Sprintf("stderr of %v", r.argv), r.stderr)
	}
	err := filepath.WalkDir(w.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || w.configs[path] {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found("file "+path, string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// excerpt shows the text around the first s.
func excerpt(text, s string) string {
	i := strings.Index(text, s)
	from, to := max(i-120, 0), min(i+len(s)+120, len(text))
	return text[from:to]
}

// TestNoSecretInAnyOutput runs every command through its success and failure paths with
// distinctive secrets, then checks that none of them appears on stdout (outside CONTROL
// messages, which must carry the new config), on stderr, or in any file written besides
// the config files themselves: the working folder, HOME and TMPDIR are all scanned.
func TestNoSecretInAnyOutput(t *testing.T) {
	t.Parallel()
	w := newLeakWatch(t)
	e := w.e
	base := e.url
	cat := w.input("catalog.json", catalog(t, true, "daily_sleep", "tags", "personal_info"))
	good := w.config("good.json", apiKeyConfig(base, apiKey))

	expectCode := func(r result, code int) {
		t.Helper()
		if r.code != code {
			t.Errorf("%v: exit %d, want %d\n%s", r.argv, r.code, code, r.stdout)
		}
	}

	// spec, check, discover.
	expectCode(w.run("", "spec"), 0)
	expectCode(w.run("", "--debug", "check", "--config", good), 0)
	expectCode(w.run("", "check", "--config", w.config("wrong.json", apiKeyConfig(base, secretWrongKey))), 0)
	expectCode(w.run("", "check", "--config", w.config("broken.json", `{"api_key": "`+secretBadJSONKey+`", "base_url": `)), 0)
	expectCode(w.run("", "check", "--config", w.config("array.json", `{"api_key": ["`+secretArrayKey+`"]}`)), 0)
	both := fmt.Sprintf(`{"api_key": %q, "credentials": {"auth_type": "oauth2.0", "client_id": %q, "client_secret": %q, "refresh_token": %q}}`,
		apiKey, clientID, clientSecret, secretDeadRefresh)
	expectCode(w.run("", "check", "--config", w.config("both.json", both)), 0)
	expectCode(w.run("", "discover", "--config", good), 0)
	expectCode(w.run("", "discover", "--config", w.config("both2.json", both)), 1)
	invalid := apiKeyConfig(base, apiKey)
	invalid["lookback_window_days"] = 500
	expectCode(w.run("", "discover", "--config", w.config("invalid.json", invalid)), 1)

	// read with a personal access token: success with retries logged at debug, a wrong key,
	// a key without the tag scope, server errors beyond the attempts.
	e.srv.SetFaults(ouraemu.Faults{RateLimitFirst: 1, RetryAfter: 0, TruncateFirst: 1})
	expectCode(w.run("", "--debug", "read", "--config", good, "--catalog", cat), 0)
	e.srv.SetFaults(ouraemu.Faults{})
	expectCode(w.run("", "read", "--config", w.config("wrong-read.json", apiKeyConfig(base, secretWrongKey)), "--catalog", cat), 1)
	narrow := w.config("narrow.json", apiKeyConfig(base, secretNarrowKey))
	expectCode(w.run("", "--debug", "read", "--config", narrow, "--catalog", cat), 1)
	expectCode(w.run("", "check", "--config", narrow), 0)
	e.srv.SetFaults(ouraemu.Faults{OnlyPaths: []string{"tag"}, UpgradeRequired: true})
	expectCode(w.run("", "--debug", "read", "--config", good, "--catalog", cat), 1)
	e.srv.SetFaults(ouraemu.Faults{OnlyPaths: []string{"daily_sleep"}, RateLimitFirst: 1, RetryAfter: 3600})
	expectCode(w.run("", "--debug", "read", "--config", good, "--catalog", cat), 1)
	e.srv.SetFaults(ouraemu.Faults{})
	state := w.input("state.json", w.runs[len(w.runs)-1].stateFile(t))
	expectCode(w.run("", "read", "--config", good, "--catalog", cat, "--state", state), 0)

	// read with OAuth: a stale access token that is refreshed (CONTROL, file rewritten), a
	// spent refresh token, a wrong client secret, a token endpoint that is down.
	refresh := e.srv.IssueRefreshToken(clientID, ouraemu.AllScopes...)
	w.watch(refresh)
	oauth := w.config("oauth.json", oauthConfig(base, refresh, secretStaleAccess, time.Now().Add(12*time.Hour)))
	r := w.run("", "--debug", "read", "--config", oauth, "--catalog", cat)
	expectCode(r, 0)
	if len(r.controls()) != 1 {
		t.Errorf("the stale access token was not refreshed: %d CONTROL messages", len(r.controls()))
	}
	w.watchFile(oauth)
	expectCode(w.run("", "check", "--config", oauth), 0)
	expectCode(w.run("", "read", "--config", w.config("dead.json", oauthConfig(base, secretDeadRefresh, "", time.Time{})), "--catalog", cat), 1)
	expectCode(w.run("", "check", "--config", w.config("dead2.json", oauthConfig(base, secretDeadRefresh, "", time.Time{}))), 0)
	wrongSecret := strings.Replace(oauthConfig(base, e.srv.IssueRefreshToken(clientID, ouraemu.AllScopes...), "", time.Time{}),
		clientSecret, secretWrongClientSecret, 1)
	w.watchConfig([]byte(wrongSecret))
	expectCode(w.run("", "--debug", "read", "--config", w.config("wrong-secret.json", wrongSecret), "--catalog", cat), 1)
	w.tokenDown.Store(true)
	downRefresh := e.srv.IssueRefreshToken(clientID, ouraemu.AllScopes...)
	w.watch(downRefresh)
	expectCode(w.run("", "--debug", "read", "--config", w.config("down.json", oauthConfig(base, downRefresh, "", time.Time{})), "--catalog", cat), 1)
	w.tokenDown.Store(false)

	// auth: a code given on the command line, a pasted redirect address, the redirect
	// received on a loopback listener; a wrong client secret, a spent code, a token endpoint
	// that cannot be reached.
	const redirect = "http://127.0.0.1:8787/callback"
	code := e.srv.NewAuthCode(clientID, redirect, ouraemu.AllScopes...)
	w.watch(code)
	out := filepath.Join(w.work, "auth-code.json")
	w.configs[out] = true
	expectCode(w.run("", "auth", "--client-id", clientID, "--client-secret", clientSecret, "--base-url", base,
		"--redirect-uri", redirect, "--code", code, "--output", out), 0)
	w.watchFile(out)
	expectCode(w.run("", "auth", "--client-id", clientID, "--client-secret", clientSecret, "--base-url", base,
		"--redirect-uri", redirect, "--code", code, "--output", filepath.Join(w.work, "spent-code.json")), 1)

	pasted := e.srv.NewAuthCode(clientID, redirect, ouraemu.AllScopes...)
	w.watch(pasted)
	out = filepath.Join(w.work, "auth-paste.json")
	w.configs[out] = true
	expectCode(w.run(redirect+"?code="+url.QueryEscape(pasted)+"&scope=daily\n", "auth", "--paste", "--client-id", clientID,
		"--client-secret", clientSecret, "--base-url", base, "--redirect-uri", redirect, "--output", out), 0)
	w.watchFile(out)

	wrongCode := e.srv.NewAuthCode(clientID, redirect, ouraemu.AllScopes...)
	w.watch(wrongCode)
	expectCode(w.run("", "auth", "--client-id", clientID, "--client-secret", secretWrongClientSecret, "--base-url", base,
		"--redirect-uri", redirect, "--code", wrongCode, "--output", filepath.Join(w.work, "wrong-secret-auth.json")), 1)

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	expectCode(w.run("", "auth", "--client-id", clientID, "--client-secret", clientSecret, "--base-url", closed.URL,
		"--redirect-uri", redirect, "--code", wrongCode, "--output", filepath.Join(w.work, "unreachable.json")), 1)

	out = filepath.Join(w.work, "auth-browser.json")
	w.configs[out] = true
	w.authThroughBrowser(out)

	// Every secret-bearing config written by auth works, so the values watched are real.
	expectCode(w.run("", "check", "--config", out), 0)
	w.hostilePaths(cat)
	w.scan()
}

// authThroughBrowser runs auth waiting on a loopback redirect, plays the browser from the
// consent URL it prints on stderr, and checks that it writes the config.
func (w *leakWatch) authThroughBrowser(out string) {
	t := w.t
	t.Helper()
	redirect := freeLoopbackURL(t) + "/callback"
	ctx, cancel := context.WithTimeout(context.Background(), runDeadline)
	defer cancel()
	args := []string{"auth", "--client-id", clientID, "--client-secret", clientSecret, "--base-url", w.e.url,
		"--redirect-uri", redirect, "--output", out}
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), w.env...)
	var stdout bytes.Buffer
	stderr := &protocoltest.SyncBuffer{} // the process writes while the test reads
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	consent := regexp.MustCompile(`http://\S+/oauth/authorize\?\S+`)
	var link string
	for link == "" && ctx.Err() == nil {
		link = consent.FindString(stderr.String())
		time.Sleep(20 * time.Millisecond)
	}
	if link == "" {
		t.Fatalf("auth never printed a consent URL; stderr:\n%s", stderr.String())
	}
	// The browser: the emulator consents at once and sends it on to the redirect listener.
	resp, err := http.Get(link)
	if err != nil {
		t.Errorf("browser: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("browser: the redirect listener answered %d", resp.StatusCode)
		}
	}
	r := result{argv: args, code: protocoltest.ExitCode(t, cmd.Wait()), stdout: stdout.Bytes(), stderr: stderr.String()}
	r.decode(t)
	r.checkInvariants(t)
	if r.code != 0 {
		t.Errorf("auth through the browser: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	w.runs = append(w.runs, r)
	w.watchFile(out)
}

// freeLoopbackURL returns http://127.0.0.1:PORT for a port that was free a moment ago.
func freeLoopbackURL(t *testing.T) string {
	t.Helper()
	return protocoltest.ClosedLoopbackURL(t)
}

// TestTokensOnlyInAuthorizationHeader reads with a personal access token and with OAuth
// (including a refresh after a 401) and inspects every request the emulator received: data
// requests carry their token as "Authorization: Bearer", and no token or secret appears in
// any URL or any other header.
func TestTokensOnlyInAuthorizationHeader(t *testing.T) {
	t.Parallel()
	type seen struct {
		method, path, rawURL, auth string
		otherHeaders               string
	}
	var mu sync.Mutex
	var log []seen
	e := newEmulator(t, emuOptions{wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			var other []string
			for k, vs := range r.Header {
				if k != "Authorization" {
					other = append(other, k+": "+strings.Join(vs, ", "))
				}
			}
			mu.Lock()
			log = append(log, seen{r.Method, r.URL.Path, r.URL.String(), r.Header.Get("Authorization"), strings.Join(other, "\n")})
			mu.Unlock()
			next.ServeHTTP(rw, r)
		})
	}})
	f := newFiles(t)
	cat := f.write("catalog.json", catalog(t, false, defaultStreams...))
	if r := run(t, "--debug", "read", "--config", f.write("key.json", apiKeyConfig(e.url, apiKey)), "--catalog", cat); r.code != 0 {
		t.Fatalf("api key read: exit %d: %s", r.code, traceText(r.errors()))
	}
	access := e.srv.IssueAccessToken(ouraemu.AllScopes...)
	refresh := e.srv.IssueRefreshToken(clientID, ouraemu.AllScopes...)
	revokeAt := e.dataRequests.Load() + 10
	e.whenData(func(n int64) {
		if n == revokeAt {
			e.srv.RevokeAccessTokens()
		}
	})
	oauth := f.write("oauth.json", oauthConfig(e.url, refresh, access, time.Now().Add(12*time.Hour)))
	r := run(t, "--debug", "read", "--config", oauth, "--catalog", cat)
	if r.code != 0 || len(r.controls()) == 0 {
		t.Fatalf("oauth read: exit %d, %d CONTROL messages: %s", r.code, len(r.controls()), traceText(r.errors()))
	}

	secrets := []string{apiKey, clientSecret, access, refresh}
	valid := map[string]bool{apiKey: true, access: true}
	for _, c := range r.controls() {
		creds := protocoltest.CredentialsOf(t, c)
		secrets = append(secrets, creds.AccessToken, creds.RefreshToken)
		valid[creds.AccessToken] = true
	}
	mu.Lock()
	defer mu.Unlock()
	data := 0
	for _, s := range log {
		for _, sec := range secrets {
			if strings.Contains(s.rawURL, sec) || strings.Contains(s.otherHeaders, sec) {
				t.Errorf("a secret is in the URL or a header other than Authorization: %s %s", s.method, s.path)
			}
		}
		if !strings.HasPrefix(s.path, "/v2/") {
			continue
		}
		data++
		scheme, token, _ := strings.Cut(s.auth, " ")
		if scheme != "Bearer" || !valid[token] {
			t.Errorf("%s %s: Authorization is not a Bearer header with a token the connector was given", s.method, s.path)
		}
	}
	if data == 0 {
		t.Fatal("no data requests were seen")
	}
	// The emulator's own log agrees: every data request used the Bearer scheme and no query
	// carried access_token.
	for _, req := range e.srv.Requests() {
		if strings.HasPrefix(req.Path, "/v2/") && req.AuthScheme != "Bearer" {
			t.Errorf("%s: auth scheme %q, want Bearer", req.Path, req.AuthScheme)
		}
		if req.Query.Has("access_token") {
			t.Errorf("%s: access_token in the query", req.Path)
		}
	}
}

// TestPlainHTTPRefusedUnlessLoopback: a base_url or token_url with plain http to any host
// but this computer is refused by every command before a request is sent, so a token can
// never travel in the clear.
func TestPlainHTTPRefusedUnlessLoopback(t *testing.T) {
	t.Parallel()
	f := newFiles(t)
	cat := f.write("catalog.json", catalog(t, false, "daily_sleep"))
	for _, base := range []string{"http://example.com", "http://10.1.2.3:8080", "http://localhost.example.com", "http://127.0.0.1.nip.io"} {
		t.Run(base, func(t *testing.T) {
			config := f.write("config.json", apiKeyConfig(base, apiKey))
			r := run(t, "check", "--config", config)
			var st []*protocol.ConnectionStatus
			for _, m := range r.msgs {
				if m.ConnectionStatus != nil {
					st = append(st, m.ConnectionStatus)
				}
			}
			if r.code != 0 || len(st) != 1 || st[0].Status != protocol.StatusFailed || !strings.Contains(st[0].Message, "plain http") {
				t.Errorf("check: exit %d, statuses %+v; want FAILED about plain http", r.code, st)
			}
			for _, cmd := range [][]string{{"discover", "--config", config}, {"read", "--config", config, "--catalog", cat}} {
				r := run(t, cmd...)
				errs := r.errors()
				if r.code != 1 || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError || !strings.Contains(errs[0].Message, "base_url") {
					t.Errorf("%s: exit %d, errors %s; want one config_error naming base_url", cmd[0], r.code, traceText(errs))
				}
				if len(r.records()) > 0 {
					t.Errorf("%s read records from %s", cmd[0], base)
				}
			}
			r = run(t, "auth", "--client-id", clientID, "--client-secret", clientSecret, "--base-url", base,
				"--code", "some-code", "--output", filepath.Join(f.dir, "auth.json"))
			if errs := r.errors(); r.code != 2 || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError || !strings.Contains(errs[0].Message, "plain http") {
				t.Errorf("auth --base-url %s: exit %d, errors %s; want exit 2 and a config_error about plain http", base, r.code, traceText(errs))
			}
		})
	}
	// An https base URL with a plain-http token URL off this computer.
	cfg := strings.Replace(oauthConfig("https://api.ouraring.com", "refresh-token-for-the-test", "", time.Time{}),
		`"refresh_token"`, `"token_url": "http://example.com/oauth/token", "refresh_token"`, 1)
	r := run(t, "read", "--config", f.write("token-url.json", cfg), "--catalog", cat)
	if errs := r.errors(); r.code != 1 || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError || !strings.Contains(errs[0].Message, "token_url") {
		t.Errorf("token_url over plain http: exit %d, errors %s; want a config_error naming token_url", r.code, traceText(errs))
	}
}

// TestOAuthConfigRewriteKeepsItsMode: after a token refresh the config file is rewritten
// with its mode unchanged when it is 0600; a read-only 0400 file is left exactly as it was,
// with a WARN pointing at the CONTROL message that carries the new refresh token.
func TestOAuthConfigRewriteKeepsItsMode(t *testing.T) {
	t.Parallel()
	for _, mode := range []os.FileMode{0o600, 0o400} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			t.Parallel()
			e := newEmulator(t, emuOptions{})
			f := newFiles(t)
			refresh := e.srv.IssueRefreshToken(clientID, ouraemu.AllScopes...)
			config := f.write("config.json", oauthConfig(e.url, refresh, "", time.Time{}))
			if err := os.Chmod(config, mode); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(config)
			r := run(t, "read", "--config", config, "--catalog", f.write("catalog.json", catalog(t, false, "daily_sleep")))
			if r.code != 0 || len(r.controls()) != 1 {
				t.Fatalf("exit %d, %d CONTROL messages; want a refresh and success: %s", r.code, len(r.controls()), traceText(r.errors()))
			}
			info, err := os.Stat(config)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != mode {
				t.Errorf("mode %04o after the run, want %04o", info.Mode().Perm(), mode)
			}
			after, _ := os.ReadFile(config)
			entries, _ := os.ReadDir(f.dir)
			for _, en := range entries {
				if strings.HasSuffix(en.Name(), ".tmp") {
					t.Errorf("a temporary file was left behind: %s", en.Name())
				}
			}
			if mode == 0o600 {
				if bytes.Equal(before, after) {
					t.Error("the config file was not rewritten with the new tokens")
				}
				return
			}
			if !bytes.Equal(before, after) {
				t.Error("the read-only config file was changed")
			}
			if !anyContains(r.logs(protocol.LevelWarn), config) || !anyContains(r.logs(protocol.LevelWarn), "CONNECTOR_CONFIG") {
				t.Errorf("no WARN naming the file and the CONTROL message; warnings: %q", r.logs(protocol.LevelWarn))
			}
		})
	}
}

// TestSelfSignedCertificateRefused: an https emulator with httptest's self-signed
// certificate. TLS verification is always on, so check and read fail on the certificate
// and not a single HTTP request reaches the server.
func TestSelfSignedCertificateRefused(t *testing.T) {
	t.Parallel()
	e := newEmulator(t, emuOptions{tls: true})
	f := newFiles(t)
	config := f.write("config.json", apiKeyConfig(e.url, apiKey))
	r := run(t, "check", "--config", config)
	text := string(r.stdout)
	if r.code != 0 || !strings.Contains(text, `"FAILED"`) || !strings.Contains(text, "certificate") || !strings.Contains(text, "base_url") {
		t.Errorf("check against a self-signed certificate: want FAILED naming the certificate and base_url, exit 0; got exit %d\n%s", r.code, r.stdout)
	}
	r = run(t, "read", "--config", config, "--catalog", f.write("catalog.json", catalog(t, false, "daily_sleep", "personal_info")))
	if r.code != 1 || len(r.records()) > 0 {
		t.Errorf("read: exit %d, %d streams with records; want exit 1 and nothing read", r.code, len(r.records()))
	}
	for _, name := range []string{"daily_sleep", "personal_info"} {
		errs := r.streamErrors(name)
		if len(errs) != 1 || !strings.Contains(errs[0].Message, "certificate") || errs[0].FailureType != protocol.ConfigError {
			t.Errorf("%s: errors %s; want one config_error naming the certificate", name, traceText(errs))
		}
		// Asking again cannot make the certificate trusted.
		if !anyContains(r.logs(protocol.LevelInfo), "stream summary stream="+name+" records=0 requests=1 retries=0") {
			t.Errorf("%s: the stream summary does not show one attempt and no retry: %q", name, r.logs(protocol.LevelInfo))
		}
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("%d requests reached the server through an unverified TLS connection", n)
	}
}
