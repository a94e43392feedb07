// Package ouraemu is a local stand-in for the Oura API v2: deterministic data, the real
// query semantics, OAuth with rotating refresh tokens, and fault injection for tests.
package ouraemu

import "time"

// Collections lists the 19 Oura v2 collections the emulator serves, by their route name.
var Collections = []string{
	"daily_activity", "daily_cardiovascular_age", "daily_readiness", "daily_resilience",
	"daily_sleep", "daily_spo2", "daily_stress", "enhanced_tag", "heartrate", "personal_info",
	"rest_mode_period", "ring_battery_level", "ring_configuration", "session", "sleep",
	"sleep_time", "tag", "vO2_max", "workout",
}

// Doc is one stored document of a collection.
type Doc struct {
	// ID is the document id; empty for time-series rows (heartrate, ring_battery_level).
	ID string
	// Day is the document's own day field (day, or start_day for enhanced_tag and
	// rest_mode_period), YYYY-MM-DD; empty for time series and ring_configuration.
	Day string
	// Key is what start/end query parameters are compared against.
	// Date-keyed collections: the local wall-clock time of the document's filter timestamp,
	// expressed in time.UTC (a bare query date D means D 00:00 on the same wall clock).
	// Time series: the true instant of the row's timestamp, in UTC.
	Key time.Time
	// JSON is the document exactly as the API serves it (compact, field order fixed).
	JSON []byte
}

// GenOptions controls data generation.
type GenOptions struct {
	Seed int64
	// First and Last are the first and last calendar days (UTC dates) with data.
	First, Last time.Time
}

// Dataset is everything the emulator serves.
type Dataset struct {
	First, Last time.Time
	// Docs holds each collection's documents sorted by Key (ties by ID), keyed by route
	// name (see Collections); personal_info is not in it.
	Docs map[string][]Doc
	// PersonalInfo is the bare personal_info object.
	PersonalInfo []byte
}
