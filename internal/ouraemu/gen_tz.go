package ouraemu

// The wearer lives on Eastern European time and travels once per era (see gen_plan.go) to
// the American east coast. Offsets are computed here from the EU rule rather than from the
// system time-zone database, so the data never depends on the machine that generates it.

const (
	secondsPerDay = 86400

	homeWinterOffset = 2 * 3600 // +02:00
	homeSummerOffset = 3 * 3600 // +03:00
	// tripShift moves the home offset to the trip's: +02:00 becomes -05:00 and +03:00
	// becomes -04:00, which is what New York shows for most of the year.
	tripShift = -7 * 3600

	// eraDays is the length of the cycle that holds one ring replacement and one trip, so
	// every two-year span contains exactly one start of each.
	eraDays = 730
	// tripEarliest and tripSpread place the trip's first day within an era, far from the
	// ring replacement at the era's start.
	tripEarliest = 300
	tripSpread   = 120
	// The trip offset starts at 10:00 UTC of the departure day and ends at 16:00 UTC of the
	// return day: both moments are daytime in both zones, so no local midnight is ambiguous,
	// and no night's sleep straddles them.
	tripDepartSec = 10 * 3600
	tripReturnSec = 16 * 3600
)

// floorDiv divides rounding toward minus infinity, so days before 1970 work too.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// daysFromCivil returns the day number (days since 1970-01-01) of a proleptic Gregorian date.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// dayOfWeek returns 0 for Sunday through 6 for Saturday.
func dayOfWeek(day int64) int64 {
	return ((day+4)%7 + 7) % 7
}

// lastSunday returns the day number of the last Sunday of a month.
func lastSunday(y, m int64) int64 {
	last := daysFromCivil(y, m+1, 1) - 1
	return last - dayOfWeek(last)
}

// homeOffset is the EU summer-time rule for UTC+2: summer time runs from 01:00 UTC on the
// last Sunday of March to 01:00 UTC on the last Sunday of October.
func homeOffset(unix int64) int64 {
	y, _, _ := civilFromDays(floorDiv(unix, secondsPerDay))
	start := lastSunday(y, 3)*secondsPerDay + 3600
	end := lastSunday(y, 10)*secondsPerDay + 3600
	if unix >= start && unix < end {
		return homeSummerOffset
	}
	return homeWinterOffset
}

// tripPlan is the one journey of an era.
type tripPlan struct {
	firstDay, lastDay int64 // local days spent in the trip's zone
	from, to          int64 // instants the trip offset applies: [from, to)
	offset            int64
}

// genZone knows the wearer's UTC offset at every instant.
type genZone struct {
	seed int64
	// eraPhase shifts the eras by a seed-dependent number of days.
	eraPhase int64
}

func newGenZone(seed int64) genZone {
	r := newGenRand(seed, "era", 0)
	return genZone{seed: seed, eraPhase: int64(r.intn(eraDays))}
}

// eraOf returns the era a day belongs to.
func (z genZone) eraOf(day int64) int64 {
	return floorDiv(day-z.eraPhase, eraDays)
}

// eraStart returns the first day of an era.
func (z genZone) eraStart(era int64) int64 {
	return era*eraDays + z.eraPhase
}

// trip returns the trip of an era; it lasts 9 to 12 days.
func (z genZone) trip(era int64) tripPlan {
	r := newGenRand(z.seed, "trip", era)
	first := z.eraStart(era) + tripEarliest + int64(r.intn(tripSpread))
	last := first + 9 + int64(r.intn(4))
	from := first*secondsPerDay + tripDepartSec
	return tripPlan{
		firstDay: first,
		lastDay:  last,
		from:     from,
		to:       last*secondsPerDay + tripReturnSec,
		offset:   homeOffset(from) + tripShift,
	}
}

// offsetAt returns the wearer's UTC offset in seconds at an instant.
func (z genZone) offsetAt(unix int64) int64 {
	t := z.trip(z.eraOf(floorDiv(unix, secondsPerDay)))
	if unix >= t.from && unix < t.to {
		return t.offset
	}
	return homeOffset(unix)
}

// wallToUnix returns the instant at which the wearer's clock shows wall (seconds since
// 1970-01-01 on the local wall clock). Wall times skipped or repeated by a change resolve
// to one of the candidates deterministically.
func (z genZone) wallToUnix(wall int64) int64 {
	t := wall - z.offsetAt(wall-homeWinterOffset)
	if off := z.offsetAt(t); wall-off != t {
		return wall - off
	}
	return t
}

// midnight returns the instant the wearer's local day begins.
func (z genZone) midnight(day int64) int64 {
	return z.wallToUnix(day * secondsPerDay)
}
