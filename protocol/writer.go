package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// Writer owns stdout: every message the connector sends goes through it, one compact JSON
// object per line. It is safe for concurrent use; each message is written under one lock,
// so lines never interleave. Output is buffered; records stay in the buffer while every
// other message flushes it, so a STATE line never sits behind in memory while the platform
// waits for it. The first write error sticks and is returned by every later call.
type Writer struct {
	mu   sync.Mutex
	out  *bufio.Writer
	err  error
	mask *Masker
	now  func() time.Time
	buf  []byte // scratch for the record fast path, guarded by mu
}

// NewWriter returns a Writer on w that masks secrets with m (nil masks nothing).
func NewWriter(w io.Writer, m *Masker) *Writer {
	if m == nil {
		m = NewMasker()
	}
	return &Writer{out: bufio.NewWriterSize(w, 256<<10), mask: m, now: time.Now}
}

// Masker returns the secret masker the Writer applies to logs, traces and statuses.
func (w *Writer) Masker() *Masker { return w.mask }

// SetClock replaces the wall clock used for emitted_at (tests only need it).
func (w *Writer) SetClock(now func() time.Time) { w.now = now }

// Now returns the writer's clock in epoch milliseconds.
func (w *Writer) Now() int64 { return w.now().UnixMilli() }

// Err returns the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = w.out.Flush()
	}
	return w.err
}

// Write sends one message. Free text in LOG, TRACE ERROR and CONNECTION_STATUS messages is
// masked first; CONTROL messages are not, because they carry the config for the platform to
// store, secrets included.
func (w *Writer) Write(m *Message) error {
	w.maskMessage(m)
	// Not json.Marshal: it writes < > & as \u003c \u003e \u0026, which a person reading a
	// message by hand ("Oura said \"<html>…\"") cannot read. JSON does not need the escapes.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("encoding %s message: %w", m.Type, err)
	}
	line := bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if _, w.err = w.out.Write(line); w.err == nil {
		if w.err = w.out.WriteByte('\n'); w.err == nil {
			w.err = w.out.Flush()
		}
	}
	return w.err
}

func (w *Writer) maskMessage(m *Message) {
	if m.Log != nil {
		m.Log.Message = w.mask.Mask(m.Log.Message)
		m.Log.StackTrace = w.mask.Mask(m.Log.StackTrace)
	}
	if m.ConnectionStatus != nil {
		m.ConnectionStatus.Message = w.mask.Mask(m.ConnectionStatus.Message)
	}
	if m.Trace != nil && m.Trace.Error != nil {
		e := m.Trace.Error
		e.Message = w.mask.Mask(e.Message)
		e.InternalMessage = w.mask.Mask(e.InternalMessage)
		e.StackTrace = w.mask.Mask(e.StackTrace)
	}
}

// RecordPrefix is the start of a RECORD line for one stream, built once per stream so that
// writing a record costs no JSON encoding.
type RecordPrefix struct {
	head []byte // the line up to and including "data":
	// account is `{"<column>":"<value>"`, the data object's first member, or nil for none.
	account []byte
}

// AccountColumn is a column written as the first member of every record's data, so that the
// records of several accounts can share one table. The zero value writes no column.
type AccountColumn struct {
	Name  string // the column's name; "" for no column
	Value string // the account it names, written as a JSON string
}

// NewRecordPrefix builds the line prefix for records of stream (namespace may be "").
func NewRecordPrefix(stream, namespace string) RecordPrefix {
	var b bytes.Buffer
	b.WriteString(`{"type":"RECORD","record":{"stream":`)
	b.Write(quote(stream))
	if namespace != "" {
		b.WriteString(`,"namespace":`)
		b.Write(quote(namespace))
	}
	b.WriteString(`,"data":`)
	return RecordPrefix{head: b.Bytes()}
}

// WithAccount returns the prefix that also writes the account column as the first member of
// each record's data; the zero AccountColumn returns p as it is. The column is spliced in
// front of the record's bytes rather than re-encoded with them, so the rest of each record
// stays byte for byte what Oura sent, and writing it still costs no JSON encoding.
func (p RecordPrefix) WithAccount(a AccountColumn) RecordPrefix {
	if a.Name == "" {
		return p
	}
	acc := append([]byte{'{'}, quote(a.Name)...)
	acc = append(acc, ':')
	// quote writes invalid UTF-8 as U+FFFD, so the value is always a valid JSON string.
	p.account = append(acc, quote(a.Value)...)
	return p
}

func quote(s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return q
}

// isSpace reports JSON's insignificant whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Record writes one RECORD whose data are the given bytes, unchanged except that
// insignificant whitespace is removed if the bytes span lines (a message must fit on one
// line). With an account column (RecordPrefix.WithAccount) the data must be a JSON object:
// the column becomes its first member and the bytes after its opening brace follow as they
// are. emitted_at is taken now, at emission.
func (w *Writer) Record(prefix RecordPrefix, data []byte) error {
	if bytes.IndexByte(data, '\n') >= 0 || bytes.IndexByte(data, '\r') >= 0 {
		var c bytes.Buffer
		if err := json.Compact(&c, data); err != nil {
			return fmt.Errorf("record is not valid JSON: %w", err)
		}
		data = c.Bytes()
	}
	var rest []byte // with an account: what follows the column
	if prefix.account != nil {
		i := 0
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		if i == len(data) || data[i] != '{' {
			return errors.New("record is not a JSON object, so it cannot carry the account column")
		}
		for i++; i < len(data) && isSpace(data[i]); i++ {
		}
		if i == len(data) {
			return errors.New("record is a cut-off JSON object, so it cannot carry the account column")
		}
		rest = data[i:]
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	b := append(w.buf[:0], prefix.head...)
	if prefix.account != nil {
		b = append(b, prefix.account...)
		if rest[0] != '}' {
			// A member follows: separate it from the column. An empty object ({}, { }) keeps
			// its closing brace right after the column.
			b = append(b, ',')
		}
		b = append(b, rest...)
	} else {
		b = append(b, data...)
	}
	b = append(b, `,"emitted_at":`...)
	b = strconv.AppendInt(b, w.now().UnixMilli(), 10)
	b = append(b, "}}\n"...)
	w.buf = b
	_, w.err = w.out.Write(b)
	return w.err
}

// State emits a STREAM state for one stream with the number of records sent for it since
// its previous state.
func (w *Writer) State(d StreamDescriptor, blob json.RawMessage, records int64) error {
	return w.Write(&Message{Type: TypeState, State: &StateMessage{
		Type:        StateStream,
		Stream:      &StreamState{StreamDescriptor: d, StreamState: blob},
		SourceStats: &StateStats{RecordCount: float64(records)},
	}})
}

// Log emits a LOG message.
func (w *Writer) Log(level Level, msg string) error {
	return w.Write(&Message{Type: TypeLog, Log: &LogMessage{Level: level, Message: msg}})
}

// Error emits a TRACE ERROR. stream may be nil for errors that concern the whole sync.
func (w *Writer) Error(ft FailureType, msg, internal string, stream *StreamDescriptor) error {
	return w.Write(&Message{Type: TypeTrace, Trace: &Trace{
		Type:      TraceError,
		EmittedAt: w.Now(),
		Error: &ErrorTrace{
			Message:          msg,
			InternalMessage:  internal,
			FailureType:      ft,
			StreamDescriptor: stream,
		},
	}})
}

// Status emits a STREAM_STATUS trace.
func (w *Writer) Status(d StreamDescriptor, s StreamStatusValue, reasons ...StreamStatusReason) error {
	return w.Write(&Message{Type: TypeTrace, Trace: &Trace{
		Type:         TraceStreamStatus,
		EmittedAt:    w.Now(),
		StreamStatus: &StreamStatus{StreamDescriptor: d, Status: s, Reasons: reasons},
	}})
}

// ConnectionStatus emits the outcome of check.
func (w *Writer) ConnectionStatus(s Status, msg string) error {
	return w.Write(&Message{Type: TypeConnectionStatus, ConnectionStatus: &ConnectionStatus{Status: s, Message: msg}})
}

// ControlConfig emits a CONNECTOR_CONFIG control message carrying the whole updated config.
func (w *Writer) ControlConfig(config json.RawMessage) error {
	return w.Write(&Message{Type: TypeControl, Control: &Control{
		Type:            ControlConnectorConfig,
		EmittedAt:       w.Now(),
		ConnectorConfig: &ConnectorConfig{Config: config},
	}})
}
