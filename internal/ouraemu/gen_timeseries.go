package ouraemu

import (
	"math"
	"strconv"
	"time"
)

// The time series: heart rate every 5 minutes and battery level every 30 minutes while the
// ring is on a finger (battery also while it charges). Rows are keyed by their true instant.
// Each row's randomness is a hash of (seed, series, instant), so a row never depends on the
// span generated.

const (
	heartRateStep = 300
	batteryStep   = 1800
	// chargePerHour is how fast the charger fills the battery; with charges of 90 minutes
	// or more the ring always leaves the charger full, so a day's levels never depend on
	// earlier days.
	chargePerHour = 80.0
)

// seriesRow appends the shared head of a row: {"timestamp":"…+00:00","timestamp_unix":ms.
func seriesRow(b []byte, t int64) []byte {
	b = append(b, `{"timestamp":"`...)
	b = appendLocalized(b, t, 0, false)
	b = append(b, `","timestamp_unix":`...)
	return strconv.AppendInt(b, t*1000, 10)
}

// firstSlot returns the first instant at or after from on a grid of step seconds shifted
// by phase.
func firstSlot(from, step, phase int64) int64 {
	return from + ((phase-from)%step+step)%step
}

// series returns the rows of a time series over the span's local days the ring is worn: one
// row per slot of step seconds (shifted by phase), each the shared head (seriesRow) followed
// by what fields appends, which must close the object. fields is called for every slot in
// order, so it may keep state from one slot to the next; it returns false to leave a slot out.
func (g *generator) series(perDay int64, step, phase int64, fields func(c *dayCore, t int64, b []byte) ([]byte, bool)) []Doc {
	docs := make([]Doc, 0, (g.last-g.first+1)*perDay)
	var rows rowArena
	for day := g.first; day <= g.last; day++ {
		c := g.core(day)
		if !c.worn {
			continue
		}
		from, to := c.midnight, g.core(day+1).midnight
		rows.reset()
		for t := firstSlot(from, step, phase); t < to; t += step {
			b, keep := fields(c, t, seriesRow(rows.begin(t), t))
			if keep {
				rows.buf = b
			} else {
				rows.drop()
			}
		}
		docs = rows.flush(docs)
	}
	return docs
}

// heartRate returns the heart-rate rows of the span's local days. The source follows the
// plan: sleep during sleep periods, workout and session during those, awake otherwise (rest
// while in rest mode, now and then live); no rows while the ring charges or is off.
func (g *generator) heartRate() []Doc {
	cur := segCursor{segs: g.timeline}
	stream := streamHash("heartrate")
	return g.series(260, heartRateStep, g.person.hrPhase, func(c *dayCore, t int64, b []byte) ([]byte, bool) {
		h := seriesHash(g.seed, stream, t)
		u1, u2, u3 := hashUnit(h), hashUnit(mix64(h+1)), hashUnit(mix64(h+2))
		var bpm float64
		var source string
		switch seg := cur.at(t); {
		case seg == nil:
			source = "awake"
			bpm = float64(c.rhr) + 10 + 14*u1 + 30*u2*u2
			switch {
			case g.inRestMode(t):
				source = "rest"
				bpm += 6
			case u3 < 0.003:
				source = "live"
			}
		case seg.kind == segSleep:
			source = "sleep"
			progress := float64(t-seg.from) / float64(seg.to-seg.from)
			bpm = sleepCurve(int(seg.rhr), progress) + 4*(u1-0.5)
		case seg.kind == segWorkout:
			source = "workout"
			ramp := math.Min(1, float64(t-seg.from)/600)
			bpm = 95 + 18*float64(seg.level) + 30*ramp + 16*(u1-0.5)
		case seg.kind == segSession:
			source = "session"
			bpm = float64(c.rhr) + 4 + 6*u1
		default:
			return b, false // charging or not worn
		}
		b = append(b, `,"bpm":`...)
		b = strconv.AppendInt(b, int64(math.Round(bpm)), 10)
		b = append(b, `,"source":"`...)
		b = append(b, source...)
		return append(b, `"}`...), true
	})
}

// batteryLevels returns the battery rows of the span's local days. The level falls steadily
// from full after each charge and rises in the charger; charging turns false once full.
func (g *generator) batteryLevels() []Doc {
	var chargers []timeSeg // stretches after which the ring is full again
	for _, s := range g.timeline {
		if s.kind == segCharge || s.kind == segOff {
			chargers = append(chargers, s)
		}
	}
	stream := streamHash("ring_battery_level")
	full := g.cores[0].midnight // before any planned charge, assume a full ring
	level := func(t int64) int {
		return clampInt(100-int(g.person.drain*float64(t-full)/3600), 1, 100)
	}
	j := 0
	return g.series(46, batteryStep, g.person.batteryPhase, func(_ *dayCore, t int64, b []byte) ([]byte, bool) {
		for j < len(chargers) && chargers[j].to <= t {
			full = chargers[j].to
			j++
		}
		lvl, charging, inCharger := level(t), false, false
		if j < len(chargers) && chargers[j].from <= t {
			if chargers[j].kind == segOff {
				return b, false
			}
			at := chargers[j].from
			lvl = min(100, level(at)+int(chargePerHour*float64(t-at)/3600))
			charging, inCharger = lvl < 100, true
		}
		h := seriesHash(g.seed, stream, t)
		b = append(b, `,"charging":`...)
		b = appendNullableBool(b, charging, hashUnit(h) < 0.02)
		b = append(b, `,"in_charger":`...)
		b = appendNullableBool(b, inCharger, hashUnit(mix64(h+1)) < 0.02)
		b = append(b, `,"level":`...)
		b = strconv.AppendInt(b, int64(lvl), 10)
		return append(b, '}'), true
	})
}

// rowArena collects a day of rows in a reused buffer and then copies them into one
// exactly sized allocation: half a million rows cost a few thousand allocations, not
// half a million, and no spare capacity stays behind.
type rowArena struct {
	buf    []byte
	starts []int
	keys   []int64
}

func (a *rowArena) reset() {
	a.buf, a.starts, a.keys = a.buf[:0], a.starts[:0], a.keys[:0]
}

// begin starts a row at instant t and returns the buffer to append it to.
func (a *rowArena) begin(t int64) []byte {
	a.starts = append(a.starts, len(a.buf))
	a.keys = append(a.keys, t)
	return a.buf
}

// drop takes back the row begin started last: its slot has no row after all.
func (a *rowArena) drop() {
	a.buf = a.buf[:a.starts[len(a.starts)-1]]
	a.starts, a.keys = a.starts[:len(a.starts)-1], a.keys[:len(a.keys)-1]
}

// flush appends the collected rows to docs.
func (a *rowArena) flush(docs []Doc) []Doc {
	day := append(make([]byte, 0, len(a.buf)), a.buf...)
	for i, start := range a.starts {
		end := len(day)
		if i+1 < len(a.starts) {
			end = a.starts[i+1]
		}
		docs = append(docs, Doc{Key: time.Unix(a.keys[i], 0).UTC(), JSON: day[start:end:end]})
	}
	return docs
}

func appendNullableBool(b []byte, v, null bool) []byte {
	if null {
		return append(b, "null"...)
	}
	return strconv.AppendBool(b, v)
}
