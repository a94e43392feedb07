package oura

import (
	"fmt"
	"net/url"
	"time"
)

// How many pages one request range may take. A day holds at most 86,400 one-second samples (Oura's densest
// series, heart rate, is far sparser: one sample every 5 minutes at rest), and a page holds 100 documents or
// more (observed Oura pages hold 1,000 to 2,000), so no honest server needs more than 864 pages for a day.
// pagesPerDay rounds that up; pagesBase covers short ranges and lists without dates. A server that keeps
// handing out fresh next_tokens past the bound is stuck, not slow: the walk ends with an error instead of
// running until the sync is killed.
const (
	pagesPerDay  = 1000
	pagesBase    = 1000
	maxRangeDays = 1 << 20 // keeps the product far from overflowing
)

// pageLimit returns the most pages a walk of the list with query q may fetch, and the number of days the
// range covers (0 when q names no range). Both date forms Oura uses are read: start_date/end_date
// (inclusive days) and start_datetime/end_datetime.
func pageLimit(q url.Values) (limit, days int) {
	days = rangeDays(q)
	return pagesBase + pagesPerDay*days, days
}

func rangeDays(q url.Values) int {
	if s, e := q.Get("start_date"), q.Get("end_date"); s != "" && e != "" {
		start, err1 := time.Parse(time.DateOnly, s)
		end, err2 := time.Parse(time.DateOnly, e)
		if err1 == nil && err2 == nil && !end.Before(start) {
			return min(int(end.Sub(start)/(24*time.Hour))+1, maxRangeDays)
		}
	}
	if s, e := q.Get("start_datetime"), q.Get("end_datetime"); s != "" && e != "" {
		start, err1 := time.Parse(time.RFC3339, s)
		end, err2 := time.Parse(time.RFC3339, e)
		if err1 == nil && err2 == nil && !end.Before(start) {
			span := end.Sub(start)
			return min(int((span+24*time.Hour-1)/(24*time.Hour)), maxRangeDays)
		}
	}
	return 0
}

// tooManyPages is the error that ends a walk past its page bound.
func tooManyPages(path string, limit, days int) *Error {
	what := "a list without a date range"
	if days > 0 {
		what = fmt.Sprintf("a %d-day range", days)
	}
	return &Error{Kind: BadResponse, Status: 200, Path: path, Detail: fmt.Sprintf(
		"Oura kept sending a next_token after %d pages for %s, more than that range can hold; stopped", limit, what)}
}
