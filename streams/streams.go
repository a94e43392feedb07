// Package streams turns Oura collections into Airbyte streams. Each collection has a small
// data-only file declaring how it is read; one reader (reader.go) drives them all.
package streams

import (
	"encoding/json"
	"fmt"

	"source-oura/protocol"
	"source-oura/schemas"
)

// ParamKind says how a collection is asked for a range of data.
type ParamKind int

const (
	// Dates collections take start_date/end_date and have no range limit.
	Dates ParamKind = iota
	// DateTimes collections take start_datetime/end_datetime, at most WindowDays apart.
	DateTimes
	// All collections take no dates: every document, paged.
	All
	// Single is a bare object, not a list (personal_info).
	Single
)

// Stream declares one Oura collection as an Airbyte stream.
type Stream struct {
	Name       string     // Airbyte stream name
	Path       string     // collection route under /v2/usercollection/
	Params     ParamKind  // how ranges are asked for
	Cursor     string     // top-level cursor field; "" for full-refresh-only streams
	PrimaryKey [][]string // source-defined primary key
	Scope      string     // OAuth scope Oura wants for the collection
	WindowDays int        // longest range one request may ask for; 0 for no limit
	NoSandbox  bool       // Oura has no sandbox route for it
}

// Incremental reports whether the stream can sync incrementally.
func (s *Stream) Incremental() bool { return s.Cursor != "" }

// registry is every stream, in the order discover lists them: the eight streams of the
// older airbyte/source-oura connector first, under the same names.
var registry = []*Stream{
	&dailyActivity,
	&dailyReadiness,
	&dailySleep,
	&heartRate,
	&sessions,
	&sleepPeriods,
	&tags,
	&workouts,
	&dailySpO2,
	&dailyStress,
	&dailyResilience,
	&dailyCardiovascularAge,
	&vO2Max,
	&enhancedTags,
	&sleepTime,
	&restModePeriods,
	&ringBatteryLevel,
	&ringConfigurations,
	&personalInfo,
}

// AllStreams returns every stream in catalog order.
func AllStreams() []*Stream { return registry }

// Lookup returns the stream with that name.
func Lookup(name string) (*Stream, bool) {
	for _, s := range registry {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// Names lists the stream names in catalog order.
func Names() []string {
	out := make([]string, len(registry))
	for i, s := range registry {
		out[i] = s.Name
	}
	return out
}

// Catalog builds the discover catalog from the stream table and the embedded schemas.
func Catalog() (*protocol.Catalog, error) {
	c := &protocol.Catalog{}
	for _, s := range registry {
		schema, err := schemas.Get(s.Name)
		if err != nil {
			return nil, fmt.Errorf("schema for stream %s: %w", s.Name, err)
		}
		as := protocol.Stream{
			Name:                    s.Name,
			JSONSchema:              json.RawMessage(schema),
			SupportedSyncModes:      []protocol.SyncMode{protocol.FullRefresh},
			SourceDefinedPrimaryKey: s.PrimaryKey,
		}
		if s.Incremental() {
			as.SupportedSyncModes = append(as.SupportedSyncModes, protocol.Incremental)
			as.SourceDefinedCursor = true
			as.DefaultCursorField = []string{s.Cursor}
			as.IsResumable = true
		}
		c.Streams = append(c.Streams, as)
	}
	return c, nil
}
