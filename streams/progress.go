package streams

import "time"

// Progress follows a sync for a person watching it (see internal/progress). It is called from the
// goroutines of several streams at once and must be cheap: Records comes after every record.
type Progress interface {
	// Begin is called when a stream starts, with the range it reads (zero times when it has none).
	Begin(stream string, from, to time.Time)
	// Records is called after each record with the stream's count so far and the record's cursor
	// value (zero when it has none).
	Records(stream string, n int64, cursor time.Time)
	// RateLimited is called when the stream waits on Oura's rate limit until until, and with a
	// zero until when its requests flow again.
	RateLimited(stream string, until time.Time)
	// End is called when the stream ends; ok is false when it did not complete.
	End(stream string, ok bool)
}

// progressBegin tells Progress a stream starts reading the range from..to (zero times when it
// reads no range of days); readInto calls it once it knows the range.
func (r *Reader) progressBegin(run *streamRun, from, to time.Time) {
	if r.Progress != nil {
		r.Progress.Begin(run.job.Desc.Name, from, to)
	}
}

// progressRecord tells Progress a record was written.
func (r *Reader) progressRecord(run *streamRun, c cursor) {
	if r.Progress == nil {
		return
	}
	var at time.Time
	if c.set {
		at = c.t
	}
	r.Progress.Records(run.job.Desc.Name, run.sum.Records, at)
}

// progressEnd tells Progress a stream ended.
func (r *Reader) progressEnd(sum Summary) {
	if r.Progress != nil {
		r.Progress.End(sum.Stream, sum.Err == nil)
	}
}
