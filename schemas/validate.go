package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"source-oura/internal/jsonscan"
)

// dateTimeRe accepts what Oura sends: RFC 3339 date-times with or without a UTC offset (the
// LocalDateTime fields carry none), the same leniency the acceptance tests apply.
var dateTimeRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$`)

// Validator checks records against their stream schema. A record that fails is still
// emitted; the validator only counts and reports.
//
// Every record is checked in its raw bytes by jsonscan, in the same pass that splits it from
// the page; only records that fail there are decoded and checked again by jsonschema/v5,
// whose messages are the ones reported. The two agree on every record but one rule: a
// number with a fraction or exponent (1.0) is not an integer for jsonscan, the acceptance
// tests and typed destinations, while jsonschema/v5 accepts it. A differential test and a
// fuzz target hold them to that.
type Validator struct {
	schemas map[string]*jsonschema.Schema
	fast    map[string]*jsonscan.Schema
}

// NewValidator compiles every embedded schema, so any stream the catalog lists can be checked.
func NewValidator() (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	c.AssertFormat = true
	c.Formats["date-time"] = func(v any) bool {
		s, ok := v.(string)
		return !ok || dateTimeRe.MatchString(s)
	}
	v := &Validator{schemas: map[string]*jsonschema.Schema{}, fast: map[string]*jsonscan.Schema{}}
	for _, name := range Names() {
		doc, err := Get(name)
		if err != nil {
			return nil, err
		}
		url := name + ".json"
		if err := c.AddResource(url, bytes.NewReader(doc)); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		sch, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		v.schemas[name] = sch
		if f, err := jsonscan.Compile(doc); err == nil {
			v.fast[name] = f
		}
	}
	return v, nil
}

// Schema returns the stream's schema compiled for jsonscan, or nil when jsonscan cannot
// honour it (jsonschema/v5 then checks every record of the stream).
func (v *Validator) Schema(stream string) *jsonscan.Schema { return v.fast[stream] }

// Explain returns the failing field paths of a record jsonscan has checked (res). Valid
// records never leave their bytes; invalid ones are decoded and checked by jsonschema/v5 for
// its messages. Where jsonschema/v5 finds nothing wrong, jsonscan's own finding is the real
// failure and is reported as it is (by design only the strict integer rule gets there).
func (v *Validator) Explain(stream string, raw []byte, res jsonscan.Result) []string {
	fast := v.fast[stream]
	if fast != nil && res.SchemaOK {
		return nil
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return []string{"/: " + err.Error()}
	}
	failures := v.Check(stream, doc)
	if len(failures) == 0 && fast != nil {
		failures = []string{res.Failure}
	}
	return failures
}

// Check validates a decoded record and returns the failing field paths (empty if valid).
func (v *Validator) Check(stream string, record any) []string {
	sch := v.schemas[stream]
	if sch == nil {
		return nil
	}
	err := sch.Validate(record)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []string{"/: " + err.Error()}
	}
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := e.InstanceLocation
			if loc == "" {
				loc = "/"
			}
			out = append(out, loc+": "+e.Message)
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.Strings(out)
	return out
}
