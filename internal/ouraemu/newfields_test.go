package ouraemu

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestNewFieldsAreServedOnlyWhereAsked: a new field is added, in name order after the stored
// fields, to every document of its collection on list pages, single-document and sandbox routes
// and personal_info; other collections and the stored documents stay as they were.
func TestNewFieldsAreServedOnlyWhereAsked(t *testing.T) {
	e := newEmu(t, func(o *Options) {
		o.NewFields = []NewField{
			{Collection: "daily_sleep", Name: "z_score", Value: json.RawMessage(`7`)},
			{Collection: "daily_sleep", Name: "a_label", Value: json.RawMessage(`"x"`)},
			{Collection: "personal_info", Name: "ring_id", Value: json.RawMessage(`null`)},
		}
	})
	stored := bytes.Clone(e.data.Docs["daily_sleep"][0].JSON)

	var page struct{ Data []json.RawMessage }
	for _, prefix := range []string{live, "/v2/sandbox/usercollection/"} {
		r := e.get(t, prefix+"daily_sleep?start_date=2024-02-01&end_date=2024-03-10", allToken)
		if err := json.Unmarshal(r.body, &page); err != nil || len(page.Data) == 0 {
			t.Fatalf("%s: %v %s", prefix, err, r.body)
		}
		for _, doc := range page.Data {
			if !bytes.HasSuffix(doc, []byte(`,"a_label":"x","z_score":7}`)) {
				t.Fatalf("%s: document without the new fields in order: %s", prefix, doc)
			}
		}
	}
	id := e.data.Docs["daily_sleep"][0].ID
	if r := e.get(t, live+"daily_sleep/"+id, allToken); !bytes.HasSuffix(r.body, []byte(`,"a_label":"x","z_score":7}`)) {
		t.Errorf("single document: %s", r.body)
	}
	if r := e.get(t, live+"personal_info", allToken); !bytes.HasSuffix(r.body, []byte(`,"ring_id":null}`)) {
		t.Errorf("personal_info: %s", r.body)
	}
	if r := e.get(t, live+"daily_readiness?start_date=2024-02-01&end_date=2024-03-10", allToken); bytes.Contains(r.body, []byte("z_score")) {
		t.Errorf("another collection got the field: %s", r.body)
	}
	if !bytes.Equal(e.data.Docs["daily_sleep"][0].JSON, stored) {
		t.Error("serving changed the stored document")
	}
}

// TestParseNewField: the flag's COLLECTION.NAME=JSON form, and an error for each way it can be
// wrong that says what to write.
func TestParseNewField(t *testing.T) {
	f, err := ParseNewField(`sleep.ring_id="r1"`)
	if err != nil || f.Collection != "sleep" || f.Name != "ring_id" || string(f.Value) != `"r1"` {
		t.Fatalf("got %+v, %v", f, err)
	}
	for in, want := range map[string]string{
		"sleep":                "COLLECTION.NAME=JSON",
		"sleep=1":              "COLLECTION.NAME=JSON",
		"naps.x=1":             `unknown collection "naps"`,
		"sleep.=1":             "field name is empty",
		"sleep.x=abc":          "not JSON",
		`personal_info.x={"a"`: "not JSON",
	} {
		if _, err := ParseNewField(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseNewField(%q) = %v, want an error saying %q", in, err, want)
		}
	}
}
