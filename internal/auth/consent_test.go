package auth

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadPastedEndsWhenCancelled: auth --paste waiting on a stdin that never sends (a pipe from
// `sleep`, a terminal nobody types in) must give up as soon as the command is cancelled, because
// main's signal handling has taken over Ctrl-C and SIGTERM: a bare read kept the process alive.
func TestReadPastedEndsWhenCancelled(t *testing.T) {
	c, err := NewConsent(ConsentOptions{ClientID: clientID, ClientSecret: clientSecret}, "https://api.ouraring.com")
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe() // never written to
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	announced := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := c.ReadPasted(ctx, pr, func(string) { close(announced) })
		done <- err
	}()
	<-announced
	time.Sleep(20 * time.Millisecond) // into the read
	cancel()
	start := time.Now()
	select {
	case err = <-done:
	case <-time.After(time.Second):
		t.Fatal("ReadPasted still waiting 1 s after its context was cancelled")
	}
	t.Logf("returned %v after the cancel", time.Since(start).Round(time.Microsecond))
	if !errors.Is(err, ErrCancelled) || !strings.Contains(err.Error(), "pasted code") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %v; want one line saying the wait for the pasted code was cancelled", err)
	}
	// A context already done does not start a read at all.
	if _, err := c.ReadPasted(ctx, strings.NewReader("code-1\n"), func(string) {}); !errors.Is(err, ErrCancelled) {
		t.Errorf("already cancelled: err = %v, want ErrCancelled", err)
	}
	// What is pasted in time is still read.
	if code, err := c.ReadPasted(context.Background(), strings.NewReader("code-1\n"), func(string) {}); err != nil || code != "code-1" {
		t.Errorf("pasted code-1: got %q, %v", code, err)
	}
}

// newConsentTo builds a consent flow writing to output, as the auth command does before it asks
// for anything.
func newConsentTo(output string) (*Consent, error) {
	return NewConsent(ConsentOptions{ClientID: clientID, Output: output}, "https://api.ouraring.com")
}

// listDir names the entries of dir, to see that a check left nothing behind.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestConsentRefusesAnUnusableOutputUpFront: NewConsent, which runs before the consent page is
// shown or a code exchanged, refuses every --output the config could not be written to, with one
// line naming --output and what to do, without blocking and without changing anything.
func TestConsentRefusesAnUnusableOutputUpFront(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	big := write("big.json", "", 0o600)
	if err := os.Truncate(big, maxConfigFileSize+1); err != nil {
		t.Fatal(err)
	}
	aFile := write("plain.txt", "x", 0o600)
	for _, tc := range []struct {
		name, output string
		want         []string
	}{
		{"a folder", dir, []string{"is a folder", filepath.Join(dir, DefaultOutput)}},
		{"a FIFO", fifo, []string{"not a regular file", "name a regular file"}},
		{"in a missing folder", filepath.Join(dir, "missing", "c.json"), []string{"does not exist", "mkdir -p " + filepath.Join(dir, "missing")}},
		{"inside a file", filepath.Join(aFile, "c.json"), []string{"not a folder"}},
		{"read-only", write("ro.json", "{}", 0o400), []string{"read-only (mode 0400)", "chmod 600"}},
		{"not JSON", write("notes.json", "api_key=abc", 0o600), []string{"not a JSON config", "not valid JSON"}},
		{"a JSON array", write("array.json", "[1, 2]", 0o600), []string{"not a JSON config", "not a JSON object"}},
		{"too large", big, []string{"cannot be read", "larger than 16 MiB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := listDir(t, dir)
			done := make(chan error, 1)
			go func() {
				_, err := newConsentTo(tc.output)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("NewConsent blocked on the --output check")
			}
			if err == nil || !strings.HasPrefix(err.Error(), "--output "+tc.output) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v; want one line starting with --output %s", err, tc.output)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v; want it to say %q", err, w)
				}
			}
			if after := listDir(t, dir); !slices.Equal(after, before) {
				t.Errorf("the check changed the folder: %q, was %q", after, before)
			}
		})
	}
}

// TestConsentRefusesAFolderWhereNoFileCanBeCreated acts out a folder this user cannot write
// (tests run as root, who can write any folder): the check must try to create a file there,
// as the write will, and refuse before anything is spent.
func TestConsentRefusesAFolderWhereNoFileCanBeCreated(t *testing.T) {
	dir := t.TempDir()
	createTemp = func(string, string) (*os.File, error) {
		return nil, &os.PathError{Op: "open", Path: filepath.Join(dir, ".x.tmp"), Err: syscall.EACCES}
	}
	t.Cleanup(func() { createTemp = os.CreateTemp })
	out := filepath.Join(dir, "config.json")
	_, err := newConsentTo(out)
	if err == nil || !strings.Contains(err.Error(), "--output "+out) || !strings.Contains(err.Error(), "no file can be created in the folder "+dir) ||
		!strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("err = %v; want --output refused because no file can be created in %s", err, dir)
	}
}

// TestConsentAcceptsAWritableOutputAndLeavesItAlone: a new file in a writable folder, an empty
// file and an existing config pass the check, which leaves each folder and file as it was.
func TestConsentAcceptsAWritableOutputAndLeavesItAlone(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "config.json")
	doc := "{\n  \"start_datetime\": \"2024-01-01\",\n  \"credentials\": \"replaced by auth\"\n}\n"
	if err := os.WriteFile(existing, []byte(doc), 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(existing, old, old); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	before := listDir(t, dir)
	for _, out := range []string{filepath.Join(dir, "new.json"), existing, empty} {
		c, err := newConsentTo(out)
		if err != nil {
			t.Fatalf("--output %s: %v", out, err)
		}
		if c.Output != out {
			t.Errorf("Output = %q, want %q", c.Output, out)
		}
	}
	if after := listDir(t, dir); !slices.Equal(after, before) {
		t.Errorf("the check changed the folder: %q, was %q", after, before)
	}
	info, err := os.Stat(existing)
	got, _ := os.ReadFile(existing)
	if err != nil || string(got) != doc || !info.ModTime().Equal(old) || info.Mode().Perm() != 0o640 {
		t.Errorf("the existing config was touched: %v, mode %v, mtime %v\n%s", err, info.Mode(), info.ModTime(), got)
	}
	// The default output is config.json in the working folder, checked the same way.
	t.Chdir(t.TempDir())
	if err := os.Mkdir(DefaultOutput, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := newConsentTo(""); err == nil || !strings.HasPrefix(err.Error(), "--output "+DefaultOutput+" is a folder") {
		t.Errorf("default output that is a folder: err = %v", err)
	}
}

// TestConsentErrorsNameFlagsOnlyForTheAuthCommand: one Error type serves the auth command and
// read/check. A refused client or token URL names the config fields for a config file, and the
// flags (and where the secret came from) when the auth command set SecretFrom.
func TestConsentErrorsNameFlagsOnlyForTheAuthCommand(t *testing.T) {
	for _, tc := range []struct {
		name       string
		kind       Kind
		secretFrom string
		want       string
		notWant    string
	}{
		{"client, config", BadClient, "", "check credentials.client_id and credentials.client_secret against", "--client-id"},
		{"client, auth", BadClient, "OURA_CLIENT_SECRET", "check --client-id and the client secret (OURA_CLIENT_SECRET) against", "credentials."},
		{"token URL, config", Refused, "", "check credentials.token_url (default: the base URL + /oauth/token;", "--token-url"},
		{"token URL, auth", Refused, "typed at the prompt", "check --token-url and --app-type", "credentials."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Error{Kind: tc.kind, Grant: grantCode, TokenURL: "https://api.ouraring.com/oauth/token", Status: 401,
				Code: "invalid_client", SecretFrom: tc.secretFrom}
			msg := e.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, tc.notWant) || strings.Contains(msg, "\n") {
				t.Errorf("%s\nwant one line with %q and without %q", msg, tc.want, tc.notWant)
			}
		})
	}
}
