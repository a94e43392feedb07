package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/streams"
)

// seriesColumns are the columns deselected in the column-selection runs: the per-minute and
// per-5-minute series, which make up most of these documents' bytes.
var seriesColumns = map[string][]string{
	"sleep_periods":  {"heart_rate", "hrv", "movement_30_sec", "sleep_phase_5_min", "sleep_phase_30_sec", "app_sleep_phase_5_min"},
	"daily_activity": {"met", "class_5_min"},
}

// projectionTries is how many times each column-selection read runs; the fastest counts, as
// the runs are short and this machine is shared.
const projectionTries = 3

// projectionRun is one column-selection read: every column, or the series deselected.
type projectionRun struct {
	name     string
	requests int
	bytes    int64 // bytes of the answers' bodies as written by the emulator (headers not counted)
	m        measurement
}

// servedBytes counts the bytes an http.Handler writes in its answers' bodies.
type servedBytes struct {
	h http.Handler
	n atomic.Int64
}

func (s *servedBytes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.h.ServeHTTP(&countingWriter{ResponseWriter: w, n: &s.n}, r)
}

// countingWriter counts what passes through Write; Unwrap lets http.ResponseController reach
// the connection (the emulator's fault knobs hijack it).
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// projectionCatalog writes a configured catalog of the seriesColumns streams with the schemas
// discover gives, less the series columns when narrow is set.
func (b *bench) projectionCatalog(narrow bool) (string, error) {
	cat, err := streams.Catalog()
	if err != nil {
		return "", err
	}
	var entries []string
	for _, s := range cat.Streams {
		drop, ok := seriesColumns[s.Name]
		if !ok {
			continue
		}
		schema := s.JSONSchema
		if narrow {
			var doc map[string]json.RawMessage
			var props map[string]json.RawMessage
			if err := json.Unmarshal(schema, &doc); err != nil {
				return "", err
			}
			if err := json.Unmarshal(doc["properties"], &props); err != nil {
				return "", err
			}
			for _, name := range drop {
				delete(props, name)
			}
			doc["properties"], _ = json.Marshal(props)
			schema, _ = json.Marshal(doc)
		}
		entries = append(entries, fmt.Sprintf(`{"stream":{"name":%q,"json_schema":%s,"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}`, s.Name, schema))
	}
	p := filepath.Join(b.dir, fmt.Sprintf("catalog-projection-%v.json", narrow))
	return p, os.WriteFile(p, []byte(`{"streams":[`+strings.Join(entries, ",")+`]}`), 0o600)
}

// projection reads sleep_periods and daily_activity from start with every column, then with the
// series deselected (the connector then sends fields=), and counts what the emulator served.
func (b *bench) projection(start time.Time) ([]projectionRun, error) {
	b.srv.SetFaults(ouraemu.Faults{})
	cfg, err := b.configFile(b.url, start, 4)
	if err != nil {
		return nil, err
	}
	var out []projectionRun
	for _, narrow := range []bool{false, true} {
		cat, err := b.projectionCatalog(narrow)
		if err != nil {
			return nil, err
		}
		run := projectionRun{name: "every column"}
		if narrow {
			run.name = "series deselected (`fields=`)"
		}
		for try := 0; try < projectionTries; try++ {
			b.srv.ResetRequests()
			b.served.n.Store(0)
			m, err := measure(b.connector, "read", "--config", cfg, "--catalog", cat)
			if err != nil {
				return nil, err
			}
			if try == 0 || m.wall < run.m.wall {
				run.m = m
			}
			run.bytes = b.served.n.Load()
			run.requests = len(b.srv.Requests())
			if narrow && !b.askedFields() {
				return nil, fmt.Errorf("the narrowed read sent no fields parameter")
			}
		}
		out = append(out, run)
	}
	return out, nil
}

// askedFields reports whether the last read sent a fields parameter.
func (b *bench) askedFields() bool {
	for _, r := range b.srv.Requests() {
		if r.Query.Has("fields") {
			return true
		}
	}
	return false
}

func (r report) renderProjection() string {
	if len(r.projection) != 2 {
		return ""
	}
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("\n## 6. Column selection: `sleep_periods` and `daily_activity`, %d years\n\n", r.years)
	w("The series columns deselected in the catalog (sleep_periods: %s; daily_activity: %s), so the connector asks Oura for the other columns with `fields=`. Bytes are what the emulator wrote in its answers; wall time is the fastest of %d runs.\n\n",
		strings.Join(seriesColumns["sleep_periods"], ", "), strings.Join(seriesColumns["daily_activity"], ", "), projectionTries)
	w("| columns | requests | bytes fetched MB | wall s | peak RSS MiB |\n|---|---:|---:|---:|---:|\n")
	for _, p := range r.projection {
		w("| %s | %d | %.1f | %.2f | %.1f |\n", p.name, p.requests, mb(p.bytes), p.m.wall.Seconds(), mib(p.m.maxRSS))
	}
	full, narrow := r.projection[0], r.projection[1]
	share := float64(narrow.bytes) / float64(full.bytes)
	w("\nBytes fetched with the series deselected: **%.0f%%** of every column (target ≤ 30%%: %s); wall time %.0f%%. On loopback the wall time is mostly starting the process and the emulator's own work, so it moves little; over the internet the transfer time follows the bytes. The requests are the same: 1 of them reads personal_info for the account log line, the rest are pages of 1000 documents.\n",
		100*share, verdict(share <= 0.30), 100*narrow.m.wall.Seconds()/full.m.wall.Seconds())
	return b.String()
}
