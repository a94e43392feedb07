package streams

// Time spent in high stress and high recovery, per day.
var dailyStress = Stream{
	Name:       "daily_stress",
	Path:       "daily_stress",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "daily",
}
