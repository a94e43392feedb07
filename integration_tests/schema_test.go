package integrationtests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// Helpers that walk JSON schemas, shared by the spec and discovery checks.

// schemaNode is one schema met while walking a tree of schemas.
type schemaNode struct {
	path     string         // where it is, for messages, e.g. properties.credentials.oneOf[0]
	name     string         // the property name when reached through properties, else ""
	topLevel bool           // a property of the root schema
	schema   map[string]any // the schema itself
}

// walkSchemas visits root and every schema below it reached through properties, oneOf, anyOf
// and items, in a fixed order.
func walkSchemas(root map[string]any, visit func(schemaNode)) {
	var walk func(n schemaNode, depth int)
	walk = func(n schemaNode, depth int) {
		visit(n)
		if props, ok := n.schema["properties"].(map[string]any); ok {
			for _, name := range sortedKeys(props) {
				if sub, ok := props[name].(map[string]any); ok {
					walk(schemaNode{path: n.path + ".properties." + name, name: name, topLevel: depth == 0, schema: sub}, depth+1)
				}
			}
		}
		for _, kw := range []string{"oneOf", "anyOf"} {
			if variants, ok := n.schema[kw].([]any); ok {
				for i, v := range variants {
					if sub, ok := v.(map[string]any); ok {
						walk(schemaNode{path: fmt.Sprintf("%s.%s[%d]", n.path, kw, i), schema: sub}, depth+1)
					}
				}
			}
		}
		if sub, ok := n.schema["items"].(map[string]any); ok {
			walk(schemaNode{path: n.path + ".items", schema: sub}, depth+1)
		}
	}
	walk(schemaNode{path: "$", schema: root}, 0)
}

// keywordUses lists where key appears as a keyword anywhere in v, leaving out places where it
// is the name of a property (a field called "not" is fine; the keyword is not).
func keywordUses(v any, key string) []string {
	var found []string
	var walk func(v any, path string, underProperties bool)
	walk = func(v any, path string, underProperties bool) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range sortedKeys(x) {
				if k == key && !underProperties {
					found = append(found, path+"."+k)
				}
				walk(x[k], path+"."+k, k == "properties" && !underProperties)
			}
		case []any:
			for i, e := range x {
				walk(e, fmt.Sprintf("%s[%d]", path, i), false)
			}
		}
	}
	walk(v, "$", false)
	return found
}

// typesOf returns a schema's type keyword as a list.
func typesOf(s map[string]any) []string {
	switch t := s["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if str, ok := e.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

func hasType(s map[string]any, want ...string) bool {
	for _, t := range typesOf(s) {
		for _, w := range want {
			if t == w {
				return true
			}
		}
	}
	return false
}

// propertyAt follows path through properties (and, where a level is a oneOf, through any of
// its variants) and reports whether it exists.
func propertyAt(root map[string]any, path []string) bool {
	level := []map[string]any{root}
	for _, key := range path {
		var next []map[string]any
		for _, s := range level {
			for _, cand := range append([]map[string]any{s}, variants(s)...) {
				if props, ok := cand["properties"].(map[string]any); ok {
					if sub, ok := props[key].(map[string]any); ok {
						next = append(next, sub)
					}
				}
			}
		}
		if len(next) == 0 {
			return false
		}
		level = next
	}
	return true
}

func variants(s map[string]any) []map[string]any {
	var out []map[string]any
	for _, kw := range []string{"oneOf", "anyOf"} {
		if list, ok := s[kw].([]any); ok {
			for _, v := range list {
				if m, ok := v.(map[string]any); ok {
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// The acceptance tests check "date-time" their own way, not by RFC 3339: Airbyte schemas use
// that format for local times too (airbyte_type timestamp_without_timezone), such as Oura's
// tag timestamps, which carry no offset. jsonschema.Formats is global, so every schema the
// suite compiles checks date-time this way.
func init() {
	jsonschema.Formats["date-time"] = func(v any) bool {
		s, ok := v.(string)
		if !ok {
			return true // formats apply to strings only
		}
		return isAirbyteDateTime(s)
	}
}

// dateTimeShape is the acceptance tests' pattern for a date-time value.
var dateTimeShape = regexp.MustCompile(`^\d{4}-\d?\d-\d?\d(\s|T)\d?\d:\d?\d:\d?\d(.\d+)?.*$`)

// isAirbyteDateTime reports whether s has the acceptance tests' date-time shape and is a real
// time, with or without an offset.
func isAirbyteDateTime(s string) bool {
	if !dateTimeShape.MatchString(s) {
		return false
	}
	s = strings.Replace(s, " ", "T", 1)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// compileSchema compiles a JSON schema as draft 7, which also checks it against the draft 7
// meta-schema.
func compileSchema(name string, raw []byte) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.AssertFormat = true
	if err := c.AddResource(name, bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("loading schema %s: %w", name, err)
	}
	s, err := c.Compile(name)
	if err != nil {
		return nil, fmt.Errorf("compiling schema %s: %w", name, err)
	}
	return s, nil
}

func toMap(raw []byte) (map[string]any, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object: %s", clip(string(raw), 80))
	}
	return m, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(a, b []byte) (bool, error) {
	va, err := decodeJSON(a)
	if err != nil {
		return false, err
	}
	vb, err := decodeJSON(b)
	if err != nil {
		return false, err
	}
	ca, _ := json.Marshal(va)
	cb, _ := json.Marshal(vb)
	return string(ca) == string(cb), nil
}

// mutation is one deliberate mistake and the rule that must catch it.
type mutation[T any] struct {
	rule   string
	mutate func(T)
}

// rulesCatch checks the checker itself: problems finds nothing in a fresh copy of what (the
// real spec or catalog), and names each case's rule once that case's mistake is made in a
// copy of its own. A rule that lets its mistake through would pass every real check.
func rulesCatch[T any](t *testing.T, what string, fresh func(*testing.T) T, problems func(T) map[string][]string, cases []mutation[T]) {
	t.Helper()
	if clean := problems(fresh(t)); len(clean) != 0 {
		t.Fatalf("%s itself breaks rules: %v", what, clean)
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%d %s", i, c.rule), func(t *testing.T) {
			v := fresh(t)
			c.mutate(v)
			if got := problems(v)[c.rule]; len(got) == 0 {
				t.Errorf("rule %q did not catch the change", c.rule)
			}
		})
	}
}
