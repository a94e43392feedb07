package oura

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

// Page is one response of a list route.
type Page struct {
	// Body is the response exactly as Oura sent it.
	Body []byte
	// Records are the elements of "data", each a sub-slice of Body: the original bytes, never re-encoded.
	Records []json.RawMessage
	// NextToken is the cursor for the following page; "" on the last page.
	NextToken string
}

// Pages walks a list route page by page, following next_token. Use it like a scanner:
//
//	p := client.Pages(path, q)
//	for p.Next(ctx) {
//		use(p.Page())
//	}
//	if err := p.Err(); err != nil { ... }
//
// A Pages value is for one goroutine; the Client behind it may be shared.
type Pages struct {
	c     *Client
	path  string
	query url.Values

	page  Page
	n     int    // pages requested so far
	next  string // token for the next request
	done  bool
	err   error
	seen  map[string]struct{} // every next_token returned so far, to catch a loop
	stats Stats
	limit int // most pages this range may take; see pageLimit
	days  int // days in the range, for the error when limit is hit
}

// Pages returns an iterator over the list at path (an already escaped URL path). Every request sends q; the
// requests after the first also send the next_token of the page before. A next_token already in q starts the
// walk there, which lets a sync resume from a saved cursor.
func (c *Client) Pages(path string, q url.Values) *Pages {
	query := make(url.Values, len(q)+1)
	for k, v := range q {
		query[k] = append([]string(nil), v...)
	}
	seen := map[string]struct{}{}
	if start := query.Get("next_token"); start != "" {
		seen[start] = struct{}{}
	}
	limit, days := pageLimit(query)
	return &Pages{c: c, path: path, query: query, seen: seen, limit: limit, days: days}
}

// Next fetches the next page and reports whether there is one to read with Page. It returns false at the end
// of the list and on failure; Err tells them apart.
func (p *Pages) Next(ctx context.Context) bool {
	p.page = Page{}
	if p.done || p.err != nil {
		return false
	}
	if p.n >= p.limit {
		p.err = fmt.Errorf("fetching %s page %d: %w", p.path, p.n+1, tooManyPages(p.path, p.limit, p.days))
		return false
	}
	q := p.query
	if p.n > 0 {
		q = make(url.Values, len(p.query)+1)
		for k, v := range p.query {
			q[k] = v
		}
		q.Set("next_token", p.next)
	}
	p.n++
	page, err := p.c.fetch(ctx, p.path, q, &p.stats, true)
	if err != nil {
		p.err = fmt.Errorf("fetching %s page %d: %w", p.path, p.n, err)
		return false
	}
	if page.NextToken == "" {
		p.done = true
	} else {
		if _, again := p.seen[page.NextToken]; again {
			p.err = fmt.Errorf("fetching %s page %d: %w", p.path, p.n,
				&Error{Kind: BadResponse, Status: 200, Path: p.path, Detail: "Oura returned the same next_token twice"})
			return false
		}
		p.seen[page.NextToken] = struct{}{}
		p.next = page.NextToken
	}
	p.page = page
	p.stats.Pages++
	p.stats.Records += int64(len(page.Records))
	p.c.pages.Add(1)
	p.c.records.Add(int64(len(page.Records)))
	return true
}

// Page returns the page fetched by the last successful Next.
func (p *Pages) Page() Page { return p.page }

// Err returns the failure that ended the walk, or nil when it reached the last page.
func (p *Pages) Err() error { return p.err }

// Stats counts the requests, retries, pages and records of this walk.
func (p *Pages) Stats() Stats { return p.stats }
