package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// specForTest reads the repository's spec.json.
func specForTest(t testing.TB) []byte {
	t.Helper()
	spec, err := os.ReadFile(filepath.Join("..", "..", "spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func validator(t testing.TB) *Validator {
	t.Helper()
	v, err := NewValidator(specForTest(t))
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

// TestOAuthConfigErrorsNameTheOAuthField: a config that clearly means OAuth (auth_type says
// so, or a refresh_token or client_id says so) is told what its OAuth part lacks, naming the field
// and the form it takes, not that it matches neither variant and should say api_key.
func TestOAuthConfigErrorsNameTheOAuthField(t *testing.T) {
	const ok = `"client_id":"cid123","client_secret":"csecret","refresh_token":"rtoken"`
	for _, c := range []struct{ creds, field, text string }{
		{`"auth_type":"oauth2.0","client_id":"cid123","refresh_token":"rtoken"`, "credentials.client_secret", "is missing; copy it"},
		{`"auth_type":"oauth2.0",` + ok + `,"oauth_app_type":"portal"`, "credentials.oauth_app_type", `"portal" is not one of cloud, developer_portal`},
		{ok, "credentials.auth_type", `is missing; set it to "oauth2.0"`},
		{`"auth_type":"oauth2.0","client_id":7,"client_secret":"csecret","refresh_token":"rtoken"`, "credentials.client_id", "must be string"},
	} {
		in := `{"credentials":{` + c.creds + `}}`
		_, err := validator(t).Parse([]byte(in))
		var ce *Error
		if !errors.As(err, &ce) || ce.Field != c.field || !strings.Contains(err.Error(), c.text) ||
			strings.Contains(err.Error(), "api_key") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want field %s saying %q", in, err, c.field, c.text)
		}
	}
	// Not meant as OAuth: the report on both variants stays.
	if _, err := validator(t).Parse([]byte(`{"credentials":{"auth_type":"api_key"}}`)); err == nil || !strings.Contains(err.Error(), "matches neither") {
		t.Errorf("api_key without a key: %v", err)
	}
}

// TestUnreadableTokenExpiryIsUnknown: token_expiry_date is the connector's own cache; one it
// cannot read (empty, a date alone) is no reason to refuse the config: the expiry is unknown, the
// access token is not trusted (the first request refreshes), and one warning says so.
func TestUnreadableTokenExpiryIsUnknown(t *testing.T) {
	for _, expiry := range []string{"", "2026-12-01", "not a date"} {
		in := `{"credentials":{"auth_type":"oauth2.0","client_id":"cid123","client_secret":"csecret","refresh_token":"rtoken",
			"access_token":"atoken","token_expiry_date":"` + expiry + `"}}`
		c, err := validator(t).Parse([]byte(in))
		if err != nil {
			t.Fatalf("expiry %q: %v", expiry, err)
		}
		if c.Auth.AccessToken != "" || !c.Auth.TokenExpiry.IsZero() || c.Auth.RefreshToken != "rtoken" {
			t.Errorf("expiry %q: %+v, want no access token and no expiry, so the first request refreshes", expiry, c.Auth)
		}
		w := strings.Join(c.Warnings(time.Now()), "\n")
		if !strings.Contains(w, `credentials.token_expiry_date "`+expiry+`" is not an RFC 3339 date-time`) || !strings.Contains(w, "new access token first") {
			t.Errorf("expiry %q: warnings %q", expiry, w)
		}
		if !strings.Contains(string(c.Raw), `"token_expiry_date":"`+expiry+`"`) {
			t.Errorf("expiry %q: the raw config, which a refresh rewrites, lost the field", expiry)
		}
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
		`{"credentials":{"auth_type":"magic"}}`:                                                                                                    "credentials",
		`{"api_key":"abcdef","base_url":"ftp://x"}`:                                                                                                "base_url",
		`{"api_key":"abcdef","base_url":"http://10.0.0.1"}`:                                                                                        "plain http",
		`{"api_key":"abcdef","base_url":"https://user:pw@api.ouraring.com"}`:                                                                       "user name or password",
		`{"credentials":{"auth_type":"oauth2.0","client_id":"a","client_secret":"b","refresh_token":"c","token_expiry_date":7}}`:                   "credentials.token_expiry_date",
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

// TestHugeNumbersAreOneLineErrors: a number no setting can hold, in any number field, is a
// one-line error naming that field (the schema validator used to panic on 1e999999999).
func TestHugeNumbersAreOneLineErrors(t *testing.T) {
	v := validator(t)
	for _, field := range []string{"lookback_window_days", "max_concurrent_streams", "requests_per_5_minutes", "zeta"} {
		for _, n := range []string{"1e999999999", "-1E+999999999", "1e-999999999", "1e99999999999999999999999"} {
			doc := `{"api_key":"abcdef","` + field + `":` + n + `}`
			_, err := v.Parse([]byte(doc))
			var ce *Error
			if !errors.As(err, &ce) || ce.Field != field || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: want a one-line error naming %s, got %v", doc, field, err)
			}
		}
	}
	_, err := v.Parse([]byte(`{"credentials":{"auth_type":"api_key","api_key":"abcdef","n":[1,1e999999999]}}`))
	var ce *Error
	if !errors.As(err, &ce) || ce.Field != "credentials.n.1" {
		t.Errorf("nested: want an error naming credentials.n.1, got %v", err)
	}
	if _, err := v.Parse([]byte(`{"api_key":"abcdef","lookback_window_days":7e0,"max_concurrent_streams":2.0}`)); err != nil {
		t.Errorf("small exponents are plain numbers: %v", err)
	}
}

// TestLongNumberRefusedBeforeDecoding: a million-digit number is refused by the length check,
// before the schema validator (which took 5.7 s on it, quadratic in the length) sees it, and the
// error does not repeat the number. How long the refusal takes is BenchmarkLongNumberRefused's job.
func TestLongNumberRefusedBeforeDecoding(t *testing.T) {
	v := validator(t)
	doc := []byte(`{"api_key":"abcdef","lookback_window_days":1` + strings.Repeat("0", 1_000_000) + `}`)
	_, err := v.Parse(doc)
	var ce *Error
	if !errors.As(err, &ce) || ce.Field != "lookback_window_days" || !strings.Contains(err.Error(), "from 0 to 90") {
		t.Fatalf("want an error naming the field and its range, got %.200v", err)
	}
	if !strings.Contains(err.Error(), "1000001 characters long") {
		t.Errorf("want the length check to refuse it, got %v", err)
	}
	if len(err.Error()) > 300 {
		t.Errorf("error is %d characters long", len(err.Error()))
	}
}

// BenchmarkLongNumberRefused measures the refusal of a million-digit number (5-13 ms here,
// against 5.7 s before the length check).
func BenchmarkLongNumberRefused(b *testing.B) {
	v := validator(b)
	doc := []byte(`{"api_key":"abcdef","lookback_window_days":1` + strings.Repeat("0", 1_000_000) + `}`)
	for b.Loop() {
		if _, err := v.Parse(doc); err == nil {
			b.Fatal("accepted")
		}
	}
}

// TestIntegerTooLargeForAnInt: an integer the schema accepts but an int cannot hold is an
// error, not silently the default.
func TestIntegerTooLargeForAnInt(t *testing.T) {
	_, err := validator(t).Parse([]byte(`{"api_key":"abcdef","requests_per_5_minutes":99999999999999999999}`))
	var ce *Error
	if !errors.As(err, &ce) || ce.Field != "requests_per_5_minutes" {
		t.Fatalf("got %v", err)
	}
}

func TestSecretsFoundBesideHugeNumbers(t *testing.T) {
	got := validator(t).Secrets([]byte(`{"api_key":"k1-secret","lookback_window_days":1e999999999}`))
	if len(got) != 1 || got[0] != "k1-secret" {
		t.Fatalf("got %v", got)
	}
}

// TestDateOnlyEndIsTheWholeDay: end_datetime "2026-11-15" ends at the last instant of that
// day, for every stream; a date-time is taken as written.
func TestDateOnlyEndIsTheWholeDay(t *testing.T) {
	v := validator(t)
	c, err := v.Parse([]byte(`{"api_key":"abcdef","start_datetime":"2026-11-15","end_datetime":"2026-11-15"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 15, 23, 59, 59, 999999999, time.UTC); !c.End.Equal(want) {
		t.Errorf("End = %v, want %v", c.End, want)
	}
	c, err = v.Parse([]byte(`{"api_key":"abcdef","end_datetime":"2026-11-15T00:00:00Z"}`))
	if err != nil || !c.End.Equal(time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date-time end: %v %v", c, err)
	}
}

// TestDidYouMean: a misnamed key gets a hint naming the key it is close to, in the error of
// an invalid config and in the warnings of a valid one.
func TestDidYouMean(t *testing.T) {
	v := validator(t)
	for doc, want := range map[string]string{
		`{"token":"abcdef"}`:                                        `"token" (did you mean "api_key"?)`,
		`{"access_token":"abcdef"}`:                                 `"access_token" (did you mean "api_key"?)`,
		`{"Personal-Access-Token":"abcdef"}`:                        `"Personal-Access-Token" (did you mean "api_key"?)`,
		`{"refresh_token":"r","client_id":"c","client_secret":"s"}`: `"refresh_token" (did you mean "credentials.refresh_token"?)`,
		`{"credentials":{"auth_type":"oauth2.0","client_id":"a","client_secret":"b","refreshtoken":"c"}}`: `"credentials.refreshtoken" (did you mean "credentials.refresh_token"?)`,
		`{"api_key":"abcdef","lookback_window_days":500,"sandbx":true}`:                                   `"sandbx" (did you mean "sandbox"?)`,
	} {
		_, err := v.Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: want %s in the error, got %v", doc, want, err)
		}
	}
	for doc, want := range map[string]string{
		`{"api_key":"abcdef","start_date":"2024-01-01"}`:      `"start_date" (did you mean "start_datetime"?)`,
		`{"api_key":"abcdef","end_date":"2024-01-01"}`:        `"end_date" (did you mean "end_datetime"?)`,
		`{"api_key":"abcdef","lookback_window_day":3}`:        `"lookback_window_day" (did you mean "lookback_window_days"?)`,
		`{"api_key":"abcdef","max_concurrency":3}`:            `"max_concurrency" (did you mean "max_concurrent_streams"?)`,
		`{"api_key":"abcdef","Base_URL":"https://x.example"}`: `"Base_URL" (did you mean "base_url"?)`,
	} {
		c, err := v.Parse([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		if w := strings.Join(c.Warnings(time.Now()), " | "); !strings.Contains(w, want) {
			t.Errorf("%s: want %s in the warnings, got %q", doc, want, w)
		}
	}
	c, err := v.Parse([]byte(`{"api_key":"abcdef","zebra":1,"_comment":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(c.Warnings(time.Now()), " | "); !strings.Contains(w, `"zebra"`) || strings.Contains(w, "did you mean") || strings.Contains(w, "_comment") {
		t.Errorf("a key close to nothing gets no hint: %q", w)
	}
}

// TestFutureStartWarns: a start after now is valid but said, since the sync will find nothing.
func TestFutureStartWarns(t *testing.T) {
	c, err := validator(t).Parse([]byte(`{"api_key":"abcdef","start_datetime":"2027-01-01"}`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if w := strings.Join(c.Warnings(now), " | "); !strings.Contains(w, "start_datetime 2027-01-01T00:00:00Z is in the future") {
		t.Errorf("warnings %q", w)
	}
	if w := c.Warnings(time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)); len(w) != 0 {
		t.Errorf("a start in the past warns: %q", w)
	}
}
