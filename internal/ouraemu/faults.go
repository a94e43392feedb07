package ouraemu

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Faults describes failures the server injects into data routes (/v2/...). The OAuth routes
// are never affected. The zero value injects nothing.
//
// Counter-based knobs are exact, so tests can predict every answer. Each kind of fault keeps
// its own counter of the requests that reach it, and the kinds are tried in a fixed order:
// upgrade required, fail-after-pages, rate limit, server error, dropped connection; body
// truncation is decided last, on answers that would have been 200. A request answered by
// an earlier kind is not counted by the later ones, so RateLimitFirst 2 with ServerErrorFirst
// 1 answers 429, 429, 500 and then data. Only requests that pass authentication count.
//
// A "First N, Every M" pair hits requests 1..N and then every M-th request after those:
// N+M, N+2M, and so on. SetFaults resets every counter.
type Faults struct {
	// OnlyPaths limits every fault, latency included, to these collections (route names such
	// as "daily_sleep", live and sandbox alike). Empty means all data routes.
	OnlyPaths []string

	// Latency is added before answering each data request.
	Latency time.Duration

	// UpgradeRequired answers every data request with 426, as Oura does when the user's app is
	// too old to share the data.
	UpgradeRequired bool

	// FailAfterPages, when positive, lets that many list pages succeed and then answers every
	// data request with 503, to cut a sync off part way.
	FailAfterPages int

	// RateLimitFirst and RateLimitEvery pick the requests answered with 429.
	RateLimitFirst, RateLimitEvery int
	// RetryAfter is the Retry-After value, in seconds, sent with each 429.
	RetryAfter int
	// RateLimitLimit and RateLimitWindow fill X-RateLimit-Limit and X-RateLimit-Window
	// (defaults 5000 and 300, Oura's documented 5000 requests per 5 minutes).
	RateLimitLimit, RateLimitWindow int
	// RateLimitTier fills X-RateLimit-Tier, the layer that fired (default "token").
	RateLimitTier string

	// ServerErrorFirst and ServerErrorEvery pick the requests answered with a 5xx.
	ServerErrorFirst, ServerErrorEvery int
	// ServerErrors are the statuses used, in turn, for the successive server errors
	// (default 500). {502, 503} with ServerErrorFirst 3 answers 502, 503, 502.
	ServerErrors []int

	// DropFirst and DropEvery pick the requests whose connection is closed without an answer.
	// Go's http.Transport replays an idempotent request once, unseen by its caller, when a
	// reused keep-alive connection closes without an answer; against such a client a single
	// drop is invisible and it takes two in a row (DropFirst 2) to surface an error.
	DropFirst, DropEvery int

	// TruncateFirst and TruncateEvery pick the successful answers whose body is cut off half
	// way: the status is 200 and Content-Length promises the whole body, then the connection
	// closes after a valid-looking JSON prefix.
	TruncateFirst, TruncateEvery int

	// EndlessNextToken makes every list page carry a next_token that leads back to the same
	// page with the same token, so a client that does not notice a repeated token loops forever.
	EndlessNextToken bool

	// RefuseFields answers every live list request that carries a fields parameter with 422,
	// as an API revision that does not know the parameter might. It is checked before the
	// counted faults and does not advance their counters.
	RefuseFields bool
}

// FaultRefuseFields is the Request.Fault of a request refused by Faults.RefuseFields.
const FaultRefuseFields = "refuse_fields"

// refuseFields answers a request that Faults.RefuseFields refuses.
func (s *Server) refuseFields(r *http.Request, rt route) (reply, bool) {
	if rt.kind != routeList || rt.sandbox || !r.URL.Query().Has("fields") {
		return reply{}, false
	}
	f, ok := s.faultsFor(rt.collection)
	if !ok || !f.RefuseFields {
		return reply{}, false
	}
	// The shape of the API's other query validation errors (FastAPI's 422 body).
	body := []byte(`{"detail":[{"loc":["query","fields"],"msg":"extra fields not permitted","type":"value_error.extra"}]}`)
	return reply{status: http.StatusUnprocessableEntity, body: body}, true
}

// faultState is the counters behind the counter-based knobs.
type faultState struct {
	pages        int // successful list pages served
	rateLimitN   int
	serverErrorN int
	serverErrors int // server errors answered, to rotate through Faults.ServerErrors
	dropN        int
	truncateN    int
}

// hits reports whether the n-th request (1-based) is picked by a First/Every pair.
func hits(n, first, every int) bool {
	if n <= first {
		return true
	}
	return every > 0 && (n-first)%every == 0
}

// SetFaults replaces the injected faults and resets their counters.
func (s *Server) SetFaults(f Faults) {
	f.OnlyPaths = slices.Clone(f.OnlyPaths)
	f.ServerErrors = slices.Clone(f.ServerErrors)
	s.faultMu.Lock()
	s.faults = f
	s.fstate = faultState{}
	s.faultMu.Unlock()
}

// faultsFor returns the faults that apply to a request for collection, and whether any do.
func (s *Server) faultsFor(collection string) (Faults, bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f := s.faults
	if len(f.OnlyPaths) > 0 && !slices.Contains(f.OnlyPaths, collection) {
		return Faults{}, false
	}
	return f, true
}

// sleep waits d or until the request is abandoned.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// preFault decides, before the data is looked up, whether an injected fault answers this
// request instead. drop means close the connection without answering.
func (s *Server) preFault(collection string) (rep reply, fault string, drop bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f := s.faults
	if len(f.OnlyPaths) > 0 && !slices.Contains(f.OnlyPaths, collection) {
		return reply{}, "", false
	}
	st := &s.fstate
	if f.UpgradeRequired {
		return detailReply(http.StatusUpgradeRequired,
			"The Oura app must be updated before this data can be shared."), FaultUpgradeRequired, false
	}
	if f.FailAfterPages > 0 && st.pages >= f.FailAfterPages {
		return detailReply(http.StatusServiceUnavailable, "Service Unavailable"), FaultFailAfterPages, false
	}
	st.rateLimitN++
	if hits(st.rateLimitN, f.RateLimitFirst, f.RateLimitEvery) {
		return s.rateLimitReply(f), FaultRateLimit, false
	}
	st.serverErrorN++
	if hits(st.serverErrorN, f.ServerErrorFirst, f.ServerErrorEvery) {
		status := http.StatusInternalServerError
		if len(f.ServerErrors) > 0 {
			status = f.ServerErrors[st.serverErrors%len(f.ServerErrors)]
		}
		st.serverErrors++
		return detailReply(status, http.StatusText(status)), FaultServerError, false
	}
	st.dropN++
	if hits(st.dropN, f.DropFirst, f.DropEvery) {
		return reply{}, FaultDrop, true
	}
	return reply{}, "", false
}

// rateLimitReply builds a 429 with the five headers Oura documents.
func (s *Server) rateLimitReply(f Faults) reply {
	limit, windowSecs, tier := f.RateLimitLimit, f.RateLimitWindow, f.RateLimitTier
	if limit <= 0 {
		limit = 5000
	}
	if windowSecs <= 0 {
		windowSecs = 300
	}
	if tier == "" {
		tier = "token"
	}
	rep := detailReply(http.StatusTooManyRequests, "Rate limit exceeded.")
	rep.header = http.Header{
		"Retry-After":        {strconv.Itoa(f.RetryAfter)},
		"X-Ratelimit-Limit":  {strconv.Itoa(limit)},
		"X-Ratelimit-Window": {strconv.Itoa(windowSecs)},
		"X-Ratelimit-Reset":  {strconv.FormatInt(s.now().Unix()+int64(f.RetryAfter), 10)},
		"X-Ratelimit-Tier":   {tier},
	}
	return rep
}

// truncateNext reports whether this successful answer for collection is to be cut off.
func (s *Server) truncateNext(collection string) bool {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f := s.faults
	if len(f.OnlyPaths) > 0 && !slices.Contains(f.OnlyPaths, collection) {
		return false
	}
	s.fstate.truncateN++
	return hits(s.fstate.truncateN, f.TruncateFirst, f.TruncateEvery)
}

// pageServed counts a list page delivered whole, for FailAfterPages.
func (s *Server) pageServed(collection string) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f := s.faults
	if len(f.OnlyPaths) > 0 && !slices.Contains(f.OnlyPaths, collection) {
		return
	}
	s.fstate.pages++
}

// dropConnection closes the client's connection without writing anything.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): ErrAbortHandler is net/http's own way to make the server
		// reset the stream without logging a stack trace.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// writeTruncated sends a 200 whose Content-Length promises body but only the first half of
// it arrives before the connection closes.
func writeTruncated(w http.ResponseWriter, rep reply) {
	h := w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body[:len(rep.body)/2])
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	dropConnection(w)
}
