package faults

import (
	"encoding/pem"
	"fmt"
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

	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
	"source-oura/protocol"
)

// hostileToken is a static token with every scope whose 6-character pieces appear in no message by chance.
const hostileToken = "Qx7Hq0Ev9Tk4Zk2Lm8Np3Rv5Wd1Yb6Fj"

// counter is a loopback server that counts what reaches it and, with the token, how often it came.
type counter struct {
	srv             *httptest.Server
	requests, token atomic.Int64
	mu              sync.Mutex
	seen            []string
}

func (c *counter) paths() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

func newCounter(t *testing.T, tls bool, h http.HandlerFunc) *counter {
	t.Helper()
	c := &counter{}
	wrapped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		c.mu.Lock()
		c.seen = append(c.seen, r.URL.RequestURI())
		c.mu.Unlock()
		if strings.Contains(r.Header.Get("Authorization"), hostileToken) || strings.Contains(r.Header.Get("Authorization"), apiKey) {
			c.token.Add(1)
		}
		h(w, r)
	})
	c.srv = httptest.NewUnstartedServer(wrapped)
	c.srv.Config.ErrorLog = quietLog()
	if tls {
		c.srv.StartTLS()
	} else {
		c.srv.Start()
	}
	t.Cleanup(c.srv.Close)
	return c
}

// trustFile writes the certificate of a TLS test server where the binary's SSL_CERT_FILE can name it.
func trustFile(t *testing.T, s *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRedirectToAnotherOriginFailsTheStream: base_url points at a server that answers the data request
// with a redirect to another origin serving real, valid pages for the same token (the emulator): an https
// API redirecting to plain http, and 127.0.0.1:A redirecting to 127.0.0.1:B. The redirect is not followed,
// the other origin never sees the token, no record is written, and the stream fails with one config_error
// that names the target and says to check base_url.
func TestRedirectToAnotherOriginFailsTheStream(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{true, false} {
		name := map[bool]string{true: "https to http", false: "another port"}[tls]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEmulator(t, emuOptions{moreTokens: map[string][]string{hostileToken: ouraemu.AllScopes}})
			front := newCounter(t, tls, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, e.url+r.URL.RequestURI(), http.StatusFound)
			})
			inv := invocation{args: readArgs(newFiles(t), apiKeyConfig(front.srv.URL, hostileToken), catalog(t, false, "daily_sleep"), nil)}
			if tls {
				inv.env = []string{"SSL_CERT_FILE=" + trustFile(t, front.srv)}
			}
			r := runWith(t, inv)
			failedClearly(t, r, "daily_sleep", protocol.ConfigError, e.url+"/v2/usercollection/daily_sleep", "check base_url")
			if n := len(e.srv.Requests()); n != 0 {
				t.Errorf("the other origin received %d requests; want none", n)
			}
			if n := len(r.records()["daily_sleep"]); n != 0 {
				t.Errorf("%d records from the other origin were written", n)
			}
			asked := 0
			for _, p := range front.paths() {
				if strings.HasPrefix(p, "/v2/usercollection/daily_sleep") {
					asked++
				}
			}
			if asked != 1 {
				t.Errorf("base_url was asked for daily_sleep %d times; a refused redirect must not be retried: %v", asked, front.paths())
			}
		})
	}
}

// TestLoopbackBaseURLNeverGoesThroughTheProxy: with HTTP_PROXY and HTTPS_PROXY naming a proxy, a base_url
// of http://LOCALHOST:port (as a person might type it) goes direct, for the data and for the OAuth token
// request: the proxy receives nothing and the sync is complete.
func TestLoopbackBaseURLNeverGoesThroughTheProxy(t *testing.T) {
	t.Parallel()
	proxy := newCounter(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the recording proxy forwards nothing", http.StatusBadGateway)
	})
	e := newEmulator(t, emuOptions{})
	u, _ := url.Parse(e.url)
	base := "http://LOCALHOST:" + u.Port()
	env := []string{"HTTP_PROXY=" + proxy.srv.URL, "HTTPS_PROXY=" + proxy.srv.URL, "http_proxy=" + proxy.srv.URL,
		"https_proxy=" + proxy.srv.URL, "NO_PROXY=", "no_proxy="}
	f := newFiles(t)
	r := runWith(t, invocation{args: readArgs(f, apiKeyConfig(base, apiKey), catalog(t, false, "daily_sleep"), nil), env: env})
	completeAndExact(t, r, "daily_sleep")
	refresh := e.srv.IssueRefreshToken(clientID, ouraemu.AllScopes...)
	oauth := f.write("oauth.json", oauthConfig(base, refresh, "", time.Time{}))
	r = runWith(t, invocation{args: []string{"read", "--config", oauth, "--catalog", f.write("cat.json", catalog(t, false, "tags"))}, env: env})
	completeAndExact(t, r, "tags")
	if n := proxy.requests.Load(); n != 0 {
		t.Errorf("the proxy received %d requests (%d with a token); loopback must go direct", n, proxy.token.Load())
	}
}

// TestTokenEchoedLateInAnErrorIsMasked: the API answers 400 with an explanation that echoes the bearer
// token from its 280th character on. The token is masked before the explanation is cut, so no piece of it
// (6 characters or more) reaches stdout or stderr, with or without --debug.
func TestTokenEchoedLateInAnErrorIsMasked(t *testing.T) {
	t.Parallel()
	echo := newCounter(t, false, func(w http.ResponseWriter, r *http.Request) {
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"detail":"%s%s was refused"}`, strings.Repeat("a ", 140), token)
	})
	f := newFiles(t)
	for _, debug := range []bool{false, true} {
		args := readArgs(f, apiKeyConfig(echo.srv.URL, hostileToken), catalog(t, false, "daily_sleep"), nil)
		if debug {
			args = append([]string{"--debug"}, args...)
		}
		r := run(t, args...)
		if r.code != 1 || len(r.streamErrors("daily_sleep")) != 1 {
			t.Fatalf("exit %d, errors %s; want the stream to fail", r.code, traceText(r.errors()))
		}
		for where, text := range map[string]string{"stdout": string(r.stdout), "stderr": r.stderr} {
			if p := protocoltest.SecretPiece(text, hostileToken); p != "" {
				t.Errorf("--debug=%v: %s shows %q of the token:\n%s", debug, where, p, excerpt(text, p))
			}
		}
	}
}

// TestEndlessNextTokenEndsTheStream: a server that hands out a fresh next_token on every page (with no
// documents) is followed for the pages the request range may take, then the stream fails with a clear
// error; the other streams are complete.
func TestEndlessNextTokenEndsTheStream(t *testing.T) {
	t.Parallel()
	var n atomic.Int64
	e := newEmulator(t, emuOptions{wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v2/usercollection/daily_sleep" {
				next.ServeHTTP(w, r)
				return
			}
			fmt.Fprintf(w, `{"data":[],"next_token":"fresh-%d"}`, n.Add(1))
		})
	}})
	cfg := apiKeyConfig(e.url, apiKey)
	// One day, so the bound is small enough for a test: 1000 pages plus 1000 per day of the request.
	cfg["start_datetime"] = "2025-03-01T00:00:00Z"
	cfg["end_datetime"] = "2025-03-01T23:59:59Z"
	r := run(t, readArgs(newFiles(t), cfg, catalog(t, false, "daily_sleep", "tags"), nil)...)
	failedClearly(t, r, "daily_sleep", protocol.TransientError, "kept sending a next_token", "-day range")
	if st := r.statuses()["tags"]; st != protocol.Complete {
		t.Errorf("tags ended %q; the other streams must not be held up", st)
	}
	if got := n.Load(); got < 2000 || got > 6000 {
		t.Errorf("the endless server was asked %d times; want the bound for a range of 1 to 5 days", got)
	}
}

// secretPiece returns a piece of secret that text shows without the whole secret: the word just before a
// cut ("…") when it is 6 characters or more of the secret, or any word of 12 characters or more that is part
// of it. A message cut before it was masked leaves exactly such a piece.
func secretPiece(text, secret string) string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.~+/=…", r))
	})
	for _, w := range words {
		cut := strings.HasSuffix(w, "…")
		w = strings.TrimRight(strings.TrimSuffix(w, "…"), ".")
		if (cut && len(w) >= 6 || len(w) >= 12) && strings.Contains(secret, w) && w != secret {
			return w
		}
	}
	return ""
}

// hostilePaths runs the paths a hostile server behind base_url opens, for the leak watch to scan: a data
// request redirected to another origin, a LOCALHOST base_url with HTTP_PROXY set, and error bodies that echo
// the token from character 280 on (an API key, and an OAuth access token fresh from a refresh).
func (w *leakWatch) hostilePaths(cat string) {
	t := w.t
	t.Helper()
	front := newCounter(t, false, func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, w.e.url+r.URL.RequestURI(), http.StatusFound)
	})
	echo := newCounter(t, false, func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			w.e.handler.ServeHTTP(rw, r) // a real refresh, so the echoed access token is a fresh secret
			return
		}
		rw.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(rw, `{"detail":"%s%s was refused"}`, strings.Repeat("a ", 140), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	})
	u, _ := url.Parse(w.e.url)
	for _, base := range []string{front.srv.URL, echo.srv.URL} {
		if r := w.run("", "--debug", "read", "--config", w.config("hostile.json", apiKeyConfig(base, apiKey)), "--catalog", cat); r.code != 1 {
			t.Errorf("read from %s: exit %d, want 1", base, r.code)
		}
	}
	refresh := w.e.srv.IssueRefreshToken(clientID, ouraemu.AllScopes...)
	w.watch(refresh)
	oauth := w.config("hostile-oauth.json", oauthConfig(echo.srv.URL, refresh, "", time.Time{}))
	if r := w.run("", "--debug", "read", "--config", oauth, "--catalog", cat); r.code != 1 || len(r.controls()) == 0 {
		t.Errorf("OAuth read from the echoing server: exit %d, %d CONTROL messages; want 1 and a refresh", r.code, len(r.controls()))
	}
	w.watchFile(oauth)
	saved := w.env
	w.env = append(append([]string(nil), saved...), "HTTP_PROXY="+front.srv.URL, "http_proxy="+front.srv.URL, "NO_PROXY=", "no_proxy=")
	before := front.requests.Load()
	if r := w.run("", "--debug", "read", "--config", w.config("loud-localhost.json", apiKeyConfig("http://LOCALHOST:"+u.Port(), apiKey)), "--catalog", cat); r.code != 0 {
		t.Errorf("read from http://LOCALHOST with HTTP_PROXY set: exit %d, want 0", r.code)
	}
	w.env = saved
	if n := front.requests.Load() - before; n != 0 {
		t.Errorf("the proxy received %d requests for a LOCALHOST base_url", n)
	}
}
