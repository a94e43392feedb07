package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"source-oura/internal/oura"
)

// RefreshMargin is how long before its expiry an access token is replaced, so that a request
// never leaves with a token about to die.
const RefreshMargin = 10 * time.Minute

// maxRejectedRefreshes bounds the refreshes one Source makes because Oura answered 401. Each
// refresh spends a refresh token; if Oura keeps rejecting tokens fresh from the token endpoint
// (say, the token URL and the base URL belong to different Oura environments), refreshing again
// cannot help.
const maxRejectedRefreshes = 5

// minTimedLifetime is the shortest access-token lifetime that is refreshed on a timer. A token
// from the token endpoint that lives less (or arrives already expired: expires_in 0.5, a server
// bug) is used until Oura rejects it with a 401 instead, because refreshing on its expiry would
// spend a single-use refresh token, and rewrite the config, before nearly every request.
const minTimedLifetime = time.Minute

// Source is an oura.TokenSource for OAuth: it refreshes the access token when it is missing or
// expires within RefreshMargin (short-lived tokens: see setTokens), and once after a 401. It is
// safe for concurrent use. One refresh runs at a time; callers that waited for it reuse its
// token, because with single-use refresh tokens a second, concurrent refresh would fail.
type Source struct {
	app      App
	onRotate func(Tokens) error

	mu  sync.Mutex
	cur Tokens
	// refreshAt is when cur is replaced for its age; zero means only a 401 replaces it.
	refreshAt time.Time
	failed    *Error // a refresh failure that only the user can fix; every later call returns it
	rejected  int    // refreshes made because of a 401
	lost      bool   // a refresh got no answer, so Oura may have rotated the token without telling us
	// silent is the refresh that timed out: every later call returns it at once, because each new
	// request to an endpoint that does not answer costs a whole timeout (once per stream or scope
	// probe) and may spend a refresh token that the lost answer already replaced.
	silent *Error
	// reload, when set, reads the tokens saved in the config file now (see ReloadFrom).
	reload func() (Tokens, error)

	// classicRefusal is the classic endpoint's 400 invalid_request when failed comes from the
	// fallback endpoint, so that the error says both were tried.
	classicRefusal *Error
}

var _ oura.TokenSource = (*Source)(nil)

// NewSource returns a Source for app, starting from the tokens in the config (the access token
// and expiry may be empty). onRotate, if not nil, is called after every successful refresh with
// the new tokens, before anyone can use them, and never by two refreshes at once: it must save the
// new refresh token, because the old one no longer works.
func NewSource(app App, start Tokens, onRotate func(Tokens) error) (*Source, error) {
	if err := app.check(); err != nil {
		return nil, err
	}
	if start.RefreshToken == "" {
		return nil, errNoRefreshToken
	}
	s := &Source{app: app, onRotate: onRotate, cur: start}
	if !start.Expiry.IsZero() {
		// The config's expiry: a token found already expired is refreshed once, then the rule
		// for fresh tokens (setTokens) applies.
		s.refreshAt = start.Expiry.Add(-RefreshMargin)
	}
	return s, nil
}

// ReloadFrom gives the Source a way to read the tokens saved in the config file as it is now. When
// Oura refuses a refresh token as already used, another run sharing the file (two syncs started
// together) may have spent it and saved its successor there: the Source then takes the file's
// tokens and tries once more instead of failing. Call it before the Source is used.
func (s *Source) ReloadFrom(read func() (Tokens, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reload = read
}

// Tokens returns the tokens the Source holds now.
func (s *Source) Tokens() Tokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Token returns an access token that is good for at least RefreshMargin, refreshing first if
// needed. Errors are *Error, or wrap the one returned by onRotate.
func (s *Source) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usable() {
		return s.cur.AccessToken, nil
	}
	if err := s.refreshLocked(ctx); err != nil {
		return "", err
	}
	return s.cur.AccessToken, nil
}

// Refresh is called after Oura rejected the token rejected with a 401. It refreshes only if
// rejected is still the current token; otherwise another caller already did, and its token is
// returned.
func (s *Source) Refresh(ctx context.Context, rejected string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rejected != s.cur.AccessToken && s.usable() {
		return s.cur.AccessToken, nil
	}
	if s.failed == nil && s.silent == nil {
		if s.rejected >= maxRejectedRefreshes {
			return "", fmt.Errorf("not refreshing again: Oura rejected %d access tokens fresh from its token "+
				"endpoint; check that credentials.token_url and base_url belong to the same Oura service: %w",
				s.rejected, oura.ErrCannotRefresh)
		}
		s.rejected++
	}
	if err := s.refreshLocked(ctx); err != nil {
		return "", err
	}
	return s.cur.AccessToken, nil
}

// usable reports whether the current access token can be sent. A token of unknown expiry is
// used until Oura rejects it.
func (s *Source) usable() bool {
	if s.cur.AccessToken == "" {
		return false
	}
	return s.refreshAt.IsZero() || s.app.now().Before(s.refreshAt)
}

// setTokens makes t, fresh from the token endpoint, the current tokens, and decides when its age
// will call for the next refresh: RefreshMargin before its expiry, or half-way through its life
// when it lives less than twice that, so that a token just issued is always used. One that lives
// less than minTimedLifetime is used until a 401 (Refresh, bounded by maxRejectedRefreshes).
func (s *Source) setTokens(t Tokens) {
	s.cur, s.refreshAt = t, time.Time{}
	if t.Expiry.IsZero() {
		return
	}
	life := t.Expiry.Sub(s.app.now())
	if life < minTimedLifetime {
		return
	}
	s.refreshAt = t.Expiry.Add(-min(RefreshMargin, life/2))
}

// refreshLocked gets new tokens and hands them to onRotate. s.mu must be held, which is what
// makes refreshes one at a time.
func (s *Source) refreshLocked(ctx context.Context) error {
	if s.failed != nil {
		// The refresh token is spent or the client is wrong: asking again would only repeat the
		// answer, once per stream.
		return s.failure(s.failed)
	}
	if s.silent != nil {
		e := *s.silent
		return &e
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("not refreshing the access token: %w", err)
	}
	// Once sent, a refresh is allowed to finish even if the sync is being stopped: Oura spends
	// the old refresh token on receipt, so an answer thrown away would lose the only working one.
	// The HTTP client's timeout still bounds the wait.
	ctx = context.WithoutCancel(ctx)
	t, err := s.app.refresh(ctx, s.cur.RefreshToken)
	var classic *Error
	if err != nil && s.app.FallbackTokenURL != "" && portalRefusal(err) {
		errors.As(err, &classic)
		t, err = s.refreshAtFallback(ctx, classic)
	}
	if err != nil && classic == nil && spent(err) && s.reload != nil {
		var adopted bool
		if t, adopted, err = s.retryFromFile(ctx, err); adopted {
			return nil
		}
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return err
		}
		switch {
		case e.Transient():
			// No answer, or a 200 that could not be read: Oura may have rotated the token anyway.
			if e.Status == 0 || e.Status == http.StatusOK {
				s.lost = true
			}
			if e.Timeout > 0 {
				silent := *e
				s.silent = &silent
				if s.app.Warn != nil {
					s.app.Warn(fmt.Sprintf("the token endpoint %s did not answer within %s; it is not asked again "+
						"in this run, so everything that needs an access token now fails at once instead of waiting "+
						"%s more each time", e.TokenURL, e.Timeout, e.Timeout))
				}
			}
		default:
			e.EarlierAnswerLost = s.lost && e.Kind == Revoked
			failed := *e
			s.failed = &failed
			s.classicRefusal = classic
		}
		if classic != nil {
			return &bothRefused{classic: classic, fallback: e}
		}
		return e
	}
	s.setTokens(t)
	if s.onRotate != nil {
		if err := s.onRotate(t); err != nil {
			// The new tokens stay in use for this run; the caller learns that they were not saved.
			return fmt.Errorf("saving the new OAuth tokens: %w", err)
		}
	}
	return nil
}

// reloadTries and reloadWait bound the re-reads of the config file after a refresh token was
// refused as spent: a spent token costs a run at most reloadWait more before its error.
const (
	reloadTries = 10
	reloadWait  = time.Second
)

// spent reports Oura's answer to a refresh token that was already used (or revoked).
func spent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Grant == grantRefresh && e.Kind == Revoked
}

// retryFromFile runs after Oura refused the refresh token as spent (refusal). If the config file
// now holds another refresh token, a run sharing the file spent ours and saved its successor: the
// file's access token is used as it is when it is good for at least RefreshMargin (adopted: no
// refresh is needed, and none is spent), else the refresh is tried once more with the file's
// refresh token. Otherwise, or when the file cannot be read, refusal is returned unchanged.
func (s *Source) retryFromFile(ctx context.Context, refusal error) (t Tokens, adopted bool, err error) {
	// The run that spent the token saves its successor only after Oura answered it, so its
	// write may land a moment after our refusal: the file is read a few times, within reloadWait.
	var file Tokens
	for i := 0; ; i++ {
		var rerr error
		file, rerr = s.reload()
		if rerr == nil && file.RefreshToken != "" && file.RefreshToken != s.cur.RefreshToken {
			break
		}
		if rerr != nil || i == reloadTries-1 {
			return Tokens{}, false, refusal
		}
		time.Sleep(reloadWait / reloadTries)
	}
	warn := func(what string) {
		if s.app.Warn != nil {
			s.app.Warn("Oura refused the refresh token as already used, and the config file holds a newer one, " +
				"saved by another run sharing the file: " + what)
		}
	}
	now := s.app.now()
	if file.AccessToken != "" && file.AccessToken != s.cur.AccessToken && !file.Expiry.IsZero() &&
		now.Before(file.Expiry.Add(-RefreshMargin)) {
		warn("using its access token")
		s.setTokens(file)
		return Tokens{}, true, nil
	}
	warn("refreshing once more with it")
	s.cur.RefreshToken = file.RefreshToken
	t, err = s.app.refresh(ctx, file.RefreshToken)
	return t, false, err
}

// failure returns a fresh copy of a stored failure, because callers fill in fields of the
// errors they find.
func (s *Source) failure(stored *Error) error {
	e := *stored
	if s.classicRefusal != nil {
		c := *s.classicRefusal
		return &bothRefused{classic: &c, fallback: &e}
	}
	return &e
}

// portalRefusal reports the answer Oura was reported to give a refresh of an app from its newer
// developer portal at the classic token endpoint: 400 invalid_request. invalid_grant (a spent
// refresh token) is not it: the other endpoint would not know that token either.
func portalRefusal(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Grant == grantRefresh && e.Status == http.StatusBadRequest && e.Code == "invalid_request"
}

// refreshAtFallback tries the refresh once at the developer portal's token endpoint after the
// classic one refused it. Success moves the Source to that endpoint for the rest of the run and
// warns, because the config should say which app it is: every run would otherwise knock at the
// wrong door first.
func (s *Source) refreshAtFallback(ctx context.Context, classic *Error) (Tokens, error) {
	portal := s.app
	portal.TokenURL, portal.FallbackTokenURL = s.app.FallbackTokenURL, ""
	t, err := portal.refresh(ctx, s.cur.RefreshToken)
	if err != nil {
		return Tokens{}, err
	}
	s.app = portal
	if s.app.Warn != nil {
		s.app.Warn(fmt.Sprintf("Oura's classic token endpoint %s refused to refresh the access token (HTTP 400 "+
			"invalid_request) and the developer-portal endpoint %s accepted it: your OAuth app was registered on "+
			"Oura's newer developer portal. Set credentials.oauth_app_type to %q (in Airbyte: the source's "+
			"settings, OAuth app type) so that refreshes go there first.", classic.TokenURL, portal.TokenURL,
			AppDeveloperPortal))
	}
	return t, nil
}

// bothRefused is a refresh that failed at the classic token endpoint with 400 invalid_request
// and then at the developer portal's endpoint. It unwraps to the second failure, which decides
// whether trying later can help.
type bothRefused struct {
	classic, fallback *Error
}

func (e *bothRefused) Error() string {
	return fmt.Sprintf("tried both of Oura's token endpoints: the classic %s answered HTTP 400 invalid_request "+
		"(its answer to apps of the newer developer portal), then the developer portal's %s failed: %s. "+
		"Check that credentials.oauth_app_type names where your Oura app was registered (%q for "+
		"cloud.ouraring.com, %q for developer.ouraring.com), then authenticate again",
		e.classic.TokenURL, e.fallback.TokenURL, e.fallback.Error(), AppCloud, AppDeveloperPortal)
}

func (e *bothRefused) Unwrap() error { return e.fallback }
