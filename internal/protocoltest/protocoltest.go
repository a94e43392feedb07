// Package protocoltest checks connector output against Airbyte's official message schema,
// airbyte_protocol.yaml, read from ../shared/reference when it is present (CI=true makes its
// absence a failure), and holds the other helpers tests share: building the binary once,
// running a command and decoding its messages. Only tests import it, so it never ships in the
// binary.
package protocoltest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// ReadSharedReference returns the contents of a file in ../shared/reference, skipping (or
// failing under CI=true) as SharedReference does when it is absent.
func ReadSharedReference(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(SharedReference(t, name))
	if err != nil {
		t.Fatalf("reading ../shared/reference/%s: %v", name, err)
	}
	return data
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
