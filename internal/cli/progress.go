package cli

import (
	"net/http"
	"os"

	"golang.org/x/term"

	"source-oura/internal/netpolicy"
	"source-oura/internal/progress"
	"source-oura/streams"
)

// stderrIsTerminal reports whether a person is watching stderr (by hand, docker run -it), where
// read shows its progress lines. The platform and CI pipe stderr and see nothing extra.
func (r *run) stderrIsTerminal() bool {
	if r.env.Terminal != nil {
		return r.env.Terminal()
	}
	f, ok := r.env.Stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// startProgress sets up the progress lines for jobs when stderr is a terminal, and returns the
// hook for the reader (nil otherwise, so that nothing changes for the platform).
func (r *run) startProgress(jobs []streams.Job, sandbox bool) streams.Progress {
	if !r.stderrIsTerminal() {
		return nil
	}
	r.progress = progress.New(r.env.Stderr, progress.DefaultInterval, r.env.Now)
	for _, j := range jobs {
		r.progress.Watch(collectionPath(j.Stream, sandbox), j.Desc.Name)
	}
	return r.progress
}

// collectionPath is the URL path a stream's requests go to.
func collectionPath(s *streams.Stream, sandbox bool) string {
	if sandbox {
		return "/v2/sandbox/usercollection/" + s.Path
	}
	return "/v2/usercollection/" + s.Path
}

// httpClient is the HTTP client the Oura client sends through: Env's, with the progress counter
// around its transport when progress lines are on.
func (r *run) httpClient() *http.Client {
	if r.progress == nil {
		return r.env.HTTPClient
	}
	hc := &http.Client{}
	if r.env.HTTPClient != nil {
		copied := *r.env.HTTPClient
		hc = &copied
	}
	next := hc.Transport
	if next == nil {
		// What the Oura client uses when given none: the connector's proxy rules, and enough
		// idle connections for several streams at once.
		t := netpolicy.NewTransport()
		t.MaxIdleConnsPerHost = 16
		next = t
	}
	hc.Transport = r.progress.Transport(next)
	return hc
}
