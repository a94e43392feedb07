package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestMembersLocateEveryPart: each member's key is decoded and its lead, key and value offsets
// cut exactly the whitespace, key token and value out of the document, escapes and nesting
// included; the end is just past the closing brace.
func TestMembersLocateEveryPart(t *testing.T) {
	doc := `{ "a" : "x\"}" ,` + "\n  " + `"i\u0064":[1,{"b":"]"}],"c":null }  `
	ms, end, err := Members([]byte(doc), 0)
	if err != nil {
		t.Fatal(err)
	}
	if end != strings.LastIndexByte(doc, '}')+1 {
		t.Errorf("end %d, want just past the closing brace", end)
	}
	want := []struct{ key, lead, keyTok, value string }{
		{"a", " ", `"a"`, `"x\"}"`},
		{"id", "\n  ", `"i\u0064"`, `[1,{"b":"]"}]`},
		{"c", "", `"c"`, `null`},
	}
	if len(ms) != len(want) {
		t.Fatalf("%d members, want %d: %+v", len(ms), len(want), ms)
	}
	for i, w := range want {
		m := ms[i]
		got := []string{m.Key, doc[m.Lead:m.KeyStart], doc[m.KeyStart:m.KeyEnd], doc[m.ValueStart:m.ValueEnd]}
		if got[0] != w.key || got[1] != w.lead || got[2] != w.keyTok || got[3] != w.value {
			t.Errorf("member %d: %q, want %q", i, got, w)
		}
	}
	if ms, end, err := Members([]byte(`x{ }`), 1); err != nil || len(ms) != 0 || end != 4 {
		t.Errorf("empty object: %v %d %v", ms, end, err)
	}
}

// TestMembersRefuseWhatIsNotAnObject: every sample object encoding/json refuses is refused,
// every one it accepts is read to its end, and too deep a value is ErrTooDeep.
func TestMembersRefuseWhatIsNotAnObject(t *testing.T) {
	for _, s := range append(jsonSamples, `{"a":1,}`, `{"a" 1}`, `{"a":1`, `{"a":tru}`, `{"a":1}}`, `{"a":"\x"}`, `[1]`, ``) {
		ms, end, err := Members([]byte(s), skipSpace([]byte(s), 0))
		whole := err == nil && skipSpace([]byte(s), end) == len(s)
		var m map[string]json.RawMessage
		if want := json.Unmarshal([]byte(s), &m) == nil && m != nil && maxNesting([]byte(s)) <= MaxDepth; whole != want {
			t.Errorf("Members(%.40q) = %d members to %d, %v; encoding/json reads an object: %v", s, len(ms), end, err, want)
		}
	}
	deep := `{"a":` + nested(MaxDepth) + `}`
	if _, _, err := Members([]byte(deep), 0); !errors.Is(err, ErrTooDeep) {
		t.Errorf("a value %d levels deep: %v, want ErrTooDeep", MaxDepth, err)
	}
}
