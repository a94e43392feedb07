package streams

// Daily readiness score and its contributors.
var dailyReadiness = Stream{
	Name:       "daily_readiness",
	Path:       "daily_readiness",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "daily",
}
