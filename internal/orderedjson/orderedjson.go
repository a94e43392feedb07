// Package orderedjson decodes JSON for tests that care about the order of object keys, which
// encoding/json's maps forget: the schema checks compare property order with Oura's OpenAPI
// document, and the emulator's tests compare its documents' field order with the same document.
// Only tests import it, so it never ships in the binary.
package orderedjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Object is a JSON object that keeps its key order. The zero value is an empty object.
type Object struct {
	// Keys are the object's keys in document order. A test may reorder them; adding or
	// dropping a key goes through Set and Delete.
	Keys []string
	vals map[string]any
}

// Get returns the value of key k, or nil when there is none (also on a nil Object).
func (o *Object) Get(k string) any {
	if o == nil {
		return nil
	}
	return o.vals[k]
}

// Has reports whether the object has key k.
func (o *Object) Has(k string) bool {
	if o == nil {
		return false
	}
	_, ok := o.vals[k]
	return ok
}

// Len is the number of keys.
func (o *Object) Len() int {
	if o == nil {
		return 0
	}
	return len(o.Keys)
}

// Child returns the object under key k, or nil when the value is missing or not an object, so
// that lookups chain: spec.Child("components").Child("schemas").
func (o *Object) Child(k string) *Object {
	c, _ := o.Get(k).(*Object)
	return c
}

// Str returns the string under key k, or "" when the value is missing or not a string.
func (o *Object) Str(k string) string {
	s, _ := o.Get(k).(string)
	return s
}

// Set gives key k the value v, appending k when it is new.
func (o *Object) Set(k string, v any) {
	if o.vals == nil {
		o.vals = map[string]any{}
	}
	if _, ok := o.vals[k]; !ok {
		o.Keys = append(o.Keys, k)
	}
	o.vals[k] = v
}

// Delete removes key k.
func (o *Object) Delete(k string) {
	o.Keys = slices.DeleteFunc(o.Keys, func(s string) bool { return s == k })
	delete(o.vals, k)
}

// Plain converts a decoded value to the shapes encoding/json gives with UseNumber: every
// *Object becomes a map[string]any.
func Plain(v any) any {
	switch v := v.(type) {
	case *Object:
		m := make(map[string]any, len(v.Keys))
		for _, k := range v.Keys {
			m[k] = Plain(v.vals[k])
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = Plain(e)
		}
		return out
	}
	return v
}

// Decode reads one JSON document into *Object, []any, string, json.Number, bool and nil
// values. A key repeated in one object is an error: in a hand-written schema it silently
// hides one of the two definitions.
//
// It is a small recursive-descent parser behind json.Valid rather than json.Decoder tokens
// because the emulator's tests walk millions of values under the race detector.
func Decode(data []byte) (any, error) {
	if !json.Valid(data) {
		return nil, errors.New("invalid JSON")
	}
	p := &parser{b: data}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	// json.Valid has checked that only white space can follow the value.
	return v, nil
}

// DecodeObject is Decode for a document that must be an object.
func DecodeObject(data []byte) (*Object, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, err
	}
	o, ok := v.(*Object)
	if !ok {
		return nil, fmt.Errorf("the document is a JSON %T, want an object", v)
	}
	return o, nil
}

// parser reads JSON already known to be valid, so it checks little beyond repeated keys.
type parser struct {
	b []byte
	i int
}

func (p *parser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *parser) value() (any, error) {
	p.space()
	switch c := p.b[p.i]; c {
	case '{':
		return p.object()
	case '[':
		return p.array()
	case '"':
		return p.str(), nil
	case 't':
		p.i += len("true")
		return true, nil
	case 'f':
		p.i += len("false")
		return false, nil
	case 'n':
		p.i += len("null")
		return nil, nil
	}
	start := p.i
	for p.i < len(p.b) && isNumberByte(p.b[p.i]) {
		p.i++
	}
	return json.Number(p.b[start:p.i]), nil
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func (p *parser) object() (*Object, error) {
	o := &Object{vals: map[string]any{}}
	p.i++ // '{'
	for {
		p.space()
		if p.b[p.i] == '}' {
			p.i++
			return o, nil
		}
		if p.b[p.i] == ',' {
			p.i++
			p.space()
		}
		k := p.str()
		if _, dup := o.vals[k]; dup {
			return nil, fmt.Errorf("key %q appears twice in one object", k)
		}
		p.space()
		p.i++ // ':'
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		o.Keys = append(o.Keys, k)
		o.vals[k] = v
	}
}

func (p *parser) array() ([]any, error) {
	arr := []any{}
	p.i++ // '['
	for {
		p.space()
		switch p.b[p.i] {
		case ']':
			p.i++
			return arr, nil
		case ',':
			p.i++
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
	}
}

// str reads the string token at p.i (its opening quote).
func (p *parser) str() string {
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
	_ = json.Unmarshal(raw, &s) // cannot fail: json.Valid accepted the document
	return s
}
