// Package oura is the HTTP client for the Oura API v2: bearer authentication with one refresh on 401,
// bounded retries, Oura's rolling request budget, typed errors and a next_token page iterator.
package oura

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/rs/zerolog"

	"source-oura/internal/jsonscan"
	"source-oura/internal/netpolicy"
	"source-oura/protocol"
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
	// WrapTransport, when set, wraps the transport that sends each request (HTTPClient's, or the
	// client's own default), inside the rate budget and the per-attempt timeout: the progress
	// lines count requests this way.
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// UserAgent is sent with every request; default "source-oura".
	UserAgent string
	// Scopes maps a collection (the route after /v2/usercollection/) to the OAuth scope it needs. It names
	// the missing scope when Oura refuses access without naming one. The caller passes the stream table's
	// (streams.Stream.Scope), the one list of scopes; the client keeps none of its own.
	Scopes map[string]string
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
	scopes        map[string]string

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
	if cfg.WrapTransport != nil {
		inner = cfg.WrapTransport(inner)
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
		scopes:        cfg.Scopes,
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
// returns the body, which is checked to be one JSON value of at most jsonscan.MaxRecord bytes, nested at most
// jsonscan.MaxDepth deep. Failures are *Error values, which name the path.
func (c *Client) Get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	var body []byte
	err := c.read(ctx, path, q, nil, func(r io.Reader) error {
		var err error
		body, err = readAll(r, jsonscan.MaxRecord)
		if err != nil {
			return err
		}
		if _, err := jsonscan.Check(body, nil, ""); err != nil {
			if errors.Is(err, jsonscan.ErrSyntax) {
				// Likely cut off or a proxy's error page: worth asking again.
				return &jsonscan.CutError{Offset: int64(len(body)), Err: err}
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return body, nil
}

// readAll reads r (io.ReadAll grows its buffer as bytes arrive, never from Content-Length, which a
// server may set to anything) and refuses more than limit bytes.
func readAll(r io.Reader, limit int) ([]byte, error) {
	buf, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, &jsonscan.CutError{Offset: int64(len(buf)), Err: err}
	}
	if len(buf) > limit {
		return nil, jsonscan.ErrTooLarge
	}
	return buf, nil
}

// emitError carries the error of a caller's callback through read unchanged: it is not Oura's fault.
type emitError struct{ err error }

func (e *emitError) Error() string { return e.err.Error() }

// errBodyTooLarge ends a success body longer than maxBody.
var errBodyTooLarge = fmt.Errorf("the response is longer than %d MiB", maxBody>>20)

// cappedBody stops a body after maxBody bytes: a gzip bomb or an endless body ends with an error.
type cappedBody struct {
	r    io.Reader
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// read is where every success body is read: it opens the request (retries and one token refresh happen
// there), hands the body to consume as it arrives, and asks again when consume reports the body cut off
// (*jsonscan.CutError), up to the client's MaxAttempts. consume is called once per attempt and must take
// care of what an earlier attempt already delivered (Pages skips those records). Other consume errors end
// the request: an emitError's as it is, any other as a BadResponse *Error.
func (c *Client) read(ctx context.Context, path string, q url.Values, st *Stats, consume func(io.Reader) error) error {
	for attempt := 1; ; attempt++ {
		resp, secrets, err := c.open(ctx, path, q, st)
		if err != nil {
			return err
		}
		body, head, ok := peekJSON(&cappedBody{r: resp.Body, left: maxBody})
		if !ok {
			resp.Body.Close()
			// Mask, then cut: a page may echo the request, token included.
			detail := fmt.Sprintf("it starts %q", protocol.Cut(redact(oneLine(head), secrets), quoteBytes))
			if ct := resp.Header.Get("Content-Type"); ct != "" {
				detail = fmt.Sprintf("Content-Type %s, %s", protocol.Cut(redact(oneLine(ct), secrets), 60), detail)
			}
			return &Error{Kind: BadResponse, notJSON: true, Status: resp.StatusCode, Path: path, Attempts: attempt, Detail: detail}
		}
		err = consume(body)
		resp.Body.Close()
		if err == nil {
			return nil
		}
		var ee *emitError
		if errors.As(err, &ee) {
			return ee.err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("reading %s: %w", path, ctxErr)
		}
		var cut *jsonscan.CutError
		if errors.As(err, &cut) && !errors.Is(err, errBodyTooLarge) && attempt < c.maxAttempts {
			wait := c.jitter(attempt)
			c.warnRetry(path, "the response was cut off: "+err.Error(), attempt, wait)
			if err := c.clock.Sleep(ctx, wait); err != nil {
				return fmt.Errorf("reading %s: %w", path, err)
			}
			c.retries.Add(1)
			if st != nil {
				st.Retries++
			}
			continue
		}
		if errors.Is(err, errBodyTooLarge) {
			err = errBodyTooLarge // "cut off" would mislead: the server would not stop
		}
		return &Error{Kind: BadResponse, Status: resp.StatusCode, Path: path, Detail: err.Error(), Attempts: attempt}
	}
}

// quoteBytes is how much of a body that is not JSON is quoted in the error.
const quoteBytes = 80

// peekJSON looks at the first byte of body after any white space. A byte that cannot start a JSON value
// ('<' of an HTML page, say) means the whole answer is something else than the API's JSON: ok is false and
// head holds the first bytes, to be quoted in a BadResponse error that is not transient, because asking
// again would bring the same page and only a change of base_url helps. Otherwise it returns a reader that
// yields the body from that byte on; a body that ends or fails before any such byte is left for the caller
// to report as cut off.
func peekJSON(body io.Reader) (rest io.Reader, head string, ok bool) {
	br := bufio.NewReaderSize(body, 4<<10)
	for {
		b, err := br.ReadByte()
		if err != nil {
			return errReader{err}, "", true
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[', '"', '-', 't', 'f', 'n', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			_ = br.UnreadByte()
			return br, "", true
		}
		_ = br.UnreadByte()
		// Enough to show what answered, and to cover a token echoed near the start so the mask sees it whole.
		buf := make([]byte, 4*quoteBytes)
		n, _ := io.ReadFull(br, buf)
		return nil, strings.ToValidUTF8(string(buf[:n]), "?"), false
	}
}

// errReader fails every Read with err, handing on what ended a body before its first byte.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// jitter is the wait before asking again for a cut-off body: full jitter up to min(MaxBackoff,
// MinBackoff·2^(attempt-1)), as for other retries.
func (c *Client) jitter(attempt int) time.Duration {
	ceiling := c.maxBackoff
	if attempt-1 < 32 && c.minBackoff<<(attempt-1) > 0 && c.minBackoff<<(attempt-1) < ceiling {
		ceiling = c.minBackoff << (attempt - 1)
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// open sends one logical GET: retries through go-retryablehttp, and on a 401 one token refresh followed by
// one more try. It returns the success response with its body unread, and the tokens it sent (to mask in
// anything quoted from the body). Work is added to the client's totals
// and, when st is not nil, to st.
func (c *Client) open(ctx context.Context, path string, q url.Values, st *Stats) (*http.Response, []string, error) {
	target := c.base + "/" + strings.TrimLeft(path, "/")
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	token, err := c.tokens.Token(ctx)
	if err == nil && token == "" {
		err = errEmptyToken
	}
	if err != nil {
		return nil, nil, fmt.Errorf("getting an access token: %w", err)
	}
	secrets := []string{token}

	sent := 0
	resp, n, err := c.send(ctx, path, target, token)
	sent += n
	var e *Error
	if errors.As(err, &e) && e.Kind == Unauthorized {
		c.log.Debug().Str("path", path).Msg("Oura answered 401; refreshing the token and trying once more")
		fresh, rerr := c.tokens.Refresh(ctx, token)
		switch {
		case rerr == nil && fresh != "":
			secrets = append(secrets, fresh)
			resp, n, err = c.send(ctx, path, target, fresh)
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
				e.Scope = missingScope(e.Detail, path, c.scopes)
			}
		}
		return nil, nil, scrub(err, secrets)
	}
	return resp, secrets, nil
}

// maxErrorBody bounds how much of an error response is read for its explanation.
const maxErrorBody = 64 << 10

// send makes one request with retries and returns the success response, body unread, or the final error. It
// also returns how many attempts were made.
func (c *Client) send(ctx context.Context, path, target, token string) (*http.Response, int, error) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("building the request for %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)

	p := &policy{c: c, ctx: ctx, path: path}
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
		return nil, p.attempts, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, p.attempts, nil
	}
	// A status that is not retried: read Oura's explanation.
	defer resp.Body.Close()
	detail, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := statusError(resp.StatusCode, detail)
	e.Attempts = p.attempts
	return nil, p.attempts, e
}
