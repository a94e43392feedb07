package oura

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"source-oura/internal/protocoltest"
)

const hostileToken = "tok-9f8e7d6c5b4a39281706f5e4d3c2b1a0ZYXW"

// recorder is a server that must receive nothing: it counts every request and every bearer token.
type recorder struct {
	srv             *httptest.Server
	requests, auths atomic.Int64
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		if req.Header.Get("Authorization") != "" {
			r.auths.Add(1)
		}
		// A well-formed page, so that a client which follows the redirect would deliver it.
		io.WriteString(w, `{"data":[{"id":"from-elsewhere"}],"next_token":null}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// TestRedirectToAnotherOriginEndsTheWalk: a list page answered by a redirect to another origin (https to
// http, another port of the same host, another host name) is not followed, not retried, delivers no
// document and fails with an error that names the target and says to check base_url.
func TestRedirectToAnotherOriginEndsTheWalk(t *testing.T) {
	other := newRecorder(t)
	otherURL, _ := url.Parse(other.srv.URL)
	for name, tc := range map[string]struct {
		tls    bool
		target string
	}{
		"https to http":              {true, other.srv.URL + listPath},
		"127.0.0.1:A to 127.0.0.1:B": {false, other.srv.URL + listPath},
		"another host":               {false, "http://localhost:" + otherURL.Port() + listPath},
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int64
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				http.Redirect(w, r, tc.target+"?start_date=2024-01-01", http.StatusFound)
			})
			src := httptest.NewUnstartedServer(h)
			if tc.tls {
				src.StartTLS()
			} else {
				src.Start()
			}
			defer src.Close()
			c, _ := newTestClient(t, src.URL, StaticToken(hostileToken), func(cfg *Config) {
				if tc.tls {
					cfg.HTTPClient = src.Client() // trusts the test certificate
				}
			}, nil)
			before := other.requests.Load()
			p := c.Pages(listPath, url.Values{"start_date": {"2024-01-01"}, "end_date": {"2024-01-02"}})
			var docs int
			for p.Next(context.Background(), discard) {
				docs += p.Page().Records
			}
			err := p.Err()
			var e *Error
			if !errors.As(err, &e) || e.Transient() || e.Status != http.StatusFound {
				t.Fatalf("err = %v; want a non-transient *Error with HTTP 302", err)
			}
			for _, want := range []string{tc.target, "another origin", "check base_url"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if got := other.requests.Load() - before; got != 0 || docs != 0 {
				t.Errorf("the other origin got %d requests and %d documents were delivered; want none", got, docs)
			}
			if calls.Load() != 1 {
				t.Errorf("the redirecting server was asked %d times; a refused redirect must not be retried", calls.Load())
			}
		})
	}
}

// TestSameOriginRedirectIsFollowed: a redirect that stays on base_url's origin is followed with the token.
func TestSameOriginRedirectIsFollowed(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Redirect(w, r, "/v2/moved", http.StatusTemporaryRedirect)
		},
		"/v2/moved": func(w http.ResponseWriter, r *http.Request, _ int) {
			io.WriteString(w, `{"data":[{"id":"a"}],"next_token":null}`)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(hostileToken), nil, nil)
	body, err := c.Get(context.Background(), listPath, nil)
	if err != nil || !strings.Contains(string(body), `"a"`) {
		t.Fatalf("Get = %s, %v; want the moved page", body, err)
	}
	if reqs := f.requests(); len(reqs) != 2 || reqs[1].Auth != "Bearer "+hostileToken {
		t.Errorf("requests = %+v; want the redirect followed with the token", reqs)
	}
}

// TestLoopbackBaseURLNeverUsesTheProxy runs the client in a child process with HTTP_PROXY and HTTPS_PROXY
// pointing at a recording proxy (a child, because Go reads the proxy variables once per process).
// http://LOCALHOST:port must go direct; the real API's host must still go through the proxy.
func TestLoopbackBaseURLNeverUsesTheProxy(t *testing.T) {
	if base := os.Getenv("OURA_TEST_PROXY_CHILD_BASE"); base != "" {
		c, err := New(Config{BaseURL: base, Tokens: StaticToken(hostileToken), MaxAttempts: 1})
		if err != nil {
			fmt.Println("CHILD-ERROR", err)
			return
		}
		_, err = c.Get(context.Background(), "/v2/usercollection/personal_info", nil)
		fmt.Println("CHILD-RESULT", err == nil)
		return
	}
	proxy := newRecorder(t)
	api := newRecorder(t)
	apiURL, _ := url.Parse(api.srv.URL)
	child := func(base string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoopbackBaseURLNeverUsesTheProxy$", "-test.count=1")
		cmd.Env = append(os.Environ(), "OURA_TEST_PROXY_CHILD_BASE="+base,
			"HTTP_PROXY="+proxy.srv.URL, "HTTPS_PROXY="+proxy.srv.URL, "NO_PROXY=", "no_proxy=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return string(out)
	}
	for _, base := range []string{"http://LOCALHOST:" + apiURL.Port(), "http://LocalHost:" + apiURL.Port(),
		"http://[::ffff:127.0.0.1]:" + apiURL.Port()} {
		before := api.requests.Load()
		out := child(base)
		if proxy.requests.Load() != 0 {
			t.Fatalf("%s: the proxy received %d requests (%d with the token); loopback must go direct\n%s",
				base, proxy.requests.Load(), proxy.auths.Load(), out)
		}
		if api.requests.Load()-before != 1 || !strings.Contains(out, "CHILD-RESULT true") {
			t.Errorf("%s: the API got %d requests; want 1 sent direct\n%s", base, api.requests.Load()-before, out)
		}
	}
	// The real API goes through the proxy (which answers the CONNECT with a failure, so nothing leaves).
	out := child("https://api.ouraring.com")
	if proxy.requests.Load() == 0 {
		t.Errorf("https://api.ouraring.com did not go through HTTPS_PROXY; proxies must keep working\n%s", out)
	}
}

// TestTokenEchoedLateInAnErrorBodyIsMasked: a 400 whose explanation echoes the token from character 280 on
// yields an error with no 6-character piece of the token in it (the detail is masked before it is cut).
func TestTokenEchoedLateInAnErrorBodyIsMasked(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, _ int) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"detail":"%s%s is not allowed here"}`, strings.Repeat("x ", 140), hostileToken)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(hostileToken), nil, nil)
	_, err := c.Get(context.Background(), listPath, nil)
	if err == nil {
		t.Fatal("want an error")
	}
	if piece := protocoltest.SecretPiece(err.Error(), hostileToken); piece != "" {
		t.Errorf("error shows %q of the token: %s", piece, err)
	}
}

// secretPiece returns a 6-byte piece of secret found in text, or "".

// TestEndlessNextTokenIsBounded: a server that hands out a fresh next_token on every page is followed for
// the pages a one-day range may take and no further; the walk ends with an error saying so.
func TestEndlessNextTokenIsBounded(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, n int) {
			fmt.Fprintf(w, `{"data":[{"id":"d%d"}],"next_token":"t%d"}`, n, n)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(hostileToken), nil, nil)
	q := url.Values{"start_date": {"2024-01-01"}, "end_date": {"2024-01-01"}}
	limit, days := pageLimit(q)
	if days != 1 || limit != pagesBase+pagesPerDay {
		t.Fatalf("pageLimit = %d, %d; want %d pages for 1 day", limit, days, pagesBase+pagesPerDay)
	}
	p := c.Pages(listPath, q)
	pages := 0
	for p.Next(context.Background(), discard) {
		pages++
	}
	var e *Error
	if err := p.Err(); !errors.As(err, &e) || !strings.Contains(err.Error(), "next_token") || !strings.Contains(err.Error(), "1-day range") {
		t.Fatalf("err = %v; want an error about endless next_tokens for a 1-day range", err)
	}
	if pages != limit || f.callsTo(listPath) != limit {
		t.Errorf("delivered %d pages in %d requests; want exactly %d", pages, f.callsTo(listPath), limit)
	}
}

func TestPageLimitGrowsWithTheRange(t *testing.T) {
	for _, tc := range []struct {
		q    url.Values
		days int
	}{
		{url.Values{"start_date": {"2024-01-01"}, "end_date": {"2024-01-30"}}, 30},
		{url.Values{"start_datetime": {"2024-01-01T00:00:00Z"}, "end_datetime": {"2024-01-01T00:00:01Z"}}, 1},
		{url.Values{"start_datetime": {"2024-01-01T00:00:00Z"}, "end_datetime": {"2024-01-31T00:00:00Z"}}, 30},
		{url.Values{}, 0},
		{url.Values{"start_date": {"2024-02-01"}, "end_date": {"2024-01-01"}}, 0},
	} {
		if limit, days := pageLimit(tc.q); days != tc.days || limit != pagesBase+pagesPerDay*tc.days {
			t.Errorf("pageLimit(%v) = %d, %d; want %d days", tc.q, limit, days, tc.days)
		}
	}
}

// TestDebugLogsEveryRequest: with debug logging every request is logged once its body is read (method,
// path, query with next_token, status, duration in ms, bytes), and the token never appears.
func TestDebugLogsEveryRequest(t *testing.T) {
	page := `{"data":[{"id":"a"}],"next_token":null}`
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, _ int) { io.WriteString(w, page) },
	})
	c, logs := newTestClient(t, f.srv.URL, StaticToken(hostileToken), nil, nil)
	p := c.Pages(listPath, url.Values{"next_token": {"resume-here"}})
	for p.Next(context.Background(), discard) {
	}
	if p.Err() != nil {
		t.Fatal(p.Err())
	}
	l := logs.String()
	for _, want := range []string{`"method":"GET"`, `"path":"` + listPath + `"`, `"query":"next_token=resume-here"`,
		`"status":200`, `ms"`, fmt.Sprintf(`"bytes":%d`, len(page))} {
		if !strings.Contains(l, want) {
			t.Errorf("debug log lacks %s:\n%s", want, l)
		}
	}
	if strings.Contains(l, hostileToken[:6]) {
		t.Errorf("debug log shows the token:\n%s", l)
	}

	// At info level nothing is logged for a healthy request.
	quiet := &syncBuffer{}
	c, _ = newTestClient(t, f.srv.URL, StaticToken(hostileToken), func(cfg *Config) {
		cfg.Logger = zerolog.New(quiet).Level(zerolog.InfoLevel)
	}, nil)
	if _, err := c.Get(context.Background(), listPath, nil); err != nil || quiet.String() != "" {
		t.Errorf("info level: err %v, log %q; want a silent success", err, quiet.String())
	}
}

func TestDurationsInLogsCarryUnits(t *testing.T) {
	for d, want := range map[time.Duration]string{
		59561175 * time.Microsecond: "59.6s", 250 * time.Millisecond: "250ms", 5 * time.Minute: "5m0s", 0: "0s",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
}
