package oura

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/url"

	"source-oura/internal/jsonscan"
)

// Record is one element of a page's "data", split and checked by jsonscan as the body arrives. Its bytes
// are valid only during the callback that receives it.
type Record = jsonscan.Element

// Page describes the page read by the last successful Next.
type Page struct {
	// NextToken is the cursor for the following page; "" on the last page.
	NextToken string
	// Records is how many elements of "data" were handed to the callback.
	Records int
}

// errPageChanged ends a page whose records before a cut were not the same when it was fetched again.
var errPageChanged = errors.New("the page was cut off, and when it was fetched again the records before the cut " +
	"were not the same (the data changed in between); the records already written stay, the next sync resumes " +
	"from the last saved state")

// Pages walks a list route page by page, following next_token. Use it like a scanner:
//
//	p := client.Pages(path, q).Check(schema, "day")
//	for p.Next(ctx, func(r oura.Record) error { return write(r) }) {
//		use(p.Page()) // the page is complete: every record of it went through the callback
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
	seen  map[tokenKey]struct{} // every next_token returned so far, to catch a loop; see tokenKey
	stats Stats
	limit int // most pages this range may take; see pageLimit
	days  int // days in the range, for the error when limit is hit

	schema      *jsonscan.Schema
	cursorField string
}

// Check makes every record be checked against s and carry its top-level string value of cursorField
// (Record.Result); without it any JSON value passes.
func (p *Pages) Check(s *jsonscan.Schema, cursorField string) *Pages {
	p.schema, p.cursorField = s, cursorField
	return p
}

// tokenKey stands for a next_token in Pages.seen: 128 bits of hash, so that a walk of a thousand pages keeps
// 16 bytes a page whatever its tokens weigh. The seeds are the process's own, so a server cannot aim two
// tokens at one key; two honest tokens share one with odds of 2^-128 (the walk would stop with an error).
type tokenKey [2]uint64

var tokenSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func keyOf(token string) tokenKey {
	return tokenKey{maphash.String(tokenSeeds[0], token), maphash.String(tokenSeeds[1], token)}
}

// prefixSeed hashes the records written before a cut; one seed per process is enough, as both fetches of a
// page are compared within it.
var prefixSeed = maphash.MakeSeed()

// Pages returns an iterator over the list at path (an already escaped URL path). Every request sends q; the
// requests after the first also send the next_token of the page before. A next_token already in q starts the
// walk there, which lets a sync resume from a saved cursor.
func (c *Client) Pages(path string, q url.Values) *Pages {
	query := make(url.Values, len(q)+1)
	for k, v := range q {
		query[k] = append([]string(nil), v...)
	}
	seen := map[tokenKey]struct{}{}
	if start := query.Get("next_token"); start != "" {
		seen[keyOf(start)] = struct{}{}
	}
	limit, days := pageLimit(query)
	return &Pages{c: c, path: path, query: query, seen: seen, limit: limit, days: days}
}

// Next fetches the next page and hands each of its records to emit as it is split from the body, so a page
// is never held whole. It reports whether a page was read to its end (Page describes it); it returns false at
// the end of the list and on failure, and Err tells them apart.
//
// A body cut off mid-page is fetched again with the same query and next_token; the records emit already took
// are skipped, so each goes through emit exactly once. Should those records differ on the second fetch, the
// walk ends with a transient BadResponse error instead of guessing. An error from emit ends the walk as is.
func (p *Pages) Next(ctx context.Context, emit func(Record) error) bool {
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
	var (
		written int          // records of this page emit has taken, over every attempt
		hw      maphash.Hash // hash of those records
		page    Page
	)
	hw.SetSeed(prefixSeed)
	err := p.c.read(ctx, p.path, q, &p.stats, func(body io.Reader) error {
		pr := jsonscan.NewPageReader(body, p.schema, p.cursorField)
		var again maphash.Hash // the same records on this attempt, while they are skipped
		again.SetSeed(prefixSeed)
		for n := 0; ; n++ {
			rec, err := pr.Next()
			if err == io.EOF {
				if n < written {
					return errPageChanged
				}
				page = Page{NextToken: pr.NextToken(), Records: written}
				return nil
			}
			if err != nil {
				return err
			}
			if n < written {
				hashRecord(&again, rec.Raw)
				if n == written-1 && again.Sum64() != hw.Sum64() {
					return errPageChanged
				}
				continue
			}
			if err := emit(rec); err != nil {
				return &emitError{err}
			}
			written++
			hashRecord(&hw, rec.Raw)
		}
	})
	p.stats.Records += int64(written)
	p.c.records.Add(int64(written))
	if err != nil {
		p.err = fmt.Errorf("fetching %s page %d: %w", p.path, p.n, err)
		return false
	}
	if page.NextToken == "" {
		p.done = true
	} else {
		key := keyOf(page.NextToken)
		if _, again := p.seen[key]; again {
			p.err = fmt.Errorf("fetching %s page %d: %w", p.path, p.n,
				&Error{Kind: BadResponse, Status: 200, Path: p.path, Detail: "Oura returned the same next_token twice"})
			return false
		}
		p.seen[key] = struct{}{}
		p.next = page.NextToken
	}
	p.page = page
	p.stats.Pages++
	p.c.pages.Add(1)
	return true
}

// hashRecord adds one record to h, with its length so that record boundaries count.
func hashRecord(h *maphash.Hash, raw []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(raw)))
	_, _ = h.Write(n[:])
	_, _ = h.Write(raw)
}

// Resume returns a walk that carries on from where p stopped, asking every request with q instead of p's
// query: the page p failed on (or the first, if none was read) is asked again, with p's next_token when p
// had read a page, and the walk goes on from there. The tokens p has seen still count as seen and its pages
// toward its limit, so a server that answers the new walk with a token of the old one is caught as a loop
// instead of being followed back to pages already read. Stats start afresh; p is not to be used again (the
// two share their record of tokens). The reader uses it to go on without a fields parameter Oura refused.
func (p *Pages) Resume(q url.Values) *Pages {
	query := make(url.Values, len(q)+1)
	for k, v := range q {
		query[k] = append([]string(nil), v...)
	}
	read := int(p.stats.Pages) // the pages of p read to their end; the failed one is asked again
	return &Pages{c: p.c, path: p.path, query: query, n: read, next: p.next, seen: p.seen, limit: p.limit, days: p.days,
		schema: p.schema, cursorField: p.cursorField}
}

// Page returns the page fetched by the last successful Next.
func (p *Pages) Page() Page { return p.page }

// Err returns the failure that ended the walk, or nil when it reached the last page.
func (p *Pages) Err() error { return p.err }

// Stats counts the requests, retries, pages and records of this walk.
func (p *Pages) Stats() Stats { return p.stats }
