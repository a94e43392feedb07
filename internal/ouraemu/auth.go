package ouraemu

import (
	"crypto/rand"
	"net/http"
	"slices"
	"time"
)

// AllScopes is every OAuth scope the emulator knows: the eight the specification lists plus
// the three the live API enforces without documenting them (stress, heart_health,
// ring_configuration). A token with all of them can read every collection.
var AllScopes = []string{
	"email", "personal", "daily", "heartrate", "workout", "tag", "session", "spo2Daily",
	"stress", "heart_health", "ring_configuration",
}

// collectionScopes maps each collection to the scope a token needs to read it.
var collectionScopes = map[string]string{
	"daily_activity":           "daily",
	"daily_readiness":          "daily",
	"daily_sleep":              "daily",
	"sleep":                    "daily",
	"sleep_time":               "daily",
	"daily_stress":             "daily",
	"rest_mode_period":         "daily",
	"heartrate":                "heartrate",
	"workout":                  "workout",
	"tag":                      "tag",
	"enhanced_tag":             "tag",
	"session":                  "session",
	"daily_spo2":               "spo2Daily",
	"personal_info":            "personal",
	"daily_resilience":         "stress",
	"vO2_max":                  "heart_health",
	"daily_cardiovascular_age": "heart_health",
	"ring_battery_level":       "ring_configuration",
	"ring_configuration":       "ring_configuration",
}

// ScopeOf returns the scope a token needs to read collection on the live routes, or "" for a
// name that is not a collection.
func ScopeOf(collection string) string {
	return collectionScopes[collection]
}

// accessTokenTTL is how long an OAuth access token lives (the token endpoint's expires_in).
const accessTokenTTL = 24 * time.Hour

// authCodeTTL is how long an authorization code can be exchanged.
const authCodeTTL = 10 * time.Minute

type accessToken struct {
	scopes  []string
	expires time.Time
}

type refreshToken struct {
	clientID string
	scopes   []string
	used     bool
}

type authCode struct {
	clientID    string
	redirectURI string
	scopes      []string
	expires     time.Time
	used        bool
}

// authError is a failed bearer check: the status to answer and its detail.
type authError struct {
	status int
	detail string
}

// newToken returns a fresh random token. crypto/rand makes tokens unguessable and, in
// practice, distinct, so a test can tell every issued token apart.
func newToken() string {
	return rand.Text()
}

// bearer authenticates a data request and returns the scopes its token grants. Only the
// Authorization header counts; a token in the query string is refused outright because the
// real API stopped accepting it with v2.
func (s *Server) bearer(r *http.Request) ([]string, *authError) {
	if r.URL.Query().Has("access_token") {
		return nil, &authError{http.StatusUnauthorized,
			"Access tokens are not accepted in the query string; send them in the Authorization header as 'Bearer <token>'."}
	}
	if r.Header.Get("Authorization") == "" {
		return nil, &authError{http.StatusUnauthorized, "Not authenticated: missing Authorization header."}
	}
	token := bearerToken(r)
	if token == "" {
		return nil, &authError{http.StatusUnauthorized, "Invalid Authorization header: expected 'Bearer <token>'."}
	}
	if scopes, ok := s.opts.Tokens[token]; ok {
		return scopes, nil
	}
	s.authMu.Lock()
	defer s.authMu.Unlock()
	if s.revoked[token] {
		return nil, &authError{http.StatusUnauthorized, "Access token has been revoked."}
	}
	t, ok := s.access[token]
	if !ok {
		return nil, &authError{http.StatusUnauthorized, "Invalid access token."}
	}
	if !s.now().Before(t.expires) {
		return nil, &authError{http.StatusUnauthorized, "Access token has expired."}
	}
	return t.scopes, nil
}

// IssueAccessToken mints an OAuth access token with exactly the given scopes, valid for 24
// hours by the server's clock. With no scopes the token authenticates but can read only the
// sandbox; pass AllScopes... for a token that reads everything.
func (s *Server) IssueAccessToken(scopes ...string) string {
	s.authMu.Lock()
	defer s.authMu.Unlock()
	return s.issueAccessLocked(scopes)
}

func (s *Server) issueAccessLocked(scopes []string) string {
	tok := newToken()
	s.access[tok] = &accessToken{scopes: slices.Clone(scopes), expires: s.now().Add(accessTokenTTL)}
	return tok
}

// IssueRefreshToken mints a single-use refresh token for clientID that yields access tokens
// with exactly the given scopes.
func (s *Server) IssueRefreshToken(clientID string, scopes ...string) string {
	s.authMu.Lock()
	defer s.authMu.Unlock()
	return s.issueRefreshLocked(clientID, scopes)
}

func (s *Server) issueRefreshLocked(clientID string, scopes []string) string {
	tok := newToken()
	s.refresh[tok] = &refreshToken{clientID: clientID, scopes: slices.Clone(scopes)}
	return tok
}

// NewAuthCode mints an authorization code as if the user had consented at /oauth/authorize:
// single use, valid 10 minutes, exchangeable only by clientID with the same redirectURI.
func (s *Server) NewAuthCode(clientID, redirectURI string, scopes ...string) string {
	s.authMu.Lock()
	defer s.authMu.Unlock()
	code := newToken()
	s.codes[code] = &authCode{
		clientID:    clientID,
		redirectURI: redirectURI,
		scopes:      slices.Clone(scopes),
		expires:     s.now().Add(authCodeTTL),
	}
	return code
}

// RevokeAccessTokens kills every access token issued so far (by IssueAccessToken or the token
// endpoint): they answer 401 from now on, which simulates a token expiring mid-sync. Static
// tokens from Options.Tokens stay valid, and refresh tokens still work.
func (s *Server) RevokeAccessTokens() {
	s.authMu.Lock()
	defer s.authMu.Unlock()
	for tok := range s.access {
		s.revoked[tok] = true
	}
	clear(s.access)
}
