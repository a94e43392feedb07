package streams

// Ring battery level samples. Oura refuses ranges over 30 days, so the reader walks 30-day windows.
var ringBatteryLevel = Stream{
	Name:       "ring_battery_level",
	Path:       "ring_battery_level",
	Params:     DateTimes,
	Cursor:     "timestamp",
	PrimaryKey: [][]string{{"timestamp"}},
	Scope:      "ring_configuration",
	WindowDays: 30,
}
