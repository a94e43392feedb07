// Package oura is the HTTP client for the Oura API v2: bearer authentication with one refresh on 401,
// bounded retries, Oura's rolling request budget, typed errors and a next_token page iterator.
package oura

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/rs/zerolog"

	"source-oura/internal/netpolicy"
)

// Defaults for the zero values of Config.
const (
	DefaultTimeout         = 60 * time.Second
	DefaultMaxAttempts     = 6
	DefaultMinBackoff      = time.Second
	DefaultMaxBackoff      = 60 * time.Second
	DefaultMaxRetryAfter   = 120 * time.Second
	DefaultRequestsPer5Min = 5000
	DefaultUserAgent       = "source-oura"
)

// budgetWindow is the span of Oura's request budget ("5000 requests per 5-minute period").
const budgetWindow = 5 * time.Minute

// Config sets up a Client. Zero values take the defaults above.
type Config struct {
	// BaseURL is the API host, e.g. https://api.ouraring.com (no trailing slash needed).
	BaseURL string
	// Tokens supplies the bearer token.
	Tokens TokenSource
	// Timeout bounds one attempt, from sending the request to the end of the body; default 60 s.
	Timeout time.Duration
	// MaxAttempts is the first try plus retries; default 6.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the exponential backoff with full jitter; defaults 1 s and 60 s.
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the client sleeps for; a longer one fails the request at once.
	// Default 120 s.
	MaxRetryAfter time.Duration
	// RequestsPer5Min is the number of requests, retries included, allowed in any rolling 5 minutes across
	// every caller of the Client; default 5000.
	RequestsPer5Min int
	// Logger receives retries at debug level and Retry-After waits at warn level. The zero Logger is silent.
	Logger zerolog.Logger
	// HTTPClient is optional (tests); its Transport carries the requests, wrapped by the rate budget and the
	// per-attempt timeout.
	HTTPClient *http.Client
	// UserAgent is sent with every request; default "source-oura".
	UserAgent string
}

// Client talks to the Oura API. It is safe for concurrent use, and all its callers share one request budget.
type Client struct {
	base          string
	tokens        TokenSource
	http          *http.Client
	maxAttempts   int
	minBackoff    time.Duration
	maxBackoff    time.Duration
	maxRetryAfter time.Duration
	userAgent     string
	log           zerolog.Logger
	clock         clock

	requests, retries, pages, records atomic.Int64
}

// Stats counts the work done by a Client or by one Pages iterator.
type Stats struct {
	// Requests is every HTTP request sent, retries included.
	Requests int64
	// Retries is the requests sent again after a failure or a token refresh.
	Retries int64
	// Pages is the list pages delivered.
	Pages int64
	// Records is the records in those pages.
	Records int64
}

// New checks cfg, fills in the defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	return newClient(cfg, systemClock{})
}

func newClient(cfg Config, clk clock) (*Client, error) {
	base, err := checkBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.Tokens == nil {
		return nil, errors.New("oura client: Tokens is required")
	}
	for _, d := range []struct {
		name  string
		value *time.Duration
		def   time.Duration
	}{
		{"Timeout", &cfg.Timeout, DefaultTimeout},
		{"MinBackoff", &cfg.MinBackoff, DefaultMinBackoff},
		{"MaxBackoff", &cfg.MaxBackoff, DefaultMaxBackoff},
		{"MaxRetryAfter", &cfg.MaxRetryAfter, DefaultMaxRetryAfter},
	} {
		if *d.value < 0 {
			return nil, fmt.Errorf("oura client: %s must not be negative, got %s", d.name, *d.value)
		}
		if *d.value == 0 {
			*d.value = d.def
		}
	}
	if cfg.MinBackoff > cfg.MaxBackoff {
		return nil, fmt.Errorf("oura client: MinBackoff (%s) is larger than MaxBackoff (%s)", cfg.MinBackoff, cfg.MaxBackoff)
	}
	if cfg.MaxAttempts < 0 {
		return nil, fmt.Errorf("oura client: MaxAttempts must not be negative, got %d", cfg.MaxAttempts)
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.RequestsPer5Min < 0 {
		return nil, fmt.Errorf("oura client: RequestsPer5Min must not be negative, got %d", cfg.RequestsPer5Min)
	}
	if cfg.RequestsPer5Min == 0 {
		cfg.RequestsPer5Min = DefaultRequestsPer5Min
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}

	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	inner := hc.Transport
	if inner == nil {
		t := netpolicy.NewTransport() // proxies from the environment, loopback always direct
		// Several streams may read at once; the default of 2 idle connections per host would churn.
		t.MaxIdleConnsPerHost = 16
		inner = t
	}
	// The token goes only to base_url's origin: a redirect elsewhere ends the request (see redirect.go).
	hc.CheckRedirect = netpolicy.CheckRedirect("base_url", netpolicy.MaxRedirects)
	hc.Transport = &budgetTransport{
		window: newRateWindow(cfg.RequestsPer5Min, budgetWindow, clk, cfg.Logger),
		next:   &timeoutTransport{timeout: cfg.Timeout, next: logRequests(cfg.Logger, inner)},
	}

	return &Client{
		base:          base,
		tokens:        cfg.Tokens,
		http:          hc,
		maxAttempts:   cfg.MaxAttempts,
		minBackoff:    cfg.MinBackoff,
		maxBackoff:    cfg.MaxBackoff,
		maxRetryAfter: cfg.MaxRetryAfter,
		userAgent:     cfg.UserAgent,
		log:           cfg.Logger,
		clock:         clk,
	}, nil
}

func checkBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("oura client: BaseURL is required")
	}
	base, err := netpolicy.BaseURL("BaseURL", raw)
	if err != nil {
		return "", fmt.Errorf("oura client: %w", err)
	}
	return base, nil
}

// Stats returns the totals for every request made through the Client so far.
func (c *Client) Stats() Stats {
	return Stats{
		Requests: c.requests.Load(),
		Retries:  c.retries.Load(),
		Pages:    c.pages.Load(),
		Records:  c.records.Load(),
	}
}

// Get fetches path (an already escaped URL path such as /v2/usercollection/personal_info) with query q and
// returns the body, which is checked to be valid JSON. Failures are *Error values, which name the path.
func (c *Client) Get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	page, err := c.fetch(ctx, path, q, nil, false)
	if err != nil {
		return nil, err // *Error already names the path
	}
	return page.Body, nil
}

// fetch sends one logical GET: retries through go-retryablehttp, and on a 401 one token refresh followed by
// one more try. With split, the body must be a list page and comes back cut into records; otherwise only
// Page.Body is set. Work is added to the client's totals and, when st is not nil, to st.
func (c *Client) fetch(ctx context.Context, path string, q url.Values, st *Stats, split bool) (Page, error) {
	target := c.base + "/" + strings.TrimLeft(path, "/")
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	token, err := c.tokens.Token(ctx)
	if err == nil && token == "" {
		err = errEmptyToken
	}
	if err != nil {
		return Page{}, fmt.Errorf("getting an access token: %w", err)
	}
	secrets := []string{token}

	sent := 0
	page, n, err := c.send(ctx, path, target, token, split)
	sent += n
	var e *Error
	if errors.As(err, &e) && e.Kind == Unauthorized {
		c.log.Debug().Str("path", path).Msg("Oura answered 401; refreshing the token and trying once more")
		fresh, rerr := c.tokens.Refresh(ctx, token)
		switch {
		case rerr == nil && fresh != "":
			secrets = append(secrets, fresh)
			page, n, err = c.send(ctx, path, target, fresh, split)
			sent += n
		case rerr == nil:
			e.Err = errors.New("the token refresh returned an empty token")
		case errors.As(rerr, new(*Error)):
			// The refresh itself hit Oura trouble (say, a network error); that error says more than the 401.
			err = fmt.Errorf("refreshing the access token after HTTP 401: %w", rerr)
		case errors.Is(rerr, ErrCannotRefresh):
			e.Err = rerr
		default:
			e.Err = fmt.Errorf("refreshing the token: %w", rerr)
		}
	}

	c.requests.Add(int64(sent))
	if sent > 1 {
		c.retries.Add(int64(sent - 1))
	}
	if st != nil {
		st.Requests += int64(sent)
		if sent > 1 {
			st.Retries += int64(sent - 1)
		}
	}
	if err != nil {
		if errors.As(err, &e) {
			if e.Path == "" {
				e.Path = path
			}
			if e.Kind == Forbidden && mentionsScope(e.Detail) {
				e.Scope = missingScope(e.Detail, path)
			}
		}
		return Page{}, scrub(err, secrets)
	}
	return page, nil
}

// maxErrorBody bounds how much of an error response is read for its explanation.
const maxErrorBody = 64 << 10

// send makes one request with retries and returns the checked body (split into records when asked), or the
// final error. It also returns how many attempts were made.
func (c *Client) send(ctx context.Context, path, target, token string, split bool) (Page, int, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Page{}, 0, fmt.Errorf("building the request for %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)

	p := &policy{c: c, path: path, split: split}
	rc := &retryablehttp.Client{
		HTTPClient: c.http,
		// Logging is ours (zerolog, no URLs); retryablehttp's own logger stays off.
		Logger:       nil,
		RetryWaitMin: c.minBackoff,
		RetryWaitMax: c.maxBackoff,
		RetryMax:     c.maxAttempts - 1,
		CheckRetry:   p.checkRetry,
		Backoff:      p.backoff,
		ErrorHandler: p.giveUp,
	}
	resp, err := rc.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return Page{}, p.attempts, err
	}
	defer resp.Body.Close()
	if vb, ok := resp.Body.(*validBody); ok {
		return vb.page, p.attempts, nil
	}
	// A status that is not retried: read Oura's explanation.
	detail, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := statusError(resp.StatusCode, detail)
	e.Attempts = p.attempts
	return Page{}, p.attempts, e
}
