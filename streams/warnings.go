package streams

import (
	"strings"
	"sync"
)

// schemaWarnings counts validation failures per (stream, field path) and says which ones are
// new, so each is logged once.
type schemaWarnings struct {
	mu     sync.Mutex
	counts map[string]int
}

// add records one failure and reports whether it is the first of its kind.
func (w *schemaWarnings) add(stream, failure string) bool {
	key := stream + " " + fieldOf(failure)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.counts == nil {
		w.counts = map[string]int{}
	}
	w.counts[key]++
	return w.counts[key] == 1
}

// fieldOf strips array indexes so that /met/items/3 and /met/items/9 count as one field.
func fieldOf(failure string) string {
	path, _, _ := strings.Cut(failure, ": ")
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			parts[i] = "*"
		}
	}
	return strings.Join(parts, "/")
}

// total returns the failures counted for one stream.
func (w *schemaWarnings) total(stream string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for k, c := range w.counts {
		if strings.HasPrefix(k, stream+" ") {
			n += c
		}
	}
	return n
}
