package orderedjson

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDecodeKeepsKeyOrderAndNumberText(t *testing.T) {
	doc, err := DecodeObject([]byte(` {"z": 1.50, "a": [true, false, null, "x\u00e9\"y"], "m": {"k2": -0e3, "k1": {}} , "e": []} `))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"z", "a", "m", "e"}; !slices.Equal(doc.Keys, want) {
		t.Errorf("keys %v, want %v", doc.Keys, want)
	}
	if got := doc.Get("z"); got != json.Number("1.50") {
		t.Errorf("z = %#v, want the number text 1.50", got)
	}
	if got, want := doc.Get("a"), []any{true, false, nil, `xé"y`}; !reflect.DeepEqual(got, want) {
		t.Errorf("a = %#v, want %#v", got, want)
	}
	if m := doc.Child("m"); !slices.Equal(m.Keys, []string{"k2", "k1"}) || m.Get("k2") != json.Number("-0e3") || m.Child("k1").Len() != 0 {
		t.Errorf("m decoded as %+v", m)
	}
	if got := doc.Get("e"); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("e = %#v, want an empty array", got)
	}
	plain := Plain(doc)
	want := map[string]any{"z": json.Number("1.50"), "a": []any{true, false, nil, `xé"y`},
		"m": map[string]any{"k2": json.Number("-0e3"), "k1": map[string]any{}}, "e": []any{}}
	if !reflect.DeepEqual(plain, want) {
		t.Errorf("Plain = %#v, want %#v", plain, want)
	}
}

func TestDecodeRefusesBadDocuments(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a": 1, "b": {"c": 1, "c": 2}}`, `key "c" appears twice`},
		{`{"a": 1, "a": 1}`, `key "a" appears twice`},
		{`{"a": 1} {}`, "invalid JSON"},
		{`{"a": }`, "invalid JSON"},
		{``, "invalid JSON"},
		{`[1, 2]`, "want an object"},
	} {
		if _, err := DecodeObject([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DecodeObject(%s) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

func TestObjectEdits(t *testing.T) {
	var o Object
	o.Set("b", 1)
	o.Set("a", "x")
	o.Set("b", 2) // an existing key keeps its place
	if !slices.Equal(o.Keys, []string{"b", "a"}) || o.Get("b") != 2 || o.Str("a") != "x" {
		t.Fatalf("after Set: %v b=%v a=%q", o.Keys, o.Get("b"), o.Str("a"))
	}
	o.Delete("b")
	if o.Has("b") || o.Len() != 1 || o.Str("b") != "" {
		t.Errorf("after Delete: %v", o.Keys)
	}
	var missing *Object
	if missing.Get("x") != nil || missing.Has("x") || missing.Len() != 0 || missing.Child("x").Child("y") != nil {
		t.Error("a nil object must read as empty so that lookups chain")
	}
}
