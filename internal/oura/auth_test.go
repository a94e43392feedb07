package oura

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// authRoute answers 200 only to "Bearer <good>", 401 to anything else.
func authRoute(good string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Header.Get("Authorization") != "Bearer "+good {
			writeJSON(w, 401, `{"detail":"Invalid or expired token"}`)
			return
		}
		writeJSON(w, 200, `{"data":[{"id":"a"}],"next_token":null}`)
	}
}

func TestUnauthorizedRefreshesOnceAndRetries(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{listPath: authRoute("new-token")})
	tokens := &refreshingTokens{current: "old-token", fresh: "new-token"}
	c, _ := newTestClient(t, f.srv.URL, tokens, nil, nil)

	p := c.Pages(listPath, nil)
	if !p.Next(context.Background(), discard) {
		t.Fatalf("Next failed: %v", p.Err())
	}
	if got := tokens.refreshes(); fmt.Sprint(got) != "[old-token]" {
		t.Errorf("Refresh calls = %v, want one with the rejected token", got)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[0].Auth != "Bearer old-token" || reqs[1].Auth != "Bearer new-token" {
		t.Errorf("requests = %+v, want old token then new token", reqs)
	}
	if s := p.Stats(); s.Requests != 2 || s.Retries != 1 {
		t.Errorf("stats = %+v, want 2 requests and 1 retry", s)
	}
	if p.Next(context.Background(), discard) || p.Err() != nil {
		t.Errorf("walk did not end cleanly: %v", p.Err())
	}
}

func TestUnauthorizedTwiceGivesUp(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{listPath: authRoute("never")})
	tokens := &refreshingTokens{current: "old-token", fresh: "new-token"}
	c, _ := newTestClient(t, f.srv.URL, tokens, nil, nil)

	p := c.Pages(listPath, nil)
	if p.Next(context.Background(), discard) {
		t.Fatal("Next succeeded with a rejected token")
	}
	e := asError(t, p.Err())
	if e.Kind != Unauthorized || e.Status != 401 || e.Transient() {
		t.Errorf("error = %+v, want a permanent Unauthorized 401", e)
	}
	if n := len(tokens.refreshes()); n != 1 {
		t.Errorf("Refresh called %d times, want once", n)
	}
	if n := f.callsTo(listPath); n != 2 {
		t.Errorf("server calls = %d, want 2", n)
	}
	if msg := p.Err().Error(); !strings.Contains(msg, "re-authorize") || !strings.Contains(msg, listPath) {
		t.Errorf("message %q lacks the path or the advice", msg)
	}
}

func TestStaticKeyUnauthorizedCannotRefresh(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{docPath: authRoute("other")})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	e := asError(t, err)
	if e.Kind != Unauthorized {
		t.Errorf("kind = %v, want Unauthorized", e.Kind)
	}
	if !errors.Is(err, ErrCannotRefresh) {
		t.Errorf("err %q does not wrap ErrCannotRefresh", err)
	}
	if n := f.callsTo(docPath); n != 1 {
		t.Errorf("server calls = %d, want 1 (nothing to retry with)", n)
	}
}

func TestFailedRefreshIsUnauthorized(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{docPath: authRoute("other")})
	tokens := &refreshingTokens{current: "old-token", err: errors.New("invalid_grant: refresh token already used")}
	c, _ := newTestClient(t, f.srv.URL, tokens, nil, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	e := asError(t, err)
	if e.Kind != Unauthorized || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("error = %v, want Unauthorized naming the refresh failure", err)
	}
	if n := f.callsTo(docPath); n != 1 {
		t.Errorf("server calls = %d, want 1", n)
	}
}

func TestMissingScopeIsForbiddenWithoutRefresh(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		status     int
		body       string
		scope      string
	}{
		{"403 names scope", "/v2/usercollection/heartrate", 403, `{"detail":"Missing required scope: heartrate"}`, "heartrate"},
		{"401 names scope", "/v2/usercollection/workout", 401, `{"detail":"Token lacks scopes: extapi:workout"}`, "workout"},
		{"RFC 7807 body", "/v2/usercollection/daily_spo2", 403, `{"status":403,"title":"Forbidden","detail":"missing scopes: spo2Daily"}`, "spo2Daily"},
		{"scope from the collection", "/v2/usercollection/session", 403, `{"detail":"Insufficient scope"}`, "session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, map[string]handlerFunc{
				tc.path: func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, tc.status, tc.body) },
			})
			tokens := &refreshingTokens{current: "old-token", fresh: "new-token"}
			// The caller passes the stream table's scopes, which name one when Oura does not.
			c, _ := newTestClient(t, f.srv.URL, tokens, func(c *Config) { c.Scopes = map[string]string{"session": "session"} }, nil)
			p := c.Pages(tc.path, nil)
			if p.Next(context.Background(), discard) {
				t.Fatal("Next succeeded")
			}
			e := asError(t, p.Err())
			if e.Kind != Forbidden || e.Scope != tc.scope || e.Status != tc.status {
				t.Errorf("error = %+v, want Forbidden with scope %q", e, tc.scope)
			}
			if n := len(tokens.refreshes()); n != 0 {
				t.Errorf("Refresh called %d times for a scope problem", n)
			}
			if n := f.callsTo(tc.path); n != 1 {
				t.Errorf("server calls = %d, want 1", n)
			}
			if msg := p.Err().Error(); !strings.Contains(msg, `"`+tc.scope+`" scope`) {
				t.Errorf("message %q does not name the scope", msg)
			}
		})
	}
}

func TestForbiddenWithoutScopePointsAtMembership(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		docPath: func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 403, `{"detail":"Forbidden"}`) },
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	_, err := c.Get(context.Background(), docPath, nil)
	e := asError(t, err)
	if e.Kind != Forbidden || e.Scope != "" {
		t.Errorf("error = %+v, want Forbidden without a scope", e)
	}
	if !strings.Contains(err.Error(), "membership") {
		t.Errorf("message %q does not mention the membership", err)
	}
}

func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	// A hostile or careless server echoes the Authorization header back in every answer.
	echo := func(status int) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request, _ int) {
			writeJSON(w, status, fmt.Sprintf(`{"detail":"bad credentials %q"}`, r.Header.Get("Authorization")))
		}
	}
	f := newFake(t, map[string]handlerFunc{
		"/401": echo(401), "/403": echo(403), "/400": echo(400), "/422": echo(422), "/503": echo(503),
		"/404": echo(404), "/426": echo(426),
		"/429": func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Retry-After", "99999")
			writeJSON(w, 429, `{"detail":"`+r.Header.Get("Authorization")+`"}`)
		},
		"/drop":    func(w http.ResponseWriter, _ *http.Request, _ int) { hangUp(t, w) },
		"/garbage": func(w http.ResponseWriter, r *http.Request, _ int) { writeJSON(w, 200, r.Header.Get("Authorization")) },
	})
	const fresh = "fresh-SECRET-77aa"
	for _, tokens := range []TokenSource{
		StaticToken(testToken),
		&refreshingTokens{current: testToken, fresh: fresh},
	} {
		c, logs := newTestClient(t, f.srv.URL, tokens, noKeepAlive, nil)
		for _, path := range []string{"/401", "/403", "/400", "/422", "/503", "/404", "/426", "/429", "/drop", "/garbage"} {
			_, err := c.Get(context.Background(), path, nil)
			if err == nil {
				t.Fatalf("%s: no error", path)
			}
			p := c.Pages(path, nil)
			p.Next(context.Background(), discard)
			for _, msg := range []string{err.Error(), p.Err().Error(), fmt.Sprintf("%+v", asError(t, err))} {
				if strings.Contains(msg, testToken) || strings.Contains(msg, fresh) {
					t.Errorf("%s: token in the error: %s", path, msg)
				}
			}
		}
		if l := logs.String(); strings.Contains(l, testToken) || strings.Contains(l, fresh) || l == "" {
			t.Errorf("token in the log, or nothing logged:\n%s", l)
		}
	}
}
