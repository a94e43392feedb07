package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"source-oura/internal/ouratest"
)

var jsonSamples = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `"x"`, ` {"a" : [1, 2, {"b":null}]} `,
	`"\u00e9\n\t\"\\\/"`, "\"\xff\xfe\"", `{"a":1,"a":2}`, "[1,\n2]",
	// invalid
	``, ` `, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a"}`, `{a:1}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`, `tru`, `nul`,
	`"abc`, `"\x"`, `"\u12"`, "\"a\nb\"", `[1 2]`, `[1;2]`, `{"a":1 "b":2}`, `{"a":1;"b":2}`, `1 2`, `{"data":[1]}x`, `NaN`, `"\u00zz"`,
	nested(MaxDepth), strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
}

// nested returns an array nested n levels deep.
func nested(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// maxNesting is the deepest bracket nesting of b outside strings, for telling apart the one rule where
// Valid and encoding/json differ on purpose.
func maxNesting(b []byte) int {
	depth, deepest, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case !inStr && (c == '[' || c == '{'):
			depth++
			deepest = max(deepest, depth)
		case !inStr && (c == ']' || c == '}'):
			depth--
		}
	}
	return deepest
}

func TestValidAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range jsonSamples {
		want := json.Valid([]byte(s)) && maxNesting([]byte(s)) <= MaxDepth
		if got := Valid([]byte(s)); got != want {
			t.Errorf("Valid(%.40q) = %v, want %v", s, got, want)
		}
	}
	if Valid([]byte(nested(MaxDepth + 1))) {
		t.Errorf("Valid accepted nesting of %d levels", MaxDepth+1)
	}
}

// readPage reads every element of body through r and returns copies of their bytes.
func readPage(r io.Reader, s *Schema) ([]string, *PageReader, error) {
	return readWith(NewPageReader(r, s, ""))
}

// tinyReader is a PageReader whose buffer starts at n bytes and grows by n, so that element and token
// boundaries meet the end of the buffer everywhere.
func tinyReader(r io.Reader, n int) *PageReader {
	pr := NewPageReader(r, nil, "")
	pr.buf, pr.chunk = make([]byte, 0, n), n
	return pr
}

func readWith(pr *PageReader) ([]string, *PageReader, error) {
	var out []string
	for {
		el, err := pr.Next()
		if err == io.EOF {
			return out, pr, nil
		}
		if err != nil {
			return out, pr, err
		}
		if el.TooDeep {
			out = append(out, "TOO DEEP")
			continue
		}
		out = append(out, string(el.Raw))
	}
}

// chunkReader hands out at most n bytes per Read, so every element boundary meets a buffer end somewhere.
type chunkReader struct {
	r *bytes.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// FuzzValidJSON checks Valid against encoding/json on arbitrary input, and that PageReader, fed a few bytes
// at a time, returns exactly the elements encoding/json finds in "data" and the same next_token.
func FuzzValidJSON(f *testing.F) {
	for _, s := range jsonSamples {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"data":[{"id":"a"}, 1, "x", [2]],"next_token":"n\u0041"}`))
	f.Add([]byte(`{"next_token":null,"data":[]}`))
	f.Add([]byte(`{"data":[123,-4.5e6,7,true,null,"x"],"next_token":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b)
		deep := maxNesting(b) > MaxDepth
		if got := Valid(b); got != (want && !deep) {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
		if deep {
			return // the page reader refuses such elements one by one; TestTooDeepElementIsRefused covers it
		}
		records, pr, err := readWith(tinyReader(&chunkReader{r: bytes.NewReader(b), n: 1 + len(b)%7}, 1+len(b)%5))
		var cut *CutError
		if want && errors.As(err, &cut) {
			t.Fatalf("PageReader(%q) says %v, but encoding/json finds valid JSON", b, err)
		}
		if !want && err == nil {
			t.Fatalf("PageReader accepted %q, which is not JSON", b)
		}
		var env map[string]json.RawMessage
		var data []json.RawMessage
		var token *string
		isPage := want && json.Unmarshal(b, &env) == nil && env != nil &&
			json.Unmarshal(env["data"], &data) == nil && data != nil &&
			(env["next_token"] == nil || json.Unmarshal(env["next_token"], &token) == nil)
		dup := bytes.Count(b, []byte(`"data"`)) > 1 || bytes.Count(b, []byte(`"next_token"`)) > 1
		if err != nil {
			if isPage && !dup && !errors.Is(err, ErrLongNextToken) { // TestLongNextTokenIsRefused covers that one
				t.Fatalf("PageReader refused a list page %q: %v", b, err)
			}
			return
		}
		if !isPage {
			t.Fatalf("PageReader accepted %q, which is not a list page", b)
		}
		if dup {
			return
		}
		if len(data) != len(records) {
			t.Fatalf("%q: %d records, encoding/json finds %d", b, len(records), len(data))
		}
		for i, r := range data {
			if !utf8.Valid(r) {
				continue // the reader replaced invalid bytes; TestInvalidUTF8IsReplaced covers it
			}
			if string(r) != records[i] {
				t.Fatalf("%q: record %d = %s, want %s", b, i, records[i], r)
			}
		}
		wantToken := ""
		if token != nil {
			wantToken = *token
		}
		if pr.NextToken() != wantToken {
			t.Fatalf("%q: next_token %q, want %q", b, pr.NextToken(), wantToken)
		}
	})
}

// samplePage builds a page like Oura's activity pages: n documents with 5-minute and per-minute series.
func samplePage(n int, token string) []byte { return ouratest.ActivityPage(n, token) }

// TestPageReaderSplitsAsBytesArrive: the same elements and next_token whatever the read sizes, with
// next_token before or after "data"; elements are Oura's bytes unchanged.
func TestPageReaderSplitsAsBytesArrive(t *testing.T) {
	body := samplePage(5, `"eyJwYWdlIjoyfQ=="`)
	var env struct{ Data []json.RawMessage }
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	tokenFirst := append([]byte(`{"next_token":"eyJwYWdlIjoyfQ==","other":{"x":[1,2]},`), body[1:bytes.LastIndex(body, []byte(`,"next_token"`))]...)
	tokenFirst = append(tokenFirst, '}')
	for name, r := range map[string]func([]byte) io.Reader{
		"whole":     func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte":  func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"half read": func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
	} {
		for k, b := range [][]byte{body, tokenFirst, body, tokenFirst} {
			var records []string
			var pr *PageReader
			var err error
			if k < 2 {
				records, pr, err = readPage(r(b), nil)
			} else {
				records, pr, err = readWith(tinyReader(r(b), 3)) // boundaries everywhere
			}
			if err != nil || pr.NextToken() != "eyJwYWdlIjoyfQ==" || len(records) != len(env.Data) {
				t.Fatalf("%s: %d records, token %q, err %v", name, len(records), pr.NextToken(), err)
			}
			for i := range records {
				if records[i] != string(env.Data[i]) {
					t.Fatalf("%s: record %d differs", name, i)
				}
			}
		}
	}
}

// TestScalarElementsSplitAcrossReads: numbers and literals as elements, arriving a byte at a time, are not
// taken as complete before their last byte (a number may go on in the next read).
func TestScalarElementsSplitAcrossReads(t *testing.T) {
	body := `{"data":[123,-4.5e6,7,true,null,"x"],"next_token":null}`
	for n := 1; n < len(body); n++ {
		records, _, err := readWith(tinyReader(iotest.OneByteReader(strings.NewReader(body)), n))
		if err != nil || strings.Join(records, " ") != `123 -4.5e6 7 true null "x"` {
			t.Fatalf("buffer of %d: got %q, %v", n, records, err)
		}
	}
}

// TestEveryCutIsReported: read through a buffer of any size, the body gives the same elements; cut at any
// byte before its end, it gives a *CutError (never io.EOF) after only the elements that arrived whole.
func TestEveryCutIsReported(t *testing.T) {
	body := []byte(`{"data":[{"a":1},{"b":[1.5,"x\u00e9"]},2,{"c":null,"d":"é€😀"}],"next_token":"t"} `)
	full, _, err := readPage(bytes.NewReader(body), nil)
	if err != nil || len(full) != 4 {
		t.Fatalf("whole body: %v %v", full, err)
	}
	for n := 1; n < len(body); n++ {
		records, _, err := readWith(tinyReader(iotest.OneByteReader(bytes.NewReader(body)), n))
		if err != nil || strings.Join(records, " ") != strings.Join(full, " ") {
			t.Fatalf("buffer of %d bytes: %q, %v", n, records, err)
		}
	}
	for cut := 0; cut < len(body)-1; cut++ {
		records, _, err := readWith(tinyReader(iotest.OneByteReader(bytes.NewReader(body[:cut])), 1+cut%4))
		var ce *CutError
		if !errors.As(err, &ce) {
			t.Fatalf("cut at %d: error %v, want a *CutError", cut, err)
		}
		for i, r := range records {
			if r != full[i] {
				t.Fatalf("cut at %d: record %d = %s, want %s", cut, i, r, full[i])
			}
		}
	}
}

func TestPageShapeErrors(t *testing.T) {
	for body, want := range map[string]error{
		`[1]`:                                  ErrNotObject,
		`{}`:                                   ErrNoData,
		`{"next_token":null}`:                  ErrNoData,
		`{"data":{}}`:                          ErrDataNotArray,
		`{"data":[],"next_token":5}`:           ErrBadNextToken,
		`<html>bad gateway</html>`:             ErrSyntax,
		`{"data":[1,]}`:                        ErrSyntax,
		`{"data":[1;2]}`:                       ErrSyntax,
		`{"data":[];"next_token":null}`:        ErrSyntax,
		`{"data":[],"next_token":"x"} garbage`: ErrSyntax,
	} {
		_, _, err := readPage(strings.NewReader(body), nil)
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", body, err, want)
		}
	}
}

// endless yields {"data":["aaaa… and never ends.
type endless struct{ started bool }

func (e *endless) Read(p []byte) (int, error) {
	if !e.started {
		e.started = true
		return copy(p, `{"data":["`), nil
	}
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// TestOversizedElementIsAnError: an element that never ends stops at MaxRecord with ErrTooLarge, and the
// buffer never grows past MaxRecord plus one read.
func TestOversizedElementIsAnError(t *testing.T) {
	pr := NewPageReader(&endless{}, nil, "")
	_, err := pr.Next()
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if cap(pr.buf) > MaxRecord+readSize {
		t.Fatalf("buffer grew to %d bytes", cap(pr.buf))
	}
	if pr.Offset() > MaxRecord+readSize {
		t.Fatalf("read %d bytes", pr.Offset())
	}
}

// TestTooDeepElementIsRefused: an element nested deeper than MaxDepth is reported TooDeep and skipped; the
// elements around it and the next_token still come through. MaxDepth levels are fine.
func TestTooDeepElementIsRefused(t *testing.T) {
	ok := `{"a":` + nested(MaxDepth-1) + `}`
	deep := `{"a":` + nested(9990) + `}`
	body := `{"data":[{"x":1},` + deep + `,` + ok + `],"next_token":"n"}`
	records, pr, err := readWith(tinyReader(iotest.HalfReader(strings.NewReader(body)), 100))
	if err != nil || pr.NextToken() != "n" {
		t.Fatal(err, pr.NextToken())
	}
	if len(records) != 3 || records[0] != `{"x":1}` || records[1] != "TOO DEEP" || records[2] != ok {
		t.Fatalf("got %.80q", records)
	}
	if _, err := Check([]byte(deep), nil, ""); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("Check: %v, want ErrTooDeep", err)
	}
}

// TestInvalidUTF8IsReplaced: each invalid byte becomes U+FFFD, as encoding/json decodes it, so the record
// stays valid UTF-8 JSON with the same meaning; valid text is untouched.
func TestInvalidUTF8IsReplaced(t *testing.T) {
	raw := []byte("{\"note\":\"caf\xe9 \xff\xfe ok \u00e9 \xe2\x82\"}")
	body := append(append([]byte(`{"data":[`), raw...), `]}`...)
	pr := NewPageReader(iotest.OneByteReader(bytes.NewReader(body)), nil, "")
	el, err := pr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !el.BadUTF8 || !utf8.Valid(el.Raw) || !json.Valid(el.Raw) {
		t.Fatalf("BadUTF8 %v, output %q", el.BadUTF8, el.Raw)
	}
	var want, got map[string]string
	_ = json.Unmarshal(raw, &want)
	_ = json.Unmarshal(el.Raw, &got)
	if got["note"] != want["note"] {
		t.Fatalf("got %q, encoding/json reads %q", got["note"], want["note"])
	}
	res, err := Check([]byte(`{"note":"café"}`), nil, "")
	if err != nil || res.BadUTF8 || res.Fixed != nil {
		t.Fatalf("valid UTF-8 flagged: %+v %v", res, err)
	}
}

// TestFailureNamesTheField: the first schema failure comes with its path and the real reason.
func TestFailureNamesTheField(t *testing.T) {
	s, err := Compile([]byte(`{"type":"object","properties":{"day":{"type":"string","format":"date"},` +
		`"met":{"type":["object","null"],"properties":{"items":{"type":"array","items":{"type":"integer"}}}},` +
		`"ts":{"type":"string","format":"date-time"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for raw, want := range map[string]string{
		`{"day":"2024-01-01","met":{"items":[1,2,3.5]},"x":{"y":[true]}}`: "/met/items/2: a number with a fraction or exponent where the schema asks for an integer",
		`{"x":[{"q":1}],"day":"2024-02-30","met":{"items":["a"]}}`:        "/day: not a valid date",
		`{"met":"text"}`: "/met: a string where the schema does not allow one",
		`[1]`:            "/: an array where the schema does not allow one",
		`{"ts":"2024-01-01T00:00:00\u002B01:00","day":"2024-01-01"}`: "",
	} {
		res, err := Check([]byte(raw), s, "day")
		if err != nil {
			t.Fatal(err)
		}
		if res.Failure != want || res.SchemaOK != (want == "") {
			t.Errorf("%s: failure %q ok %v, want %q", raw, res.Failure, res.SchemaOK, want)
		}
	}
	res, _ := Check([]byte(`{"x":1,"day":"2024-0\u0031-02"}`), s, "day")
	if res.Cursor != "2024-01-02" {
		t.Errorf("cursor %q, want the decoded day", res.Cursor)
	}
}

// BenchmarkPageReader measures what the client does with each list page body: check it and cut it into
// records. The target is about 100 MB/s on 2 cores.
func BenchmarkPageReader(b *testing.B) {
	body := samplePage(500, "null")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := readPage(bytes.NewReader(body), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLongNextTokenIsRefused: a next_token up to MaxNextToken bytes is read as is; one byte more ends the
// page with ErrLongNextToken, whose text gives the length Oura sent and none of the token itself.
func TestLongNextTokenIsRefused(t *testing.T) {
	ok := strings.Repeat("k", MaxNextToken)
	records, pr, err := readPage(strings.NewReader(`{"data":[1,2],"next_token":"`+ok+`"}`), nil)
	if err != nil || len(records) != 2 || pr.NextToken() != ok {
		t.Fatalf("a %d-byte token: %d records, err %v", MaxNextToken, len(records), err)
	}
	for _, n := range []int{MaxNextToken + 1, 512 << 10} {
		long := strings.Repeat("Q", n)
		for _, body := range []string{`{"data":[1],"next_token":"` + long + `"}`, `{"next_token":"` + long + `","data":[1]}`} {
			_, pr, err := readPage(strings.NewReader(body), nil)
			if !errors.Is(err, ErrLongNextToken) {
				t.Fatalf("a %d-byte token: err %v, want ErrLongNextToken", n, err)
			}
			if msg := err.Error(); !strings.Contains(msg, fmt.Sprintf("%d bytes", n)) || strings.Contains(msg, "QQQQ") || len(msg) > 200 {
				t.Errorf("error %q should give the length %d and not the token", msg, n)
			}
			if pr.NextToken() != "" {
				t.Errorf("the refused token was kept (%d bytes)", len(pr.NextToken()))
			}
		}
	}
}
