// Package ouratest holds response bodies shaped like the Oura API's, for the tests of the
// client and the page reader. Only tests import it, so it never ships in the binary; it
// imports nothing of the connector, so any package's own tests can use it.
package ouratest

import (
	"bytes"
	"fmt"
	"strings"
)

// ActivityPage builds a list page like Oura's daily_activity pages: n documents, each with a
// 5-minute class string, a per-minute MET series of 1440 values, escapes and a null, then
// next_token set to token as raw JSON (`null` or a quoted string).
func ActivityPage(n int, token string) []byte {
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
	b.WriteString(`],"next_token":` + token + `}`)
	return b.Bytes()
}
