// Package cli runs the connector's commands: it parses the command line, reads the input
// files, wires the client and the reader, and turns every outcome into Airbyte messages and
// an exit code. It is built from injected parts so that tests run the real commands.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"source-oura/internal/config"
	"source-oura/internal/oura"
	"source-oura/internal/progress"
	"source-oura/protocol"
	"source-oura/streams"
)

// Exit codes. Airbyte reads any non-zero exit as a failed job; 2 marks a command line that
// could not be run at all.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Env is what a command run needs from the outside world.
type Env struct {
	Stdout  io.Writer
	Stderr  io.Writer
	Stdin   io.Reader
	Spec    []byte // spec.json as embedded by main
	Version string
	// HTTPClient, when set, replaces the client's transport (tests).
	HTTPClient *http.Client
	// Now is the wall clock (tests pin it).
	Now func() time.Time
	// Client tunes the Oura client (tests shorten backoffs); nil uses the defaults.
	Client func(*oura.Config)
	// OpenBrowser is called by the auth command with the consent URL; nil only prints it.
	OpenBrowser func(url string)
	// Terminal reports whether Stderr is a terminal, which turns on read's progress lines; nil
	// asks the system when Stderr is a file (tests force either answer).
	Terminal func() bool
	// ReadPassword reads one line typed at the terminal without echoing it, for the auth
	// command's client-secret prompt. Nil reads Stdin when it is a terminal (tests set it to play one).
	ReadPassword func() ([]byte, error)
}

// run is one command invocation.
type run struct {
	env    Env
	args   *args
	out    *protocol.Writer
	log    zerolog.Logger
	masker *protocol.Masker
	// progress, when set, counts the requests of read's streams (progress.go).
	progress *progress.Printer
}

// Run executes one command and returns the process exit code. It never panics: an
// unexpected failure becomes a system_error trace, with the stack on stderr only.
func Run(ctx context.Context, argv []string, env Env) (code int) {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	masker := protocol.NewMasker()
	out := protocol.NewWriter(env.Stdout, masker)
	out.SetClock(env.Now)
	r := &run{env: env, out: out, masker: masker}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(env.Stderr, "source-oura: internal error: %v\n%s", p, debug.Stack())
			_ = out.Error(protocol.SystemError, "The connector hit an internal error and stopped. Please report it with the logs.",
				masker.Mask(fmt.Sprint(p)), nil)
			code = ExitFailure
		}
		if err := out.Flush(); err != nil {
			code = stdoutFailed(env.Stderr, err)
		}
	}()

	a, err := parseArgs(argv)
	r.args = a
	r.log = protocol.NewLogger(out, a != nil && a.debug)
	if err != nil {
		fmt.Fprint(env.Stderr, usage)
		_ = out.Error(protocol.ConfigError, "Invalid command line: "+err.Error()+". Run source-oura --help for usage.", "", nil)
		return ExitUsage
	}
	switch {
	case a.help:
		fmt.Fprint(env.Stderr, usage)
		return ExitOK
	case a.version:
		fmt.Fprintf(env.Stderr, "source-oura %s\n", env.Version)
		return ExitOK
	}
	switch a.command {
	case "spec":
		return r.spec()
	case "check":
		return r.check(ctx)
	case "discover":
		return r.discover(ctx)
	case "read":
		return r.read(ctx)
	case "auth":
		return r.auth(ctx)
	}
	return ExitUsage // parseArgs accepts only the commands above
}

// stdoutFailed ends a run whose stdout could not be written (a full disk, a file system gone): the
// Writer kept the first error and dropped every message after it, so one line on stderr says why
// the output stops, and the exit is non-zero. A closed pipe (read | head -1) is the reader's
// choice, not news: it stays quiet, as it is when SIGPIPE ends the process first.
func stdoutFailed(stderr io.Writer, err error) int {
	if !errors.Is(err, syscall.EPIPE) {
		fmt.Fprintf(stderr, "source-oura: cannot write to stdout: %v; nothing more can be reported there\n", err)
	}
	return ExitFailure
}

func (r *run) spec() int {
	if err := r.out.Write(&protocol.Message{Type: protocol.TypeSpec, Spec: r.env.Spec}); err != nil {
		return ExitFailure
	}
	return ExitOK
}

// loadConfig reads and checks --config. The returned error is already worded for the user.
func (r *run) loadConfig() (*config.Config, error) {
	v, err := config.NewValidator(r.env.Spec)
	if err != nil {
		return nil, fmt.Errorf("the embedded spec.json is broken: %w", err)
	}
	raw, err := protocol.ReadJSONFile("config", r.args.config, false)
	if err != nil {
		return nil, err
	}
	r.masker.Add(v.Secrets(raw)...)
	cfg, err := v.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", r.args.config, err)
	}
	for _, w := range cfg.Warnings(r.env.Now()) {
		r.log.Warn().Msgf("config file %s: %s", r.args.config, w)
	}
	return cfg, nil
}

func (r *run) check(ctx context.Context) int {
	cfg, err := r.loadConfig()
	if err != nil {
		var ce *config.Error
		if !errors.As(err, &ce) {
			// The file itself could not be used: say so as a trace, then fail the check.
			_ = r.out.Error(protocol.ConfigError, err.Error(), "", nil)
		}
		_ = r.out.ConnectionStatus(protocol.StatusFailed, "Config validation error: "+err.Error())
		return ExitOK
	}
	client, err := r.client(cfg, true)
	if err != nil {
		_ = r.out.ConnectionStatus(protocol.StatusFailed, err.Error())
		return ExitOK
	}
	if !cfg.Sandbox {
		return r.checkScopes(ctx, client, cfg.Account.Enabled && cfg.Account.Label == "")
	}
	// The sandbox needs no scope: one request shows whether the token works.
	_, err = client.Get(ctx, "/v2/sandbox/usercollection/daily_activity", nil)
	if err == nil {
		_ = r.out.ConnectionStatus(protocol.StatusSucceeded, "")
		return ExitOK
	}
	var oe *oura.Error
	if errors.As(err, &oe) && !oe.Transient() {
		_ = r.out.ConnectionStatus(protocol.StatusFailed, err.Error())
		return ExitOK
	}
	if ctx.Err() != nil {
		_ = r.out.Error(protocol.TransientError, "The check was interrupted before Oura answered.", err.Error(), nil)
		return ExitFailure
	}
	_ = r.out.Error(protocol.TransientError, "Could not reach the Oura API to check the connection: "+err.Error(), "", nil)
	return ExitFailure
}

// client builds the Oura client for a config. forCheck keeps retries short, because check
// must answer within a minute.
func (r *run) client(cfg *config.Config, forCheck bool) (*oura.Client, error) {
	tokens, err := r.tokenSource(cfg)
	if err != nil {
		return nil, err
	}
	oc := oura.Config{
		BaseURL:         cfg.BaseURL,
		Tokens:          tokens,
		RequestsPer5Min: cfg.RequestsPer5Min,
		Logger:          r.log,
		HTTPClient:      r.env.HTTPClient,
		UserAgent:       "source-oura/" + r.env.Version,
		Scopes:          streamScopes(),
	}
	if r.progress != nil {
		oc.WrapTransport = r.progress.Transport
	}
	if forCheck {
		oc.MaxAttempts = 3
		oc.MaxBackoff = 5 * time.Second
		oc.MaxRetryAfter = 10 * time.Second
		oc.Timeout = 20 * time.Second
	}
	if r.env.Client != nil {
		r.env.Client(&oc)
	}
	return oura.New(oc)
}

// streamScopes is the stream table's scope per collection route: the client names it in a refusal
// whose text names no scope. Stream.Scope is the one list of scopes; nothing else repeats it.
func streamScopes() map[string]string {
	m := make(map[string]string, len(streams.AllStreams()))
	for _, s := range streams.AllStreams() {
		m[s.Path] = s.Scope
	}
	return m
}
