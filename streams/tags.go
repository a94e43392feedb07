package streams

// Tags (notes) the user added in the Oura app. Oura has replaced them with enhanced tags.
var tags = Stream{
	Name:       "tags",
	Path:       "tag",
	Params:     Dates,
	Cursor:     "day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "tag",
}
