// Package auth gets and keeps Oura OAuth2 tokens: the authorization-code exchange, a token
// source that refreshes access tokens with Oura's single-use, rotating refresh tokens, and the
// careful rewrite of a config file that must keep the newest refresh token.
package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"source-oura/internal/netpolicy"
	"source-oura/internal/oura"
)

// DefaultTimeout bounds one request to the token endpoint when App.HTTPClient sets no timeout.
const DefaultTimeout = 30 * time.Second

// maxBody bounds how much of a token endpoint answer is read.
const maxBody = 64 << 10

// maxExpiresIn caps the lifetime a token endpoint may claim for an access token. Oura's last a
// day; a larger expires_in is a server bug, and unchecked it overflows time.Duration (1e10 s
// already wraps around to the 18th century), which made every request refresh first.
const maxExpiresIn = 365 * 24 * time.Hour

// Tokens is what the token endpoint hands out.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	// Expiry is when AccessToken stops working; zero when unknown.
	Expiry time.Time
	// Scope lists the granted scopes, space-separated, when the endpoint says.
	Scope string
}

// The two kinds of Oura OAuth app, as credentials.oauth_app_type spells them. Where an app was
// registered decides where its tokens come from: cloud.ouraring.com apps use the classic
// endpoints; apps of the newer developer portal (developer.ouraring.com) were reported to get
// 400 invalid_request from the classic token endpoint on refresh and to need moi.ouraring.com.
const (
	AppCloud           = "cloud"
	AppDeveloperPortal = "developer_portal"
)

// Oura's OAuth endpoints for each app type (notes §9; the portal ones are unverified against
// the live service, which is why a cloud app falls back to the portal token URL, see Source).
const (
	ClassicAuthorizeURL = "https://cloud.ouraring.com/oauth/authorize"
	ClassicTokenURL     = "https://api.ouraring.com/oauth/token"
	PortalAuthorizeURL  = "https://moi.ouraring.com/oauth/v2/ext/oauth-authorize"
	PortalTokenURL      = "https://moi.ouraring.com/oauth/v2/ext/oauth-token"
	// ouraAPI is the data API whose OAuth endpoints are the ones above.
	ouraAPI = "https://api.ouraring.com"
)

// Endpoints returns the consent page and the token endpoint of an app type ("" means cloud).
// For Oura's own API they are Oura's addresses. For any other base URL (a local emulator, a
// proxy) they are the same paths under that base, so that the client secret and the grants go
// only to the origin the user configured.
func Endpoints(appType, baseURL string) (authorizeURL, tokenURL string, err error) {
	base := strings.TrimRight(baseURL, "/")
	own := strings.EqualFold(base, ouraAPI)
	switch appType {
	case "", AppCloud:
		if own {
			return ClassicAuthorizeURL, ClassicTokenURL, nil
		}
		return base + "/oauth/authorize", base + "/oauth/token", nil
	case AppDeveloperPortal:
		if own {
			return PortalAuthorizeURL, PortalTokenURL, nil
		}
		return base + portalAuthorizePath, base + portalTokenPath, nil
	}
	return "", "", fmt.Errorf("the OAuth app type %q is not known; use %q (apps from cloud.ouraring.com) or %q "+
		"(apps from developer.ouraring.com)", appType, AppCloud, AppDeveloperPortal)
}

// The paths of the portal endpoints, kept under a non-Oura base URL.
const (
	portalAuthorizePath = "/oauth/v2/ext/oauth-authorize"
	portalTokenPath     = "/oauth/v2/ext/oauth-token"
)

// TokenEndpoints picks where a config's refreshes go, and where to try once more when the first
// endpoint refuses in the way Oura refuses portal apps at the classic endpoint. tokenURL is
// credentials.token_url as resolved by the config (base URL + /oauth/token when not set). A
// token URL other than that default is the user's explicit choice and gets no fallback; an app
// declared developer_portal gets none either, because it was asked for by name.
func TokenEndpoints(appType, baseURL, tokenURL string) (primary, fallback string, err error) {
	_, chosen, err := Endpoints(appType, baseURL)
	if err != nil {
		return "", "", err
	}
	_, classic, _ := Endpoints(AppCloud, baseURL)
	_, portal, _ := Endpoints(AppDeveloperPortal, baseURL)
	switch {
	case tokenURL != "" && tokenURL != classic:
		return tokenURL, "", nil
	case chosen == portal:
		return portal, "", nil
	}
	return classic, portal, nil
}

// App is an OAuth application registered with Oura, and the endpoint that issues its tokens.
type App struct {
	// TokenURL is the token endpoint, e.g. https://api.ouraring.com/oauth/token.
	TokenURL string
	// FallbackTokenURL, when set, is tried once when TokenURL refuses a refresh with 400
	// invalid_request, Oura's reported answer to apps of its newer developer portal at the
	// classic endpoint. A Source that succeeds there keeps using it for the rest of the run.
	FallbackTokenURL string
	// Warn, when set, receives the advice to set credentials.oauth_app_type after the fallback
	// was needed.
	Warn         func(msg string)
	ClientID     string
	ClientSecret string
	// HTTPClient carries the requests; nil uses a plain client. Redirects are never followed, and a
	// client without a timeout gets DefaultTimeout.
	HTTPClient *http.Client
	// Now is the clock that turns expires_in into an expiry; nil uses time.Now.
	Now func() time.Time
}

// check reports an App that cannot be used. The token URL must be https, or http on a loopback host
// (a local emulator), because the client secret travels in the request body: netpolicy.CheckURL is
// the one rule for that, shared with the config and the Oura client.
func (a App) check() error {
	for _, f := range []struct{ name, val string }{
		{"token URL", a.TokenURL}, {"client id", a.ClientID}, {"client secret", a.ClientSecret},
	} {
		if strings.TrimSpace(f.val) == "" {
			return fmt.Errorf("the OAuth %s is empty", f.name)
		}
	}
	if a.FallbackTokenURL != "" {
		if _, err := netpolicy.CheckURL("fallback token URL", a.FallbackTokenURL); err != nil {
			return err
		}
	}
	_, err := netpolicy.CheckURL("token URL", a.TokenURL)
	return err
}

// AuthorizeURL returns the consent page address for this app. The scope is left out on purpose:
// Oura then asks the user for every scope, which suits a connector that reads every collection.
func (a App) AuthorizeURL(authorizeURL, redirectURI, state string) (string, error) {
	if _, err := netpolicy.CheckURL("authorize URL", authorizeURL); err != nil {
		return "", err
	}
	return a.oauth2(redirectURI, authorizeURL).AuthCodeURL(state), nil
}

// oauth2 is this app as golang.org/x/oauth2 sees it, for the consent URL. The token requests
// (post) stay ours, because x/oauth2 would make them worse here: it reads an answer sent as
// text/plain as a form, so a JSON answer without a JSON content type loses its tokens (see
// TestRefreshStartedBeforeCancellationIsFinishedAndSaved), it fails the whole answer when
// expires_in is not a whole number, and it dates the expiry by time.Now rather than App.Now. Nor
// is its token source of use: it has no hook to persist a rotated refresh token, does not
// refresh after a 401, and does not remember a failed refresh (source.go does all three).
func (a App) oauth2(redirectURI, authorizeURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    a.ClientID,
		RedirectURL: redirectURI,
		Endpoint:    oauth2.Endpoint{AuthURL: authorizeURL, TokenURL: a.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}
}

// Exchange trades an authorization code for tokens. redirectURI must be the one the code was
// requested with.
func (a App) Exchange(ctx context.Context, code, redirectURI string) (Tokens, error) {
	if err := a.check(); err != nil {
		return Tokens{}, err
	}
	form := url.Values{"grant_type": {grantCode}, "code": {code}, "redirect_uri": {redirectURI}}
	return a.post(ctx, grantCode, form, code)
}

// refresh trades a refresh token for new tokens. Oura rotates refresh tokens: the one sent is
// dead afterwards, whatever happens to the answer.
func (a App) refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	form := url.Values{"grant_type": {grantRefresh}, "refresh_token": {refreshToken}}
	t, err := a.post(ctx, grantRefresh, form, refreshToken)
	if err == nil && t.RefreshToken == "" {
		// RFC 6749 lets a server keep the refresh token by not sending a new one.
		t.RefreshToken = refreshToken
	}
	return t, err
}

// tokenAnswer is the token endpoint's body, success or failure. Oura's identity servers answer
// RFC 6749 errors; a FastAPI-style detail is read too.
type tokenAnswer struct {
	AccessToken      string          `json:"access_token"`
	RefreshToken     string          `json:"refresh_token"`
	ExpiresIn        json.RawMessage `json:"expires_in"`
	Scope            string          `json:"scope"`
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
	Detail           json.RawMessage `json:"detail"`
}

// post sends one form to the token endpoint, with the client credentials in the body as Oura
// documents, and reads the answer. grantSecret is the code or refresh token sent, kept out of
// every error text.
func (a App) post(ctx context.Context, grant string, form url.Values, grantSecret string) (Tokens, error) {
	form.Set("client_id", a.ClientID)
	form.Set("client_secret", a.ClientSecret)
	secrets := []string{grantSecret, a.ClientSecret, a.ClientID}
	fail := func(status int, kind Kind) *Error {
		return &Error{Kind: kind, Grant: grant, TokenURL: a.TokenURL, Status: status}
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return Tokens{}, fmt.Errorf("building the token request: %w", oura.RedactError(err, secrets...))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	c := a.client()
	resp, err := c.Do(req)
	if re, ok := netpolicy.AsRedirect(err); ok {
		e := fail(re.Status, Refused) // the token URL is wrong; asking again will not help
		e.Err = re
		return Tokens{}, e
	}
	if err != nil {
		e := fail(0, Transient)
		if netpolicy.WrongProtocol(err) || netpolicy.BadCertificate(err) {
			// The same server will answer the same way: the token URL is wrong (https:// at a
			// plain-HTTP port) or its certificate is not trusted here. The same test as base_url's.
			e.Kind = Refused
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			e.Timeout = c.Timeout
		}
		e.Err = oura.RedactError(err, secrets...)
		return Tokens{}, e
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		e := fail(resp.StatusCode, Transient)
		e.Err = fmt.Errorf("reading the answer: %w", oura.RedactError(err, secrets...))
		return Tokens{}, e
	}
	var ans tokenAnswer
	jsonErr := json.Unmarshal(body, &ans)

	if resp.StatusCode == http.StatusOK {
		if jsonErr != nil || ans.AccessToken == "" {
			e := fail(resp.StatusCode, Transient)
			e.Detail = "the answer holds no access token"
			return Tokens{}, e
		}
		t := Tokens{AccessToken: ans.AccessToken, RefreshToken: ans.RefreshToken, Scope: ans.Scope}
		if life, ok := lifetime(ans.ExpiresIn); ok {
			t.Expiry = a.now().Add(life).UTC().Truncate(time.Second)
		}
		return t, nil
	}

	e := fail(resp.StatusCode, classify(resp.StatusCode, ans.Error))
	e.Code = ans.Error
	if len(e.Code) > 64 || strings.ContainsAny(e.Code, " \t\r\n") {
		e.Code = "" // not an OAuth error code; keep the text as detail instead
	}
	switch {
	case ans.ErrorDescription != "":
		e.Detail = ans.ErrorDescription
	case len(ans.Detail) > 0:
		var s string
		if json.Unmarshal(ans.Detail, &s) != nil {
			s = string(ans.Detail)
		}
		e.Detail = s
	case jsonErr != nil && !strings.ContainsAny(string(body), "<>"):
		e.Detail = string(body) // short plain text; HTML error pages say nothing useful
	}
	e.Detail = cleanDetail(e.Detail, append(secrets, ans.AccessToken, ans.RefreshToken))
	return Tokens{}, e
}

// classify maps a failed answer to what the user must do.
func classify(status int, code string) Kind {
	switch {
	case code == "invalid_client" || status == http.StatusUnauthorized:
		return BadClient
	case status == http.StatusBadRequest:
		return Revoked
	case status == http.StatusTooManyRequests || status >= 500:
		return Transient
	}
	return Refused
}

// lifetime reads expires_in, which some servers send as a string, in whole seconds capped at
// maxExpiresIn. Zero, a negative number, NaN or anything else that is not a number means the
// lifetime is unknown (false), like a missing expires_in: the token is then used until Oura
// rejects it.
func lifetime(raw json.RawMessage) (time.Duration, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		n = json.Number(s)
	}
	v, err := strconv.ParseFloat(string(n), 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && v > 0: // beyond float64, e.g. "1e400": +Inf
		return maxExpiresIn, true
	case err != nil || !(v > 0): // written so that NaN is unknown too
		return 0, false
	case v >= maxExpiresIn.Seconds():
		// Checked before converting: a float64 beyond int64 converts to an arbitrary value.
		return maxExpiresIn, true
	}
	return time.Duration(v) * time.Second, true
}

func (a App) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// client returns the HTTP client for token requests: never following redirects, because a
// redirected POST turns into a GET without the form, and never without a timeout.
func (a App) client() *http.Client {
	c := &http.Client{}
	if a.HTTPClient != nil {
		copied := *a.HTTPClient
		c = &copied
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	// No redirect is followed (0 hops): a redirected POST becomes a GET without the form, and a
	// redirect elsewhere would carry the client secret away. netpolicy names the target in the error.
	netpolicy.Apply(c, "credentials.token_url", 0)
	return c
}

// errNoRefreshToken is returned by NewSource without a refresh token.
var errNoRefreshToken = errors.New("the OAuth refresh token is empty")
