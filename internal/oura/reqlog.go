package oura

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// human renders a duration for a log field with its unit and a sensible precision ("59.6s", "250ms"), so a
// reader never has to guess whether 59.561175 meant seconds or milliseconds.
func human(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.String()
}

// logRequests wraps next so that every HTTP request (each attempt and each followed redirect) is logged at
// debug level once its body is closed: method, path, query, status, duration and bytes. With debug logging off
// it returns next itself, so a normal sync pays nothing.
func logRequests(log zerolog.Logger, next http.RoundTripper) http.RoundTripper {
	ev := log.Debug()
	if !ev.Enabled() {
		return next
	}
	ev.Discard()
	return &logTransport{log: log, next: next}
}

type logTransport struct {
	log  zerolog.Logger
	next http.RoundTripper
}

// secretParams are query parameters that could carry a credential; the connector never sends any of them,
// but a same-origin redirect chooses its own query, so they are hidden rather than trusted.
var secretParams = []string{"access_token", "refresh_token", "api_key", "client_secret", "code", "token"}

// loggedQuery is the request's query with any credential-like parameter hidden. next_token is a cursor,
// not a credential, and is kept: it is what tells one page's request from the next.
func loggedQuery(u *url.URL) string {
	if u.RawQuery == "" {
		return ""
	}
	q := u.Query()
	hidden := false
	for k := range q {
		for _, s := range secretParams {
			if strings.EqualFold(k, s) {
				q[k] = []string{"****"}
				hidden = true
			}
		}
	}
	if !hidden {
		return u.RawQuery
	}
	return q.Encode()
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.log.Debug().Str("method", req.Method).Str("path", req.URL.EscapedPath()).Str("query", loggedQuery(req.URL)).
			Str("duration", human(time.Since(start))).Str("error", err.Error()).Msg("Oura request failed")
		return nil, err
	}
	resp.Body = &loggedBody{ReadCloser: resp.Body, t: t, req: req, status: resp.StatusCode, start: start}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the real transport.
func (t *logTransport) CloseIdleConnections() { closeIdle(t.next) }

// loggedBody counts the bytes read and writes the request's log line when the body is closed, so the
// duration and size cover the whole response.
type loggedBody struct {
	io.ReadCloser
	t      *logTransport
	req    *http.Request
	status int
	start  time.Time
	bytes  int64
	once   sync.Once
}

func (b *loggedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.bytes += int64(n)
	return n, err
}

func (b *loggedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() {
		b.t.log.Debug().Str("method", b.req.Method).Str("path", b.req.URL.EscapedPath()).
			Str("query", loggedQuery(b.req.URL)).Int("status", b.status).
			Str("duration", strconv.FormatInt(time.Since(b.start).Milliseconds(), 10)+"ms").
			Int64("bytes", b.bytes).Msg("Oura request")
	})
	return err
}
