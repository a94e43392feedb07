package streams

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"net/url"
	"slices"
	"sort"
	"strings"

	"source-oura/internal/jsonscan"
	"source-oura/internal/oura"
	"source-oura/protocol"
	"source-oura/schemas"
)

// columns is what a read knows of a configured stream's top-level fields: which the catalog
// declares (Airbyte keeps only those), which are the primary key, and which to ask Oura for.
type columns struct {
	// scan checks records against the stream schema and reports undeclared keys and missing
	// primary keys in the same pass (jsonscan.Schema.ForRead).
	scan *jsonscan.Schema
	// keys are the primary-key fields, in the order of the bits of Result.MissingKeys.
	keys []string
	// fields is the value of Oura's fields parameter, "" to ask for whole documents.
	fields string
	// account is the account column's name while account_column is on, else "". The scanner is
	// then told the catalog does not declare it, so that a record in which Oura itself sends a
	// member of that name lists it in Result.Undeclared: that is how ownAccount finds the few
	// records to fix without looking at the others.
	account string
	// declaresAll: the catalog declares no fields (declared was nil), so the only undeclared name
	// that means anything is the account column's; noteKeys ignores the others.
	declaresAll bool
	// accountClash: the WARN about Oura's own account member was written for this stream.
	accountClash bool
}

// configuredFields returns the top-level property names of a configured stream's json_schema,
// nil when it has none: a hand-written catalog with {} (or no json_schema at all) declares
// nothing, and would make every field look undeclared.
func configuredFields(schema json.RawMessage) []string {
	if len(schema) == 0 {
		return nil
	}
	props, err := schemaProperties(schema)
	if err != nil || len(props) == 0 {
		return nil
	}
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// columnsFor works out a run's columns. account is the account column (config account_column),
// which the connector adds to records and Oura never sends.
func (r *Reader) columnsFor(job Job) columns {
	s := job.Stream
	var c columns
	for _, k := range s.PrimaryKey {
		if len(k) == 1 && k[0] != r.Account.Name && len(c.keys) < jsonscan.MaxKeys {
			c.keys = append(c.keys, k[0])
		}
	}
	declared := configuredFields(job.Schema)
	if declared != nil && s.Params != Single && !r.Sandbox {
		c.fields = s.projection(declared, c.keys, r.Account.Name)
	}
	scanned := declared
	if name := r.Account.Name; name != "" {
		c.account, c.declaresAll = name, declared == nil
		scanned = make([]string, 0, len(declared)) // not nil: the scanner reports undeclared keys
		for _, d := range declared {
			if d != name {
				scanned = append(scanned, d)
			}
		}
	}
	c.scan = r.Validator.Schema(s.Name).ForRead(scanned, c.keys)
	return c
}

// ownAccount returns the bytes to write for a record: raw itself, or, when Oura sent a
// top-level member named like the account column (undeclared lists it, see columns.account),
// raw without that member. The writer puts the connector's column first, and a JSON reader keeps
// the last of two equal keys, so Oura's value would replace the label and mix the rows of
// several people in shared tables. Everything else stays as Oura sent it; one WARN per stream.
func (r *Reader) ownAccount(run *streamRun, raw []byte, undeclared []string) []byte {
	name := run.cols.account
	if name == "" || !slices.Contains(undeclared, name) {
		return raw
	}
	out, err := dropMember(raw, name)
	if err != nil {
		return raw // jsonscan checked the record already: not reached
	}
	if !run.cols.accountClash {
		run.cols.accountClash = true
		r.Log.Warn().Str("stream", run.job.Stream.Name).Str("field", name).
			Msgf("records from Oura carry a top-level field %s, the name of the account column (config account_column): the "+
				"connector's column wins and Oura's field is left out of those records, so each still names this connection's "+
				"account; the rest of each record is written as Oura sent it", name)
	}
	return out
}

// dropMember returns the JSON object doc without its top-level members named name (several
// when Oura repeats the key), with the commas around them kept valid and every other byte kept.
func dropMember(doc []byte, name string) ([]byte, error) {
	start := 0
	for start < len(doc) && strings.IndexByte(" \t\r\n", doc[start]) >= 0 {
		start++
	}
	ms, _, err := jsonscan.Members(doc, start)
	if err != nil {
		return nil, err
	}
	lastKept := -1
	for i, m := range ms {
		if m.Key != name {
			lastKept = i
		}
	}
	out := make([]byte, 0, len(doc))
	pos := 0
	for i, m := range ms {
		if m.Key != name {
			continue
		}
		var from, to int
		switch {
		case i < lastKept: // a kept member follows: cut up to its lead, the comma included
			from, to = m.Lead, ms[i+1].Lead
		case lastKept >= 0: // only dropped members follow: cut from the end of the last kept value
			from, to = ms[lastKept].ValueEnd, ms[len(ms)-1].ValueEnd
		default: // nothing is kept
			from, to = ms[0].Lead, ms[len(ms)-1].ValueEnd
		}
		out = append(out, doc[pos:from]...)
		pos = to
		if i > lastKept {
			break
		}
	}
	return append(out, doc[pos:]...), nil
}

// projection is the fields parameter for a catalog that declares only declared: "" when it
// declares every field of the stream's schema (nothing to gain), else the declared fields plus
// the primary key and the cursor, which the reader needs whatever the catalog says, sorted.
// Oura's fields parameter is comma-separated, so a name with a comma leaves the stream whole.
func (s *Stream) projection(declared, keys []string, account string) string {
	doc, err := schemas.Get(s.Name)
	if err != nil {
		return ""
	}
	all, err := schemaProperties(doc)
	if err != nil {
		return ""
	}
	want := map[string]bool{}
	for _, name := range declared {
		if name != account {
			want[name] = true
		}
	}
	narrower := false
	for name := range all {
		if !want[name] {
			narrower = true
			break
		}
	}
	if !narrower {
		return ""
	}
	for _, k := range keys {
		want[k] = true
	}
	if s.Cursor != "" {
		want[s.Cursor] = true
	}
	names := make([]string, 0, len(want))
	for name := range want {
		if name == "" || strings.Contains(name, ",") {
			return ""
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// windowQuery is the query of a window's first request: with the fields parameter while the
// stream is projected, without it once Oura has refused it.
func (run *streamRun) windowQuery(w window) url.Values {
	if run.cols.fields == "" || run.wholeDocs.Load() {
		return w.query
	}
	q := make(url.Values, len(w.query)+1)
	for k, v := range w.query {
		q[k] = v
	}
	q.Set("fields", run.cols.fields)
	return q
}

// withoutFields is q less the fields parameter, continuing at nextToken when a page of the
// window was already read ("" for its first page).
func withoutFields(q url.Values, nextToken string) url.Values {
	out := make(url.Values, len(q)+1)
	for k, v := range q {
		if k != "fields" {
			out[k] = v
		}
	}
	if nextToken != "" {
		out.Set("next_token", nextToken)
	}
	return out
}

// refusedFields reports whether err is Oura refusing the query (400 or 422), which for a
// request with fields may be the parameter itself: it has never been tried against the live API.
func refusedFields(err error) bool {
	var oe *oura.Error
	return errors.As(err, &oe) && oe.Kind == oura.BadRequest &&
		(oe.Status == 400 || oe.Status == 422)
}

// readWhole turns a stream's projection off after Oura refused it, with one WARN per stream.
func (r *Reader) readWhole(run *streamRun, err error) {
	if run.wholeDocs.Swap(true) {
		return
	}
	r.Log.Warn().Str("stream", run.job.Stream.Name).Str("fields", run.cols.fields).
		Msgf("Oura refused the fields parameter (%v); the request was sent again without it, and the rest of the stream is "+
			"read as whole documents (Airbyte still keeps only the selected columns)", err)
}

// Oura names its fields, so an undeclared field's name is server text of any length, and a
// stream may carry any number of distinct ones (a key that embeds an id, say): neither the
// names kept nor the lines logged may grow with them.
const (
	// maxUndeclaredNamed is how many undeclared fields of a stream get a WARN of their own. A
	// schema change at Oura adds a handful; past this, one WARN says the rest are only counted.
	maxUndeclaredNamed = 100
	// maxUndeclaredCounted is how many distinct undeclared fields a stream counts (a digest of
	// 8 bytes each, well under 1 MiB in all); the summary's count stops there, and a WARN says so.
	maxUndeclaredCounted = 10_000
	// maxFieldLog is how many bytes of a field name a log line carries.
	maxFieldLog = 200
)

// fieldSeed keys the digests of undeclared field names; per process, as nothing outlives it.
var fieldSeed = maphash.MakeSeed()

// fieldDigest is the key of an undeclared field in streamRun.undeclared: 8 bytes whatever the
// length of the name, so the set holds no name Oura sent. Two names of one stream sharing a
// digest (odds about 1 in 10^11 at the cap) would be counted once.
func fieldDigest(name string) string {
	return string(binary.LittleEndian.AppendUint64(nil, maphash.String(fieldSeed, name)))
}

// noteKeys counts, once a record is written, its undeclared fields (one WARN per stream and
// field for the first maxUndeclaredNamed) and its missing primary-key fields (one WARN per
// stream at its end, see warnKeys).
func (r *Reader) noteKeys(run *streamRun, undeclared []string, missing uint8) {
	for _, name := range undeclared {
		if run.cols.account != "" && (name == run.cols.account || run.cols.declaresAll) {
			continue // the catalog declares the account column; ownAccount handles Oura's own
		}
		if len(run.undeclared) >= maxUndeclaredCounted {
			break // the count stops here (said once below); hashing more names would change nothing
		}
		key := fieldDigest(name)
		if run.undeclared[key] {
			continue
		}
		if run.undeclared == nil {
			run.undeclared = map[string]bool{}
		}
		run.undeclared[key] = true
		switch n := len(run.undeclared); {
		case n <= maxUndeclaredNamed:
			ev := r.Log.Warn().Str("stream", run.job.Stream.Name).Str("field", protocol.Cut(name, maxFieldLog))
			if len(name) > maxFieldLog {
				ev = ev.Int("field_bytes", len(name))
			}
			ev.Msg("records carry a top-level field which the stream's schema in the catalog does not declare: they are written " +
				"unchanged, but Airbyte drops the field until the source schema is refreshed (\"Refresh source schema\" in the " +
				"connection's Schema tab; discover declares the fields Oura sends)")
		case n == maxUndeclaredNamed+1:
			r.Log.Warn().Str("stream", run.job.Stream.Name).Int("named", maxUndeclaredNamed).
				Msgf("records carry more than %d distinct top-level fields which the stream's schema in the catalog does not "+
					"declare: they are written unchanged, and the further ones are counted in the stream summary "+
					"(undeclared_fields) but not named; Airbyte drops them until the source schema is refreshed", maxUndeclaredNamed)
		case n == maxUndeclaredCounted:
			r.Log.Warn().Str("stream", run.job.Stream.Name).
				Msgf("records carry at least %d distinct undeclared top-level fields, as many as the connector counts: "+
					"undeclared_fields in the stream summary stops there; the records are still written unchanged", maxUndeclaredCounted)
		}
	}
	run.sum.Undeclared = len(run.undeclared)
	if missing == 0 {
		return
	}
	run.sum.MissingKeys++
	for i := range run.cols.keys {
		if missing&(1<<i) != 0 {
			run.missingKey[i]++
		}
	}
}

// warnKeys says, in one WARN at the end of a stream, how many records lacked each primary-key
// field. They were written: dropping Oura's data is worse, but a deduplicated table keeps one
// row for all the records that share a null key.
func (r *Reader) warnKeys(run *streamRun) {
	if run.sum.MissingKeys == 0 {
		return
	}
	var parts []string
	for i, k := range run.cols.keys {
		if n := run.missingKey[i]; n > 0 {
			parts = append(parts, fmt.Sprintf("primary key %s missing in %d records", k, n))
		}
	}
	r.Log.Warn().Str("stream", run.job.Stream.Name).Int64("records", run.sum.MissingKeys).
		Msgf("stream %s: %s (absent or null); they were written, but in an Append + Deduped table rows with the same "+
			"missing key replace each other", run.job.Stream.Name, strings.Join(parts, ", "))
}
