package jsonscan

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// topField is what a read knows of one top-level key of its records (see Schema.ForRead).
type topField struct {
	child *Schema // the key's schema; nil: any value
	bit   uint8   // the key's bit in Result.MissingKeys when it is a primary-key field, else 0
}

// MaxKeys is the most primary-key fields Schema.ForRead watches (Result.MissingKeys has one bit each).
const MaxKeys = 8

// ForRead returns a copy of s (nil: any value) for one stream's read that also learns, in the same pass that
// validates and splits each record, two things about the record's top-level keys:
//
//   - Result.Undeclared lists the keys that neither s nor declared names. With declared nil nothing is
//     reported: a read that knows no configured schema has nothing to compare with.
//   - Result.MissingKeys has bit i set when keys[i] is absent or null (keys past MaxKeys are ignored).
//
// The top-level lookup replaces the one validation makes anyway, so a record whose keys are all declared costs
// no more than before, and a run of records with the same undeclared keys shares one slice.
func (s *Schema) ForRead(declared []string, keys []string) *Schema {
	out := Schema{types: tAny}
	if s != nil {
		out = *s
	}
	out.top = make(map[string]topField, len(out.props)+len(declared)+len(keys))
	for name, child := range out.props {
		out.top[name] = topField{child: child}
	}
	for _, name := range declared {
		if _, ok := out.top[name]; !ok {
			out.top[name] = topField{}
		}
	}
	for i, name := range keys {
		if i >= MaxKeys {
			break
		}
		f := out.top[name]
		f.bit = 1 << i
		out.top[name] = f
		out.keyMask |= f.bit
	}
	out.checkDeclared = declared != nil
	return &out
}

// noteTop notes a record's top-level key (keyBytes) when the schema does not declare it, and returns what the
// schema knows of it.
func (sc *scanner) noteTop(s *Schema, keyBytes []byte) topField {
	f, ok := s.top[string(keyBytes)] // no allocation: the compiler reads the map in place
	if !ok && s.checkDeclared {
		sc.undeclared = append(sc.undeclared, keyBytes)
	}
	return f
}

// finishTop fills the Result's Undeclared and MissingKeys once a record has been scanned. The undeclared keys
// of consecutive records are usually the same (a field Oura added is in every document), so the last slice is
// handed out again when it matches: the common case allocates nothing.
func (sc *scanner) finishTop(s *Schema, res *Result) {
	res.MissingKeys = s.keyMask &^ sc.keysSeen
	if len(sc.undeclared) == 0 {
		return
	}
	same := len(sc.undeclared) == len(sc.lastUndeclared)
	for i := 0; same && i < len(sc.undeclared); i++ {
		same = string(sc.undeclared[i]) == sc.lastUndeclared[i]
	}
	if !same {
		names := make([]string, len(sc.undeclared))
		for i, k := range sc.undeclared {
			names[i] = validKey(k)
		}
		sc.lastUndeclared = names
	}
	res.Undeclared = sc.lastUndeclared
}

// validKey is a key as encoding/json reads it: each byte that is not UTF-8 becomes U+FFFD, so a name
// logged or compared later is the one a JSON reader of the record sees. Keys with escapes were decoded
// already; a raw key holds no quote or backslash, so quoting it again is exact.
func validKey(k []byte) string {
	if utf8.Valid(k) {
		return string(k)
	}
	var name string
	if json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &name) != nil {
		return strings.ToValidUTF8(string(k), "\uFFFD")
	}
	return name
}
