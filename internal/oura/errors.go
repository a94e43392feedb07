package oura

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"source-oura/internal/netpolicy"
	"source-oura/protocol"
)

// Kind says what went wrong with an Oura request, in terms of what the user has to do about it.
type Kind int

// The kinds of failure. Each maps to one piece of advice in Error.Error.
const (
	// Unauthorized: Oura rejected the token (HTTP 401) and refreshing it did not help or was not possible.
	Unauthorized Kind = iota + 1
	// Forbidden: the token is valid but lacks a scope, or the account has no access (HTTP 403).
	Forbidden
	// UpgradeRequired: the Oura mobile app is too old to share this data (HTTP 426).
	UpgradeRequired
	// RateLimited: Oura refused the request for now (HTTP 429).
	RateLimited
	// NotFound: the route or document does not exist (HTTP 404).
	NotFound
	// BadRequest: Oura rejected the query (HTTP 400, 422 or another 4xx).
	BadRequest
	// ServerError: Oura failed (HTTP 5xx).
	ServerError
	// BadResponse: Oura answered with something the connector cannot use (not JSON, cut off, wrong shape,
	// a pagination loop).
	BadResponse
	// Network: no HTTP response at all (refused, reset, timed out).
	Network
)

// String names the kind in lower case, for logs.
func (k Kind) String() string {
	switch k {
	case Unauthorized:
		return "unauthorized"
	case Forbidden:
		return "forbidden"
	case UpgradeRequired:
		return "upgrade required"
	case RateLimited:
		return "rate limited"
	case NotFound:
		return "not found"
	case BadRequest:
		return "bad request"
	case ServerError:
		return "server error"
	case BadResponse:
		return "bad response"
	case Network:
		return "network"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// ErrCannotRefresh is wrapped by TokenSource.Refresh when the token source has no way to get a new token,
// as with a static API key.
var ErrCannotRefresh = errors.New("the token cannot be refreshed")

// Error is a failed Oura request. Match it with errors.As; Kind says what went wrong.
type Error struct {
	Kind Kind
	// Status is the HTTP status of the last response, 0 when there was none.
	Status int
	// Path is the URL path that was requested, without the query.
	Path string
	// Detail is Oura's explanation (the "detail" of its error body) or what was wrong with the response,
	// made into one line and stripped of any token.
	Detail string
	// Scope is the OAuth scope the token lacks, when Oura's answer names one (Kind Forbidden).
	Scope string
	// RetryAfter is how long Oura asked the client to wait, when it said so.
	RetryAfter time.Duration
	// Attempts is how many times the request was sent before giving up (0 when unknown).
	Attempts int
	// Err is the underlying cause, if any: a transport error or a failed token refresh.
	Err error

	// waitCap is the longest wait the client was willing to honour; set when RetryAfter exceeded it.
	waitCap time.Duration
	// notJSON marks a complete success body that is not JSON at all (a web server's page): asking again
	// brings the same page, and only a change of base_url helps.
	notJSON bool
}

// Error explains the failure in one line: what was requested, what happened and what the user can do.
func (e *Error) Error() string {
	return e.Problem() + "; " + e.advice()
}

// Problem is Error without its advice: what was requested and what happened. A caller with advice of its
// own (check, which has no "next sync" to resume) adds that instead.
func (e *Error) Problem() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.summary())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Attempts > 1 {
			fmt.Fprintf(&b, ", %d attempts", e.Attempts)
		}
		b.WriteString(")")
	} else if e.Attempts > 1 {
		fmt.Fprintf(&b, " (%d attempts)", e.Attempts)
	}
	switch {
	case e.Detail == "":
	case e.Kind == BadResponse:
		fmt.Fprintf(&b, ": %s", e.Detail)
	default:
		fmt.Fprintf(&b, ": Oura said %q", e.Detail)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// WaitCap is the longest Retry-After the client was willing to honour, when Oura asked for a longer wait
// (RetryAfter) and the request failed because of it; 0 otherwise.
func (e *Error) WaitCap() time.Duration { return e.waitCap }

func (e *Error) summary() string {
	switch e.Kind {
	case Unauthorized:
		return "Oura rejected the access token"
	case Forbidden:
		return "Oura refused access"
	case UpgradeRequired:
		return "Oura needs a newer version of the Oura app to share this data"
	case RateLimited:
		return "Oura's rate limit was hit"
	case NotFound:
		return "not found"
	case BadRequest:
		return "Oura rejected the request"
	case ServerError:
		return "Oura is unavailable"
	case BadResponse:
		if re, ok := netpolicy.AsRedirect(e.Err); ok {
			if re.TooMany {
				return "the server kept redirecting the request"
			}
			return "the server redirected the request to another origin, which the connector does not follow"
		}
		if e.notJSON {
			return "the server at base_url answered with something that is not JSON"
		}
		return "Oura sent an unusable response"
	case Network:
		if netpolicy.WrongProtocol(e.Err) {
			return "the server at base_url does not speak HTTPS"
		}
		return "could not reach Oura"
	}
	return "request failed"
}

func (e *Error) advice() string {
	switch e.Kind {
	case Unauthorized:
		return "the token is invalid, expired or revoked: re-authorize the connector by signing in with Oura again (OAuth, see docs/auth.md)"
	case Forbidden:
		if e.Scope != "" {
			return fmt.Sprintf("the token lacks the %q scope: re-authorize the connector and grant it", e.Scope)
		}
		return "grant the scope this data needs when authorizing, and check that the Oura membership is active"
	case UpgradeRequired:
		return "update the Oura mobile app, open it to sync the ring, then run the sync again"
	case RateLimited:
		if e.waitCap > 0 && e.RetryAfter > e.waitCap {
			return fmt.Sprintf("Oura asked to wait %s, longer than the %s this connector waits; "+
				"the next sync resumes from the last saved state", e.RetryAfter, e.waitCap)
		}
		return "too many requests for now: run the sync again later"
	case NotFound:
		return "check the collection name or document id"
	case BadRequest:
		return "check the connector's dates and other settings"
	case Network:
		if netpolicy.WrongProtocol(e.Err) {
			return "base_url starts with https:// but the server there answered in another protocol (plain HTTP?): " +
				"check base_url (https://api.ouraring.com for Oura; http:// only for a local emulator without TLS)"
		}
		if !retryableTransportError(e.Err) {
			return "the server's TLS certificate could not be verified: check base_url; a proxy or emulator needs a certificate this machine trusts"
		}
		return "Oura may be down or unreachable: try again later"
	case ServerError:
		if e.waitCap > 0 && e.RetryAfter > e.waitCap {
			return fmt.Sprintf("Oura asked to wait %s; try again later, the next sync resumes from the last saved state",
				e.RetryAfter)
		}
		return "Oura may be down or unreachable: try again later"
	case BadResponse:
		if e.redirected() {
			return "set base_url to the API's own address (https://api.ouraring.com for Oura)"
		}
		if e.notJSON {
			return "check base_url: it must be the address of the Oura API (https://api.ouraring.com), not of a web page or proxy"
		}
		return "try again later, and report it if it keeps happening"
	}
	return "try again later"
}

// Unwrap returns the underlying cause, so errors.Is(err, ErrCannotRefresh) and checks on transport errors work.
func (e *Error) Unwrap() error { return e.Err }

// Transient reports whether the same request may succeed later without the user changing anything.
func (e *Error) Transient() bool {
	switch e.Kind {
	case RateLimited, ServerError, BadResponse:
		return !e.redirected() && !e.notJSON
	case Network:
		// A certificate that does not verify will not verify later either.
		return retryableTransportError(e.Err)
	}
	return false
}

// statusError builds the error for a response that will not be retried, from its status and body.
func statusError(status int, body []byte) *Error {
	e := &Error{Status: status, Detail: errorDetail(body)}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Kind = Unauthorized
		if status == http.StatusForbidden || mentionsScope(e.Detail) {
			e.Kind = Forbidden
		}
	case status == http.StatusUpgradeRequired:
		e.Kind = UpgradeRequired
	case status == http.StatusTooManyRequests:
		e.Kind = RateLimited
	case status == http.StatusNotFound:
		e.Kind = NotFound
	case status >= 500:
		e.Kind = ServerError
	case status >= 400:
		e.Kind = BadRequest
	default:
		e.Kind = BadResponse
		if e.Detail == "" {
			e.Detail = "unexpected status"
		}
	}
	return e
}

// maxDetail bounds how much of Oura's explanation goes into an error message.
const maxDetail = 300

// errorDetail extracts Oura's explanation from an error body. Oura's data routes answer FastAPI-style
// {"detail": "text"} or {"detail": [{"loc": [...], "msg": "..."}]}; its documentation also describes RFC 7807
// bodies (title, detail) and OAuth ones (error, error_description). Anything else that is short plain text is
// kept; HTML error pages are dropped.
func errorDetail(body []byte) string {
	var v struct {
		Detail           json.RawMessage `json:"detail"`
		Title            string          `json:"title"`
		Message          string          `json:"message"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		text := strings.TrimSpace(string(body))
		if text == "" || strings.ContainsAny(text, "<>{}") {
			return ""
		}
		return oneLine(text)
	}
	if d := detailText(v.Detail); d != "" {
		return oneLine(d)
	}
	for _, s := range []string{v.ErrorDescription, v.Message, v.Title, v.Error} {
		if s != "" {
			return oneLine(s)
		}
	}
	return ""
}

// detailText renders the "detail" member, which is a string or a list of FastAPI validation errors.
func detailText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var items []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if json.Unmarshal(raw, &items) == nil {
		parts := make([]string, 0, len(items))
		for _, it := range items {
			loc := make([]string, 0, len(it.Loc))
			for _, l := range it.Loc {
				loc = append(loc, fmt.Sprint(l))
			}
			if len(loc) > 0 {
				parts = append(parts, strings.Join(loc, ".")+": "+it.Msg)
			} else {
				parts = append(parts, it.Msg)
			}
		}
		return strings.Join(parts, "; ")
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// oneLine folds whitespace so a detail cannot break a log line. It does not cut: the detail is cut only
// after the secrets are masked (see scrub), so a secret cannot be split into a fragment the mask misses.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cleanDetail masks the secrets in a detail, then bounds its length: mask first, then cut.
func cleanDetail(s string, secrets []string) string {
	return protocol.Cut(redact(s, secrets), maxDetail)
}

func mentionsScope(detail string) bool {
	return strings.Contains(strings.ToLower(detail), "scope")
}

// knownScopes are the OAuth scope names Oura's documentation and clients use (notes §2 and §9). The newer
// identity server prefixes them with "extapi:".
var knownScopes = map[string]string{
	"email": "email", "personal": "personal", "daily": "daily", "heartrate": "heartrate",
	"workout": "workout", "tag": "tag", "session": "session", "spo2daily": "spo2Daily", "spo2": "spo2",
	"stress": "stress", "heart_health": "heart_health", "ring_configuration": "ring_configuration",
}

// missingScope finds the scope an authorization failure is about: a known scope name in Oura's detail
// (preferring words after "scope"), else the scope the caller's table (Config.Scopes) gives the
// requested collection.
func missingScope(detail, path string, scopes map[string]string) string {
	lower := strings.ToLower(detail)
	if at := strings.Index(lower, "scope"); at >= 0 {
		if s := firstScope(lower[at:]); s != "" {
			return s
		}
	}
	if s := firstScope(lower); s != "" {
		return s
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		if p == "usercollection" && i+1 < len(parts) {
			return scopes[parts[i+1]]
		}
	}
	return ""
}

func firstScope(lower string) string {
	words := strings.FieldsFunc(lower, func(r rune) bool {
		return !(r == '_' || r == ':' || (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'))
	})
	for _, w := range words {
		w = strings.TrimPrefix(strings.Trim(w, ":"), "extapi:")
		if s, ok := knownScopes[w]; ok {
			return s
		}
	}
	return ""
}

// scrubbed hides secrets in an error's text while keeping the error itself reachable by errors.Is/As.
type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// redact replaces every secret in s with protocol.Masked, using the same masker (longest secret first, the
// same shortest length) as the protocol writer, so there is one rule for what counts as a secret.
func redact(s string, secrets []string) string {
	if len(secrets) == 0 || s == "" {
		return s
	}
	return protocol.NewMasker(secrets...).Mask(s)
}

// RedactError returns err, or a wrapper whose text has the secrets removed while err stays
// reachable with errors.Is and errors.As.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); redact(msg, secrets) != msg {
		return &scrubbed{msg: redact(msg, secrets), err: err}
	}
	return err
}

// scrub makes sure no secret appears in the text of err. An *Error has its Detail cleaned and its cause
// wrapped; any other error is wrapped only when its text contains a secret.
func scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		e.Detail = cleanDetail(e.Detail, secrets)
		if e.Err != nil {
			if msg := e.Err.Error(); redact(msg, secrets) != msg {
				e.Err = &scrubbed{msg: redact(msg, secrets), err: e.Err}
			}
		}
	}
	if msg := err.Error(); redact(msg, secrets) != msg {
		return &scrubbed{msg: redact(msg, secrets), err: err}
	}
	return err
}
