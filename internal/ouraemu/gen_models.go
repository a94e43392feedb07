package ouraemu

// The models of OpenAPI rev 1.37, one struct per schema. Fields are declared and written in
// the spec's property order; nullable fields are pointers. The json tags are only used to
// read a stored document back (Revise); writing goes through docWriter.

// genModel is a document that can write itself as the API serves it.
type genModel interface {
	write(w *docWriter)
}

// encodeModel returns a model's compact JSON in a buffer of its own.
func encodeModel(w *docWriter, m genModel) []byte {
	w.b, w.more = w.b[:0], false
	m.write(w)
	return append(make([]byte, 0, len(w.b)), w.b...)
}

// PublicActivityContributors.
type activityContributors struct {
	MeetDailyTargets  *int `json:"meet_daily_targets"`
	MoveEveryHour     *int `json:"move_every_hour"`
	RecoveryTime      *int `json:"recovery_time"`
	StayActive        *int `json:"stay_active"`
	TrainingFrequency *int `json:"training_frequency"`
	TrainingVolume    *int `json:"training_volume"`
}

// PublicDailyActivity.
type activityDoc struct {
	ID                        string               `json:"id"`
	ActiveCalories            int                  `json:"active_calories"`
	AverageMetMinutes         float64              `json:"average_met_minutes"`
	Class5Min                 *string              `json:"class_5_min"`
	Contributors              activityContributors `json:"contributors"`
	Day                       string               `json:"day"`
	EquivalentWalkingDistance int                  `json:"equivalent_walking_distance"`
	HighActivityMetMinutes    int                  `json:"high_activity_met_minutes"`
	HighActivityTime          int                  `json:"high_activity_time"`
	InactivityAlerts          int                  `json:"inactivity_alerts"`
	LowActivityMetMinutes     int                  `json:"low_activity_met_minutes"`
	LowActivityTime           int                  `json:"low_activity_time"`
	MediumActivityMetMinutes  int                  `json:"medium_activity_met_minutes"`
	MediumActivityTime        int                  `json:"medium_activity_time"`
	Met                       publicSample         `json:"met"`
	MetersToTarget            int                  `json:"meters_to_target"`
	NonWearTime               int                  `json:"non_wear_time"`
	RestingTime               int                  `json:"resting_time"`
	Score                     *int                 `json:"score"`
	SedentaryMetMinutes       int                  `json:"sedentary_met_minutes"`
	SedentaryTime             int                  `json:"sedentary_time"`
	Steps                     int                  `json:"steps"`
	TargetCalories            int                  `json:"target_calories"`
	TargetMeters              int                  `json:"target_meters"`
	Timestamp                 string               `json:"timestamp"`
	TotalCalories             int                  `json:"total_calories"`
}

func (d *activityDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.int("active_calories", d.ActiveCalories)
	w.num("average_met_minutes", d.AverageMetMinutes)
	w.strp("class_5_min", d.Class5Min)
	c := &d.Contributors
	w.obj("contributors")
	w.intp("meet_daily_targets", c.MeetDailyTargets)
	w.intp("move_every_hour", c.MoveEveryHour)
	w.intp("recovery_time", c.RecoveryTime)
	w.intp("stay_active", c.StayActive)
	w.intp("training_frequency", c.TrainingFrequency)
	w.intp("training_volume", c.TrainingVolume)
	w.end()
	w.str("day", d.Day)
	w.int("equivalent_walking_distance", d.EquivalentWalkingDistance)
	w.int("high_activity_met_minutes", d.HighActivityMetMinutes)
	w.int("high_activity_time", d.HighActivityTime)
	w.int("inactivity_alerts", d.InactivityAlerts)
	w.int("low_activity_met_minutes", d.LowActivityMetMinutes)
	w.int("low_activity_time", d.LowActivityTime)
	w.int("medium_activity_met_minutes", d.MediumActivityMetMinutes)
	w.int("medium_activity_time", d.MediumActivityTime)
	d.Met.write(w, "met")
	w.int("meters_to_target", d.MetersToTarget)
	w.int("non_wear_time", d.NonWearTime)
	w.int("resting_time", d.RestingTime)
	w.intp("score", d.Score)
	w.int("sedentary_met_minutes", d.SedentaryMetMinutes)
	w.int("sedentary_time", d.SedentaryTime)
	w.int("steps", d.Steps)
	w.int("target_calories", d.TargetCalories)
	w.int("target_meters", d.TargetMeters)
	w.str("timestamp", d.Timestamp)
	w.int("total_calories", d.TotalCalories)
	w.end()
}

// PublicReadinessContributors.
type readinessContributors struct {
	ActivityBalance     *int `json:"activity_balance"`
	BodyTemperature     *int `json:"body_temperature"`
	HRVBalance          *int `json:"hrv_balance"`
	PreviousDayActivity *int `json:"previous_day_activity"`
	PreviousNight       *int `json:"previous_night"`
	RecoveryIndex       *int `json:"recovery_index"`
	RestingHeartRate    *int `json:"resting_heart_rate"`
	SleepBalance        *int `json:"sleep_balance"`
	SleepRegularity     *int `json:"sleep_regularity"`
}

func (c *readinessContributors) write(w *docWriter) {
	w.obj("contributors")
	w.intp("activity_balance", c.ActivityBalance)
	w.intp("body_temperature", c.BodyTemperature)
	w.intp("hrv_balance", c.HRVBalance)
	w.intp("previous_day_activity", c.PreviousDayActivity)
	w.intp("previous_night", c.PreviousNight)
	w.intp("recovery_index", c.RecoveryIndex)
	w.intp("resting_heart_rate", c.RestingHeartRate)
	w.intp("sleep_balance", c.SleepBalance)
	w.intp("sleep_regularity", c.SleepRegularity)
	w.end()
}

// PublicDailyReadiness.
type readinessDoc struct {
	ID                        string                `json:"id"`
	Contributors              readinessContributors `json:"contributors"`
	Day                       string                `json:"day"`
	Score                     *int                  `json:"score"`
	TemperatureDeviation      *float64              `json:"temperature_deviation"`
	TemperatureTrendDeviation *float64              `json:"temperature_trend_deviation"`
	Timestamp                 string                `json:"timestamp"`
}

func (d *readinessDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	d.Contributors.write(w)
	w.str("day", d.Day)
	w.intp("score", d.Score)
	w.nump("temperature_deviation", d.TemperatureDeviation)
	w.nump("temperature_trend_deviation", d.TemperatureTrendDeviation)
	w.str("timestamp", d.Timestamp)
	w.end()
}

// PublicReadiness: the readiness summary embedded in a sleep period.
type readinessSummary struct {
	Contributors              readinessContributors `json:"contributors"`
	Score                     *int                  `json:"score"`
	TemperatureDeviation      *float64              `json:"temperature_deviation"`
	TemperatureTrendDeviation *float64              `json:"temperature_trend_deviation"`
}

func (s *readinessSummary) write(w *docWriter, k string) {
	if s == nil {
		w.null(k)
		return
	}
	w.obj(k)
	s.Contributors.write(w)
	w.intp("score", s.Score)
	w.nump("temperature_deviation", s.TemperatureDeviation)
	w.nump("temperature_trend_deviation", s.TemperatureTrendDeviation)
	w.end()
}

// PublicSleepContributors.
type sleepContributors struct {
	DeepSleep   *int `json:"deep_sleep"`
	Efficiency  *int `json:"efficiency"`
	Latency     *int `json:"latency"`
	REMSleep    *int `json:"rem_sleep"`
	Restfulness *int `json:"restfulness"`
	Timing      *int `json:"timing"`
	TotalSleep  *int `json:"total_sleep"`
}

// PublicDailySleep.
type dailySleepDoc struct {
	ID           string            `json:"id"`
	Contributors sleepContributors `json:"contributors"`
	Day          string            `json:"day"`
	Score        *int              `json:"score"`
	Timestamp    string            `json:"timestamp"`
}

func (d *dailySleepDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	c := &d.Contributors
	w.obj("contributors")
	w.intp("deep_sleep", c.DeepSleep)
	w.intp("efficiency", c.Efficiency)
	w.intp("latency", c.Latency)
	w.intp("rem_sleep", c.REMSleep)
	w.intp("restfulness", c.Restfulness)
	w.intp("timing", c.Timing)
	w.intp("total_sleep", c.TotalSleep)
	w.end()
	w.str("day", d.Day)
	w.intp("score", d.Score)
	w.str("timestamp", d.Timestamp)
	w.end()
}

// PublicModifiedSleepModel: one sleep period.
type sleepDoc struct {
	ID                    string            `json:"id"`
	AverageBreath         *float64          `json:"average_breath"`
	AverageHeartRate      *float64          `json:"average_heart_rate"`
	AverageHRV            *int              `json:"average_hrv"`
	AwakeTime             *int              `json:"awake_time"`
	BedtimeEnd            string            `json:"bedtime_end"`
	BedtimeStart          string            `json:"bedtime_start"`
	Day                   string            `json:"day"`
	DeepSleepDuration     *int              `json:"deep_sleep_duration"`
	Efficiency            *int              `json:"efficiency"`
	HeartRate             *publicSample     `json:"heart_rate"`
	HRV                   *publicSample     `json:"hrv"`
	Latency               *int              `json:"latency"`
	LightSleepDuration    *int              `json:"light_sleep_duration"`
	LowBatteryAlert       bool              `json:"low_battery_alert"`
	LowestHeartRate       *int              `json:"lowest_heart_rate"`
	Movement30Sec         *string           `json:"movement_30_sec"`
	Period                int               `json:"period"`
	Readiness             *readinessSummary `json:"readiness"`
	ReadinessScoreDelta   *int              `json:"readiness_score_delta"`
	REMSleepDuration      *int              `json:"rem_sleep_duration"`
	RestlessPeriods       *int              `json:"restless_periods"`
	SleepAlgorithmVersion *string           `json:"sleep_algorithm_version"`
	SleepAnalysisReason   *string           `json:"sleep_analysis_reason"`
	SleepPhase30Sec       *string           `json:"sleep_phase_30_sec"`
	SleepPhase5Min        *string           `json:"sleep_phase_5_min"`
	SleepScoreDelta       *int              `json:"sleep_score_delta"`
	TimeInBed             int               `json:"time_in_bed"`
	TotalSleepDuration    *int              `json:"total_sleep_duration"`
	Type                  *string           `json:"type"`
	RingID                *string           `json:"ring_id"`
	AppSleepPhase5Min     *string           `json:"app_sleep_phase_5_min"`
}

func (d *sleepDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.nump("average_breath", d.AverageBreath)
	w.nump("average_heart_rate", d.AverageHeartRate)
	w.intp("average_hrv", d.AverageHRV)
	w.intp("awake_time", d.AwakeTime)
	w.str("bedtime_end", d.BedtimeEnd)
	w.str("bedtime_start", d.BedtimeStart)
	w.str("day", d.Day)
	w.intp("deep_sleep_duration", d.DeepSleepDuration)
	w.intp("efficiency", d.Efficiency)
	d.HeartRate.write(w, "heart_rate")
	d.HRV.write(w, "hrv")
	w.intp("latency", d.Latency)
	w.intp("light_sleep_duration", d.LightSleepDuration)
	w.boolean("low_battery_alert", d.LowBatteryAlert)
	w.intp("lowest_heart_rate", d.LowestHeartRate)
	w.strp("movement_30_sec", d.Movement30Sec)
	w.int("period", d.Period)
	d.Readiness.write(w, "readiness")
	w.intp("readiness_score_delta", d.ReadinessScoreDelta)
	w.intp("rem_sleep_duration", d.REMSleepDuration)
	w.intp("restless_periods", d.RestlessPeriods)
	w.strp("sleep_algorithm_version", d.SleepAlgorithmVersion)
	w.strp("sleep_analysis_reason", d.SleepAnalysisReason)
	w.strp("sleep_phase_30_sec", d.SleepPhase30Sec)
	w.strp("sleep_phase_5_min", d.SleepPhase5Min)
	w.intp("sleep_score_delta", d.SleepScoreDelta)
	w.int("time_in_bed", d.TimeInBed)
	w.intp("total_sleep_duration", d.TotalSleepDuration)
	w.strp("type", d.Type)
	w.strp("ring_id", d.RingID)
	w.strp("app_sleep_phase_5_min", d.AppSleepPhase5Min)
	w.end()
}

// PublicSpo2AggregatedValues.
type spo2Values struct {
	Average float64 `json:"average"`
}

// PublicDailySpO2.
type spo2Doc struct {
	ID                        string      `json:"id"`
	BreathingDisturbanceIndex *int        `json:"breathing_disturbance_index"`
	Day                       string      `json:"day"`
	SpO2Percentage            *spo2Values `json:"spo2_percentage"`
}

func (d *spo2Doc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.intp("breathing_disturbance_index", d.BreathingDisturbanceIndex)
	w.str("day", d.Day)
	if d.SpO2Percentage == nil {
		w.null("spo2_percentage")
	} else {
		w.obj("spo2_percentage")
		w.num("average", d.SpO2Percentage.Average)
		w.end()
	}
	w.end()
}

// PublicDailyStress.
type stressDoc struct {
	ID           string  `json:"id"`
	Day          string  `json:"day"`
	DaySummary   *string `json:"day_summary"`
	RecoveryHigh *int    `json:"recovery_high"`
	StressHigh   *int    `json:"stress_high"`
}

func (d *stressDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.str("day", d.Day)
	w.strp("day_summary", d.DaySummary)
	w.intp("recovery_high", d.RecoveryHigh)
	w.intp("stress_high", d.StressHigh)
	w.end()
}

// ResilienceContributors.
type resilienceContributors struct {
	SleepRecovery   float64 `json:"sleep_recovery"`
	DaytimeRecovery float64 `json:"daytime_recovery"`
	Stress          float64 `json:"stress"`
}

// DailyResilienceModel.
type resilienceDoc struct {
	ID           string                 `json:"id"`
	Day          string                 `json:"day"`
	Contributors resilienceContributors `json:"contributors"`
	Level        string                 `json:"level"`
}

func (d *resilienceDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.str("day", d.Day)
	w.obj("contributors")
	w.num("sleep_recovery", d.Contributors.SleepRecovery)
	w.num("daytime_recovery", d.Contributors.DaytimeRecovery)
	w.num("stress", d.Contributors.Stress)
	w.end()
	w.str("level", d.Level)
	w.end()
}

// PublicDailyCardiovascularAge.
type cardioAgeDoc struct {
	ID                string   `json:"id"`
	Day               string   `json:"day"`
	PulseWaveVelocity *float64 `json:"pulse_wave_velocity"`
	VascularAge       *int     `json:"vascular_age"`
}

func (d *cardioAgeDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.str("day", d.Day)
	w.nump("pulse_wave_velocity", d.PulseWaveVelocity)
	w.intp("vascular_age", d.VascularAge)
	w.end()
}

// PublicVO2Max.
type vo2MaxDoc struct {
	ID        string `json:"id"`
	Day       string `json:"day"`
	Timestamp string `json:"timestamp"`
	VO2Max    int    `json:"vo2_max"`
}

func (d *vo2MaxDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.str("day", d.Day)
	w.str("timestamp", d.Timestamp)
	w.int("vo2_max", d.VO2Max)
	w.end()
}

// PublicSleepTimeWindow.
type sleepTimeWindow struct {
	DayTZ       int `json:"day_tz"`
	EndOffset   int `json:"end_offset"`
	StartOffset int `json:"start_offset"`
}

// PublicSleepTime.
type sleepTimeDoc struct {
	ID             string           `json:"id"`
	Day            string           `json:"day"`
	OptimalBedtime *sleepTimeWindow `json:"optimal_bedtime"`
	Recommendation *string          `json:"recommendation"`
	Status         *string          `json:"status"`
}

func (d *sleepTimeDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.str("day", d.Day)
	if d.OptimalBedtime == nil {
		w.null("optimal_bedtime")
	} else {
		w.obj("optimal_bedtime")
		w.int("day_tz", d.OptimalBedtime.DayTZ)
		w.int("end_offset", d.OptimalBedtime.EndOffset)
		w.int("start_offset", d.OptimalBedtime.StartOffset)
		w.end()
	}
	w.strp("recommendation", d.Recommendation)
	w.strp("status", d.Status)
	w.end()
}

// PublicSession.
type sessionDoc struct {
	ID                   string        `json:"id"`
	Day                  string        `json:"day"`
	EndDatetime          string        `json:"end_datetime"`
	HeartRate            *publicSample `json:"heart_rate"`
	HeartRateVariability *publicSample `json:"heart_rate_variability"`
	Mood                 *string       `json:"mood"`
	MotionCount          *publicSample `json:"motion_count"`
	StartDatetime        string        `json:"start_datetime"`
	Type                 string        `json:"type"`
}

func (d *sessionDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.str("day", d.Day)
	w.str("end_datetime", d.EndDatetime)
	d.HeartRate.write(w, "heart_rate")
	d.HeartRateVariability.write(w, "heart_rate_variability")
	w.strp("mood", d.Mood)
	d.MotionCount.write(w, "motion_count")
	w.str("start_datetime", d.StartDatetime)
	w.str("type", d.Type)
	w.end()
}

// PublicWorkout.
type workoutDoc struct {
	ID            string   `json:"id"`
	Activity      string   `json:"activity"`
	Calories      *float64 `json:"calories"`
	Day           string   `json:"day"`
	Distance      *float64 `json:"distance"`
	EndDatetime   string   `json:"end_datetime"`
	Intensity     string   `json:"intensity"`
	Label         *string  `json:"label"`
	Source        string   `json:"source"`
	StartDatetime string   `json:"start_datetime"`
}

func (d *workoutDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.str("activity", d.Activity)
	w.nump("calories", d.Calories)
	w.str("day", d.Day)
	w.nump("distance", d.Distance)
	w.str("end_datetime", d.EndDatetime)
	w.str("intensity", d.Intensity)
	w.strp("label", d.Label)
	w.str("source", d.Source)
	w.str("start_datetime", d.StartDatetime)
	w.end()
}

// TagModel (the deprecated tags).
type tagDoc struct {
	ID        string   `json:"id"`
	Day       string   `json:"day"`
	Text      *string  `json:"text"`
	Timestamp string   `json:"timestamp"`
	Tags      []string `json:"tags"`
}

func (d *tagDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.str("day", d.Day)
	w.strp("text", d.Text)
	w.str("timestamp", d.Timestamp)
	w.strs("tags", d.Tags)
	w.end()
}

// EnhancedTagModel.
type enhancedTagDoc struct {
	ID          string  `json:"id"`
	TagTypeCode *string `json:"tag_type_code"`
	StartTime   string  `json:"start_time"`
	EndTime     *string `json:"end_time"`
	StartDay    string  `json:"start_day"`
	EndDay      *string `json:"end_day"`
	Comment     *string `json:"comment"`
	CustomName  *string `json:"custom_name"`
}

func (d *enhancedTagDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.strp("tag_type_code", d.TagTypeCode)
	w.str("start_time", d.StartTime)
	w.strp("end_time", d.EndTime)
	w.str("start_day", d.StartDay)
	w.strp("end_day", d.EndDay)
	w.strp("comment", d.Comment)
	w.strp("custom_name", d.CustomName)
	w.end()
}

// PublicRestModeEpisode.
type restModeEpisode struct {
	Tags      []string `json:"tags"`
	Timestamp string   `json:"timestamp"`
}

// PublicRestModePeriod.
type restModeDoc struct {
	ID        string            `json:"id"`
	EndDay    *string           `json:"end_day"`
	EndTime   *string           `json:"end_time"`
	Episodes  []restModeEpisode `json:"episodes"`
	StartDay  string            `json:"start_day"`
	StartTime *string           `json:"start_time"`
}

func (d *restModeDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.strp("end_day", d.EndDay)
	w.strp("end_time", d.EndTime)
	w.arr("episodes")
	for _, e := range d.Episodes {
		w.begin()
		w.strs("tags", e.Tags)
		w.str("timestamp", e.Timestamp)
		w.end()
	}
	w.endArr()
	w.str("start_day", d.StartDay)
	w.strp("start_time", d.StartTime)
	w.end()
}

// PublicRingConfiguration.
type ringConfigDoc struct {
	ID              string  `json:"id"`
	Color           *string `json:"color"`
	Design          *string `json:"design"`
	FirmwareVersion *string `json:"firmware_version"`
	HardwareType    *string `json:"hardware_type"`
	SetUpAt         *string `json:"set_up_at"`
	Size            *int    `json:"size"`
}

func (d *ringConfigDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.strp("color", d.Color)
	w.strp("design", d.Design)
	w.strp("firmware_version", d.FirmwareVersion)
	w.strp("hardware_type", d.HardwareType)
	w.strp("set_up_at", d.SetUpAt)
	w.intp("size", d.Size)
	w.end()
}

// PersonalInfoResponse.
type personalInfoDoc struct {
	ID            string   `json:"id"`
	Age           *int     `json:"age"`
	Weight        *float64 `json:"weight"`
	Height        *float64 `json:"height"`
	BiologicalSex *string  `json:"biological_sex"`
	Email         *string  `json:"email"`
}

func (d *personalInfoDoc) write(w *docWriter) {
	w.begin()
	w.str("id", d.ID)
	w.intp("age", d.Age)
	w.nump("weight", d.Weight)
	w.nump("height", d.Height)
	w.strp("biological_sex", d.BiologicalSex)
	w.strp("email", d.Email)
	w.end()
}
