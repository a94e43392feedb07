package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func validator(t *testing.T) *Validator {
	t.Helper()
	spec, err := os.ReadFile(filepath.Join("..", "..", "spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewValidator(spec)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDefaults(t *testing.T) {
	c, err := validator(t).Parse([]byte(`{"api_key":"abcdef"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.LookbackDays != 7 || c.MaxConcurrent != 4 || c.RequestsPer5Min != 5000 || c.BaseURL != "https://api.ouraring.com" ||
		c.Sandbox || !c.Start.Equal(DefaultStart) || !c.End.IsZero() || c.Auth.Kind != AuthAPIKey || c.Auth.APIKey != "abcdef" {
		t.Fatalf("defaults wrong: %+v", c)
	}
}

func TestOAuthConfig(t *testing.T) {
	c, err := validator(t).Parse([]byte(`{"credentials":{"auth_type":"oauth2.0","client_id":"cid","client_secret":"csecret","refresh_token":"rt",
		"access_token":"at","token_expiry_date":"2026-01-02T03:04:05Z"},"base_url":"http://127.0.0.1:8080/"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Auth{Kind: AuthOAuth, ClientID: "cid", ClientSecret: "csecret", RefreshToken: "rt", AccessToken: "at",
		TokenExpiry: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), TokenURL: "http://127.0.0.1:8080/oauth/token"}
	if c.Auth != want || c.BaseURL != "http://127.0.0.1:8080" {
		t.Fatalf("got %+v base %s", c.Auth, c.BaseURL)
	}
}

func TestDatesAcceptedForms(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2024-01-02T03:04:05Z":      time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		"2024-01-02T03:04:05+02:00": time.Date(2024, 1, 2, 1, 4, 5, 0, time.UTC),
		"2024-01-02":                time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC),
	} {
		c, err := validator(t).Parse([]byte(`{"api_key":"abcdef","start_datetime":"` + in + `"}`))
		if err != nil || !c.Start.Equal(want) {
			t.Errorf("%s: got %v, %v", in, c, err)
		}
	}
}

// TestEveryFieldWrongType: a value of the wrong JSON type in any field is an error naming it.
func TestEveryFieldWrongType(t *testing.T) {
	cases := map[string]string{
		"api_key":                   `{"api_key":5}`,
		"credentials":               `{"credentials":"oauth"}`,
		"credentials.refresh_token": `{"credentials":{"auth_type":"oauth2.0","client_id":"a","client_secret":"b","refresh_token":7}}`,
		"start_datetime":            `{"api_key":"abcdef","start_datetime":20240101}`,
		"end_datetime":              `{"api_key":"abcdef","end_datetime":true}`,
		"lookback_window_days":      `{"api_key":"abcdef","lookback_window_days":"7"}`,
		"sandbox":                   `{"api_key":"abcdef","sandbox":"yes"}`,
		"max_concurrent_streams":    `{"api_key":"abcdef","max_concurrent_streams":2.5}`,
		"requests_per_5_minutes":    `{"api_key":"abcdef","requests_per_5_minutes":[1]}`,
		"base_url":                  `{"api_key":"abcdef","base_url":{}}`,
	}
	for field, doc := range cases {
		_, err := validator(t).Parse([]byte(doc))
		var ce *Error
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Field, strings.Split(field, ".")[0]) {
			t.Errorf("%s: want an error naming the field, got %v", field, err)
		}
	}
}

func TestRangesAndRules(t *testing.T) {
	cases := map[string]string{
		`{"api_key":"abcdef","lookback_window_days":91}`:   "lookback_window_days",
		`{"api_key":"abcdef","max_concurrent_streams":0}`:  "max_concurrent_streams",
		`{"api_key":"abcdef","max_concurrent_streams":17}`: "max_concurrent_streams",
		`{"api_key":""}`: "is empty",
		`{"credentials":{"auth_type":"oauth2.0","client_id":"a","client_secret":"b","refresh_token":" "}}`: "credentials.refresh_token",
		`{"credentials":{"auth_type":"magic"}}`:                              "credentials",
		`{"api_key":"abcdef","base_url":"ftp://x"}`:                          "base_url",
		`{"api_key":"abcdef","base_url":"http://10.0.0.1"}`:                  "plain http",
		`{"api_key":"abcdef","base_url":"https://user:pw@api.ouraring.com"}`: "credentials, a query",
		`{"credentials":{"auth_type":"oauth2.0","client_id":"a","client_secret":"b","refresh_token":"c","token_expiry_date":"tomorrow"}}`:          "token_expiry_date",
		`{"credentials":{"auth_type":"oauth2.0","client_id":"a","client_secret":"b","refresh_token":"c","token_url":"http://evil.example/token"}}`: "credentials.token_url",
	}
	for doc, want := range cases {
		_, err := validator(t).Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want %q, got %v", doc, want, err)
		}
	}
}

func TestHTTPOnlyForLoopback(t *testing.T) {
	for _, u := range []string{"http://localhost:9", "http://127.0.0.1:9", "http://[::1]:9", "https://proxy.example"} {
		if _, err := validator(t).Parse([]byte(`{"api_key":"abcdef","base_url":"` + u + `"}`)); err != nil {
			t.Errorf("%s should be accepted: %v", u, err)
		}
	}
}

func TestUnknownKeysListed(t *testing.T) {
	c, err := validator(t).Parse([]byte(`{"api_key":"abcdef","zeta":1,"alpha":2,"_comment":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Unknown, ",") != "alpha,zeta" {
		t.Fatalf("got %v", c.Unknown)
	}
}

func TestSecretsFound(t *testing.T) {
	v := validator(t)
	got := v.Secrets([]byte(`{"api_key":"k1","credentials":{"auth_type":"oauth2.0","client_secret":"s1","refresh_token":"r1","access_token":"a1","client_id":"c1"}}`))
	joined := "," + strings.Join(got, ",") + ","
	for _, s := range []string{"k1", "s1", "r1", "a1", "c1"} {
		if !strings.Contains(joined, ","+s+",") {
			t.Errorf("secret %s not found in %v", s, got)
		}
	}
}
