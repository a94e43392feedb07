package protocol

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// recordLine writes one record through a fixed-clock writer and returns its line.
func recordLine(t *testing.T, prefix RecordPrefix, data string) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	w := fixedWriter(&buf)
	err := w.Record(prefix, []byte(data))
	if ferr := w.Flush(); ferr != nil {
		t.Fatal(ferr)
	}
	return buf.String(), err
}

// TestAccountColumnIsFirstMemberRestUnchanged: with an account column the data object starts
// with it, and everything after the record's opening brace follows byte for byte, for every
// shape of object Oura can send: members, an empty object, whitespace around the brace, and
// a record spanning lines (compacted as without the column).
func TestAccountColumnIsFirstMemberRestUnchanged(t *testing.T) {
	acc := NewRecordPrefix("daily_sleep", "").WithAccount(AccountColumn{Name: "oura_account", Value: "p-01"})
	const head = `{"type":"RECORD","record":{"stream":"daily_sleep","data":{"oura_account":"p-01"`
	const tail = `,"emitted_at":1700000000123}}` + "\n"
	cases := map[string]string{
		`{"id":"a","day":"2024-01-01","score":80}`: `,"id":"a","day":"2024-01-01","score":80}`,
		`{}`:                        `}`,
		`{ }`:                       `}`,
		"\t{\t}":                    `}`,
		` { "id" : 1 } `:            `,"id" : 1 } `,
		"{\n  \"id\": \"b\"\n}":     `,"id":"b"}`,
		`{"n":{"x":[1,{}]},"e":""}`: `,"n":{"x":[1,{}]},"e":""}`,
	}
	for in, wantData := range cases {
		got, err := recordLine(t, acc, in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if want := head + wantData + tail; got != want {
			t.Errorf("%q:\n got %s\nwant %s", in, got, want)
		}
		var m Message
		if err := json.Unmarshal([]byte(got), &m); err != nil || m.Record == nil {
			t.Fatalf("%q: line is not a RECORD message: %v\n%s", in, err, got)
		}
		var data map[string]any
		if err := json.Unmarshal(m.Record.Data, &data); err != nil || data["oura_account"] != "p-01" {
			t.Errorf("%q: data %s does not carry the account: %v", in, m.Record.Data, err)
		}
	}
}

// TestAccountColumnOffIsByteIdentical: the zero AccountColumn writes exactly the line the
// prefix writes without it, so connections with the setting off do not change.
func TestAccountColumnOffIsByteIdentical(t *testing.T) {
	for _, in := range []string{`{"id":"a"}`, `{}`, " {\n\"id\": 1}", `[1]`} {
		plain, perr := recordLine(t, NewRecordPrefix("tags", "ns"), in)
		off, oerr := recordLine(t, NewRecordPrefix("tags", "ns").WithAccount(AccountColumn{}), in)
		if plain != off || (perr == nil) != (oerr == nil) {
			t.Errorf("%q: off %q (%v), plain %q (%v)", in, off, oerr, plain, perr)
		}
	}
}

// TestAccountColumnValueEscaped: labels with quotes, backslashes, control characters, HTML
// characters and invalid UTF-8 still give one valid line whose value reads back as the label
// (invalid bytes as U+FFFD).
func TestAccountColumnValueEscaped(t *testing.T) {
	for label, want := range map[string]string{
		`a"b\c`:           `a"b\c`,
		"tab\tnl\nx":      "tab\tnl\nx",
		"<p&q>":           "<p&q>",
		"caf\xff":         "caf\uFFFD",
		"Zoë 🐢":           "Zoë 🐢",
		`","x":"injected`: `","x":"injected`,
	} {
		prefix := NewRecordPrefix("s", "").WithAccount(AccountColumn{Name: "oura_account", Value: label})
		line, err := recordLine(t, prefix, `{"id":"a"}`)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.ValidString(line) || strings.Count(line, "\n") != 1 {
			t.Fatalf("%q: line is not one valid UTF-8 line: %q", label, line)
		}
		var m struct {
			Record struct {
				Data map[string]any `json:"data"`
			} `json:"record"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%q: %v\n%s", label, err, line)
		}
		if m.Record.Data["oura_account"] != want || m.Record.Data["id"] != "a" || len(m.Record.Data) != 2 {
			t.Errorf("%q: data %v", label, m.Record.Data)
		}
	}
}

// TestAccountColumnRefusesNonObjects: data that is not an object cannot carry a column; the
// writer says so and writes nothing rather than a broken line.
func TestAccountColumnRefusesNonObjects(t *testing.T) {
	acc := NewRecordPrefix("s", "").WithAccount(AccountColumn{Name: "oura_account", Value: "x"})
	for _, in := range []string{`[1,2]`, `"s"`, ``, `   `, `{`, `  {  `} {
		line, err := recordLine(t, acc, in)
		if err == nil || !strings.Contains(err.Error(), "account column") || line != "" {
			t.Errorf("%q: err %v, wrote %q", in, err, line)
		}
	}
}

// BenchmarkRecordAccountColumn compares writing a heart-rate-sized record with and without
// the account column: the splice must not add an encoding step.
func BenchmarkRecordAccountColumn(b *testing.B) {
	data := []byte(`{"bpm":61,"source":"sleep","timestamp":"2026-03-01T02:05:00+00:00","timestamp_unix":1772330700000}`)
	for _, c := range []struct {
		name   string
		prefix RecordPrefix
	}{
		{"off", NewRecordPrefix("heart_rate", "")},
		{"on", NewRecordPrefix("heart_rate", "").WithAccount(AccountColumn{Name: "oura_account", Value: "8f0e5c1a-participant"})},
	} {
		b.Run(c.name, func(b *testing.B) {
			w := NewWriter(io.Discard, nil)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := w.Record(c.prefix, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
