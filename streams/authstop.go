package streams

import (
	"errors"
	"strings"
	"sync"

	"source-oura/internal/oura"
	"source-oura/protocol"
)

// AuthError ends a sync once Oura rejected the token for good: a 401 that no refresh could cure,
// because the token is a fixed API key or the refresh failed too. Every other stream would fail the
// same way, so the streams not yet started are not attempted, and the sync ends with this one error,
// which says what to do.
type AuthError struct {
	// Err is the first final 401, with the client's advice.
	Err error
	// Failed lists every stream that did not sync, the ones never started included.
	Failed []string
}

func (e *AuthError) Error() string {
	return "The sync stopped because Oura rejected the credentials: " + userMessage(e.Err) +
		". Streams not synced: " + strings.Join(e.Failed, ", ") + "."
}

// Unwrap gives errors.As the *oura.Error inside.
func (e *AuthError) Unwrap() error { return e.Err }

// errNotAttempted is the failure of a stream skipped after the token was rejected.
var errNotAttempted = errors.New("not attempted: Oura had already rejected the token")

// authStop remembers the first final 401 of a sync; streams check it before they start.
type authStop struct {
	mu  sync.Mutex
	err error
}

// note keeps err when it is a final 401: the client refreshes on a 401 before it gives up, so an
// Unauthorized error that reaches the reader is one no retry can cure.
func (a *authStop) note(err error) {
	var oe *oura.Error
	if err == nil || !errors.As(err, &oe) || oe.Kind != oura.Unauthorized {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
	}
}

func (a *authStop) get() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// skip ends a stream that is not attempted: INCOMPLETE, with no request and no error of its own,
// since the sync's one error explains it.
func (r *Reader) skip(job Job) Summary {
	_ = r.Out.Status(job.Desc, protocol.Incomplete)
	return Summary{Stream: job.Desc.Name, Err: errNotAttempted}
}
