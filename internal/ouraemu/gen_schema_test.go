package ouraemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"source-oura/internal/protocoltest"
)

// jnode is a JSON value that keeps the order of object keys and the text of numbers.
type jnode struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	keys []string
	vals []*jnode
	text string // a string's value or a number's text
}

func (n *jnode) get(k string) *jnode {
	if n == nil {
		return nil
	}
	for i, key := range n.keys {
		if key == k {
			return n.vals[i]
		}
	}
	return nil
}

// parseOrdered reads one JSON value. It is a small recursive-descent parser rather than
// json.Decoder tokens because the tests walk millions of values (MET series) under -race.
func parseOrdered(data []byte) (*jnode, error) {
	if !json.Valid(data) {
		return nil, errors.New("invalid JSON")
	}
	p := &jparser{b: data}
	n := p.value()
	p.space()
	if p.i != len(p.b) {
		return nil, fmt.Errorf("trailing data at byte %d", p.i)
	}
	return n, nil
}

// jparser parses JSON already known to be valid (json.Valid), so it checks little.
type jparser struct {
	b []byte
	i int
}

func (p *jparser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *jparser) value() *jnode {
	p.space()
	switch c := p.b[p.i]; {
	case c == '{' || c == '[':
		n := &jnode{kind: 'a'}
		closing := byte(']')
		if c == '{' {
			n.kind, closing = 'o', '}'
		}
		p.i++
		p.space()
		if p.b[p.i] == closing {
			p.i++
			return n
		}
		for {
			if n.kind == 'o' {
				p.space()
				n.keys = append(n.keys, p.str())
				p.space()
				p.i++ // ':'
			}
			n.vals = append(n.vals, p.value())
			p.space()
			c := p.b[p.i]
			p.i++
			if c == closing {
				return n
			}
		}
	case c == '"':
		return &jnode{kind: 's', text: p.str()}
	case c == 't':
		p.i += 4
		return &jnode{kind: 'b', text: "true"}
	case c == 'f':
		p.i += 5
		return &jnode{kind: 'b', text: "false"}
	case c == 'n':
		p.i += 4
		return &jnode{kind: 'z'}
	default:
		start := p.i
		for p.i < len(p.b) && strings.IndexByte("+-0123456789.eE", p.b[p.i]) >= 0 {
			p.i++
		}
		return &jnode{kind: 'n', text: string(p.b[start:p.i])}
	}
}

// str reads a string at p.i (which is at its opening quote).
func (p *jparser) str() string {
	start, escaped := p.i, false
	p.i++
	for p.b[p.i] != '"' {
		if p.b[p.i] == '\\' {
			escaped = true
			p.i++
		}
		p.i++
	}
	p.i++
	raw := p.b[start:p.i]
	if !escaped {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		panic(err) // unreachable: the input passed json.Valid
	}
	return s
}

// toAny converts a parsed value to the shapes encoding/json produces with UseNumber.
func (n *jnode) toAny() any {
	switch n.kind {
	case 'o':
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			m[k] = n.vals[i].toAny()
		}
		return m
	case 'a':
		a := make([]any, len(n.vals))
		for i, v := range n.vals {
			a[i] = v.toAny()
		}
		return a
	case 's':
		return n.text
	case 'n':
		return json.Number(n.text)
	case 'b':
		return n.text == "true"
	}
	return nil
}

// genSpec reads the OpenAPI file from ../shared/reference beside the repository, or skips
// (fails under CI=true) as protocoltest.SharedReference says.
func genSpec(t *testing.T) *jnode {
	t.Helper()
	protocoltest.SharedReference(t, "oura-openapi.json")
	spec, err := genSpecOnce()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

var genSpecOnce = sync.OnceValues(func() (*jnode, error) {
	data, err := protocoltest.ReadSharedReference("oura-openapi.json")
	if err != nil {
		return nil, err
	}
	return parseOrdered(data)
})

// schemaOf returns the item model a collection's list route returns.
func schemaOf(spec *jnode, collection string) (string, error) {
	if collection == "personal_info" {
		return "PersonalInfoResponse", nil
	}
	op := spec.get("paths").get("/v2/usercollection/" + collection).get("get")
	body := op.get("responses").get("200").get("content").get("application/json").get("schema")
	alts := body.get("anyOf")
	if alts == nil || len(alts.vals) == 0 {
		return "", fmt.Errorf("no typed 200 response for %s", collection)
	}
	wrapper := refName(alts.vals[0].get("$ref").text)
	items := spec.get("components").get("schemas").get(wrapper).get("properties").get("data").get("items")
	if items == nil {
		return "", fmt.Errorf("%s has no data items", wrapper)
	}
	return refName(items.get("$ref").text), nil
}

func refName(ref string) string { return ref[strings.LastIndexByte(ref, '/')+1:] }

var (
	reDate      = regexp.MustCompile(`^\d{4}-\d\d-\d\d$`)
	reLocal     = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`)
	reLocalized = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?[+-]\d\d:\d\d$`)
	reUTC       = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$`)
)

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// nullCount counts, for one nullable field, the documents where it was null and not.
type nullCount struct{ nulls, values int }

// schemaChecker checks documents against the spec's models and counts nullable fields.
type schemaChecker struct {
	schemas *jnode
	errs    []string
	nulls   map[string]*nullCount // by collection.field.path
}

func (c *schemaChecker) fail(path, format string, args ...any) {
	if len(c.errs) < 30 {
		c.errs = append(c.errs, path+": "+fmt.Sprintf(format, args...))
	}
}

func (c *schemaChecker) check(path string, s, v *jnode) {
	if ref := s.get("$ref"); ref != nil {
		name := refName(ref.text)
		var re *regexp.Regexp
		switch name {
		case "ISODate":
			re = reDate
		case "LocalDateTime":
			re = reLocal
		case "LocalizedDateTime":
			re = reLocalized
		case "UtcDateTime":
			re = reUTC
		}
		if re != nil && (v.kind != 's' || !re.MatchString(v.text)) {
			c.fail(path, "%q is not a %s", v.text, name)
		}
		c.check(path, c.schemas.get(name), v)
		return
	}
	if alts := s.get("anyOf"); alts != nil {
		var typed []*jnode
		nullable := false
		for _, a := range alts.vals {
			if t := a.get("type"); t != nil && t.text == "null" {
				nullable = true
			} else {
				typed = append(typed, a)
			}
		}
		if nullable {
			n := c.nulls[path]
			if n == nil {
				n = &nullCount{}
				c.nulls[path] = n
			}
			if v.kind == 'z' {
				n.nulls++
				return
			}
			n.values++
		}
		if len(typed) != 1 {
			c.fail(path, "schema has %d non-null alternatives; the check handles one", len(typed))
			return
		}
		c.check(path, typed[0], v)
		return
	}
	if v.kind == 'z' {
		c.fail(path, "null in a non-nullable field")
		return
	}
	if enum := s.get("enum"); enum != nil {
		ok := false
		for _, e := range enum.vals {
			ok = ok || (v.kind == 's' && e.text == v.text)
		}
		if !ok {
			c.fail(path, "%q is not in the enum", v.text)
		}
	}
	typ := ""
	if t := s.get("type"); t != nil {
		typ = t.text
	}
	if props := s.get("properties"); props != nil {
		if v.kind != 'o' {
			c.fail(path, "want an object")
			return
		}
		if !slices.Equal(v.keys, props.keys) {
			c.fail(path, "keys %v, want %v", v.keys, props.keys)
			return
		}
		for i, k := range props.keys {
			c.check(path+"."+k, props.vals[i], v.vals[i])
		}
		return
	}
	switch typ {
	case "array":
		if v.kind != 'a' {
			c.fail(path, "want an array")
			return
		}
		for _, e := range v.vals {
			c.check(path+"[]", s.get("items"), e)
		}
	case "string":
		if v.kind != 's' {
			c.fail(path, "want a string")
			return
		}
		if f := s.get("format"); f != nil && f.text == "date" && !reDate.MatchString(v.text) {
			c.fail(path, "%q is not a date", v.text)
		}
		if ml := s.get("minLength"); ml != nil && len(v.text) == 0 {
			c.fail(path, "empty string")
		}
	case "integer":
		if v.kind != 'n' || !isDigits(strings.TrimPrefix(v.text, "-")) {
			c.fail(path, "%q is not an integer", v.text)
		}
	case "number":
		whole, frac, ok := strings.Cut(strings.TrimPrefix(v.text, "-"), ".")
		if v.kind != 'n' || !ok || !isDigits(whole) || !isDigits(frac) {
			c.fail(path, "%q is not a plain decimal number", v.text)
		}
	case "boolean":
		if v.kind != 'b' {
			c.fail(path, "want a boolean")
		}
	default:
		c.fail(path, "schema type %q not handled", typ)
	}
}

// genSchemaReport checks the shared two-year dataset once; several tests read the result.
var genSchemaReport = sync.OnceValues(func() (*schemaChecker, error) {
	spec, err := genSpecOnce()
	if err != nil {
		return nil, err
	}
	ds := genDefaultDataset()
	c := &schemaChecker{schemas: spec.get("components").get("schemas"), nulls: map[string]*nullCount{}}
	checkOne := func(collection, model string, data []byte) {
		v, err := parseOrdered(data)
		if err != nil {
			c.fail(collection, "invalid JSON: %v", err)
			return
		}
		c.check(collection, c.schemas.get(model), v)
	}
	for _, collection := range Collections {
		model, err := schemaOf(spec, collection)
		if err != nil {
			return nil, err
		}
		if collection == "personal_info" {
			checkOne(collection, model, ds.PersonalInfo)
			continue
		}
		step := 1
		if collection == "heartrate" || collection == "ring_battery_level" {
			step = 7 // rows are alike; a sample keeps the test quick
		}
		for i := 0; i < len(ds.Docs[collection]); i += step {
			checkOne(collection, model, ds.Docs[collection][i].JSON)
		}
	}
	return c, nil
})

func TestDocumentsFollowTheOpenAPIModels(t *testing.T) {
	genSpec(t)
	c, err := genSchemaReport()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.errs {
		t.Error(e)
	}
}

func TestNullableFieldsAreSometimesNull(t *testing.T) {
	genSpec(t)
	c, err := genSchemaReport()
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, 0, len(c.nulls))
	for p := range c.nulls {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	nulledIn := map[string]bool{}
	for _, p := range paths {
		n := c.nulls[p]
		if n.values == 0 {
			t.Errorf("%s is never set (%d nulls)", p, n.nulls)
		}
		if n.nulls > 0 {
			nulledIn[p[:strings.IndexByte(p, '.')]] = true
		}
	}
	for _, collection := range []string{"daily_activity", "daily_readiness", "daily_sleep", "daily_spo2",
		"daily_stress", "daily_cardiovascular_age", "sleep", "session", "workout", "tag", "enhanced_tag",
		"ring_battery_level"} {
		if !nulledIn[collection] {
			t.Errorf("%s: no nullable field is ever null", collection)
		}
	}
	// "A few percent": the score fields are present on nearly every document.
	for _, p := range []string{"daily_readiness.score", "daily_sleep.score", "daily_activity.score", "sleep.efficiency"} {
		if n := c.nulls[p]; n == nil || n.nulls*10 > n.values {
			t.Errorf("%s: null too often (%+v)", p, n)
		}
	}
}
