// Package protocoltest checks connector output against Airbyte's official message schema,
// airbyte_protocol.yaml, read from ../shared/reference when it is present. Only tests import
// it, so it never ships in the binary.
package protocoltest

import (
	"bufio"
	"bytes"
	"encoding/json"
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
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// SharedReference returns the path of a file in ../shared/reference, or skips the test
// with a message when the folder is not there (the repo builds and tests without it).
func SharedReference(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "..", "shared", "reference", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: %s is not present (it lives in ../shared/reference beside the repo)", name)
	}
	return p
}

// Checker validates AirbyteMessage lines.
type Checker struct {
	schema *jsonschema.Schema
}

// NewChecker loads airbyte_protocol.yaml, or skips the test when it is absent.
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
