package ouraemu

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// docWriter appends compact JSON with fields in the order they are written. The generator
// writes every document through it because the API's field order and number style (floats
// always with a decimal point, never an exponent) matter to byte-level comparisons, and
// because it is several times faster than reflection for half a million rows.
type docWriter struct {
	b []byte
	// more is set once a value is written at the current level: the next needs a comma.
	more bool
}

func (w *docWriter) sep() {
	if w.more {
		w.b = append(w.b, ',')
	}
	w.more = true
}

func (w *docWriter) key(k string) {
	w.sep()
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

// begin opens an object as the next array element or top-level value.
func (w *docWriter) begin() {
	w.sep()
	w.b = append(w.b, '{')
	w.more = false
}

// obj opens an object under key k.
func (w *docWriter) obj(k string) {
	w.key(k)
	w.b = append(w.b, '{')
	w.more = false
}

func (w *docWriter) end() {
	w.b = append(w.b, '}')
	w.more = true
}

// arr opens an array under key k.
func (w *docWriter) arr(k string) {
	w.key(k)
	w.b = append(w.b, '[')
	w.more = false
}

func (w *docWriter) endArr() {
	w.b = append(w.b, ']')
	w.more = true
}

func (w *docWriter) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
}

func (w *docWriter) int(k string, v int) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, int64(v), 10)
}

func (w *docWriter) intp(k string, v *int) {
	if v == nil {
		w.null(k)
		return
	}
	w.int(k, *v)
}

func (w *docWriter) num(k string, v float64) {
	w.key(k)
	w.b = appendDecimal(w.b, v)
}

func (w *docWriter) nump(k string, v *float64) {
	if v == nil {
		w.null(k)
		return
	}
	w.num(k, *v)
}

func (w *docWriter) str(k, v string) {
	w.key(k)
	w.b = appendQuoted(w.b, v)
}

func (w *docWriter) strp(k string, v *string) {
	if v == nil {
		w.null(k)
		return
	}
	w.str(k, *v)
}

func (w *docWriter) boolean(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

// strs writes an array of strings; nil is written as [] because the models' arrays are
// never nullable.
func (w *docWriter) strs(k string, v []string) {
	w.arr(k)
	for _, s := range v {
		w.sep()
		w.b = appendQuoted(w.b, s)
	}
	w.endArr()
}

// appendDecimal writes a JSON number the way the API's Python encoder does for floats:
// shortest form, always with a fractional part (60.0, 0.13), never with an exponent.
// NaN and infinities have no JSON form and are written as null.
func appendDecimal(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	if v == 0 {
		return append(b, "0.0"...)
	}
	// Fast path for the many one-decimal values (MET, bpm): exact tenths print as such.
	if a := math.Abs(v); a < 1e9 {
		if k := math.Round(v * 10); k/10 == v {
			ki := int64(k)
			if ki < 0 {
				b = append(b, '-')
				ki = -ki
			}
			b = strconv.AppendInt(b, ki/10, 10)
			return append(b, '.', byte('0'+ki%10))
		}
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, 'f', -1, 64)
	for _, c := range b[start:] {
		if c == '.' {
			return b
		}
	}
	return append(b, '.', '0')
}

// appendQuoted writes a JSON string, escaping what JSON requires.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

func append2(b []byte, v int64) []byte {
	return append(b, byte('0'+v/10), byte('0'+v%10))
}

// appendDay writes a day number as YYYY-MM-DD.
func appendDay(b []byte, day int64) []byte {
	y, m, d := civilFromDays(day)
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append2(b, m)
	b = append(b, '-')
	return append2(b, d)
}

// appendWall writes wall-clock seconds as YYYY-MM-DDTHH:MM:SS.
func appendWall(b []byte, wall int64) []byte {
	day := floorDiv(wall, secondsPerDay)
	s := wall - day*secondsPerDay
	b = appendDay(b, day)
	b = append(b, 'T')
	b = append2(b, s/3600)
	b = append(b, ':')
	b = append2(b, s/60%60)
	b = append(b, ':')
	return append2(b, s%60)
}

// appendOffset writes +HH:MM.
func appendOffset(b []byte, off int64) []byte {
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = append2(b, off/3600)
	b = append(b, ':')
	return append2(b, off/60%60)
}

// appendLocalized writes an instant as local time with its offset, optionally with
// milliseconds as the API's sample series do: 2024-11-11T04:00:00.000+02:00.
func appendLocalized(b []byte, unix, off int64, millis bool) []byte {
	b = appendWall(b, unix+off)
	if millis {
		b = append(b, ".000"...)
	}
	return appendOffset(b, off)
}

// dayString formats a day number as YYYY-MM-DD.
func dayString(day int64) string {
	return string(appendDay(make([]byte, 0, 10), day))
}

// wallString formats wall-clock seconds without an offset (the spec's LocalDateTime).
func wallString(wall int64) string {
	return string(appendWall(make([]byte, 0, 19), wall))
}

// localizedString formats an instant with the offset in force (the spec's LocalizedDateTime).
func localizedString(unix, off int64, millis bool) string {
	return string(appendLocalized(make([]byte, 0, 29), unix, off, millis))
}

// utcString formats an instant as the spec's UtcDateTime: 2024-12-13T12:31:21+00:00.
func utcString(unix int64) string {
	return string(appendLocalized(make([]byte, 0, 25), unix, 0, false))
}

// nullFloats is a PublicSample's items: NaN stands for null.
type nullFloats []float64

// UnmarshalJSON reads numbers and nulls; Revise needs it to decode stored documents.
func (n *nullFloats) UnmarshalJSON(data []byte) error {
	var raw []*float64
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("decoding sample items: %w", err)
	}
	out := make(nullFloats, len(raw))
	for i, p := range raw {
		if p == nil {
			out[i] = math.NaN()
		} else {
			out[i] = *p
		}
	}
	*n = out
	return nil
}

// publicSample is the spec's PublicSample: a series of values at a fixed interval.
type publicSample struct {
	Interval  float64    `json:"interval"`
	Items     nullFloats `json:"items"`
	Timestamp string     `json:"timestamp"`
}

func (s *publicSample) write(w *docWriter, k string) {
	if s == nil {
		w.null(k)
		return
	}
	w.obj(k)
	w.num("interval", s.Interval)
	w.arr("items")
	for _, v := range s.Items {
		w.sep()
		w.b = appendDecimal(w.b, v)
	}
	w.endArr()
	w.str("timestamp", s.Timestamp)
	w.end()
}
