package ouraemu

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"source-oura/internal/orderedjson"
	"source-oura/internal/protocoltest"
)

// schemaOf returns the item model a collection's list route returns.
func schemaOf(spec *orderedjson.Object, collection string) (string, error) {
	if collection == "personal_info" {
		return "PersonalInfoResponse", nil
	}
	op := spec.Child("paths").Child("/v2/usercollection/" + collection).Child("get")
	body := op.Child("responses").Child("200").Child("content").Child("application/json").Child("schema")
	alts, _ := body.Get("anyOf").([]any)
	if len(alts) == 0 {
		return "", fmt.Errorf("no typed 200 response for %s", collection)
	}
	first, _ := alts[0].(*orderedjson.Object)
	wrapper := refName(first.Str("$ref"))
	items := spec.Child("components").Child("schemas").Child(wrapper).Child("properties").Child("data").Child("items")
	if items == nil {
		return "", fmt.Errorf("%s has no data items", wrapper)
	}
	return refName(items.Str("$ref")), nil
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
	schemas *orderedjson.Object
	errs    []string
	nulls   map[string]*nullCount // by collection.field.path
}

func (c *schemaChecker) fail(path, format string, args ...any) {
	if len(c.errs) < 30 {
		c.errs = append(c.errs, path+": "+fmt.Sprintf(format, args...))
	}
}

// check compares a document value (as orderedjson.Decode gives it) with an OpenAPI schema.
func (c *schemaChecker) check(path string, s *orderedjson.Object, v any) {
	text, isString := v.(string)
	if ref := s.Str("$ref"); ref != "" {
		name := refName(ref)
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
		if re != nil && (!isString || !re.MatchString(text)) {
			c.fail(path, "%v is not a %s", v, name)
		}
		c.check(path, c.schemas.Child(name), v)
		return
	}
	if alts, ok := s.Get("anyOf").([]any); ok {
		var typed []*orderedjson.Object
		nullable := false
		for _, a := range alts {
			alt, _ := a.(*orderedjson.Object)
			if alt.Str("type") == "null" {
				nullable = true
			} else {
				typed = append(typed, alt)
			}
		}
		if nullable {
			n := c.nulls[path]
			if n == nil {
				n = &nullCount{}
				c.nulls[path] = n
			}
			if v == nil {
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
	if v == nil {
		c.fail(path, "null in a non-nullable field")
		return
	}
	if enum, ok := s.Get("enum").([]any); ok && (!isString || !slices.Contains(enum, any(text))) {
		c.fail(path, "%v is not in the enum", v)
	}
	if props := s.Child("properties"); props != nil {
		o, ok := v.(*orderedjson.Object)
		if !ok {
			c.fail(path, "want an object")
			return
		}
		if !slices.Equal(o.Keys, props.Keys) {
			c.fail(path, "keys %v, want %v", o.Keys, props.Keys)
			return
		}
		for _, k := range props.Keys {
			c.check(path+"."+k, props.Child(k), o.Get(k))
		}
		return
	}
	number, isNumber := v.(json.Number)
	switch typ := s.Str("type"); typ {
	case "array":
		items, ok := v.([]any)
		if !ok {
			c.fail(path, "want an array")
			return
		}
		for _, e := range items {
			c.check(path+"[]", s.Child("items"), e)
		}
	case "string":
		if !isString {
			c.fail(path, "want a string")
			return
		}
		if s.Str("format") == "date" && !reDate.MatchString(text) {
			c.fail(path, "%q is not a date", text)
		}
		if s.Has("minLength") && text == "" {
			c.fail(path, "empty string")
		}
	case "integer":
		if !isNumber || !isDigits(strings.TrimPrefix(string(number), "-")) {
			c.fail(path, "%v is not an integer", v)
		}
	case "number":
		whole, frac, ok := strings.Cut(strings.TrimPrefix(string(number), "-"), ".")
		if !isNumber || !ok || !isDigits(whole) || !isDigits(frac) {
			c.fail(path, "%v is not a plain decimal number", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			c.fail(path, "want a boolean")
		}
	default:
		c.fail(path, "schema type %q not handled", typ)
	}
}

// genSchemaReport checks the shared two-year dataset once; several tests read the result.
var genSchemaReport = sync.OnceValues(func() (*schemaChecker, error) {
	spec, err := protocoltest.LoadOpenAPI()
	if err != nil {
		return nil, err
	}
	ds := genDefaultDataset()
	c := &schemaChecker{schemas: spec.Child("components").Child("schemas"), nulls: map[string]*nullCount{}}
	checkOne := func(collection, model string, data []byte) {
		v, err := orderedjson.Decode(data)
		if err != nil {
			c.fail(collection, "invalid JSON: %v", err)
			return
		}
		c.check(collection, c.schemas.Child(model), v)
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
	protocoltest.OpenAPI(t)
	c, err := genSchemaReport()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.errs {
		t.Error(e)
	}
}

func TestNullableFieldsAreSometimesNull(t *testing.T) {
	protocoltest.OpenAPI(t)
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

// TestSchemaCheckerCatchesMistakes proves the checker above is not blind: each change to a
// generated sleep period must be reported at the field it touched.
func TestSchemaCheckerCatchesMistakes(t *testing.T) {
	spec := protocoltest.OpenAPI(t)
	model, err := schemaOf(spec, "sleep")
	if err != nil {
		t.Fatal(err)
	}
	original := genDefaultDataset().Docs["sleep"][0].JSON
	cases := []struct {
		name   string
		mutate func(doc *orderedjson.Object)
		want   string // the first reported problem starts with this
	}{
		{"fields reordered", func(d *orderedjson.Object) { d.Keys[1], d.Keys[2] = d.Keys[2], d.Keys[1] }, "sleep: keys"},
		{"field missing", func(d *orderedjson.Object) { d.Delete("period") }, "sleep: keys"},
		{"null in a required field", func(d *orderedjson.Object) { d.Set("period", nil) }, "sleep.period: null in a non-nullable field"},
		{"decimal in an integer", func(d *orderedjson.Object) { d.Set("period", json.Number("1.5")) }, `sleep.period: 1.5 is not an integer`},
		{"string for a boolean", func(d *orderedjson.Object) { d.Set("low_battery_alert", "no") }, "sleep.low_battery_alert: want a boolean"},
		{"bad date", func(d *orderedjson.Object) { d.Set("day", "2024-1-02") }, "sleep.day: 2024-1-02 is not a ISODate"},
		{"unknown enum value", func(d *orderedjson.Object) { d.Set("type", "siesta") }, "sleep.type: siesta is not in the enum"},
		{"nested field reordered", func(d *orderedjson.Object) {
			c := d.Child("readiness").Child("contributors")
			c.Keys[0], c.Keys[1] = c.Keys[1], c.Keys[0]
		}, "sleep.readiness.contributors: keys"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := orderedjson.DecodeObject(original)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Child("readiness") == nil {
				t.Fatalf("the first sleep period has no readiness to change: %s", original)
			}
			c := &schemaChecker{schemas: spec.Child("components").Child("schemas"), nulls: map[string]*nullCount{}}
			c.check("sleep", c.schemas.Child(model), doc)
			if len(c.errs) != 0 {
				t.Fatalf("the unchanged document already fails: %q", c.errs)
			}
			tc.mutate(doc)
			c.check("sleep", c.schemas.Child(model), doc)
			if len(c.errs) == 0 || !strings.HasPrefix(c.errs[0], tc.want) {
				t.Errorf("problems %q, want one starting %q", c.errs, tc.want)
			}
		})
	}
}
