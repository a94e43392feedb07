package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// startRun runs the command on a free port and returns the lines it printed up to and
// including the OAuth lines, plus a stop function that ends it and returns its error.
func startRun(t *testing.T, args ...string) ([]string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	var lines []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "oauth: token_url=") {
			break
		}
	}
	// Keep draining so the command never blocks on a write.
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	stop := func() error {
		cancel()
		return <-done
	}
	t.Cleanup(func() { cancel() })
	if len(lines) < 5 {
		t.Fatalf("banner incomplete: %q (run ended: %v)", lines, stop())
	}
	return lines, stop
}

func TestServesGeneratedDataAndShutsDown(t *testing.T) {
	out := filepath.Join(t.TempDir(), "config.json")
	lines, stop := startRun(t, "--days", "5", "--page-size", "2", "--config-out", out, "--token", "tok")

	var cfg connectorConfig
	if err := json.Unmarshal([]byte(lines[2]), &cfg); err != nil {
		t.Fatalf("config line %q: %v", lines[2], err)
	}
	if cfg.APIKey != "tok" || !strings.HasPrefix(cfg.BaseURL, "http://127.0.0.1:") || strings.HasSuffix(cfg.BaseURL, ":0") ||
		!strings.HasSuffix(cfg.StartDatetime, "T00:00:00Z") {
		t.Errorf("config %+v", cfg)
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("reading --config-out: %v", err)
	}
	if strings.TrimSpace(string(written)) != lines[2] {
		t.Errorf("--config-out holds %s, stdout showed %s", written, lines[2])
	}

	req, _ := http.NewRequest(http.MethodGet, cfg.BaseURL+"/v2/usercollection/daily_readiness?start_date="+cfg.StartDatetime[:10], nil)
	req.Header.Set("Authorization", "Bearer "+cfg.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Data      []json.RawMessage `json:"data"`
		NextToken *string           `json:"next_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(page.Data) != 2 || page.NextToken == nil {
		t.Errorf("daily_readiness: %d %v, %d docs, next %v", resp.StatusCode, err, len(page.Data), page.NextToken)
	}

	// The printed refresh token works with the default client.
	fields := map[string]string{}
	for _, f := range strings.Fields(strings.TrimPrefix(lines[3], "oauth: ")) {
		k, v, _ := strings.Cut(f, "=")
		fields[k] = v
	}
	resp, err = http.PostForm(cfg.BaseURL+"/oauth/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {fields["refresh_token"]},
		"client_id": {"emu-client"}, "client_secret": {"emu-secret"},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("refreshing with the printed token: %d", resp.StatusCode)
	}

	if err := stop(); err != nil {
		t.Errorf("run after cancel: %v", err)
	}
	if _, err := http.Get(cfg.BaseURL + "/"); err == nil {
		t.Errorf("server still answering after shutdown")
	}
}

// flagsRefused fails for each argument list parseFlags accepts.
func flagsRefused(t *testing.T, argsets ...[]string) {
	t.Helper()
	for _, args := range argsets {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

func TestFlagErrors(t *testing.T) {
	flagsRefused(t,
		[]string{"--days", "0"},
		[]string{"--page-size", "0"},
		[]string{"--token", ""},
		[]string{"--fail-every", "-1"},
		[]string{"extra"},
		[]string{"--nope"},
	)
	c, err := parseFlags([]string{"--seed", "5"}, io.Discard)
	if err != nil || c.sandboxSeed != 6 || c.addr != "127.0.0.1:8787" || c.days != 730 {
		t.Errorf("defaults: %+v %v", c, err)
	}
}
