package ouraemu

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// UnknownDocumentError is returned by Revise when the collection holds no document with
// that id (time-series collections have no ids at all).
type UnknownDocumentError struct {
	Collection, ID string
}

// Error names the collection and id that were asked for.
func (e *UnknownDocumentError) Error() string {
	return fmt.Sprintf("revising %s document %q: no such document", e.Collection, e.ID)
}

// revisable is a model Revise can change the way a late re-analysis would.
type revisable interface {
	genModel
	revise(r *genRand)
}

// revisers makes an empty model per revisable collection.
var revisers = map[string]func() revisable{
	"daily_activity":           func() revisable { return &activityDoc{} },
	"daily_cardiovascular_age": func() revisable { return &cardioAgeDoc{} },
	"daily_readiness":          func() revisable { return &readinessDoc{} },
	"daily_resilience":         func() revisable { return &resilienceDoc{} },
	"daily_sleep":              func() revisable { return &dailySleepDoc{} },
	"daily_spo2":               func() revisable { return &spo2Doc{} },
	"daily_stress":             func() revisable { return &stressDoc{} },
	"enhanced_tag":             func() revisable { return &enhancedTagDoc{} },
	"rest_mode_period":         func() revisable { return &restModeDoc{} },
	"ring_configuration":       func() revisable { return &ringConfigDoc{} },
	"session":                  func() revisable { return &sessionDoc{} },
	"sleep":                    func() revisable { return &sleepDoc{} },
	"sleep_time":               func() revisable { return &sleepTimeDoc{} },
	"tag":                      func() revisable { return &tagDoc{} },
	"vO2_max":                  func() revisable { return &vo2MaxDoc{} },
	"workout":                  func() revisable { return &workoutDoc{} },
}

// Revise replaces a document with a revised version, as Oura does when a late sync changes
// a score or a duration, and returns the new version. The id, day and Key stay, and so does
// the document's place in the order. The change is derived from the current version and
// moves values one way (scores down, durations and counts up), so each revision differs
// from the versions before it. Revise is not safe to call while others read ds.
func (ds *Dataset) Revise(collection, id string) (Doc, error) {
	newModel, ok := revisers[collection]
	if !ok || ds == nil {
		return Doc{}, &UnknownDocumentError{Collection: collection, ID: id}
	}
	docs := ds.Docs[collection]
	for i := range docs {
		if docs[i].ID != id {
			continue
		}
		m := newModel()
		if err := json.Unmarshal(docs[i].JSON, m); err != nil {
			return Doc{}, fmt.Errorf("revising %s document %q: decoding it: %w", collection, id, err)
		}
		r := genRand{s: mix64(streamHash(string(docs[i].JSON)))}
		m.revise(&r)
		var w docWriter
		revised := docs[i]
		revised.JSON = encodeModel(&w, m)
		docs[i] = revised
		return revised, nil
	}
	return Doc{}, &UnknownDocumentError{Collection: collection, ID: id}
}

// Revisions move values one way (scores down, durations and counts up, choices to the
// next in a list), so a chain of revisions never returns to an earlier version.

// nudge lowers a 1–100 score by one to four points (raises it near the bottom); a null
// score gets a value.
func nudge(r *genRand, score *int) *int {
	if score == nil {
		return genPtr(r.between(60, 90))
	}
	d := -1 - r.intn(4)
	if *score <= 10 {
		d = -d
	}
	return genPtr(clampInt(*score+d, 1, 100))
}

// nextOf returns the choice after current (the first when current is null or unknown).
func nextOf(current *string, choices []string) *string {
	i := 0
	if current != nil {
		i = (slices.Index(choices, *current) + 1) % len(choices)
	}
	return &choices[i]
}

func (d *activityDoc) revise(r *genRand) {
	extra := r.between(10, 80)
	d.ActiveCalories += extra
	d.TotalCalories += extra
	d.Steps += r.between(200, 1500)
	d.Score = nudge(r, d.Score)
}

func (d *readinessDoc) revise(r *genRand) { d.Score = nudge(r, d.Score) }

func (d *dailySleepDoc) revise(r *genRand) { d.Score = nudge(r, d.Score) }

// revise moves five minutes between light and deep sleep, as a re-analysis of the night would.
func (d *sleepDoc) revise(r *genRand) {
	deep, light := 3600, 3600
	if d.DeepSleepDuration != nil {
		deep = *d.DeepSleepDuration
	}
	if d.LightSleepDuration != nil {
		light = *d.LightSleepDuration
	}
	if light >= 300 {
		deep, light = deep+300, light-300
	} else {
		deep, light = deep-300, light+300
	}
	d.DeepSleepDuration, d.LightSleepDuration = &deep, &light
	d.SleepAnalysisReason = genPtr("background_created_foreground_updated")
}

func (d *spo2Doc) revise(r *genRand) {
	if d.SpO2Percentage == nil {
		d.SpO2Percentage = &spo2Values{Average: 96.5}
		return
	}
	step := -roundTo(r.uniform(0.1, 0.6), 3)
	if d.SpO2Percentage.Average < 90 {
		step = -step
	}
	d.SpO2Percentage.Average = roundTo(d.SpO2Percentage.Average+step, 3)
}

func (d *stressDoc) revise(r *genRand) {
	stress := 900
	if d.StressHigh != nil {
		stress += *d.StressHigh
	}
	d.StressHigh = &stress
	if d.DaySummary == nil {
		d.DaySummary = genPtr("normal")
	}
}

func (d *resilienceDoc) revise(r *genRand) {
	step := -roundTo(r.uniform(0.5, 3), 1)
	if d.Contributors.SleepRecovery < 10 {
		step = -step
	}
	d.Contributors.SleepRecovery = roundTo(d.Contributors.SleepRecovery+step, 1)
	c := d.Contributors
	d.Level = resilienceLevel((c.SleepRecovery + c.DaytimeRecovery + c.Stress) / 3)
}

func (d *cardioAgeDoc) revise(r *genRand) {
	if d.VascularAge == nil {
		d.VascularAge = genPtr(r.between(30, 50))
		return
	}
	step := 1
	if *d.VascularAge >= 100 {
		step = -1
	}
	d.VascularAge = genPtr(*d.VascularAge + step)
}

func (d *sleepTimeDoc) revise(r *genRand) {
	if d.OptimalBedtime != nil {
		d.OptimalBedtime.EndOffset += 900
		return
	}
	d.Recommendation = nextOf(d.Recommendation, []string{"improve_efficiency", "earlier_bedtime",
		"later_bedtime", "earlier_wake_up_time", "later_wake_up_time", "follow_optimal_bedtime"})
}

func (d *vo2MaxDoc) revise(r *genRand) {
	if d.VO2Max > 20 {
		d.VO2Max--
	} else {
		d.VO2Max++
	}
}

func (d *sessionDoc) revise(r *genRand) {
	d.Mood = nextOf(d.Mood, []string{"bad", "worse", "same", "good", "great"})
}

func (d *workoutDoc) revise(r *genRand) {
	cal := roundTo(r.uniform(5, 40), 3)
	if d.Calories != nil {
		cal = roundTo(*d.Calories+cal, 3)
	}
	d.Calories = &cal
}

func (d *tagDoc) revise(r *genRand) {
	text := "Edited note"
	if d.Text != nil {
		text = *d.Text + " (edited)"
	}
	d.Text = &text
}

func (d *enhancedTagDoc) revise(r *genRand) {
	comment := "Edited"
	if d.Comment != nil {
		comment = *d.Comment + " (edited)"
	}
	d.Comment = &comment
}

// revise adds a tag to the first episode, or an episode at the start of the period.
func (d *restModeDoc) revise(r *genRand) {
	tag := restModeTags[r.intn(len(restModeTags))]
	if len(d.Episodes) > 0 {
		d.Episodes[0].Tags = append(d.Episodes[0].Tags, tag)
		return
	}
	at := d.StartDay + "T12:00:00+00:00"
	if d.StartTime != nil {
		at = *d.StartTime
	}
	d.Episodes = append(d.Episodes, restModeEpisode{Tags: []string{tag}, Timestamp: at})
}

// revise installs the next firmware patch release.
func (d *ringConfigDoc) revise(r *genRand) {
	version := "1.0.0"
	if d.FirmwareVersion != nil {
		version = *d.FirmwareVersion
	}
	head, patch := "", version
	if i := strings.LastIndexByte(version, '.'); i >= 0 {
		head, patch = version[:i+1], version[i+1:]
	}
	n, err := strconv.Atoi(patch)
	if err != nil {
		head, n = version+".", 0
	}
	d.FirmwareVersion = genPtr(head + strconv.Itoa(n+1))
}
