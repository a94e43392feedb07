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

	"github.com/rs/zerolog"

	"source-oura/internal/oura"
	"source-oura/protocol"
)

// Job is one configured stream to read.
type Job struct {
	Stream *Stream
	Mode   protocol.SyncMode
	Desc   protocol.StreamDescriptor
	// State is the stream's input state blob; nil for none.
	State json.RawMessage
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
	Validator *Validator
	Now       func() time.Time

	warnings schemaWarnings
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
	Invalid  int64 // elements of "data" that were not JSON objects
	Duration time.Duration
	Err      error
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
	var stop authStop
	// Streams start in catalog order as slots free up; once the sync is cancelled, the rest
	// still run, see the cancelled context at once and end INCOMPLETE. Once Oura has rejected
	// the token for good, the rest are not attempted at all.
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
			stop.note(sums[i].Err)
		}(i)
	}
	wg.Wait()

	var failed []string
	types := map[protocol.FailureType]bool{}
	for _, s := range sums {
		r.Log.Info().Str("stream", s.Stream).Int64("records", s.Records).Int64("requests", s.Requests).
			Int64("retries", s.Retries).Int("schema_warnings", s.Warnings).Int64("outside_range", s.Skipped).
			Int64("not_objects", s.Invalid).Str("time", s.Duration.Round(time.Millisecond).String()).
			Msg("stream summary")
		if s.Err != nil {
			failed = append(failed, s.Stream)
			types[failureType(s.Err)] = true
		}
	}
	if err := stop.get(); err != nil {
		return &AuthError{Err: err, Failed: failed}
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
	running bool
}

func (r *Reader) readStream(ctx context.Context, job Job) Summary {
	start := r.Now()
	run := &streamRun{job: job, prefix: protocol.NewRecordPrefix(job.Desc.Name, job.Desc.Namespace)}
	run.sum.Stream = job.Desc.Name
	out := r.Out
	_ = out.Status(job.Desc, protocol.Started)

	err := r.readInto(ctx, run)
	if err == nil {
		err = r.finalState(run)
	}
	run.sum.Warnings = r.warnings.total(job.Desc.Name)
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
	if run.job.Mode == protocol.Incremental {
		c, err := parseState(s, run.job.State)
		if err != nil {
			return err
		}
		run.saved, run.max, run.emitted = c, c, c
	}
	if r.Sandbox && s.NoSandbox {
		r.Log.Warn().Str("stream", s.Name).Msg("Oura has no sandbox route for this stream; it ends with no records")
		return nil
	}
	if s.Params == Single {
		return r.readSingle(ctx, run)
	}
	from, to := s.syncRange(r.Start, r.End, r.Now(), run.saved, r.LookbackDays)
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
	body, err := r.Client.Get(ctx, r.path(run.job.Stream), nil)
	run.sum.Requests++
	if err != nil {
		return fmt.Errorf("fetching %s: %w", run.job.Stream.Path, err)
	}
	var who struct{ ID string }
	if json.Unmarshal(body, &who) == nil && who.ID != "" {
		// One line per sync that says whose data this is (one config is one Oura account).
		r.Log.Info().Str("account_id", who.ID).Msg("syncing Oura account")
	}
	_, err = r.emitRecord(run, body, nil)
	return err
}

// maxPagesPerWindow bounds the pages a prefetched window holds before its fetcher waits.
const maxPagesPerWindow = 256

// pageMsg carries one fetched page, or the error that ended a window.
type pageMsg struct {
	page oura.Page
	err  error
}

// readWindows fetches up to Prefetch windows at once and writes them strictly in order, so
// records keep their order and states only move forward.
func (r *Reader) readWindows(ctx context.Context, run *streamRun, windows []window) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := run.job.Stream
	// A window being fetched ahead must not stall on a full channel while the writer is
	// still on an earlier window, or prefetching would not hide any latency: with several
	// windows, each may hold a whole window (30 days of samples, well under a megabyte).
	// A single window (a date collection's whole range) hands each page over as it comes:
	// the next page is fetched while the current one is written, and no more is held.
	buffer := 0
	if len(windows) > 1 {
		buffer = maxPagesPerWindow
	}
	chans := make([]chan pageMsg, len(windows))
	for i := range chans {
		chans[i] = make(chan pageMsg, buffer)
	}
	var requests, retries atomic.Int64
	slots := make(chan struct{}, r.Prefetch)
	var producers sync.WaitGroup
	go func() {
		for i, w := range windows {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				for _, c := range chans[i:] {
					close(c)
				}
				return
			}
			producers.Add(1)
			go func(i int, w window) {
				defer producers.Done()
				defer func() { <-slots }()
				defer close(chans[i])
				it := r.Client.Pages(r.path(s), w.query)
				for it.Next(ctx) {
					select {
					case chans[i] <- pageMsg{page: it.Page()}:
					case <-ctx.Done():
						return
					}
				}
				st := it.Stats()
				requests.Add(int64(st.Requests))
				retries.Add(int64(st.Retries))
				if err := it.Err(); err != nil {
					select {
					case chans[i] <- pageMsg{err: fmt.Errorf("fetching %s %s: %w", s.Path, describeWindow(w), err)}:
					case <-ctx.Done():
					}
				}
			}(i, w)
		}
	}()
	defer func() {
		cancel()
		producers.Wait()
		run.sum.Requests += requests.Load()
		run.sum.Retries += retries.Load()
	}()

	for i, w := range windows {
		w := w
		for msg := range chans[i] {
			if msg.err != nil {
				return msg.err
			}
			if err := r.emitPage(run, msg.page, &w); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("reading %s: %w", s.Path, context.Cause(ctx))
		}
		// The window is complete: everything up to the latest cursor seen is delivered.
		if err := r.checkpoint(run, run.max); err != nil {
			return err
		}
	}
	return nil
}

func describeWindow(w window) string {
	if w.from.IsZero() {
		return ""
	}
	if _, ok := w.query["start_datetime"]; ok {
		return fmt.Sprintf("from %s to %s", w.query.Get("start_datetime"), w.query.Get("end_datetime"))
	}
	return fmt.Sprintf("from %s to %s", w.from.Format(dayLayout), w.to.Format(dayLayout))
}

// emitPage writes a page's records. For date collections, which come as one long paged
// request in date order, a page also completes every day before the day of its last
// document, less one day because a sleep period's day can be the day after the timestamp
// Oura orders and filters by; that is checkpointed, so a sync cut off mid-way resumes
// without a gap.
func (r *Reader) emitPage(run *streamRun, p oura.Page, w *window) error {
	var lastDay cursor
	for _, rec := range p.Records {
		c, err := r.emitRecord(run, rec, w)
		if err != nil {
			return err
		}
		if c.set {
			lastDay = c
		}
	}
	if run.job.Stream.Params == Dates && p.NextToken != "" && lastDay.set {
		done := lastDay.t.AddDate(0, 0, -2)
		if run.max.set && done.After(run.max.t) {
			done = run.max.t
		}
		return r.checkpoint(run, cursor{t: done, set: true})
	}
	return nil
}

// emitRecord checks, filters and writes one document, and returns its cursor value.
func (r *Reader) emitRecord(run *streamRun, raw []byte, w *window) (cursor, error) {
	s := run.job.Stream
	if !isObject(raw) {
		run.sum.Invalid++
		r.Log.Error().Str("stream", s.Name).Str("document", truncate(string(raw), 120)).
			Msg("Oura returned an element that is not a JSON object; it is not written as a record")
		return cursor{}, nil
	}
	var c cursor
	cursorValue, failures := r.Validator.CheckRaw(s.Name, raw, s.Cursor)
	if s.Cursor != "" && w != nil && !w.from.IsZero() {
		t, err := s.parseCursor(cursorValue)
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
	for _, f := range failures {
		if r.warnings.add(s.Name, f) {
			r.Log.Warn().Str("stream", s.Name).Str("failure", f).
				Msg("record does not match the stream schema; it is written unchanged (further failures of this field are only counted)")
		}
	}
	if !run.running {
		run.running = true
		if err := r.Out.Status(run.job.Desc, protocol.Running); err != nil {
			return c, err
		}
	}
	if err := r.Out.Record(run.prefix, raw); err != nil {
		return c, err
	}
	run.sum.Records++
	run.pending++
	if c.set && (!run.max.set || c.t.After(run.max.t)) {
		run.max = c
	}
	return c, nil
}

func isObject(raw []byte) bool {
	for _, b := range raw {
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
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
