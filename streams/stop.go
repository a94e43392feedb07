package streams

import (
	"errors"
	"strings"
	"sync"

	"source-oura/internal/oura"
	"source-oura/protocol"
)

// A sync stops early, without starting the streams still waiting, when a stream ended in a way
// that every other stream would end too: Oura rejected the token for good (AuthError), or Oura
// gave no answer at all to every attempt of a request (UnreachableError). The sync then ends
// with that one error, which says what to do; the streams not started end INCOMPLETE.

// AuthError ends a sync once Oura rejected the token for good: a 401 that no refresh could cure,
// because the token is a fixed API key or the refresh failed too.
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

// UnreachableError ends a sync once a request got no answer from Oura in any of its attempts
// (connection refused or reset, or no response within the request timeout, each time): the
// streams not yet started would each spend the same minutes finding Oura gone. A status, even a
// 5xx, is an answer and does not stop the sync. The next sync starts from the states saved.
type UnreachableError struct {
	// Err is the first such failure, with the client's advice.
	Err error
	// Failed lists every stream that did not sync, the ones never started included.
	Failed []string
	// Type is transient_error for an outage, config_error when the answer could never come
	// (a certificate that does not verify, an https base_url at a plain-http server).
	Type protocol.FailureType
}

func (e *UnreachableError) Error() string {
	return "The sync stopped because Oura could not be reached: " + userMessage(e.Err) +
		". Streams not synced: " + strings.Join(e.Failed, ", ") + "."
}

// Unwrap gives errors.As the *oura.Error inside.
func (e *UnreachableError) Unwrap() error { return e.Err }

// errNotAttempted is the failure of a stream skipped after the sync stopped.
var errNotAttempted = errors.New("not attempted: the sync had stopped")

// syncStop remembers the first stream error that stops the sync; streams check it before they
// start.
type syncStop struct {
	mu  sync.Mutex
	err error
}

// note keeps err when it stops the sync: a final 401 (the client refreshes on a 401 before it
// gives up, so an Unauthorized error that reaches the reader is one no retry can cure), or a
// request with no answer in any attempt (the client retries those before it gives up).
func (s *syncStop) note(err error) {
	var oe *oura.Error
	if err == nil || !errors.As(err, &oe) || (oe.Kind != oura.Unauthorized && oe.Kind != oura.Network) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *syncStop) get() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// result is the sync's one error once it stopped, naming every stream that did not sync, or nil.
func (s *syncStop) result(failed []string) error {
	err := s.get()
	var oe *oura.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &oe) && oe.Kind == oura.Network:
		return &UnreachableError{Err: err, Failed: failed, Type: failureType(err)}
	}
	return &AuthError{Err: err, Failed: failed}
}

// skip ends a stream that is not attempted: INCOMPLETE, with no request and no error of its own,
// since the sync's one error explains it.
func (r *Reader) skip(job Job) Summary {
	_ = r.Out.Status(job.Desc, protocol.Incomplete)
	return Summary{Stream: job.Desc.Name, Err: errNotAttempted}
}
