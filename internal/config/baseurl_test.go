package config

import "testing"

// TestBaseURLNormalisedOnce: a loopback base_url in any letter case is read as one spelling, so the
// proxy and same-origin rules downstream see "localhost", and the default token URL inherits it.
func TestBaseURLNormalisedOnce(t *testing.T) {
	for raw, want := range map[string]string{
		"http://LOCALHOST:8080/":       "http://localhost:8080",
		"http://LocalHost:8080":        "http://localhost:8080",
		"https://API.OURARING.COM/":    "https://api.ouraring.com",
		"http://[::ffff:127.0.0.1]:9/": "http://[::ffff:127.0.0.1]:9",
	} {
		cfg, err := validator(t).Parse([]byte(`{"credentials":{"auth_type":"oauth2.0","client_id":"cid","client_secret":"csecret",
			"refresh_token":"rtoken"},"base_url":"` + raw + `"}`))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if cfg.BaseURL != want || cfg.Auth.TokenURL != want+"/oauth/token" {
			t.Errorf("%s: BaseURL %q, token URL %q; want %q and its /oauth/token", raw, cfg.BaseURL, cfg.Auth.TokenURL, want)
		}
	}
}

// TestBaseURLWithAPathIsRefused: a base_url ending in /v2 would send every request to /v2/v2/... and
// fail each stream with a 404; it is refused up front, naming the field and the path.
func TestBaseURLWithAPathIsRefused(t *testing.T) {
	_, err := validator(t).Parse([]byte(`{"api_key":"k","base_url":"http://127.0.0.1:9/v2"}`))
	want := `config field "base_url": "http://127.0.0.1:9/v2" has a path (/v2); give only the scheme and host, e.g. https://api.ouraring.com`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}
