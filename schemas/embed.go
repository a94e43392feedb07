// Package schemas holds the JSON schema of every source-oura stream, one
// <stream>.json file per stream, compiled into the binary so that discover
// needs nothing on disk.
//
// The files are written by hand from Oura's OpenAPI models and kept lenient on
// purpose: no required keys, additionalProperties left open and enumerations
// described in prose instead of an enum keyword, because Oura omits keys and
// adds values over time and a record must never fail validation for that.
//
// The record Validator (validate.go) lives here too, next to the files it compiles, so that
// streams/ holds only the stream table and the one reader.
package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

//go:embed *.json
var files embed.FS

// UnknownStreamError reports a stream name for which no schema file exists.
type UnknownStreamError struct {
	// Stream is the name that was asked for.
	Stream string
}

// Error names the stream so a user can see which configured stream is wrong.
func (e *UnknownStreamError) Error() string {
	return fmt.Sprintf("no JSON schema for stream %q", e.Stream)
}

// Names returns the name of every stream that has a schema, sorted.
func Names() []string {
	// Reading the root of an embedded FS cannot fail: the directory is fixed at
	// build time and the go:embed pattern guarantees it is not empty.
	entries, _ := fs.ReadDir(files, ".")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	// Sort the bare names: the file order ReadDir gives can differ from it
	// ("a-b.json" sorts before "a.json", but "a" before "a-b").
	slices.Sort(names)
	return names
}

// Get returns the JSON schema of stream, compacted to a single line so it can
// go straight into an AirbyteStream's json_schema (Airbyte wants one message
// per line). Each call returns a fresh copy the caller may modify. An unknown
// stream gives an *UnknownStreamError.
func Get(stream string) (json.RawMessage, error) {
	// Only top-level *.json files are embedded, so a name with a path in it
	// ("../x", "a/b") cannot reach anything and reads as not found too.
	data, err := files.ReadFile(stream + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &UnknownStreamError{Stream: stream}
	}
	if err != nil {
		return nil, fmt.Errorf("reading schema of stream %q: %w", stream, err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, data); err != nil {
		return nil, fmt.Errorf("reading schema of stream %q: %w", stream, err)
	}
	return json.RawMessage(out.Bytes()), nil
}
