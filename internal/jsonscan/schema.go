package jsonscan

import (
	"encoding/json"
	"fmt"
	"time"
)

type typeSet uint8

const (
	tNull typeSet = 1 << iota
	tBool
	tInteger
	tNumber
	tString
	tObject
	tArray
	tAny = tNull | tBool | tInteger | tNumber | tString | tObject | tArray
)

var typeNames = map[string]typeSet{
	"null": tNull, "boolean": tBool, "integer": tInteger, "number": tNumber | tInteger,
	"string": tString, "object": tObject, "array": tArray,
}

// annotations are keywords that never make a record invalid.
var annotations = map[string]bool{
	"$schema": true, "title": true, "description": true, "airbyte_type": true, "examples": true, "$comment": true,
}

// Compile compiles a schema document, or says which keyword it cannot honour; a stream whose schema does not
// compile is checked by jsonschema/v5 alone.
func Compile(doc []byte) (*Schema, error) {
	var tree map[string]any
	if err := json.Unmarshal(doc, &tree); err != nil {
		return nil, err
	}
	return compileNode(tree, "#")
}

func compileNode(n map[string]any, at string) (*Schema, error) {
	s := &Schema{types: tAny}
	for k, v := range n {
		switch {
		case annotations[k]:
		case k == "type":
			s.types = 0
			switch t := v.(type) {
			case string:
				s.types = typeNames[t]
			case []any:
				for _, x := range t {
					name, _ := x.(string)
					s.types |= typeNames[name]
				}
			}
			if s.types == 0 {
				return nil, fmt.Errorf("%s: type %v", at, v)
			}
		case k == "format":
			f, _ := v.(string)
			if f != "date" && f != "date-time" {
				return nil, fmt.Errorf("%s: format %v", at, v)
			}
			s.format = f
		case k == "additionalProperties":
			if b, ok := v.(bool); !ok || !b {
				return nil, fmt.Errorf("%s: additionalProperties %v", at, v)
			}
		case k == "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: properties", at)
			}
			s.props = map[string]*Schema{}
			for name, p := range props {
				pm, ok := p.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s/%s: not a schema", at, name)
				}
				c, err := compileNode(pm, at+"/"+name)
				if err != nil {
					return nil, err
				}
				s.props[name] = c
			}
		case k == "items":
			im, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: items", at)
			}
			c, err := compileNode(im, at+"/items")
			if err != nil {
				return nil, err
			}
			s.items = c
		default:
			return nil, fmt.Errorf("%s: keyword %q", at, k)
		}
	}
	return s, nil
}

func formatOK(format string, s []byte) bool {
	switch format {
	case "date":
		return IsDate(s)
	case "date-time":
		return IsDateTime(s)
	}
	return true
}

// IsDate accepts a calendar date YYYY-MM-DD, as time.Parse("2006-01-02") does.
func IsDate(s []byte) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s[0:4]) || !digits(s[5:7]) || !digits(s[8:10]) {
		return false
	}
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	m := int(s[5]-'0')*10 + int(s[6]-'0')
	d := int(s[8]-'0')*10 + int(s[9]-'0')
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// IsDateTime accepts what Oura sends, the same leniency the acceptance tests apply: date, T or space,
// hh:mm:ss, optional fraction, optional Z or ±hh:mm / ±hhmm (the LocalDateTime fields carry no offset).
// streams' jsonschema/v5 format checker uses the same rule written as a regular expression.
func IsDateTime(s []byte) bool {
	if len(s) < 19 || !digits(s[0:4]) || s[4] != '-' || !digits(s[5:7]) || s[7] != '-' || !digits(s[8:10]) ||
		(s[10] != 'T' && s[10] != ' ') || !digits(s[11:13]) || s[13] != ':' || !digits(s[14:16]) || s[16] != ':' || !digits(s[17:19]) {
		return false
	}
	rest := s[19:]
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return false
		}
		rest = rest[n:]
	}
	switch {
	case len(rest) == 0:
		return true
	case len(rest) == 1 && rest[0] == 'Z':
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && digits(rest[1:3]) && rest[3] == ':' && digits(rest[4:6]):
		return true
	case len(rest) == 5 && (rest[0] == '+' || rest[0] == '-') && digits(rest[1:5]):
		return true
	}
	return false
}

func digits(s []byte) bool {
	for _, b := range s {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}
