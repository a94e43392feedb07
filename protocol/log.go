package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/rs/zerolog"
)

// NewLogger returns a zerolog logger whose every event becomes a LOG message on w. Debug
// events are dropped unless debug is set.
func NewLogger(w *Writer, debug bool) zerolog.Logger {
	level := zerolog.InfoLevel
	if debug {
		level = zerolog.DebugLevel
	}
	return zerolog.New(logSink{w}).Level(level)
}

// logSink turns zerolog's JSON events into LOG messages. It decodes the JSON zerolog just wrote
// because zerolog offers no other way to the fields: an Event appends each field straight to its
// byte buffer, a Hook sees only the level and the message, and zerolog's own ConsoleWriter decodes
// the JSON the same way. The decode costs little next to the network, and keeps zerolog's field order.
type logSink struct{ w *Writer }

func (s logSink) Write(p []byte) (int, error) {
	return s.WriteLevel(zerolog.NoLevel, p)
}

// WriteLevel renders the event as "message key=value ..." keeping zerolog's field order.
// A failed write is not returned: the Writer keeps its first error, and the command reports it
// once (cli.Run) when it ends; returned to zerolog, it would print a line on stderr per event.
func (s logSink) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	_ = s.w.Log(levelOf(l), renderEvent(p))
	return len(p), nil
}

// maxHeldBytes bounds the events a HeldLogs keeps; the rest are counted, not kept.
const maxHeldBytes = 1 << 20

// HeldLogs keeps log events back until the caller knows whether to write them (Release) or to
// say what they share in one line of its own (Drop): discover holds its sampler's per-stream
// WARNs until it knows whether they all failed for one cause. Safe for concurrent use.
type HeldLogs struct {
	mu      sync.Mutex
	events  []heldEvent
	size    int
	dropped int
}

type heldEvent struct {
	level zerolog.Level
	p     []byte
}

// Logger returns a logger whose events h keeps; debug events are dropped unless debug is set.
func (h *HeldLogs) Logger(debug bool) zerolog.Logger {
	level := zerolog.InfoLevel
	if debug {
		level = zerolog.DebugLevel
	}
	return zerolog.New(heldSink{h}).Level(level)
}

// Release writes the kept events to w as LOG messages, in the order they came, and forgets them.
func (h *HeldLogs) Release(w *Writer) {
	h.mu.Lock()
	events, dropped := h.events, h.dropped
	h.events, h.size, h.dropped = nil, 0, 0
	h.mu.Unlock()
	for _, e := range events {
		_, _ = logSink{w}.WriteLevel(e.level, e.p)
	}
	if dropped > 0 {
		_ = w.Log(LevelWarn, fmt.Sprintf("%d more log lines were left out: together they passed %d bytes", dropped, maxHeldBytes))
	}
}

// Drop forgets the kept events.
func (h *HeldLogs) Drop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events, h.size, h.dropped = nil, 0, 0
}

type heldSink struct{ h *HeldLogs }

func (s heldSink) Write(p []byte) (int, error) { return s.WriteLevel(zerolog.NoLevel, p) }

// WriteLevel copies the event: zerolog reuses its buffer once Write returns.
func (s heldSink) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if s.h.size+len(p) > maxHeldBytes {
		s.h.dropped++
		return len(p), nil
	}
	s.h.size += len(p)
	s.h.events = append(s.h.events, heldEvent{level: l, p: bytes.Clone(p)})
	return len(p), nil
}

func levelOf(l zerolog.Level) Level {
	switch l {
	case zerolog.TraceLevel:
		return LevelTrace
	case zerolog.DebugLevel:
		return LevelDebug
	case zerolog.WarnLevel:
		return LevelWarn
	case zerolog.ErrorLevel:
		return LevelError
	case zerolog.FatalLevel, zerolog.PanicLevel:
		return LevelFatal
	default:
		return LevelInfo
	}
}

// renderEvent turns {"level":"info","stream":"x","message":"done"} into `done stream=x`.
func renderEvent(p []byte) string {
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return strings.TrimSpace(string(p))
	}
	var msg string
	var fields []string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			break
		}
		key, _ := kt.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			break
		}
		switch key {
		case zerolog.LevelFieldName:
			continue
		case zerolog.MessageFieldName:
			msg, _ = v.(string)
			continue
		}
		fields = append(fields, key+"="+renderValue(v))
	}
	if len(fields) == 0 {
		return msg
	}
	if msg == "" {
		return strings.Join(fields, " ")
	}
	return msg + " " + strings.Join(fields, " ")
}

func renderValue(v any) string {
	switch x := v.(type) {
	case string:
		// Quoted when it would blur the key=value form, or carries a control character (a line
		// break in a field Oura sent must not split the message into lines a reader takes apart).
		if strings.ContainsFunc(x, func(r rune) bool { return r == ' ' || r == '"' || r == '=' || unicode.IsControl(r) }) {
			return marshalReadable(x)
		}
		return x
	case json.Number:
		return x.String()
	case nil:
		return "null"
	case bool, float64:
		return fmt.Sprint(x)
	default:
		return marshalReadable(x)
	}
}

// marshalReadable encodes v as JSON without json.Marshal's HTML escapes, so that a URL in a
// field reads a=1&b=2 rather than a=1\u0026b=2; LOG lines are for people, and JSON needs no escape.
func marshalReadable(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // decoded JSON values always encode
	return strings.TrimSuffix(b.String(), "\n")
}
