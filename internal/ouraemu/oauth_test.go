package ouraemu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// postToken sends a form to /oauth/token, with the client in the form or, if basic, in an
// HTTP Basic header.
func (e *emu) postToken(t *testing.T, form url.Values, basic bool) result {
	t.Helper()
	if basic {
		id, secret := form.Get("client_id"), form.Get("client_secret")
		form = cloneValues(form)
		form.Del("client_id")
		form.Del("client_secret")
		req := tokenRequest(t, e.URL, form)
		req.SetBasicAuth(id, secret)
		return do(t, req)
	}
	return do(t, tokenRequest(t, e.URL, form))
}

func tokenRequest(t *testing.T, base string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("building token request: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

type tokenBody struct {
	TokenType    string `json:"token_type"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

func decodeToken(t *testing.T, r result) tokenBody {
	t.Helper()
	var b tokenBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("decoding token response %s: %v", r.body, err)
	}
	return b
}

func wantGrant(t *testing.T, r result) tokenBody {
	t.Helper()
	b := decodeToken(t, r)
	if r.status != http.StatusOK || b.TokenType != "bearer" || b.AccessToken == "" || b.RefreshToken == "" || b.ExpiresIn != 86400 {
		t.Fatalf("token response %d %s, want a bearer grant", r.status, r.body)
	}
	return b
}

func wantOAuthError(t *testing.T, r result, status int, code string) {
	t.Helper()
	if b := decodeToken(t, r); r.status != status || b.Error != code {
		t.Errorf("got %d %s, want %d %q", r.status, r.body, status, code)
	}
}

func TestAuthorizeThenExchangeCode(t *testing.T) {
	for _, basic := range []bool{false, true} {
		e := newEmu(t, nil)
		const redirect = "http://localhost:8787/callback?keep=1"
		r := e.get(t, "/oauth/authorize?response_type=code&client_id=client-1&state=xyz&scope=daily%20heartrate&redirect_uri="+url.QueryEscape(redirect), "")
		if r.status != http.StatusFound {
			t.Fatalf("authorize: %d %s", r.status, r.body)
		}
		loc, err := url.Parse(r.header.Get("Location"))
		if err != nil {
			t.Fatalf("parsing Location: %v", err)
		}
		back := loc.Query()
		if loc.Host != "localhost:8787" || loc.Path != "/callback" || back.Get("keep") != "1" ||
			back.Get("state") != "xyz" || back.Get("code") == "" {
			t.Fatalf("redirected to %s", loc)
		}

		form := url.Values{
			"grant_type": {"authorization_code"}, "code": {back.Get("code")}, "redirect_uri": {redirect},
			"client_id": {"client-1"}, "client_secret": {"secret-1"},
		}
		g := wantGrant(t, e.postToken(t, form, basic))
		if g.Scope != "daily heartrate" {
			t.Errorf("scope = %q", g.Scope)
		}
		if r := e.get(t, live+"heartrate", g.AccessToken); r.status != http.StatusOK {
			t.Errorf("access token on heartrate: %d", r.status)
		}
		if r := e.get(t, live+"workout", g.AccessToken); r.status != http.StatusForbidden {
			t.Errorf("access token on workout (not consented): %d, want 403", r.status)
		}
		// Codes are single use.
		wantOAuthError(t, e.postToken(t, form, basic), http.StatusBadRequest, "invalid_grant")
	}
}

func TestAuthorizeRejections(t *testing.T) {
	e := newEmu(t, nil)
	for _, q := range []string{
		"response_type=code&client_id=nobody&redirect_uri=http://x/cb",
		"response_type=code&client_id=client-1",
		"response_type=token&client_id=client-1&redirect_uri=http://x/cb",
	} {
		r := e.get(t, "/oauth/authorize?"+q, "")
		if r.status != http.StatusBadRequest || detail(t, r) == "" {
			t.Errorf("authorize?%s = %d %s, want 400", q, r.status, r.body)
		}
	}
	// Without a scope the user is asked for everything.
	r := e.get(t, "/oauth/authorize?response_type=code&client_id=client-1&redirect_uri=http://x/cb", "")
	loc, _ := url.Parse(r.header.Get("Location"))
	if got := loc.Query().Get("scope"); got != strings.Join(AllScopes, " ") {
		t.Errorf("scope without asking = %q", got)
	}
}

func TestCodeExchangeRejections(t *testing.T) {
	e := newEmu(t, func(o *Options) { o.Clients["client-2"] = "secret-2" })
	base := func(code string) url.Values {
		return url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://x/cb"},
			"client_id": {"client-1"}, "client_secret": {"secret-1"},
		}
	}
	wantOAuthError(t, e.postToken(t, base("unknown"), false), http.StatusBadRequest, "invalid_grant")

	f := base(e.NewAuthCode("client-1", "http://x/cb", "daily"))
	f.Set("redirect_uri", "http://x/other")
	wantOAuthError(t, e.postToken(t, f, false), http.StatusBadRequest, "invalid_grant")

	f = base(e.NewAuthCode("client-2", "http://x/cb", "daily"))
	wantOAuthError(t, e.postToken(t, f, false), http.StatusBadRequest, "invalid_grant")

	f = base(e.NewAuthCode("client-1", "http://x/cb", "daily"))
	e.clock.Advance(11 * time.Minute)
	wantOAuthError(t, e.postToken(t, f, false), http.StatusBadRequest, "invalid_grant")
}

func TestRefreshRotates(t *testing.T) {
	e := newEmu(t, nil)
	first := e.IssueRefreshToken("client-1", "daily", "personal")
	form := func(rt string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"client-1"}, "client_secret": {"secret-1"}}
	}
	g1 := wantGrant(t, e.postToken(t, form(first), false))
	if g1.RefreshToken == first || g1.Scope != "daily personal" {
		t.Errorf("refresh gave %+v; want a new refresh token and the original scopes", g1)
	}
	// The old refresh token is dead once used.
	wantOAuthError(t, e.postToken(t, form(first), false), http.StatusBadRequest, "invalid_grant")
	// The new one works, with Basic client auth too, and rotates again.
	g2 := wantGrant(t, e.postToken(t, form(g1.RefreshToken), true))
	if g2.RefreshToken == g1.RefreshToken || g2.AccessToken == g1.AccessToken {
		t.Errorf("second refresh reused a token: %+v vs %+v", g2, g1)
	}
	wantOAuthError(t, e.postToken(t, form(g1.RefreshToken), false), http.StatusBadRequest, "invalid_grant")

	// Both access tokens work until the clock passes 24 hours.
	for _, at := range []string{g1.AccessToken, g2.AccessToken} {
		if r := e.get(t, live+"daily_sleep", at); r.status != http.StatusOK {
			t.Errorf("fresh access token: %d", r.status)
		}
	}
	e.clock.Advance(24*time.Hour - time.Second)
	if r := e.get(t, live+"daily_sleep", g2.AccessToken); r.status != http.StatusOK {
		t.Errorf("access token just before expiry: %d", r.status)
	}
	e.clock.Advance(time.Second)
	r := e.get(t, live+"daily_sleep", g2.AccessToken)
	if r.status != http.StatusUnauthorized || !strings.Contains(detail(t, r), "expired") {
		t.Errorf("access token at expiry: %d %s, want 401 expired", r.status, r.body)
	}
	// A refresh token of another client is refused.
	other := e.IssueRefreshToken("client-9", "daily")
	wantOAuthError(t, e.postToken(t, form(other), false), http.StatusBadRequest, "invalid_grant")
}

func TestTokenEndpointClientAndGrantErrors(t *testing.T) {
	e := newEmu(t, nil)
	rt := e.IssueRefreshToken("client-1", "daily")
	bad := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"client-1"}, "client_secret": {"wrong"}}
	wantOAuthError(t, e.postToken(t, bad, false), http.StatusUnauthorized, "invalid_client")
	wantOAuthError(t, e.postToken(t, bad, true), http.StatusUnauthorized, "invalid_client")
	bad.Set("client_id", "nobody")
	wantOAuthError(t, e.postToken(t, bad, false), http.StatusUnauthorized, "invalid_client")

	// A failed client check must not burn the refresh token.
	good := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"client-1"}, "client_secret": {"secret-1"}}
	wantGrant(t, e.postToken(t, good, false))

	wantOAuthError(t, e.postToken(t, url.Values{"grant_type": {"password"}, "client_id": {"client-1"}, "client_secret": {"secret-1"}}, false),
		http.StatusBadRequest, "unsupported_grant_type")
	wantOAuthError(t, e.postToken(t, url.Values{"client_id": {"client-1"}, "client_secret": {"secret-1"}}, false),
		http.StatusBadRequest, "invalid_request")
}

func TestIssuedTokensAreDistinct(t *testing.T) {
	e := newEmu(t, nil)
	seen := map[string]bool{}
	for range 50 {
		for _, tok := range []string{e.IssueAccessToken(), e.IssueRefreshToken("client-1"), e.NewAuthCode("client-1", "http://x")} {
			if seen[tok] || len(tok) < 20 {
				t.Fatalf("token %q repeated or short", tok)
			}
			seen[tok] = true
		}
	}
}

func TestRevokeAccessTokens(t *testing.T) {
	e := newEmu(t, nil)
	issued := e.IssueAccessToken(AllScopes...)
	rt := e.IssueRefreshToken("client-1", AllScopes...)
	e.RevokeAccessTokens()
	r := e.get(t, live+"daily_sleep", issued)
	if r.status != http.StatusUnauthorized || !strings.Contains(detail(t, r), "revoked") {
		t.Errorf("revoked token: %d %s, want 401", r.status, r.body)
	}
	if r := e.get(t, live+"daily_sleep", allToken); r.status != http.StatusOK {
		t.Errorf("static token after revoke: %d, want 200", r.status)
	}
	// Refreshing still works and yields a live access token.
	g := wantGrant(t, e.postToken(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {"client-1"}, "client_secret": {"secret-1"}}, false))
	if r := e.get(t, live+"daily_sleep", g.AccessToken); r.status != http.StatusOK {
		t.Errorf("token issued after revoke: %d, want 200", r.status)
	}
}

// A developer-portal app: the classic endpoint refuses its refreshes with Oura's reported
// answer and leaves the refresh token alive; the portal path refreshes it. Without the knob
// both paths work, so the knob is what the connector's fallback is tested against.
func TestDeveloperPortalAppRefreshesOnlyOnThePortalPath(t *testing.T) {
	e := newEmu(t, func(o *Options) { o.DeveloperPortalApp = true })
	rt := e.IssueRefreshToken("client-1", "daily")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"client-1"}, "client_secret": {"secret-1"}}
	wantOAuthError(t, e.postToken(t, form, false), http.StatusBadRequest, "invalid_request")

	req := tokenRequest(t, e.URL, form)
	req.URL.Path = PortalTokenPath
	g := wantGrant(t, do(t, req))
	if g.RefreshToken == "" || g.RefreshToken == rt {
		t.Errorf("portal refresh gave %+v; want a new refresh token", g)
	}

	plain := newEmu(t, nil)
	rt = plain.IssueRefreshToken("client-1", "daily")
	form.Set("refresh_token", rt)
	g = wantGrant(t, plain.postToken(t, form, false))
	form.Set("refresh_token", g.RefreshToken)
	req = tokenRequest(t, plain.URL, form)
	req.URL.Path = PortalTokenPath
	wantGrant(t, do(t, req))
}
