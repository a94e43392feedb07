package streams

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"source-oura/internal/oura"
	"source-oura/protocol"
)

// How discover samples a collection: one request, the first page only. Two weeks of a date
// collection catch weekly habits (workouts, tags, sessions) while a page of sleep periods stays
// a few hundred kB; a day of a time series is 288 heart-rate rows.
const (
	sampleDays       = 14
	sampleSeriesSpan = 24 * time.Hour
)

// Defaults for the zero values of Sampler.
const (
	// DefaultSampleTimeout bounds all of discover's sampling: Airbyte runs discover before syncs
	// and while a person waits in the UI, so a slow or dead API must not hold it up for long.
	DefaultSampleTimeout = 20 * time.Second
	// DefaultSampleConcurrency is how many collections are sampled at once.
	DefaultSampleConcurrency = 6
)

// newFieldDescription is the description of every field discover adds to a schema.
const newFieldDescription = "Found in Oura's data when the source schema was discovered; not in Oura's OpenAPI " +
	"document, which the rest of this schema follows. Its type is inferred from the values seen."

// Sampler builds discover's catalog: the embedded schemas, plus every top-level field that a
// small sample of each collection holds and the schema lacks. Oura adds fields every few API
// revisions, and since August 2025 the Airbyte platform drops every field a stream's schema does
// not declare; declaring what Oura sends lets Airbyte add the new columns on its own.
type Sampler struct {
	// Client is the one read uses too, so sampling shares its rate budget.
	Client *oura.Client
	// Log gets one WARN per stream whose sample failed and one INFO with what was found.
	Log zerolog.Logger
	// Start and End are the config's sync range (End zero: up to now); the sample is taken from
	// its most recent days.
	Start, End time.Time
	Sandbox    bool
	Now        func() time.Time
	// Timeout bounds the whole sampling; Concurrency is how many requests run at once.
	Timeout     time.Duration
	Concurrency int
	// AccountColumn is the account column's name while config account_column is on, else "".
	// A field of that name in Oura's data is not added: the connector's column replaces it in
	// every record (see ownAccount), so WithAccountColumn's declaration must be the one kept.
	AccountColumn string
	// Sampled, when set, is told how each collection's sample ended (err nil when it worked), so
	// that discover can say once what every failure shared instead of one WARN per stream.
	Sampled func(stream string, err error)
}

// streamSample is what one collection's sample showed.
type streamSample struct {
	stream  *Stream
	skipped bool                     // nothing to ask for (no sandbox route, or a range in the future)
	types   map[string]map[kind]bool // top-level field → JSON kinds of its values
	docs    int
	err     error
	// unlisted counts the top-level fields left out of types: past maxSampledFields, or with a
	// name longer than maxSampledName.
	unlisted int
}

// A sample's fields become schema properties, so what a server sends must not make the catalog
// (or discover's memory) grow without end: an OpenAPI model has a few dozen fields, and Oura adds
// a handful at a time.
const (
	maxSampledFields = 200
	maxSampledName   = 200
	maxFoundListed   = 20 // fields named in discover's INFO line
)

// kind is a JSON value's type as a JSON Schema names it; numbers are all "number" (see fieldSchema).
type kind string

// kindOrder is the order types are listed in an inferred schema, so output never depends on
// which document came first.
var kindOrder = []kind{"null", "boolean", "number", "string", "array", "object"}

// Catalog returns discover's catalog. A stream whose sample fails (missing scope, rate limit,
// server or network error, the deadline) keeps its embedded schema, and one WARN says why; the
// catalog always lists every stream. The error is only for embedded schemas that cannot be used.
func (s *Sampler) Catalog(ctx context.Context) (*protocol.Catalog, error) {
	cat, err := Catalog()
	if err != nil {
		return nil, err
	}
	samples := s.sampleAll(ctx)
	var found []string
	for i, sm := range samples {
		name := sm.stream.Name
		if s.Sampled != nil && !sm.skipped {
			s.Sampled(name, sm.err)
		}
		switch {
		case sm.skipped:
			continue
		case sm.err != nil:
			s.Log.Warn().Msgf("discover could not sample %s, so its schema lists only the fields of Oura's OpenAPI "+
				"document and Airbyte drops any field Oura added since: %s", name, s.reason(sm.err))
			continue
		}
		if sm.unlisted > 0 {
			s.Log.Warn().Msgf("discover saw top-level fields in Oura's %s data beyond the %d (with names of at most %d bytes) "+
				"a schema takes from a sample; %d field occurrences were left out of the schema, so Airbyte drops those fields",
				name, maxSampledFields, maxSampledName, sm.unlisted)
		}
		known, err := schemaProperties(cat.Streams[i].JSONSchema)
		if err != nil {
			return nil, fmt.Errorf("schema for stream %s: %w", name, err)
		}
		var props []newProperty
		for _, field := range sortedKeys(sm.types) {
			if _, ok := known[field]; ok {
				continue // embedded fields never change
			}
			if field == s.AccountColumn && field != "" {
				s.Log.Warn().Msgf("discover found a top-level field %s in Oura's %s data, the name of the account column "+
					"(config account_column): the connector's column replaces Oura's field in every record, so the schema "+
					"declares the column, not the field Oura sends", field, name)
				continue
			}
			props = append(props, newProperty{name: field, schema: fieldSchema(sm.types[field])})
			found = append(found, name+"."+field)
		}
		if len(props) == 0 {
			continue
		}
		merged, err := addProperties(cat.Streams[i].JSONSchema, props)
		if err != nil {
			return nil, fmt.Errorf("adding discovered fields to the schema of stream %s: %w", name, err)
		}
		cat.Streams[i].JSONSchema = merged
	}
	if len(found) > 0 {
		listed := found
		more := ""
		if len(found) > maxFoundListed {
			listed, more = found[:maxFoundListed], fmt.Sprintf(" and %d more", len(found)-maxFoundListed)
		}
		s.Log.Info().Msgf("discover found fields in Oura's data that its OpenAPI document lacks and added them to the "+
			"schemas (nullable, type inferred from the values seen): %s%s", strings.Join(listed, ", "), more)
	}
	return cat, nil
}

// reason words a sampling failure for the WARN.
func (s *Sampler) reason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("Oura did not answer within the %s discover allows (%v)", s.timeout(), err)
	}
	return err.Error()
}

func (s *Sampler) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultSampleTimeout
}

// sampleAll samples every stream, Concurrency at a time, within the total timeout, and returns
// the samples in catalog order.
func (s *Sampler) sampleAll(ctx context.Context) []*streamSample {
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	workers := s.Concurrency
	if workers < 1 {
		workers = DefaultSampleConcurrency
	}
	all := AllStreams()
	out := make([]*streamSample, len(all))
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, st := range all {
		out[i] = &streamSample{stream: st, types: map[string]map[kind]bool{}}
		wg.Add(1)
		go func(sm *streamSample) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				sm.err = fmt.Errorf("sampling %s: %w", sm.stream.Path, context.Cause(ctx))
				return
			}
			s.sampleOne(ctx, sm, now())
		}(out[i])
	}
	wg.Wait()
	return out
}

// sampleOne asks for the first page of a recent range of the collection, built by the same plan
// read follows, and notes the type of every top-level value of its documents.
func (s *Sampler) sampleOne(ctx context.Context, sm *streamSample, now time.Time) {
	st := sm.stream
	if s.Sandbox && st.NoSandbox {
		sm.skipped = true
		return
	}
	path := (&Reader{Sandbox: s.Sandbox}).path(st)
	if st.Params == Single {
		body, err := s.Client.Get(ctx, path, nil)
		if err != nil {
			sm.err = err // an *oura.Error names the path
			return
		}
		sm.observe(body)
		return
	}
	q, ok := st.sampleQuery(s.Start, s.End, now)
	if !ok {
		sm.skipped = true
		return
	}
	p := s.Client.Pages(path, q)
	p.Next(ctx, func(rec oura.Record) error {
		if !rec.TooDeep {
			sm.observe(rec.Raw)
		}
		return nil
	})
	sm.err = p.Err() // names the path and the page
}

// sampleQuery is the query of the last request window of a read of the stream's most recent
// days: sampleDays of a date collection, sampleSeriesSpan of a time series, the first page of
// an undated one. ok is false when the sync range holds nothing to ask for.
func (s *Stream) sampleQuery(start, end, now time.Time) (q url.Values, ok bool) {
	recent := now
	if !end.IsZero() && end.Before(now) {
		recent = end
	}
	span := sampleSeriesSpan
	if s.Params == Dates {
		span = sampleDays * 24 * time.Hour
	}
	// A saved cursor with no lookback starts the range there: syncRange and plan then shape the
	// request exactly as a read of those days would.
	from, to := s.syncRange(start, end, now, cursor{t: recent.Add(-span), set: true}, 0)
	windows := s.plan(from, to)
	if len(windows) == 0 {
		return nil, false
	}
	return windows[len(windows)-1].query, true
}

// observe notes the kind of each top-level value of one document; elements that are not
// objects say nothing about fields.
func (sm *streamSample) observe(doc []byte) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(doc, &fields) != nil {
		return
	}
	sm.docs++
	for name, v := range fields {
		kinds := sm.types[name]
		if kinds == nil {
			if len(name) > maxSampledName || len(sm.types) >= maxSampledFields {
				sm.unlisted++
				continue
			}
			kinds = map[kind]bool{}
			sm.types[name] = kinds
		}
		kinds[kindOf(v)] = true
	}
}

func kindOf(v json.RawMessage) kind {
	switch v[0] { // json.Unmarshal leaves no empty value nor leading space in a RawMessage
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '"':
		return "string"
	case '[':
		return "array"
	case '{':
		return "object"
	}
	return "number"
}

// fieldSchema is the schema of a discovered field: always nullable, since a sample cannot show
// that a field is never null, with every kind seen. Numbers are "number" even when every value
// seen was whole: a sample of integers does not rule out a fraction later, and a destination's
// integer column would lose it. A field seen only as null gets no type (any value), which
// Airbyte keeps as JSON.
func fieldSchema(kinds map[kind]bool) json.RawMessage {
	var types []kind
	for _, k := range kindOrder {
		if kinds[k] || k == "null" {
			types = append(types, k)
		}
	}
	schema := struct {
		Type        []kind `json:"type,omitempty"`
		Description string `json:"description"`
	}{Description: newFieldDescription}
	if len(types) > 1 {
		schema.Type = types
	}
	b, _ := json.Marshal(schema) // strings only: cannot fail
	return b
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// schemaProperties lists the top-level properties a stream schema declares.
func schemaProperties(schema []byte) (map[string]json.RawMessage, error) {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		return nil, err
	}
	if s.Properties == nil {
		return nil, errors.New("the schema has no top-level properties")
	}
	return s.Properties, nil
}

// newProperty is one discovered field and its schema.
type newProperty struct {
	name   string
	schema json.RawMessage
}

// addProperties returns schema with props appended to its top-level "properties" object. The
// rest of the schema keeps its bytes and its key order, so embedded fields are exactly as
// shipped and a catalog with nothing discovered is the embedded one.
func addProperties(schema []byte, props []newProperty) ([]byte, error) {
	end, empty, err := propertiesEnd(schema)
	if err != nil {
		return nil, err
	}
	var add bytes.Buffer
	for i, p := range props {
		if i > 0 || !empty {
			add.WriteByte(',')
		}
		name, err := json.Marshal(p.name)
		if err != nil {
			return nil, err
		}
		add.Write(name)
		add.WriteByte(':')
		add.Write(p.schema)
	}
	out := make([]byte, 0, len(schema)+add.Len())
	out = append(out, schema[:end]...)
	out = append(out, add.Bytes()...)
	return append(out, schema[end:]...), nil
}

// propertiesEnd finds the offset of the closing brace of the schema's top-level "properties"
// object and whether that object is empty.
func propertiesEnd(schema []byte) (end int, empty bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(schema))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return 0, false, errors.New("the schema is not a JSON object")
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return 0, false, err
		}
		if key != "properties" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return 0, false, err
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return 0, false, errors.New(`the schema's "properties" is not an object`)
		}
		empty = true
		for dec.More() {
			empty = false
			var skip json.RawMessage
			if _, err := dec.Token(); err != nil { // the property's name
				return 0, false, err
			}
			if err := dec.Decode(&skip); err != nil {
				return 0, false, err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing brace
			return 0, false, err
		}
		return int(dec.InputOffset()) - 1, empty, nil
	}
	return 0, false, errors.New("the schema has no top-level properties")
}
