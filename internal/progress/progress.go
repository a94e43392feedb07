// Package progress shows a person who runs a sync by hand what each stream is doing: one line per
// running stream on stderr (days of the range done, records, requests, retries), at most once per
// interval, and a last line when the stream ends. The connector uses it only when stderr is a
// terminal; the platform and CI, which read stdout, see nothing of it.
package progress

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultInterval is how often the lines are printed at most: often enough to see a sync move,
// rarely enough not to flood a terminal that also shows the records.
const DefaultInterval = time.Second

// recentRequests is how many request URLs per stream are remembered to tell a retry (the same URL
// sent again) from the next page or window (always a new URL). A stream has at most a few
// requests in flight (one per prefetched window), so a retry repeats one of its last few URLs.
const recentRequests = 16

// Printer collects what the streams do and writes the lines. It is safe for concurrent use.
type Printer struct {
	w        io.Writer
	interval time.Duration
	now      func() time.Time

	mu        sync.Mutex
	streams   map[string]*stream
	paths     map[string]string // request path → stream
	lastFrame time.Time
}

type stream struct {
	name                       string
	from, to, cursor           time.Time
	records, requests, retries int64
	recent                     []string
	running, changed           bool
	waitUntil                  time.Time // while rate limited: when requests resume
}

// New returns a Printer writing to w at most once per interval (DefaultInterval when not positive).
// now is the clock (nil: time.Now).
func New(w io.Writer, interval time.Duration, now func() time.Time) *Printer {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if now == nil {
		now = time.Now
	}
	return &Printer{w: w, interval: interval, now: now, streams: map[string]*stream{}, paths: map[string]string{}}
}

// Watch counts the requests to URL path (e.g. /v2/usercollection/heartrate) for stream.
func (p *Printer) Watch(path, stream string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paths[path] = stream
}

// Begin marks stream as running over [from, to); zero times for a stream read without a range.
func (p *Printer) Begin(name string, from, to time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.get(name)
	s.from, s.to, s.running, s.changed = from, to, true, true
}

// Records notes that stream has written n records so far, the last with cursor value at (zero
// when it has none).
func (p *Printer) Records(name string, n int64, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.get(name)
	s.records, s.changed = n, true
	if at.After(s.cursor) {
		s.cursor = at
	}
	p.frame()
}

// RateLimited notes that stream waits on Oura's rate limit until until (zero: it no longer waits).
// The change is printed at once, whatever the interval: during a long wait nothing else happens,
// and the person should see why the stream stands still.
func (p *Printer) RateLimited(name string, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.get(name)
	s.waitUntil = until
	if s.running {
		fmt.Fprintf(p.w, "source-oura: %s\n", s.line(false, p.now()))
		s.changed = false
	}
}

// End prints the stream's last line, whatever the interval, and stops showing it.
func (p *Printer) End(name string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.get(name)
	outcome := "done"
	if !ok {
		outcome = "stopped"
	}
	if s.running {
		fmt.Fprintf(p.w, "source-oura: %s %s\n", outcome, s.line(ok, p.now()))
	}
	s.running = false
}

// Transport wraps next so that each request to a watched path counts for its stream; a request for
// a URL the stream sent recently counts as a retry too.
func (p *Printer) Transport(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		p.request(req.URL.EscapedPath(), req.URL.RawQuery)
		return next.RoundTrip(req)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func (p *Printer) request(path, query string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	name, ok := p.paths[path]
	if !ok {
		return
	}
	s := p.get(name)
	s.requests++
	s.changed = true
	for _, q := range s.recent {
		if q == query {
			s.retries++
			break
		}
	}
	if len(s.recent) == recentRequests {
		s.recent = s.recent[1:]
	}
	s.recent = append(s.recent, query)
	p.frame()
}

func (p *Printer) get(name string) *stream {
	s, ok := p.streams[name]
	if !ok {
		s = &stream{name: name}
		p.streams[name] = s
	}
	return s
}

// frame prints one line per running stream that changed, when the interval has passed since the
// last frame. p.mu is held.
func (p *Printer) frame() {
	now := p.now()
	if !p.lastFrame.IsZero() && now.Sub(p.lastFrame) < p.interval {
		return
	}
	names := make([]string, 0, len(p.streams))
	for name, s := range p.streams {
		if s.running && s.changed {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		s := p.streams[name]
		fmt.Fprintf(&b, "source-oura: %s\n", s.line(false, now))
		s.changed = false
	}
	_, _ = io.WriteString(p.w, b.String())
	p.lastFrame = now
}

// line is the stream's progress: "heart_rate 412/730 days, 118656 records, 15 requests, 1 retry".
// A complete stream has done its whole range, whatever its last record's day. While the stream waits
// on Oura's rate limit, the line ends with how long until requests resume.
func (s *stream) line(complete bool, now time.Time) string {
	var parts []string
	if days := wholeDays(s.from, s.to); days > 0 {
		done := days
		if !complete {
			done = 0
			if !s.cursor.IsZero() {
				done = min(max(wholeDays(s.from, s.cursor), 0), days)
			}
		}
		parts = append(parts, fmt.Sprintf("%d/%d days", done, days))
	}
	parts = append(parts, plural(s.records, "record"), plural(s.requests, "request"), plural(s.retries, "retry"))
	if !complete && s.waitUntil.After(now) {
		parts = append(parts, "rate limited by Oura, resuming in "+s.waitUntil.Sub(now).Round(time.Second).String())
	}
	return s.name + " " + strings.Join(parts, ", ")
}

// wholeDays is the number of days from a to b, counting a part day as one.
func wholeDays(a, b time.Time) int {
	if a.IsZero() || b.IsZero() || !b.After(a) {
		return 0
	}
	d := b.Sub(a)
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}

func plural(n int64, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}
