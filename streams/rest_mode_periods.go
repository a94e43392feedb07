package streams

// Periods the user turned on rest mode, with their episodes.
var restModePeriods = Stream{
	Name:       "rest_mode_periods",
	Path:       "rest_mode_period",
	Params:     Dates,
	Cursor:     "start_day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "daily",
}
