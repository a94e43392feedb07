package streams

// Average blood oxygen saturation during sleep, per day.
var dailySpO2 = Stream{
	Name:       "daily_spo2",
	Path:       "daily_spo2",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "spo2Daily",
}
