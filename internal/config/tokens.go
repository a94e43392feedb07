package config

import (
	"fmt"
	"strings"
	"unicode"
)

// Secret fields are checked for paste slips before anything sends them. A token with a line
// break or a NUL makes net/http refuse the Authorization header, which the client can only
// report as Oura being unreachable (86 s of retries, then a transient_error); an invisible
// character gets a 401 that sends the user to redo OAuth. Neither is ever part of a token.
// The messages name the field and the character's code point, never the value.

// cleanSecret checks one secret field and returns its value without surrounding spaces. field
// is its dotted path; redo says how to get the value again. trimmed is where the field is
// recorded when spaces were removed, for Warnings.
func cleanSecret(field, value, redo string, trimmed *[]string) (string, error) {
	if i := strings.IndexFunc(value, isBreakOrControl); i >= 0 {
		r := []rune(value[i:])[0]
		return "", &Error{Field: field, Problem: fmt.Sprintf("contains a line break or other control character (U+%04X); %s without it", r, redo)}
	}
	if i := strings.IndexFunc(value, isInvisible); i >= 0 {
		r := []rune(value[i:])[0]
		return "", &Error{Field: field, Problem: fmt.Sprintf("contains an invisible character (U+%04X); %s without it", r, redo)}
	}
	// Spaces around a token are a paste slip too (no token starts or ends with one), and
	// configs with them have always worked with an API key, since Oura ignores spaces around a
	// header value. They are removed, with a warning, rather than refused: refusing would break
	// those configs, and a refresh token or client secret sent with them in a form body fails.
	if t := strings.TrimSpace(value); t != value && t != "" {
		*trimmed = append(*trimmed, field)
		return t, nil
	}
	return value, nil
}

// isBreakOrControl is true for C0 and C1 controls (tab, CR, LF, NUL, DEL, NEL included) and the
// Unicode line and paragraph separators.
func isBreakOrControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// isInvisible is true for the format characters (Unicode Cf) a copy from a web page or a chat
// brings along: zero-width spaces and joiners, the byte order mark, the soft hyphen.
func isInvisible(r rune) bool {
	return unicode.Is(unicode.Cf, r)
}

// Ways to get a secret again, for the messages of cleanSecret.
const (
	redoToken = "paste the token again"
	redoApp   = "copy it again from your Oura API application"
	redoLabel = "type the label again"
)

// trimWarning says which secret fields had spaces removed.
func trimWarning(fields []string) string {
	quoted := make([]string, len(fields))
	for i, f := range fields {
		quoted[i] = fmt.Sprintf("%q", f)
	}
	return fmt.Sprintf("%s had spaces before or after the value, which no token has; the connector removed them: remove them from the config too",
		strings.Join(quoted, ", "))
}
