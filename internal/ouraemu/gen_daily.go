package ouraemu

import "math"

// The daily summaries: one document per worn day in each collection.

// localMidnightString formats 00:00 of a local day with its offset, the timestamp of the
// readiness and sleep summaries.
func (g *generator) localMidnightString(day int64) string {
	m := g.core(day).midnight
	return localizedString(m, g.zone.offsetAt(m), false)
}

// metOf returns one minute's MET for an activity class, in tenths as Oura reports them.
func metOf(r *genRand, class byte) float64 {
	var tenths int
	switch class {
	case '0':
		tenths = 1 // non-wear: a token value (a guess; no recording shows non-wear minutes)
	case '1':
		tenths = r.between(9, 10)
	case '2':
		tenths = r.between(11, 15)
	case '3':
		tenths = r.between(20, 34)
	case '4':
		tenths = r.between(35, 59)
	default:
		tenths = r.between(60, 109)
	}
	return float64(tenths) / 10
}

// stepsOf returns one minute's steps for an activity class.
func stepsOf(r *genRand, class byte) int {
	switch class {
	case '2':
		return r.intn(4)
	case '3':
		return r.between(15, 45)
	case '4':
		return r.between(70, 115)
	case '5':
		return r.between(100, 160)
	}
	return 0
}

// dailyActivity covers the activity day, 04:00 local to 04:00 the next day: a class per five
// minutes and a MET value per minute, both read off the plan.
func (g *generator) dailyActivity(day int64) Doc {
	r := newGenRand(g.seed, "daily_activity", day)
	id := r.uuid()
	from := g.zone.wallToUnix(day*secondsPerDay + 4*3600)
	off := g.zone.offsetAt(from)
	cur := segCursor{segs: g.timeline}
	classes := make([]byte, 288)
	met := make(nullFloats, 1440)
	var metSum [6]float64
	var minutes [6]int
	steps, alerts, inactiveRun := 0, 0, 0
	awake := byte('2')
	for b := range 288 {
		t := from + int64(b)*300
		hour := floorDiv(t+off, 3600) % 24
		c := byte('2')
		switch seg := cur.at(t + 150); {
		case seg == nil:
			if hour >= 6 && hour < 23 && !r.chance(0.8) {
				awake = "2345"[r.pickIndex([]int{68, 26, 5, 1})]
			}
			c = awake
			if g.inRestMode(t) && c > '3' {
				c = '3'
			}
		case seg.kind == segOff || seg.kind == segCharge:
			c = '0'
		case seg.kind == segSleep:
			c, awake = '1', '2'
		case seg.kind == segSession:
			c = '2'
		case seg.kind == segWorkout:
			c = '4'
			if r.chance(0.3 + 0.3*float64(seg.level)) {
				c = '5'
			}
		}
		classes[b] = c
		if c == '2' && hour >= 8 && hour < 22 {
			inactiveRun++
			if inactiveRun == 12 { // an hour without moving
				alerts++
			}
		} else {
			inactiveRun = 0
		}
		for m := range 5 {
			v := metOf(&r, c)
			met[b*5+m] = v
			metSum[c-'0'] += v
			minutes[c-'0']++
			steps += stepsOf(&r, c)
		}
	}
	total, active := 0.0, 0.0
	for _, v := range met {
		total += v
		// Only minutes above sedentary effort count as active energy.
		if v > 1.5 {
			active += (v - 1.5) * g.person.weight / 60
		}
	}
	p := g.person
	bmr := 10*p.weight + 625*p.height - 5*float64(p.age) + 5
	if p.sex == "female" {
		bmr -= 166
	}
	activeCal := int(active)
	walking := int(float64(activeCal) * r.uniform(13.5, 15.5))
	targetCal := 350 + 50*r.intn(6)
	targetMeters := targetCal*15 + 100*r.intn(5)
	sedentaryHours := float64(minutes[2]) / 60
	contrib := [6]int{
		r.between(40, 100),
		clampInt(100-18*alerts-r.intn(10), 1, 100),
		r.between(60, 100),
		clampInt(int(100-(sedentaryHours-6)*7+r.norm()*4), 1, 100),
		r.between(50, 100),
		r.between(45, 100),
	}
	score := clampInt(int(math.Round(float64(contrib[0]+contrib[1]+contrib[2]+contrib[3]+contrib[4]+contrib[5])/6+r.norm()*3)), 1, 100)
	d := &activityDoc{
		ID:             id,
		ActiveCalories: activeCal,
		// Recordings show averages in 1/32 steps (1.40625).
		AverageMetMinutes: math.Round(total/1440*32) / 32,
		Class5Min:         orNull(&r, 0.01, string(classes)),
		Contributors: activityContributors{
			MeetDailyTargets:  orNull(&r, 0.015, contrib[0]),
			MoveEveryHour:     orNull(&r, 0.015, contrib[1]),
			RecoveryTime:      orNull(&r, 0.015, contrib[2]),
			StayActive:        orNull(&r, 0.015, contrib[3]),
			TrainingFrequency: orNull(&r, 0.015, contrib[4]),
			TrainingVolume:    orNull(&r, 0.015, contrib[5]),
		},
		Day:                       dayString(day),
		EquivalentWalkingDistance: walking,
		HighActivityMetMinutes:    int(math.Round(metSum[5])),
		HighActivityTime:          minutes[5] * 60,
		InactivityAlerts:          alerts,
		LowActivityMetMinutes:     int(math.Round(metSum[3])),
		LowActivityTime:           minutes[3] * 60,
		MediumActivityMetMinutes:  int(math.Round(metSum[4])),
		MediumActivityTime:        minutes[4] * 60,
		Met:                       publicSample{Interval: 60, Items: met, Timestamp: localizedString(from, off, true)},
		MetersToTarget:            (targetMeters - walking) / 100 * 100,
		NonWearTime:               minutes[0] * 60,
		RestingTime:               minutes[1] * 60,
		Score:                     orNull(&r, 0.01, score),
		SedentaryMetMinutes:       int(math.Round(metSum[2])),
		SedentaryTime:             minutes[2] * 60,
		Steps:                     steps,
		TargetCalories:            targetCal,
		TargetMeters:              targetMeters,
		Timestamp:                 localizedString(from, off, false),
		TotalCalories:             activeCal + int(bmr*r.uniform(1.0, 1.08)),
	}
	return g.newDoc(d, id, d.Day, from+off)
}

// readinessOf returns a day's readiness; the sleep period of the night embeds the same values.
func (g *generator) readinessOf(day int64) (string, readinessSummary) {
	r := newGenRand(g.seed, "daily_readiness", day)
	id := r.uuid()
	sick := g.inRestMode(g.core(day).bedTo)
	base := 80 + r.norm()*6
	if sick {
		base -= 18
	}
	var v [9]int
	sum := 0
	for i := range v {
		v[i] = clampInt(int(math.Round(base+r.norm()*9)), 1, 100)
		sum += v[i]
	}
	dev := r.norm() * 0.22
	if sick {
		dev += 0.7
	}
	s := readinessSummary{
		Contributors: readinessContributors{
			ActivityBalance:     orNull(&r, 0.015, v[0]),
			BodyTemperature:     orNull(&r, 0.015, v[1]),
			HRVBalance:          orNull(&r, 0.015, v[2]),
			PreviousDayActivity: orNull(&r, 0.015, v[3]),
			PreviousNight:       orNull(&r, 0.015, v[4]),
			RecoveryIndex:       orNull(&r, 0.015, v[5]),
			RestingHeartRate:    orNull(&r, 0.015, v[6]),
			SleepBalance:        orNull(&r, 0.015, v[7]),
			SleepRegularity:     orNull(&r, 0.05, v[8]),
		},
		Score:                     orNull(&r, 0.01, clampInt(int(math.Round(float64(sum)/9+r.norm()*2)), 1, 100)),
		TemperatureDeviation:      orNull(&r, 0.03, roundTo(dev, 2)),
		TemperatureTrendDeviation: orNull(&r, 0.03, roundTo(dev*0.5+r.norm()*0.1, 2)),
	}
	return id, s
}

func (g *generator) dailyReadiness(day int64) Doc {
	id, s := g.readinessOf(day)
	d := &readinessDoc{
		ID:                        id,
		Contributors:              s.Contributors,
		Day:                       dayString(day),
		Score:                     s.Score,
		TemperatureDeviation:      s.TemperatureDeviation,
		TemperatureTrendDeviation: s.TemperatureTrendDeviation,
		Timestamp:                 g.localMidnightString(day),
	}
	return g.newDoc(d, id, d.Day, day*secondsPerDay)
}

// dailySleep scores the night's main sleep period from its own durations.
func (g *generator) dailySleep(day int64) Doc {
	r := newGenRand(g.seed, "daily_sleep", day)
	id := r.uuid()
	_, st := g.mainSleep(day)
	c := g.core(day)
	mid := (c.bedFrom+c.bedTo)/2 - c.midnight // seconds after midnight
	v := [7]int{
		clampInt(st.deep*100/(90*60), 1, 100),
		clampInt((st.efficiency-65)*100/30, 1, 100),
		clampInt(100-absInt(st.latency-12*60)/20, 1, 100),
		clampInt(st.rem*100/(105*60), 1, 100),
		clampInt(100-2*st.restless+r.intn(5), 1, 100),
		clampInt(100-int(absInt64(mid-3*3600)/120), 1, 100),
		clampInt(st.total*100/(8*3600), 1, 100),
	}
	score := (v[0]*10 + v[1]*10 + v[2]*10 + v[3]*10 + v[4]*10 + v[5]*10 + v[6]*35) / 95
	d := &dailySleepDoc{
		ID: id,
		Contributors: sleepContributors{
			DeepSleep:   orNull(&r, 0.015, v[0]),
			Efficiency:  orNull(&r, 0.015, v[1]),
			Latency:     orNull(&r, 0.015, v[2]),
			REMSleep:    orNull(&r, 0.015, v[3]),
			Restfulness: orNull(&r, 0.015, v[4]),
			Timing:      orNull(&r, 0.015, v[5]),
			TotalSleep:  orNull(&r, 0.015, v[6]),
		},
		Day:       dayString(day),
		Score:     orNull(&r, 0.01, clampInt(score, 1, 100)),
		Timestamp: g.localMidnightString(day),
	}
	return g.newDoc(d, id, d.Day, day*secondsPerDay)
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func absInt64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func (g *generator) dailySpO2(day int64) Doc {
	r := newGenRand(g.seed, "daily_spo2", day)
	id := r.uuid()
	bdi := clampInt(int(math.Abs(r.norm())*7)+1, 0, 100)
	avg := roundTo(math.Min(100, 96.6+r.norm()*0.9), 3)
	var pct *spo2Values
	if !r.chance(0.03) {
		pct = &spo2Values{Average: avg}
	}
	d := &spo2Doc{
		ID:                        id,
		BreathingDisturbanceIndex: orNull(&r, 0.05, bdi),
		Day:                       dayString(day),
		SpO2Percentage:            pct,
	}
	return g.newDoc(d, id, d.Day, day*secondsPerDay)
}

// dailyStress: a few days have no stress data, which the API shows as zero times and a
// null summary.
func (g *generator) dailyStress(day int64) Doc {
	r := newGenRand(g.seed, "daily_stress", day)
	id := r.uuid()
	d := &stressDoc{ID: id, Day: dayString(day)}
	if r.chance(0.05) {
		d.RecoveryHigh, d.StressHigh = genPtr(0), genPtr(0)
	} else {
		stress := 900 * r.intn(17)
		recovery := 900 * r.between(1, 20)
		if g.inRestMode(g.core(day).midnight + 12*3600) {
			stress += 3600
		}
		summary := "normal"
		switch {
		case stress*2 > recovery*3:
			summary = "stressful"
		case recovery*2 > stress*3:
			summary = "restored"
		}
		d.DaySummary = &summary
		d.RecoveryHigh = orNull(&r, 0.01, recovery)
		d.StressHigh = orNull(&r, 0.01, stress)
	}
	return g.newDoc(d, id, d.Day, day*secondsPerDay)
}

// resilienceLevel maps the contributors' mean to LongTermResilienceLevel.
func resilienceLevel(mean float64) string {
	switch {
	case mean < 35:
		return "limited"
	case mean < 50:
		return "adequate"
	case mean < 65:
		return "solid"
	case mean < 80:
		return "strong"
	}
	return "exceptional"
}

func (g *generator) dailyResilience(day int64) Doc {
	r := newGenRand(g.seed, "daily_resilience", day)
	id := r.uuid()
	// Resilience moves slowly: a seasonal swing plus a little daily noise.
	base := 58 + 12*math.Sin(2*math.Pi*float64(day)/97)
	c := resilienceContributors{
		SleepRecovery:   roundTo(math.Max(0, math.Min(100, base+r.norm()*8)), 1),
		DaytimeRecovery: roundTo(math.Max(0, math.Min(100, base-5+r.norm()*10)), 1),
		Stress:          roundTo(math.Max(0, math.Min(100, base-10+r.norm()*12)), 1),
	}
	d := &resilienceDoc{
		ID:           id,
		Day:          dayString(day),
		Contributors: c,
		Level:        resilienceLevel((c.SleepRecovery + c.DaytimeRecovery + c.Stress) / 3),
	}
	return g.newDoc(d, id, d.Day, day*secondsPerDay)
}

func (g *generator) dailyCardiovascularAge(day int64) Doc {
	r := newGenRand(g.seed, "daily_cardiovascular_age", day)
	id := r.uuid()
	age := g.person.age - 2 + int(math.Round(r.norm()*1.5))
	d := &cardioAgeDoc{
		ID:                id,
		Day:               dayString(day),
		PulseWaveVelocity: orNull(&r, 0.08, roundTo(6.3+0.03*float64(g.person.age-30)+r.norm()*0.3, 2)),
		VascularAge:       orNull(&r, 0.04, clampInt(age, 18, 100)),
	}
	return g.newDoc(d, id, d.Day, day*secondsPerDay)
}

// sleepTime gives a bedtime window near the wearer's actual bedtime on most days.
func (g *generator) sleepTime(day int64) Doc {
	r := newGenRand(g.seed, "sleep_time", day)
	id := r.uuid()
	c := g.core(day)
	d := &sleepTimeDoc{ID: id, Day: dayString(day)}
	status := r.pick(
		[]string{"optimal_found", "only_recommended_found", "not_enough_recent_nights", "bad_sleep_quality", "not_enough_nights"},
		[]int{78, 10, 5, 5, 2})
	d.Status = &status
	switch status {
	case "optimal_found":
		start := int((c.bedFrom-c.midnight)/900*900) - 900*r.intn(2)
		d.OptimalBedtime = &sleepTimeWindow{
			DayTZ:       int(g.zone.offsetAt(c.midnight)),
			EndOffset:   start + 900*r.between(2, 4),
			StartOffset: start,
		}
		d.Recommendation = genPtr(r.pick(
			[]string{"follow_optimal_bedtime", "earlier_bedtime", "later_bedtime", "earlier_wake_up_time", "later_wake_up_time"},
			[]int{60, 15, 10, 8, 7}))
	case "only_recommended_found":
		d.Recommendation = genPtr(r.pick([]string{"earlier_bedtime", "later_bedtime"}, []int{70, 30}))
	case "bad_sleep_quality":
		d.Recommendation = genPtr("improve_efficiency")
	}
	return g.newDoc(d, id, d.Day, day*secondsPerDay)
}

// vo2Max: the ring estimates VO2 max every few days, after a walk or a workout.
func (g *generator) vo2Max(day int64) (Doc, bool) {
	r := newGenRand(g.seed, "vO2_max", day)
	if !r.chance(0.3) {
		return Doc{}, false
	}
	id := r.uuid()
	c, l := g.core(day), g.life(day)
	at := c.bedTo + int64(2*3600+r.intn(8*3600))
	if len(l.workouts) > 0 {
		at = l.workouts[0].to
	}
	off := g.zone.offsetAt(at)
	d := &vo2MaxDoc{
		ID:        id,
		Day:       dayString(day),
		Timestamp: localizedString(at, off, false),
		VO2Max:    g.person.vo2 + int(math.Round(1.5*math.Sin(2*math.Pi*float64(day)/365)+r.norm()*0.7)),
	}
	return g.newDoc(d, id, d.Day, at+off), true
}
