package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"source-oura/internal/auth"
	"source-oura/internal/config"
	"source-oura/internal/oura"
	"source-oura/protocol"
	"source-oura/streams"
)

// Limits of the auth command.
const (
	// secretEnv is where the auth command looks for the client secret when --client-secret is
	// not given: a command line is readable by every local user in /proc/PID/cmdline.
	secretEnv = "OURA_CLIENT_SECRET"
	// maxSecret bounds a client secret read from the environment or the terminal.
	maxSecret = 4096
)

// tokenSource picks how requests are signed: a personal access token as is, or OAuth tokens
// that are refreshed, and saved after every refresh because Oura's refresh tokens work once.
func (r *run) tokenSource(cfg *config.Config) (oura.TokenSource, error) {
	a := cfg.Auth
	r.masker.Add(a.APIKey, a.AccessToken, a.RefreshToken, a.ClientSecret)
	if a.Kind != config.AuthOAuth {
		return oura.StaticToken(a.APIKey), nil
	}
	tokenURL, fallback, err := auth.TokenEndpoints(a.AppType, cfg.BaseURL, a.TokenURL)
	if err != nil {
		return nil, fmt.Errorf("config field \"credentials.oauth_app_type\": %w", err)
	}
	app := auth.App{TokenURL: tokenURL, FallbackTokenURL: fallback, ClientID: a.ClientID, ClientSecret: a.ClientSecret,
		HTTPClient: r.env.HTTPClient, Now: r.env.Now, Warn: func(msg string) { r.log.Warn().Msg(msg) }}
	start := auth.Tokens{AccessToken: a.AccessToken, RefreshToken: a.RefreshToken, Expiry: a.TokenExpiry}
	src, err := auth.NewSource(app, start, r.saveTokens(cfg.Raw))
	if err != nil {
		return nil, fmt.Errorf("config field \"credentials\": %w", err)
	}
	if path := r.args.config; path != "" {
		// Another run sharing the file may spend the refresh token and save its successor there.
		src.ReloadFrom(func() (auth.Tokens, error) { return auth.ReadTokens(path) })
	}
	return src, nil
}

// saveTokens returns the hook that runs after each token refresh. The old refresh token is dead
// by then, so the new one is handed over twice: in the --config file, for people who run the
// connector by hand, and in a CONNECTOR_CONFIG control message, which the Airbyte platform stores.
// The file comes first: writing to stdout can fail or end the process (a closed pipe, a full
// disk), and a token written nowhere would make the user authorize again.
// The auth.Source calls it under its lock, one refresh at a time, so doc needs no lock of its own.
func (r *run) saveTokens(doc []byte) func(auth.Tokens) error {
	path := r.args.config
	return func(t auth.Tokens) error {
		// Before anything can be logged.
		r.masker.Add(t.AccessToken, t.RefreshToken)
		updated, err := auth.UpdateConfig(doc, t)
		if err != nil {
			return err
		}
		doc = updated
		// The file is re-read and only its tokens change: edits made during the run are kept.
		fileErr := auth.UpdateFile(path, t, func(w string) { r.log.Warn().Msg(w) })
		if err := r.out.ControlConfig(json.RawMessage(updated)); err != nil {
			if fileErr == nil {
				return fmt.Errorf("emitting the updated config (the new tokens are saved in %s): %w", path, err)
			}
			return fmt.Errorf("emitting the updated config: %w", err)
		}
		if err := fileErr; err != nil {
			// Under Airbyte the platform keeps the token from the control message, so the advice
			// is worded to be true both there and for a person running the connector by hand.
			r.log.Warn().Msgf("Oura issued a new refresh token and the old one no longer works, but the config file "+
				"%s could not be updated: %v. The new refresh token must be saved before the next run: it is "+
				"credentials.refresh_token in the CONNECTOR_CONFIG control message just written to stdout. The "+
				"Airbyte platform saves it from there by itself; when running the connector by hand, copy it into "+
				"your config file.", path, err)
			return nil
		}
		r.log.Info().Msgf("saved the new OAuth tokens to %s", path)
		return nil
	}
}

// auth runs the OAuth consent flow for people without the Airbyte UI and writes a config file.
func (r *run) auth(ctx context.Context) int {
	a := r.args
	r.masker.Add(a.clientID, a.clientSecret, a.code)
	fail := func(err error) int {
		ft := protocol.ConfigError
		var ae *auth.Error
		if (errors.As(err, &ae) && ae.Transient()) || ctx.Err() != nil {
			ft = protocol.TransientError
		}
		_ = r.out.Error(ft, "source-oura auth: "+err.Error(), "", nil)
		return ExitFailure
	}
	// Every flag, --output included, is checked before the secret is asked for, the consent page
	// shown or the single-use code spent; a flag that cannot work is a command line that cannot
	// be run, hence the usage exit code.
	c, err := auth.NewConsent(auth.ConsentOptions{
		ClientID: a.clientID, AppType: a.appType, BaseURL: a.baseURL,
		AuthorizeURL: a.authorizeURL, TokenURL: a.tokenURL, RedirectURI: a.redirectURI, Output: a.output,
		HTTPClient: r.env.HTTPClient, Now: r.env.Now,
	}, config.DefaultBaseURL)
	if err != nil {
		_ = r.out.Error(protocol.ConfigError, "source-oura auth: "+err.Error(), "", nil)
		return ExitUsage
	}
	if len(c.FromOutput) > 0 {
		r.log.Info().Msgf("using %s from the existing %s (flags override them)", strings.Join(c.FromOutput, ", "), c.Output)
	}
	secret, from, err := r.clientSecret(ctx)
	if err != nil {
		return fail(err)
	}
	r.masker.Add(secret)
	if err := c.SetClientSecret(secret, from); err != nil {
		return fail(err)
	}
	announce := func(next string) { r.printConsent(c.URL, next) }
	code := a.code
	switch {
	case code != "":
	case a.noBrowserWait:
		code, err = c.ReadPasted(ctx, r.env.Stdin, announce)
	default:
		code, err = c.WaitForRedirect(ctx, announce)
	}
	if err != nil {
		return fail(err)
	}
	r.masker.Add(code)
	tokens, err := c.Exchange(ctx, code)
	if err != nil {
		return fail(err)
	}
	r.masker.Add(tokens.AccessToken, tokens.RefreshToken)
	if err := c.WriteConfig(tokens, config.AuthOAuth); err != nil {
		return fail(err)
	}
	account := ""
	if id := r.authAccount(ctx, c.BaseURL, tokens); id != "" {
		account = " for Oura account " + id
	}
	r.log.Info().Msgf("wrote the OAuth config%s to %s. It holds the client secret and the refresh token, so keep it "+
		"private; the connector rewrites it after every token refresh. Try it: source-oura check --config %s",
		account, c.Output, c.Output)
	return ExitOK
}

// clientSecret finds the OAuth client secret: --client-secret, else OURA_CLIENT_SECRET, else a
// prompt without echo when stdin is a terminal, and says which (from), for the advice when Oura
// refuses it. The flag stays for scripts, with a warning, because other local users can read a
// command line in /proc/PID/cmdline. The prompt goes to stderr: stdout carries only Airbyte
// messages. Ctrl-C or SIGTERM (ctx) ends the prompt.
func (r *run) clientSecret(ctx context.Context) (secret, from string, err error) {
	if r.args.set["client-secret"] {
		r.log.Warn().Msgf("--client-secret puts the secret on the command line, where other users of this computer "+
			"can read it (ps, /proc); prefer the %s environment variable or the prompt", secretEnv)
		return r.args.clientSecret, "--client-secret", nil
	}
	if s, ok := os.LookupEnv(secretEnv); ok {
		if len(s) > maxSecret {
			return "", "", fmt.Errorf("%s is longer than %d bytes; set it to the client secret of your Oura API application", secretEnv, maxSecret)
		}
		return strings.TrimSpace(s), secretEnv, nil
	}
	secret, err = r.promptSecret(ctx)
	return secret, "typed at the prompt", err
}

// promptSecret asks for the client secret on the terminal, without echo.
func (r *run) promptSecret(ctx context.Context) (string, error) {
	read, restore := r.env.ReadPassword, func() {}
	if read == nil {
		read, restore = terminalPassword(r.env.Stdin)
	}
	if read == nil {
		return "", fmt.Errorf("no client secret: set the %s environment variable, or run the command in a terminal "+
			"to be asked for it (--client-secret also works, but other users of this computer can read it)", secretEnv)
	}
	fmt.Fprint(r.env.Stderr, "Client secret of your Oura API application (typing is not shown): ")
	b, err := auth.Interruptible(ctx, "the client secret", read)
	if errors.Is(err, auth.ErrCancelled) {
		// The abandoned read still holds the terminal without echo; give the shell its echo back.
		restore()
	}
	fmt.Fprintln(r.env.Stderr)
	if errors.Is(err, auth.ErrCancelled) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("reading the client secret from the terminal: %w", err)
	}
	if len(b) > maxSecret {
		return "", fmt.Errorf("the typed client secret is longer than %d bytes; paste the client secret of your Oura API application", maxSecret)
	}
	return strings.TrimSpace(string(b)), nil
}

// terminalPassword returns a no-echo reader of stdin when it is a terminal, else nil, and a
// function that puts the terminal back as it was before the read, for a read that is abandoned.
func terminalPassword(stdin io.Reader) (read func() ([]byte, error), restore func()) {
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, func() {}
	}
	fd := int(f.Fd())
	state, err := term.GetState(fd)
	restore = func() {
		if err == nil {
			_ = term.Restore(fd, state)
		}
	}
	return func() ([]byte, error) { return term.ReadPassword(fd) }, restore
}

// printConsent tells the user, on stderr, where to give consent; stdout carries only Airbyte messages.
func (r *run) printConsent(consentURL, next string) {
	fmt.Fprintf(r.env.Stderr, "To let source-oura read your Oura data, open this address in a browser, sign in to Oura "+
		"and allow access:\n\n    %s\n\n%s\n", consentURL, next)
	if r.env.OpenBrowser != nil {
		r.env.OpenBrowser(consentURL)
	}
}

// authAccount reads the account id with the new access token, to name it in the final message.
// Failing is fine: the token may lack the personal scope.
func (r *run) authAccount(ctx context.Context, base string, t auth.Tokens) string {
	if base == "" {
		base = config.DefaultBaseURL
	}
	client, err := r.client(&config.Config{BaseURL: base, RequestsPer5Min: config.DefaultRequestsPer5Min,
		Auth: config.Auth{Kind: config.AuthAPIKey, APIKey: t.AccessToken}}, true)
	if err != nil {
		return ""
	}
	id, err := streams.AccountID(ctx, client)
	if err != nil {
		r.log.Debug().Msgf("the new token cannot read the account id: %v", err)
		return ""
	}
	return id
}
