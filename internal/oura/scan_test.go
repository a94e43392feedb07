package oura

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

var jsonSamples = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `"x"`, ` {"a" : [1, 2, {"b":null}]} `,
	`"\u00e9\n\t\"\\\/"`, "\"\xff\xfe\"", `{"a":1,"a":2}`, "[1,\n2]",
	// invalid
	``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{a:1}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`, `tru`, `nul`,
	`"abc`, `"\x"`, `"\u12"`, "\"a\nb\"", `[1 2]`, `{"a":1 "b":2}`, `1 2`, `{"data":[1]}x`, `NaN`, `"\u00zz"`,
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
}

func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range jsonSamples {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("validJSON(%.40q) = %v, encoding/json says %v", s, got, want)
		}
	}
}

// FuzzValidJSON checks the scanner against encoding/json on arbitrary input, and that splitPage returns
// exactly the elements encoding/json finds in "data". Run with: go test -fuzz FuzzValidJSON ./internal/oura
func FuzzValidJSON(f *testing.F) {
	for _, s := range jsonSamples {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"data":[{"id":"a"}, 1, "x", [2]],"next_token":"n\u0041"}`))
	f.Add([]byte(`{"next_token":null,"data":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := validJSON(b), json.Valid(b)
		if got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", b, got, want)
		}
		page, err := inspectBody(b, true)
		if (err == errBadJSON) == want {
			t.Fatalf("inspectBody(%q) = %v, but encoding/json.Valid says %v", b, err, want)
		}
		// The reference: keys matched exactly (encoding/json's struct decoding would ignore case).
		var env map[string]json.RawMessage
		var data []json.RawMessage
		var token *string
		isPage := want && json.Unmarshal(b, &env) == nil && env != nil &&
			json.Unmarshal(env["data"], &data) == nil && data != nil &&
			(env["next_token"] == nil || json.Unmarshal(env["next_token"], &token) == nil)
		if err != nil {
			// A well-formed page must never be refused (duplicate keys aside, where the two may differ).
			dup := bytes.Count(b, []byte(`"data"`)) > 1 || bytes.Count(b, []byte(`"next_token"`)) > 1
			if isPage && !dup {
				t.Fatalf("inspectBody refused a list page %q: %v", b, err)
			}
			return
		}
		if !isPage {
			t.Fatalf("inspectBody accepted %q, which is not a list page", b)
		}
		if len(data) != len(page.Records) {
			t.Fatalf("%q: %d records, encoding/json finds %d", b, len(page.Records), len(data))
		}
		for i, r := range data {
			if !bytes.Equal(r, page.Records[i]) {
				t.Fatalf("%q: record %d = %s, want %s", b, i, page.Records[i], r)
			}
		}
		wantToken := ""
		if token != nil {
			wantToken = *token
		}
		if page.NextToken != wantToken {
			t.Fatalf("%q: next_token %q, want %q", b, page.NextToken, wantToken)
		}
	})
}

func TestSplitPageKeepsRecordsAsSubSlices(t *testing.T) {
	body := []byte(`{"data":[{"id":"a"},{"id":"b"}],"next_token":"x"}`)
	page, err := splitPage(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != 2 || &page.Records[0][0] != &body[9] {
		t.Errorf("records are not sub-slices of the body")
	}
	// Appending to a record must not overwrite the body that follows it.
	_ = append(page.Records[0], 'Z')
	if string(body) != `{"data":[{"id":"a"},{"id":"b"}],"next_token":"x"}` {
		t.Errorf("appending to a record changed the body: %s", body)
	}
}

// samplePage builds a page like Oura's activity pages: n documents with 5-minute and per-minute series.
func samplePage(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%08d-ccdb-49bf-84f5-d06a77873f25","class_5_min":"%s","score":86,`+
			`"contributors":{"meet_daily_targets":43,"move_every_hour":100,"recovery_time":100,"stay_active":98},`+
			`"day":"2024-11-11","met":{"interval":60.0,"items":[`, i, strings.Repeat("0123", 72))
		for j := range 1440 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d.%d", j%7, j%10)
		}
		b.WriteString(`],"timestamp":"2024-11-11T04:00:00.000+01:00"},"steps":10234,"label":null,` +
			`"timestamp":"2024-11-11T04:00:00+01:00","note":"caf\u00e9 \"quoted\""}`)
	}
	b.WriteString(`],"next_token":"eyJwYWdlIjoyfQ=="}`)
	return b.Bytes()
}

func TestSamplePageSplits(t *testing.T) {
	body := samplePage(3)
	page, err := splitPage(body)
	if err != nil || len(page.Records) != 3 || page.NextToken != "eyJwYWdlIjoyfQ==" {
		t.Fatalf("splitPage: %d records, token %q, err %v", len(page.Records), page.NextToken, err)
	}
	if !json.Valid(body) {
		t.Fatal("sample page is not valid JSON")
	}
}

// BenchmarkInspectPage measures what the client does with each list page body: check it and cut it into
// records. The target is about 100 MB/s on 2 cores.
func BenchmarkInspectPage(b *testing.B) {
	body := samplePage(500)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := inspectBody(body, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodingJSONValid is the baseline the scanner replaces.
func BenchmarkEncodingJSONValid(b *testing.B) {
	body := samplePage(500)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !json.Valid(body) {
			b.Fatal("invalid")
		}
	}
}
