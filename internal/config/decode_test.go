package config

import (
	"strings"
	"testing"
	"time"
)

// The typed decode takes only the exact names the schema knows: encoding/json alone would let
// "START_DATETIME" or "credentials.API_KEY" set a field the schema never checked and the warning
// calls ignored.
func TestKeysDifferingOnlyInCaseAreIgnored(t *testing.T) {
	v := validator(t)
	cfg, err := v.Parse([]byte(`{"credentials":{"auth_type":"api_key","api_key":"k","API_KEY":"other"},` +
		`"START_DATETIME":"2030-01-01","Lookback_Window_Days":1e9,"SANDBOX":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.APIKey != "k" || !cfg.Start.Equal(DefaultStart) || cfg.LookbackDays != DefaultLookbackDays || cfg.Sandbox {
		t.Errorf("a key in other letter case was used: %+v", cfg)
	}
	w := strings.Join(cfg.Warnings(time.Now()), "\n")
	for _, k := range []string{"START_DATETIME", "credentials.API_KEY", "SANDBOX"} {
		if !strings.Contains(w, k) {
			t.Errorf("no warning names %s: %q", k, w)
		}
	}
}

// Every field of the typed document reaches the Config.
func TestEveryFieldIsDecoded(t *testing.T) {
	cfg, err := validator(t).Parse([]byte(`{"credentials":{"auth_type":"oauth2.0","client_id":"id","client_secret":"s",` +
		`"refresh_token":"r","access_token":"a","token_expiry_date":"2026-01-02T03:04:05Z","token_url":"https://EXAMPLE.com/t/",` +
		`"oauth_app_type":"developer_portal"},"start_datetime":"2024-01-01","end_datetime":"2024-02-01",` +
		`"lookback_window_days":3,"max_concurrent_streams":2,"requests_per_5_minutes":100,` +
		`"base_url":"http://127.0.0.1:9/","account_column":{"enabled":true,"label":"p1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Auth
	if a.Kind != AuthOAuth || a.ClientID != "id" || a.ClientSecret != "s" || a.RefreshToken != "r" || a.AccessToken != "a" ||
		a.TokenExpiry.Format(time.RFC3339) != "2026-01-02T03:04:05Z" || a.TokenURL != "https://example.com/t" || a.AppType != "developer_portal" {
		t.Errorf("auth: %+v", a)
	}
	if cfg.Start.Format(time.DateOnly) != "2024-01-01" || cfg.End.Format(time.RFC3339) != "2024-02-01T23:59:59Z" ||
		cfg.LookbackDays != 3 || cfg.MaxConcurrent != 2 || cfg.RequestsPer5Min != 100 || cfg.BaseURL != "http://127.0.0.1:9" ||
		!cfg.Account.Enabled || cfg.Account.Label != "p1" {
		t.Errorf("config: %+v", cfg)
	}
}
