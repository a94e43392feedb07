package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Number literals are checked before anything reads their value. The schema validator turns
// every number into a big.Rat: it panics on 1e999999999 and spends seconds on a number with a
// million digits (the cost grows with the square of the length). No setting needs more than a
// few digits, so anything longer or with a larger exponent is refused in one linear pass.
const (
	maxNumberLen      = 40
	maxNumberExponent = 400
)

// checkNumbers walks a decoded document (numbers as json.Number) and refuses the first number
// literal that is too long or too large, naming its field. path is the dotted path of v.
func (v *Validator) checkNumbers(doc any, path string) error {
	switch x := doc.(type) {
	case map[string]any:
		// Sorted, so a document with two bad numbers always names the same one.
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if err := v.checkNumbers(x[k], joinPath(path, k)); err != nil {
				return err
			}
		}
	case []any:
		for i, val := range x {
			if err := v.checkNumbers(val, joinPath(path, strconv.Itoa(i))); err != nil {
				return err
			}
		}
	case json.Number:
		if problem := numberProblem(string(x)); problem != "" {
			want := v.ranges[path]
			if want == "" {
				want = "a plain number"
			}
			return &Error{Field: path, Problem: problem + "; use " + want}
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// numberProblem says what is wrong with a JSON number literal, or "" when it is usable.
func numberProblem(lit string) string {
	if len(lit) > maxNumberLen {
		return fmt.Sprintf("a number %d characters long (%s) is too long; the connector reads numbers of at most %d characters",
			len(lit), shortNumber(lit), maxNumberLen)
	}
	i := strings.IndexAny(lit, "eE")
	if i < 0 {
		return ""
	}
	// The literal is at most maxNumberLen characters here, so the exponent parses quickly;
	// one that overflows int is out of range too.
	exp, err := strconv.Atoi(strings.TrimPrefix(lit[i+1:], "+"))
	if err != nil || exp > maxNumberExponent || exp < -maxNumberExponent {
		return fmt.Sprintf("%s is out of range (the exponent may be at most %d)", lit, maxNumberExponent)
	}
	return ""
}

// shortNumber shows a long literal by its start, so that an error stays one short line.
func shortNumber(lit string) string {
	if len(lit) <= 24 {
		return lit
	}
	return lit[:20] + "…"
}

// integerRange describes the numbers an integer property of the spec accepts.
func integerRange(prop map[string]any) string {
	lo, hasLo := prop["minimum"].(float64)
	hi, hasHi := prop["maximum"].(float64)
	switch {
	case hasLo && hasHi:
		return fmt.Sprintf("a whole number from %g to %g", lo, hi)
	case hasLo:
		return fmt.Sprintf("a whole number of at least %g", lo)
	case hasHi:
		return fmt.Sprintf("a whole number of at most %g", hi)
	}
	return "a whole number"
}
