package ouraemu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"source-oura/internal/jsonscan"
)

// maxSeriesRange is the widest start_datetime..end_datetime span the time-series routes accept.
const maxSeriesRange = 30 * 24 * time.Hour

// collectionKind says how a collection's list route reads its query.
type collectionKind int

const (
	// kindDate collections filter Doc.Key with start_date/end_date.
	kindDate collectionKind = iota
	// kindSeries collections filter Doc.Key with start_datetime/end_datetime.
	kindSeries
	// kindAll collections take no dates and list every document.
	kindAll
	// kindPersonal is personal_info: one bare object, no envelope.
	kindPersonal
)

func kindOf(collection string) collectionKind {
	switch collection {
	case "heartrate", "ring_battery_level":
		return kindSeries
	case "ring_configuration":
		return kindAll
	case "personal_info":
		return kindPersonal
	}
	return kindDate
}

// queryError is a client mistake in the query string; it is answered with 400 and its detail.
type queryError struct {
	detail string
}

func (e *queryError) Error() string { return e.detail }

func badQuery(format string, args ...any) error {
	return &queryError{detail: fmt.Sprintf(format, args...)}
}

// window is the inclusive Key range a list request asks for.
type window struct {
	start, end time.Time
}

// dateWindow reads start_date/end_date the way the real API does: each bound is compared with
// Doc.Key on the document's local wall clock, a bare date meaning 00:00 of that day. The
// defaults are end = today (UTC date of now) and start = end - 1 day.
func dateWindow(q url.Values, now time.Time) (window, error) {
	n := now.UTC()
	end, err := optionalParam(q, "end_date", time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC), parseDateParam)
	if err != nil {
		return window{}, err
	}
	start, err := optionalParam(q, "start_date", end.AddDate(0, 0, -1), parseDateParam)
	if err != nil {
		return window{}, err
	}
	if start.After(end) {
		return window{}, badQuery("start_date (%s) is after end_date (%s)", q.Get("start_date"), describeBound(q, "end_date", end))
	}
	return window{start: start, end: end}, nil
}

// seriesWindow reads start_datetime/end_datetime (RFC 3339 instants). The defaults are the
// 24 hours ending now; a span over 30 days is refused like the real API refuses it.
func seriesWindow(q url.Values, now time.Time) (window, error) {
	end, err := optionalParam(q, "end_datetime", now.UTC(), parseInstantParam)
	if err != nil {
		return window{}, err
	}
	start, err := optionalParam(q, "start_datetime", end.Add(-24*time.Hour), parseInstantParam)
	if err != nil {
		return window{}, err
	}
	if start.After(end) {
		return window{}, badQuery("start_datetime (%s) is after end_datetime (%s)",
			start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
	}
	if end.Sub(start) > maxSeriesRange {
		return window{}, badQuery("start_datetime and end_datetime are %s apart; the maximum range is 30 days",
			end.Sub(start))
	}
	return window{start: start, end: end}, nil
}

// describeBound names an end bound for an error message: the value sent, or the default used.
func describeBound(q url.Values, name string, t time.Time) string {
	if q.Has(name) {
		return q.Get(name)
	}
	return "default " + t.Format(time.DateOnly)
}

// optionalParam parses the query's value of name with parse, or returns def when the query
// does not have name at all (a present but empty value is parsed, and so refused).
func optionalParam(q url.Values, name string, def time.Time, parse func(name, v string) (time.Time, error)) (time.Time, error) {
	if !q.Has(name) {
		return def, nil
	}
	return parse(name, q.Get(name))
}

// parseDateParam accepts YYYY-MM-DD (00:00 of that day) or a date-time, with or without an
// offset, of which only the wall-clock part counts. Anything else is refused: the real API
// quietly answers garbage with an empty page, which would hide connector bugs.
func parseDateParam(name, v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), nil
		}
	}
	return time.Time{}, badQuery("%s: %q is neither a date (YYYY-MM-DD) nor a date-time (YYYY-MM-DDTHH:MM:SS[offset])%s",
		name, v, plusHint(v))
}

// parseInstantParam accepts an RFC 3339 date-time with an offset and returns it in UTC.
func parseInstantParam(name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badQuery("%s: %q is not an RFC 3339 date-time with an offset (e.g. 2024-01-02T03:04:05+00:00)%s",
			name, v, plusHint(v))
	}
	return t.UTC(), nil
}

// plusHint explains the most common cause of a space inside a date-time: an offset's '+' sent
// unencoded, which form decoding turns into a space.
func plusHint(v string) string {
	if strings.Contains(v, " ") {
		return "; a literal '+' in a query string decodes to a space, send it as %2B"
	}
	return ""
}

// pageToken is what an opaque next_token carries: the collection, the window of the first
// request and how many documents of that window were already served. Carrying the window lets
// a client resend the original parameters with the token or leave them out.
type pageToken struct {
	Collection string    `json:"c"`
	Start      time.Time `json:"s"`
	End        time.Time `json:"e"`
	Offset     int       `json:"o"`
}

func (t pageToken) encode() string {
	b, err := json.Marshal(t)
	if err != nil {
		// Only times outside years 0-9999 fail to marshal, and the query parsers cannot
		// produce those; an empty token would end the client's paging, which is the safe side.
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodePageToken reads a next_token and checks it belongs to collection.
func decodePageToken(s, collection string) (pageToken, error) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Offset < 0 {
		return pageToken{}, badQuery("next_token %q is not a token this server issued", s)
	}
	if t.Collection != collection {
		return pageToken{}, badQuery("next_token was issued for %s, not %s", t.Collection, collection)
	}
	return t, nil
}

// keyRange returns the index range [lo, hi) of docs (sorted by Key) with start <= Key <= end.
func keyRange(docs []Doc, w window) (lo, hi int) {
	lo = sort.Search(len(docs), func(i int) bool { return !docs[i].Key.Before(w.start) })
	hi = sort.Search(len(docs), func(i int) bool { return docs[i].Key.After(w.end) })
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// envelope writes {"data":[...],"next_token":...} by concatenating the stored JSON of each
// document; re-encoding would cost more than everything else the server does per page.
func envelope(docs []Doc, next string) []byte {
	const head, mid = `{"data":[`, `],"next_token":`
	n := len(head) + len(mid) + len("}") + max(len(docs)-1, 0) // commas between documents
	for _, d := range docs {
		n += len(d.JSON)
	}
	if next == "" {
		n += len("null")
	} else {
		n += len(next) + 2
	}
	buf := make([]byte, 0, n)
	buf = append(buf, head...)
	for i, d := range docs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, d.JSON...)
	}
	buf = append(buf, mid...)
	if next == "" {
		buf = append(buf, "null"...)
	} else {
		// Tokens are base64url, so they never need escaping inside a JSON string.
		buf = append(buf, '"')
		buf = append(buf, next...)
		buf = append(buf, '"')
	}
	return append(buf, '}')
}

// alwaysReturned are the fields the emulator returns whatever fields asks for. Oura's OpenAPI
// text speaks of "always returned fields" without naming them; the emulator takes a document's
// identity and its place in time, which every list route filters or pages on. A client that
// needs any other field (a cursor such as start_day) must ask for it.
var alwaysReturned = map[string]bool{"id": true, "day": true, "timestamp": true}

// ignoresFields lists the collections whose fields parameter the OpenAPI text marks "not
// supported yet, all fields will be returned".
var ignoresFields = map[string]bool{"tag": true, "enhanced_tag": true, "daily_resilience": true}

// fieldSet reads the fields parameter of a list request: nil (every field) when it is absent
// or empty, or when the collection ignores it; else the names asked for. Unknown names are
// not an error, as they are not in Oura's OpenAPI text either.
func fieldSet(q url.Values, collection string) map[string]bool {
	v := q.Get("fields")
	if v == "" || ignoresFields[collection] {
		return nil
	}
	set := map[string]bool{}
	for _, name := range strings.Split(v, ",") {
		if name = strings.TrimSpace(name); name != "" {
			set[name] = true
		}
	}
	return set
}

// project returns doc with only the top-level fields in keep (plus alwaysReturned), in their
// order, each value's bytes as stored. It finds the members with jsonscan, which checks the
// values without decoding them, so a projected read costs the emulator little. A document that
// does not read as a JSON object is returned as it is: the emulator's own data always does.
func project(doc []byte, keep map[string]bool) []byte {
	members, _, err := jsonscan.Members(doc, len(doc)-len(bytes.TrimLeft(doc, " \t\r\n")))
	if err != nil {
		return doc
	}
	out := make([]byte, 0, len(doc))
	out = append(out, '{')
	for _, m := range members {
		if keep[m.Key] || alwaysReturned[m.Key] {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, doc[m.KeyStart:m.KeyEnd]...)
			out = append(out, ':')
			out = append(out, doc[m.ValueStart:m.ValueEnd]...)
		}
	}
	return append(out, '}')
}

// projectDocs returns docs, or copies holding only the fields in keep (nil: docs as they are).
func projectDocs(docs []Doc, keep map[string]bool) []Doc {
	if keep == nil {
		return docs
	}
	out := make([]Doc, len(docs))
	for i, d := range docs {
		d.JSON = project(d.JSON, keep)
		out[i] = d
	}
	return out
}
