package streams

// The user's rings: colour, design, size, firmware. Oura takes no dates here, so the stream is full refresh only.
var ringConfigurations = Stream{
	Name:       "ring_configurations",
	Path:       "ring_configuration",
	Params:     All,
	PrimaryKey: [][]string{{"id"}},
	Scope:      "ring_configuration",
}
