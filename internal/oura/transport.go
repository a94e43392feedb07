package oura

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// clock is the time source of the rate window and of Retry-After dates; tests replace it so waits are exact
// and instant.
type clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever comes first, and returns ctx.Err() in the latter case.
	Sleep(ctx context.Context, d time.Duration) error
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// rateWindow enforces Oura's budget: at most limit requests in any rolling span. It remembers the send time of
// the last limit requests, so a request may go when fewer than limit were sent or the oldest of them left the
// window. Unlike a token bucket this lets a first burst of limit requests through at full speed and then
// waits exactly as long as the rule requires.
type rateWindow struct {
	limit int
	span  time.Duration
	clock clock
	log   zerolog.Logger

	mu   sync.Mutex
	sent []time.Time // ring buffer of send times; when full, sent[head] is the oldest
	head int
}

func newRateWindow(limit int, span time.Duration, clk clock, log zerolog.Logger) *rateWindow {
	return &rateWindow{limit: limit, span: span, clock: clk, log: log}
}

// wait blocks until a request may be sent, records it as sent and returns the time it was recorded at.
func (w *rateWindow) wait(ctx context.Context) (time.Time, error) {
	for {
		at, delay := w.take()
		if delay <= 0 {
			return at, nil
		}
		w.log.Info().Str("wait", human(delay)).Int("limit", w.limit).Str("window", human(w.span)).
			Msg("Oura request budget used up; waiting for the window to move")
		rateWaiting(ctx, w.clock.Now().Add(delay))
		if err := w.clock.Sleep(ctx, delay); err != nil {
			return time.Time{}, fmt.Errorf("waiting for the Oura request budget: %w", err)
		}
		// Another caller may have taken the freed slot meanwhile; take() decides again.
	}
}

// take records a send and returns its time when the budget allows one now, else how long until it might.
func (w *rateWindow) take() (time.Time, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock.Now()
	if len(w.sent) < w.limit {
		w.sent = append(w.sent, now)
		return now, 0
	}
	free := w.sent[w.head].Add(w.span)
	if now.Before(free) {
		return time.Time{}, free.Sub(now)
	}
	w.sent[w.head] = now
	w.head = (w.head + 1) % w.limit
	return now, 0
}

// budgetTransport charges every request, retries included, to the shared rate window before sending it.
type budgetTransport struct {
	window *rateWindow
	next   http.RoundTripper
}

func (t *budgetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if _, err := t.window.wait(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	rateSending(req.Context())
	return t.next.RoundTrip(req)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the real transport.
func (t *budgetTransport) CloseIdleConnections() { closeIdle(t.next) }

// timeoutTransport bounds one attempt: the time spent waiting on the server, from sending the
// request to the end of the body, adds up to at most timeout. Time the caller spends between body
// reads (records handed on while stdout or the look-ahead budget holds them back) does not
// count, or a slow destination would make whole pages time out and be fetched again. It sits
// inside budgetTransport so that time spent waiting for the rate budget does not count either.
type timeoutTransport struct {
	timeout time.Duration
	next    http.RoundTripper
}

// errAttemptTimeout is the cause an attempt's context is cancelled with when its time is up.
var errAttemptTimeout = errors.New("attempt timed out")

func (t *timeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	ctx, cancel := context.WithCancelCause(parent)
	clock := &serverClock{left: t.timeout, cancel: cancel}
	clock.start()
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	clock.stop()
	if err != nil {
		cancel(nil)
		return nil, t.explain(parent, ctx, err)
	}
	resp.Body = &timedBody{body: resp.Body, clock: clock, parent: parent, ctx: ctx, t: t}
	return resp, nil
}

// serverClock measures the time an attempt waits on the server and cancels the attempt once
// that reaches its limit. It is used by one goroutine at a time: the round trip, then the reads.
type serverClock struct {
	left   time.Duration
	cancel context.CancelCauseFunc
	timer  *time.Timer
	since  time.Time
}

func (c *serverClock) start() {
	c.since = time.Now()
	if c.left <= 0 {
		c.cancel(errAttemptTimeout)
		return
	}
	if c.timer == nil {
		c.timer = time.AfterFunc(c.left, func() { c.cancel(errAttemptTimeout) })
		return
	}
	c.timer.Reset(c.left) // stopped by stop; one timer serves every read of the body
}

func (c *serverClock) stop() {
	if c.timer != nil {
		c.timer.Stop()
	}
	c.left -= time.Since(c.since)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the real transport.
func (t *timeoutTransport) CloseIdleConnections() { closeIdle(t.next) }

// explain turns the bare "context deadline exceeded" of an expired attempt into a message naming the limit.
// Cancellation by the caller is passed through untouched.
func (t *timeoutTransport) explain(parent, ctx context.Context, err error) error {
	// Only the attempt's own deadline counts: ctx is also cancelled (not expired) once the
	// attempt is over, which must not turn a refused connection into a "timeout".
	if parent.Err() == nil && errors.Is(context.Cause(ctx), errAttemptTimeout) {
		return &attemptTimeout{timeout: t.timeout, err: err}
	}
	return err
}

// attemptTimeout reports an attempt that ran past Config.Timeout.
type attemptTimeout struct {
	timeout time.Duration
	err     error
}

func (e *attemptTimeout) Error() string {
	return fmt.Sprintf("no complete response within %s", e.timeout)
}
func (e *attemptTimeout) Unwrap() error { return e.err }

// Timeout marks the error as a timeout for net.Error-style checks.
func (e *attemptTimeout) Timeout() bool { return true }

// timedBody runs the attempt's server clock while a read waits on the server, and ends the
// attempt when the body is closed.
type timedBody struct {
	body        io.ReadCloser
	clock       *serverClock
	parent, ctx context.Context
	t           *timeoutTransport
}

func (b *timedBody) Read(p []byte) (int, error) {
	b.clock.start()
	n, err := b.body.Read(p)
	b.clock.stop()
	if err != nil && err != io.EOF {
		err = b.t.explain(b.parent, b.ctx, err)
	}
	return n, err
}

func (b *timedBody) Close() error {
	err := b.body.Close()
	b.clock.cancel(nil)
	return err
}

func closeIdle(rt http.RoundTripper) {
	if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
