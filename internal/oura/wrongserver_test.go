package oura

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"source-oura/internal/ouratest"
)

// These tests cover a base_url that points at the wrong server (plain HTTP behind https://, a web server's
// page, a redirect loop) and servers that answer slowly or not at all: what a person reads, and whether
// the client wastes minutes asking again for something that cannot change.

// TestHTTPSBaseURLAtPlainHTTPServerIsNotRetried: an https:// base_url whose server speaks plain HTTP is a
// wrong base_url, not an outage: one attempt, not transient, and the message names base_url.
func TestHTTPSBaseURLAtPlainHTTPServerIsNotRetried(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"id":"u1"}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	base := strings.Replace(srv.URL, "http://", "https://", 1)
	c, _ := newTestClient(t, base, StaticToken(testToken), func(cfg *Config) { cfg.MaxAttempts = 4 }, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	e := asError(t, err)
	if e.Kind != Network || e.Transient() || e.Attempts != 1 {
		t.Errorf("error = %+v, want one non-transient Network attempt", e)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("connections = %d, want 1 (no retries)", n)
	}
	msg := err.Error()
	for _, want := range []string{"does not speak HTTPS", "check base_url"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "try again later") {
		t.Errorf("message %q advises waiting for a wrong base_url", msg)
	}
}

// TestHTTPSBaseURLAtNonTLSServerIsNotRetried: a server that answers a TLS hello with bytes that are not
// TLS ("first record does not look like a TLS handshake") is the same wrong base_url.
func TestHTTPSBaseURLAtNonTLSServerIsNotRetried(t *testing.T) {
	addr, conns := ouratest.Listen(t, func(c net.Conn) {
		_, _ = c.Write([]byte(ouratest.NotTLS))
		time.Sleep(50 * time.Millisecond)
	})
	c, _ := newTestClient(t, "https://"+addr, StaticToken(testToken), func(cfg *Config) { cfg.MaxAttempts = 4 }, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	e := asError(t, err)
	if e.Kind != Network || e.Transient() || e.Attempts != 1 || conns.Load() != 1 {
		t.Errorf("error = %+v after %d connections, want one non-transient Network attempt", e, conns.Load())
	}
	if !strings.Contains(err.Error(), "check base_url") {
		t.Errorf("message %q does not say to check base_url", err)
	}
}

// TestPageThatIsNotJSONIsNotRetried: a 200 answer that is a web page is reported as not JSON, quoting its
// first bytes and saying to check base_url, after one request, for a document and for a list alike.
func TestPageThatIsNotJSONIsNotRetried(t *testing.T) {
	const page = `<html><body>Welcome to nginx</body></html>`
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("\n  " + page))
		},
		listPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(page + strings.Repeat("<p>filler</p>", 100)))
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	_, getErr := c.Get(context.Background(), docPath, nil)
	p := c.Pages(listPath, nil)
	if p.Next(context.Background(), discard) {
		t.Fatal("Next succeeded on a web page")
	}
	for path, err := range map[string]error{docPath: getErr, listPath: p.Err()} {
		e := asError(t, err)
		if e.Kind != BadResponse || e.Transient() || e.Status != 200 {
			t.Errorf("%s: error = %+v, want a non-transient BadResponse", path, e)
		}
		if n := f.callsTo(path); n != 1 {
			t.Errorf("%s: server calls = %d, want 1", path, n)
		}
		msg := err.Error()
		for _, want := range []string{"not JSON", "text/html", `it starts "<html><body>Welcome to nginx`, "check base_url"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: message %q does not contain %q", path, msg, want)
			}
		}
		if strings.Contains(msg, "cut off") || strings.Contains(msg, "filler</p><p>filler</p><p>filler</p><p>filler") {
			t.Errorf("%s: message %q calls the page cut off or quotes too much of it", path, msg)
		}
	}
}

// TestJSONAfterWhiteSpaceIsRead: the peek at the first byte skips white space and loses nothing after it.
func TestJSONAfterWhiteSpaceIsRead(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 200, " \r\n\t"+`{"data":[{"id":"a"},{"id":"b"}],"next_token":null}`)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	var got []string
	p := c.Pages(listPath, nil)
	for p.Next(context.Background(), keep(&got)) {
	}
	if err := p.Err(); err != nil || strings.Join(got, ",") != `{"id":"a"},{"id":"b"}` {
		t.Errorf("records %v, err %v; want a and b", got, err)
	}
}

// TestSameOriginRedirectLoopIsWordedAsALoop: a server redirecting to itself forever is reported as too many
// redirects, not as a redirect to another origin.
func TestSameOriginRedirectLoopIsWordedAsALoop(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Redirect(w, r, docPath, http.StatusFound)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	e := asError(t, err)
	if e.Transient() {
		t.Errorf("a redirect loop should not be transient: %+v", e)
	}
	msg := err.Error()
	if !strings.Contains(msg, "kept redirecting") || !strings.Contains(msg, "more than 5 times") || strings.Contains(msg, "another origin") {
		t.Errorf("message %q does not describe a redirect loop alone", msg)
	}
}

// TestRetryAfterOfMoreThanADayIsReportedAsAsked: Retry-After 100000 is reported as the 27h46m40s Oura asked
// for, next to the cap the client applies, not clamped to 24h.
func TestRetryAfterOfMoreThanADayIsReportedAsAsked(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
			w.Header().Set("Retry-After", "100000")
			writeJSON(w, 429, `{"detail":"Rate limit exceeded."}`)
		},
	})
	c, logs := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) { cfg.MaxRetryAfter = 10 * time.Second }, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	e := asError(t, err)
	if e.RetryAfter != 100000*time.Second || e.WaitCap() != 10*time.Second {
		t.Errorf("RetryAfter %s, WaitCap %s; want 27h46m40s and 10s", e.RetryAfter, e.WaitCap())
	}
	if msg := err.Error(); !strings.Contains(msg, "wait 27h46m40s, longer than the 10s") {
		t.Errorf("message %q does not report the wait asked and the cap", msg)
	}
	if !strings.Contains(logs.String(), `"retry_after":"27h46m40s"`) {
		t.Errorf("log does not report the wait asked:\n%s", logs.String())
	}
}

// TestSilentServerRetriesAreWarned: a server that accepts and never answers, and one that sends its body a
// byte at a time, each get a WARN per retry saying what happened, the attempt of how many and the wait.
func TestSilentServerRetriesAreWarned(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		docPath: func(_ http.ResponseWriter, r *http.Request, _ int) {
			<-r.Context().Done()
		},
		listPath: func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			for {
				_, _ = w.Write([]byte(" "))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		},
	})
	c, logs := newTestClient(t, f.srv.URL, StaticToken(testToken), func(cfg *Config) {
		cfg.Timeout = 150 * time.Millisecond
		cfg.MaxAttempts = 2
	}, nil)
	if _, err := c.Get(context.Background(), docPath, nil); err == nil {
		t.Fatal("Get succeeded against a silent server")
	}
	p := c.Pages(listPath, nil)
	if p.Next(context.Background(), discard) {
		t.Fatal("Next succeeded against a trickling server")
	}
	for _, want := range []string{
		`"level":"warn","path":"` + docPath,
		"Oura request failed (no complete response within 150ms) on attempt 1 of 2; asking again in ",
		`"level":"warn","path":"` + listPath,
		"Oura request failed (the response was cut off", "no complete response within 150ms) on attempt 1 of 2",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
