package streams

// Resilience level and its contributors, per day.
var dailyResilience = Stream{
	Name:       "daily_resilience",
	Path:       "daily_resilience",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "stress",
}
