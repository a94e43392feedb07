package streams

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestWithAccountColumnOffAndTwice: an empty column leaves the catalog byte for byte as it
// was, and a catalog that already declares the column (applied twice) gets it only once, in
// its schema and in its keys.
func TestWithAccountColumnOffAndTwice(t *testing.T) {
	encode := func() []byte {
		c, err := Catalog()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(c)
		return b
	}
	plain := encode()
	c, _ := Catalog()
	if err := WithAccountColumn(c, ""); err != nil {
		t.Fatal(err)
	}
	if off, _ := json.Marshal(c); !bytes.Equal(off, plain) {
		t.Fatal("an empty column changed the catalog")
	}
	for range 2 {
		if err := WithAccountColumn(c, "oura_account"); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range c.Streams {
		if n := bytes.Count(s.JSONSchema, []byte(`"oura_account":`)); n != 1 {
			t.Errorf("%s: schema declares the column %d times", s.Name, n)
		}
		orig, _ := Lookup(s.Name)
		if len(s.SourceDefinedPrimaryKey) != len(orig.PrimaryKey)+1 || s.SourceDefinedPrimaryKey[0][0] != "oura_account" {
			t.Errorf("%s: primary key %v", s.Name, s.SourceDefinedPrimaryKey)
		}
	}
	if again := encode(); !bytes.Equal(again, plain) {
		t.Fatal("adding the column changed the stream table behind Catalog")
	}
}

// TestDropMemberKeepsTheRest: Oura's own account member goes wherever it stands (first, middle,
// last, alone, repeated) and the bytes around it stay as they were, still one valid object.
func TestDropMemberKeepsTheRest(t *testing.T) {
	for in, want := range map[string]string{
		`{"oura_account":"x","id":"1"}`:                         `{"id":"1"}`,
		`{"id":"1", "oura_account" : null ,"day":"d"}`:          `{"id":"1","day":"d"}`,
		`{"id":"1","day":"d","oura_account":{"a":[1]}}`:         `{"id":"1","day":"d"}`,
		`{ "oura_account":"x" }`:                                `{ }`,
		`{"oura_account":1,"id":"1","oura_account":2}`:          `{"id":"1"}`,
		`{"id":"1","oura\u005faccount":"x","o":"oura_account"}`: `{"id":"1","o":"oura_account"}`,
	} {
		got, err := dropMember([]byte(in), "oura_account")
		if err != nil || string(got) != want || !json.Valid(got) {
			t.Errorf("%s: got %s (%v), want %s", in, got, err, want)
		}
	}
}
