package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/rs/zerolog"

	"source-oura/internal/jsonscan"
	"source-oura/internal/oura"
	"source-oura/protocol"
	"source-oura/schemas"
)

// Job is one configured stream to read.
type Job struct {
	Stream *Stream
	Mode   protocol.SyncMode
	Desc   protocol.StreamDescriptor
	// State is the stream's input state blob; nil for none.
	State json.RawMessage
	// Schema is the configured stream's json_schema, nil when there is no catalog. Its
	// top-level properties are the fields Airbyte keeps: the reader warns about fields Oura
	// sends beyond them and, when they are fewer than the stream has, asks Oura for only those.
	// Without properties (nil, {}) neither happens.
	Schema json.RawMessage
}

// Reader reads streams from the Oura API and writes their messages.
type Reader struct {
	Client *oura.Client
	Out    *protocol.Writer
	Log    zerolog.Logger
	// Start and End bound the sync (End zero: up to now).
	Start, End   time.Time
	LookbackDays int
	Sandbox      bool
	// Concurrency is how many streams are read at once.
	Concurrency int
	// Prefetch is how many windows of one stream are fetched ahead while earlier ones are
	// written (heart_rate and ring_battery_level have one window per 30 days).
	Prefetch int
	// Validator checks every record; it is required.
	Validator *schemas.Validator
	Now       func() time.Time
	// Progress, when set, is told what each stream does, for a person watching (nil: nothing).
	Progress Progress
	// Account, when set, is written as the first column of every record (config account_column).
	Account protocol.AccountColumn

	warnings schemaWarnings
	who      identity // the account behind the token (identity.go)
}

// SyncError lists the streams that did not finish.
type SyncError struct {
	Failed []string
	// Type sums up the failures for the platform: config_error when every one is the user's
	// to fix (auth, scopes, app version), transient_error when the rest are transient (rate
	// limits, outages), so the platform retries, and system_error otherwise.
	Type protocol.FailureType
}

func (e *SyncError) Error() string {
	return "During the sync, the following streams did not sync successfully: " + strings.Join(e.Failed, ", ") +
		". See the error for each stream above."
}

// Summary is what one stream did, for the end-of-sync log line.
type Summary struct {
	Stream   string
	Records  int64
	Requests int64
	Retries  int64
	Warnings int
	Skipped  int64 // documents outside the sync range, from the widened request
	Invalid  int64 // elements not written: not JSON objects, or nested deeper than jsonscan.MaxDepth
	Replaced int64 // records written with invalid UTF-8 bytes replaced by U+FFFD
	// Undeclared is how many distinct top-level fields records carried that the catalog's
	// schema does not declare (Airbyte drops them); MissingKeys how many records were written
	// with a primary-key field absent or null.
	Undeclared  int
	MissingKeys int64
	Duration    time.Duration
	Err         error
}

// Read reads every job, up to Concurrency at a time, and returns a *SyncError if any
// stream failed; the other streams still finish.
func (r *Reader) Read(ctx context.Context, jobs []Job) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Concurrency < 1 {
		r.Concurrency = 1
	}
	if r.Prefetch < 1 {
		r.Prefetch = 1
	}
	if r.Validator == nil {
		return errors.New("streams: Reader.Validator is not set")
	}
	sums := make([]Summary, len(jobs))
	sem := make(chan struct{}, r.Concurrency)
	var wg sync.WaitGroup
	var stop syncStop
	// Streams start in catalog order as slots free up; once the sync is cancelled, the rest
	// still run, see the cancelled context at once and end INCOMPLETE. Once Oura has rejected
	// the token for good, or given no answer at all, the rest are not attempted (stop.go).
	for i := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			sem <- struct{}{}
		}
		if stop.get() != nil {
			<-sem
			sums[i] = r.skip(jobs[i])
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			sums[i] = r.readStream(ctx, jobs[i])
			r.progressEnd(sums[i])
			stop.note(sums[i].Err)
		}(i)
	}
	wg.Wait()

	var failed []string
	types := map[protocol.FailureType]bool{}
	for _, s := range sums {
		r.Log.Info().Str("stream", s.Stream).Int64("records", s.Records).Int64("requests", s.Requests).
			Int64("retries", s.Retries).Int("schema_warnings", s.Warnings).Int64("outside_range", s.Skipped).
			Int64("not_objects", s.Invalid).Int("undeclared_fields", s.Undeclared).Int64("missing_keys", s.MissingKeys).
			Str("time", s.Duration.Round(time.Millisecond).String()).
			Msg("stream summary")
		if s.Err != nil {
			failed = append(failed, s.Stream)
			types[failureType(s.Err)] = true
		}
	}
	if err := stop.result(failed); err != nil {
		return err
	}
	if len(failed) > 0 {
		t := protocol.TransientError
		switch {
		case types[protocol.SystemError]:
			t = protocol.SystemError
		case !types[protocol.TransientError]:
			t = protocol.ConfigError
		}
		return &SyncError{Failed: failed, Type: t}
	}
	return nil
}

// streamRun is the state of one stream while it is read.
type streamRun struct {
	job     Job
	prefix  protocol.RecordPrefix
	saved   cursor // input state
	max     cursor // latest cursor value delivered this run
	emitted cursor // cursor of the last state written
	stated  bool   // a state was written
	pending int64  // records since the last state
	sum     Summary
	// running: STREAM_STATUS RUNNING was written, by the first record or by requests flowing again
	// after a rate-limit wait (rateStatus), whichever came first.
	running atomic.Bool
	cols    columns
	// wholeDocs: Oura refused the fields parameter, so the rest of the stream asks without it.
	wholeDocs  atomic.Bool
	undeclared map[string]bool // undeclared fields already warned about
	missingKey [jsonscan.MaxKeys]int64
}

func (r *Reader) readStream(ctx context.Context, job Job) Summary {
	start := r.Now()
	run := &streamRun{job: job, prefix: protocol.NewRecordPrefix(job.Desc.Name, job.Desc.Namespace).WithAccount(r.Account)}
	run.sum.Stream = job.Desc.Name
	run.cols = r.columnsFor(job)
	out := r.Out
	_ = out.Status(job.Desc, protocol.Started)

	ctx = oura.WithRateLimitObserver(ctx, &rateStatus{r: r, run: run})
	err := r.readInto(ctx, run)
	if err == nil {
		err = r.finalState(run)
	}
	run.sum.Warnings = r.warnings.total(job.Desc.Name)
	r.warnKeys(run)
	if run.sum.Replaced > 0 {
		r.Log.Warn().Str("stream", job.Desc.Name).Int64("records", run.sum.Replaced).
			Msg("records held bytes that are not UTF-8; they were written with each such byte replaced by U+FFFD")
	}
	run.sum.Duration = r.Now().Sub(start)
	if err != nil {
		run.sum.Err = err
		desc := job.Desc
		_ = out.Error(failureType(err), fmt.Sprintf("Stream %s failed: %s", job.Desc.Name, userMessage(err)), err.Error(), &desc)
		_ = out.Status(job.Desc, protocol.Incomplete)
		return run.sum
	}
	_ = out.Status(job.Desc, protocol.Complete)
	return run.sum
}

func (r *Reader) readInto(ctx context.Context, run *streamRun) error {
	s := run.job.Stream
	var noRange time.Time // for Progress, where a stream reads no range of days
	if run.job.Mode == protocol.Incremental {
		c, err := parseState(s, run.job.State)
		if err != nil {
			r.progressBegin(run, noRange, noRange)
			return err
		}
		run.saved, run.max, run.emitted = c, c, c
	}
	if r.Sandbox && s.NoSandbox {
		r.progressBegin(run, noRange, noRange)
		r.Log.Warn().Str("stream", s.Name).Msg("Oura has no sandbox route for this stream; it ends with no records")
		return nil
	}
	if s.Params == Single {
		r.progressBegin(run, noRange, noRange)
		return r.readSingle(ctx, run)
	}
	from, to := s.syncRange(r.Start, r.End, r.Now(), run.saved, r.LookbackDays)
	if s.Params == Dates || s.Params == DateTimes {
		r.progressBegin(run, from, to)
	} else {
		r.progressBegin(run, noRange, noRange) // an undated collection is read whole
	}
	windows := s.plan(from, to)
	if len(windows) == 0 {
		r.Log.Debug().Str("stream", s.Name).Msg("nothing to read: the saved cursor is past the end of the sync range")
		return nil
	}
	return r.readWindows(ctx, run, windows)
}

func (r *Reader) path(s *Stream) string {
	if r.Sandbox {
		return "/v2/sandbox/usercollection/" + s.Path
	}
	return "/v2/usercollection/" + s.Path
}

func (r *Reader) readSingle(ctx context.Context, run *streamRun) error {
	var body []byte
	var err error
	if run.job.Stream == &personalInfo && !r.Sandbox {
		var requested bool
		body, requested, err = r.personalInfo(ctx) // fetched once per sync, and the account id logged
		if requested {
			run.sum.Requests++
		}
	} else {
		body, err = r.Client.Get(ctx, r.path(run.job.Stream), nil)
		run.sum.Requests++
	}
	if err != nil {
		return fmt.Errorf("fetching %s: %w", run.job.Stream.Path, err)
	}
	s := run.job.Stream
	res, err := jsonscan.Check(body, run.cols.scan, s.Cursor)
	if err != nil {
		r.refuse(run, body, err)
		return nil
	}
	raw := body
	if res.BadUTF8 {
		raw = res.Fixed
	}
	_, err = r.emitRecord(run, raw, res, nil)
	return err
}

// batchBytes is about how many bytes of records a fetcher hands over at a time: big enough
// that the channel is not the cost, small enough that the writer starts early.
const batchBytes = 64 << 10

// maxBatchItems bounds the records of a batch, so tiny records do not make its item list
// the larger part.
const maxBatchItems = 1024

// item is one record of a batch, or (pageEnd) the end of a page read to its end. It is
// kept small: a heart-rate sample is only about 70 bytes.
type item struct {
	start, end int32    // the record's bytes in batch.arena
	flags      uint8    // itemSchemaOK, ...
	missing    uint8    // jsonscan's MissingKeys
	text       string   // the record's cursor value, or the next_token at a page end
	failure    string   // jsonscan's schema failure, when there is one
	undeclared []string // jsonscan's Undeclared, shared by the records that have the same
}

const (
	itemSchemaOK uint8 = 1 << iota
	itemObject
	itemBadUTF8
	itemTooDeep
	itemPageEnd
)

// itemSize is what one item costs, for the look-ahead budget.
const itemSize = int64(unsafe.Sizeof(item{}))

// batch carries records of one window from its fetcher to the writer, copied out of the
// body buffer, or the error that ended the window.
type batch struct {
	arena     []byte
	items     []item
	textBytes int64 // bytes of the items' strings
	charged   int64 // bytes taken from the look-ahead budget, given back once written
	err       error
}

// batchBufs are a batch's buffers, reused through batchPool: records pass through them at
// the speed of the network, and allocating them afresh would set the garbage collector's pace.
type batchBufs struct {
	arena []byte
	items []item
}

var batchPool = sync.Pool{New: func() any {
	return &batchBufs{arena: make([]byte, 0, batchBytes+batchBytes/4), items: make([]item, 0, maxBatchItems)}
}}

// recycle hands a written batch's buffers back to batchPool; one grown by a large record
// is left to the garbage collector.
func (b *batch) recycle() {
	if b.arena == nil || cap(b.arena) > 2*batchBytes {
		return
	}
	clear(b.items) // drop the strings
	batchPool.Put(&batchBufs{arena: b.arena[:0], items: b.items[:0]})
	b.arena, b.items = nil, nil
}

// pageEnd marks the end of a page read to its end, with its next_token (at most
// jsonscan.MaxNextToken bytes, charged to the budget like the records' strings).
func (b *batch) pageEnd(token string) {
	b.items = append(b.items, item{flags: itemPageEnd, text: token})
	b.textBytes += int64(len(token))
}

func (b *batch) add(rec oura.Record) {
	if b.arena == nil {
		bufs := batchPool.Get().(*batchBufs)
		b.arena, b.items = bufs.arena, bufs.items
	}
	start := len(b.arena)
	b.arena = append(b.arena, rec.Raw...)
	var flags uint8
	for _, f := range []struct {
		on  bool
		bit uint8
	}{{rec.SchemaOK, itemSchemaOK}, {rec.Object, itemObject}, {rec.BadUTF8, itemBadUTF8}, {rec.TooDeep, itemTooDeep}} {
		if f.on {
			flags |= f.bit
		}
	}
	b.items = append(b.items, item{start: int32(start), end: int32(len(b.arena)), flags: flags, text: rec.Cursor,
		failure: rec.Failure, missing: rec.MissingKeys, undeclared: rec.Undeclared})
	b.textBytes += int64(len(rec.Cursor) + len(rec.Failure))
}

// size is the memory the batch holds, as charged to the look-ahead budget.
func (b *batch) size() int64 {
	return int64(cap(b.arena)) + int64(cap(b.items))*itemSize + b.textBytes
}

// result gives back what jsonscan found about a record.
func (it item) result() jsonscan.Result {
	return jsonscan.Result{SchemaOK: it.flags&itemSchemaOK != 0, Object: it.flags&itemObject != 0,
		BadUTF8: it.flags&itemBadUTF8 != 0, Cursor: it.text, Failure: it.failure, MissingKeys: it.missing, Undeclared: it.undeclared}
}

// windowFeed is one window's channel and how many of its batches are waiting.
type windowFeed struct {
	ch       chan batch
	inFlight atomic.Int64
}

// headSlack is how many batches the window being written may have waiting beyond the
// look-ahead budget, so that the writer always has the next records at hand.
const headSlack = 2

// readWindows fetches up to Prefetch windows at once and writes them strictly in order, so
// records keep their order and states only move forward: at most Prefetch windows are
// fetched or waiting at a time. Records travel in batches as they are split from the body,
// so no page is held whole. The window being written may keep
// headSlack batches ahead of the writer; windows fetched further ahead (heart_rate has one
// per 30 days) wait for room in the look-ahead budget, which every stream shares, so memory
// stays bounded in bytes whatever the pages hold.
func (r *Reader) readWindows(ctx context.Context, run *streamRun, windows []window) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := run.job.Stream
	var head atomic.Int64 // index of the window being written
	var requests, retries atomic.Int64
	slots := make(chan struct{}, r.Prefetch)
	// ready hands the writer each window's feed, in order, once the window is dispatched: a feed
	// lives from then until it is written, so at most Prefetch exist however long the plan is.
	// Sending never blocks: a window holds its slot until written, so at most Prefetch feeds
	// wait here.
	ready := make(chan *windowFeed, r.Prefetch)
	var producers sync.WaitGroup
	go func() {
		defer close(ready)
		for i, w := range windows {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			// Batches are bounded in bytes by the budget and headSlack; the capacity only keeps a
			// fetcher from blocking on the channel itself.
			f := &windowFeed{ch: make(chan batch, 64)}
			ready <- f
			producers.Add(1)
			go func() {
				defer producers.Done()
				defer close(f.ch) // its slot is freed once the window is written
				st := r.fetchWindow(ctx, run, w, f, func() bool { return head.Load() == int64(i) })
				requests.Add(st.Requests)
				retries.Add(st.Retries)
			}()
		}
	}()
	var current *windowFeed // the feed being written
	defer func() {
		cancel()
		feeds := []*windowFeed{current}
		for f := range ready { // ends once the dispatcher has stopped
			feeds = append(feeds, f)
		}
		producers.Wait()
		// Give back the budget of batches nobody will write.
		for _, f := range feeds {
			if f == nil {
				continue
			}
			for b := range f.ch {
				lookahead.release(b.charged)
			}
		}
		run.sum.Requests += requests.Load()
		run.sum.Retries += retries.Load()
	}()

	for i, w := range windows {
		head.Store(int64(i))
		lookahead.wake() // a fetcher waiting for room may now use the head's slack
		f, ok := <-ready
		if !ok { // the dispatcher stopped: the sync was cancelled
			return fmt.Errorf("reading %s: %w", s.Path, context.Cause(ctx))
		}
		current = f
		var lastDay cursor
		for b := range f.ch {
			err := r.writeBatch(run, b, &w, &lastDay)
			f.inFlight.Add(-1)
			lookahead.release(b.charged)
			b.recycle()
			if err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("reading %s: %w", s.Path, context.Cause(ctx))
		}
		<-slots // the next window may be fetched
		// The window is complete: everything up to the latest cursor seen is delivered.
		if err := r.checkpoint(run, run.max); err != nil {
			return err
		}
	}
	return nil
}

// fetchWindow walks the pages of one window and sends its records to f in batches, each page
// followed by a page-end item, and the error that ended the walk last; isHead tells whether the
// window is the one being written. It returns the walk's work.
//
// Oura may refuse the fields parameter (never tried against the live API). When it does on a
// page before any record of that page went out, the walk resumes at that page without fields,
// still knowing the tokens of the pages already read. When the refusal comes after part of the
// page went out (the page was cut off and asking for it again was refused), walking it again
// would write those records twice: the window fails as transient instead, and the next sync
// resumes from the last saved state.
func (r *Reader) fetchWindow(ctx context.Context, run *streamRun, w window, f *windowFeed, isHead func() bool) oura.Stats {
	s := run.job.Stream
	send := func(b batch) error {
		room := func() bool { return f.inFlight.Load() < headSlack }
		charged, err := lookahead.acquire(ctx, b.size(), isHead, room)
		if err != nil {
			return err
		}
		b.charged = charged
		f.inFlight.Add(1)
		select {
		case f.ch <- b:
			return nil
		case <-ctx.Done():
			f.inFlight.Add(-1)
			lookahead.release(charged)
			return ctx.Err()
		}
	}
	var (
		b      batch
		st     oura.Stats
		token  string // next_token of the last page read to its end
		inPage int    // records of the page being read that went out (they will be written)
		q      = run.windowQuery(w)
		it     = r.Client.Pages(r.path(s), q).Check(run.cols.scan, s.Cursor)
	)
	for {
		for it.Next(ctx, func(rec oura.Record) error {
			inPage++
			b.add(rec)
			if len(b.arena) < batchBytes && len(b.items) < maxBatchItems {
				return nil
			}
			err := send(b)
			b = batch{}
			return err
		}) {
			inPage = 0
			token = it.Page().NextToken
			b.pageEnd(token)
			if send(b) != nil {
				return sumStats(st, it.Stats())
			}
			b = batch{}
		}
		st = sumStats(st, it.Stats())
		err := it.Err()
		if err != nil && q.Has("fields") && refusedFields(err) && ctx.Err() == nil {
			if inPage == 0 {
				r.readWhole(run, err)
				q = withoutFields(w.query, token)
				it = it.Resume(q)
				continue
			}
			err = refusedMidPage(err, inPage)
		}
		if err != nil && ctx.Err() == nil {
			// Records of the page before the error still go out; then the error.
			b.err = fmt.Errorf("fetching %s%s: %w", s.Path, describeWindow(w), err)
			f.inFlight.Add(1)
			select {
			case f.ch <- b:
			case <-ctx.Done():
			}
		}
		return st
	}
}

// sumStats sums the work of two walks.
func sumStats(a, b oura.Stats) oura.Stats {
	a.Requests += b.Requests
	a.Retries += b.Retries
	return a
}

// refusedMidPage is the error for a page Oura refused the fields parameter of after n of its
// records went out: transient, as Oura answered the first time and the next sync starts afresh.
func refusedMidPage(err error, n int) error {
	var oe *oura.Error
	_ = errors.As(err, &oe) // refusedFields checked it is one
	return fmt.Errorf("%w (%v)", &oura.Error{Kind: oura.BadResponse, Status: oe.Status, Path: oe.Path, Detail: fmt.Sprintf(
		"a page asked with the fields parameter was cut off after %d records, and asking for it again was refused; "+
			"those records are written, and rather than read the page again without fields and write them twice "+
			"the stream stops here (the next sync resumes from the last saved state)", n)}, err)
}

// writeBatch writes a batch's records in order. At the end of each page (and only then,
// once its records are written) a date collection may checkpoint: see pageDone.
func (r *Reader) writeBatch(run *streamRun, b batch, w *window, lastDay *cursor) error {
	for _, it := range b.items {
		if it.flags&itemPageEnd != 0 {
			if err := r.pageDone(run, *lastDay, it.text); err != nil {
				return err
			}
			*lastDay = cursor{}
			continue
		}
		raw := b.arena[it.start:it.end]
		if it.flags&itemTooDeep != 0 {
			r.refuse(run, raw, jsonscan.ErrTooDeep)
			continue
		}
		c, err := r.emitRecord(run, raw, it.result(), w)
		if err != nil {
			return err
		}
		if c.set {
			*lastDay = c
		}
	}
	return b.err
}

// describeWindow is " from X to Y" for a window with a range, with its leading space, and ""
// for an undated collection, so that "fetching <path><window>: ..." reads right either way.
func describeWindow(w window) string {
	if w.from.IsZero() {
		return ""
	}
	if _, ok := w.query["start_datetime"]; ok {
		return fmt.Sprintf(" from %s to %s", w.query.Get("start_datetime"), w.query.Get("end_datetime"))
	}
	return fmt.Sprintf(" from %s to %s", w.from.Format(dayLayout), w.to.Format(dayLayout))
}

// pageDone runs once a page has been read to its end and its records written. Date
// collections come as one long paged request in date order, so a page also completes every
// day before the day of its last document, less one day because a sleep period's day can be
// the day after the timestamp Oura orders and filters by; that is checkpointed, so a sync
// cut off mid-way resumes without a gap.
func (r *Reader) pageDone(run *streamRun, lastDay cursor, nextToken string) error {
	if run.job.Stream.Params == Dates && nextToken != "" && lastDay.set {
		done := lastDay.t.AddDate(0, 0, -2)
		if run.max.set && done.After(run.max.t) {
			done = run.max.t
		}
		return r.checkpoint(run, cursor{t: done, set: true})
	}
	return nil
}

// refuse counts and logs an element that is not written: it is not a JSON object, or it is
// nested deeper than jsonscan.MaxDepth (common JSON readers could not read the line).
func (r *Reader) refuse(run *streamRun, raw []byte, why error) {
	s := run.job.Stream
	run.sum.Invalid++
	msg := "Oura returned an element that is not a JSON object; it is not written as a record"
	if errors.Is(why, jsonscan.ErrTooDeep) {
		msg = fmt.Sprintf("Oura returned a document nested deeper than %d levels; it is not written as a record", jsonscan.MaxDepth)
	} else if why != nil {
		msg = "Oura returned a document that is not valid JSON (" + why.Error() + "); it is not written as a record"
	}
	r.Log.Error().Str("stream", s.Name).Str("document", truncate(string(raw), 120)).Msg(msg)
}

// maxFailureLog bounds the schema failure text in a WARN.
const maxFailureLog = 300

// emitRecord filters and writes one document jsonscan has checked (res), and returns its
// cursor value.
func (r *Reader) emitRecord(run *streamRun, raw []byte, res jsonscan.Result, w *window) (cursor, error) {
	s := run.job.Stream
	if !res.Object {
		r.refuse(run, raw, nil)
		return cursor{}, nil
	}
	var c cursor
	if s.Cursor != "" && w != nil && !w.from.IsZero() {
		t, err := s.parseCursor(res.Cursor)
		if err == nil {
			c = cursor{t: t, set: true}
			if !w.keeps(t) {
				run.sum.Skipped++
				return c, nil
			}
		} else {
			r.Log.Warn().Str("stream", s.Name).Str("field", s.Cursor).Msg("document has no usable cursor value; written anyway")
		}
	}
	if len(res.Undeclared) > 0 || res.MissingKeys != 0 {
		r.noteKeys(run, res.Undeclared, res.MissingKeys)
	}
	for _, f := range r.Validator.Explain(s.Name, raw, res) {
		if r.warnings.add(s.Name, f) {
			// The failure quotes the offending value, which can be as large as a record: the
			// field's path comes first, and a few hundred bytes tell the rest.
			r.Log.Warn().Str("stream", s.Name).Str("failure", protocol.Cut(f, maxFailureLog)).
				Msg("record does not match the stream schema; it is written unchanged (further failures of this field are only counted)")
		}
	}
	if res.BadUTF8 {
		if run.sum.Replaced == 0 {
			r.Log.Warn().Str("stream", s.Name).Str("document", truncate(string(raw), 120)).
				Msg("a record holds bytes that are not UTF-8; it is written with each replaced by U+FFFD (counted at the end of the stream)")
		}
		run.sum.Replaced++
	}
	if !run.running.Swap(true) {
		if err := r.Out.Status(run.job.Desc, protocol.Running); err != nil {
			return c, err
		}
	}
	if err := r.Out.Record(run.prefix, r.ownAccount(run, raw, res.Undeclared)); err != nil {
		return c, err
	}
	run.sum.Records++
	r.progressRecord(run, c)
	run.pending++
	if c.set && (!run.max.set || c.t.After(run.max.t)) {
		run.max = c
	}
	return c, nil
}

// checkpoint writes the state of an incremental stream when c moves it forward. The cursor
// only ever moves forward: a lookback re-read never sends an older state.
func (r *Reader) checkpoint(run *streamRun, c cursor) error {
	if run.job.Mode != protocol.Incremental || !c.set {
		return nil
	}
	if run.emitted.set && !c.t.After(run.emitted.t) {
		return nil
	}
	return r.writeState(run, c)
}

func (r *Reader) writeState(run *streamRun, c cursor) error {
	s := run.job.Stream
	blob := noCursorState
	if run.job.Mode == protocol.Incremental {
		blob = s.encodeState(c)
	}
	if err := r.Out.State(run.job.Desc, blob, run.pending); err != nil {
		return err
	}
	run.pending = 0
	run.emitted = c
	run.stated = true
	return nil
}

// finalState writes the stream's last state: every stream ends with one, an empty one too,
// unless an identical state was just written with no records since.
func (r *Reader) finalState(run *streamRun) error {
	c := run.emitted
	if run.max.set && (!c.set || run.max.t.After(c.t)) {
		c = run.max
	}
	if run.stated && run.pending == 0 && c == run.emitted {
		return nil
	}
	return r.writeState(run, c)
}

// failureType maps an error to the failure type the platform shows.
func failureType(err error) protocol.FailureType {
	var oe *oura.Error
	if errors.As(err, &oe) {
		switch oe.Kind {
		case oura.Unauthorized, oura.Forbidden, oura.UpgradeRequired:
			return protocol.ConfigError
		case oura.RateLimited, oura.ServerError, oura.Network, oura.BadResponse:
			if !oe.Transient() {
				return protocol.ConfigError // a certificate that does not verify: base_url is wrong
			}
			return protocol.TransientError
		}
		return protocol.SystemError
	}
	var se *StateError
	if errors.As(err, &se) {
		return protocol.ConfigError
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return protocol.TransientError
	}
	return protocol.SystemError
}

// userMessage is the error's text with advice where the error itself has none.
func userMessage(err error) string {
	if errors.Is(err, context.Canceled) {
		return "the sync was stopped before this stream finished; the next sync resumes from its last state"
	}
	return err.Error()
}
