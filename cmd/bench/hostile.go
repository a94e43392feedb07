package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// hostileRun is one hostile-server test run as its own process, so /usr/bin/time reports the
// peak RSS of everything it held: the test's server, the client and the connector's buffers.
type hostileRun struct {
	server, test, outcome string
	m                     measurement
}

// hostileTests are the tests that serve what a broken or hostile server could send. Each asserts
// its own bound and the clear error it ends with; here they are timed for their peak memory.
var hostileTests = []struct{ server, pkg, test, outcome string }{
	{"`Content-Length: 536870911` with a 20-byte body", "./internal/oura", "TestHugeContentLengthAllocatesNothing",
		"cut off after 3 attempts; no buffer sized from the header"},
	{"a 200 KB gzip bomb inflating to 200 MB inside `data`", "./internal/oura", "TestGzipBombStaysBounded",
		"stops at the 64 MiB record limit, not retried"},
	{"endless 4 MB pages in every heart-rate window, 4 windows fetched ahead", "./streams", "TestEndlessBigPagesStayInTheByteBudget",
		"look-ahead held within its 16 MiB budget; the stream fails with an error trace"},
}

// hostile builds each package's test binary (without the race detector, as a user's build runs)
// and runs each hostile test alone under /usr/bin/time.
func (b *bench) hostile() ([]hostileRun, error) {
	bins := map[string]string{}
	var runs []hostileRun
	for _, h := range hostileTests {
		bin, ok := bins[h.pkg]
		if !ok {
			bin = filepath.Join(b.dir, strings.ReplaceAll(strings.Trim(h.pkg, "./"), "/", "_")+".test")
			if out, err := exec.Command("go", "test", "-c", "-o", bin, h.pkg).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("building the tests of %s: %v\n%s", h.pkg, err, out)
			}
			bins[h.pkg] = bin
		}
		m, err := measure(bin, "-test.run", "^"+h.test+"$", "-test.count", "1")
		if err != nil {
			return nil, fmt.Errorf("%s (it asserts its own bound; run it with go test -v to see why): %w", h.test, err)
		}
		runs = append(runs, hostileRun{server: h.server, test: h.pkg[2:] + " " + h.test, outcome: h.outcome, m: m})
	}
	return runs, nil
}

// hostileLimit is the bound on peak memory whatever a server sends.
const hostileLimit = 256 << 20

func (r report) renderHostile() string {
	if len(r.hostile) == 0 {
		return ""
	}
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("\n## 7. Hostile servers: peak memory of the whole test process\n\n")
	w("Each test serves what a broken or hostile server could send and asserts its own bound and error (heap growth from `runtime.MemStats`); here each runs alone in its own process (`go test -c`, no race detector) under /usr/bin/time, so the figure is the peak RSS of the test's server, the client and every buffer together.\n\n")
	w("| server sends | how it ends | test | peak RSS MiB |\n|---|---|---|---:|\n")
	ok := true
	for _, h := range r.hostile {
		w("| %s | %s | `%s` | %.1f |\n", h.server, h.outcome, h.test, mib(h.m.maxRSS))
		ok = ok && h.m.maxRSS < hostileLimit
	}
	w("\nPeak RSS under 256 MiB in every case: %s. Before records were streamed, the first took 1 GB per stream and the second 1.1 GB.\n", verdict(ok))
	return b.String()
}
