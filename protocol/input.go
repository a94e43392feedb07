package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxInputFileSize bounds every file the connector reads (config, catalog, state). Real ones
// are kilobytes; a catalog with all 19 schemas is well under 1 MiB.
const MaxInputFileSize = 16 << 20

// FileError is a problem with an input file, worded for the person who wrote the file.
type FileError struct {
	Kind    string // "config", "catalog" or "state"
	Path    string
	Problem string
}

func (e *FileError) Error() string {
	return fmt.Sprintf("%s file %s: %s", e.Kind, e.Path, e.Problem)
}

// ReadJSONFile reads a JSON file named by a command-line flag. Every failure is a *FileError
// that names the file and says what is wrong: missing, unreadable, a directory, empty (when
// allowEmpty is false), too large, not UTF-8, or not JSON (with line and column).
func ReadJSONFile(kind, path string, allowEmpty bool) ([]byte, error) {
	fail := func(format string, a ...any) error {
		return &FileError{Kind: kind, Path: path, Problem: fmt.Sprintf(format, a...)}
	}
	if path == "" {
		return nil, fail("no path given; pass --%s FILE", kind)
	}
	// Only regular files (see ReadRegularFile). The stat comes first so that nothing is opened
	// that could block; ReadRegularFile checks the opened file again, in case of a swap.
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		return nil, fail("%s", notRegular(kind, st.Mode()))
	}
	data, _, err := ReadRegularFile(path, MaxInputFileSize)
	var nr *NotRegularError
	var big *TooLargeError
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		return nil, fail("does not exist; check the path passed to --%s", kind)
	case errors.Is(err, fs.ErrPermission):
		return nil, fail("cannot be read (permission denied); make it readable by this user")
	case errors.As(err, &nr) && nr.Mode.IsDir():
		return nil, fail("is a directory, not a JSON file")
	case errors.As(err, &nr):
		return nil, fail("%s", notRegular(kind, nr.Mode))
	case errors.As(err, &big):
		return nil, fail("is larger than %d MiB; this is not a %s file the connector can use", MaxInputFileSize>>20, kind)
	default:
		return nil, fail("cannot be read: %v", UnwrapPath(err))
	}
	// Notepad and some editors save UTF-8 with a byte-order mark; JSON has no use for it.
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		if allowEmpty {
			return nil, nil
		}
		return nil, fail("is empty; it must hold a JSON object")
	}
	if !utf8.Valid(data) {
		return nil, fail("is not valid UTF-8 text; save it as UTF-8 JSON")
	}
	if err := checkJSON(data); err != nil {
		if kind == "catalog" || kind == "state" {
			// The raw output of discover or read: ParseAnyCatalog finds the CATALOG line,
			// ParseState the STATE lines. A bad line among good ones is named by its number.
			if jsonLines(data) {
				return data, nil
			}
			if n, lerr := badLine(data); n > 0 {
				return nil, fail("line %d is not JSON (%v); the file looks like one JSON message a line, as the connector prints them, and every line must be one", n, lerr)
			}
		}
		return nil, fail("is not valid JSON: %v", err)
	}
	return data, nil
}

// utf8BOM is the byte-order mark some editors put at the start of a UTF-8 file.
var utf8BOM = []byte("\xef\xbb\xbf")

// badLine returns the number of the first line that is not JSON, and why, when data looks like
// one JSON value a line: its first non-blank line is a JSON object and another non-blank line
// follows. Otherwise it returns 0, and the document is judged as a whole.
func badLine(data []byte) (int, error) {
	good := 0
	for n := 1; len(data) > 0; n++ {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		line = bytes.TrimSpace(line)
		switch {
		case len(line) == 0:
		case json.Valid(line) && (good > 0 || line[0] == '{'):
			good++
		case good == 0:
			return 0, nil // the first line is not a value of its own: one document over many lines
		default:
			var v any
			err := json.Unmarshal(line, &v)
			var se *json.SyntaxError
			if errors.As(err, &se) {
				err = fmt.Errorf("%s at column %d", se.Error(), se.Offset)
			} else if err == nil {
				err = errors.New("unexpected content")
			}
			return n, err
		}
	}
	return 0, nil
}

// notRegular says why a file that is not a regular file is refused, and what to pass instead.
func notRegular(kind string, mode fs.FileMode) string {
	what := "a special file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case mode&fs.ModeCharDevice != 0:
		what = "a character device"
	case mode&fs.ModeDevice != 0:
		what = "a device"
	case mode&fs.ModeSocket != 0:
		what = "a socket"
	}
	return fmt.Sprintf("is %s, not a regular file; save the %s JSON to a file and pass its path to --%s (pipes such as <(...) are not read)",
		what, kind, kind)
}

// checkJSON reports where a document stops being JSON, as line and column.
func checkJSON(data []byte) error {
	if json.Valid(data) {
		return nil
	}
	var v any
	err := json.Unmarshal(data, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(data, se.Offset)
		return fmt.Errorf("%s at line %d, column %d", se.Error(), line, col)
	}
	if err == nil {
		return errors.New("unexpected content")
	}
	return err
}

func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// ParseCatalog decodes a configured catalog and checks what the protocol fixes: at least
// one stream, each with a name, a known sync_mode and a known destination_sync_mode.
// Whether the stream exists is for the caller, which knows the streams.
func ParseCatalog(path string, data []byte) (*ConfiguredCatalog, error) {
	fail := func(format string, a ...any) error {
		return &FileError{Kind: "catalog", Path: path, Problem: fmt.Sprintf(format, a...)}
	}
	var c ConfiguredCatalog
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fail("is not a configured catalog: %s", describeDecodeError(err))
	}
	if len(c.Streams) == 0 {
		return nil, fail(`has no streams; it must be an object with a non-empty "streams" array`)
	}
	for i, s := range c.Streams {
		if s.Stream.Name == "" {
			return nil, fail("streams[%d] has no stream.name", i)
		}
		switch s.SyncMode {
		case FullRefresh, Incremental:
		default:
			return nil, fail("stream %q has sync_mode %q; use \"full_refresh\" or \"incremental\"", s.Stream.Name, s.SyncMode)
		}
		switch s.DestinationSyncMode {
		case Append, Overwrite, AppendDedup, Update, SoftDelete, "":
		default:
			return nil, fail("stream %q has destination_sync_mode %q; use append, overwrite or append_dedup", s.Stream.Name, s.DestinationSyncMode)
		}
	}
	return &c, nil
}

func describeDecodeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			return fmt.Sprintf("the document is a JSON %s where an object was expected", te.Value)
		}
		return fmt.Sprintf("field %q is a JSON %s, expected %s", field, te.Value, goTypeName(te.Type.String()))
	}
	return err.Error()
}

func goTypeName(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case t == "string" || strings.HasSuffix(t, "Mode") || strings.HasSuffix(t, "Type"):
		return "a string"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	default:
		return "an object"
	}
}

// InputState is the state the platform passes with --state, indexed by stream.
type InputState struct {
	exact  map[StreamDescriptor]json.RawMessage
	byName map[string]json.RawMessage
	// fromOutput counts the STATE messages of a read's output the state was taken from; 0 when
	// the file was a state document.
	fromOutput int
}

// Get returns a stream's state blob: the entry with the same name and namespace, else the
// one with the same name (CAT sends descriptors without a namespace). A null blob means the
// stream was reset and counts as no state.
func (s *InputState) Get(d StreamDescriptor) (json.RawMessage, bool) {
	if s == nil {
		return nil, false
	}
	if b, ok := s.exact[d]; ok {
		return b, true
	}
	b, ok := s.byName[d.Name]
	return b, ok
}

// Len returns how many streams have state.
func (s *InputState) Len() int {
	if s == nil {
		return 0
	}
	return len(s.exact)
}

// FromReadOutput reports whether the state was taken from the output of a read (lines of Airbyte
// messages) and how many STATE messages that output held, so that the caller can say so.
func (s *InputState) FromReadOutput() (stateMessages int, ok bool) {
	if s == nil {
		return 0, false
	}
	return s.fromOutput, s.fromOutput > 0
}

// ParseState reads the --state document. Accepted: an empty document, null, [], {}, an array of
// state messages (STREAM, GLOBAL and LEGACY entries, typed or not), one state message, a bare
// legacy object keyed by stream name, and the output of a read (one Airbyte message a line, of
// which the last STATE of each stream is used). A document naming the same stream twice with
// different states is refused: which one was meant cannot be known.
func ParseState(path string, data []byte) (*InputState, error) {
	st := &InputState{exact: map[StreamDescriptor]json.RawMessage{}, byName: map[string]json.RawMessage{}}
	fail := func(format string, a ...any) error {
		return &FileError{Kind: "state", Path: path, Problem: fmt.Sprintf(format, a...)}
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return st, nil
	}
	var entries []json.RawMessage
	switch data[0] {
	case '[':
		if err := json.Unmarshal(data, &entries); err != nil {
			return nil, fail("is not an array of state messages: %s", describeDecodeError(err))
		}
	case '{':
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(data, &probe); err != nil {
			if jsonLines(data) {
				return st, st.fromMessages(data, fail)
			}
			return nil, fail("is not a state object: %s", describeDecodeError(err))
		}
		switch {
		case isAirbyteMessage(probe):
			return st, st.fromMessages(data, fail) // one line of a read's output
		case isStateMessage(probe):
			entries = []json.RawMessage{data}
		default:
			st.addLegacy(probe)
			return st, nil
		}
	default:
		return nil, fail("must be a JSON array of state messages (or an object), not %s", jsonKind(data))
	}
	type origin struct {
		entry int
		state json.RawMessage
	}
	first := map[StreamDescriptor]origin{} // the entry that named each stream first, and its state
	for i, e := range entries {
		var m StateMessage
		if err := json.Unmarshal(e, &m); err != nil {
			return nil, fail("entry %d is not a state message: %s", i, describeDecodeError(err))
		}
		streams, err := st.addMessage(&m)
		if err != nil {
			return nil, fail("entry %d %s", i, err)
		}
		for _, ss := range streams {
			o, dup := first[ss.StreamDescriptor]
			if !dup {
				first[ss.StreamDescriptor] = origin{i, ss.StreamState}
				continue
			}
			if !sameJSON(o.state, ss.StreamState) {
				where := fmt.Sprintf("in entries %d and %d", o.entry, i)
				if o.entry == i {
					where = fmt.Sprintf("in entry %d", i)
				}
				return nil, fail("names stream %s twice, %s, with different states; keep one entry per stream (the last state a read wrote for it)",
					describeStream(ss.StreamDescriptor), where)
			}
		}
	}
	return st, nil
}

// addMessage adds the states of one state message and returns the per-stream states it held, a
// LEGACY message's included (its keys cannot repeat within it, but another entry may name the same
// stream). The error completes "entry N ".
func (s *InputState) addMessage(m *StateMessage) ([]StreamState, error) {
	switch {
	case m.Type == StateStream || (m.Type == "" && m.Stream != nil):
		if m.Stream == nil {
			return nil, errors.New(`has type STREAM but no "stream" object`)
		}
		s.add(m.Stream.StreamDescriptor, m.Stream.StreamState)
		return []StreamState{*m.Stream}, nil
	case m.Type == StateGlobal || (m.Type == "" && m.Global != nil):
		if m.Global == nil {
			return nil, errors.New(`has type GLOBAL but no "global" object`)
		}
		for _, ss := range m.Global.StreamStates {
			s.add(ss.StreamDescriptor, ss.StreamState)
		}
		return m.Global.StreamStates, nil
	case m.Type == StateLegacy || (m.Type == "" && m.Data != nil):
		// Without a usable "data" the entry would be ignored and every stream read again from
		// start_datetime, as a STREAM entry without its "stream" would: refused the same way.
		var legacy map[string]json.RawMessage
		if len(m.Data) == 0 || string(m.Data) == "null" {
			return nil, errors.New(`has type LEGACY but no "data" object; a legacy state holds each stream's state under "data", ` +
				`as {"type":"LEGACY","data":{"daily_sleep":{"cursor":"2024-01-31"}}}`)
		}
		if err := json.Unmarshal(m.Data, &legacy); err != nil {
			return nil, errors.New(`has legacy "data" that is not an object of stream names`)
		}
		for name, blob := range legacy {
			if b := bytes.TrimSpace(blob); len(b) == 0 || (b[0] != '{' && string(b) != "null") {
				return nil, fmt.Errorf(`has legacy "data" whose %q is not a stream's state object; "data" maps each stream's name to its state, `+
					`as {"daily_sleep":{"cursor":"2024-01-31"}}`, truncateKey(name))
			}
		}
		s.addLegacy(legacy)
		out := make([]StreamState, 0, len(legacy))
		for _, name := range slices.Sorted(maps.Keys(legacy)) {
			out = append(out, StreamState{StreamDescriptor: StreamDescriptor{Name: name}, StreamState: legacy[name]})
		}
		return out, nil
	}
	return nil, fmt.Errorf(`has type %q; expected STREAM, GLOBAL or LEGACY with a "stream", "global" or "data" object`, m.Type)
}

// fromMessages takes the state from the output of a read, one Airbyte message a line: the last
// STATE message of each stream, the last GLOBAL and the last LEGACY one, as the platform would
// have kept them. Other messages, and JSON lines that are not messages, are skipped; ReadJSONFile
// has already refused a line that is not JSON. A STATE message that cannot be read is an error
// naming its line, and so is an output without any STATE message.
func (s *InputState) fromMessages(data []byte, fail func(string, ...any) error) error {
	type stateLine struct {
		line int
		msg  StateMessage
	}
	var (
		last           = map[StreamDescriptor]stateLine{}
		order          []StreamDescriptor
		global, legacy *stateLine
		count          int
		others         messageTally
	)
	err := eachMessage(data, 0, func(n int, m *lineMessage) error {
		if m.Type != TypeState {
			others.add(m.Type)
			return nil
		}
		sl := stateLine{line: n}
		if err := json.Unmarshal(m.State, &sl.msg); err != nil || len(m.State) == 0 || m.State[0] != '{' {
			return fail("line %d is a STATE message whose state is not a state message object", n)
		}
		count++
		switch {
		case sl.msg.Type == StateStream || (sl.msg.Type == "" && sl.msg.Stream != nil):
			if sl.msg.Stream == nil {
				return fail(`line %d is a STATE message of type STREAM but no "stream" object`, n)
			}
			d := sl.msg.Stream.StreamDescriptor
			if _, ok := last[d]; !ok {
				order = append(order, d)
			}
			last[d] = sl
		case sl.msg.Type == StateGlobal || (sl.msg.Type == "" && sl.msg.Global != nil):
			global = &sl
		default:
			legacy = &sl
		}
		return nil
	})
	if err != nil {
		return err
	}
	if count == 0 {
		if others.empty() {
			return fail("has no Airbyte message with a \"type\"; pass the state messages a read wrote, or leave out --state")
		}
		return fail("holds Airbyte messages (%s) but no STATE message; pass the output of a read that wrote states, or leave out --state to read from start_datetime",
			others)
	}
	// GLOBAL and LEGACY first, so that a stream's own STATE, the more precise, wins.
	for _, sl := range []*stateLine{global, legacy} {
		if sl == nil {
			continue
		}
		if _, err := s.addMessage(&sl.msg); err != nil {
			return fail("line %d is a STATE message that %s", sl.line, err)
		}
	}
	for _, d := range order {
		sl := last[d]
		if _, err := s.addMessage(&sl.msg); err != nil {
			return fail("line %d is a STATE message that %s", sl.line, err)
		}
	}
	s.fromOutput = count
	return nil
}

// maxNamedTypes bounds how many message types an error about a read's output lists.
const maxNamedTypes = 10

// sameJSON reports whether two JSON values are the same bytes once spaces are dropped.
func sameJSON(a, b json.RawMessage) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// describeStream names a stream for a message: its name, quoted, and its namespace if any.
func describeStream(d StreamDescriptor) string {
	if d.Namespace == "" {
		return strconv.Quote(truncateKey(d.Name))
	}
	return strconv.Quote(truncateKey(d.Name)) + " (namespace " + strconv.Quote(truncateKey(d.Namespace)) + ")"
}

func isStateMessage(obj map[string]json.RawMessage) bool {
	_, t := obj["type"]
	_, s := obj["stream"]
	_, g := obj["global"]
	return t || s || g
}

// isAirbyteMessage reports whether obj is an Airbyte message envelope (a line a command printed)
// rather than a state message: its "type" is a message type, such as STATE or LOG.
func isAirbyteMessage(obj map[string]json.RawMessage) bool {
	var t MessageType
	if json.Unmarshal(obj["type"], &t) != nil {
		return false
	}
	switch t {
	case TypeRecord, TypeState, TypeLog, TypeSpec, TypeConnectionStatus, TypeCatalog, TypeTrace, TypeControl:
		return true
	}
	return false
}

func (s *InputState) add(d StreamDescriptor, blob json.RawMessage) {
	if len(blob) == 0 || string(blob) == "null" {
		return
	}
	s.exact[d] = blob
	if _, ok := s.byName[d.Name]; !ok || d.Namespace == "" {
		s.byName[d.Name] = blob
	}
}

func (s *InputState) addLegacy(m map[string]json.RawMessage) {
	for name, blob := range m {
		s.add(StreamDescriptor{Name: name}, blob)
	}
}

func jsonKind(data []byte) string {
	switch data[0] {
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// catalogAdvice ends every error about the shape of a --catalog file: what the connector accepts.
const catalogAdvice = "pass a configured catalog, the output of discover (as is, or its catalog), or leave out --catalog to read every stream"

// maxCatalogLines bounds how many lines of a discover output are looked at for the CATALOG message.
// discover writes one catalog and a few logs; the 16 MiB file bound caps the bytes.
const maxCatalogLines = 10000

// ParseAnyCatalog decodes --catalog in any of the shapes a person may hold: a configured catalog (checked
// by ParseCatalog), the bare catalog from discover ({"streams":[{"name":…,"json_schema":…}]}), or the raw
// output of discover (lines of messages, of which the CATALOG one is used and the others ignored). For the
// last two, which say nothing of sync modes, each stream gets incremental + append_dedup when
// incremental(name) says the stream supports it, else full_refresh + overwrite, and chosen is true.
// Any other shape is a *FileError that says what the file looked like and what to pass.
func ParseAnyCatalog(path string, data []byte, incremental func(name string) bool) (c *ConfiguredCatalog, chosen bool, err error) {
	fail := func(format string, a ...any) error {
		return &FileError{Kind: "catalog", Path: path, Problem: fmt.Sprintf(format, a...) + "; " + catalogAdvice}
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, false, fail("is empty")
	}
	var top map[string]json.RawMessage
	if data[0] != '{' || json.Unmarshal(data, &top) != nil {
		if data[0] == '{' && jsonLines(data) {
			cat, err := catalogFromMessages(data, fail)
			if err != nil {
				return nil, false, err
			}
			c, err := configure(cat, incremental, fail)
			return c, err == nil, err
		}
		if data[0] == '[' {
			return nil, false, fail("is a JSON array, not a catalog object")
		}
		return nil, false, fail("is not a JSON object")
	}
	if _, ok := top["type"]; ok {
		cat, err := catalogFromMessages(data, fail)
		if err != nil {
			return nil, false, err
		}
		c, err := configure(cat, incremental, fail)
		return c, err == nil, err
	}
	raw, ok := top["streams"]
	if !ok {
		return nil, false, fail("is a JSON object with %s but no \"streams\"", describeKeys(top))
	}
	var elems []map[string]json.RawMessage
	if json.Unmarshal(raw, &elems) != nil || len(elems) == 0 {
		c, err := ParseCatalog(path, data) // its errors say what is wrong with "streams"
		return c, false, err
	}
	_, configured := elems[0]["stream"]
	_, bare := elems[0]["name"]
	switch {
	case configured:
		c, err := ParseCatalog(path, data)
		return c, false, err
	case bare:
		var cat Catalog
		if err := json.Unmarshal(data, &cat); err != nil {
			return nil, false, fail("looks like a catalog from discover but %s", describeDecodeError(err))
		}
		c, err := configure(&cat, incremental, fail)
		return c, err == nil, err
	}
	return nil, false, fail(`streams[0] has neither "stream" (as in a configured catalog) nor "name" (as in a catalog from discover)`)
}

// catalogFromMessages finds the first CATALOG message among lines of Airbyte messages. Lines that are not
// messages are ignored, like the other message types; the error lists the types that were there instead.
func catalogFromMessages(data []byte, fail func(string, ...any) error) (*Catalog, error) {
	var others messageTally
	var cat *Catalog
	err := eachMessage(data, maxCatalogLines, func(_ int, m *lineMessage) error {
		if m.Type != TypeCatalog {
			others.add(m.Type)
			return nil
		}
		cat = &Catalog{}
		if err := json.Unmarshal(m.Catalog, cat); err != nil {
			return fail("has a CATALOG message whose catalog %s", describeDecodeError(err))
		}
		return errFound
	})
	switch {
	case err == errFound:
		return cat, nil
	case err != nil:
		return nil, err
	case others.empty():
		return nil, fail("has no Airbyte message with a \"type\"")
	}
	return nil, fail("holds Airbyte messages (%s) but no CATALOG message", others)
}

// lineMessage is what the walks over a file of Airbyte messages read of each line.
type lineMessage struct {
	Type    MessageType     `json:"type"`
	State   json.RawMessage `json:"state"`
	Catalog json.RawMessage `json:"catalog"`
}

// errFound ends an eachMessage walk early without an error.
var errFound = errors.New("found")

// eachMessage calls fn with the line number and the message of every line of data that is an
// Airbyte message (a JSON object with a "type"), in order, until fn returns an error, which it
// returns. Other lines are skipped. maxLines, when above 0, bounds the non-empty lines looked at;
// without it, the input file's size bounds the walk.
func eachMessage(data []byte, maxLines int, fn func(n int, m *lineMessage) error) error {
	looked := 0
	for n := 1; len(data) > 0 && (maxLines <= 0 || looked < maxLines); n++ {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		looked++
		var m lineMessage
		if line[0] != '{' || json.Unmarshal(line, &m) != nil || m.Type == "" {
			continue
		}
		if err := fn(n, &m); err != nil {
			return err
		}
	}
	return nil
}

// messageTally counts the types of the messages a file held instead of the one looked for, so
// that the error can say what the file was.
type messageTally struct {
	counts map[MessageType]int
	order  []MessageType
}

func (t *messageTally) add(typ MessageType) {
	if t.counts[typ] == 0 {
		if len(t.order) == maxNamedTypes {
			return // enough kinds to say what the file holds
		}
		t.order = append(t.order, typ)
	}
	if t.counts == nil {
		t.counts = map[MessageType]int{}
	}
	t.counts[typ]++
}

func (t *messageTally) empty() bool { return len(t.order) == 0 }

// String lists the counts in the order the types first came: "1 CATALOG, 3 LOG".
func (t messageTally) String() string {
	kinds := make([]string, len(t.order))
	for i, typ := range t.order {
		kinds[i] = fmt.Sprintf("%d %s", t.counts[typ], truncateKey(string(typ)))
	}
	return strings.Join(kinds, ", ")
}

// configure turns a catalog from discover into a configured one, choosing each stream's modes.
func configure(cat *Catalog, incremental func(string) bool, fail func(string, ...any) error) (*ConfiguredCatalog, error) {
	if len(cat.Streams) == 0 {
		return nil, fail("holds a catalog with no streams")
	}
	c := &ConfiguredCatalog{Streams: make([]ConfiguredStream, 0, len(cat.Streams))}
	for i, s := range cat.Streams {
		if s.Name == "" {
			return nil, fail("streams[%d] of the catalog has no name", i)
		}
		cs := ConfiguredStream{Stream: s, SyncMode: FullRefresh, DestinationSyncMode: Overwrite}
		if incremental != nil && incremental(s.Name) {
			cs.SyncMode, cs.DestinationSyncMode = Incremental, AppendDedup
		}
		c.Streams = append(c.Streams, cs)
	}
	return c, nil
}

// jsonLines reports whether data is more than one line and every non-blank line is valid JSON, the way
// the commands print messages.
func jsonLines(data []byte) bool {
	n := 0
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			return false
		}
		n++
	}
	return n > 1
}

// describeKeys lists up to five of an object's keys, sorted, for an error message.
func describeKeys(obj map[string]json.RawMessage) string {
	if len(obj) == 0 {
		return "no keys"
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	more := ""
	if len(keys) > 5 {
		more = fmt.Sprintf(" and %d more", len(keys)-5)
		keys = keys[:5]
	}
	for i, k := range keys {
		keys[i] = strconv.Quote(truncateKey(k))
	}
	return "keys " + strings.Join(keys, ", ") + more
}

func truncateKey(k string) string {
	if len(k) <= 40 {
		return k
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(k[cut]) {
		cut--
	}
	return k[:cut] + "…"
}

// Streams lists the streams that have state, sorted by name then namespace, so that a caller can say which
// of them it will not use.
func (s *InputState) Streams() []StreamDescriptor {
	if s == nil {
		return nil
	}
	out := make([]StreamDescriptor, 0, len(s.exact))
	for d := range s.exact {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Namespace < out[j].Namespace
	})
	return out
}
