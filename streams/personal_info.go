package streams

// The user's profile: age, weight, height, sex and email. One record; Oura has no sandbox route for it.
var personalInfo = Stream{
	Name:       "personal_info",
	Path:       "personal_info",
	Params:     Single,
	PrimaryKey: [][]string{{"id"}},
	Scope:      "personal",
	NoSandbox:  true,
}
