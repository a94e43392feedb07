package streams

// Heart-rate samples, one row every 5 minutes while the ring is worn. Oura refuses ranges over 30 days, so the reader walks 30-day windows.
var heartRate = Stream{
	Name:       "heart_rate",
	Path:       "heartrate",
	Params:     DateTimes,
	Cursor:     "timestamp",
	PrimaryKey: [][]string{{"timestamp"}, {"source"}},
	Scope:      "heartrate",
	WindowDays: 30,
}
