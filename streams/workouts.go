package streams

// Workouts, detected automatically or entered by the user.
var workouts = Stream{
	Name:       "workouts",
	Path:       "workout",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "workout",
}
