package config

import (
	"errors"
	"fmt"
	"strings"

	"source-oura/internal/jsonscan"
)

// maxDupKeyDepth is how deep in nested objects duplicate keys are looked for. The connector reads
// objects two deep (credentials, account_column); deeper ones can only sit in keys it ignores.
// Each level scans its subtree again, so the bound also keeps a 16 MiB file of nested objects
// to a few passes over it rather than one per level (up to jsonscan.MaxDepth).
const maxDupKeyDepth = 8

// checkDuplicateKeys refuses a key that appears twice in one object of the config document.
// encoding/json keeps the last one without a word, so {"api_key":"old","api_key":"new"} would
// send whichever came last, and the 401 that followed sent the user to redo OAuth for a token
// they never meant to use. Keys starting with "_" are comments, which people repeat freely, so
// they may appear more than once. raw has already decoded as one JSON object.
func checkDuplicateKeys(raw []byte) error {
	start := 0
	for start < len(raw) && strings.IndexByte(" \t\r\n", raw[start]) >= 0 {
		start++
	}
	return duplicateIn(raw, start, "", 1)
}

// duplicateIn checks the object at raw[start] and, down to maxDupKeyDepth, the objects that are
// its values. Objects inside arrays are not looked at: no setting is an array, so they can only
// be in keys the connector ignores.
func duplicateIn(raw []byte, start int, path string, depth int) error {
	members, _, err := jsonscan.Members(raw, start)
	switch {
	case errors.Is(err, jsonscan.ErrTooDeep):
		return &Error{Field: path, Problem: fmt.Sprintf("nests objects or arrays more than %d deep; no setting needs more than two levels, so remove the deep value", jsonscan.MaxDepth)}
	case err != nil:
		// encoding/json read it, so this is our scanner disagreeing with it: say so plainly.
		return &Error{Field: path, Problem: "could not be checked for repeated keys: " + err.Error()}
	}
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		field := joinPath(path, m.Key)
		if seen[m.Key] && !strings.HasPrefix(m.Key, "_") {
			return &Error{Field: field, Problem: "appears twice in the config file; keep one"}
		}
		seen[m.Key] = true
		if depth < maxDupKeyDepth && raw[m.ValueStart] == '{' {
			if err := duplicateIn(raw, m.ValueStart, field, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
