package streams

// Sleep periods, naps included, filed under the day the user woke up. Oura filters them on bedtime, so the reader asks one day wider.
var sleepPeriods = Stream{
	Name:       "sleep_periods",
	Path:       "sleep",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "daily",
}
