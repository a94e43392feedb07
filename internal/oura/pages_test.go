package oura

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestPagesFollowNextTokenAndResendQuery(t *testing.T) {
	// Records with odd spacing, escapes and nesting: they must come back byte for byte.
	pages := map[string]string{
		"": `{"data":[ {"id":"a","day":"2024-11-11"} ,{"id":"b","n":[1,2.5e3,null],"s":"\u00e9\"x"}],` +
			`"next_token":"tok/2+="}`,
		"tok/2+=": "{\n  \"next_token\": \"tok-3\",\n  \"data\": [\n    {\"id\": \"c\", \"o\": {\"k\": []}}\n  ]\n}",
		"tok-3":   `{"data":[{"id":"d"}],"meta":{"x":1}}`, // no next_token at all: the last page
	}
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, _ int) {
			body, ok := pages[r.URL.Query().Get("next_token")]
			if !ok {
				t.Errorf("unknown next_token in %s", r.URL.RawQuery)
				writeJSON(w, 404, `{"detail":"no such page"}`)
				return
			}
			writeJSON(w, 200, body)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	q := url.Values{"start_date": {"2024-11-01"}, "end_date": {"2024-11-30"}}
	p := c.Pages(listPath, q)
	q.Set("start_date", "changed after the call") // the iterator keeps its own copy

	var records []string
	var tokens []string
	for p.Next(context.Background(), keep(&records)) {
		tokens = append(tokens, p.Page().NextToken)
	}
	if err := p.Err(); err != nil {
		t.Fatalf("Pages: %v", err)
	}
	want := []string{
		`{"id":"a","day":"2024-11-11"}`,
		`{"id":"b","n":[1,2.5e3,null],"s":"\u00e9\"x"}`,
		`{"id": "c", "o": {"k": []}}`,
		`{"id":"d"}`,
	}
	if fmt.Sprintf("%q", records) != fmt.Sprintf("%q", want) {
		t.Errorf("records =\n%q\nwant\n%q", records, want)
	}
	if fmt.Sprint(tokens) != "[tok/2+= tok-3 ]" {
		t.Errorf("next tokens = %q", tokens)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(reqs))
	}
	for i, wantToken := range []string{"", "tok/2+=", "tok-3"} {
		r := reqs[i]
		if r.Query.Get("start_date") != "2024-11-01" || r.Query.Get("end_date") != "2024-11-30" {
			t.Errorf("request %d lost the query: %v", i+1, r.Query)
		}
		if _, has := r.Query["next_token"]; has != (wantToken != "") || r.Query.Get("next_token") != wantToken {
			t.Errorf("request %d next_token = %v, want %q", i+1, r.Query["next_token"], wantToken)
		}
	}
	if s := p.Stats(); s.Pages != 3 || s.Records != 4 || s.Requests != 3 || s.Retries != 0 {
		t.Errorf("stats = %+v", s)
	}
	if s := c.Stats(); s.Pages != 3 || s.Records != 4 {
		t.Errorf("client stats = %+v", s)
	}
	if p.Next(context.Background(), discard) {
		t.Error("Next returned true after the last page")
	}
}

func TestPagesStopOnNullOrEmptyToken(t *testing.T) {
	for _, body := range []string{
		`{"data":[{"id":"a"}],"next_token":null}`,
		`{"data":[{"id":"a"}],"next_token":""}`,
		`{"data":[{"id":"a"}]}`,
	} {
		f := newFake(t, map[string]handlerFunc{
			listPath: func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 200, body) },
		})
		c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
		p := c.Pages(listPath, nil)
		n := 0
		for p.Next(context.Background(), discard) {
			n++
		}
		if n != 1 || p.Err() != nil || f.callsTo(listPath) != 1 {
			t.Errorf("%s: pages = %d, err = %v, calls = %d; want 1 page, no error, 1 call",
				body, n, p.Err(), f.callsTo(listPath))
		}
	}
}

func TestPagesEmptyList(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, _ *http.Request, _ int) {
			writeJSON(w, 200, `{"data":[],"next_token":null}`)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	p := c.Pages(listPath, nil)
	if !p.Next(context.Background(), discard) {
		t.Fatalf("Next: %v", p.Err())
	}
	if n := p.Page().Records; n != 0 {
		t.Errorf("records = %d, want none", n)
	}
}

func TestPagesTokenLoop(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, call int) {
			// Page 1 and 2 both point at "again": following it would never end.
			writeJSON(w, 200, fmt.Sprintf(`{"data":[{"n":%d}],"next_token":"again"}`, call))
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	p := c.Pages(listPath, nil)
	pages := 0
	for p.Next(context.Background(), discard) && pages < 10 { // the bound keeps a broken loop check from hanging
		pages++
	}
	if pages != 1 {
		t.Errorf("pages delivered = %d, want 1", pages)
	}
	e := asError(t, p.Err())
	if e.Kind != BadResponse || !strings.Contains(p.Err().Error(), "same next_token twice") ||
		!strings.Contains(p.Err().Error(), listPath+" page 2") {
		t.Errorf("error = %v, want BadResponse about a repeated next_token on page 2", p.Err())
	}
	if n := f.callsTo(listPath); n != 2 {
		t.Errorf("server calls = %d, want 2", n)
	}
}

func TestPagesResumeFromSavedToken(t *testing.T) {
	f := newFake(t, map[string]handlerFunc{
		listPath: func(w http.ResponseWriter, r *http.Request, _ int) {
			if r.URL.Query().Get("next_token") != "saved" {
				t.Errorf("first request did not resume: %s", r.URL.RawQuery)
			}
			writeJSON(w, 200, `{"data":[{"id":"x"}],"next_token":"saved"}`)
		},
	})
	c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
	p := c.Pages(listPath, url.Values{"next_token": {"saved"}})
	for i := 0; i < 10 && p.Next(context.Background(), discard); i++ { // bounded, so a broken loop check cannot hang
	}
	if asError(t, p.Err()).Kind != BadResponse || f.callsTo(listPath) != 1 {
		t.Errorf("err = %v, calls = %d: a page pointing at itself must stop at once", p.Err(), f.callsTo(listPath))
	}
}

func TestPagesRejectBodiesOfTheWrongShape(t *testing.T) {
	for _, body := range []string{
		`[]`,
		`{"detail":"not a list"}`,
		`{"data":{"id":"a"},"next_token":null}`,
		`{"data":null}`,
		`{"data":[],"next_token":5}`,
		`"text"`,
	} {
		f := newFake(t, map[string]handlerFunc{
			listPath: func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 200, body) },
		})
		c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
		p := c.Pages(listPath, nil)
		if p.Next(context.Background(), discard) {
			t.Errorf("%s: accepted", body)
			continue
		}
		e := asError(t, p.Err())
		if e.Kind != BadResponse || e.Path != listPath {
			t.Errorf("%s: error = %+v, want BadResponse for %s", body, e, listPath)
		}
		// Valid JSON of the wrong shape will not improve by asking again.
		if n := f.callsTo(listPath); n != 1 {
			t.Errorf("%s: server calls = %d, want 1", body, n)
		}
	}
}

func TestPagesStatusErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		kind   Kind
		detail string
		advice string
	}{
		{404, `{"detail":"Document not found."}`, NotFound, "Document not found.", "document id"},
		{426, `{"detail":"Upgrade Required"}`, UpgradeRequired, "Upgrade Required", "update the Oura mobile app"},
		{400, `{"detail":"Invalid date range"}`, BadRequest, "Invalid date range", "dates"},
		{422, `{"detail":[{"type":"value_error","loc":["query","start_date"],"msg":"Start date must be before end date","input":"2025-11-11"}]}`,
			BadRequest, "query.start_date: Start date must be before end date", "dates"},
		{501, `<html>Not Implemented</html>`, ServerError, "", "try again later"},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			f := newFake(t, map[string]handlerFunc{
				listPath: func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, tc.status, tc.body) },
			})
			c, _ := newTestClient(t, f.srv.URL, StaticToken(testToken), nil, nil)
			p := c.Pages(listPath, nil)
			if p.Next(context.Background(), discard) {
				t.Fatal("Next succeeded")
			}
			e := asError(t, p.Err())
			if e.Kind != tc.kind || e.Status != tc.status || e.Detail != tc.detail || e.Path != listPath {
				t.Errorf("error = %+v, want kind %v detail %q", e, tc.kind, tc.detail)
			}
			if msg := p.Err().Error(); !strings.Contains(msg, tc.advice) {
				t.Errorf("message %q lacks %q", msg, tc.advice)
			}
			if n := f.callsTo(listPath); n != 1 {
				t.Errorf("server calls = %d, want 1 (not retried)", n)
			}
		})
	}
}
