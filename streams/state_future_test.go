package streams_test

import (
	"encoding/json"
	"testing"
	"time"

	"source-oura/streams"
)

// TestFutureCursor: a saved cursor more than two days after now is reported, written as the
// stream writes it, so that read can warn that nothing newer will be read until then. Today,
// tomorrow (time zones) and the past are not, nor a state without a cursor or one that is refused.
func TestFutureCursor(t *testing.T) {
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)
	daily, _ := streams.Lookup("daily_activity")
	hr, _ := streams.Lookup("heart_rate")
	for _, c := range []struct {
		s      *streams.Stream
		blob   string
		want   string
		future bool
	}{
		{daily, `{"cursor":"2099-01-01","v":1}`, "2099-01-01", true},
		{daily, `{"day":"2026-11-23"}`, "2026-11-23", true},
		{hr, `{"cursor":"2099-01-01T00:00:00Z","v":1}`, "2099-01-01T00:00:00Z", true},
		{hr, `{"cursor":"2026-11-22T15:00:01Z","v":1}`, "2026-11-22T15:00:01Z", true},
		{hr, `{"cursor":"2026-11-22T15:00:00Z","v":1}`, "", false}, // exactly two days: not yet
		{daily, `{"cursor":"2026-11-21","v":1}`, "", false},
		{daily, `{"cursor":"2020-01-01","v":1}`, "", false},
		{daily, `{"v":1}`, "", false},
		{daily, `{"cursor":"soon","v":1}`, "", false},
		{daily, `null`, "", false},
	} {
		got, future := c.s.FutureCursor(json.RawMessage(c.blob), now)
		if got != c.want || future != c.future {
			t.Errorf("%s %s: %q, %v; want %q, %v", c.s.Name, c.blob, got, future, c.want, c.future)
		}
	}
}
