package oura

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorDetailReadsOurasBodies(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"detail":"Document not found."}`, "Document not found."},
		{`{"detail":[{"loc":["query","start_date"],"msg":"bad date","type":"value_error"},{"loc":["query",0],"msg":"x"}]}`,
			"query.start_date: bad date; query.0: x"},
		{`{"status":403,"title":"Forbidden","detail":"missing scopes: daily"}`, "missing scopes: daily"},
		{`{"status":401,"title":"Unauthorized"}`, "Unauthorized"},
		{`{"error":"invalid_request","error_description":"Invalid request"}`, "Invalid request"},
		{`{"detail":{"code":7}}`, `{"code":7}`},
		{`{"detail":null}`, ""},
		{"Service\n  Unavailable", "Service Unavailable"},
		{`<html><h1>502 Bad Gateway</h1></html>`, ""},
		{``, ""},
		{`{"detail":"` + strings.Repeat("é", 400) + `"}`, strings.Repeat("é", maxDetail/2) + "…"},
	} {
		if got := cleanDetail(errorDetail([]byte(tc.body)), nil); got != tc.want {
			t.Errorf("errorDetail(%.50q) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestErrorKindsAndAdvice(t *testing.T) {
	for _, tc := range []struct {
		status    int
		detail    string
		kind      Kind
		transient bool
		advice    string
	}{
		{401, "Invalid token", Unauthorized, false, "re-authorize"},
		{401, "Missing scope: daily", Forbidden, false, "scope"},
		{403, "Forbidden", Forbidden, false, "membership"},
		{426, "", UpgradeRequired, false, "update the Oura mobile app"},
		{429, "", RateLimited, true, "later"},
		{404, "", NotFound, false, "document id"},
		{400, "bad", BadRequest, false, "dates"},
		{422, "bad", BadRequest, false, "dates"},
		{409, "", BadRequest, false, "dates"},
		{500, "", ServerError, true, "try again later"},
		{505, "", ServerError, true, "try again later"},
		{302, "", BadResponse, true, "try again later"},
	} {
		e := statusError(tc.status, []byte(`{"detail":"`+tc.detail+`"}`))
		e.Path = "/v2/usercollection/sleep"
		msg := e.Error()
		if e.Kind != tc.kind || e.Transient() != tc.transient || !strings.Contains(msg, tc.advice) ||
			!strings.HasPrefix(msg, e.Path+": ") || strings.Contains(msg, "\n") {
			t.Errorf("HTTP %d %q: kind %v transient %v message %q; want kind %v transient %v advice %q",
				tc.status, tc.detail, e.Kind, e.Transient(), msg, tc.kind, tc.transient, tc.advice)
		}
	}
	if e := (&Error{Kind: Network}); !e.Transient() || !strings.Contains(e.Error(), "could not reach Oura") {
		t.Errorf("network error: transient %v, message %q", e.Transient(), e.Error())
	}
	if e := (&Error{Kind: BadResponse}); !e.Transient() {
		t.Error("a bad response should be transient")
	}
}

func TestErrorMatchesThroughWrapping(t *testing.T) {
	cause := fmt.Errorf("a fixed API key: %w", ErrCannotRefresh)
	err := fmt.Errorf("stream sleep: %w", fmt.Errorf("fetching /x page 3: %w", &Error{Kind: Unauthorized, Status: 401, Err: cause}))
	var e *Error
	if !errors.As(err, &e) || e.Kind != Unauthorized {
		t.Fatalf("errors.As failed on %v", err)
	}
	if !errors.Is(err, ErrCannotRefresh) {
		t.Error("errors.Is does not reach the refresh cause")
	}
}

func TestMissingScope(t *testing.T) {
	table := map[string]string{"tag": "tag", "vO2_max": "heart_health"} // the caller's stream table
	for _, tc := range []struct {
		detail, path string
		scopes       map[string]string
		want         string
	}{
		{"Missing scope: heartrate", "/v2/usercollection/sleep", table, "heartrate"},
		{"The daily summary needs the scope extapi:spo2Daily", "/v2/usercollection/daily_spo2", table, "spo2Daily"},
		{"missing scopes ['heart_health']", "/v2/usercollection/vO2_max", nil, "heart_health"},
		{"insufficient scope", "/v2/usercollection/tag/abc", table, "tag"},
		{"insufficient scope", "/v2/usercollection/vO2_max", table, "heart_health"},
		{"insufficient scope", "/v2/usercollection/vO2_max", nil, ""}, // no table: do not guess
		{"insufficient scope", "/v2/usercollection/session", table, ""},
	} {
		if got := missingScope(tc.detail, tc.path, tc.scopes); got != tc.want {
			t.Errorf("missingScope(%q, %q) = %q, want %q", tc.detail, tc.path, got, tc.want)
		}
	}
}

func TestScrubHidesSecrets(t *testing.T) {
	e := &Error{Kind: Unauthorized, Path: "/p", Detail: "token abc123 rejected", Err: errors.New("refresh abc123 failed")}
	err := scrub(fmt.Errorf("outer abc123: %w", e), []string{"abc123", ""})
	if strings.Contains(err.Error(), "abc123") {
		t.Errorf("secret left in %q", err)
	}
	if !errors.As(err, new(*Error)) {
		t.Error("scrubbing lost the *Error")
	}
}
