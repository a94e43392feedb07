package oura_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"source-oura/internal/oura"
	"source-oura/internal/ouraemu"
)

// These tests run the client against the bundled emulator, one fault knob at a time, and
// check what a caller gets: every document of the range exactly once, or the right typed
// error with a message a user can act on.

const emuToken = "emulator-client-token"

var emuNow = time.Date(2025, 3, 31, 12, 0, 0, 0, time.UTC)

func emulatorClient(t *testing.T, faults ouraemu.Faults, scopes ...string) (*oura.Client, *ouraemu.Server, *ouraemu.Dataset) {
	t.Helper()
	if scopes == nil {
		scopes = ouraemu.AllScopes
	}
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 5, First: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Last: time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)})
	srv := ouraemu.NewServer(ouraemu.Options{Dataset: ds, PageSize: 100, Tokens: map[string][]string{emuToken: scopes}, Now: func() time.Time { return emuNow }})
	srv.SetFaults(faults)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := oura.New(oura.Config{BaseURL: hs.URL, Tokens: oura.StaticToken(emuToken), MinBackoff: time.Millisecond,
		MaxBackoff: 5 * time.Millisecond, Timeout: 2 * time.Second, MaxAttempts: 6})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, ds
}

var hrRange = url.Values{"start_datetime": {"2025-03-02T00:00:00Z"}, "end_datetime": {"2025-03-30T00:00:00Z"}}

func readAll(c *oura.Client, path string, q url.Values) ([]string, error) {
	it := c.Pages(path, q)
	var out []string
	for it.Next(context.Background(), func(r oura.Record) error { out = append(out, string(r.Raw)); return nil }) {
	}
	return out, it.Err()
}

func wantHeartRate(ds *ouraemu.Dataset) []string {
	from, _ := time.Parse(time.RFC3339, hrRange.Get("start_datetime"))
	to, _ := time.Parse(time.RFC3339, hrRange.Get("end_datetime"))
	var out []string
	for _, d := range ds.Docs["heartrate"] {
		if !d.Key.Before(from) && !d.Key.After(to) {
			out = append(out, string(d.JSON))
		}
	}
	return out
}

func TestEmulatorFaultsStillDeliverEveryDocumentOnce(t *testing.T) {
	cases := map[string]ouraemu.Faults{
		"none":                   {},
		"429 storm":              {RateLimitFirst: 3, RateLimitEvery: 7, RetryAfter: 0},
		"5xx bursts":             {ServerErrorFirst: 4, ServerErrors: []int{500, 502, 503, 504}, ServerErrorEvery: 9},
		"dropped connections":    {DropFirst: 2, DropEvery: 11},
		"bodies cut mid-JSON":    {TruncateFirst: 2, TruncateEvery: 8},
		"all at once, sometimes": {RateLimitEvery: 13, ServerErrorEvery: 17, DropEvery: 19, TruncateEvery: 23},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			c, srv, ds := emulatorClient(t, f)
			got, err := readAll(c, "/v2/usercollection/heartrate", hrRange)
			if err != nil {
				t.Fatal(err)
			}
			want := wantHeartRate(ds)
			if len(want) < 1000 {
				t.Fatalf("fixture too small: %d rows", len(want))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("got %d rows, want %d (in order, each once)", len(got), len(want))
			}
			faulted := 0
			for _, r := range srv.Requests() {
				if r.Fault != "" {
					faulted++
				}
			}
			if name != "none" && faulted == 0 {
				t.Fatal("no fault was injected: the test proves nothing")
			}
		})
	}
}

func TestEmulatorFailuresAreTyped(t *testing.T) {
	cases := []struct {
		name   string
		faults ouraemu.Faults
		scopes []string
		path   string
		kind   oura.Kind
		advice string
	}{
		{"missing scope", ouraemu.Faults{}, []string{"daily"}, "/v2/usercollection/heartrate", oura.Forbidden, "heartrate"},
		{"app too old", ouraemu.Faults{UpgradeRequired: true}, nil, "/v2/usercollection/heartrate", oura.UpgradeRequired, "app"},
		{"retry-after over the cap", ouraemu.Faults{RateLimitFirst: 1, RetryAfter: 3600}, nil, "/v2/usercollection/heartrate", oura.RateLimited, "asked to wait 1h0m0s"},
		{"server down", ouraemu.Faults{ServerErrorFirst: 100}, nil, "/v2/usercollection/heartrate", oura.ServerError, "try again later"},
		{"next_token loop", ouraemu.Faults{EndlessNextToken: true}, nil, "/v2/usercollection/heartrate", oura.BadResponse, "next_token"},
		{"over 30 days", ouraemu.Faults{}, nil, "/v2/usercollection/heartrate?wide", oura.BadRequest, "30"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, _, _ := emulatorClient(t, c.faults, c.scopes...)
			q, path := hrRange, c.path
			if strings.HasSuffix(path, "?wide") {
				path = strings.TrimSuffix(path, "?wide")
				q = url.Values{"start_datetime": {"2025-01-01T00:00:00Z"}, "end_datetime": {"2025-03-30T00:00:00Z"}}
			}
			_, err := readAll(cl, path, q)
			var oe *oura.Error
			if !errors.As(err, &oe) || oe.Kind != c.kind {
				t.Fatalf("want %v, got %v", c.kind, err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(c.advice)) || strings.Contains(err.Error(), emuToken) {
				t.Fatalf("message %q should mention %q and never the token", err, c.advice)
			}
		})
	}
}
