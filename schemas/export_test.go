package schemas

// DateTimeRe lets the external tests compare jsonscan's hand-written date-time check with the
// pattern jsonschema/v5 is given, without exporting the pattern from the package.
var DateTimeRe = dateTimeRe
