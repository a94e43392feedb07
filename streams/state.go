package streams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"source-oura/protocol"
)

// stateVersion is written into every state blob so that a later release can change the
// format and still read old states.
const stateVersion = 1

// noCursorState is what full-refresh syncs leave as state, as the Python CDK does. It is
// read back as "no state".
var noCursorState = json.RawMessage(`{"__ab_no_cursor_state_message":true}`)

// cursorState is the state blob of an incremental stream:
//
//	{"cursor":"2026-11-19","v":1}                   date streams: the latest day delivered
//	{"cursor":"2026-11-19T21:35:00Z","v":1}         heart_rate, ring_battery_level: latest sample
//
// A stream that has delivered nothing yet has no cursor: {"v":1}.
type cursorState struct {
	Cursor string `json:"cursor,omitempty"`
	V      int    `json:"v"`
}

// StateError is a state blob the connector cannot use.
type StateError struct {
	Stream  string
	Problem string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("state for stream %s %s; fix or remove that stream's entry in the state file (or reset the stream)", e.Stream, e.Problem)
}

// cursor is a position in a stream: a day for date streams, an instant for time series.
type cursor struct {
	t   time.Time
	set bool
}

// parseState reads a stream's state blob. Besides our own format it accepts the CDK's
// full-refresh marker (no state) and a blob keyed by the cursor field ({"day": "2024-01-01"}),
// which is what hand-written and acceptance-test states usually look like.
func parseState(s *Stream, blob json.RawMessage) (cursor, error) {
	blob = bytes.TrimSpace(blob)
	if len(blob) == 0 || string(blob) == "null" {
		return cursor{}, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(blob, &obj); err != nil {
		return cursor{}, &StateError{Stream: s.Name, Problem: "is not a JSON object: " + truncate(string(blob), 80)}
	}
	if _, ok := obj["__ab_no_cursor_state_message"]; ok {
		return cursor{}, nil
	}
	var raw json.RawMessage
	if v, ok := obj["v"]; ok {
		var n int
		if err := json.Unmarshal(v, &n); err != nil {
			return cursor{}, &StateError{Stream: s.Name, Problem: `has a "v" that is not a number`}
		}
		if n > stateVersion {
			return cursor{}, &StateError{Stream: s.Name, Problem: fmt.Sprintf("was written by a newer connector (state version %d, this one reads %d)", n, stateVersion)}
		}
		raw = obj["cursor"]
	} else if c, ok := obj["cursor"]; ok {
		raw = c
	} else if c, ok := obj[s.Cursor]; ok {
		raw = c
	} else {
		return cursor{}, &StateError{Stream: s.Name, Problem: fmt.Sprintf(`has neither "cursor" nor %q`, s.Cursor)}
	}
	if len(raw) == 0 || string(raw) == "null" {
		return cursor{}, nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return cursor{}, &StateError{Stream: s.Name, Problem: "has a cursor that is not a string: " + truncate(string(raw), 80)}
	}
	t, err := s.parseCursor(str)
	if err != nil {
		return cursor{}, &StateError{Stream: s.Name, Problem: err.Error()}
	}
	return cursor{t: t, set: true}, nil
}

// parseCursor reads a cursor value: a date or date-time for date streams (the day is kept),
// an RFC 3339 instant or a date (midnight UTC) for time series.
func (s *Stream) parseCursor(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		if s.Params == DateTimes {
			return t.UTC(), nil
		}
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	}
	if len(v) >= 10 {
		if t, err := time.Parse("2006-01-02", v[:10]); err == nil && (len(v) == 10 || v[10] == 'T' || v[10] == ' ') {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("has cursor %q, which is not a date (2024-01-31) or an RFC 3339 date-time", truncate(v, 40))
}

// encodeState writes the state blob for a cursor.
func (s *Stream) encodeState(c cursor) json.RawMessage {
	st := cursorState{V: stateVersion}
	if c.set {
		st.Cursor = s.formatCursor(c.t)
	}
	b, _ := json.Marshal(st)
	return b
}

func (s *Stream) formatCursor(t time.Time) string {
	if s.Params == DateTimes {
		return t.UTC().Format(time.RFC3339)
	}
	return t.Format(dayLayout)
}

const dayLayout = "2006-01-02"

// truncate bounds s for a message. protocol.Cut never leaves part of a token-like word, so a secret
// echoed inside a document or a state cannot leave a piece the writer's masker would not recognise.
func truncate(s string, n int) string { return protocol.Cut(s, n) }

// CheckState reports whether a state blob can be used for this stream, so that a bad state
// file is refused before any stream starts.
func (s *Stream) CheckState(blob json.RawMessage) error {
	_, err := parseState(s, blob)
	return err
}

// futureSlack is how far after now a saved cursor may lie before it is called wrong: a day of
// time zones, and a day of clocks that disagree.
const futureSlack = 48 * time.Hour

// FutureCursor returns a state blob's cursor, written as the stream writes it, when it lies more
// than two days after now. Such a cursor (a hand-edited state, a clock that was wrong, a test's
// abnormal state) makes every read ask from after today: nothing is read and the same state is
// written back, sync after sync, without an error, so the caller warns. A blob CheckState refuses
// has no cursor here.
func (s *Stream) FutureCursor(blob json.RawMessage, now time.Time) (string, bool) {
	c, err := parseState(s, blob)
	if err != nil || !c.set || !c.t.After(now.Add(futureSlack)) {
		return "", false
	}
	return s.formatCursor(c.t), true
}

// CursorAfterEnd returns a state blob's cursor, written as the stream writes it, when it lies
// after end (the config's end_datetime) by more than the lookback the next read goes back
// (lookbackDays): that read asks for nothing and writes the same state back, sync after sync,
// without an error, so the caller warns. A zero end, a blob without a cursor and one CheckState
// refuses are not reported.
func (s *Stream) CursorAfterEnd(blob json.RawMessage, end time.Time, lookbackDays int) (string, bool) {
	c, err := parseState(s, blob)
	if err != nil || !c.set || end.IsZero() {
		return "", false
	}
	from, last := c.t.AddDate(0, 0, -lookbackDays), end.UTC()
	if s.Params == Dates {
		from, last = truncDay(from), truncDay(last) // days count whole, the last one included
	}
	if !from.After(last) {
		return "", false
	}
	return s.formatCursor(c.t), true
}
