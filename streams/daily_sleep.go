package streams

// Daily sleep score and its contributors.
var dailySleep = Stream{
	Name:       "daily_sleep",
	Path:       "daily_sleep",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "daily",
}
