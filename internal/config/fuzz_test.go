package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: any config document is either accepted with values inside their ranges, or
// refused with a one-line *Error; never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"api_key":"abcdef"}`,
		`{"credentials":{"auth_type":"oauth2.0","client_id":"a","client_secret":"b","refresh_token":"c","token_expiry_date":"2026-01-01T00:00:00Z"}}`,
		`{"api_key":"abcdef","start_datetime":"2024-01-01","end_datetime":"2023-01-01"}`,
		`{"api_key":"abcdef","base_url":"http://10.0.0.1","lookback_window_days":91}`,
		`[]`, `null`, `{"credentials":{"auth_type":7}}`, `{"api_key":"abcdef","max_concurrent_streams":1e400}`,
		// Numbers the schema validator panicked on or spent seconds on.
		`{"api_key":"abcdef","lookback_window_days":1e999999999}`,
		`{"api_key":"abcdef","requests_per_5_minutes":-1E-999999999}`,
		`{"api_key":"abcdef","max_concurrent_streams":1e99999999999999999999}`,
		`{"api_key":"abcdef","credentials":{"x":[0.5e-999999999]}}`,
		`{"api_key":"abcdef","lookback_window_days":1` + strings.Repeat("0", 5000) + `}`,
		`{"api_key":"abcdef","requests_per_5_minutes":99999999999999999999}`,
		`{"token":"abcdef","start_date":"2024-01-01"}`,
	} {
		f.Add([]byte(s))
	}
	v := validator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = v.Secrets(data)
		c, err := v.Parse(data)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("not a one-line *Error: %q", err)
			}
			return
		}
		if c.LookbackDays < 0 || c.LookbackDays > 90 || c.MaxConcurrent < 1 || c.MaxConcurrent > 16 || c.RequestsPer5Min < 1 {
			t.Fatalf("accepted out-of-range values: %+v", c)
		}
		if !c.End.IsZero() && c.Start.After(c.End) {
			t.Fatalf("accepted start after end: %+v", c)
		}
		if strings.HasPrefix(c.BaseURL, "http://") && !strings.Contains(c.BaseURL, "localhost") && !strings.Contains(c.BaseURL, "127.") && !strings.Contains(c.BaseURL, "[::1]") {
			t.Fatalf("accepted a non-loopback http base URL: %s", c.BaseURL)
		}
		if c.Auth.Kind != AuthAPIKey && c.Auth.Kind != AuthOAuth {
			t.Fatalf("no auth kind: %+v", c.Auth)
		}
	})
}
