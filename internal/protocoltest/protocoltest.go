// Package protocoltest checks connector output against Airbyte's official message schema,
// airbyte_protocol.yaml, read from ../shared/reference when it is present (CI=true makes its
// absence a failure), and holds the other helpers tests share: building the binary once,
// running a command and decoding its messages. Only tests import it, so it never ships in the
// binary.
package protocoltest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"
)

// RepoRoot walks up from the working directory to the folder holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// FindRepoRoot is RepoRoot for a TestMain, which has no testing.TB to fail.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// inCI reports whether the tests run in CI, which always has ../shared beside the clone: there a
// missing reference file is a broken checkout, not a bare clone, and the checks must not skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// SharedReference returns the path of a file in ../shared/reference beside the repository. The
// repo never copies those files, so on a bare clone the test is skipped with one line saying what
// was skipped and how to run it; with CI=true the test fails instead, so CI never skips it.
func SharedReference(t testing.TB, name string) string {
	t.Helper()
	p, err := sharedPath(name)
	if err != nil {
		missingReference(t, name, err)
	}
	return p
}

// ReadSharedReference returns the contents of a file in ../shared/reference, for a loader
// shared by several tests (a sync.OnceValues has no test to skip): each test calls
// SharedReference first, so a missing file skips or fails it before the loader runs.
func ReadSharedReference(name string) ([]byte, error) {
	p, err := sharedPath(name)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(p)
}

// HasSharedReference reports whether ../shared/reference holds name, for a test that runs its
// other checks without it. Under CI=true an absent file fails the test.
func HasSharedReference(t testing.TB, name string) bool {
	t.Helper()
	_, err := sharedPath(name)
	if err != nil && inCI() {
		missingReference(t, name, err)
	}
	return err == nil
}

func sharedPath(name string) (string, error) {
	root, err := FindRepoRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, "..", "shared", "reference", name)
	if _, err := os.Stat(p); err != nil {
		return p, fmt.Errorf("%s is not present", p)
	}
	return p, nil
}

func missingReference(t testing.TB, name string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s: the check against ../shared/reference/%s did not run (%v); "+
		"to run it, clone the repository beside the shared folder that holds reference/%s", t.Name(), name, err, name)
	if inCI() {
		t.Fatalf("CI=true, so this must not be skipped: %s", msg)
	}
	t.Skip("skipped " + msg)
}

// Checker validates AirbyteMessage lines.
type Checker struct {
	schema *jsonschema.Schema
}

// NewChecker loads airbyte_protocol.yaml, or skips the test when it is absent (fails under CI=true).
func NewChecker(t testing.TB) *Checker {
	t.Helper()
	path := SharedReference(t, "airbyte_protocol.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("converting %s to JSON: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	if err := c.AddResource("airbyte_protocol.json", bytes.NewReader(js)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("airbyte_protocol.json#/definitions/AirbyteMessage")
	if err != nil {
		t.Fatalf("compiling AirbyteMessage: %v", err)
	}
	return &Checker{schema: s}
}

// CheckLine validates one output line as an AirbyteMessage.
func (c *Checker) CheckLine(line []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("more than one JSON value on the line")
	}
	if err := c.schema.Validate(v); err != nil {
		return err
	}
	return nil
}

// CheckOutput validates every line of a command's stdout and fails the test on the first bad one.
func (c *Checker) CheckOutput(t testing.TB, stdout []byte) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		if err := c.CheckLine(sc.Bytes()); err != nil {
			t.Fatalf("stdout line %d is not a valid AirbyteMessage: %v\n%s", n, err, truncate(sc.Text()))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func truncate(s string) string {
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return strings.TrimSpace(s)
}

// maxLine bounds one stdout line when decoding: a record holds one Oura document, which the
// connector itself caps well below this.
const maxLine = 64 << 20

// DecodeMessages decodes stdout, one Airbyte message a line, into M: the connector's
// protocol.Message, or a suite's own copy of the message types when it checks the binary from
// outside. Numbers left to `any` stay json.Number. A line that is not JSON or that isMessage
// rejects (say, no type) fails the test, because the platform drops such lines; label names
// the command in that failure.
func DecodeMessages[M any](t testing.TB, label string, stdout []byte, isMessage func(*M) bool) []M {
	t.Helper()
	var out []M
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m M
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil || !isMessage(&m) {
			t.Fatalf("%s: stdout line %d is not an Airbyte message (%v): %s", label, n, err, truncate(sc.Text()))
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: reading stdout: %v", label, err)
	}
	return out
}

// Run is one run of a built binary.
type Run struct {
	Args  []string
	Stdin string
	// Env is added to the test process's environment.
	Env []string
	// Timeout kills the process and fails the test when it is still running; 0 means 2 minutes.
	Timeout time.Duration
}

// Output is what a run printed and how it exited.
type Output struct {
	Code           int
	Stdout, Stderr []byte
}

// RunBinary runs bin as r says and returns its exit code and output. A binary that cannot
// start or outlives r.Timeout fails the test; a non-zero exit is only reported.
func RunBinary(t testing.TB, bin string, r Run) Output {
	t.Helper()
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, r.Args...)
	if r.Env != nil {
		cmd.Env = append(os.Environ(), r.Env...)
	}
	cmd.Stdin = strings.NewReader(r.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v still running after %s; killed\nstdout tail:\n%s", filepath.Base(bin), r.Args, timeout, tail(stdout.Bytes()))
	}
	return Output{Code: ExitCode(t, err), Stdout: stdout.Bytes(), Stderr: stderr.Bytes()}
}

// ExitCode returns the exit code behind the error of a finished exec.Cmd's Run or Wait (0 for
// nil), and fails the test when the command did not run at all.
func ExitCode(t testing.TB, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("running the command: %v", err)
	return 0
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// BuildConnector compiles the repository's main package into dir/source-oura, for a TestMain
// that runs the binary as Airbyte does; extra go build flags (say -ldflags) come first.
func BuildConnector(dir string, flags ...string) (string, error) {
	root, err := FindRepoRoot()
	if err != nil {
		return "", err
	}
	// go test puts its own GOROOT/bin first on the test's PATH, so this is the go that runs
	// the tests; a PATH without go still has GOROOT to say where it is.
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = "go"
		if g := os.Getenv("GOROOT"); g != "" {
			goTool = filepath.Join(g, "bin", "go")
		}
	}
	bin := filepath.Join(dir, "source-oura")
	args := append(append([]string{"build", "-o", bin}, flags...), ".")
	cmd := exec.Command(goTool, args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the connector: %v\n%s", err, out)
	}
	return bin, nil
}

// ClosedLoopbackURL returns http://127.0.0.1:PORT for a port that was free a moment ago and on
// which nothing listens now: a connection is refused at once, and a test may listen there
// itself (a redirect URI).
func ClosedLoopbackURL(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// SyncBuffer is a bytes.Buffer that goroutines (a logger, a child process's output copier)
// may write while the test reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// SecretPiece returns the first 6-byte piece of secret found in text, or "". Six bytes is
// protocol.MinSecretLength: a piece that long left by a cut or an echo is a leak.
func SecretPiece(text, secret string) string {
	const piece = 6
	for i := 0; i+piece <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+piece]) {
			return secret[i : i+piece]
		}
	}
	return ""
}

// Credentials are the OAuth fields of a connector config's credentials object.
type Credentials struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Expiry       string `json:"token_expiry_date"`
	ClientSecret string `json:"client_secret"`
}

// CredentialsOf reads the credentials of a config document: a config file, or the config a
// CONTROL message carries. A document that is not JSON fails the test.
func CredentialsOf(t testing.TB, config []byte) Credentials {
	t.Helper()
	var doc struct {
		Credentials Credentials `json:"credentials"`
	}
	if err := json.Unmarshal(config, &doc); err != nil {
		t.Fatalf("config is not JSON (%v): %.200s", err, config)
	}
	return doc.Credentials
}
