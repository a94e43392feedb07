package streams

import (
	"encoding/json"
	"fmt"
	"time"
)

// fastSchema is a stream schema compiled for checking records in their raw bytes, without
// decoding them into maps. It understands only what the connector's own schemas use
// (type, properties, items, format, and annotations); compileFast refuses anything else, and
// such a stream is checked by jsonschema/v5 alone. The two agree on every record: a
// differential test and a fuzz target hold them to it. Records that fail here are checked
// again with jsonschema/v5, whose messages are the ones reported.
type fastSchema struct {
	types  typeSet
	format string
	props  map[string]*fastSchema
	items  *fastSchema
}

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

// compileFast compiles a schema document, or says which keyword it cannot handle.
func compileFast(doc []byte) (*fastSchema, error) {
	var tree map[string]any
	if err := json.Unmarshal(doc, &tree); err != nil {
		return nil, err
	}
	return compileNode(tree, "#")
}

func compileNode(n map[string]any, at string) (*fastSchema, error) {
	s := &fastSchema{types: tAny}
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
			s.props = map[string]*fastSchema{}
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

// fastCheck walks one record. It reports whether the record is valid and, when cursorField
// is not empty, the record's top-level string value for that field. ok is false also for
// bytes that are not JSON; the caller then falls back to the full validator.
func (s *fastSchema) check(raw []byte, cursorField string) (cursor string, ok bool) {
	c := checker{b: raw, cursorField: cursorField}
	i := c.space(0)
	end, valid := c.value(i, s, 0)
	if end < 0 || c.space(end) != len(raw) {
		return "", false
	}
	return c.cursor, valid
}

// checker scans JSON and checks it against a fastSchema in one pass. Positions are byte
// offsets; -1 means the bytes are not JSON.
type checker struct {
	b           []byte
	cursorField string
	cursor      string
}

const maxDepth = 64

func (c *checker) space(i int) int {
	for i < len(c.b) && (c.b[i] == ' ' || c.b[i] == '\n' || c.b[i] == '\t' || c.b[i] == '\r') {
		i++
	}
	return i
}

// value checks the value at i against s (nil: anything) and returns the offset after it.
func (c *checker) value(i int, s *fastSchema, depth int) (int, bool) {
	if i >= len(c.b) || depth > maxDepth {
		return -1, false
	}
	want := tAny
	if s != nil {
		want = s.types
	}
	switch b := c.b[i]; {
	case b == '{':
		return c.object(i, s, want, depth)
	case b == '[':
		end, ok := c.array(i, s, depth)
		return end, ok && want&tArray != 0
	case b == '"':
		end, plain := c.str(i)
		if end < 0 {
			return -1, false
		}
		valid := want&tString != 0
		if valid && s != nil && s.format != "" {
			if !plain {
				// Escapes in a formatted string: let the full validator judge.
				return end, false
			}
			valid = formatOK(s.format, c.b[i+1:end-1])
		}
		return end, valid
	case b == 't':
		return c.lit(i, "true"), want&tBool != 0
	case b == 'f':
		return c.lit(i, "false"), want&tBool != 0
	case b == 'n':
		return c.lit(i, "null"), want&tNull != 0
	default:
		end, integer := c.number(i)
		if end < 0 {
			return -1, false
		}
		if integer {
			return end, want&tInteger != 0
		}
		return end, want&tNumber != 0
	}
}

func (c *checker) object(i int, s *fastSchema, want typeSet, depth int) (int, bool) {
	valid := want&tObject != 0
	top := depth == 0
	i = c.space(i + 1)
	if i < len(c.b) && c.b[i] == '}' {
		return i + 1, valid
	}
	for {
		if i >= len(c.b) || c.b[i] != '"' {
			return -1, false
		}
		end, plain := c.str(i)
		if end < 0 {
			return -1, false
		}
		keyBytes := c.b[i+1 : end-1]
		if !plain {
			var k string
			if json.Unmarshal(c.b[i:end], &k) != nil {
				return -1, false
			}
			keyBytes = []byte(k)
		}
		i = c.space(end)
		if i >= len(c.b) || c.b[i] != ':' {
			return -1, false
		}
		i = c.space(i + 1)
		var child *fastSchema
		if s != nil && s.props != nil {
			child = s.props[string(keyBytes)] // no allocation: the compiler reads the map in place
		}
		start := i
		var ok bool
		i, ok = c.value(i, child, depth+1)
		if i < 0 {
			return -1, false
		}
		valid = valid && ok
		if top && c.cursorField != "" && string(keyBytes) == c.cursorField && c.b[start] == '"' {
			if end, plain := c.str(start); plain {
				c.cursor = string(c.b[start+1 : end-1])
			}
		}
		i = c.space(i)
		if i >= len(c.b) {
			return -1, false
		}
		if c.b[i] == '}' {
			return i + 1, valid
		}
		if c.b[i] != ',' {
			return -1, false
		}
		i = c.space(i + 1)
	}
}

func (c *checker) array(i int, s *fastSchema, depth int) (int, bool) {
	var items *fastSchema
	if s != nil {
		items = s.items
	}
	valid := true
	i = c.space(i + 1)
	if i < len(c.b) && c.b[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		i, ok = c.value(i, items, depth+1)
		if i < 0 {
			return -1, false
		}
		valid = valid && ok
		i = c.space(i)
		if i >= len(c.b) {
			return -1, false
		}
		if c.b[i] == ']' {
			return i + 1, valid
		}
		if c.b[i] != ',' {
			return -1, false
		}
		i = c.space(i + 1)
	}
}

// str returns the end of the string at i and whether it has no escapes (plain); for a
// plain string its text is c.b[i+1 : end-1], so nothing is copied unless a caller needs it.
func (c *checker) str(i int) (end int, plain bool) {
	plain = true
	for j := i + 1; j < len(c.b); j++ {
		switch ch := c.b[j]; {
		case ch == '"':
			return j + 1, plain
		case ch == '\\':
			plain = false
			j++
			if j >= len(c.b) {
				return -1, false
			}
			if c.b[j] == 'u' {
				if j+4 >= len(c.b) {
					return -1, false
				}
				for _, h := range c.b[j+1 : j+5] {
					if !isHexDigit(h) {
						return -1, false
					}
				}
				j += 4
			} else if !isEscape(c.b[j]) {
				return -1, false
			}
		case ch < 0x20:
			return -1, false
		}
	}
	return -1, false
}

func isHexDigit(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

func isEscape(b byte) bool {
	switch b {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return true
	}
	return false
}

func (c *checker) lit(i int, word string) int {
	if len(c.b)-i >= len(word) && string(c.b[i:i+len(word)]) == word {
		return i + len(word)
	}
	return -1
}

// number scans a JSON number; integer is true when it has neither fraction nor exponent,
// the strict reading the acceptance tests use (1.0 is not an integer).
func (c *checker) number(i int) (end int, integer bool) {
	j := i
	if j < len(c.b) && c.b[j] == '-' {
		j++
	}
	if j >= len(c.b) {
		return -1, false
	}
	switch {
	case c.b[j] == '0':
		j++
	case c.b[j] >= '1' && c.b[j] <= '9':
		for j < len(c.b) && c.b[j] >= '0' && c.b[j] <= '9' {
			j++
		}
	default:
		return -1, false
	}
	integer = true
	if j < len(c.b) && c.b[j] == '.' {
		integer = false
		j++
		k := j
		for j < len(c.b) && c.b[j] >= '0' && c.b[j] <= '9' {
			j++
		}
		if j == k {
			return -1, false
		}
	}
	if j < len(c.b) && (c.b[j] == 'e' || c.b[j] == 'E') {
		integer = false
		j++
		if j < len(c.b) && (c.b[j] == '+' || c.b[j] == '-') {
			j++
		}
		k := j
		for j < len(c.b) && c.b[j] >= '0' && c.b[j] <= '9' {
			j++
		}
		if j == k {
			return -1, false
		}
	}
	return j, integer
}

func formatOK(format string, s []byte) bool {
	switch format {
	case "date":
		return isDate(s)
	case "date-time":
		return isDateTime(s)
	}
	return true
}

// isDate accepts a calendar date YYYY-MM-DD, as time.Parse("2006-01-02") does.
func isDate(s []byte) bool {
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

// isDateTime matches dateTimeRe without the regexp engine: date, T or space, hh:mm:ss,
// optional fraction, optional Z or ±hh:mm / ±hhmm.
func isDateTime(s []byte) bool {
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
