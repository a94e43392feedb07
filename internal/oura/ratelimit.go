package oura

import (
	"context"
	"time"
)

// RateLimitObserver hears when the requests made with a context wait on Oura's rate limit: a 429
// answer (with or without Retry-After) or the client's own rolling request budget. The reader uses it
// to tell Airbyte a stream is rate limited (STREAM_STATUS RUNNING with a RATE_LIMITED reason) and to
// show the wait on a person's progress line. Methods are called from the goroutines making requests
// and must be quick.
type RateLimitObserver interface {
	// Waiting says a request will not be sent before until.
	Waiting(until time.Time)
	// Sending says a request is being sent now; after a wait, requests flow again.
	Sending()
}

type observerKey struct{}

// WithRateLimitObserver returns a context whose requests report their rate-limit waits to o.
func WithRateLimitObserver(ctx context.Context, o RateLimitObserver) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// rateWaiting tells the context's observer, if any, that its request waits until until.
func rateWaiting(ctx context.Context, until time.Time) {
	if o, ok := ctx.Value(observerKey{}).(RateLimitObserver); ok {
		o.Waiting(until)
	}
}

// rateSending tells the context's observer, if any, that its request is sent.
func rateSending(ctx context.Context) {
	if o, ok := ctx.Value(observerKey{}).(RateLimitObserver); ok {
		o.Sending()
	}
}
