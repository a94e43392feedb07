package protocoltest

import (
	"fmt"
	"sync"
	"testing"

	"source-oura/internal/orderedjson"
)

// OpenAPI returns Oura's OpenAPI document from ../shared/reference, decoded with its key order
// kept, or skips the test (fails it under CI=true) when the file is not beside the repository.
// The document is read once per test binary; callers must not change it.
func OpenAPI(t testing.TB) *orderedjson.Object {
	t.Helper()
	SharedReference(t, "oura-openapi.json")
	doc, err := LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// LoadOpenAPI is OpenAPI for a loader shared by several tests; like ReadSharedReference, each
// test calls SharedReference (or OpenAPI) first so that a missing file skips it.
var LoadOpenAPI = sync.OnceValues(func() (*orderedjson.Object, error) {
	data, err := ReadSharedReference("oura-openapi.json")
	if err != nil {
		return nil, fmt.Errorf("reading the OpenAPI document: %w", err)
	}
	doc, err := orderedjson.DecodeObject(data)
	if err != nil {
		return nil, fmt.Errorf("decoding ../shared/reference/oura-openapi.json: %w", err)
	}
	return doc, nil
})
