package streams

// VO2 max estimates.
var vO2Max = Stream{
	Name:       "vo2_max",
	Path:       "vO2_max",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "heart_health",
}
