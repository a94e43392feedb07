package streams

// Estimated vascular age, per day.
var dailyCardiovascularAge = Stream{
	Name:       "daily_cardiovascular_age",
	Path:       "daily_cardiovascular_age",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "heart_health",
}
