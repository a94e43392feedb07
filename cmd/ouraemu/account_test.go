package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAccountFlagServesAnotherPerson: --account TOKEN=SEED serves a second Oura account: its
// token reads another user id and other data than --token, and the banner names it.
func TestAccountFlagServesAnotherPerson(t *testing.T) {
	lines, stop := startRun(t, "--days", "3", "--token", "tok-a", "--account", "tok-b=107")
	defer func() { _ = stop() }()
	var cfg connectorConfig
	if err := json.Unmarshal([]byte(lines[2]), &cfg); err != nil {
		t.Fatalf("config line %q: %v", lines[2], err)
	}
	if !strings.Contains(strings.Join(lines, "\n"), `account seed 107: the same config with api_key "tok-b"`) {
		t.Errorf("banner does not name the second account:\n%s", strings.Join(lines, "\n"))
	}
	get := func(token, path string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, cfg.BaseURL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s with %s: HTTP %d %s", path, token, resp.StatusCode, body)
		}
		return string(body)
	}
	id := func(token string) string {
		var info struct{ ID string }
		if err := json.Unmarshal([]byte(get(token, "/v2/usercollection/personal_info")), &info); err != nil || info.ID == "" {
			t.Fatalf("personal_info of %s: %v", token, err)
		}
		return info.ID
	}
	if a, b := id("tok-a"), id("tok-b"); a == b {
		t.Errorf("both tokens read user id %s", a)
	}
	q := "/v2/usercollection/daily_sleep?start_date=" + cfg.StartDatetime[:10]
	if a, b := get("tok-a", q), get("tok-b", q); a == b {
		t.Errorf("both tokens read the same daily_sleep: %s", a)
	}
}

func TestAccountFlagErrors(t *testing.T) {
	flagsRefused(t,
		[]string{"--account", "tok"},
		[]string{"--account", "=5"},
		[]string{"--account", "tok=abc"},
		[]string{"--account", "tok=0"},
		[]string{"--account", "tok=2", "--account", "tok=3"},
		[]string{"--account", "emu-token=2"},
		[]string{"--account", "x=2", "--token", "x"},
	)
}
