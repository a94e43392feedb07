// Package netpolicy holds the connector's rules for where a request may go: which hosts count as this
// computer, which base URLs are accepted, which redirects are followed and when a proxy is used. Every HTTP
// client of the connector (the Oura API client, the OAuth token client and the auth helper) takes its rules
// from here, so that the bearer token and the client secret only ever reach the origin they were meant for.
package netpolicy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// IsLoopback reports whether host names this computer: "localhost" in any letter case, an address in
// 127.0.0.0/8, ::1, or an IPv4-mapped loopback such as ::ffff:127.0.0.1. host may carry IPv6 brackets.
// A port is not allowed here; pass url.URL.Hostname().
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// nonASCII returns the first character of host outside ASCII, if any.
func nonASCII(host string) (rune, bool) {
	for _, r := range host {
		if r > 0x7f {
			return r, true
		}
	}
	return 0, false
}

// URLError is a URL the connector refuses. Field names the setting it came from (base_url,
// credentials.token_url, ...) and may be empty when the caller names the field itself.
type URLError struct {
	Field string
	// URL is the refused value with any password hidden.
	URL     string
	Problem string
}

// Error says in one line which field holds what and what to do.
func (e *URLError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%q %s", e.URL, e.Problem)
	}
	return fmt.Sprintf("%s: %q %s", e.Field, e.URL, e.Problem)
}

// CheckURL parses raw and accepts it when it is an absolute http or https URL with a host, no user
// information and no fragment, and http only for a loopback host: a token or a client secret must never
// cross a network in clear text. The host comes back lower-cased, so that every later decision (proxy,
// same origin) sees one spelling. A query is allowed (an authorize URL may carry one).
func CheckURL(field, raw string) (*url.URL, error) {
	fail := func(shown, problem string) error { return &URLError{Field: field, URL: shown, Problem: problem} }
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fail(raw, "is not a URL; use an https URL such as https://api.ouraring.com")
	}
	shown := raw
	if u.User != nil {
		// Never echo a password that was pasted into the URL.
		shown = u.Redacted()
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Hostname() == "" {
		return nil, fail(shown, "is not an http(s) URL with a host; use an https URL such as https://api.ouraring.com")
	}
	if u.User != nil {
		return nil, fail(shown, "must not carry a user name or password; remove the part before @")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, fail(shown, "must not carry a fragment; remove the part from #")
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		if r, ok := nonASCII(u.Hostname()); ok {
			// "lоcalhost" with a Cyrillic о looks like localhost; the plain refusal would look wrong.
			return nil, fail(shown, fmt.Sprintf("uses plain http, allowed only for localhost, 127.0.0.0/8 and ::1, and its host "+
				"%q is not localhost: it holds the non-ASCII letter %q (%U), which only looks like an ASCII one; type the host "+
				"in plain ASCII, or use https", u.Hostname(), r, r))
		}
		return nil, fail(shown, "uses plain http; use https (http is allowed only for localhost, 127.0.0.0/8 and ::1)")
	}
	u.Host = strings.ToLower(u.Host)
	return u, nil
}

// BaseURL checks an API base URL (base_url) as EndpointURL does, and also refuses a path other than "/": the
// client appends /v2/usercollection/... itself, so a base_url of https://api.ouraring.com/v2 would make every
// request go to /v2/v2/... and fail as a 404 that looks like a bug of the connector. It returns the URL
// normalised: host lower-cased, no trailing slash, ready to have paths appended.
func BaseURL(field, raw string) (string, error) {
	u, err := endpoint(field, raw)
	if err != nil {
		return "", err
	}
	if p := strings.TrimRight(u.EscapedPath(), "/"); p != "" {
		return "", &URLError{Field: field, URL: raw, Problem: fmt.Sprintf(
			"has a path (%s); give only the scheme and host, e.g. https://api.ouraring.com", p)}
	}
	u.Path, u.RawPath = "", ""
	return u.String(), nil
}

// EndpointURL checks raw once, as CheckURL does, and also refuses a query; it returns the URL normalised:
// host lower-cased and trailing slashes trimmed. Unlike BaseURL it keeps a path, as a token URL has one.
func EndpointURL(field, raw string) (string, error) {
	u, err := endpoint(field, raw)
	if err != nil {
		return "", err
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u.String(), nil
}

func endpoint(field, raw string) (*url.URL, error) {
	u, err := CheckURL(field, raw)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.ForceQuery {
		return nil, &URLError{Field: field, URL: raw, Problem: "must not carry a query; remove the part from ?"}
	}
	return u, nil
}

// Origin returns scheme://host:port of u with the default port filled in, lower-cased, so that two URLs
// have the same origin exactly when their Origin strings are equal.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	host := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(u.Hostname(), "["), "]"))
	return scheme + "://" + net.JoinHostPort(host, port)
}

// MaxRedirects bounds how many same-origin redirects one request follows.
const MaxRedirects = 5

// RedirectError is a redirect the connector refused to follow, because it leads away from the origin the
// request was sent to (another scheme, host or port) or because there were too many.
type RedirectError struct {
	// Field is the setting the first request's URL came from, for the advice (base_url, credentials.token_url).
	Field string
	// From is the origin the request was sent to; Target is where the server pointed, without its query.
	From, Target string
	// Status is the HTTP status of the redirect response.
	Status int
	// TooMany is set when the redirect stayed on the origin but the chain was longer than Max.
	TooMany bool
	// Max is how many same-origin redirects the client follows (0: none).
	Max int
}

// Error names the target and says what to check.
func (e *RedirectError) Error() string {
	switch {
	case e.TooMany && e.Max == 0:
		return fmt.Sprintf("%s redirected to %s; redirects are not followed here: check %s", e.From, e.Target, e.Field)
	case e.TooMany:
		return fmt.Sprintf("%s redirected more than %d times (last to %s); check %s", e.From, e.Max, e.Target, e.Field)
	}
	return fmt.Sprintf("%s redirected to %s, another origin; the connector sends its token only to %s and does not "+
		"follow redirects elsewhere: check %s", e.From, e.Target, e.From, e.Field)
}

// CheckRedirect returns an http.Client.CheckRedirect that follows a redirect only when it stays on the
// origin (scheme, host and port) of the first request, at most maxHops times; a maxHops of 0 follows none.
// Anything else stops the request with a *RedirectError (wrapped by the client in a *url.Error), so the
// Authorization header never reaches another origin and no document from another origin is read. Go's own
// rule compares host names only, so it would send the token to another port of the same host, or over http
// after an https→http redirect. field names the setting to check in the error.
func CheckRedirect(field string, maxHops int) func(req *http.Request, via []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) == 0 {
			return nil
		}
		first := via[0].URL
		target := *req.URL
		target.RawQuery, target.ForceQuery, target.Fragment, target.User = "", false, "", nil
		e := &RedirectError{Field: field, From: Origin(first), Target: target.String(), Max: maxHops}
		if req.Response != nil {
			e.Status = req.Response.StatusCode
		}
		if Origin(req.URL) != Origin(first) {
			return e
		}
		if len(via) > maxHops {
			e.TooMany = true
			return e
		}
		return nil
	}
}

// AsRedirect reports the *RedirectError inside err, if any.
func AsRedirect(err error) (*RedirectError, bool) {
	var re *RedirectError
	ok := errors.As(err, &re)
	return re, ok
}

// Proxy is the connector's http.Transport.Proxy: the proxy named by HTTP_PROXY, HTTPS_PROXY and NO_PROXY for
// every host, except loopback hosts in any spelling, which always go direct. Go's own rule only bypasses the
// proxy for a lower-case "localhost", so http://LOCALHOST:8080 would cross the proxy in clear text.
func Proxy(req *http.Request) (*url.URL, error) { return proxyVia(http.ProxyFromEnvironment)(req) }

func proxyVia(env func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		if req.URL == nil || IsLoopback(req.URL.Hostname()) {
			return nil, nil
		}
		return env(req)
	}
}

// NewTransport returns a clone of http.DefaultTransport that uses Proxy.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = Proxy
	return t
}

// Apply sets the connector's rules on c: the redirect policy always, and Proxy on its transport when c has
// none of its own (a caller-supplied transport, as in tests, is kept as it is). c is changed in place.
func Apply(c *http.Client, field string, maxHops int) {
	c.CheckRedirect = CheckRedirect(field, maxHops)
	if c.Transport == nil {
		c.Transport = NewTransport()
	}
}

// errHTTPToHTTPS is the text net/http gives when an https request meets a plain-HTTP server. net/http does
// not export that error, so it is matched by its text; the TLS error it replaces is matched by type below.
const errHTTPToHTTPS = "server gave HTTP response to HTTPS client"

// WrongProtocol reports a TLS handshake that met a server speaking something else: only an https URL
// pointing at a plain-HTTP (or non-HTTP) port does that, and asking again would meet the same server. Every
// client of the connector (base_url, credentials.token_url) uses this one test, so that the same mistake in
// either field is a config error rather than a "try again later".
func WrongProtocol(err error) bool {
	if err == nil {
		return false
	}
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) {
		return true
	}
	return strings.Contains(err.Error(), errHTTPToHTTPS)
}

// BadCertificate reports a server certificate that did not verify (unknown authority, wrong host name,
// expired): it will not verify later either, so retrying cannot help.
func BadCertificate(err error) bool {
	var verr *tls.CertificateVerificationError
	var uaerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var cerr x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &uaerr) || errors.As(err, &herr) || errors.As(err, &cerr)
}
