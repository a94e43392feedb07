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
		// Paste slips, repeated keys and dates the connector cannot send.
		`{"api_key":"emu-token\nX-Evil: 1"}`, `{"api_key":" emu-token\u0000"}`, `{"api_key":" emu-token "}`,
		`{"credentials":{"auth_type":"oauth2.0","client_id":"a\u200b","client_secret":"b","refresh_token":"c "}}`,
		`{"api_key":"a","api_key":"b"}`, `{"_c":1,"_c":2,"api_key":"a","x":{"y":{"z":1,"z":2}}}`,
		`{"api_key":"abcdef","start_datetime":"0001-01-01","end_datetime":"9999-12-31"}`,
		`{"api_key":"abcdef","end_datetime":"2014-01-01"}`,
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
		for _, s := range []string{c.Auth.APIKey, c.Auth.ClientID, c.Auth.ClientSecret, c.Auth.RefreshToken, c.Auth.AccessToken} {
			if strings.IndexFunc(s, isBreakOrControl) >= 0 || strings.IndexFunc(s, isInvisible) >= 0 || strings.TrimSpace(s) != s {
				t.Fatalf("accepted a secret with a control, invisible or surrounding space character: %q", s)
			}
		}
		if !c.Start.Before(lastDate) || !c.End.Before(lastDate) {
			t.Fatalf("accepted a date in 9999 or later: %v %v", c.Start, c.End)
		}
	})
}
