package ouraemu

import (
	"net/url"
	"sort"
	"strings"
	"time"
)

// Request is one entry of the server's request log: what a client asked for and what it got.
// Tests read it to assert the exact calls a connector made.
type Request struct {
	// Time is when the request arrived, by the server's clock (Options.Now).
	Time time.Time
	// Method is the HTTP method, e.g. "GET".
	Method string
	// Path is the URL path, e.g. "/v2/usercollection/daily_sleep".
	Path string
	// Query holds the decoded query parameters. A literal '+' has already become a space here,
	// exactly as the server saw it.
	Query url.Values
	// AuthScheme is the scheme word of the Authorization header as sent ("Bearer" for a bearer
	// token, "Basic" on the token endpoint), "query" when an access_token query parameter was
	// sent instead, or "" when the request carried no credentials.
	AuthScheme string
	// seq numbers requests in arrival order: entries are stored when a request ends, which
	// for a cut-off answer can be after the next request has ended.
	seq int64
	// Status is the HTTP status answered, or 0 when the connection was dropped without an answer.
	Status int
	// Fault names the injected fault that shaped the answer (one of the Fault* constants), or "".
	Fault string
}

// Names of injected faults as recorded in Request.Fault.
const (
	FaultUpgradeRequired = "upgrade_required"
	FaultFailAfterPages  = "fail_after_pages"
	FaultRateLimit       = "rate_limit"
	FaultServerError     = "server_error"
	FaultDrop            = "drop"
	FaultTruncate        = "truncate"
	FaultEndlessToken    = "endless_next_token"
)

// authScheme reports how a request tried to authenticate, for the request log.
func authScheme(q url.Values, header string) string {
	if header != "" {
		scheme, _, _ := strings.Cut(strings.TrimSpace(header), " ")
		return scheme
	}
	if q.Has("access_token") {
		return "query"
	}
	return ""
}

// record appends one entry to the request log, keeping at most Options.RequestLogLimit
// entries when a limit is set, so a long-running emulator does not grow without bound.
func (s *Server) record(req Request) {
	s.logMu.Lock()
	s.log = append(s.log, req)
	if limit := s.opts.RequestLogLimit; limit > 0 && len(s.log) >= 2*limit {
		// Trim in halves rather than per request so appending stays amortised O(1).
		kept := make([]Request, limit, 2*limit)
		copy(kept, s.log[len(s.log)-limit:])
		s.log = kept
	}
	s.recorded.Add(1)
	s.logMu.Unlock()
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(req)
	}
}

// settleWait bounds how long Requests waits for requests still being answered.
const settleWait = 2 * time.Second

// Requests returns a copy of the log of finished requests in the order they arrived. With
// Options.RequestLogLimit set, only the most recent entries (at least the limit) are kept.
// A request is logged when its handler returns, which can be just after its client has read
// the whole answer; so Requests first waits (up to settleWait) until every request that has
// arrived is logged, and a test that reads the log right after its last answer sees it.
func (s *Server) Requests() []Request {
	for deadline := time.Now().Add(settleWait); s.recorded.Load() < s.arrivals.Load() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	s.logMu.Lock()
	out := make([]Request, len(s.log))
	copy(out, s.log)
	s.logMu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.logMu.Lock()
	s.log = nil
	s.logMu.Unlock()
}
