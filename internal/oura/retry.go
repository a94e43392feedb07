package oura

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"source-oura/internal/netpolicy"
)

// maxBody bounds the bytes read of one success body, after decompression. Bodies are never held whole
// (jsonscan.PageReader keeps one record at a time), so this bounds time and traffic, not memory: Oura's
// largest answers (years of daily documents in one page) are tens of MB, and a gzip bomb stops here.
const maxBody = 512 << 20

// policy is the retry policy for one request. go-retryablehttp calls it after every attempt (checkRetry),
// before every wait (backoff) and when it stops retrying (giveUp). One policy per request keeps the request's
// path, attempt count and last Retry-After together without shared state.
type policy struct {
	c    *Client
	ctx  context.Context // the request's, for its rate-limit observer
	path string

	attempts   int
	status     int           // status of the last response, 0 after a transport error
	cause      error         // why the last attempt failed, for the log
	retryAfter time.Duration // Oura's requested wait after the last response
	hasAfter   bool
}

// checkRetry decides whether an attempt is retried. It never reads a success body: the caller streams it
// (Client.read), and asks again itself when the body turns out to be cut off.
func (p *policy) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	p.attempts++
	p.status, p.cause, p.retryAfter, p.hasAfter = 0, nil, 0, false
	if err != nil {
		if e := refusedRedirect(err); e != nil {
			return false, e // asking again would meet the same redirect
		}
		ne := networkError(err)
		p.cause = ne.Err
		return retryableTransportError(err), ne
	}
	p.status = resp.StatusCode
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return false, nil
	case code == http.StatusTooManyRequests || code == http.StatusInternalServerError ||
		code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		p.cause = fmt.Errorf("HTTP %d", code)
		wait, ok := retryAfter(resp.Header, p.c.clock.Now())
		if ok && wait > p.c.maxRetryAfter {
			// Sleeping for an hour inside a sync helps nobody: stop now and let the next sync resume.
			p.c.log.Warn().Str("path", p.path).Int("status", code).Str("retry_after", human(wait)).
				Str("max_retry_after", human(p.c.maxRetryAfter)).Msg("Oura asked to wait longer than allowed; giving up for this sync")
			e := statusError(code, readErrorBody(resp))
			e.RetryAfter, e.waitCap = wait, p.c.maxRetryAfter
			return false, e
		}
		p.retryAfter, p.hasAfter = wait, ok
		return true, nil
	}
	return false, nil
}

func readErrorBody(resp *http.Response) []byte {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return b
}

// backoff returns the wait before the next attempt: Oura's Retry-After when it gave one, otherwise an
// exponential backoff with full jitter (Client.jitter: uniform between 0 and min(MaxBackoff,
// MinBackoff·2^retry)); retryablehttp's bounds are the client's own.
func (p *policy) backoff(_, _ time.Duration, retry int, _ *http.Response) time.Duration {
	var wait time.Duration
	if p.hasAfter {
		wait = p.retryAfter
		p.c.log.Warn().Str("path", p.path).Int("status", p.status).Str("retry_after", human(wait)).
			Int("attempt", p.attempts).Int("max_attempts", p.c.maxAttempts).Msg("Oura asked to wait before retrying; waiting")
		p.rateLimited(wait)
		return wait
	}
	wait = p.c.jitter(retry + 1)
	what := "no answer"
	if p.cause != nil {
		what = p.cause.Error()
	}
	// A WARN, not a debug line: a server that accepts and never answers makes each attempt last the whole
	// Timeout, and without these lines a person sees minutes of silence.
	p.c.warnRetry(p.path, what, p.attempts, wait)
	p.rateLimited(wait)
	return wait
}

// warnRetry logs one retry of a request: what happened, which attempt of how many, and the wait before the
// next one.
func (c *Client) warnRetry(path, what string, attempt int, wait time.Duration) {
	c.log.Warn().Str("path", path).Str("wait", human(wait)).
		Msgf("Oura request failed (%s) on attempt %d of %d; asking again in %s", what, attempt, c.maxAttempts, human(wait))
}

// rateLimited tells the request's rate-limit observer about a wait when the last answer was a 429;
// other retries (5xx, dropped connections) are not rate limits.
func (p *policy) rateLimited(wait time.Duration) {
	if p.status == http.StatusTooManyRequests && p.ctx != nil {
		rateWaiting(p.ctx, p.c.clock.Now().Add(wait))
	}
}

// giveUp runs when go-retryablehttp stops with a failure: attempts ran out, or checkRetry returned an error
// that ends the request. It returns the typed error and releases the last response.
func (p *policy) giveUp(resp *http.Response, err error, attempts int) (*http.Response, error) {
	var body []byte
	if resp != nil {
		body = readErrorBody(resp)
		resp.Body.Close()
	}
	var e *Error
	switch {
	case errors.As(err, &e):
	case err != nil:
		return nil, err // cancelled by the caller
	case resp != nil:
		e = statusError(resp.StatusCode, body)
		e.RetryAfter = p.retryAfter
	default:
		e = &Error{Kind: Network, Detail: "no response"}
	}
	e.Attempts = attempts
	return nil, e
}

// networkError wraps a transport failure. The *url.Error layer is dropped because it repeats the full URL,
// query included; the path is added later.
func networkError(err error) *Error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &Error{Kind: Network, Err: err}
}

// retryableTransportError reports whether retrying can help: certificate problems and a server that does not
// speak TLS at an https base_url will not go away. The tests of the error live in netpolicy, shared with the
// token client.
func retryableTransportError(err error) bool {
	return !netpolicy.BadCertificate(err) && !netpolicy.WrongProtocol(err)
}

// maxRetryAfterSecs (100 years) keeps a parsed Retry-After inside time.Duration's range.
const maxRetryAfterSecs = 100 * 365 * 24 * 3600

// retryAfter reads how long Oura asked to wait: Retry-After in seconds (Oura's form) or as an HTTP date, else
// X-RateLimit-Reset (epoch seconds, sent by Oura with 429s).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After"); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			// Bounded only so that the Duration cannot overflow: the error reports what Oura asked for.
			return time.Duration(min(secs, maxRetryAfterSecs)) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	if v := h.Get("X-RateLimit-Reset"); v != "" {
		if epoch, err := strconv.ParseInt(v, 10, 64); err == nil && epoch > 0 {
			return max(time.Unix(epoch, 0).Sub(now), 0), true
		}
	}
	return 0, false
}
