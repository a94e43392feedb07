package ouraemu

import (
	"slices"
	"sort"
)

// The plan is what the wearer did, day by day: when they slept, napped, trained, meditated
// and charged the ring. Every collection is derived from it, so heart-rate sources, activity
// classes and sleep documents agree with one another. Each day's plan is drawn from its own
// random stream and depends only on the seed and neighbouring days, never on the span
// generated, so a longer span reproduces a shorter one exactly.

const (
	// noDataBlock: one day per block of this many days is a day the ring was not worn, so
	// any 60-day span holds at least one.
	noDataBlock = 30
	// restModeBlock: one rest-mode period per block of this many days (three a year).
	restModeBlock = 120
	// planMargin is how many days beyond the span are planned: a day's events need its
	// neighbours' bedtimes and naps.
	planMargin = 3
)

// segKind is what the ring was doing during a stretch of the timeline; time outside every
// stretch is the wearer awake with the ring on.
type segKind uint8

const (
	segOff     segKind = iota + 1 // not worn and not charging: a day with no data
	segCharge                     // in the charger
	segSleep                      // a sleep period, main or nap
	segWorkout                    // a workout
	segSession                    // a guided session (meditation, breathing, ...)
)

// timeSeg is one stretch of the timeline, [from, to) in Unix seconds.
type timeSeg struct {
	from, to int64
	kind     segKind
	// level is the workout intensity (0 easy, 1 moderate, 2 hard).
	level uint8
	// rhr is the resting heart rate of the night, for sleep stretches.
	rhr uint8
}

// dayCore is a day's sleep: the main period that ends on it and an optional nap.
type dayCore struct {
	day      int64
	midnight int64 // instant the local day begins
	worn     bool
	// bedFrom and bedTo bound the main sleep ending this day. On a day with no data
	// bedFrom is when the ring came off the evening before.
	bedFrom, bedTo int64
	nap            bool
	lateNap        bool // the nap is on the previous evening, after 18:00 (type late_nap)
	napFrom, napTo int64
	rhr            int // resting heart rate of the night
	hrv            int // typical heart-rate variability of the night, ms
}

// workoutPlan is one planned workout.
type workoutPlan struct {
	from, to  int64
	kind      int // index into workoutKinds
	intensity int // 0 easy, 1 moderate, 2 hard
}

// sessionPlan is one planned session.
type sessionPlan struct {
	from, to int64
	kind     string // PublicMomentType
}

// dayLife is a worn day's waking events.
type dayLife struct {
	chargeFrom, chargeTo int64
	workouts             []workoutPlan
	sessions             []sessionPlan
}

// restModePlan is one rest-mode period.
type restModePlan struct {
	block    int64
	startDay int64
	from, to int64
}

// workoutKind describes an activity the wearer does.
type workoutKind struct {
	name             string
	weight           int
	minMin, maxMin   int
	speed            float64 // m/s; 0 when the activity has no distance
	met              [3]float64
	intensityWeights []int
}

var workoutKinds = []workoutKind{
	{"walking", 30, 20, 75, 1.35, [3]float64{3.0, 3.8, 4.5}, []int{60, 35, 5}},
	{"running", 18, 25, 70, 2.8, [3]float64{7.0, 9.0, 11.0}, []int{10, 50, 40}},
	{"cycling", 15, 30, 120, 6.0, [3]float64{5.0, 7.5, 10.0}, []int{20, 50, 30}},
	{"strength_training", 12, 30, 70, 0, [3]float64{3.5, 5.0, 6.0}, []int{20, 50, 30}},
	{"yoga", 10, 30, 75, 0, [3]float64{2.5, 3.0, 4.0}, []int{70, 30, 0}},
	{"hiking", 7, 60, 200, 1.1, [3]float64{5.0, 6.0, 7.5}, []int{30, 55, 15}},
	{"swimming", 5, 30, 60, 0.6, [3]float64{6.0, 8.0, 10.0}, []int{20, 60, 20}},
	{"other", 3, 20, 60, 0, [3]float64{3.0, 4.5, 6.0}, []int{40, 40, 20}},
}

var workoutIntensities = []string{"easy", "moderate", "hard"}

var (
	sessionTypes   = []string{"meditation", "breathing", "relaxation", "rest", "nap", "body_status"}
	sessionWeights = []int{35, 25, 15, 10, 10, 5}
)

// personPlan is the wearer.
type personPlan struct {
	id     string
	age    int
	weight float64 // kg
	height float64 // m
	sex    string
	email  string
	rhr    int     // usual resting heart rate
	vo2    int     // usual VO2 max
	drain  float64 // battery use, percent per hour
	// hrPhase and batteryPhase place the time-series grids within their periods.
	hrPhase, batteryPhase int64
}

func newPersonPlan(seed int64) personPlan {
	r := newGenRand(seed, "personal_info", 0)
	p := personPlan{id: r.uuid()}
	p.age = r.between(28, 58)
	if r.chance(0.5) {
		p.sex = "male"
		p.weight = roundTo(r.uniform(70, 95), 1)
		p.height = roundTo(r.uniform(1.72, 1.94), 2)
	} else {
		p.sex = "female"
		p.weight = roundTo(r.uniform(55, 80), 1)
		p.height = roundTo(r.uniform(1.58, 1.78), 2)
	}
	p.email = "wearer." + r.hex(8) + "@example.com"
	p.rhr = r.between(50, 58)
	p.vo2 = r.between(38, 48)
	p.drain = r.uniform(2.9, 3.4)
	p.hrPhase = int64(r.intn(300))
	p.batteryPhase = int64(r.intn(1800))
	return p
}

// generator holds the plan of a span and builds documents from it.
type generator struct {
	seed        int64
	zone        genZone
	person      personPlan
	first, last int64 // days with data, inclusive
	lo          int64 // day of cores[0]
	cores       []dayCore
	lives       []dayLife
	timeline    []timeSeg
	restModes   []restModePlan
	mainSleeps  map[int64]mainSleepCache
	w           docWriter
}

func newGenerator(seed, first, last int64) *generator {
	g := &generator{
		seed:   seed,
		zone:   newGenZone(seed),
		person: newPersonPlan(seed),
		first:  first,
		last:   last,
		lo:     first - planMargin,
	}
	g.planCores(last + planMargin)
	g.planNaps()
	g.planLives()
	g.planRestModes()
	g.buildTimeline()
	return g
}

func (g *generator) core(day int64) *dayCore { return &g.cores[day-g.lo] }
func (g *generator) life(day int64) *dayLife { return &g.lives[day-g.lo] }

// noData reports whether the ring was not worn at all on a day.
func (g *generator) noData(day int64) bool {
	phase := int64(drawInt(g.seed, "no-data-phase", 0, noDataBlock))
	block := floorDiv(day-phase, noDataBlock)
	r := newGenRand(g.seed, "no-data", block)
	return day == block*noDataBlock+phase+int64(r.intn(noDataBlock))
}

// planCores draws each day's main sleep.
func (g *generator) planCores(hi int64) {
	g.cores = make([]dayCore, hi-g.lo+1)
	for i := range g.cores {
		day := g.lo + int64(i)
		r := newGenRand(g.seed, "core", day)
		c := dayCore{day: day, midnight: g.zone.midnight(day), worn: !g.noData(day)}
		// Bedtime between 22:15 and 00:45 (later on Friday and Saturday nights); sleep of
		// 6 h 15 to 8 h 45.
		bed := int64(-105*60 + r.intn(150*60))
		dur := int64(6*3600 + 15*60 + r.intn(150*60))
		if wd := dayOfWeek(day - 1); wd == 5 || wd == 6 {
			bed += 40 * 60
			dur += 30 * 60
		}
		c.bedFrom = c.midnight + bed
		c.bedTo = c.bedFrom + dur
		c.rhr = clampInt(g.person.rhr+int(r.norm()*2), 42, 75)
		c.hrv = clampInt(42+int(r.norm()*8), 15, 110)
		if g.noData(day - 1) {
			// The ring was off all of yesterday, so it goes back on after midnight: no
			// heart rate may fall on the day without data.
			if c.worn {
				c.bedFrom = max(c.bedFrom, c.midnight+int64(15*60+r.intn(30*60)))
				c.bedTo = c.bedFrom + dur
			} else {
				c.bedFrom = c.midnight
			}
		}
		g.cores[i] = c
	}
}

// planNaps adds a nap to about a tenth of the days: in the afternoon (type sleep) or on
// the previous evening after 18:00 (type late_nap, filed under the next day).
func (g *generator) planNaps() {
	for i := 1; i < len(g.cores); i++ {
		c, prev := &g.cores[i], &g.cores[i-1]
		r := newGenRand(g.seed, "nap", c.day)
		if !c.worn || !r.chance(0.11) {
			continue
		}
		if r.chance(0.4) {
			if !prev.worn {
				continue
			}
			from := c.midnight - 6*3600 + int64(15*60+r.intn(90*60))
			to := from + int64(20*60+r.intn(40*60))
			if from < prev.bedTo+2*3600 || to > c.bedFrom-45*60 {
				continue
			}
			c.nap, c.lateNap, c.napFrom, c.napTo = true, true, from, to
			continue
		}
		from := c.midnight + int64(13*3600+r.intn(210*60))
		to := from + int64(20*60+r.intn(70*60))
		// Four hours after waking keeps the nap clear of the morning charge.
		if from < c.bedTo+4*3600 || to > c.midnight+17*3600+30*60 {
			continue
		}
		if i+1 >= len(g.cores) || to > g.cores[i+1].bedFrom-3600 {
			continue
		}
		c.nap, c.napFrom, c.napTo = true, from, to
	}
}

// busySpan is a busy interval while placing a day's events.
type busySpan struct{ from, to int64 }

// place finds a free start for an event of dur seconds inside [lo, hi], keeping a gap to
// the busy intervals and not straddling a change of UTC offset. It tries a few random
// starts and reports false when none fits.
func (g *generator) place(r *genRand, dur, lo, hi int64, busy []busySpan) (int64, bool) {
	const gap = 15 * 60
	if hi-lo < dur {
		return 0, false
	}
	for range 12 {
		from := lo + int64(r.intn(int(hi-lo-dur)+1))
		from -= from % 60
		if from < lo {
			from += 60
		}
		to := from + dur
		if to > hi || g.zone.offsetAt(from) != g.zone.offsetAt(to) {
			continue
		}
		free := true
		for _, b := range busy {
			if from < b.to+gap && to > b.from-gap {
				free = false
				break
			}
		}
		if free {
			return from, true
		}
	}
	return 0, false
}

// planLives places each worn day's charge, workouts and sessions between waking up and
// the next bedtime, keeping every event on the same local day.
func (g *generator) planLives() {
	g.lives = make([]dayLife, len(g.cores))
	for i := 1; i < len(g.cores)-1; i++ {
		c, next := &g.cores[i], &g.cores[i+1]
		if !c.worn {
			continue
		}
		r := newGenRand(g.seed, "life", c.day)
		wake := c.bedTo
		end := min(next.bedFrom, next.midnight)
		var busy []busySpan
		if c.nap && !c.lateNap {
			busy = append(busy, busySpan{c.napFrom, c.napTo})
		}
		if next.nap && next.lateNap {
			busy = append(busy, busySpan{next.napFrom, next.napTo})
		}
		l := &g.lives[i]
		// The ring charges every day, first thing in the morning or in the evening. It is
		// placed first so it always fits; 90 minutes or more always fills the battery.
		charge := int64(90*60 + r.intn(90*60))
		from := wake + int64(10*60+r.intn(80*60))
		if r.chance(0.4) {
			from = end - charge - int64(30*60+r.intn(120*60))
		}
		if !g.fits(from, charge, wake, end, busy) {
			from = wake + 10*60
		}
		l.chargeFrom, l.chargeTo = from, from+charge
		busy = append(busy, busySpan{l.chargeFrom, l.chargeTo})

		for range r.pickIndex([]int{50, 40, 10}) {
			k := r.pickIndex(kindWeights())
			kind := workoutKinds[k]
			dur := int64(r.between(kind.minMin, kind.maxMin) * 60)
			intensity := r.pickIndex(kind.intensityWeights)
			from, ok := g.place(&r, dur, wake+30*60, end-60*60, busy)
			if !ok {
				continue
			}
			l.workouts = append(l.workouts, workoutPlan{from: from, to: from + dur, kind: k, intensity: intensity})
			busy = append(busy, busySpan{from, from + dur})
		}
		if r.chance(0.25) {
			kind := r.pick(sessionTypes, sessionWeights)
			minutes := r.between(5, 20)
			switch kind {
			case "body_status":
				minutes = r.between(1, 3)
			case "nap":
				minutes = r.between(20, 40)
			}
			dur := int64(minutes * 60)
			if from, ok := g.place(&r, dur, wake+20*60, end-30*60, busy); ok {
				l.sessions = append(l.sessions, sessionPlan{from: from, to: from + dur, kind: kind})
			}
		}
		slices.SortFunc(l.workouts, func(a, b workoutPlan) int { return int(a.from - b.from) })
	}
}

func kindWeights() []int {
	w := make([]int, len(workoutKinds))
	for i, k := range workoutKinds {
		w[i] = k.weight
	}
	return w
}

// fits reports whether [from, from+dur) lies in [lo, hi] clear of the busy intervals.
func (g *generator) fits(from, dur, lo, hi int64, busy []busySpan) bool {
	if from < lo || from+dur > hi {
		return false
	}
	for _, b := range busy {
		if from < b.to && from+dur > b.from {
			return false
		}
	}
	return true
}

// restModeOf returns the rest-mode period of a block, if its first day was worn. It starts
// in the morning and lasts two to five days.
func (g *generator) restModeOf(block int64) (restModePlan, bool) {
	phase := int64(drawInt(g.seed, "rest-mode-phase", 0, restModeBlock))
	r := newGenRand(g.seed, "rest-mode", block)
	start := block*restModeBlock + phase + 10 + int64(r.intn(restModeBlock-20))
	if g.noData(start) {
		return restModePlan{}, false
	}
	from := g.zone.wallToUnix(start*secondsPerDay + int64(8*3600+r.intn(4*3600)))
	to := from + int64(r.between(2, 5))*secondsPerDay + int64(r.intn(6*3600)) - 3*3600
	return restModePlan{block: block, startDay: start, from: from, to: to}, true
}

// restModeBlocks returns the blocks whose period may start in [from, to].
func (g *generator) restModeBlocks(from, to int64) (lo, hi int64) {
	phase := int64(drawInt(g.seed, "rest-mode-phase", 0, restModeBlock))
	return floorDiv(from-phase, restModeBlock) - 1, floorDiv(to-phase, restModeBlock) + 1
}

func (g *generator) planRestModes() {
	last := g.lo + int64(len(g.cores)) - 1
	lo, hi := g.restModeBlocks(g.lo-10, last)
	for b := lo; b <= hi; b++ {
		if p, ok := g.restModeOf(b); ok && p.to > g.cores[0].midnight && p.startDay <= last {
			g.restModes = append(g.restModes, p)
		}
	}
}

// inRestMode reports whether the wearer was in rest mode at an instant.
func (g *generator) inRestMode(t int64) bool {
	for _, p := range g.restModes {
		if t >= p.from && t < p.to {
			return true
		}
	}
	return false
}

// buildTimeline lays every planned stretch on one sorted line.
func (g *generator) buildTimeline() {
	for i := 1; i < len(g.cores)-1; i++ {
		c, next := &g.cores[i], &g.cores[i+1]
		if !c.worn {
			g.timeline = append(g.timeline, timeSeg{from: c.bedFrom, to: next.midnight, kind: segOff})
			continue
		}
		g.timeline = append(g.timeline, timeSeg{from: c.bedFrom, to: c.bedTo, kind: segSleep, rhr: uint8(c.rhr)})
		if c.nap {
			g.timeline = append(g.timeline, timeSeg{from: c.napFrom, to: c.napTo, kind: segSleep, rhr: uint8(c.rhr)})
		}
		l := &g.lives[i]
		g.timeline = append(g.timeline, timeSeg{from: l.chargeFrom, to: l.chargeTo, kind: segCharge})
		for _, w := range l.workouts {
			g.timeline = append(g.timeline, timeSeg{from: w.from, to: w.to, kind: segWorkout, level: uint8(w.intensity)})
		}
		for _, s := range l.sessions {
			g.timeline = append(g.timeline, timeSeg{from: s.from, to: s.to, kind: segSession})
		}
	}
	sort.Slice(g.timeline, func(a, b int) bool { return g.timeline[a].from < g.timeline[b].from })
}

// segCursor finds the stretch containing an instant; calls with rising instants cost
// amortised constant time.
type segCursor struct {
	segs []timeSeg
	i    int // first stretch that ends after the last instant asked
}

func (c *segCursor) at(t int64) *timeSeg {
	if c.i > 0 && c.segs[c.i-1].to > t {
		c.i = sort.Search(len(c.segs), func(k int) bool { return c.segs[k].to > t })
	}
	for c.i < len(c.segs) && c.segs[c.i].to <= t {
		c.i++
	}
	if c.i < len(c.segs) && c.segs[c.i].from <= t {
		return &c.segs[c.i]
	}
	return nil
}
