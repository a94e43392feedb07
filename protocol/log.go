package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
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
func (s logSink) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	msg := renderEvent(p)
	if err := s.w.Log(levelOf(l), msg); err != nil {
		return 0, err
	}
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
			b, _ := json.Marshal(x)
			return string(b)
		}
		return x
	case json.Number:
		return x.String()
	case nil:
		return "null"
	case bool, float64:
		return fmt.Sprint(x)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
