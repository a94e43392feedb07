// Command ouraemu serves a local Oura API v2 with generated data, for demos, manual testing
// and benchmarks of source-oura.
//
//	go run ./cmd/ouraemu --addr 127.0.0.1:8787 --days 730
//
// It prints the URL, a ready-to-use connector config and an OAuth refresh token, then serves
// until SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"source-oura/internal/ouraemu"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ouraemu:", err)
		os.Exit(1)
	}
}

// config is everything the flags set.
type config struct {
	addr         string
	seed         int64
	sandboxSeed  int64
	days         int
	pageSize     int
	latency      time.Duration
	rateEvery    int
	retryAfter   int
	failEvery    int
	dropEvery    int
	token        string
	clientID     string
	clientSecret string
	configOut    string
	logRequests  bool
	portalApp    bool
	newFields    []ouraemu.NewField
	accounts     map[string]int64 // token -> seed of another Oura account
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("ouraemu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8787", "listen address; port 0 picks a free port")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the generated data")
	fs.Int64Var(&c.sandboxSeed, "sandbox-seed", 0, "seed of the sandbox data (default seed+1)")
	fs.IntVar(&c.days, "days", 730, "days of history, ending today")
	fs.IntVar(&c.pageSize, "page-size", 1000, "documents per list page")
	fs.DurationVar(&c.latency, "latency", 0, "latency added to every data request, e.g. 20ms")
	fs.IntVar(&c.rateEvery, "rate-limit-every", 0, "answer every Nth data request with 429 (0: never)")
	fs.IntVar(&c.retryAfter, "retry-after", 1, "Retry-After seconds sent with each 429")
	fs.IntVar(&c.failEvery, "fail-every", 0, "answer every Nth data request with 500 (0: never)")
	fs.IntVar(&c.dropEvery, "drop-every", 0, "close the connection of every Nth data request unanswered (0: never)")
	fs.StringVar(&c.token, "token", "emu-token", "static access token with every scope")
	fs.StringVar(&c.clientID, "client-id", "emu-client", "OAuth client id")
	fs.StringVar(&c.clientSecret, "client-secret", "emu-secret", "OAuth client secret")
	fs.StringVar(&c.configOut, "config-out", "", "also write the connector config to this file")
	fs.BoolVar(&c.logRequests, "log-requests", false, "print every request to stderr")
	fs.BoolVar(&c.portalApp, "developer-portal-app", false,
		"play an app of Oura's newer developer portal: /oauth/token refuses refreshes (400 invalid_request), "+
			ouraemu.PortalTokenPath+" works")
	fs.Func("new-field", "add a top-level field Oura's OpenAPI document lacks to every document of a collection, "+
		"as COLLECTION.NAME=JSON (e.g. sleep.sleep_regularity=0.82); repeatable", func(v string) error {
		f, err := ouraemu.ParseNewField(v)
		c.newFields = append(c.newFields, f)
		return err
	})
	fs.Func("account", "serve another Oura account, with its own data and user id, to a static token with every scope, "+
		"as TOKEN=SEED (e.g. emu-token-2=107, whose heart rate shares seed 1's minutes); repeatable", func(v string) error {
		tok, seed, err := parseAccount(v)
		if err == nil && c.accounts[tok] != 0 {
			err = fmt.Errorf("token %q is given twice; each account needs its own token", tok)
		}
		if err == nil {
			if c.accounts == nil {
				c.accounts = map[string]int64{}
			}
			c.accounts[tok] = seed
		}
		return err
	})
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	switch {
	case fs.NArg() > 0:
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.days < 1:
		return config{}, fmt.Errorf("--days must be at least 1, got %d", c.days)
	case c.pageSize < 1:
		return config{}, fmt.Errorf("--page-size must be at least 1, got %d", c.pageSize)
	case c.token == "":
		return config{}, errors.New("--token must not be empty")
	case c.accounts[c.token] != 0:
		return config{}, fmt.Errorf("--account token %q is also --token; each account needs its own token", c.token)
	case c.rateEvery < 0 || c.failEvery < 0 || c.dropEvery < 0 || c.retryAfter < 0 || c.latency < 0:
		return config{}, errors.New("fault flags must not be negative")
	}
	if c.sandboxSeed == 0 {
		c.sandboxSeed = c.seed + 1
	}
	return c, nil
}

// parseAccount reads an --account value, TOKEN=SEED.
func parseAccount(v string) (string, int64, error) {
	tok, seedText, ok := strings.Cut(v, "=")
	seed, err := strconv.ParseInt(seedText, 10, 64)
	if !ok || tok == "" || err != nil || seed == 0 {
		return "", 0, fmt.Errorf("%q is not TOKEN=SEED with a non-empty token and a non-zero whole-number seed, e.g. emu-token-2=107", v)
	}
	return tok, seed, nil
}

// connectorConfig is the source-oura config that points at this emulator.
type connectorConfig struct {
	APIKey        string `json:"api_key"`
	BaseURL       string `json:"base_url"`
	StartDatetime string `json:"start_datetime"`
}

// run serves until ctx ends. It writes the banner to stdout and request lines to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}

	gen := ouraemu.DefaultOptions(time.Now())
	gen.Seed = c.seed
	gen.First = gen.Last.AddDate(0, 0, -(c.days - 1))
	data := ouraemu.Generate(gen)
	accounts := map[string]*ouraemu.Dataset{}
	tokens := map[string][]string{c.token: ouraemu.AllScopes}
	for tok, seed := range c.accounts {
		gen.Seed = seed
		accounts[tok] = ouraemu.Generate(gen)
		tokens[tok] = ouraemu.AllScopes
	}
	gen.Seed = c.sandboxSeed
	sandbox := ouraemu.Generate(gen)

	opts := ouraemu.Options{
		Dataset:  data,
		Sandbox:  sandbox,
		PageSize: c.pageSize,
		Tokens:   tokens,
		Accounts: accounts,
		Clients:  map[string]string{c.clientID: c.clientSecret},
		// A portal app refreshes only at ouraemu.PortalTokenPath, like oauth_app_type developer_portal.
		DeveloperPortalApp: c.portalApp,
		// Keep the log bounded: nothing reads it here, and a benchmark sends many requests.
		RequestLogLimit: 1000,
		NewFields:       c.newFields,
	}
	if c.logRequests {
		opts.OnRequest = func(r ouraemu.Request) {
			target := r.Path
			if len(r.Query) > 0 {
				target += "?" + r.Query.Encode()
			}
			line := fmt.Sprintf("%s %s %s -> %d", r.Time.Format(time.RFC3339), r.Method, target, r.Status)
			if r.Fault != "" {
				line += " (" + r.Fault + ")"
			}
			fmt.Fprintln(stderr, line)
		}
	}
	emu := ouraemu.NewServer(opts)
	emu.SetFaults(ouraemu.Faults{
		Latency:          c.latency,
		RateLimitEvery:   c.rateEvery,
		RetryAfter:       c.retryAfter,
		ServerErrorEvery: c.failEvery,
		DropEvery:        c.dropEvery,
	})

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", c.addr, err)
	}
	base := "http://" + ln.Addr().String()
	cfg, err := json.Marshal(connectorConfig{
		APIKey:        c.token,
		BaseURL:       base,
		StartDatetime: data.First.Format(time.DateOnly) + "T00:00:00Z",
	})
	if err != nil {
		ln.Close()
		return fmt.Errorf("encoding connector config: %w", err)
	}
	if c.configOut != "" {
		// The README's first commands write into secrets/, which a fresh clone does not have.
		// 0700 like the file's 0600: the folder will hold tokens.
		if err := os.MkdirAll(filepath.Dir(c.configOut), 0o700); err != nil {
			ln.Close()
			return fmt.Errorf("creating the folder of --config-out %s: %w", c.configOut, err)
		}
		if err := writeWhole(c.configOut, append(cfg, '\n')); err != nil {
			ln.Close()
			return fmt.Errorf("writing --config-out: %w", err)
		}
	}
	refresh := emu.IssueRefreshToken(c.clientID, ouraemu.AllScopes...)
	fmt.Fprintf(stdout, "ouraemu serving %d days (%s to %s, seed %d) at %s\n",
		c.days, data.First.Format(time.DateOnly), data.Last.Format(time.DateOnly), c.seed, base)
	fmt.Fprintf(stdout, "connector config:\n%s\n", cfg)
	for _, tok := range slices.Sorted(maps.Keys(c.accounts)) {
		fmt.Fprintf(stdout, "account seed %d: the same config with api_key %q\n", c.accounts[tok], tok)
	}
	fmt.Fprintf(stdout, "oauth: client_id=%s client_secret=%s refresh_token=%s\n", c.clientID, c.clientSecret, refresh)
	fmt.Fprintf(stdout, "oauth: token_url=%s/oauth/token authorize_url=%s/oauth/authorize\n", base, base)
	if c.portalApp {
		fmt.Fprintf(stdout, "oauth: developer portal app: token_url=%s%s authorize_url=%s%s (oauth_app_type developer_portal)\n",
			base, ouraemu.PortalTokenPath, base, ouraemu.PortalAuthorizePath)
	}

	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// writeWhole replaces path with data (mode 0600) in one rename, so that a script waiting for the
// file to appear, as the README's quick start does, never reads half of it.
func writeWhole(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".ouraemu-config-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
