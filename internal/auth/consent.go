package auth

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
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"source-oura/internal/netpolicy"
	"source-oura/protocol"
)

// The consent flow's defaults.
const (
	// DefaultRedirectURI must be registered, exactly, with the user's Oura application.
	DefaultRedirectURI = "http://localhost:8787/callback"
	// DefaultOutput is the config file the consent flow writes when no other is named.
	DefaultOutput = "config.json"
	// ConsentWait is how long WaitForRedirect waits for the browser to come back.
	ConsentWait = 10 * time.Minute
)

// ConsentOptions are the choices of one consent flow; empty fields take the defaults. The field
// names match the auth command's flags, which the error messages name.
type ConsentOptions struct {
	ClientID string
	// ClientSecret may be left empty and given later with SetClientSecret: the auth command asks
	// for it only once every flag has been checked.
	ClientSecret string
	AppType      string // AppCloud (default) or AppDeveloperPortal
	BaseURL      string // the data API; "" for Oura's own (defaultBase)
	AuthorizeURL string // overrides the app type's consent page
	TokenURL     string // overrides the app type's token endpoint
	RedirectURI  string
	Output       string
	HTTPClient   *http.Client
	Now          func() time.Time
}

// Consent is one checked run of the OAuth authorization-code flow for people who run the connector
// without Airbyte: the consent URL, the code that comes back (by a loopback redirect or pasted), the
// exchange and the config file written from it. The command line is only a thin verb around it.
type Consent struct {
	// App is the OAuth app, with the token endpoint the code is exchanged at.
	App App
	// AppType is AppCloud or AppDeveloperPortal.
	AppType string
	// BaseURL is the data API given by the user, "" when it is Oura's own.
	BaseURL string
	// Redirect is the redirect URI the code is requested with.
	Redirect string
	// Output is the config file written.
	Output string
	// URL is the consent page address the user opens.
	URL string
	// FromOutput names the settings taken from the existing Output file because no flag gave them
	// (base_url, credentials.token_url, credentials.oauth_app_type), for the command to report.
	FromOutput []string

	tokenURLSet  bool
	secretFrom   string
	authorizeURL string
	redirectURL  *url.URL
	state        string
}

// NewConsent checks the options and builds the consent URL, with a fresh random state.
// defaultBase is the data API used when o.BaseURL is empty. Every error it returns is about one
// of the options, named as the auth command's flag, and comes before anything is asked, shown
// or spent: the output file is checked here too (see checkOutput).
func NewConsent(o ConsentOptions, defaultBase string) (*Consent, error) {
	c := &Consent{
		App:          App{ClientID: o.ClientID, ClientSecret: o.ClientSecret, HTTPClient: o.HTTPClient, Now: o.Now},
		AppType:      o.AppType,
		authorizeURL: o.AuthorizeURL,
		Redirect:     o.RedirectURI,
		Output:       o.Output,
		state:        rand.Text(),
	}
	if strings.TrimSpace(o.ClientID) == "" {
		return nil, errors.New("--client-id must not be empty; copy the client id from your Oura API application")
	}
	output := o.Output
	if output == "" {
		output = DefaultOutput
	}
	from := outputSettings(output, &o)
	c.AppType, c.FromOutput = o.AppType, from
	if c.AppType == "" {
		c.AppType = AppCloud
	}
	base := defaultBase
	if o.BaseURL != "" {
		if _, err := netpolicy.CheckURL("base URL", o.BaseURL); err != nil {
			if slices.Contains(from, "base_url") {
				return nil, fmt.Errorf("base_url in --output %s: %w; fix it there or pass --base-url", output, err)
			}
			return nil, err
		}
		base = strings.TrimRight(o.BaseURL, "/")
		c.BaseURL = base
	}
	// The app type picks both endpoints; --authorize-url and --token-url override one each.
	authorizeURL, tokenURL, err := Endpoints(c.AppType, base)
	if err != nil {
		return nil, fmt.Errorf("--app-type: %w", err)
	}
	c.App.TokenURL = tokenURL
	if o.TokenURL != "" {
		c.App.TokenURL, c.tokenURLSet = o.TokenURL, true
	}
	if _, err := netpolicy.CheckURL("token URL", c.App.TokenURL); err != nil {
		return nil, err
	}
	if c.authorizeURL == "" {
		c.authorizeURL = authorizeURL
	}
	if c.Redirect == "" {
		c.Redirect = DefaultRedirectURI
	}
	u, err := url.Parse(c.Redirect)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("--redirect-uri %q is not an absolute URL such as %s", c.Redirect, DefaultRedirectURI)
	}
	c.redirectURL = u
	if c.Output == "" {
		c.Output = DefaultOutput
	}
	if err := c.checkOutput(); err != nil {
		return nil, err
	}
	if c.URL, err = c.App.AuthorizeURL(c.authorizeURL, c.Redirect, c.state); err != nil {
		return nil, err
	}
	return c, nil
}

// outputSettings fills the endpoints that no flag gave (o.BaseURL, o.TokenURL, o.AppType) from the
// existing config file at output, so that new tokens are asked from the service that file already
// talks to, and returns the names of the settings it took. A file that is missing or cannot be
// read gives nothing: checkOutput reports what is wrong with it.
func outputSettings(output string, o *ConsentOptions) []string {
	if o.BaseURL != "" && o.TokenURL != "" && o.AppType != "" {
		return nil
	}
	data, _, err := readConfigFile(output)
	if err != nil {
		return nil
	}
	var doc struct {
		BaseURL     string `json:"base_url"`
		Credentials struct {
			TokenURL string `json:"token_url"`
			AppType  string `json:"oauth_app_type"`
		} `json:"credentials"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	var from []string
	for _, f := range []struct {
		name      string
		file      string
		flagValue *string
	}{
		{"base_url", doc.BaseURL, &o.BaseURL},
		{"credentials.token_url", doc.Credentials.TokenURL, &o.TokenURL},
		{"credentials.oauth_app_type", doc.Credentials.AppType, &o.AppType},
	} {
		if v := strings.TrimSpace(f.file); v != "" && *f.flagValue == "" {
			*f.flagValue = v
			from = append(from, f.name)
		}
	}
	return from
}

// SetClientSecret gives the flow its client secret, which the auth command asks for only after
// NewConsent has checked every flag. from says where the secret came from (the environment
// variable, the prompt, the flag): a refused client is then explained in those terms rather
// than with the config fields that read and check name.
func (c *Consent) SetClientSecret(secret, from string) error {
	if strings.TrimSpace(secret) == "" {
		return fmt.Errorf("the client secret (%s) is empty; copy it from your Oura API application", from)
	}
	c.App.ClientSecret, c.secretFrom = secret, from
	return nil
}

// Exchange trades the code for tokens. A cloud app refused at the classic endpoint gets the advice
// to try the developer portal's, where apps of the newer portal were reported to belong.
func (c *Consent) Exchange(ctx context.Context, code string) (Tokens, error) {
	tokens, err := c.App.Exchange(ctx, code, c.Redirect)
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			ae.SecretFrom = c.secretFrom
			if ae.SecretFrom == "" {
				ae.SecretFrom = "--client-secret"
			}
		}
		if c.AppType == AppCloud && !c.tokenURLSet && errors.As(err, &ae) && !ae.Transient() && ae.Code != "invalid_grant" {
			err = fmt.Errorf("%w; if your Oura app was made on the newer developer portal (developer.ouraring.com), "+
				"run the command again with --app-type %s", err, AppDeveloperPortal)
		}
		return Tokens{}, err
	}
	return tokens, nil
}

// callback is what the browser brought back to the redirect listener.
type callback struct {
	code string
	err  error
}

// WaitForRedirect waits for the browser to come back to the loopback redirect URI with the code.
// announce is called once the listener is up, with the line to show the user.
func (c *Consent) WaitForRedirect(ctx context.Context, announce func(next string)) (string, error) {
	u := c.redirectURL
	if u.Scheme != "http" || !netpolicy.IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("the redirect URI %s is not an http address on this computer, so the code cannot be "+
			"received here; add --paste to paste it instead", c.Redirect)
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
	srv := &http.Server{Handler: c.callbackHandler(results), ReadHeaderTimeout: 10 * time.Second}
	for _, ln := range lns {
		go func() { _ = srv.Serve(ln) }()
	}
	defer func() {
		// Shutdown lets the browser's page finish loading.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	announce(fmt.Sprintf("Waiting for Oura to send your browser back to %s (Ctrl-C to stop) …", c.Redirect))
	timer := time.NewTimer(ConsentWait)
	defer timer.Stop()
	select {
	case cb := <-results:
		return cb.code, cb.err
	case <-ctx.Done():
		return "", fmt.Errorf("stopped while waiting for the browser: %w", ctx.Err())
	case <-timer.C:
		return "", fmt.Errorf("the browser did not come back within %s; run the command again", ConsentWait)
	}
}

// listenRedirect listens for the browser's redirect on host:port. For localhost that is every
// loopback address the browser may resolve it to (browsers map localhost to 127.0.0.1 and ::1
// themselves): a port held by another program on either address could receive the code and the
// state, so the flow refuses instead of listening on the other one. ::1 is skipped only when
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
func (c *Consent) callbackHandler(results chan<- callback) http.Handler {
	path := c.redirectURL.Path
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
		if q.Get("state") != c.state {
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

// ReadPasted reads the code from in: the whole address the browser was sent to, its query, or the
// bare code. announce is called first, with the line to show the user. It returns as soon as ctx
// is done (Ctrl-C, SIGTERM), even though nothing was pasted.
func (c *Consent) ReadPasted(ctx context.Context, in io.Reader, announce func(next string)) (string, error) {
	if in == nil {
		return "", errors.New("--paste reads the code from standard input, which is not available")
	}
	announce(fmt.Sprintf("Oura then sends your browser to %s?code=… — that page may not load, which is fine. "+
		"Copy the whole address from the address bar (or only the code), paste it here and press Enter:", c.Redirect))
	// One line, bounded: a code is short, and stdin may be anything.
	line, err := Interruptible(ctx, "the pasted code", func() (string, error) {
		return bufio.NewReader(io.LimitReader(in, maxPasted)).ReadString('\n')
	})
	if errors.Is(err, ErrCancelled) {
		return "", err
	}
	if errors.Is(err, io.EOF) && strings.TrimSpace(line) == "" {
		return "", errors.New("stdin closed before a code was pasted; paste the code from the consent page, or use --code")
	}
	if err != nil && !errors.Is(err, io.EOF) {
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
	if st := q.Get("state"); st != "" && st != c.state {
		return "", errors.New("the pasted address belongs to another sign-in (its state differs); use the address this run printed")
	}
	cb := callbackFrom(q)
	return cb.code, cb.err
}

// ErrCancelled is returned by Interruptible when its context ends first.
var ErrCancelled = errors.New("cancelled")

// Interruptible returns what read returns, or ErrCancelled, naming what was awaited, as soon as
// ctx is done. A read from a terminal or a pipe cannot be interrupted in Go, and main's
// signal.NotifyContext has turned off the exit on Ctrl-C and SIGTERM, so a bare read would keep
// the process alive until someone types. The read goes on in its goroutine, which leaks until
// the process exits: that is what a cancelled command does next, and the buffered channel lets
// the goroutine end should the read return first.
func Interruptible[T any](ctx context.Context, what string, read func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	var zero T
	if ctx.Err() != nil {
		return zero, fmt.Errorf("%w while waiting for %s", ErrCancelled, what)
	}
	done := make(chan result, 1)
	go func() {
		v, err := read()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		return zero, fmt.Errorf("%w while waiting for %s", ErrCancelled, what)
	}
}

// maxPasted bounds the pasted line: an address with a code is well under 1 KiB.
const maxPasted = 64 << 10

// WriteConfig writes the credentials into c.Output: a new file with mode 0600, or, if it exists,
// the same file with its credentials replaced and every other setting kept. authOAuth is the
// config's name for the OAuth credentials variant.
func (c *Consent) WriteConfig(t Tokens, authOAuth string) error {
	existing, _, err := readConfigFile(c.Output)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
	default:
		return fmt.Errorf("reading %s: %w", c.Output, err)
	}
	doc, err := c.configDoc(existing, t, authOAuth)
	if err != nil {
		return fmt.Errorf("%s exists but cannot be updated (%w); pass another --output", c.Output, err)
	}
	if err := WriteFile(c.Output, doc, 0o600); err != nil {
		return fmt.Errorf("the tokens could not be saved, and the authorization must be done again: %w", err)
	}
	return nil
}

// configDoc returns the config document existing (empty for a new file) with the credentials
// and base URL of this flow in it. checkOutput runs it on the file before anything is spent,
// so that WriteConfig cannot fail here afterwards unless the file changes meanwhile.
func (c *Consent) configDoc(existing []byte, t Tokens, authOAuth string) ([]byte, error) {
	creds := []Member{
		{Key: "auth_type", Value: authOAuth},
		{Key: "client_id", Value: c.App.ClientID},
		{Key: "client_secret", Value: c.App.ClientSecret},
		{Key: "refresh_token", Value: t.RefreshToken},
		{Key: "access_token", Value: t.AccessToken},
		// Refreshes must go where this app's tokens come from.
		{Key: "oauth_app_type", Value: c.AppType},
	}
	drop := []string{"api_key"} // a personal access token left from the other credentials variant
	if t.Expiry.IsZero() {
		drop = append(drop, "token_expiry_date")
	} else {
		creds = append(creds, Member{Key: "token_expiry_date", Value: t.Expiry.UTC().Format(time.RFC3339)})
	}
	if c.tokenURLSet {
		creds = append(creds, Member{Key: "token_url", Value: c.App.TokenURL})
	}
	var top []Member
	if c.BaseURL != "" {
		top = append(top, Member{Key: "base_url", Value: c.BaseURL})
	}
	doc := existing
	if len(strings.TrimSpace(string(doc))) == 0 {
		doc = []byte("{\n}\n")
	}
	doc, err := SetMembers(doc, []string{"credentials"}, creds, drop...)
	if err != nil {
		return nil, err
	}
	// The legacy top-level api_key cannot stand beside credentials.
	return SetMembers(doc, nil, top, "api_key")
}

// checkOutput makes sure the config file can be written before anything is spent: the
// authorization code works once, so a --output found unusable after the exchange would mean
// signing in again. It refuses a folder or any file that is not regular, a missing folder
// (none is created), a folder where no file can be created, and an existing file that is marked
// read-only, cannot be read or written, or is not a JSON object the credentials can be put in.
// An existing file is read as WriteConfig reads it: bounded, and without blocking on a FIFO.
// Each probe leaves nothing behind.
func (c *Consent) checkOutput() error {
	path := c.Output
	fail := func(format string, a ...any) error {
		return fmt.Errorf("--output %s "+format, append([]any{path}, a...)...)
	}
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return checkFolder(path)
	case errors.Is(err, syscall.ENOTDIR):
		return fail("is inside a file, not a folder; name a file in an existing folder")
	case err != nil:
		return fail("cannot be checked (%v); name a file this user can read and write", protocol.UnwrapPath(err))
	case info.IsDir():
		return fail("is a folder; name a file in it, such as %s", filepath.Join(path, DefaultOutput))
	case !info.Mode().IsRegular():
		return fail("is not a regular file (%s); name a regular file, or one that does not exist yet", info.Mode().Type())
	case info.Mode().Perm()&0o200 == 0:
		// WriteFile keeps its hands off such a file even where it could write it (as root).
		return fail("is marked read-only (mode %04o); make it writable (chmod 600 %s) or name another file",
			info.Mode().Perm(), path)
	}
	doc, _, err := readConfigFile(path)
	if err != nil {
		return fail("cannot be read (%v); make it readable by this user or name another file", protocol.UnwrapPath(err))
	}
	if _, err := c.configDoc(doc, Tokens{}, ""); err != nil {
		return fail("exists but is not a JSON config (%v); fix it, or name a file that does not exist yet", err)
	}
	// A file that can be written can always be rewritten in place (WriteFile's fallback when the
	// folder refuses a new file). Opening it for writing changes neither its content nor its times.
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fail("cannot be written (%v); make it writable by this user or name another file", protocol.UnwrapPath(err))
	}
	return f.Close()
}

// checkFolder checks that a file can be created where the config file path will be written,
// by creating and removing a temporary file there, as WriteFile's atomic write will.
func checkFolder(path string) error {
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--output %s: the folder %s does not exist; create it first (mkdir -p %s) or name a file "+
			"in an existing folder", path, dir, dir)
	case err == nil && !info.IsDir(), errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("--output %s: %s is not a folder; name a file in an existing folder", path, dir)
	case err != nil:
		return fmt.Errorf("--output %s: the folder %s cannot be checked (%v); name a file in a folder this user can write",
			path, dir, protocol.UnwrapPath(err))
	}
	tmp, err := createTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("--output %s: no file can be created in the folder %s (%v); name a file in a folder this "+
			"user can write", path, dir, protocol.UnwrapPath(err))
	}
	name := tmp.Name()
	_ = tmp.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("--output %s: the test file %s could not be removed (%v); remove it and name a file in "+
			"a folder this user can write", path, name, protocol.UnwrapPath(err))
	}
	return nil
}
