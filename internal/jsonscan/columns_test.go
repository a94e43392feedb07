package jsonscan

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
)

func mustCompile(t testing.TB, doc string) *Schema {
	t.Helper()
	s, err := Compile([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const columnsSchema = `{"type":"object","properties":{"id":{"type":"string"},"day":{"type":"string"},"score":{"type":["null","integer"]},"nested":{"type":"object"}}}`

func TestForReadReportsUndeclaredTopLevelKeys(t *testing.T) {
	s := mustCompile(t, columnsSchema).ForRead([]string{"discovered"}, []string{"id"})
	res, err := Check([]byte(`{"id":"a","day":"2025-01-01","discovered":1,"new_one":2,"nested":{"inner":3},"ring\u005fid":"x"}`), s, "day")
	if err != nil {
		t.Fatal(err)
	}
	// Known by the embedded schema or by the catalog: not reported; nested keys are never top-level.
	if want := []string{"new_one", "ring_id"}; !slices.Equal(res.Undeclared, want) {
		t.Fatalf("Undeclared = %q, want %q", res.Undeclared, want)
	}
	if !res.SchemaOK || res.Cursor != "2025-01-01" || res.MissingKeys != 0 {
		t.Fatalf("the rest of the result changed: %+v", res)
	}
}

func TestForReadWithoutDeclaredReportsNothing(t *testing.T) {
	s := mustCompile(t, columnsSchema).ForRead(nil, []string{"id"})
	res, err := Check([]byte(`{"id":"a","anything":1,"else":2}`), s, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Undeclared) != 0 {
		t.Fatalf("Undeclared = %q with no declared set", res.Undeclared)
	}
	// A nil schema (one jsonscan cannot honour) still learns keys.
	res, _ = Check([]byte(`{"x":1}`), (*Schema)(nil).ForRead([]string{}, []string{"id"}), "")
	if !slices.Equal(res.Undeclared, []string{"x"}) || res.MissingKeys != 1 {
		t.Fatalf("nil schema: %+v", res)
	}
}

func TestForReadMarksMissingAndNullKeys(t *testing.T) {
	s := mustCompile(t, columnsSchema).ForRead(nil, []string{"id", "day"})
	for _, c := range []struct {
		doc  string
		want uint8
	}{
		{`{"id":"a","day":"2025-01-01"}`, 0},
		{`{"day":"2025-01-01"}`, 1},
		{`{"id":null,"day":"2025-01-01"}`, 1},
		{`{"id":"a","day":null}`, 2},
		{`{"nested":{"id":"a","day":"x"}}`, 3},
		{`{"id":0,"day":false}`, 0}, // a value of the wrong type is still a key (the schema check reports it)
	} {
		res, err := Check([]byte(c.doc), s, "")
		if err != nil {
			t.Fatal(err)
		}
		if res.MissingKeys != c.want {
			t.Errorf("%s: MissingKeys = %b, want %b", c.doc, res.MissingKeys, c.want)
		}
	}
}

func TestForReadSharesOneSliceAcrossAPage(t *testing.T) {
	s := mustCompile(t, columnsSchema).ForRead([]string{}, []string{"id"})
	page := `{"data":[{"id":"a","extra":1},{"id":"b","extra":2},{"id":"c"},{"id":"d","other":1}],"next_token":null}`
	pr := NewPageReader(strings.NewReader(page), s, "")
	var got [][]string
	for {
		el, err := pr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, el.Undeclared)
	}
	if len(got) != 4 || !slices.Equal(got[0], []string{"extra"}) || len(got[2]) != 0 || !slices.Equal(got[3], []string{"other"}) {
		t.Fatalf("Undeclared per element = %q", got)
	}
	if &got[0][0] != &got[1][0] {
		t.Fatal("two records with the same undeclared keys got two slices: every record would allocate")
	}
}

// BenchmarkForRead compares the page reader with the stream schema alone and with ForRead's
// key tracking, on records that are all declared and on records that each carry a new field.
func BenchmarkForRead(b *testing.B) {
	base := mustCompile(b, `{"type":"object","properties":{"id":{"type":"string"},"class_5_min":{"type":"string"},"score":{"type":"integer"},"contributors":{"type":"object"},"day":{"type":"string","format":"date"},"met":{"type":"object"}}}`)
	body := samplePage(200, "null")
	for _, c := range []struct {
		name string
		s    *Schema
	}{
		{"schema", base},
		{"forread", base.ForRead([]string{"id"}, []string{"id"})},
		{"forread-undeclared", mustCompile(b, `{"type":"object","properties":{"id":{"type":"string"}}}`).ForRead([]string{}, []string{"id"})},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				pr := NewPageReader(bytes.NewReader(body), c.s, "day")
				for {
					if _, err := pr.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// FuzzForRead holds ForRead's findings to encoding/json's reading of the same record: the
// undeclared keys are the top-level keys the schema and the declared list lack, and the key bit
// is set exactly when "id" is absent or null.
func FuzzForRead(f *testing.F) {
	for _, seed := range []string{`{"id":"a","x":1}`, `{"id":null}`, `{}`, `{"a\u0062":{"id":1},"score":2}`, `[{"id":1}]`, `{"id":"a","id":null}`} {
		f.Add([]byte(seed))
	}
	s := mustCompile(f, columnsSchema).ForRead([]string{"declared"}, []string{"id"})
	known := map[string]bool{"id": true, "day": true, "score": true, "nested": true, "declared": true}
	f.Fuzz(func(t *testing.T, raw []byte) {
		res, err := Check(raw, s, "")
		if err != nil || !res.Object {
			return
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			t.Fatalf("jsonscan accepted %q, encoding/json did not", raw)
		}
		want := map[string]bool{}
		for k := range m {
			if !known[k] {
				want[k] = true
			}
		}
		got := map[string]bool{}
		for _, k := range res.Undeclared {
			got[k] = true
		}
		if !maps.Equal(got, want) {
			t.Fatalf("%q: undeclared %v, want %v", raw, res.Undeclared, want)
		}
		// With a key given twice (or spelt with escapes) encoding/json keeps the last value; ForRead
		// counts any non-null one.
		if bytes.Count(raw, []byte(`"id"`)) < 2 && bytes.IndexByte(raw, '\\') < 0 {
			v, ok := m["id"]
			if missing := !ok || string(v) == "null"; missing != (res.MissingKeys == 1) {
				t.Fatalf("%q: MissingKeys %b", raw, res.MissingKeys)
			}
		}
	})
}
