package auth

import (
	"context"
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
	"testing"
	"time"

	"source-oura/internal/fakeclock"
	"source-oura/internal/oura"
	"source-oura/internal/ouraemu"
	"source-oura/internal/ouratest"
)

const (
	clientID     = "client-abc-123"
	clientSecret = "secret-xyz-789"
)

// emu is the emulator behind an httptest server that records every token request's form.
type emu struct {
	srv   *ouraemu.Server
	url   string
	clock *fakeclock.Clock
	mu    sync.Mutex
	forms []url.Values
}

func newEmu(t *testing.T) *emu {
	t.Helper()
	e := &emu{clock: fakeclock.New(time.Date(2025, 4, 20, 12, 0, 0, 0, time.UTC))}
	ds := &ouraemu.Dataset{Docs: map[string][]ouraemu.Doc{}, PersonalInfo: []byte(`{"id":"acct-1"}`)}
	e.srv = ouraemu.NewServer(ouraemu.Options{Dataset: ds, Clients: map[string]string{clientID: clientSecret}, Now: e.clock.Now})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			if err := r.ParseForm(); err == nil {
				e.mu.Lock()
				e.forms = append(e.forms, r.PostForm)
				e.mu.Unlock()
			}
		}
		e.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	e.url = hs.URL
	return e
}

func (e *emu) tokenRequests() []url.Values {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]url.Values(nil), e.forms...)
}

func (e *emu) app() App {
	return App{TokenURL: e.url + "/oauth/token", ClientID: clientID, ClientSecret: clientSecret, Now: e.clock.Now}
}

// rotations records what OnRotate was given.
type rotations struct {
	mu  sync.Mutex
	got []Tokens
	err error
}

func (r *rotations) hook(t Tokens) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, t)
	return r.err
}

func (r *rotations) list() []Tokens {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Tokens(nil), r.got...)
}

func newSource(t *testing.T, e *emu, start Tokens, rot *rotations) *Source {
	t.Helper()
	var hook func(Tokens) error
	if rot != nil {
		hook = rot.hook
	}
	s, err := NewSource(e.app(), start, hook)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenRefreshesWhenMissingAndSendsTheDocumentedForm(t *testing.T) {
	e := newEmu(t)
	rt := e.srv.IssueRefreshToken(clientID, "daily", "personal")
	rot := &rotations{}
	s := newSource(t, e, Tokens{RefreshToken: rt}, rot)

	tok, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	forms := e.tokenRequests()
	if len(forms) != 1 {
		t.Fatalf("token endpoint called %d times, want 1", len(forms))
	}
	want := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {clientID}, "client_secret": {clientSecret}}
	if fmt.Sprint(forms[0]) != fmt.Sprint(want) {
		t.Errorf("form = %v, want %v", forms[0], want)
	}
	got := rot.list()
	if len(got) != 1 || got[0].AccessToken != tok || got[0].RefreshToken == rt || got[0].RefreshToken == "" {
		t.Fatalf("OnRotate got %+v; want the new access token and a new refresh token", got)
	}
	if want := e.clock.Now().Add(24 * time.Hour); !got[0].Expiry.Equal(want) || got[0].Expiry.Location() != time.UTC {
		t.Errorf("expiry = %v, want %v in UTC (expires_in 86400)", got[0].Expiry, want)
	}
	if got[0].Scope != "daily personal" {
		t.Errorf("scope = %q", got[0].Scope)
	}
	// The token works against the API.
	c := apiClient(t, e, s)
	if _, err := c.Get(context.Background(), "/v2/usercollection/personal_info", nil); err != nil {
		t.Fatalf("API call with the refreshed token: %v", err)
	}
	if s.Tokens() != got[0] {
		t.Errorf("Tokens() = %+v, want %+v", s.Tokens(), got[0])
	}
}

func apiClient(t *testing.T, e *emu, ts oura.TokenSource) *oura.Client {
	t.Helper()
	c, err := oura.New(oura.Config{BaseURL: e.url, Tokens: ts, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTokenRefreshesTenMinutesBeforeExpiry(t *testing.T) {
	e := newEmu(t)
	access := e.srv.IssueAccessToken("daily")
	start := Tokens{AccessToken: access, RefreshToken: e.srv.IssueRefreshToken(clientID, "daily"), Expiry: e.clock.Now().Add(11 * time.Minute)}
	s := newSource(t, e, start, nil)

	if tok, err := s.Token(context.Background()); err != nil || tok != access {
		t.Fatalf("with 11 minutes left: token %q, %v; want the configured one", tok, err)
	}
	if n := len(e.tokenRequests()); n != 0 {
		t.Fatalf("refreshed with 11 minutes left (%d token requests)", n)
	}
	e.clock.Advance(2 * time.Minute) // 9 minutes left
	tok, err := s.Token(context.Background())
	if err != nil || tok == access {
		t.Fatalf("with 9 minutes left: token %q, %v; want a new one", tok, err)
	}
	if n := len(e.tokenRequests()); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestAccessTokenWithoutExpiryIsUsedUntilRejected(t *testing.T) {
	e := newEmu(t)
	access := e.srv.IssueAccessToken("personal")
	s := newSource(t, e, Tokens{AccessToken: access, RefreshToken: e.srv.IssueRefreshToken(clientID, "personal")}, nil)
	c := apiClient(t, e, s)
	if _, err := c.Get(context.Background(), "/v2/usercollection/personal_info", nil); err != nil {
		t.Fatal(err)
	}
	if n := len(e.tokenRequests()); n != 0 {
		t.Fatalf("token requests = %d before any 401, want 0", n)
	}
	e.srv.RevokeAccessTokens()
	if _, err := c.Get(context.Background(), "/v2/usercollection/personal_info", nil); err != nil {
		t.Fatalf("after a 401 the client should refresh once and succeed: %v", err)
	}
	if n := len(e.tokenRequests()); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestConcurrentCallersShareOneRefresh(t *testing.T) {
	e := newEmu(t)
	rot := &rotations{}
	s := newSource(t, e, Tokens{RefreshToken: e.srv.IssueRefreshToken(clientID, "personal")}, rot)

	const callers = 16
	tokens := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { tokens[i], errs[i] = s.Token(context.Background()) })
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || tokens[i] != tokens[0] {
			t.Fatalf("caller %d: %q, %v; want the one shared token", i, tokens[i], errs[i])
		}
	}
	if n := len(e.tokenRequests()); n != 1 {
		t.Fatalf("token requests = %d for %d concurrent callers, want 1", n, callers)
	}

	// Every caller is told the same token was rejected: one refresh again.
	old := tokens[0]
	e.srv.RevokeAccessTokens()
	for i := range callers {
		wg.Go(func() { tokens[i], errs[i] = s.Refresh(context.Background(), old) })
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || tokens[i] == old || tokens[i] != tokens[0] {
			t.Fatalf("caller %d after 401: %q, %v; want one new shared token", i, tokens[i], errs[i])
		}
	}
	if n := len(e.tokenRequests()); n != 2 {
		t.Errorf("token requests = %d, want 2 (one per rejection, not one per caller)", n)
	}
	if n := len(rot.list()); n != 2 {
		t.Errorf("OnRotate called %d times, want 2", n)
	}
}

func TestReusedRefreshTokenGivesAClearConfigError(t *testing.T) {
	e := newEmu(t)
	rt := e.srv.IssueRefreshToken(clientID, "personal")
	first := newSource(t, e, Tokens{RefreshToken: rt}, nil)
	if _, err := first.Token(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A second copy of the same config: its refresh token was spent by the first.
	second := newSource(t, e, Tokens{RefreshToken: rt}, nil)
	_, err := second.Token(context.Background())
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind != Revoked || ae.Status != 400 || ae.Code != "invalid_grant" {
		t.Fatalf("err = %#v, want a Revoked invalid_grant", err)
	}
	msg := err.Error()
	t.Logf("%d characters: %s", len(msg), msg)
	if len(msg) > 260 {
		t.Errorf("the message is %d characters; the one line a user sees should stay near 200", len(msg))
	}
	for _, want := range []string{"already used", "source-oura auth", "authenticate it again", "invalid_grant"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	for _, secret := range []string{rt, clientSecret, clientID} {
		if strings.Contains(msg, secret) {
			t.Errorf("message leaks a secret: %s", msg)
		}
	}
	if strings.Contains(msg, "token_url") {
		t.Errorf("invalid_grant should not send the user to token_url: %s", msg)
	}
	// Classified for the stream reader and the check command: a config problem, not transient.
	var oe *oura.Error
	if !errors.As(err, &oe) || oe.Kind != oura.Unauthorized || oe.Transient() || ae.Transient() {
		t.Errorf("oura classification = %+v, want a permanent Unauthorized", oe)
	}

	// Further callers get the same answer without spending more requests.
	before := len(e.tokenRequests())
	if _, err := second.Refresh(context.Background(), ""); !errors.As(err, &ae) || ae.Kind != Revoked {
		t.Errorf("second call: %v", err)
	}
	if after := len(e.tokenRequests()); after != before {
		t.Errorf("a spent refresh token was sent again (%d → %d requests)", before, after)
	}
}

// stub answers every token request with status and body.
func stub(t *testing.T, status int, body string) (*httptest.Server, *int) {
	t.Helper()
	var mu sync.Mutex
	calls := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(hs.Close)
	return hs, &calls
}

func TestTokenEndpointFailuresAreClassified(t *testing.T) {
	const rt = "refresh-token-secret-42"
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		kind      Kind
		ouraKind  oura.Kind
		mentions  []string
		cached    bool
		transient bool
	}{
		{"invalid_client", 401, `{"error":"invalid_client","error_description":"unknown client"}`, BadClient, oura.Unauthorized,
			[]string{"client_id", "client_secret"}, true, false},
		{"new portal app on the classic endpoint", 400, `{"error":"invalid_request"}`, Revoked, oura.Unauthorized,
			[]string{"oauth_app_type", "developer_portal", "moi.ouraring.com", "source-oura auth"}, true, false},
		{"wrong token URL", 404, `{"detail":"Not Found"}`, Refused, oura.Unauthorized,
			[]string{"token_url", "HTTP 404", "Not Found"}, true, false},
		{"server error", 503, `<html>down</html>`, Transient, oura.ServerError, []string{"HTTP 503", "try again later"}, false, true},
		{"rate limited", 429, `{"detail":"slow down"}`, Transient, oura.RateLimited, []string{"HTTP 429"}, false, true},
		{"200 without a token", 200, `{"token_type":"bearer"}`, Transient, oura.BadResponse, []string{"no access token"}, false, true},
		{"secret echoed back", 400, `{"error":"invalid_grant","error_description":"token ` + rt + ` is dead"}`, Revoked, oura.Unauthorized,
			[]string{"****"}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs, calls := stub(t, tc.status, tc.body)
			s, err := NewSource(App{TokenURL: hs.URL + "/oauth/token", ClientID: clientID, ClientSecret: clientSecret},
				Tokens{RefreshToken: rt}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Token(context.Background())
			var ae *Error
			if !errors.As(err, &ae) || ae.Kind != tc.kind {
				t.Fatalf("err = %v, want kind %v", err, tc.kind)
			}
			var oe *oura.Error
			if !errors.As(err, &oe) || oe.Kind != tc.ouraKind || oe.Transient() != tc.transient {
				t.Errorf("oura classification = %+v, want %v", oe, tc.ouraKind)
			}
			msg := err.Error()
			for _, want := range tc.mentions {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			for _, secret := range []string{rt, clientSecret, clientID} {
				if strings.Contains(msg, secret) {
					t.Errorf("message leaks a secret: %s", msg)
				}
			}
			_, _ = s.Token(context.Background())
			want := 2
			if tc.cached {
				want = 1
			}
			if *calls != want {
				t.Errorf("token endpoint called %d times after two Token calls, want %d", *calls, want)
			}
		})
	}
}

func TestUnreachableTokenEndpointIsTransientAndRetriedByTheNextCaller(t *testing.T) {
	hs := httptest.NewServer(http.NotFoundHandler())
	tokenURL := hs.URL + "/oauth/token"
	hs.Close() // nothing listens there any more
	s, err := NewSource(App{TokenURL: tokenURL, ClientID: clientID, ClientSecret: clientSecret}, Tokens{RefreshToken: "refresh-1234567"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Token(context.Background())
	var ae *Error
	var oe *oura.Error
	if !errors.As(err, &ae) || !ae.Transient() || !errors.As(err, &oe) || oe.Kind != oura.Network {
		t.Fatalf("err = %v, want a transient network error", err)
	}
	if strings.Contains(err.Error(), "refresh-1234567") || strings.Contains(err.Error(), clientSecret) {
		t.Errorf("message leaks a secret: %v", err)
	}
	// The answer may have been lost after Oura rotated the token: a later invalid_grant says so.
	bad, _ := stub(t, 400, `{"error":"invalid_grant"}`)
	s.app.TokenURL = bad.URL
	_, err = s.Token(context.Background())
	if !errors.As(err, &ae) || !ae.EarlierAnswerLost || !strings.Contains(err.Error(), "got no answer") {
		t.Errorf("err = %v, want a Revoked error that mentions the lost answer", err)
	}
}

func TestExpiresInVariants(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		body string
		want time.Time
	}{
		{`{"access_token":"acc-1","refresh_token":"ref-1","expires_in":3600}`, now.Add(time.Hour)},
		{`{"access_token":"acc-1","refresh_token":"ref-1","expires_in":"3600"}`, now.Add(time.Hour)},
		{`{"access_token":"acc-1","refresh_token":"ref-1"}`, time.Time{}},
		{`{"access_token":"acc-1","refresh_token":"ref-1","expires_in":null}`, time.Time{}},
	} {
		hs, _ := stub(t, 200, tc.body)
		app := App{TokenURL: hs.URL, ClientID: clientID, ClientSecret: clientSecret, Now: func() time.Time { return now }}
		got, err := app.refresh(context.Background(), "old-refresh")
		if err != nil || !got.Expiry.Equal(tc.want) || got.AccessToken != "acc-1" || got.RefreshToken != "ref-1" {
			t.Errorf("%s: %+v, %v; want expiry %v", tc.body, got, err, tc.want)
		}
	}
	// A server that does not rotate keeps the refresh token that was sent.
	hs, _ := stub(t, 200, `{"access_token":"acc-2","expires_in":60}`)
	got, err := App{TokenURL: hs.URL, ClientID: clientID, ClientSecret: clientSecret}.refresh(context.Background(), "keep-me")
	if err != nil || got.RefreshToken != "keep-me" {
		t.Errorf("no new refresh token: %+v, %v", got, err)
	}
}

func TestRepeatedRejectionsStopRefreshing(t *testing.T) {
	e := newEmu(t)
	s := newSource(t, e, Tokens{RefreshToken: e.srv.IssueRefreshToken(clientID, "personal")}, nil)
	var err error
	for range maxRejectedRefreshes + 1 {
		var tok string
		if tok, err = s.Token(context.Background()); err != nil {
			break
		}
		_, err = s.Refresh(context.Background(), tok)
		if err != nil {
			break
		}
	}
	if !errors.Is(err, oura.ErrCannotRefresh) {
		t.Fatalf("err = %v, want ErrCannotRefresh after %d rejections", err, maxRejectedRefreshes)
	}
	if n := len(e.tokenRequests()); n != maxRejectedRefreshes+1 {
		t.Errorf("token requests = %d, want %d (the first token plus %d after 401s)", n, maxRejectedRefreshes+1, maxRejectedRefreshes)
	}
}

func TestOnRotateErrorIsReportedButTheTokensAreKept(t *testing.T) {
	e := newEmu(t)
	rot := &rotations{err: errors.New("disk full")}
	s := newSource(t, e, Tokens{RefreshToken: e.srv.IssueRefreshToken(clientID, "personal")}, rot)
	_, err := s.Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "saving the new OAuth tokens: disk full") {
		t.Fatalf("err = %v, want the OnRotate error", err)
	}
	rot.err = nil
	tok, err := s.Token(context.Background())
	if err != nil || tok != rot.list()[0].AccessToken {
		t.Errorf("next call: %q, %v; want the token from the refresh that could not be saved", tok, err)
	}
	if n := len(e.tokenRequests()); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
}

func TestNewSourceChecksItsInputs(t *testing.T) {
	good := App{TokenURL: "https://api.ouraring.com/oauth/token", ClientID: clientID, ClientSecret: clientSecret}
	for _, tc := range []struct {
		app  App
		rt   string
		want string
	}{
		{good, "", "refresh token is empty"},
		{App{TokenURL: good.TokenURL, ClientSecret: clientSecret}, "r", "client id is empty"},
		{App{TokenURL: good.TokenURL, ClientID: clientID}, "r", "client secret is empty"},
		{App{TokenURL: "http://example.com/oauth/token", ClientID: clientID, ClientSecret: clientSecret}, "r", "plain http"},
		{App{TokenURL: "ftp://x/y", ClientID: clientID, ClientSecret: clientSecret}, "r", "not an http(s) URL"},
	} {
		if _, err := NewSource(tc.app, Tokens{RefreshToken: tc.rt}, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.app, err, tc.want)
		}
	}
	if _, err := NewSource(App{TokenURL: "http://127.0.0.1:1/t", ClientID: "a", ClientSecret: "b"}, Tokens{RefreshToken: "r"}, nil); err != nil {
		t.Errorf("loopback http refused: %v", err)
	}
}

func TestExchangeCode(t *testing.T) {
	e := newEmu(t)
	const redirect = "http://localhost:8787/callback"
	code := e.srv.NewAuthCode(clientID, redirect, "daily")
	got, err := e.app().Exchange(context.Background(), code, redirect)
	if err != nil || got.AccessToken == "" || got.RefreshToken == "" || got.Expiry.IsZero() {
		t.Fatalf("Exchange: %+v, %v", got, err)
	}
	form := e.tokenRequests()[0]
	if form.Get("grant_type") != "authorization_code" || form.Get("code") != code || form.Get("redirect_uri") != redirect {
		t.Errorf("form = %v", form)
	}
	// The new refresh token works.
	if _, err := newSource(t, e, Tokens{RefreshToken: got.RefreshToken}, nil).Token(context.Background()); err != nil {
		t.Errorf("refresh token from the exchange: %v", err)
	}
	// A code works once.
	_, err = e.app().Exchange(context.Background(), code, redirect)
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind != Revoked || !strings.Contains(err.Error(), "authorization code") ||
		!strings.Contains(err.Error(), "auth` again") || strings.Contains(err.Error(), code) {
		t.Errorf("second exchange: %v", err)
	}
}

func TestAuthorizeURL(t *testing.T) {
	app := App{ClientID: "my client"}
	got, err := app.AuthorizeURL("https://cloud.ouraring.com/oauth/authorize", "http://localhost:8787/callback", "st4te")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(got)
	q := u.Query()
	if u.Host != "cloud.ouraring.com" || q.Get("response_type") != "code" || q.Get("client_id") != "my client" ||
		q.Get("redirect_uri") != "http://localhost:8787/callback" || q.Get("state") != "st4te" || q.Has("scope") {
		t.Errorf("consent URL = %s", got)
	}
	if _, err := app.AuthorizeURL("http://evil.example/authorize", "x", "y"); err == nil {
		t.Error("plain http authorize URL accepted")
	}
}

func TestRefreshStartedBeforeCancellationIsFinishedAndSaved(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = w.Write([]byte(`{"access_token":"acc-late","refresh_token":"ref-late","expires_in":86400}`))
	}))
	t.Cleanup(hs.Close)
	rot := &rotations{}
	s, err := NewSource(App{TokenURL: hs.URL, ClientID: clientID, ClientSecret: clientSecret}, Tokens{RefreshToken: "ref-old"}, rot.hook)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel() // the sync is stopped while Oura works on the refresh
		close(release)
	}()
	tok, err := s.Token(ctx)
	if err != nil || tok != "acc-late" {
		t.Fatalf("Token = %q, %v; want the refresh to finish", tok, err)
	}
	if got := rot.list(); len(got) != 1 || got[0].RefreshToken != "ref-late" {
		t.Errorf("OnRotate got %+v; the new refresh token must be saved", got)
	}
	// A caller whose sync is already stopped does not start a refresh.
	s2, _ := NewSource(App{TokenURL: hs.URL, ClientID: clientID, ClientSecret: clientSecret}, Tokens{RefreshToken: "ref-2"}, nil)
	if _, err := s2.Token(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// tokenAndAPI is a token endpoint that answers every refresh with a new access token and the
// given expires_in, and an API route that accepts any token it issued. It counts refreshes.
func tokenAndAPI(t *testing.T, expiresIn string) (url string, refreshes func() int) {
	t.Helper()
	var mu sync.Mutex
	issued := map[string]bool{}
	n := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/oauth/token":
			n++
			access := fmt.Sprintf("access-%d", n)
			issued[access] = true
			fmt.Fprintf(w, `{"access_token":%q,"refresh_token":"refresh-%d","expires_in":%s}`, access, n, expiresIn)
		case "/v2/usercollection/personal_info":
			if !issued[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"id":"acct-1"}`))
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(hs.Close)
	return hs.URL, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// TestUntrustworthyExpiresInRefreshesOnce: an expires_in that is huge, negative, not a number or
// shorter than the refresh margin must not make the source refresh before every request. Each
// refresh spends Oura's single-use refresh token and rewrites the config file; a run of several
// requests makes one, whatever the token endpoint says.
func TestUntrustworthyExpiresInRefreshesOnce(t *testing.T) {
	now := time.Date(2025, 4, 20, 12, 0, 0, 0, time.UTC)
	year := now.Add(maxExpiresIn)
	for _, tc := range []struct {
		expiresIn string
		expiry    time.Time // what is saved; zero for unknown
	}{
		{"1e19", year}, {"1e300", year}, {"1e10", year}, {"9223372036854775807", year}, {`"1e400"`, year},
		{"-5", time.Time{}}, {`"NaN"`, time.Time{}}, {`"soon"`, time.Time{}}, {"0", time.Time{}}, {"true", time.Time{}},
		{"0.5", now}, {"5", now.Add(5 * time.Second)}, {"599", now.Add(599 * time.Second)},
	} {
		expiresIn := tc.expiresIn
		t.Run(expiresIn, func(t *testing.T) {
			base, refreshes := tokenAndAPI(t, expiresIn)
			rot := &rotations{}
			app := App{TokenURL: base + "/oauth/token", ClientID: clientID, ClientSecret: clientSecret,
				Now: func() time.Time { return now }}
			s, err := NewSource(app, Tokens{RefreshToken: "refresh-0"}, rot.hook)
			if err != nil {
				t.Fatal(err)
			}
			c, err := oura.New(oura.Config{BaseURL: base, Tokens: s, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if _, err := c.Get(context.Background(), "/v2/usercollection/personal_info", nil); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			if n := refreshes(); n != 1 {
				t.Errorf("expires_in %s: %d refreshes for 5 requests, want 1", expiresIn, n)
			}
			if got := rot.list(); len(got) != 1 {
				t.Errorf("expires_in %s: the tokens were saved %d times, want 1", expiresIn, len(got))
			} else if !got[0].Expiry.Equal(tc.expiry) {
				t.Errorf("expires_in %s: saved expiry %v, want %v", expiresIn, got[0].Expiry, tc.expiry)
			}
		})
	}
}

// TestShortLivedTokenIsUsedHalfItsLife: a token that lives less than twice RefreshMargin is
// refreshed half-way through its life, not at once; one that lives less than a minute is kept
// until Oura rejects it.
func TestShortLivedTokenIsUsedHalfItsLife(t *testing.T) {
	for _, tc := range []struct {
		expiresIn string
		keep      time.Duration // used this long, refreshed just after; 0 for never on a timer
	}{
		{"600", 300 * time.Second}, {"1200", 600 * time.Second}, {"3600", 50 * time.Minute}, {"59", 0},
	} {
		t.Run(tc.expiresIn, func(t *testing.T) {
			base, refreshes := tokenAndAPI(t, tc.expiresIn)
			clock := fakeclock.New(time.Date(2025, 4, 20, 12, 0, 0, 0, time.UTC))
			s, err := NewSource(App{TokenURL: base + "/oauth/token", ClientID: clientID, ClientSecret: clientSecret,
				Now: clock.Now}, Tokens{RefreshToken: "refresh-0"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			first, err := s.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			keep := tc.keep
			if keep == 0 {
				keep = 24 * time.Hour
			}
			clock.Advance(keep - time.Second)
			if tok, err := s.Token(context.Background()); err != nil || tok != first || refreshes() != 1 {
				t.Fatalf("%v after issue: token %q (%v), %d refreshes; want the first token still", keep-time.Second, tok, err, refreshes())
			}
			if tc.keep == 0 {
				return
			}
			clock.Advance(time.Second)
			if tok, err := s.Token(context.Background()); err != nil || tok == first || refreshes() != 2 {
				t.Fatalf("%v after issue: token %q (%v), %d refreshes; want a second token", keep, tok, err, refreshes())
			}
		})
	}
}

// TestSpentRefreshTokenIsRetriedWithTheOneInTheFile: the config file changed between the start of
// the run and its refresh (another run spent the token and saved its successor). The refused
// refresh is tried once more with the file's token, the run goes on, and the file ends with a
// refresh token that works. A file still holding the refused token keeps today's error.
func TestSpentRefreshTokenIsRetriedWithTheOneInTheFile(t *testing.T) {
	e := newEmu(t)
	path := filepath.Join(t.TempDir(), "config.json")
	write := func(rt string) {
		doc := fmt.Sprintf("{\n  \"credentials\": {\"refresh_token\": %q}\n}\n", rt)
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	spentRT := e.srv.IssueRefreshToken(clientID, "personal")
	other := newSource(t, e, Tokens{RefreshToken: spentRT}, nil)
	if _, err := other.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	write(other.Tokens().RefreshToken) // what the other run saved, without an access token

	var warns []string
	app := e.app()
	app.Warn = func(m string) { warns = append(warns, m) }
	s, err := NewSource(app, Tokens{RefreshToken: spentRT}, func(t Tokens) error { return UpdateFile(path, t, nil) })
	if err != nil {
		t.Fatal(err)
	}
	s.ReloadFrom(func() (Tokens, error) { return ReadTokens(path) })
	before := len(e.tokenRequests())
	if _, err := s.Token(context.Background()); err != nil {
		t.Fatalf("refresh after the file changed: %v", err)
	}
	if n := len(e.tokenRequests()) - before; n != 2 {
		t.Errorf("%d token requests, want 2: the refused one and one retry", n)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "refreshing once more") {
		t.Errorf("warnings: %q", warns)
	}
	saved, err := ReadTokens(path)
	if err != nil || saved.RefreshToken != s.Tokens().RefreshToken {
		t.Fatalf("file holds %+v (%v), want the retry's tokens", saved, err)
	}
	third := newSource(t, e, Tokens{RefreshToken: saved.RefreshToken}, nil)
	fresh, err := third.Token(context.Background())
	if err != nil {
		t.Fatalf("the file's refresh token does not work: %v", err)
	}

	// The file also holds the other run's access token, good for hours: it is used as it is, and
	// nothing more is spent (one token request: the refused one).
	doc := fmt.Sprintf("{\n  \"credentials\": {\"refresh_token\": %q, \"access_token\": %q, \"token_expiry_date\": %q}\n}\n",
		third.Tokens().RefreshToken, fresh, third.Tokens().Expiry.Format(time.RFC3339))
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	warns = nil
	s3, _ := NewSource(app, Tokens{RefreshToken: saved.RefreshToken}, nil)
	s3.ReloadFrom(func() (Tokens, error) { return ReadTokens(path) })
	before = len(e.tokenRequests())
	got, err := s3.Token(context.Background())
	if err != nil || got != fresh {
		t.Fatalf("Token = %q, %v; want the file's access token %q", got, err, fresh)
	}
	if n := len(e.tokenRequests()) - before; n != 1 {
		t.Errorf("%d token requests, want only the refused one", n)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "using its access token") {
		t.Errorf("warnings: %q", warns)
	}

	// Nothing newer in the file: the refusal stands, after a bounded wait.
	write(spentRT)
	s2, _ := NewSource(e.app(), Tokens{RefreshToken: spentRT}, nil)
	s2.ReloadFrom(func() (Tokens, error) { return ReadTokens(path) })
	start := time.Now()
	_, err = s2.Token(context.Background())
	var ae *Error
	if !errors.As(err, &ae) || ae.Kind != Revoked || time.Since(start) > 3*reloadWait {
		t.Errorf("err = %v after %s, want the Revoked error within %s", err, time.Since(start), reloadWait)
	}
}

// TestSilentTokenEndpointIsAskedOnce: after one refresh timed out, every later Token and Refresh
// returns that failure at once, without another request, with one WARN; the message names the
// timeout and says what to do if the next run meets invalid_grant.
func TestSilentTokenEndpointIsAskedOnce(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	gone := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-gone:
		}
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() { close(gone) })
	var warns []string
	app := App{TokenURL: hs.URL + "/oauth/token", ClientID: clientID, ClientSecret: clientSecret,
		HTTPClient: &http.Client{Timeout: 200 * time.Millisecond}, Warn: func(m string) { warns = append(warns, m) }}
	s, err := NewSource(app, Tokens{RefreshToken: "refresh-1234567"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, first := s.Token(context.Background())
	start := time.Now()
	for i := range 10 {
		var err error
		if i%2 == 0 {
			_, err = s.Token(context.Background())
		} else {
			_, err = s.Refresh(context.Background(), "")
		}
		if err == nil || err.Error() != first.Error() {
			t.Fatalf("call %d: %v, want the first failure again", i, err)
		}
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("10 later calls took %s; they should fail at once", took)
	}
	var ae *Error
	var oe *oura.Error
	if !errors.As(first, &ae) || !ae.Transient() || !errors.As(first, &oe) || !oe.Transient() {
		t.Errorf("err = %v, want a transient failure", first)
	}
	for _, want := range []string{"did not answer within 200ms", "try again later", "invalid_grant", "source-oura auth"} {
		if !strings.Contains(first.Error(), want) {
			t.Errorf("message lacks %q: %s", want, first)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 || len(warns) != 1 {
		t.Errorf("%d token requests and %d warnings, want 1 and 1: %q", calls, len(warns), warns)
	}
}

// TestTokenURLAtAServerWithoutTLSIsNotTransient: an https token URL at a plain-HTTP server, or at
// a server whose first bytes are not a TLS record, will answer the same way on every try: a
// Refused error naming credentials.token_url, classified for check and read as a config problem,
// and not asked again.
func TestTokenURLAtAServerWithoutTLSIsNotTransient(t *testing.T) {
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	addr, _ := ouratest.Listen(t, func(c net.Conn) { _, _ = c.Write([]byte(ouratest.NotTLS)) })
	for _, tc := range []struct{ name, url, want string }{
		{"plain HTTP", "https://" + strings.TrimPrefix(plain.URL, "http://") + "/oauth/token", "HTTP response to HTTPS client"},
		{"not TLS", "https://" + addr + "/oauth/token", "does not look like a TLS handshake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSource(App{TokenURL: tc.url, ClientID: clientID, ClientSecret: clientSecret},
				Tokens{RefreshToken: "refresh-1234567"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Token(context.Background())
			var ae *Error
			var oe *oura.Error
			if !errors.As(err, &ae) || ae.Kind != Refused || ae.Transient() || !errors.As(err, &oe) || oe.Transient() {
				t.Fatalf("err = %v, want a permanent Refused error", err)
			}
			msg := err.Error()
			for _, want := range []string{"credentials.token_url", "plain HTTP", tc.want} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if strings.Contains(msg, "try again later") {
				t.Errorf("message says to try again: %s", msg)
			}
			if s.failed == nil {
				t.Error("the failure is not kept: every stream would ask again")
			}
		})
	}
}
