package oura

import (
	"bytes"
	"fmt"
	"strings"
)

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
func samplePage(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%08d-ccdb-49bf-84f5-d06a77873f25","class_5_min":"%s","score":86,`+
			`"contributors":{"meet_daily_targets":43,"move_every_hour":100,"recovery_time":100,"stay_active":98},`+
			`"day":"2024-11-11","met":{"interval":60.0,"items":[`, i, strings.Repeat("0123", 72))
		for j := range 1440 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d.%d", j%7, j%10)
		}
		b.WriteString(`],"timestamp":"2024-11-11T04:00:00.000+01:00"},"steps":10234,"label":null,` +
			`"timestamp":"2024-11-11T04:00:00+01:00","note":"caf\u00e9 \"quoted\""}`)
	}
	b.WriteString(`],"next_token":"eyJwYWdlIjoyfQ=="}`)
	return b.Bytes()
}
