package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestTokenEndpointRedirectIsRefused: a token endpoint that redirects, to another origin or to itself, is
// not followed (the client secret and refresh token stay where they were sent); the refusal names the
// target, says to check credentials.token_url and is not reported as a passing outage.
func TestTokenEndpointRedirectIsRefused(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"stolen-access","refresh_token":"stolen-refresh","expires_in":3600}`))
	}))
	defer other.Close()
	for name, target := range map[string]string{"another origin": other.URL + "/oauth/token", "same origin": "/oauth/token2"} {
		t.Run(name, func(t *testing.T) {
			src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target, http.StatusTemporaryRedirect)
			}))
			defer src.Close()
			a := App{TokenURL: src.URL + "/oauth/token", ClientID: "cid", ClientSecret: "client-secret-abcdef"}
			_, err := a.refresh(context.Background(), "refresh-token-abcdef")
			var e *Error
			if !errors.As(err, &e) || e.Kind != Refused || e.Transient() {
				t.Fatalf("err = %v; want a Refused *Error", err)
			}
			named := target
			if strings.HasPrefix(target, "/") {
				named = src.URL + target
			}
			for _, want := range []string{"redirected to " + named, "credentials.token_url"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if elsewhere.Load() != 0 {
				t.Errorf("the other origin received %d token requests", elsewhere.Load())
			}
		})
	}
}
