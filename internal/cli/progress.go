package cli

import (
	"os"

	"golang.org/x/term"

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
