package oura

import "source-oura/internal/ouratest"

// discard is an emit callback that drops every record.
func discard(Record) error { return nil }

// keep returns an emit callback that appends a copy of each record to into.
func keep(into *[]string) func(Record) error {
	return func(r Record) error {
		*into = append(*into, string(r.Raw))
		return nil
	}
}

// samplePage builds a page like Oura's activity pages: n documents with 5-minute and per-minute series.
func samplePage(n int) []byte { return ouratest.ActivityPage(n, `"eyJwYWdlIjoyfQ=="`) }
