package ouraemu

import "math"

// Sleep periods: the main sleep that ends on a day (its day is the wake-up day) and, on
// about a tenth of the days, a nap.

// sleepStats are a period's figures before any field is nulled, for the daily summary.
type sleepStats struct {
	tib, total, deep, light, rem, awake int // seconds
	latency, efficiency, restless       int
}

// sleepPeriods returns the sleep documents of a day: period 0 is the main sleep, period 1
// the nap if there was one.
func (g *generator) sleepPeriods(day int64) []Doc {
	c := g.core(day)
	d, _ := g.mainSleep(day)
	docs := []Doc{g.sleepDoc(d, c.bedFrom)}
	if c.nap {
		n, _ := g.sleepPeriod(day, 1)
		docs = append(docs, g.sleepDoc(n, c.napFrom))
	}
	return docs
}

// mainSleep returns a day's main period, built once for both sleep and daily_sleep.
func (g *generator) mainSleep(day int64) (*sleepDoc, sleepStats) {
	if g.mainSleeps == nil {
		g.mainSleeps = map[int64]mainSleepCache{}
	}
	m, ok := g.mainSleeps[day]
	if !ok {
		m.doc, m.stats = g.sleepPeriod(day, 0)
		g.mainSleeps[day] = m
	}
	return m.doc, m.stats
}

type mainSleepCache struct {
	doc   *sleepDoc
	stats sleepStats
}

func (g *generator) sleepDoc(d *sleepDoc, from int64) Doc {
	return g.newDoc(d, d.ID, d.Day, from+g.zone.offsetAt(from))
}

// sleepCurve is the heart rate through a night: high when falling asleep, lowest a little
// past the middle, rising toward morning. progress runs from 0 to 1.
func sleepCurve(rhr int, progress float64) float64 {
	return float64(rhr) + math.Min(14, 30*(progress-0.55)*(progress-0.55))
}

// hypnogram draws the 30-second phases of a period ('1' deep, '2' light, '3' REM,
// '4' awake): time to fall asleep, cycles of about 90 minutes with deep sleep early and REM
// late, a few brief awakenings, and a short wake before getting up.
func hypnogram(r *genRand, n int, nap bool) []byte {
	ph := make([]byte, n)
	lat, tail := 6+r.intn(34), 2+r.intn(20)
	if nap {
		lat, tail = 2+r.intn(14), 1+r.intn(6)
	}
	if lat+tail > n/2 {
		lat, tail = n/4, n/8
	}
	i := 0
	for ; i < lat; i++ {
		ph[i] = '4'
	}
	for cycle := 0.0; i < n-tail; cycle++ {
		length := 170 + r.intn(50)
		deep := math.Max(0.04, 0.32-0.08*cycle)
		rem := math.Min(0.38, 0.10+0.07*cycle)
		if nap {
			deep, rem = deep*0.6, 0.05
		}
		nDeep := int(float64(length) * deep)
		nREM := int(float64(length) * rem)
		nLight1 := int(float64(length-nDeep-nREM) * 0.55)
		nLight2 := length - nDeep - nREM - nLight1
		for _, part := range [4]struct {
			c byte
			n int
		}{{'2', nLight1}, {'1', nDeep}, {'2', nLight2}, {'3', nREM}} {
			for k := 0; k < part.n && i < n-tail; k++ {
				ph[i] = part.c
				i++
			}
		}
	}
	for ; i < n; i++ {
		ph[i] = '4'
	}
	if body := n - lat - tail; body > 0 {
		for k := r.intn(3 + n/300); k > 0; k-- {
			at := lat + r.intn(body)
			for j := at; j < at+1+r.intn(8) && j < n-tail; j++ {
				ph[j] = '4'
			}
		}
	}
	return ph
}

// fiveMinutes condenses 30-second phases into 5-minute ones (the most frequent phase of
// each ten; ties go to the deeper phase).
func fiveMinutes(ph []byte) []byte {
	out := make([]byte, (len(ph)+9)/10)
	for k := range out {
		var count [5]int
		for _, c := range ph[k*10 : min(k*10+10, len(ph))] {
			count[c-'0']++
		}
		best := 1
		for p := 2; p <= 4; p++ {
			if count[p] > count[best] {
				best = p
			}
		}
		out[k] = byte('0' + best)
	}
	return out
}

// sleepPeriod builds one period of a day; period 0 is the main sleep, 1 the nap.
func (g *generator) sleepPeriod(day int64, period int) (*sleepDoc, sleepStats) {
	r := newGenRand(g.seed, "sleep", day*4+int64(period))
	id := r.uuid()
	c := g.core(day)
	from, to, nap := c.bedFrom, c.bedTo, period > 0
	if nap {
		from, to = c.napFrom, c.napTo
	}
	tib := int(to - from)
	ph := hypnogram(&r, (tib+29)/30, nap)
	st := sleepStats{tib: tib}
	st.latency = -1
	for i, p := range ph {
		switch p {
		case '1':
			st.deep += 30
		case '2':
			st.light += 30
		case '3':
			st.rem += 30
		}
		if p != '4' && st.latency < 0 {
			st.latency = i * 30
		}
	}
	st.latency = max(st.latency, 0)
	st.total = st.deep + st.light + st.rem
	st.awake = tib - st.total
	st.efficiency = clampInt(int(math.Round(100*float64(st.total)/float64(tib))), 1, 100)

	// Movement is still most of the night, with short restless bursts while asleep.
	move := make([]byte, len(ph))
	burst := 0
	for i, p := range ph {
		switch {
		case p == '4':
			move[i], burst = "234"[r.pickIndex([]int{20, 40, 40})], 0
		case burst > 0:
			move[i] = "23"[r.pickIndex([]int{40, 60})]
			burst--
		case p != '1' && r.chance(0.012):
			move[i], burst = '3', r.intn(4)
			st.restless++
		default:
			move[i] = "12"[r.pickIndex([]int{97, 3})]
		}
	}

	ph5 := fiveMinutes(ph)
	app5 := append([]byte(nil), ph5...)
	for k := 1; k+1 < len(app5); k++ {
		// The app smooths single five-minute wakes into light sleep.
		if app5[k] == '4' && app5[k-1] != '4' && app5[k+1] != '4' {
			app5[k] = '2'
		}
	}

	hr := make(nullFloats, len(ph5))
	hrv := make(nullFloats, len(ph5))
	sumHR, nHR, lowest, sumHRV, nHRV := 0.0, 0, math.MaxInt, 0.0, 0
	for k, p := range ph5 {
		progress := (float64(k)*300 + 150) / float64(tib)
		bpm := sleepCurve(c.rhr, progress) + r.norm()*1.2
		v := float64(c.hrv) + 12*math.Sin(math.Pi*progress) + r.norm()*6
		switch p {
		case '1':
			bpm, v = bpm-2, v+8
		case '3':
			bpm, v = bpm+3, v-4
		case '4':
			bpm += 6
		}
		if k == 0 || (p == '4' && r.chance(0.5)) || r.chance(0.03) {
			hr[k] = math.NaN()
		} else {
			hr[k] = math.Round(bpm)
			sumHR += hr[k]
			nHR++
			lowest = min(lowest, int(hr[k]))
		}
		if k == 0 || p == '4' || r.chance(0.04) {
			hrv[k] = math.NaN()
		} else {
			hrv[k] = math.Round(math.Max(8, v))
			sumHRV += hrv[k]
			nHRV++
		}
	}
	if nHR == 0 {
		sumHR, nHR, lowest = float64(c.rhr), 1, c.rhr
	}
	if nHRV == 0 {
		sumHRV, nHRV = float64(c.hrv), 1
	}
	lowest -= r.intn(3) // the 30-second minimum sits a little below the 5-minute one

	off := g.zone.offsetAt(from)
	d := &sleepDoc{
		ID:                 id,
		AverageBreath:      orNull(&r, 0.01, math.Round((13.8+r.norm()*0.8)*8)/8),
		AverageHeartRate:   orNull(&r, 0.01, math.Round(sumHR/float64(nHR)*8)/8),
		AverageHRV:         orNull(&r, 0.01, int(math.Round(sumHRV/float64(nHRV)))),
		AwakeTime:          orNull(&r, 0.01, st.awake),
		BedtimeEnd:         localizedString(to, g.zone.offsetAt(to), false),
		BedtimeStart:       localizedString(from, off, false),
		Day:                dayString(day),
		DeepSleepDuration:  orNull(&r, 0.01, st.deep),
		Efficiency:         orNull(&r, 0.01, st.efficiency),
		Latency:            orNull(&r, 0.01, st.latency),
		LightSleepDuration: orNull(&r, 0.01, st.light),
		LowBatteryAlert:    r.chance(0.015),
		LowestHeartRate:    orNull(&r, 0.01, lowest),
		Movement30Sec:      orNull(&r, 0.01, string(move)),
		Period:             period,
		REMSleepDuration:   orNull(&r, 0.01, st.rem),
		RestlessPeriods:    orNull(&r, 0.01, st.restless),
		SleepPhase30Sec:    orNull(&r, 0.01, string(ph)),
		SleepPhase5Min:     orNull(&r, 0.01, string(ph5)),
		TimeInBed:          tib,
		TotalSleepDuration: orNull(&r, 0.01, st.total),
		AppSleepPhase5Min:  orNull(&r, 0.02, string(app5)),
	}
	ts := localizedString(from, off, true)
	if !r.chance(0.01) {
		d.HeartRate = &publicSample{Interval: 300, Items: hr, Timestamp: ts}
	}
	if !r.chance(0.01) {
		d.HRV = &publicSample{Interval: 300, Items: hrv, Timestamp: ts}
	}
	d.SleepAlgorithmVersion = orNull(&r, 0.01, r.pick([]string{"v2", "v1"}, []int{90, 10}))
	d.SleepAnalysisReason = orNull(&r, 0.02, r.pick(
		[]string{"foreground_sleep_analysis", "background_sleep_analysis", "background_created_foreground_updated", "bedtime_edit"},
		[]int{60, 20, 15, 5}))
	kind := "long_sleep"
	if nap {
		kind = "sleep"
		if c.lateNap {
			kind = "late_nap"
		}
		d.ReadinessScoreDelta = orNull(&r, 0.5, r.between(0, 3))
		d.SleepScoreDelta = orNull(&r, 0.5, r.between(0, 3))
	} else {
		_, rs := g.readinessOf(day)
		if !r.chance(0.02) {
			d.Readiness = &rs
		}
		d.ReadinessScoreDelta = orNull(&r, 0.05, r.between(-3, 4))
		d.SleepScoreDelta = orNull(&r, 0.05, r.between(-3, 4))
	}
	d.Type = orNull(&r, 0.005, kind)
	d.RingID = orNull(&r, 0.01, g.ringAt(from).ringID)
	return d, st
}
