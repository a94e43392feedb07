package streams

// Estimated vascular age, per day. The key is day, not id: documents served in December 2024 had
// no id at all ({"day":"2024-11-11","vascular_age":39}), and id-less rows would all share one null
// key in a deduped table; day is in every revision, and there is one estimate per day (docs/oura.md).
var dailyCardiovascularAge = Stream{
	Name:       "daily_cardiovascular_age",
	Path:       "daily_cardiovascular_age",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"day"}},
	Scope:      "heart_health",
}
