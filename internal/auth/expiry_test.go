package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"source-oura/internal/fakeclock"
	"source-oura/internal/oura"
)

// tokenAndAPI is a token endpoint that answers every refresh with a new access token and the
// given expires_in, and an API route that accepts any token it issued. It counts refreshes.
func tokenAndAPI(t *testing.T, expiresIn string) (url string, refreshes func() int) {
	t.Helper()
	var mu sync.Mutex
	issued := map[string]bool{}
	n := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/oauth/token":
			n++
			access := fmt.Sprintf("access-%d", n)
			issued[access] = true
			fmt.Fprintf(w, `{"access_token":%q,"refresh_token":"refresh-%d","expires_in":%s}`, access, n, expiresIn)
		case "/v2/usercollection/personal_info":
			if !issued[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"id":"acct-1"}`))
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(hs.Close)
	return hs.URL, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// TestUntrustworthyExpiresInRefreshesOnce: an expires_in that is huge, negative, not a number or
// shorter than the refresh margin must not make the source refresh before every request. Each
// refresh spends Oura's single-use refresh token and rewrites the config file; a run of several
// requests makes one, whatever the token endpoint says.
func TestUntrustworthyExpiresInRefreshesOnce(t *testing.T) {
	now := time.Date(2025, 4, 20, 12, 0, 0, 0, time.UTC)
	year := now.Add(maxExpiresIn)
	for _, tc := range []struct {
		expiresIn string
		expiry    time.Time // what is saved; zero for unknown
	}{
		{"1e19", year}, {"1e300", year}, {"1e10", year}, {"9223372036854775807", year}, {`"1e400"`, year},
		{"-5", time.Time{}}, {`"NaN"`, time.Time{}}, {`"soon"`, time.Time{}}, {"0", time.Time{}}, {"true", time.Time{}},
		{"0.5", now}, {"5", now.Add(5 * time.Second)}, {"599", now.Add(599 * time.Second)},
	} {
		expiresIn := tc.expiresIn
		t.Run(expiresIn, func(t *testing.T) {
			base, refreshes := tokenAndAPI(t, expiresIn)
			rot := &rotations{}
			app := App{TokenURL: base + "/oauth/token", ClientID: clientID, ClientSecret: clientSecret,
				Now: func() time.Time { return now }}
			s, err := NewSource(app, Tokens{RefreshToken: "refresh-0"}, rot.hook)
			if err != nil {
				t.Fatal(err)
			}
			c, err := oura.New(oura.Config{BaseURL: base, Tokens: s, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if _, err := c.Get(context.Background(), "/v2/usercollection/personal_info", nil); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			if n := refreshes(); n != 1 {
				t.Errorf("expires_in %s: %d refreshes for 5 requests, want 1", expiresIn, n)
			}
			if got := rot.list(); len(got) != 1 {
				t.Errorf("expires_in %s: the tokens were saved %d times, want 1", expiresIn, len(got))
			} else if !got[0].Expiry.Equal(tc.expiry) {
				t.Errorf("expires_in %s: saved expiry %v, want %v", expiresIn, got[0].Expiry, tc.expiry)
			}
		})
	}
}

// TestShortLivedTokenIsUsedHalfItsLife: a token that lives less than twice RefreshMargin is
// refreshed half-way through its life, not at once; one that lives less than a minute is kept
// until Oura rejects it.
func TestShortLivedTokenIsUsedHalfItsLife(t *testing.T) {
	for _, tc := range []struct {
		expiresIn string
		keep      time.Duration // used this long, refreshed just after; 0 for never on a timer
	}{
		{"600", 300 * time.Second}, {"1200", 600 * time.Second}, {"3600", 50 * time.Minute}, {"59", 0},
	} {
		t.Run(tc.expiresIn, func(t *testing.T) {
			base, refreshes := tokenAndAPI(t, tc.expiresIn)
			clock := fakeclock.New(time.Date(2025, 4, 20, 12, 0, 0, 0, time.UTC))
			s, err := NewSource(App{TokenURL: base + "/oauth/token", ClientID: clientID, ClientSecret: clientSecret,
				Now: clock.Now}, Tokens{RefreshToken: "refresh-0"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			first, err := s.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			keep := tc.keep
			if keep == 0 {
				keep = 24 * time.Hour
			}
			clock.Advance(keep - time.Second)
			if tok, err := s.Token(context.Background()); err != nil || tok != first || refreshes() != 1 {
				t.Fatalf("%v after issue: token %q (%v), %d refreshes; want the first token still", keep-time.Second, tok, err, refreshes())
			}
			if tc.keep == 0 {
				return
			}
			clock.Advance(time.Second)
			if tok, err := s.Token(context.Background()); err != nil || tok == first || refreshes() != 2 {
				t.Fatalf("%v after issue: token %q (%v), %d refreshes; want a second token", keep, tok, err, refreshes())
			}
		})
	}
}
