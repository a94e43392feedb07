package oura

import (
	"encoding/json"
	"errors"
)

// This file holds a small JSON scanner. encoding/json.Valid runs at about 95 MB/s on number-heavy Oura pages
// (sleep and activity documents carry long sample arrays), which alone would use up the client's throughput
// budget, and splitting "data" with json.Decoder would cost a second full pass plus allocations. The scanner
// below validates by the same rules as encoding/json.Valid (a fuzz test compares the two) and is reused to cut
// the "data" array into records without copying or re-encoding them.

// maxDepth matches encoding/json's nesting limit, so both accept and reject the same documents and a hostile
// body cannot exhaust the stack.
const maxDepth = 10000

// stringPlain marks the bytes that may appear inside a JSON string without an escape: everything except the
// quote, the backslash and the control characters. Invalid UTF-8 passes, as it does in encoding/json.
var stringPlain = func() (t [256]bool) {
	for i := range t {
		t[i] = i >= 0x20 && i != '"' && i != '\\'
	}
	return t
}()

// validJSON reports whether b holds exactly one JSON value, optionally surrounded by whitespace.
func validJSON(b []byte) bool {
	i, ok := skipValue(b, skipSpace(b, 0), 0)
	return ok && skipSpace(b, i) == len(b)
}

// isSpace marks JSON whitespace; a table keeps skipSpace small enough to inline.
var isSpace = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace[b[i]] {
		i++
	}
	return i
}

// skipValue checks the value starting at b[i] and returns the index just after it.
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{':
		return skipObject(b, i, depth+1)
	case c == '[':
		return skipArray(b, i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return i, false
}

func skipLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// skipString expects b[i] == '"' and returns the index after the closing quote.
func skipString(b []byte, i int) (int, bool) {
	i++
	for {
		for i < len(b) && stringPlain[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case '"':
			return i + 1, true
		case '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		default: // a raw control character
			return i, false
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i]-'0' < 10 {
		i++
	}
	return i
}

// skipNumber follows the JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, false
	case b[i] == '0':
		i++
	case b[i]-'1' < 9:
		i = skipDigits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipObject(b []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		var ok bool
		if i, ok = skipString(b, i); !ok {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		if i, ok = skipValue(b, skipSpace(b, i+1), depth); !ok {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

func skipArray(b []byte, i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		// Sample series make numbers the most common array element; skip the dispatch for them.
		if i < len(b) && (b[i]-'0' < 10 || b[i] == '-') {
			i, ok = skipNumber(b, i)
		} else {
			i, ok = skipValue(b, i, depth)
		}
		if !ok {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// errNotEnvelope and friends describe why a page body cannot be used; they end up as the Detail of a
// BadResponse error.
var (
	errNotObject    = errors.New(`the body is not a JSON object`)
	errNoData       = errors.New(`the body has no "data" array`)
	errDataNotArray = errors.New(`"data" is not an array`)
	errBadNextToken = errors.New(`"next_token" is neither a string nor null`)
	errBadJSON      = errors.New(`the body is not valid JSON`)
)

// splitPage cuts a list response {"data":[...],"next_token":...} into its records. Each record is a
// sub-slice of body, so the original bytes reach the caller unchanged. Other top-level keys are skipped.
func splitPage(body []byte) (Page, error) {
	page := Page{Body: body}
	b := body
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return Page{}, errNotObject
	}
	i = skipSpace(b, i+1)
	sawData := false
	if i < len(b) && b[i] == '}' {
		return Page{}, errNoData
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return Page{}, errBadJSON
		}
		keyEnd, ok := skipString(b, i)
		if !ok {
			return Page{}, errBadJSON
		}
		key, err := stringValue(b[i:keyEnd])
		if err != nil {
			return Page{}, errBadJSON
		}
		i = skipSpace(b, keyEnd)
		if i >= len(b) || b[i] != ':' {
			return Page{}, errBadJSON
		}
		i = skipSpace(b, i+1)
		switch key {
		case "data":
			if i >= len(b) || b[i] != '[' {
				return Page{}, errDataNotArray
			}
			var records []json.RawMessage
			if records, i, err = splitArray(b, i); err != nil {
				return Page{}, err
			}
			page.Records, sawData = records, true
		case "next_token":
			end, ok := skipValue(b, i, 1)
			if !ok {
				return Page{}, errBadJSON
			}
			switch b[i] {
			case 'n':
				page.NextToken = ""
			case '"':
				if page.NextToken, err = stringValue(b[i:end]); err != nil {
					return Page{}, errBadNextToken
				}
			default:
				return Page{}, errBadNextToken
			}
			i = end
		default:
			if i, ok = skipValue(b, i, 1); !ok {
				return Page{}, errBadJSON
			}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return Page{}, errBadJSON
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return Page{}, errBadJSON
		}
		i = skipSpace(b, i+1)
	}
	if skipSpace(b, i+1) != len(b) {
		return Page{}, errBadJSON
	}
	if !sawData {
		return Page{}, errNoData
	}
	return page, nil
}

// splitArray expects b[i] == '[' and returns the elements as sub-slices of b and the index after ']'.
func splitArray(b []byte, i int) ([]json.RawMessage, int, error) {
	records := []json.RawMessage{}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return records, i + 1, nil
	}
	for {
		end, ok := skipValue(b, i, 2)
		if !ok {
			return nil, end, errBadJSON
		}
		records = append(records, json.RawMessage(b[i:end:end]))
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, i, errBadJSON
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return records, i + 1, nil
		default:
			return nil, i, errBadJSON
		}
	}
}

// stringValue turns a quoted JSON string (already checked by skipString) into Go text. Plain strings, the
// usual case for keys and tokens, avoid the decoder.
func stringValue(quoted []byte) (string, error) {
	inner := quoted[1 : len(quoted)-1]
	plain := true
	for _, c := range inner {
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return "", err
	}
	return s, nil
}
