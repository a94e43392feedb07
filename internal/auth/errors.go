package auth

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"source-oura/internal/netpolicy"
	"source-oura/internal/oura"
	"source-oura/protocol"
)

// Kind says what the user has to do about a failed token request.
type Kind int

// The kinds of failure.
const (
	// Revoked: Oura refused the grant (HTTP 400). For a refresh token this means it was already used
	// (Oura's refresh tokens are single-use) or the user revoked the app; for an authorization code,
	// that it expired, was used, or was issued for another redirect URI.
	Revoked Kind = iota + 1
	// BadClient: Oura does not know the client id or the secret does not match (invalid_client or 401).
	BadClient
	// Refused: Oura answered with another client error or a redirect, or the server at an https token URL
	// does not speak TLS or has a certificate that does not verify: the token URL is wrong.
	Refused
	// Transient: no answer, a 5xx, a 429 or an unusable body; trying again later may work.
	Transient
)

// String names the kind in lower case, for logs and tests.
func (k Kind) String() string {
	switch k {
	case Revoked:
		return "revoked"
	case BadClient:
		return "bad client"
	case Refused:
		return "refused"
	case Transient:
		return "transient"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Grant types, as the token endpoint spells them.
const (
	grantRefresh = "refresh_token"
	grantCode    = "authorization_code"
)

// newPortalTokenURL is where apps registered on Oura's newer developer portal exchange tokens
// (notes §9); a 400 other than invalid_grant from the classic endpoint is the known symptom.
const newPortalTokenURL = "https://moi.ouraring.com/oauth/v2/ext/oauth-token"

// Error is a failed request to the token endpoint. Its text tells the user what to do and never
// holds a token, code or secret. Match it with errors.As.
type Error struct {
	Kind Kind
	// Grant is "refresh_token" or "authorization_code": what was being exchanged.
	Grant string
	// TokenURL is the endpoint that was called.
	TokenURL string
	// Status is the HTTP status, 0 when there was no answer.
	Status int
	// Code is the OAuth error code from the body (invalid_grant, invalid_client, ...), if any.
	Code string
	// Detail is the endpoint's explanation, on one line, with any secret removed.
	Detail string
	// EarlierAnswerLost is set on a Revoked refresh when an earlier refresh in the same run got no
	// answer: Oura may have rotated the token then, and the answer carrying its successor was lost.
	EarlierAnswerLost bool
	// Err is the transport error behind a Transient failure, already free of secrets.
	Err error
	// Timeout is set when the endpoint did not answer at all within the HTTP client's timeout, which
	// it holds: the request may have reached Oura, which then spent the refresh token sent.
	Timeout time.Duration
	// SecretFrom is set by the auth command, whose user typed flags rather than wrote a config
	// file: where the client secret came from (the environment variable, the prompt, the flag).
	// The advice then names the command's flags instead of the config fields, which the same
	// failure names for read and check.
	SecretFrom string
}

// Error explains the failure and what to do, in one line.
func (e *Error) Error() string {
	var b strings.Builder
	what := "the refresh token"
	if e.Grant == grantCode {
		what = "the authorization code"
	}
	switch e.Kind {
	case Revoked:
		fmt.Fprintf(&b, "Oura refused %s (%s)", what, e.said())
		if e.Grant == grantCode {
			b.WriteString(". Authorization codes work once, for 10 minutes, and only with the redirect URI they were " +
				"requested with. Run `source-oura auth` again and finish within a few minutes")
			return b.String()
		}
		// Kept short (about 200 characters besides Oura's own words): it is the one line a user sees.
		b.WriteString(": it was already used (each works once) or access was revoked")
		if e.EarlierAnswerLost {
			b.WriteString("; an earlier refresh in this run got no answer, and Oura may have used the token then")
		}
		if e.Code != "" && e.Code != "invalid_grant" {
			fmt.Fprintf(&b, "; if your Oura app was registered on the newer developer portal (developer.ouraring.com), "+
				"set credentials.oauth_app_type to developer_portal (token endpoint %s)", newPortalTokenURL)
		}
		b.WriteString(". Run `source-oura auth` again, or authenticate it again in the Airbyte source's settings")
	case BadClient:
		check := "credentials.client_id and credentials.client_secret"
		if e.SecretFrom != "" {
			check = "--client-id and the client secret (" + e.SecretFrom + ")"
		}
		fmt.Fprintf(&b, "Oura did not accept the OAuth client (%s): check %s against your Oura API application",
			e.said(), check)
	case Refused:
		if e.wrongServer(&b) {
			return b.String()
		}
		check := "credentials.token_url (default: the base URL + /oauth/token"
		if e.SecretFrom != "" {
			check = "--token-url and --app-type (default: the token endpoint of --app-type"
		}
		fmt.Fprintf(&b, "the token endpoint %s refused to exchange %s (%s): check %s; apps from Oura's newer "+
			"developer portal use %s)", e.TokenURL, what, e.said(), check, newPortalTokenURL)
	default:
		if e.Timeout > 0 {
			fmt.Fprintf(&b, "the token endpoint %s did not answer within %s (%s)", e.TokenURL, e.Timeout, e.said())
			if e.Grant == grantCode {
				b.WriteString(": run `source-oura auth` again later; the authorization code may be spent")
				return b.String()
			}
			// Kept for the next run: the request may have reached Oura, which then rotated the token.
			b.WriteString(": try again later. Oura may have issued a new refresh token in the answer that never " +
				"came; if the next run reports invalid_grant, run `source-oura auth` again, or authenticate it " +
				"again in the Airbyte source's settings")
			return b.String()
		}
		fmt.Fprintf(&b, "could not exchange %s at %s (%s): try again later", what, e.TokenURL, e.said())
	}
	return b.String()
}

// wrongServer writes the advice for a token URL whose server cannot be the token endpoint however
// often it is asked: an https URL at a server that does not speak TLS, or a certificate that does
// not verify (netpolicy's tests, the same as for base_url). It reports whether it wrote anything.
func (e *Error) wrongServer(b *strings.Builder) bool {
	field, example := "credentials.token_url", "unset it to use the base URL + /oauth/token"
	if e.SecretFrom != "" {
		field, example = "--token-url and --base-url", "leave --token-url out to use Oura's"
	}
	switch {
	case netpolicy.WrongProtocol(e.Err):
		fmt.Fprintf(b, "the token endpoint %s starts with https:// but the server there answered in another "+
			"protocol (plain HTTP?) (%s): check %s (%s; http:// only for a local emulator without TLS)",
			e.TokenURL, e.said(), field, example)
	case netpolicy.BadCertificate(e.Err):
		fmt.Fprintf(b, "the TLS certificate of the token endpoint %s could not be verified (%s): check %s; a proxy "+
			"or emulator needs a certificate this machine trusts", e.TokenURL, e.said(), field)
	default:
		return false
	}
	return true
}

// said renders what the endpoint answered: status, OAuth code and explanation, or the transport error.
func (e *Error) said() string {
	var parts []string
	if e.Status != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", e.Status))
	}
	if e.Code != "" {
		parts = append(parts, e.Code)
	}
	s := strings.Join(parts, " ")
	if e.Detail != "" {
		if s != "" {
			s += ": "
		}
		s += e.Detail
	}
	if e.Err != nil {
		if s != "" {
			s += ": "
		}
		s += e.Err.Error()
	}
	if s == "" {
		s = "no explanation"
	}
	return s
}

// Transient reports whether the same request may succeed later without the user changing anything.
func (e *Error) Transient() bool { return e.Kind == Transient }

// Unwrap exposes the transport error and an *oura.Error of the matching kind. The second lets code that
// classifies failures by oura.Error (the stream reader, the check command) treat a refresh that needs the
// user as a config error and a network failure as transient, without knowing this package. A fresh
// value is made on every call because those callers fill in fields of the error they find.
func (e *Error) Unwrap() []error {
	class := &oura.Error{Kind: oura.Unauthorized}
	if e.Kind == Transient {
		switch {
		case e.Status == http.StatusTooManyRequests:
			class.Kind = oura.RateLimited
		case e.Status >= 500:
			class.Kind = oura.ServerError
		case e.Status != 0:
			class.Kind = oura.BadResponse
		default:
			class.Kind = oura.Network
		}
	}
	if e.Err == nil {
		return []error{class}
	}
	return []error{e.Err, class}
}

// maxDetail bounds how much of the endpoint's explanation goes into a message.
const maxDetail = 200

// cleanDetail folds whitespace, masks secrets and only then bounds the length of an explanation, so
// that a secret is never cut into a fragment the mask cannot recognise.
func cleanDetail(s string, secrets []string) string {
	return protocol.Cut(protocol.NewMasker(secrets...).Mask(strings.Join(strings.Fields(s), " ")), maxDetail)
}
