package streams

// Daily activity: steps, calories, MET minutes and the activity score. Oura stamps each day at 04:00 local time, so an end_date of that day leaves it out: the reader asks one day wider.
var dailyActivity = Stream{
	Name:       "daily_activity",
	Path:       "daily_activity",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "daily",
}
