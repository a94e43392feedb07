package streams

import (
	"sync/atomic"
	"time"

	"source-oura/internal/oura"
	"source-oura/protocol"
)

// rateStatus tells Airbyte, and a person watching, when a stream waits on Oura's rate limit: a
// STREAM_STATUS RUNNING with a RATE_LIMITED reason whose quota_reset (epoch ms) says when requests
// resume, and a plain RUNNING once the next request is sent. The platform shows the stream as rate
// limited with the time left in between.
type rateStatus struct {
	r       *Reader
	run     *streamRun
	limited atomic.Bool
}

var _ oura.RateLimitObserver = (*rateStatus)(nil)

// Waiting reports the wait; every wait is reported, since a later one may move the reset time.
func (s *rateStatus) Waiting(until time.Time) {
	s.limited.Store(true)
	_ = s.r.Out.Status(s.run.job.Desc, protocol.Running, protocol.StreamStatusReason{
		Type:        "RATE_LIMITED",
		RateLimited: &protocol.RateLimited{QuotaReset: until.UnixMilli()},
	})
	if s.r.Progress != nil {
		s.r.Progress.RateLimited(s.run.job.Desc.Name, until)
	}
}

// Sending clears the rate-limited status once, on the first request sent after a wait.
func (s *rateStatus) Sending() {
	if !s.limited.Swap(false) {
		return
	}
	s.run.running.Store(true) // the first record need not say RUNNING again
	_ = s.r.Out.Status(s.run.job.Desc, protocol.Running)
	if s.r.Progress != nil {
		s.r.Progress.RateLimited(s.run.job.Desc.Name, time.Time{})
	}
}
