package streams

// Recommended bedtime windows, per day.
var sleepTime = Stream{
	Name:       "sleep_time",
	Path:       "sleep_time",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "daily",
}
