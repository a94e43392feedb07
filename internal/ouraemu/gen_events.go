package ouraemu

import (
	"math"
	"strconv"
)

// Event-like collections (workouts, sessions, tags, rest mode), the rings and the wearer.

var workoutLabels = []string{"Morning run", "Commute", "Leg day", "Long ride", "With the dog", "Intervals"}

func (g *generator) workouts(day int64) []Doc {
	l := g.life(day)
	if len(l.workouts) == 0 {
		return nil
	}
	r := newGenRand(g.seed, "workout", day)
	docs := make([]Doc, 0, len(l.workouts))
	for _, w := range l.workouts {
		id := r.uuid()
		kind := workoutKinds[w.kind]
		hours := float64(w.to-w.from) / 3600
		var distance *float64
		if kind.speed > 0 && !r.chance(0.15) {
			distance = genPtr(roundTo(kind.speed*float64(w.to-w.from)*r.uniform(0.85, 1.15), 1))
		}
		var label *string
		if r.chance(0.1) {
			label = genPtr(workoutLabels[r.intn(len(workoutLabels))])
		}
		from, to := g.zone.offsetAt(w.from), g.zone.offsetAt(w.to)
		d := &workoutDoc{
			ID:            id,
			Activity:      kind.name,
			Calories:      orNull(&r, 0.02, roundTo(kind.met[w.intensity]*g.person.weight*hours*r.uniform(0.9, 1.1), 3)),
			Day:           dayString(day),
			Distance:      distance,
			EndDatetime:   localizedString(w.to, to, false),
			Intensity:     workoutIntensities[w.intensity],
			Label:         label,
			Source:        r.pick([]string{"autodetected", "confirmed", "manual", "workout_heart_rate"}, []int{45, 30, 15, 10}),
			StartDatetime: localizedString(w.from, from, false),
		}
		docs = append(docs, g.newDoc(d, id, d.Day, w.from+from))
	}
	return docs
}

func (g *generator) sessions(day int64) []Doc {
	l := g.life(day)
	if len(l.sessions) == 0 {
		return nil
	}
	r := newGenRand(g.seed, "session", day)
	rhr := g.core(day).rhr
	docs := make([]Doc, 0, len(l.sessions))
	for _, s := range l.sessions {
		id := r.uuid()
		off := g.zone.offsetAt(s.from)
		ts := localizedString(s.from, off, true)
		n := int(s.to-s.from) / 5
		hr, hrv, motion := make(nullFloats, n), make(nullFloats, n), make(nullFloats, n)
		for i := range n {
			progress := float64(i) / float64(n)
			hr[i] = math.Round(float64(rhr) + 8 - 4*progress + r.norm())
			if r.chance(0.05) {
				hrv[i] = math.NaN()
			} else {
				hrv[i] = math.Round(math.Max(10, 45+15*progress+r.norm()*8))
			}
			motion[i] = float64("0000000123"[r.intn(10)] - '0')
		}
		sample := func(items nullFloats) *publicSample {
			if r.chance(0.03) {
				return nil
			}
			return &publicSample{Interval: 5, Items: items, Timestamp: ts}
		}
		d := &sessionDoc{
			ID:                   id,
			Day:                  dayString(day),
			EndDatetime:          localizedString(s.to, g.zone.offsetAt(s.to), false),
			HeartRate:            sample(hr),
			HeartRateVariability: sample(hrv),
			Mood:                 orNull(&r, 0.35, r.pick([]string{"great", "good", "same", "worse", "bad"}, []int{20, 40, 25, 10, 5})),
			MotionCount:          sample(motion),
			StartDatetime:        localizedString(s.from, off, false),
			Type:                 s.kind,
		}
		docs = append(docs, g.newDoc(d, id, d.Day, s.from+off))
	}
	return docs
}

var (
	tagCodes = []string{"tag_generic_alcohol", "tag_generic_caffeine", "tag_generic_late_meal",
		"tag_generic_sauna", "tag_generic_stress", "tag_generic_nocaffeine"}
	tagTexts = []string{"Late dinner with friends", "Long day at work", "Felt a cold coming",
		"Two coffees after lunch", "Slept with the window open"}
)

// tags are the deprecated TagModel notes, on a few days.
func (g *generator) tags(day int64) []Doc {
	r := newGenRand(g.seed, "tag", day)
	if !r.chance(0.07) {
		return nil
	}
	id := r.uuid()
	wall := day*secondsPerDay + int64(7*3600+r.intn(16*3600))
	list := []string{tagCodes[r.intn(len(tagCodes))]}
	if r.chance(0.3) {
		if extra := tagCodes[r.intn(len(tagCodes))]; extra != list[0] {
			list = append(list, extra)
		}
	}
	d := &tagDoc{
		ID:        id,
		Day:       dayString(day),
		Text:      orNull(&r, 0.6, tagTexts[r.intn(len(tagTexts))]),
		Timestamp: wallString(wall),
		Tags:      list,
	}
	return []Doc{g.newDoc(d, id, d.Day, wall)}
}

// enhancedTagKind is a kind of enhanced tag: its code ("" for text-only tags), how long
// it lasts (0: a moment) and when in the day it is usually set.
type enhancedTagKind struct {
	code           string
	weight         int
	minDur, maxDur int // minutes
	fromH, toH     int
}

var enhancedTagKinds = []enhancedTagKind{
	{"tag_generic_caffeine", 20, 0, 0, 7, 16},
	{"tag_generic_alcohol", 15, 0, 0, 18, 23},
	{"tag_generic_late_meal", 10, 0, 0, 20, 23},
	{"tag_generic_fasting", 8, 720, 1080, 18, 21},
	{"tag_generic_nocaffeine", 6, 0, 0, 8, 12},
	{"tag_generic_sauna", 8, 15, 45, 16, 21},
	{"tag_generic_stress", 8, 0, 0, 9, 20},
	{"tag_generic_headache", 4, 60, 240, 9, 18},
	{"custom", 10, 0, 60, 8, 22},
	{"", 11, 0, 0, 8, 22},
}

var (
	customTagNames = []string{"Cold plunge", "Magnesium", "Blue-light glasses", "Melatonin"}
	tagComments    = []string{"Felt good afterwards", "Only a small one", "Busy evening", "Trying this for a week"}
)

func (g *generator) enhancedTags(day int64) []Doc {
	r := newGenRand(g.seed, "enhanced_tag", day)
	n := r.pickIndex([]int{78, 18, 4})
	if n == 0 {
		return nil
	}
	weights := make([]int, len(enhancedTagKinds))
	for i, k := range enhancedTagKinds {
		weights[i] = k.weight
	}
	docs := make([]Doc, 0, n)
	for range n {
		id := r.uuid()
		k := enhancedTagKinds[r.pickIndex(weights)]
		start := day*secondsPerDay + int64(k.fromH*3600+r.intn((k.toH-k.fromH)*3600))
		d := &enhancedTagDoc{ID: id, StartTime: wallString(start), StartDay: dayString(day)}
		if k.code != "" {
			d.TagTypeCode = genPtr(k.code)
			if r.chance(0.2) {
				d.Comment = genPtr(tagComments[r.intn(len(tagComments))])
			}
		} else {
			d.Comment = genPtr(tagTexts[r.intn(len(tagTexts))])
		}
		if k.code == "custom" {
			d.CustomName = genPtr(customTagNames[r.intn(len(customTagNames))])
		}
		if dur := r.between(k.minDur, k.maxDur); dur > 0 {
			end := start + int64(dur*60)
			d.EndTime = genPtr(wallString(end))
			d.EndDay = genPtr(dayString(floorDiv(end, secondsPerDay)))
		}
		docs = append(docs, g.newDoc(d, id, d.StartDay, start))
	}
	return docs
}

var restModeTags = []string{"tag_generic_flu", "tag_generic_fever", "tag_generic_headache",
	"tag_generic_sore_throat", "tag_generic_tiredness", "tag_sleep_alcohol"}

// restModePeriods returns the periods that start in the span.
func (g *generator) restModePeriods() []Doc {
	var docs []Doc
	for _, p := range g.restModes {
		if p.startDay < g.first || p.startDay > g.last {
			continue
		}
		r := newGenRand(g.seed, "rest_mode_period", p.startDay)
		id := r.uuid()
		fromOff, toOff := g.zone.offsetAt(p.from), g.zone.offsetAt(p.to)
		d := &restModeDoc{
			ID:        id,
			Episodes:  []restModeEpisode{},
			StartDay:  dayString(p.startDay),
			StartTime: orNull(&r, 0.03, localizedString(p.from, fromOff, false)),
		}
		// The end is known or not as a whole.
		if !r.chance(0.03) {
			d.EndDay = genPtr(dayString(floorDiv(p.to+toOff, secondsPerDay)))
			d.EndTime = genPtr(localizedString(p.to, toOff, false))
		}
		at := p.from
		for range r.intn(4) {
			at = min(p.to-60, at+int64(1800+r.intn(int(p.to-at)/3)))
			tags := []string{restModeTags[r.intn(len(restModeTags))]}
			if r.chance(0.3) {
				if extra := restModeTags[r.intn(len(restModeTags))]; extra != tags[0] {
					tags = append(tags, extra)
				}
			}
			d.Episodes = append(d.Episodes, restModeEpisode{Tags: tags, Timestamp: localizedString(at, g.zone.offsetAt(at), false)})
		}
		key := p.startDay * secondsPerDay
		if d.StartTime != nil {
			key = p.from + fromOff
		}
		docs = append(docs, g.newDoc(d, id, d.StartDay, key))
	}
	return docs
}

// ringPlan is one ring; the wearer replaces the ring at the start of every era.
type ringPlan struct {
	id       string
	ringID   string // the encrypted identifier sleep periods carry
	color    string
	design   string
	firmware string
	hardware string
	setUpAt  int64
	size     int
}

func (g *generator) ringOf(era int64) ringPlan {
	r := newGenRand(g.seed, "ring_configuration", era)
	p := ringPlan{id: r.uuid(), ringID: r.hex(32)}
	p.setUpAt = g.zone.eraStart(era)*secondsPerDay + int64(8*3600+r.intn(12*3600))
	p.size = 7 + drawInt(g.seed, "ring-size", 0, 6)
	if y, _, _ := civilFromDays(g.zone.eraStart(era)); y < 2022 {
		p.hardware = "gen3"
		p.design = r.pick([]string{"heritage", "balance"}, []int{70, 30})
		p.color = r.pick([]string{"stealth_black", "silver", "glossy_black", "brushed_silver", "matt_gold", "rose"}, []int{30, 25, 15, 10, 10, 10})
		p.firmware = "2.9." + strconv.Itoa(r.between(20, 45))
	} else {
		p.hardware = "gen4"
		p.design = r.pick([]string{"horizon", "ceramic"}, []int{80, 20})
		p.color = r.pick([]string{"silver", "stealth_black", "brushed_silver", "glossy_gold", "rose", "titanium"}, []int{25, 25, 15, 15, 10, 10})
		if p.design == "ceramic" {
			p.color = r.pick([]string{"cloud", "petal", "midnight", "tide"}, []int{25, 25, 25, 25})
		}
		p.firmware = "3." + strconv.Itoa(r.between(0, 6)) + "." + strconv.Itoa(r.between(1, 40))
	}
	return p
}

// ringAt returns the ring in use at an instant.
func (g *generator) ringAt(t int64) ringPlan {
	era := g.zone.eraOf(floorDiv(t, secondsPerDay))
	p := g.ringOf(era)
	if t < p.setUpAt {
		p = g.ringOf(era - 1)
	}
	return p
}

// ringConfigurations returns the rings used during the span: the one in use on the first
// day and each one set up later.
func (g *generator) ringConfigurations() []Doc {
	var docs []Doc
	first := g.ringAt(g.first * secondsPerDay)
	for era := g.zone.eraOf(g.first) - 1; era <= g.zone.eraOf(g.last); era++ {
		p := g.ringOf(era)
		if p.setUpAt > (g.last+1)*secondsPerDay || (p.setUpAt < first.setUpAt) {
			continue
		}
		d := &ringConfigDoc{
			ID:              p.id,
			Color:           genPtr(p.color),
			Design:          genPtr(p.design),
			FirmwareVersion: genPtr(p.firmware),
			HardwareType:    genPtr(p.hardware),
			SetUpAt:         genPtr(utcString(p.setUpAt)),
			Size:            genPtr(p.size),
		}
		docs = append(docs, g.newDoc(d, p.id, "", p.setUpAt))
	}
	return docs
}

// personalInfo returns the bare personal_info object.
func (g *generator) personalInfo() []byte {
	p := g.person
	d := &personalInfoDoc{
		ID:            p.id,
		Age:           genPtr(p.age),
		Weight:        genPtr(p.weight),
		Height:        genPtr(p.height),
		BiologicalSex: genPtr(p.sex),
		Email:         genPtr(p.email),
	}
	return encodeModel(&g.w, d)
}
