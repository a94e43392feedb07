package netpolicy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "LocalHost": true,
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "[::1]": true,
		"::ffff:127.0.0.1": true, "[::ffff:127.0.0.1]": true, "::ffff:7f00:1": true,
		"api.ouraring.com": false, "localhost.evil.com": false, "10.0.0.1": false, "::": false,
		"128.0.0.1": false, "": false, "::ffff:10.0.0.1": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestBaseURLNormalisesAndRefuses(t *testing.T) {
	// Each URL is either normalised (url) or refused with an error saying refusal.
	for raw, want := range map[string]struct{ url, refusal string }{
		"https://API.OuraRing.com/":        {url: "https://api.ouraring.com"},
		"https://api.ouraring.com":         {url: "https://api.ouraring.com"},
		"http://LOCALHOST:8080//":          {url: "http://localhost:8080"},
		"http://[::1]:9/":                  {url: "http://[::1]:9"},
		"http://[::ffff:127.0.0.1]:9/":     {url: "http://[::ffff:127.0.0.1]:9"},
		"http://127.0.0.1:9/v2":            {refusal: "has a path (/v2); give only the scheme and host"},
		"https://api.ouraring.com/v2/":     {refusal: "has a path (/v2)"},
		"https://api.ouraring.com/%2F":     {refusal: "has a path (/%2F)"},
		"http://127.0.0.2:1":               {url: "http://127.0.0.2:1"},
		"http://api.ouraring.com":          {refusal: "plain http"},
		"ftp://api.ouraring.com":           {refusal: "not an http(s) URL"},
		"api.ouraring.com":                 {refusal: "not an http(s) URL"},
		"https://api.ouraring.com?x=1":     {refusal: "query"},
		"https://api.ouraring.com/#frag":   {refusal: "fragment"},
		"https://u:hunter22@api.oura.com":  {refusal: "user name or password"},
		"http://localhost.evil.example:80": {refusal: "plain http"},
		// A Cyrillic о (U+043E) in place of the o: the refusal says why it is not localhost.
		"http://l\u043ecalhost:8080": {refusal: "host \"l\u043ecalhost\" is not localhost: it holds the non-ASCII letter '\u043e' (U+043E)"},
	} {
		got, err := BaseURL("base_url", raw)
		if want.refusal == "" {
			if err != nil || got != want.url {
				t.Errorf("BaseURL(%q) = %q, %v; want %q", raw, got, err, want.url)
			}
			continue
		}
		var ue *URLError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want.refusal) || !strings.HasPrefix(err.Error(), "base_url: ") {
			t.Errorf("BaseURL(%q) = %v; want a *URLError naming base_url and saying %q", raw, err, want.refusal)
			continue
		}
		if strings.Contains(err.Error(), "hunter22") || strings.Contains(err.Error(), "\n") {
			t.Errorf("BaseURL(%q): error %q shows the password or spans lines", raw, err)
		}
	}
}

// TestEndpointURLKeepsItsPath: a token URL has a path, which BaseURL would refuse.
func TestEndpointURLKeepsItsPath(t *testing.T) {
	got, err := EndpointURL("credentials.token_url", "https://EXAMPLE.com/oauth/token/")
	if err != nil || got != "https://example.com/oauth/token" {
		t.Errorf("EndpointURL = %q, %v; want https://example.com/oauth/token", got, err)
	}
	if _, err := EndpointURL("credentials.token_url", "https://example.com/t?x=1"); err == nil || !strings.Contains(err.Error(), "query") {
		t.Errorf("EndpointURL with a query = %v, want a refusal", err)
	}
}

// hostile answers every request on /go with a redirect to target and counts what reaches it.
func hostile(t *testing.T, tls bool, target func() string) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path == "/go" {
			http.Redirect(w, r, target(), http.StatusFound)
			return
		}
		io.WriteString(w, `{"from":"here"}`)
	})
	var s *httptest.Server
	if tls {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s, &n
}

// catcher records whether any request, and any Authorization header, reached it.
func catcher(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.WriteString(w, `{"from":"elsewhere"}`)
	}))
	t.Cleanup(s.Close)
	return s, &n
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer secret-token-123")
	resp, err := c.Do(req)
	if resp != nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestRedirectToAnotherOriginIsRefused(t *testing.T) {
	other, hits := catcher(t)
	otherPort := other.URL // 127.0.0.1:B
	cases := map[string]struct {
		tls    bool
		target func(self string) string
	}{
		// An https API answering 302 to plain http: the token would travel in clear text.
		"https to http": {true, func(string) string { return otherPort + "/data" }},
		// Same host, another port: Go's own rule would keep the Authorization header.
		"another port": {false, func(string) string { return otherPort + "/data" }},
		// Another host name for the same machine is another origin too.
		"another host": {false, func(self string) string {
			u, _ := url.Parse(other.URL)
			return "http://localhost:" + u.Port() + "/data"
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var self string
			src, _ := hostile(t, tc.tls, func() string { return tc.target(self) })
			self = src.URL
			c := src.Client()
			Apply(c, "base_url", MaxRedirects)
			before := hits.Load()
			_, err := get(t, c, src.URL+"/go")
			re, ok := AsRedirect(err)
			if !ok {
				t.Fatalf("err = %v; want a *RedirectError", err)
			}
			if re.Status != http.StatusFound || !strings.Contains(err.Error(), "/data") || !strings.Contains(err.Error(), "check base_url") {
				t.Errorf("error %q (status %d) should name the target and say to check base_url", err, re.Status)
			}
			if got := hits.Load() - before; got != 0 {
				t.Errorf("the other origin received %d requests; want none", got)
			}
		})
	}
}

func TestSameOriginRedirectIsFollowedWithinBound(t *testing.T) {
	var self string
	src, hits := hostile(t, false, func() string { return self + "/data" })
	self = src.URL
	c := src.Client()
	Apply(c, "base_url", MaxRedirects)
	resp, err := get(t, c, src.URL+"/go")
	if err != nil || resp.StatusCode != 200 || hits.Load() != 2 {
		t.Fatalf("same-origin redirect: resp %v, err %v, %d requests; want followed once", resp, err, hits.Load())
	}

	// A redirect loop on the same origin stops after MaxRedirects hops.
	loop, loopHits := hostile(t, false, func() string { return "/go" })
	c = loop.Client()
	Apply(c, "base_url", MaxRedirects)
	_, err = get(t, c, loop.URL+"/go")
	if re, ok := AsRedirect(err); !ok || !re.TooMany {
		t.Fatalf("redirect loop: err = %v; want a *RedirectError with TooMany", err)
	}
	if got := loopHits.Load(); got != MaxRedirects+1 {
		t.Errorf("redirect loop sent %d requests; want %d", got, MaxRedirects+1)
	}
}

func TestLoopbackNeverUsesTheProxy(t *testing.T) {
	proxy, _ := url.Parse("http://127.0.0.1:1")
	var asked atomic.Int64
	env := func(*http.Request) (*url.URL, error) { asked.Add(1); return proxy, nil }
	pf := proxyVia(env)
	for _, u := range []string{"http://LOCALHOST:8080/x", "http://LocalHost/x", "http://127.0.0.9/x", "http://[::1]:7/x", "http://[::ffff:127.0.0.1]:7/x"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if got, err := pf(req); got != nil || err != nil {
			t.Errorf("%s goes through %v (%v); loopback must go direct", u, got, err)
		}
	}
	if asked.Load() != 0 {
		t.Errorf("the environment's proxy was consulted %d times for loopback hosts", asked.Load())
	}
	req, _ := http.NewRequest(http.MethodGet, "https://api.ouraring.com/v2", nil)
	if got, _ := pf(req); got != proxy {
		t.Errorf("the real API goes through %v; want the environment's proxy %v", got, proxy)
	}
}
