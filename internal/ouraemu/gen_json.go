package ouraemu

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"sync"
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

// key starts the next value under key k; the empty key starts the next array element or
// top-level value.
func (w *docWriter) key(k string) {
	w.sep()
	if k == "" {
		return
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

// open starts an object ('{') or array ('[') under key k ("" for an array element or the
// top-level value).
func (w *docWriter) open(k string, c byte) {
	w.key(k)
	w.b = append(w.b, c)
	w.more = false
}

// close ends what open started: '}' or ']'.
func (w *docWriter) close(c byte) {
	w.b = append(w.b, c)
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

func (w *docWriter) num(k string, v float64) {
	w.key(k)
	w.b = appendDecimal(w.b, v)
}

func (w *docWriter) str(k, v string) {
	w.key(k)
	w.b = appendQuoted(w.b, v)
}

func (w *docWriter) boolean(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
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

// genModel is one of the models in gen_models.go: a pointer to a struct whose fields, in
// declaration order, are the document's fields in the API's order.
type genModel any

// encodeModel returns a model's compact JSON in a buffer of its own.
func encodeModel(w *docWriter, m genModel) []byte {
	w.b, w.more = w.b[:0], false
	v := reflect.ValueOf(m).Elem()
	p := planFor(v.Type())
	w.open("", '{')
	p.fields(w, v)
	w.close('}')
	return append(make([]byte, 0, len(w.b)), w.b...)
}

// valueWriter writes one value under key k.
type valueWriter func(w *docWriter, k string, v reflect.Value)

// structPlan is how one model type is written: its json names and a writer per field, worked
// out once from the declaration so the models list their fields in one place only. Writing
// through a plan costs a few reflect calls per field; the generator's bulk (heart rate and
// battery rows) does not go through models.
type structPlan struct {
	names   []string
	writers []valueWriter
}

func (p *structPlan) fields(w *docWriter, v reflect.Value) {
	for i, write := range p.writers {
		write(w, p.names[i], v.Field(i))
	}
}

// plans caches a *structPlan per model type.
var plans sync.Map

func planFor(t reflect.Type) *structPlan {
	if p, ok := plans.Load(t); ok {
		return p.(*structPlan)
	}
	p := &structPlan{}
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("json")
		if name == "" || name == "-" {
			// A model field without a json name has no place in the document: a mistake
			// in gen_models.go that TestJSONRoundTripsThroughTheModels meets at once.
			panic(fmt.Sprintf("ouraemu: model %s field %s has no json name", t, f.Name))
		}
		p.names = append(p.names, name)
		p.writers = append(p.writers, writerFor(f.Type))
	}
	actual, _ := plans.LoadOrStore(t, p)
	return actual.(*structPlan)
}

// writerFor returns the writer for a field type. Nil pointers are written as null and nil
// slices as [] because the models' arrays are never nullable; floats (nullFloats too, where
// NaN stands for null) go through appendDecimal like every number the API sends as a float.
func writerFor(t reflect.Type) valueWriter {
	switch t.Kind() {
	case reflect.String:
		return func(w *docWriter, k string, v reflect.Value) { w.str(k, v.String()) }
	case reflect.Int:
		return func(w *docWriter, k string, v reflect.Value) { w.int(k, int(v.Int())) }
	case reflect.Float64:
		return func(w *docWriter, k string, v reflect.Value) { w.num(k, v.Float()) }
	case reflect.Bool:
		return func(w *docWriter, k string, v reflect.Value) { w.boolean(k, v.Bool()) }
	case reflect.Pointer:
		elem := writerFor(t.Elem())
		return func(w *docWriter, k string, v reflect.Value) {
			if v.IsNil() {
				w.null(k)
				return
			}
			elem(w, k, v.Elem())
		}
	case reflect.Struct:
		p := planFor(t)
		return func(w *docWriter, k string, v reflect.Value) {
			w.open(k, '{')
			p.fields(w, v)
			w.close('}')
		}
	case reflect.Slice:
		// Elements are written with the empty key, which writes no key at all.
		elem := writerFor(t.Elem())
		return func(w *docWriter, k string, v reflect.Value) {
			w.open(k, '[')
			for i := range v.Len() {
				elem(w, "", v.Index(i))
			}
			w.close(']')
		}
	}
	panic(fmt.Sprintf("ouraemu: no JSON writer for model field type %s", t))
}
