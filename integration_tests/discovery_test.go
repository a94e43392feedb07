package integrationtests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestDiscovery runs `discover` and applies the acceptance tests' catalog rules.
func TestDiscovery(t *testing.T) {
	o := runConnector(t, "discover", "--config", configFile(t, nil))
	if o.code != 0 {
		t.Fatalf("discover exited %d\n%s", o.code, o.describe())
	}
	cats := o.of("CATALOG")
	if len(cats) != 1 {
		t.Fatalf("discover printed %d CATALOG messages, want exactly one\n%s", len(cats), o.describe())
	}
	problems := catalogProblems(cats[0].Catalog)
	for _, rule := range catalogRules {
		t.Run(rule, func(t *testing.T) {
			for _, p := range problems[rule] {
				t.Error(p)
			}
		})
	}
	t.Run("every stream of configured_catalog.json", func(t *testing.T) {
		fixture := fixtureCatalog(t, nil)
		got := map[string]stream{}
		for _, s := range cats[0].Catalog.Streams {
			got[s.Name] = s
		}
		if len(fixture.Streams) != len(got) {
			t.Errorf("configured_catalog.json has %d streams, discover %d", len(fixture.Streams), len(got))
		}
		for _, cs := range fixture.Streams {
			d, ok := got[cs.Stream.Name]
			if !ok {
				t.Errorf("configured_catalog.json names %s, which discover does not list", cs.Stream.Name)
				continue
			}
			wantMode := "full_refresh"
			if d.supports("incremental") {
				wantMode = "incremental"
			}
			if cs.SyncMode != wantMode {
				t.Errorf("%s: configured_catalog.json syncs it %s; it supports %v, so use %s", d.Name, cs.SyncMode, d.SupportedSyncModes, wantMode)
			}
			if strings.Join(cs.CursorField, ".") != strings.Join(d.DefaultCursorField, ".") {
				t.Errorf("%s: cursor_field %v, discover's default %v", d.Name, cs.CursorField, d.DefaultCursorField)
			}
			if fmt.Sprint(cs.Stream.SourceDefinedPrimaryKey) != fmt.Sprint(d.SourceDefinedPrimaryKey) ||
				fmt.Sprint(cs.Stream.SupportedSyncModes) != fmt.Sprint(d.SupportedSyncModes) {
				t.Errorf("%s: the stream in configured_catalog.json has drifted from discover's", d.Name)
			}
		}
	})
}

// catalogRules names the rule groups catalogProblems reports under.
var catalogRules = []string{"streams", "schemas", "cursors", "primary keys", "sync modes", "keywords", "additionalProperties"}

// catalogProblems applies the acceptance tests' discovery rules to a catalog.
func catalogProblems(cat *catalog) map[string][]string {
	out := map[string][]string{}
	add := func(rule, format string, args ...any) { out[rule] = append(out[rule], fmt.Sprintf(format, args...)) }
	if len(cat.Streams) == 0 {
		add("streams", "the catalog has no streams")
	}
	seen := map[string]bool{}
	for _, s := range cat.Streams {
		if s.Name == "" || seen[s.Name] {
			add("streams", "stream name %q is empty or appears twice", s.Name)
		}
		seen[s.Name] = true

		if _, err := compileSchema(s.Name+".json", s.JSONSchema); err != nil {
			add("schemas", "%s: %v", s.Name, err)
		}
		schema, err := toMap(s.JSONSchema)
		if err != nil {
			add("schemas", "%s: json_schema: %v", s.Name, err)
			continue
		}
		if _, ok := schema["properties"].(map[string]any); !ok {
			add("schemas", "%s: json_schema has no top-level properties", s.Name)
		}

		if len(s.DefaultCursorField) > 0 && !propertyAt(schema, s.DefaultCursorField) {
			add("cursors", "%s: default_cursor_field %v is not in the schema", s.Name, s.DefaultCursorField)
		}
		if s.supports("incremental") && (!s.SourceDefinedCursor || len(s.DefaultCursorField) == 0 || !s.IsResumable) {
			add("cursors", "%s: an incremental stream needs source_defined_cursor, default_cursor_field and is_resumable", s.Name)
		}

		if len(s.SourceDefinedPrimaryKey) == 0 {
			add("primary keys", "%s: no source_defined_primary_key", s.Name)
		}
		for _, path := range s.SourceDefinedPrimaryKey {
			if !propertyAt(schema, path) {
				add("primary keys", "%s: primary key %v is not in the schema", s.Name, path)
				continue
			}
			if leaf := schemaAt(schema, path); hasType(leaf, "object", "array") {
				add("primary keys", "%s: primary key %v has type %v; a key cannot be an object or array", s.Name, path, typesOf(leaf))
			}
		}

		if len(s.SupportedSyncModes) == 0 {
			add("sync modes", "%s: supported_sync_modes is empty", s.Name)
		}
		for _, m := range s.SupportedSyncModes {
			if m != "full_refresh" && m != "incremental" {
				add("sync modes", "%s: unknown sync mode %q", s.Name, m)
			}
		}

		for _, kw := range []string{"$ref", "allOf", "not"} {
			for _, at := range keywordUses(schema, kw) {
				add("keywords", "%s: %s uses %s", s.Name, at, kw)
			}
		}
		for _, at := range keywordUses(schema, "additionalProperties") {
			if lookup(schema, at) == false {
				add("additionalProperties", "%s: %s is false; destinations must be free to get new fields", s.Name, at)
			}
		}
	}
	return out
}

// schemaAt returns the schema of a property path that propertyAt found, following properties only.
func schemaAt(root map[string]any, path []string) map[string]any {
	cur := root
	for _, key := range path {
		props, _ := cur["properties"].(map[string]any)
		cur, _ = props[key].(map[string]any)
	}
	return cur
}

// TestCatalogRulesCatchMistakes breaks the discovered catalog one way at a time and checks the
// matching rule notices.
func TestCatalogRulesCatchMistakes(t *testing.T) {
	base := mustMarshal(t, discover(t))
	edit := func(s *stream, f func(schema map[string]any)) {
		m, err := toMap(s.JSONSchema)
		if err != nil {
			t.Fatal(err)
		}
		f(m)
		s.JSONSchema = mustMarshal(t, m)
	}
	rulesCatch(t, "the discovered catalog", func(t *testing.T) *catalog { return mustCatalog(t, base) }, catalogProblems, []mutation[*catalog]{
		{"streams", func(c *catalog) { c.Streams[1].Name = c.Streams[0].Name }},
		{"schemas", func(c *catalog) { edit(&c.Streams[0], func(m map[string]any) { m["type"] = "thing" }) }},
		{"schemas", func(c *catalog) { edit(&c.Streams[0], func(m map[string]any) { delete(m, "properties") }) }},
		{"cursors", func(c *catalog) { c.Streams[0].DefaultCursorField = []string{"no_such_field"} }},
		{"cursors", func(c *catalog) { c.Streams[0].IsResumable = false }},
		{"primary keys", func(c *catalog) { c.Streams[0].SourceDefinedPrimaryKey = [][]string{{"no_such_field"}} }},
		{"primary keys", func(c *catalog) {
			// Point the key at the first object-typed field of the stream.
			m, _ := toMap(c.Streams[0].JSONSchema)
			props, _ := m["properties"].(map[string]any)
			for _, name := range sortedKeys(props) {
				if p, _ := props[name].(map[string]any); hasType(p, "object", "array") {
					c.Streams[0].SourceDefinedPrimaryKey = [][]string{{name}}
					return
				}
			}
			t.Fatalf("%s has no object or array field to misuse as a key", c.Streams[0].Name)
		}},
		{"sync modes", func(c *catalog) { c.Streams[0].SupportedSyncModes = nil }},
		{"keywords", func(c *catalog) {
			edit(&c.Streams[0], func(m map[string]any) { m["properties"].(map[string]any)["x"] = map[string]any{"$ref": "#/x"} })
		}},
		{"additionalProperties", func(c *catalog) {
			edit(&c.Streams[0], func(m map[string]any) { m["additionalProperties"] = false })
		}},
	})
}

func mustCatalog(t *testing.T, raw []byte) *catalog {
	t.Helper()
	var c catalog
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}
