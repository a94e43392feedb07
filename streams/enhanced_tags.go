package streams

// Enhanced tags with a type code, start and optional end.
var enhancedTags = Stream{
	Name:       "enhanced_tags",
	Path:       "enhanced_tag",
	Params:     Dates,
	Cursor:     "start_day",
	PrimaryKey: [][]string{{"id"}},
	Scope:      "tag",
}
