// Package jsonscan is the connector's one JSON scanner. In a single pass over the bytes it checks a value by
// the rules of encoding/json.Valid, limits its nesting, notices invalid UTF-8 and checks it against a stream
// schema compiled from schemas/*.json; PageReader uses the same pass to cut a list page's "data" array into
// records as the body arrives, through a buffer bounded in bytes.
//
// encoding/json.Valid runs at about 95 MB/s on number-heavy Oura pages and would need a second pass to split
// them and a third to validate; this scanner does all three at the speed of one.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects a record may have. Oura's documents nest four
// levels; common JSON readers (the platform's included) give up in the low thousands, so a deeper record
// would be written as a line nobody can read. Such a record is refused (not written, counted and logged).
const MaxDepth = 512

// MaxRecord is the largest record, in bytes, PageReader will hold. Oura's largest documents are tens of
// KB; a bigger element ends the page with ErrTooLarge instead of growing the buffer.
const MaxRecord = 64 << 20

// status is the outcome of scanning one value.
type status uint8

const (
	stOK     status = iota
	stShort         // the bytes ended inside the value: more are needed
	stSyntax        // not JSON
	stDeep          // nested deeper than MaxDepth
)

// Schema is a stream schema compiled for checking records in their raw bytes. It understands only what the
// connector's schemas use (type, properties, items, format, additionalProperties: true, and annotations);
// Compile refuses anything else.
type Schema struct {
	types  typeSet
	format string
	props  map[string]*Schema
	items  *Schema

	// Set by ForRead: the record's top-level keys, the primary-key bits, and whether undeclared keys are
	// reported.
	top           map[string]topField
	keyMask       uint8
	checkDeclared bool
}

// Result is what one scan found out about a value.
type Result struct {
	// SchemaOK is false when the value does not match the schema; Failure then says where and why (the first
	// failure only, e.g. `/bpm: a number with a fraction or exponent where the schema asks for an integer`).
	SchemaOK bool
	Failure  string
	// Cursor is the value's top-level string for the cursor field, "" when absent or not a string.
	Cursor string
	// Object reports whether the value is a JSON object.
	Object bool
	// BadUTF8 reports that a string held bytes that are not UTF-8; Fixed then holds a copy with each such
	// byte replaced by U+FFFD, as encoding/json does when it decodes.
	BadUTF8 bool
	Fixed   []byte
	// Undeclared lists the top-level keys the schema does not know, and MissingKeys marks the primary-key
	// fields that are absent or null; both only for a schema made by ForRead. Undeclared may be shared
	// between results: do not change it.
	Undeclared  []string
	MissingKeys uint8
}

// Errors of Check and PageReader.
var (
	// ErrSyntax: the bytes are not JSON.
	ErrSyntax = errors.New("the body is not valid JSON")
	// ErrTooDeep: a record is nested deeper than MaxDepth.
	ErrTooDeep = errors.New("the record is nested deeper than 512 levels")
)

// Check scans raw, which must hold exactly one JSON value, against s (nil accepts any value). It returns
// ErrSyntax or ErrTooDeep when the value cannot be written as a record.
func Check(raw []byte, s *Schema, cursorField string) (Result, error) {
	sc := scanner{b: raw, cursorField: cursorField, eof: true}
	res, end, st := sc.record(skipSpace(raw, 0), s)
	switch {
	case st == stDeep:
		return res, ErrTooDeep
	case st != stOK || skipSpace(raw, end) != len(raw):
		return res, ErrSyntax
	}
	return res, nil
}

// Valid reports whether b holds exactly one JSON value nested at most MaxDepth deep, optionally surrounded by
// whitespace. Below that depth it agrees with encoding/json.Valid (a fuzz target holds it to that).
func Valid(b []byte) bool {
	_, err := Check(b, nil, "")
	return err == nil
}

// scanner walks one buffer. Positions are byte offsets into b.
type scanner struct {
	b           []byte
	eof         bool // b holds every byte there will be: running out is a syntax error, not stShort
	cursorField string

	cursor   string
	fail     string   // first schema failure's reason
	failSegs []string // its path, innermost segment first, filled as the recursion unwinds
	failNext int      // depth of the container that adds the next segment
	badUTF8  bool

	undeclared     [][]byte // this record's undeclared top-level keys (ForRead), pointing into b
	lastUndeclared []string // the Undeclared handed out last, to hand out again when it matches
	keysSeen       uint8    // primary-key bits of the keys with a value other than null
}

// record scans one value at i as a record: the schema failure, cursor and UTF-8 findings go in the Result.
func (sc *scanner) record(i int, s *Schema) (Result, int, status) {
	sc.cursor, sc.fail, sc.failSegs, sc.failNext, sc.badUTF8 = "", "", sc.failSegs[:0], 0, false
	sc.undeclared, sc.keysSeen = sc.undeclared[:0], 0
	end, ok, st := sc.value(i, s, 0)
	res := Result{SchemaOK: ok, Cursor: sc.cursor, BadUTF8: sc.badUTF8}
	if st != stOK {
		return res, end, st
	}
	res.Object = sc.b[i] == '{'
	if res.Object && s != nil && s.top != nil {
		sc.finishTop(s, &res)
	}
	if !ok {
		path := ""
		for k := len(sc.failSegs) - 1; k >= 0; k-- {
			path += "/" + sc.failSegs[k]
		}
		if path == "" {
			path = "/"
		}
		res.Failure = path + ": " + sc.fail
	}
	if sc.badUTF8 {
		res.Fixed = fixUTF8(sc.b[i:end])
	}
	return res, end, stOK
}

// short reports running out of bytes at the end of the buffer: stShort while more may come, else stSyntax.
func (sc *scanner) short() status {
	if sc.eof {
		return stSyntax
	}
	return stShort
}

// failed notes a schema failure of a value inside the container at depth parent (0: the record itself); the
// first one wins, and each container on the way up adds its key or index to the path.
func (sc *scanner) failed(reason string, parent int) {
	if sc.fail == "" {
		sc.fail, sc.failNext = reason, parent
	}
}

// annotate adds seg to the failure's path when the failure lies inside the container at depth.
func (sc *scanner) annotate(depth int, seg string) {
	if sc.fail != "" && sc.failNext == depth {
		sc.failSegs = append(sc.failSegs, seg)
		sc.failNext--
	}
}

// isSpace marks JSON whitespace; a table keeps skipSpace small enough to inline.
var isSpace = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace[b[i]] {
		i++
	}
	return i
}

// value checks the value at b[i] against s (nil: anything) and returns the offset after it, whether it
// matches the schema, and the scan status.
func (sc *scanner) value(i int, s *Schema, depth int) (int, bool, status) {
	b := sc.b
	if i >= len(b) {
		return i, false, sc.short()
	}
	want := tAny
	if s != nil {
		want = s.types
	}
	switch c := b[i]; {
	case c == '{':
		if depth >= MaxDepth {
			return i, false, stDeep
		}
		return sc.object(i, s, want, depth+1)
	case c == '[':
		if depth >= MaxDepth {
			return i, false, stDeep
		}
		end, ok, st := sc.array(i, s, depth+1)
		if st == stOK && want&tArray == 0 {
			sc.failed("an array where the schema does not allow one", depth)
			ok = false
		}
		return end, ok, st
	case c == '"':
		end, plain, st := sc.str(i)
		if st != stOK {
			return end, false, st
		}
		if want&tString == 0 {
			sc.failed("a string where the schema does not allow one", depth)
			return end, false, stOK
		}
		if s != nil && s.format != "" {
			// Escapes are rare in Oura's documents (a "\u002B" in an offset is still a valid date-time):
			// the text is checked decoded, as jsonschema/v5 does.
			text, ok := unquote(b[i:end], plain)
			if !ok {
				return end, false, stSyntax
			}
			if !formatOK(s.format, text) {
				sc.failed("not a valid "+s.format, depth)
				return end, false, stOK
			}
		}
		return end, true, stOK
	case c == 't':
		end, st := sc.lit(i, "true")
		return end, sc.typeOK(want, tBool, "a boolean", depth), st
	case c == 'f':
		end, st := sc.lit(i, "false")
		return end, sc.typeOK(want, tBool, "a boolean", depth), st
	case c == 'n':
		end, st := sc.lit(i, "null")
		return end, sc.typeOK(want, tNull, "null", depth), st
	case c == '-' || c-'0' < 10:
		end, integer, st := sc.number(i)
		if st != stOK {
			return end, false, st
		}
		if integer {
			return end, sc.typeOK(want, tInteger, "an integer", depth), stOK
		}
		if want&tNumber == 0 && want&tInteger != 0 {
			// jsonschema/v5 takes 1.0 for an integer; the acceptance tests and typed destinations do not.
			sc.failed("a number with a fraction or exponent where the schema asks for an integer", depth)
			return end, false, stOK
		}
		return end, sc.typeOK(want, tNumber, "a number", depth), stOK
	}
	return i, false, stSyntax
}

func (sc *scanner) typeOK(want, got typeSet, what string, depth int) bool {
	if want&got == 0 {
		sc.failed(what+" where the schema does not allow one", depth)
		return false
	}
	return true
}

func (sc *scanner) object(i int, s *Schema, want typeSet, depth int) (int, bool, status) {
	b := sc.b
	valid := want&tObject != 0
	if !valid {
		sc.failed("an object where the schema does not allow one", depth-1)
	}
	top := depth == 1
	i = skipSpace(b, i+1)
	if i >= len(b) {
		return i, false, sc.short()
	}
	if b[i] == '}' {
		return i + 1, valid, stOK
	}
	for {
		if i >= len(b) {
			return i, false, sc.short()
		}
		if b[i] != '"' {
			return i, false, stSyntax
		}
		end, plain, st := sc.str(i)
		if st != stOK {
			return end, false, st
		}
		keyBytes, ok := unquote(b[i:end], plain)
		if !ok {
			return end, false, stSyntax
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return i, false, sc.short()
		}
		if b[i] != ':' {
			return i, false, stSyntax
		}
		i = skipSpace(b, i+1)
		var child *Schema
		var keyBit uint8
		if top && s != nil && s.top != nil {
			f := sc.noteTop(s, keyBytes)
			child, keyBit = f.child, f.bit
		} else if s != nil && s.props != nil {
			child = s.props[string(keyBytes)] // no allocation: the compiler reads the map in place
		}
		start := i
		if i, ok, st = sc.value(i, child, depth); st != stOK {
			return i, false, st
		}
		if keyBit != 0 && b[start] != 'n' {
			sc.keysSeen |= keyBit
		}
		if !ok {
			valid = false
			sc.annotate(depth, string(keyBytes))
		}
		if top && sc.cursorField != "" && b[start] == '"' && string(keyBytes) == sc.cursorField {
			if text, ok := unquote(b[start:i], bytes.IndexByte(b[start+1:i-1], '\\') < 0); ok {
				sc.cursor = string(text)
			}
		}
		var done bool
		if i, done, st = sc.afterMember(i, '}'); st != stOK || done {
			return i, valid && st == stOK, st
		}
	}
}

// afterMember reads what follows a member of an object or an element of an array: closer ends
// the container (done, i just past it), a comma leads to the next member (i at its first byte),
// anything else is a syntax error.
func (sc *scanner) afterMember(i int, closer byte) (int, bool, status) {
	b := sc.b
	i = skipSpace(b, i)
	if i >= len(b) {
		return i, false, sc.short()
	}
	switch b[i] {
	case closer:
		return i + 1, true, stOK
	case ',':
		return skipSpace(b, i+1), false, stOK
	}
	return i, false, stSyntax
}

func (sc *scanner) array(i int, s *Schema, depth int) (int, bool, status) {
	b := sc.b
	var items *Schema
	if s != nil {
		items = s.items
	}
	valid := true
	i = skipSpace(b, i+1)
	if i >= len(b) {
		return i, false, sc.short()
	}
	if b[i] == ']' {
		return i + 1, true, stOK
	}
	for n := 0; ; n++ {
		var ok bool
		var st status
		if i, ok, st = sc.value(i, items, depth); st != stOK {
			return i, false, st
		}
		if !ok {
			valid = false
			sc.annotate(depth, strconv.Itoa(n))
		}
		var done bool
		if i, done, st = sc.afterMember(i, ']'); st != stOK || done {
			return i, valid && st == stOK, st
		}
	}
}

// unquote returns the text of the JSON string token tok, quotes included. plain is what str
// said: no escapes, so the text is tok's own bytes and nothing is allocated. ok is false for
// an escape encoding/json refuses.
func unquote(tok []byte, plain bool) (text []byte, ok bool) {
	if plain {
		return tok[1 : len(tok)-1], true
	}
	var s string
	if json.Unmarshal(tok, &s) != nil {
		return nil, false
	}
	return []byte(s), true
}

// strClass sorts string bytes: 0 may appear as is, 1 ends the plain run (quote, backslash, control
// character), 2 starts a multi-byte UTF-8 sequence that must be checked.
var strClass = func() (t [256]uint8) {
	for i := range t {
		switch {
		case i < 0x20 || i == '"' || i == '\\':
			t[i] = 1
		case i >= 0x80:
			t[i] = 2
		}
	}
	return t
}()

// str expects b[i] == '"' and returns the offset after the closing quote and whether the string has no
// escapes (its text is then b[i+1:end-1]).
func (sc *scanner) str(i int) (end int, plain bool, st status) {
	b := sc.b
	plain = true
	i++
	for {
		for i < len(b) && strClass[b[i]] == 0 {
			i++
		}
		if i >= len(b) {
			return i, false, sc.short()
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, plain, stOK
		case c == '\\':
			plain = false
			if i+1 >= len(b) {
				return len(b), false, sc.short()
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 {
					return len(b), false, sc.short()
				}
				if !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, false, stSyntax
				}
				i += 6
			default:
				return i, false, stSyntax
			}
		case c >= 0x80:
			// A rune cut by the end of the buffer looks invalid here, but the string then ends short
			// and the value is scanned again, flags reset, once the rest has arrived.
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				sc.badUTF8 = true
			}
			i += size
		default: // a raw control character
			return i, false, stSyntax
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (sc *scanner) lit(i int, word string) (int, status) {
	b := sc.b
	n := min(len(b)-i, len(word))
	if string(b[i:i+n]) != word[:n] {
		return i, stSyntax
	}
	if n < len(word) {
		return len(b), sc.short()
	}
	return i + n, stOK
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i]-'0' < 10 {
		i++
	}
	return i
}

// number follows the JSON grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; integer is true when it has
// neither fraction nor exponent. A number that reaches the end of an unfinished buffer is short: more digits
// may follow.
func (sc *scanner) number(i int) (end int, integer bool, st status) {
	b := sc.b
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return i, false, sc.short()
	case b[i] == '0':
		i++
	case b[i]-'1' < 9:
		i = skipDigits(b, i+1)
	default:
		return i, false, stSyntax
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		integer = false
		j := skipDigits(b, i+1)
		if j == i+1 {
			if j >= len(b) {
				return j, false, sc.short()
			}
			return j, false, stSyntax
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		integer = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			if j >= len(b) {
				return j, false, sc.short()
			}
			return j, false, stSyntax
		}
		i = j
	}
	if i >= len(b) && !sc.eof {
		return i, false, stShort
	}
	return i, integer, stOK
}

// fixUTF8 copies raw with each byte that is not part of a valid UTF-8 sequence replaced by U+FFFD. Such bytes
// can only sit inside strings (anywhere else they are a syntax error), so the copy is still valid JSON.
func fixUTF8(raw []byte) []byte {
	out := make([]byte, 0, len(raw)+16)
	for i := 0; i < len(raw); {
		if raw[i] < utf8.RuneSelf {
			out = append(out, raw[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && size == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, raw[i:i+size]...)
		}
		i += size
	}
	return out
}
