package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"source-oura/internal/auth"
	"source-oura/internal/config"
	"source-oura/internal/netpolicy"
	"source-oura/internal/oura"
	"source-oura/protocol"
)

// Defaults of the auth command.
const (
	// defaultRedirectURI must be registered, exactly, with the user's Oura application.
	defaultRedirectURI = "http://localhost:8787/callback"
	defaultAuthOutput  = "config.json"
	// consentWait is how long the auth command waits for the browser to come back.
	consentWait = 10 * time.Minute
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
	return src, nil
}

// saveTokens returns the hook that runs after each token refresh. The old refresh token is dead
// by then, so the new one is handed over twice: in a CONNECTOR_CONFIG control message, which the
// Airbyte platform stores, and in the --config file, for people who run the connector by hand.
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
		if err := r.out.ControlConfig(json.RawMessage(updated)); err != nil {
			return fmt.Errorf("emitting the updated config: %w", err)
		}
		// The file is re-read and only its tokens change: edits made during the run are kept.
		if err := auth.UpdateFile(path, t, func(w string) { r.log.Warn().Msg(w) }); err != nil {
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

// authPlan is a checked auth command line.
type authPlan struct {
	app          auth.App
	appType      string // auth.AppCloud or auth.AppDeveloperPortal
	tokenURLSet  bool
	baseURL      string // "" when --base-url was not given
	authorizeURL string
	redirect     string
	redirectURL  *url.URL
	output       string
	state        string
	consentURL   string
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
	secret, err := r.clientSecret()
	if err != nil {
		return fail(err)
	}
	r.masker.Add(secret)
	p, err := r.authPlan(secret)
	if err != nil {
		return fail(err)
	}
	code := a.code
	switch {
	case code != "":
	case a.noBrowserWait:
		code, err = r.pastedCode(p)
	default:
		code, err = r.redirectedCode(ctx, p)
	}
	if err != nil {
		return fail(err)
	}
	r.masker.Add(code)
	tokens, err := p.app.Exchange(ctx, code, p.redirect)
	if err != nil {
		var ae *auth.Error
		if p.appType == auth.AppCloud && !p.tokenURLSet && errors.As(err, &ae) && !ae.Transient() && ae.Code != "invalid_grant" {
			// Apps of the newer portal were reported to fail here too at the classic endpoint.
			err = fmt.Errorf("%w; if your Oura app was made on the newer developer portal (developer.ouraring.com), "+
				"run the command again with --app-type %s", err, auth.AppDeveloperPortal)
		}
		return fail(err)
	}
	r.masker.Add(tokens.AccessToken, tokens.RefreshToken)
	if err := writeAuthConfig(p, tokens); err != nil {
		return fail(err)
	}
	account := ""
	if id := r.authAccount(ctx, p, tokens); id != "" {
		account = " for Oura account " + id
	}
	r.log.Info().Msgf("wrote the OAuth config%s to %s. It holds the client secret and the refresh token, so keep it "+
		"private; the connector rewrites it after every token refresh. Try it: source-oura check --config %s",
		account, p.output, p.output)
	return ExitOK
}

// clientSecret finds the OAuth client secret: --client-secret, else OURA_CLIENT_SECRET, else a
// prompt without echo when stdin is a terminal. The flag stays for scripts, with a warning,
// because other local users can read a command line in /proc/PID/cmdline. The prompt goes to
// stderr: stdout carries only Airbyte messages.
func (r *run) clientSecret() (string, error) {
	if r.args.set["client-secret"] {
		r.log.Warn().Msgf("--client-secret puts the secret on the command line, where other users of this computer "+
			"can read it (ps, /proc); prefer the %s environment variable or the prompt", secretEnv)
		return r.args.clientSecret, nil
	}
	if s, ok := os.LookupEnv(secretEnv); ok {
		if len(s) > maxSecret {
			return "", fmt.Errorf("%s is longer than %d bytes; set it to the client secret of your Oura API application", secretEnv, maxSecret)
		}
		return strings.TrimSpace(s), nil
	}
	read := r.env.ReadPassword
	if read == nil {
		read = terminalPassword(r.env.Stdin)
	}
	if read == nil {
		return "", fmt.Errorf("no client secret: set the %s environment variable, or run the command in a terminal "+
			"to be asked for it (--client-secret also works, but other users of this computer can read it)", secretEnv)
	}
	fmt.Fprint(r.env.Stderr, "Client secret of your Oura API application (typing is not shown): ")
	b, err := read()
	fmt.Fprintln(r.env.Stderr)
	if err != nil {
		return "", fmt.Errorf("reading the client secret from the terminal: %w", err)
	}
	if len(b) > maxSecret {
		return "", fmt.Errorf("the typed client secret is longer than %d bytes; paste the client secret of your Oura API application", maxSecret)
	}
	return strings.TrimSpace(string(b)), nil
}

// terminalPassword returns a no-echo reader of stdin when it is a terminal, else nil.
func terminalPassword(stdin io.Reader) func() ([]byte, error) {
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func() ([]byte, error) { return term.ReadPassword(int(f.Fd())) }
}

func (r *run) authPlan(secret string) (*authPlan, error) {
	a := r.args
	p := &authPlan{
		app:          auth.App{ClientID: a.clientID, ClientSecret: secret, HTTPClient: r.env.HTTPClient, Now: r.env.Now},
		appType:      a.appType,
		authorizeURL: a.authorizeURL,
		redirect:     a.redirectURI,
		output:       a.output,
		state:        rand.Text(),
	}
	if strings.TrimSpace(a.clientID) == "" || strings.TrimSpace(secret) == "" {
		return nil, errors.New("the client id and the client secret must not be empty; copy them from your Oura API application")
	}
	if p.appType == "" {
		p.appType = auth.AppCloud
	}
	base := config.DefaultBaseURL
	if a.baseURL != "" {
		if _, err := netpolicy.CheckURL("base URL", a.baseURL); err != nil {
			return nil, err
		}
		base = strings.TrimRight(a.baseURL, "/")
		p.baseURL = base
	}
	// The app type picks both endpoints; --authorize-url and --token-url override one each.
	authorizeURL, tokenURL, err := auth.Endpoints(p.appType, base)
	if err != nil {
		return nil, fmt.Errorf("--app-type: %w", err)
	}
	p.app.TokenURL = tokenURL
	if a.tokenURL != "" {
		p.app.TokenURL, p.tokenURLSet = a.tokenURL, true
	}
	if _, err := netpolicy.CheckURL("token URL", p.app.TokenURL); err != nil {
		return nil, err
	}
	if p.authorizeURL == "" {
		p.authorizeURL = authorizeURL
	}
	if p.redirect == "" {
		p.redirect = defaultRedirectURI
	}
	u, err := url.Parse(p.redirect)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("--redirect-uri %q is not an absolute URL such as %s", p.redirect, defaultRedirectURI)
	}
	p.redirectURL = u
	if p.output == "" {
		p.output = defaultAuthOutput
	}
	if p.consentURL, err = p.app.AuthorizeURL(p.authorizeURL, p.redirect, p.state); err != nil {
		return nil, err
	}
	return p, nil
}

// printConsent tells the user, on stderr, where to give consent; stdout carries only Airbyte messages.
func (r *run) printConsent(p *authPlan, next string) {
	fmt.Fprintf(r.env.Stderr, "To let source-oura read your Oura data, open this address in a browser, sign in to Oura "+
		"and allow access:\n\n    %s\n\n%s\n", p.consentURL, next)
	if r.env.OpenBrowser != nil {
		r.env.OpenBrowser(p.consentURL)
	}
}

// callback is what the browser brought back to the redirect listener.
type callback struct {
	code string
	err  error
}

// redirectedCode waits for the browser to come back to the loopback redirect URI with the code.
func (r *run) redirectedCode(ctx context.Context, p *authPlan) (string, error) {
	u := p.redirectURL
	if u.Scheme != "http" || !netpolicy.IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("the redirect URI %s is not an http address on this computer, so the code cannot be "+
			"received here; add --paste to paste it instead", p.redirect)
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	lns, err := listenRedirect(u.Hostname(), port)
	if err != nil {
		return "", err
	}
	results := make(chan callback, 1)
	srv := &http.Server{Handler: callbackHandler(p, results), ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range lns {
		go func() { _ = srv.Serve(ln) }()
	}
	defer func() {
		// Shutdown lets the browser's page finish loading.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	r.printConsent(p, fmt.Sprintf("Waiting for Oura to send your browser back to %s (Ctrl-C to stop) …", p.redirect))
	timer := time.NewTimer(consentWait)
	defer timer.Stop()
	select {
	case cb := <-results:
		return cb.code, cb.err
	case <-ctx.Done():
		return "", fmt.Errorf("stopped while waiting for the browser: %w", ctx.Err())
	case <-timer.C:
		return "", fmt.Errorf("the browser did not come back within %s; run the command again", consentWait)
	}
}

// listenRedirect listens for the browser's redirect on host:port. For localhost that is every
// loopback address the browser may resolve it to (browsers map localhost to 127.0.0.1 and ::1
// themselves): a port held by another program on either address could receive the code and the
// state, so the command refuses instead of listening on the other one. ::1 is skipped only when
// the system has no IPv6 loopback, where no browser can connect to it either.
func listenRedirect(host, port string) ([]net.Listener, error) {
	hosts := []string{host}
	if strings.EqualFold(host, "localhost") {
		hosts = []string{"127.0.0.1", "::1"}
	}
	var lns []net.Listener
	for _, h := range hosts {
		addr := net.JoinHostPort(h, port)
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			lns = append(lns, ln)
			continue
		}
		if h == "::1" && len(hosts) > 1 && noIPv6(err) {
			continue
		}
		for _, l := range lns {
			_ = l.Close()
		}
		why := "stop what uses that port"
		if errors.Is(err, syscall.EADDRINUSE) {
			why = "another program listens there and would receive the code meant for this command; stop it"
		}
		return nil, fmt.Errorf("cannot receive the redirect of %s on %s (%v): %s, or register another redirect URI "+
			"with your Oura app and pass it with --redirect-uri, or add --paste", host, addr, err, why)
	}
	return lns, nil
}

// noIPv6 reports a listen error that means the system has no IPv6 loopback.
func noIPv6(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT) ||
		errors.Is(err, syscall.EPROTONOSUPPORT)
}

// callbackHandler serves the redirect URI. An answer with the wrong state did not come from the
// consent this run started (a stale tab, or a forged request): it is refused and waiting goes on.
func callbackHandler(p *authPlan, results chan<- callback) http.Handler {
	path := p.redirectURL.Path
	if path == "" {
		path = "/"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if req.URL.Path != path {
			http.NotFound(w, req)
			return
		}
		q := req.URL.Query()
		if q.Get("state") != p.state {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "This answer does not belong to the sign-in that source-oura auth is waiting for. "+
				"Open the address the command printed and try again.\n")
			return
		}
		cb := callbackFrom(q)
		if cb.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, "Oura did not grant access: "+cb.err.Error()+"\nYou can close this tab.\n")
		} else {
			_, _ = io.WriteString(w, "Oura access granted. You can close this tab and go back to the terminal.\n")
		}
		select {
		case results <- cb:
		default: // an answer is already waiting
		}
	})
}

// callbackFrom reads the code, or the refusal, from the redirect's query.
func callbackFrom(q url.Values) callback {
	if e := q.Get("error"); e != "" {
		msg := e
		if d := q.Get("error_description"); d != "" {
			msg += ": " + d
		}
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return callback{err: fmt.Errorf("the consent page answered %q; run the command again and allow access", msg)}
	}
	if q.Get("code") == "" {
		return callback{err: errors.New("the redirect carries no code")}
	}
	return callback{code: q.Get("code")}
}

// pastedCode reads the code from stdin: the whole address the browser was sent to, its query, or
// the bare code.
func (r *run) pastedCode(p *authPlan) (string, error) {
	if r.env.Stdin == nil {
		return "", errors.New("--paste reads the code from standard input, which is not available")
	}
	r.printConsent(p, fmt.Sprintf("Oura then sends your browser to %s?code=… — that page may not load, which is fine. "+
		"Copy the whole address from the address bar (or only the code), paste it here and press Enter:", p.redirect))
	line, err := bufio.NewReader(r.env.Stdin).ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return "", fmt.Errorf("reading the pasted code: %w", err)
	}
	s := strings.TrimSpace(line)
	if s == "" {
		return "", errors.New("nothing was pasted")
	}
	query := ""
	if _, after, ok := strings.Cut(s, "?"); ok {
		query = after
	} else if strings.Contains(s, "code=") || strings.Contains(s, "error=") {
		query = s
	}
	if query == "" {
		return s, nil // a bare code
	}
	query, _, _ = strings.Cut(query, "#")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("the pasted address cannot be read: %w", err)
	}
	if st := q.Get("state"); st != "" && st != p.state {
		return "", errors.New("the pasted address belongs to another sign-in (its state differs); use the address this run printed")
	}
	cb := callbackFrom(q)
	return cb.code, cb.err
}

// writeAuthConfig writes the credentials into the output file: a new file with mode 0600, or, if
// it exists, the same file with its credentials replaced and every other setting kept.
func writeAuthConfig(p *authPlan, t auth.Tokens) error {
	creds := []auth.Member{
		{Key: "auth_type", Value: config.AuthOAuth},
		{Key: "client_id", Value: p.app.ClientID},
		{Key: "client_secret", Value: p.app.ClientSecret},
		{Key: "refresh_token", Value: t.RefreshToken},
		{Key: "access_token", Value: t.AccessToken},
		// Refreshes must go where this app's tokens come from.
		{Key: "oauth_app_type", Value: p.appType},
	}
	drop := []string{"api_key"} // a personal access token left from the other credentials variant
	if t.Expiry.IsZero() {
		drop = append(drop, "token_expiry_date")
	} else {
		creds = append(creds, auth.Member{Key: "token_expiry_date", Value: t.Expiry.UTC().Format(time.RFC3339)})
	}
	if p.tokenURLSet {
		creds = append(creds, auth.Member{Key: "token_url", Value: p.app.TokenURL})
	}
	var top []auth.Member
	if p.baseURL != "" {
		top = append(top, auth.Member{Key: "base_url", Value: p.baseURL})
	}

	doc := []byte("{\n}\n")
	existing, err := os.ReadFile(p.output)
	switch {
	case err == nil && len(strings.TrimSpace(string(existing))) > 0:
		doc = existing
	case err == nil, errors.Is(err, fs.ErrNotExist):
	default:
		return fmt.Errorf("reading %s: %w", p.output, err)
	}
	doc, err = auth.SetMembers(doc, []string{"credentials"}, creds, drop...)
	if err == nil {
		// The legacy top-level api_key cannot stand beside credentials.
		doc, err = auth.SetMembers(doc, nil, top, "api_key")
	}
	if err != nil {
		return fmt.Errorf("%s exists but cannot be updated (%w); pass another --output", p.output, err)
	}
	if err := auth.WriteFile(p.output, doc, 0o600); err != nil {
		return fmt.Errorf("the tokens could not be saved, and the authorization must be done again: %w", err)
	}
	return nil
}

// authAccount reads the account id with the new access token, to name it in the final message.
// Failing is fine: the token may lack the personal scope.
func (r *run) authAccount(ctx context.Context, p *authPlan, t auth.Tokens) string {
	base := p.baseURL
	if base == "" {
		base = config.DefaultBaseURL
	}
	client, err := r.client(&config.Config{BaseURL: base, RequestsPer5Min: config.DefaultRequestsPer5Min,
		Auth: config.Auth{Kind: config.AuthAPIKey, APIKey: t.AccessToken}}, true)
	if err != nil {
		return ""
	}
	id, err := accountID(ctx, client)
	if err != nil {
		r.log.Debug().Msgf("the new token cannot read the account id: %v", err)
		return ""
	}
	return id
}
