package integrationtests

import (
	"encoding/json"
	"testing"
)

// The read checks are only worth something if they fail on bad output; these tests feed them
// output with one mistake each.

func TestRecordValidatorCatchesMistakes(t *testing.T) {
	schema := `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{
		"id":{"type":"string"},
		"score":{"type":["null","integer"]},
		"ratio":{"type":"number"},
		"at":{"type":"string","format":"date-time"},
		"samples":{"type":"array","items":{"type":"integer"}}}}`
	v, err := newRecordValidator(stream{Name: "s", JSONSchema: json.RawMessage(schema)})
	if err != nil {
		t.Fatal(err)
	}
	good := []string{
		`{"id":"a","score":3,"ratio":1.5,"at":"2025-01-02T03:04:05+02:00","samples":[1,2]}`,
		`{"id":"a","score":null,"ratio":2,"at":"2025-01-02T03:04:05"}`, // a local time is a date-time to Airbyte
		`{"id":"a","extra":{"x":1}}`,
	}
	for _, g := range good {
		if p := v.problems(json.RawMessage(g)); len(p) != 0 {
			t.Errorf("%s: unexpected problems %v", g, p)
		}
	}
	bad := []string{
		`{"id":"a","score":3.0}`,                // an integer written as a decimal
		`{"id":"a","samples":[1,2e0]}`,          // the same inside an array
		`{"id":"a","score":"3"}`,                // wrong type
		`{"id":"a","at":"yesterday"}`,           // not a date-time
		`{"id":"a","at":"2025-13-40T99:00:00"}`, // date-time shape, impossible date
		`{"other":1}`,                           // no field the schema knows
	}
	for _, b := range bad {
		if p := v.problems(json.RawMessage(b)); len(p) == 0 {
			t.Errorf("%s: no problem found", b)
		}
	}
}

func TestStatusProblems(t *testing.T) {
	status := func(name, s string) message {
		tr := &trace{Type: "STREAM_STATUS"}
		tr.StreamStatus = &struct {
			StreamDescriptor descriptor `json:"stream_descriptor"`
			Status           string     `json:"status"`
		}{descriptor{Name: name}, s}
		return message{Type: "TRACE", Trace: tr}
	}
	ok := &output{msgs: []message{status("a", "STARTED"), status("a", "RUNNING"), status("a", "COMPLETE")}}
	if p := statusProblems(ok, []string{"a"}); len(p) != 0 {
		t.Errorf("a clean sequence was flagged: %v", p)
	}
	for _, seq := range [][]string{
		{"STARTED", "COMPLETE"},
		{"STARTED", "RUNNING", "INCOMPLETE"},
		{"RUNNING", "STARTED", "COMPLETE"},
		{"STARTED", "RUNNING", "STARTED", "COMPLETE"},
		{},
	} {
		o := &output{}
		for _, s := range seq {
			o.msgs = append(o.msgs, status("a", s))
		}
		if p := statusProblems(o, []string{"a"}); len(p) == 0 {
			t.Errorf("statuses %v were not flagged", seq)
		}
	}
}

func TestStateProblems(t *testing.T) {
	state := func(name, blob string, count float64, withStats bool) stateMessage {
		s := stateMessage{Type: "STREAM", Stream: &streamState{StreamDescriptor: descriptor{Name: name}, StreamState: json.RawMessage(blob)}}
		if withStats {
			s.SourceStats = &struct {
				RecordCount *float64 `json:"recordCount"`
			}{&count}
		}
		return s
	}
	clean := []stateMessage{state("a", `{"c":1}`, 3, true), state("a", `{"c":2}`, 1, true), state("b", `{}`, 0, true)}
	if p := stateProblems(clean, []string{"a", "b"}); len(p) != 0 {
		t.Errorf("clean states were flagged: %v", p)
	}
	cases := map[string][]stateMessage{
		"a stream without a state": {state("a", `{"c":1}`, 3, true)},
		"no sourceStats":           {state("a", `{"c":1}`, 3, false), state("b", `{}`, 0, true)},
		"legacy state":             {{Type: "LEGACY", Data: json.RawMessage(`{"a":1}`)}, state("a", `{}`, 0, true), state("b", `{}`, 0, true)},
		"a repeat after records":   {state("a", `{"c":1}`, 3, true), state("a", `{"c":1}`, 2, true), state("b", `{}`, 0, true)},
	}
	for name, states := range cases {
		if p := stateProblems(states, []string{"a", "b"}); len(p) == 0 {
			t.Errorf("%s was not flagged", name)
		}
	}
}

func TestPrimaryKeyProblem(t *testing.T) {
	pk := [][]string{{"timestamp"}, {"source"}}
	if p := primaryKeyProblem(pk, json.RawMessage(`{"timestamp":"t","source":null}`)); p != "" {
		t.Errorf("a key with one null part was flagged: %s", p)
	}
	for _, bad := range []string{`{"timestamp":null}`, `{"timestamp":{"a":1},"source":"s"}`, `{"timestamp":["t"],"source":"s"}`} {
		if primaryKeyProblem(pk, json.RawMessage(bad)) == "" {
			t.Errorf("%s was not flagged", bad)
		}
	}
}

func TestPickCheckpoints(t *testing.T) {
	st := func(cursor string, count float64) stateMessage {
		return stateMessage{Type: "STREAM", Stream: &streamState{StreamDescriptor: descriptor{Name: "a"},
			StreamState: json.RawMessage(`{"cursor":"` + cursor + `"}`)}, SourceStats: &struct {
			RecordCount *float64 `json:"recordCount"`
		}{&count}}
	}
	if got := pickCheckpoints([]stateMessage{st("1", 0), st("1", 0)}); len(got) != 0 {
		t.Errorf("states that count no records gave checkpoints %v", got)
	}
	// Two distinct states: only the last is used, with nothing expected after it.
	got := pickCheckpoints([]stateMessage{st("1", 5), st("2", 4), st("2", 0)})
	if len(got) != 1 || string(got[0].state.Stream.StreamState) != `{"cursor":"2"}` || got[0].after != 0 {
		t.Errorf("two states: got %+v", got)
	}
	// Seven states of 10 records: the first and last are left out, the rest sampled, and
	// each knows how many records followed it.
	var many []stateMessage
	for _, c := range []string{"1", "2", "3", "4", "5", "6", "7"} {
		many = append(many, st(c, 10))
	}
	got = pickCheckpoints(many)
	if len(got) != 5 || got[0].after != 50 || got[4].after != 10 {
		t.Errorf("seven states: got %d picks %+v", len(got), got)
	}
}
