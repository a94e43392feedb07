package ouraemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// NewField is a top-level field that Oura added after the OpenAPI document the connector's
// schemas come from: the server adds it to every document of Collection as it serves them
// (list pages, single documents and personal_info alike), so tests can see what discover and
// read do with a field nobody declared.
type NewField struct {
	// Collection is a route name from Collections, e.g. "sleep" or "personal_info".
	Collection string
	// Name is the field's key; it is added at the end of each document.
	Name string
	// Value is the field's JSON value, the same in every document.
	Value json.RawMessage
}

// ParseNewField reads one value of the emulator's --new-field flag, COLLECTION.NAME=JSON, e.g.
// sleep.sleep_regularity=0.82 or personal_info.ring_id="abc". The flag package names the flag
// and the value in front of the error.
func ParseNewField(s string) (NewField, error) {
	target, value, ok := strings.Cut(s, "=")
	coll, name, dot := strings.Cut(target, ".")
	switch {
	case !ok || !dot:
		return NewField{}, errors.New("want COLLECTION.NAME=JSON, e.g. sleep.sleep_regularity=0.82")
	case !slices.Contains(Collections, coll):
		return NewField{}, fmt.Errorf("unknown collection %q; the collections are %s", coll, strings.Join(Collections, ", "))
	case name == "":
		return NewField{}, errors.New("the field name is empty: want COLLECTION.NAME=JSON")
	case !json.Valid([]byte(value)):
		return NewField{}, fmt.Errorf("the value %s is not JSON (quote a string: NAME='\"text\"')", value)
	}
	return NewField{Collection: coll, Name: name, Value: json.RawMessage(value)}, nil
}

// newFieldSuffixes turns the NewField options into the bytes to add before each document's
// closing brace, per collection, fields in name order so that output does not depend on the
// order of the options. A value that is not JSON is served as a JSON string, so that the
// documents stay valid whatever a caller passed.
func newFieldSuffixes(fields []NewField) map[string][]byte {
	if len(fields) == 0 {
		return nil
	}
	sorted := slices.Clone(fields)
	slices.SortStableFunc(sorted, func(a, b NewField) int { return strings.Compare(a.Name, b.Name) })
	out := map[string][]byte{}
	for _, f := range sorted {
		value := []byte(f.Value)
		if !json.Valid(value) {
			value = []byte(strconv.Quote(string(value)))
		}
		name, _ := json.Marshal(f.Name) // a string always encodes
		b := append(out[f.Collection], ',')
		b = append(b, name...)
		b = append(b, ':')
		out[f.Collection] = append(b, value...)
	}
	return out
}

// withNewFields returns doc with the collection's new fields added at its end; doc itself is
// not changed (datasets are shared).
func (s *Server) withNewFields(collection string, doc []byte) []byte {
	suffix := s.newFields[collection]
	end := len(doc) - 1
	if len(suffix) == 0 || end < 1 || doc[end] != '}' {
		return doc
	}
	out := make([]byte, 0, len(doc)+len(suffix))
	out = append(out, doc[:end]...)
	if end == 1 { // {} has no field before the new ones: drop the leading comma
		suffix = suffix[1:]
	}
	out = append(out, suffix...)
	return append(out, '}')
}

// docsWithNewFields returns docs, or a copy whose JSON carries the collection's new fields.
func (s *Server) docsWithNewFields(collection string, docs []Doc) []Doc {
	if len(s.newFields[collection]) == 0 {
		return docs
	}
	out := make([]Doc, len(docs))
	for i, d := range docs {
		d.JSON = s.withNewFields(collection, d.JSON)
		out[i] = d
	}
	return out
}
