package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"source-oura/internal/oura"
	"source-oura/internal/ouraemu"
)

func TestEndpointsOfEachAppType(t *testing.T) {
	for _, tc := range []struct {
		appType, base, authorize, token string
	}{
		{"", "https://api.ouraring.com", "https://cloud.ouraring.com/oauth/authorize", "https://api.ouraring.com/oauth/token"},
		{"cloud", "https://api.ouraring.com/", "https://cloud.ouraring.com/oauth/authorize", "https://api.ouraring.com/oauth/token"},
		{"developer_portal", "https://api.ouraring.com", "https://moi.ouraring.com/oauth/v2/ext/oauth-authorize",
			"https://moi.ouraring.com/oauth/v2/ext/oauth-token"},
		// Another base (an emulator, a proxy): the same paths under it, never Oura's hosts.
		{"cloud", "http://127.0.0.1:9", "http://127.0.0.1:9/oauth/authorize", "http://127.0.0.1:9/oauth/token"},
		{"developer_portal", "http://127.0.0.1:9", "http://127.0.0.1:9" + ouraemu.PortalAuthorizePath,
			"http://127.0.0.1:9" + ouraemu.PortalTokenPath},
	} {
		a, tok, err := Endpoints(tc.appType, tc.base)
		if err != nil || a != tc.authorize || tok != tc.token {
			t.Errorf("Endpoints(%q, %q) = %q, %q, %v; want %q, %q", tc.appType, tc.base, a, tok, err, tc.authorize, tc.token)
		}
	}
	if _, _, err := Endpoints("https://evil.example/token", "https://api.ouraring.com"); err == nil ||
		!strings.Contains(err.Error(), "developer_portal") {
		t.Errorf("an unknown app type gave %v; want an error naming the known ones", err)
	}

	const base = "https://api.ouraring.com"
	for _, tc := range []struct {
		appType, tokenURL, primary, fallback string
	}{
		{"", base + "/oauth/token", ClassicTokenURL, PortalTokenURL},
		{"cloud", "", ClassicTokenURL, PortalTokenURL},
		{"developer_portal", base + "/oauth/token", PortalTokenURL, ""},
		// An explicit, non-default token_url is the user's choice: no fallback.
		{"cloud", "https://proxy.example/token", "https://proxy.example/token", ""},
		{"developer_portal", "https://proxy.example/token", "https://proxy.example/token", ""},
	} {
		p, f, err := TokenEndpoints(tc.appType, base, tc.tokenURL)
		if err != nil || p != tc.primary || f != tc.fallback {
			t.Errorf("TokenEndpoints(%q, %q) = %q, %q, %v; want %q, %q", tc.appType, tc.tokenURL, p, f, err, tc.primary, tc.fallback)
		}
	}
}

// portalEmu is an emulator playing an app of Oura's newer developer portal, with a log of the
// token paths asked.
type portalEmu struct {
	srv   *ouraemu.Server
	url   string
	mu    sync.Mutex
	paths []string
}

func newPortalEmu(t *testing.T) *portalEmu {
	t.Helper()
	e := &portalEmu{}
	ds := &ouraemu.Dataset{Docs: map[string][]ouraemu.Doc{}}
	e.srv = ouraemu.NewServer(ouraemu.Options{Dataset: ds, Clients: map[string]string{clientID: clientSecret},
		DeveloperPortalApp: true})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.paths = append(e.paths, r.URL.Path)
		e.mu.Unlock()
		e.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	e.url = hs.URL
	return e
}

func (e *portalEmu) asked() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.paths, " ")
}

func TestPortalAppWithItsTypeSetRefreshesAtThePortalOnly(t *testing.T) {
	e := newPortalEmu(t)
	primary, fallback, err := TokenEndpoints(AppDeveloperPortal, e.url, e.url+"/oauth/token")
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	app := App{TokenURL: primary, FallbackTokenURL: fallback, ClientID: clientID, ClientSecret: clientSecret,
		Warn: func(m string) { warned = append(warned, m) }}
	s, err := NewSource(app, Tokens{RefreshToken: e.srv.IssueRefreshToken(clientID, "daily")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Refresh(context.Background(), s.Tokens().AccessToken); err != nil {
			t.Fatalf("refresh of a portal app with oauth_app_type developer_portal: %v", err)
		}
	}
	if got, want := e.asked(), ouraemu.PortalTokenPath+" "+ouraemu.PortalTokenPath; got != want {
		t.Errorf("token paths asked: %q; want %q (never the classic one)", got, want)
	}
	if len(warned) != 0 {
		t.Errorf("warned %q with the app type set", warned)
	}
}

func TestPortalAppWithoutItsTypeFallsBackOnceAndWarns(t *testing.T) {
	e := newPortalEmu(t)
	primary, fallback, err := TokenEndpoints("", e.url, e.url+"/oauth/token")
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	rot := &rotations{}
	rt := e.srv.IssueRefreshToken(clientID, "daily")
	app := App{TokenURL: primary, FallbackTokenURL: fallback, ClientID: clientID, ClientSecret: clientSecret,
		Warn: func(m string) { warned = append(warned, m) }}
	s, err := NewSource(app, Tokens{RefreshToken: rt}, rot.hook)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(context.Background()); err != nil {
		t.Fatalf("refresh with the fallback: %v", err)
	}
	// The rest of the run goes straight to the endpoint that worked.
	if _, err := s.Refresh(context.Background(), s.Tokens().AccessToken); err != nil {
		t.Fatalf("second refresh: %v", err)
	}
	want := "/oauth/token " + ouraemu.PortalTokenPath + " " + ouraemu.PortalTokenPath
	if got := e.asked(); got != want {
		t.Errorf("token paths asked: %q; want %q (one classic 400, then the portal)", got, want)
	}
	if len(rot.list()) != 2 || rot.list()[0].RefreshToken == rt {
		t.Errorf("rotations = %d; want both new refresh tokens saved", len(rot.list()))
	}
	if len(warned) != 1 || !strings.Contains(warned[0], `oauth_app_type to "developer_portal"`) ||
		!strings.Contains(warned[0], ouraemu.PortalTokenPath) {
		t.Errorf("warnings = %q; want one that says to set oauth_app_type to developer_portal", warned)
	}
	for _, secret := range []string{rt, clientSecret} {
		if strings.Contains(strings.Join(warned, " "), secret) {
			t.Errorf("the warning leaks a secret")
		}
	}
}

func TestRefreshRefusedByBothEndpointsSaysSoAndWhatToDo(t *testing.T) {
	classic, classicCalls := stub(t, 400, `{"error":"invalid_request","error_description":"Invalid request"}`)
	portal, portalCalls := stub(t, 400, `{"error":"invalid_grant","error_description":"refresh token revoked"}`)
	var warned []string
	app := App{TokenURL: classic.URL + "/oauth/token", FallbackTokenURL: portal.URL + "/oauth/v2/ext/oauth-token",
		ClientID: clientID, ClientSecret: clientSecret, Warn: func(m string) { warned = append(warned, m) }}
	s, err := NewSource(app, Tokens{RefreshToken: "refresh-token-secret-42"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Token(context.Background())
	if err == nil {
		t.Fatal("a refresh refused by both endpoints succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"both", classic.URL, portal.URL, "invalid_request", "invalid_grant", "oauth_app_type",
		"authenticate again"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "refresh-token-secret-42") || strings.Contains(msg, clientSecret) {
		t.Errorf("message leaks a secret: %s", msg)
	}
	var ae *Error
	var oe *oura.Error
	if !errors.As(err, &ae) || ae.Kind != Revoked || !errors.As(err, &oe) || oe.Transient() {
		t.Errorf("err = %#v; want a permanent Revoked *Error inside", err)
	}
	if len(warned) != 0 {
		t.Errorf("warned %q although the fallback failed", warned)
	}
	// Later callers get the same two-endpoint answer without new requests.
	if _, err := s.Token(context.Background()); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("second call: %v", err)
	}
	if *classicCalls != 1 || *portalCalls != 1 {
		t.Errorf("calls: classic %d, portal %d; want one each", *classicCalls, *portalCalls)
	}
}

func TestSpentRefreshTokenDoesNotTryThePortal(t *testing.T) {
	classic, _ := stub(t, 400, `{"error":"invalid_grant"}`)
	portal, portalCalls := stub(t, 200, `{"access_token":"x","refresh_token":"y"}`)
	app := App{TokenURL: classic.URL, FallbackTokenURL: portal.URL, ClientID: clientID, ClientSecret: clientSecret}
	s, err := NewSource(app, Tokens{RefreshToken: "refresh-token-secret-42"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(context.Background()); err == nil || strings.Contains(err.Error(), "both") {
		t.Errorf("err = %v; want the classic invalid_grant alone", err)
	}
	if *portalCalls != 0 {
		t.Errorf("the portal endpoint was asked %d times after an invalid_grant; want 0", *portalCalls)
	}
}
