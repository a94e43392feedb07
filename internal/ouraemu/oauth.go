package ouraemu

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// The paths of the token and consent endpoints of Oura's newer developer portal, served by the
// emulator next to the classic /oauth/token and /oauth/authorize (on the real service they live
// on moi.ouraring.com).
const (
	PortalTokenPath     = "/oauth/v2/ext/oauth-token"
	PortalAuthorizePath = "/oauth/v2/ext/oauth-authorize"
)

// tokenResponse is the token endpoint's success body.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// oauthError builds an RFC 6749 error body.
func oauthError(status int, code, description string) reply {
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{code, description})
	return reply{status: status, body: body}
}

// handleToken serves POST /oauth/token and PortalTokenPath: the authorization_code and
// refresh_token grants. Refresh tokens rotate: every success returns a new one and kills the one
// presented, which is the behaviour that breaks connectors that forget to persist the new token.
// With Options.DeveloperPortalApp the classic path refuses refreshes the way Oura was reported to
// refuse them for apps of the newer portal, without spending the refresh token.
func (s *Server) handleToken(r *http.Request) reply {
	if err := r.ParseForm(); err != nil {
		return oauthError(http.StatusBadRequest, "invalid_request", "body is not a valid form: "+err.Error())
	}
	form := r.PostForm
	grant := form.Get("grant_type")
	if grant == "" {
		return oauthError(http.StatusBadRequest, "invalid_request",
			"grant_type is missing (send an application/x-www-form-urlencoded body)")
	}

	clientID, secret, basic := r.BasicAuth()
	if !basic {
		clientID, secret = form.Get("client_id"), form.Get("client_secret")
	}
	want, known := s.opts.Clients[clientID]
	if !known || subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		rep := oauthError(http.StatusUnauthorized, "invalid_client", "unknown client or wrong client secret")
		if basic {
			rep.header = http.Header{"Www-Authenticate": {`Basic realm="oauth"`}}
		}
		return rep
	}

	if s.opts.DeveloperPortalApp && grant == "refresh_token" && r.URL.Path != PortalTokenPath {
		return oauthError(http.StatusBadRequest, "invalid_request", "Invalid request")
	}

	s.authMu.Lock()
	defer s.authMu.Unlock()
	var scopes []string
	var refused string // why the grant is refused: Oura answers each such case invalid_grant
	switch grant {
	case "authorization_code":
		code, ok := s.codes[form.Get("code")]
		switch {
		case !ok:
			refused = "unknown authorization code"
		case code.used:
			refused = "authorization code already used"
		case !s.now().Before(code.expires):
			refused = "authorization code expired"
		case code.clientID != clientID:
			refused = "authorization code was issued to another client"
		case code.redirectURI != form.Get("redirect_uri"):
			refused = "redirect_uri does not match the authorization request"
		default:
			code.used = true
			scopes = code.scopes
		}
	case "refresh_token":
		rt, ok := s.refresh[form.Get("refresh_token")]
		switch {
		case !ok:
			refused = "unknown refresh token"
		case rt.used:
			refused = "refresh token already used or revoked"
		case rt.clientID != clientID:
			refused = "refresh token was issued to another client"
		default:
			rt.used = true
			scopes = rt.scopes
		}
	default:
		return oauthError(http.StatusBadRequest, "unsupported_grant_type",
			"grant_type must be authorization_code or refresh_token")
	}
	if refused != "" {
		return oauthError(http.StatusBadRequest, "invalid_grant", refused)
	}

	body, err := json.Marshal(tokenResponse{
		TokenType:    "bearer",
		AccessToken:  s.issueAccessLocked(scopes),
		ExpiresIn:    int(accessTokenTTL.Seconds()),
		RefreshToken: s.issueRefreshLocked(clientID, scopes),
		Scope:        strings.Join(scopes, " "),
	})
	if err != nil {
		return detailReply(http.StatusInternalServerError, "encoding token response: "+err.Error())
	}
	return reply{status: http.StatusOK, body: body, header: http.Header{"Cache-Control": {"no-store"}}}
}

// handleAuthorize serves GET /oauth/authorize and PortalAuthorizePath. There is no user to ask, so it consents at
// once and redirects back with a fresh code; an omitted scope grants every scope, as the real
// consent screen then asks for all of them.
func (s *Server) handleAuthorize(r *http.Request) reply {
	q := r.URL.Query()
	clientID := q.Get("client_id")
	if _, ok := s.opts.Clients[clientID]; !ok {
		return detailReply(http.StatusBadRequest, "unknown client_id")
	}
	if rt := q.Get("response_type"); rt != "code" {
		return detailReply(http.StatusBadRequest, "response_type must be code")
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		return detailReply(http.StatusBadRequest, "redirect_uri is required")
	}
	target, err := url.Parse(redirect)
	if err != nil || !target.IsAbs() {
		return detailReply(http.StatusBadRequest, "redirect_uri is not an absolute URL")
	}
	scopes := strings.Fields(q.Get("scope"))
	if !q.Has("scope") {
		scopes = AllScopes
	}
	code := s.NewAuthCode(clientID, redirect, scopes...)

	back := target.Query()
	back.Set("code", code)
	back.Set("scope", strings.Join(scopes, " "))
	if q.Has("state") {
		back.Set("state", q.Get("state"))
	}
	target.RawQuery = back.Encode()
	return reply{status: http.StatusFound, header: http.Header{"Location": {target.String()}}}
}
