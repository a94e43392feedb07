package streams

// Guided and unguided sessions (meditation, breathing, naps) recorded in the Oura app.
var sessions = Stream{
	Name:       "sessions",
	Path:       "session",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "session",
}
