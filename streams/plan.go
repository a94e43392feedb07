package streams

import (
	"net/url"
	"time"
)

// window is one range of requests for a stream and the exact range of cursor values it
// delivers. The request range may be wider than the delivered one (see plan).
type window struct {
	query url.Values
	// from and to bound the cursor values kept: from ≤ cursor ≤ to when last is true,
	// from ≤ cursor < to otherwise (so consecutive windows never deliver a row twice).
	from, to time.Time
	last     bool
}

// keeps reports whether a record whose cursor is c belongs to the window.
func (w window) keeps(c time.Time) bool {
	if c.Before(w.from) {
		return false
	}
	if w.last {
		return !c.After(w.to)
	}
	return c.Before(w.to)
}

// plan splits the sync range [from, to] into the fewest requests the collection allows.
//
// Date collections are asked for the whole range in one paged request. Oura filters them on
// a timestamp, not on the day field, and a bare end_date means midnight at the start of that
// day: daily_activity (stamped 04:00) would lose the end day, sleep (filtered on bedtime,
// the evening before its day) the start day. So the request is one day wider on each side
// and the reader keeps exactly the documents whose day lies in [from, to].
//
// Time series are asked in windows of at most WindowDays; each row's timestamp decides.
func (s *Stream) plan(from, to time.Time) []window {
	if to.Before(from) {
		return nil
	}
	switch s.Params {
	case Dates:
		q := url.Values{}
		q.Set("start_date", from.AddDate(0, 0, -1).Format(dayLayout))
		q.Set("end_date", to.AddDate(0, 0, 1).Format(dayLayout))
		return []window{{query: q, from: from, to: to, last: true}}
	case DateTimes:
		var out []window
		step := time.Duration(s.WindowDays) * 24 * time.Hour
		for ws := from; ; ws = ws.Add(step) {
			we := ws.Add(step)
			last := !we.Before(to)
			if last {
				we = to
			}
			q := url.Values{}
			q.Set("start_datetime", ws.UTC().Format(time.RFC3339))
			q.Set("end_datetime", we.UTC().Format(time.RFC3339))
			out = append(out, window{query: q, from: ws, to: we, last: last})
			if last {
				return out
			}
		}
	default:
		return []window{{query: url.Values{}, last: true}}
	}
}

// ouraEpoch is the earliest time any collection is asked about: Oura's first ring shipped in
// 2015, and the spec's default start is the same day.
var ouraEpoch = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

// seriesAhead is how far past now a time series is asked about: no sample can lie further
// ahead, and a day covers any clock skew between here and the ring.
const seriesAhead = 24 * time.Hour

// syncRange is the range of cursor values a run delivers: from the config's start (or the
// saved cursor less the lookback, whichever is later) to the config's end or now.
//
// No range starts before ouraEpoch: there is no data before it, and a year-0 start would be sent
// as start_date=-0001-12-31. Time series are asked in windows of WindowDays, one request each
// even when empty, so their range also ends by now+seriesAhead: a config of year 0000 to 9999
// would otherwise plan 121,748 windows. Date collections are one paged request whatever their
// end and keep it as configured (the config refuses years past 9998).
func (s *Stream) syncRange(start, end, now time.Time, saved cursor, lookbackDays int) (from, to time.Time) {
	from, to = start.UTC(), end.UTC()
	if end.IsZero() {
		to = now.UTC()
	}
	if saved.set {
		back := saved.t.AddDate(0, 0, -lookbackDays)
		if back.After(from) {
			from = back
		}
	}
	if s.Params == Dates || s.Params == DateTimes {
		from = later(from, ouraEpoch)
	}
	if s.Params == DateTimes {
		if ahead := now.UTC().Add(seriesAhead); to.After(ahead) {
			to = ahead
		}
	}
	if s.Params == Dates {
		from = truncDay(from)
		if end.IsZero() {
			// Oura files documents under the user's local day, which can be a day ahead of UTC.
			to = truncDay(to).AddDate(0, 0, 1)
		} else {
			to = truncDay(to)
		}
	}
	return from, to
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func truncDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// FullRefreshQueries lists the query of every request range a full-refresh read of the
// stream asks for (each is then paged): the same plan the reader follows. The benchmark's
// floor program uses it to make exactly the connector's requests.
func (s *Stream) FullRefreshQueries(start, end, now time.Time) []url.Values {
	from, to := s.syncRange(start, end, now, cursor{}, 0)
	var out []url.Values
	for _, w := range s.plan(from, to) {
		out = append(out, w.query)
	}
	return out
}
