package schemas

import "source-oura/internal/jsonscan"

// DateTimeRe lets the external tests compare jsonscan's hand-written date-time check with the
// pattern jsonschema/v5 is given, without exporting the pattern from the package.
var DateTimeRe = dateTimeRe

// CheckRaw validates one record in its raw bytes as the reader does (jsonscan, then Explain for a
// record that fails) and returns its top-level string value of cursorField ("" if none) and the
// failing field paths (none if valid). Only tests need the two steps in one call.
func (v *Validator) CheckRaw(stream string, raw []byte, cursorField string) (cursor string, failures []string) {
	res, err := jsonscan.Check(raw, v.fast[stream], cursorField)
	if err != nil {
		return "", []string{"/: " + err.Error()}
	}
	return res.Cursor, v.Explain(stream, raw, res)
}
