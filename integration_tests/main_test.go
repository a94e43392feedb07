// Package integrationtests is the connector's acceptance suite: it builds the source-oura
// binary once, serves the bundled Oura API emulator on loopback, runs the binary as a process
// the way Airbyte does, and checks what it prints against the rules of Airbyte's connector
// acceptance tests (spec, connection, discovery, basic read, full refresh, incremental).
//
// The suite reads the fixture files beside it (configured_catalog.json, the state files,
// expected_records.jsonl), so a fixture that drifts from the connector fails here first.
// Regenerate expected_records.jsonl with
//
//	go test ./integration_tests -run TestBasicRead -update
package integrationtests

import (
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
)

// The emulated account: seed 1, and a sync range of 90 days chosen so that every stream has
// data, including two rest-mode periods far enough apart for the incremental checks.
var (
	syncFirst = time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	syncLast  = time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
)

const (
	emuSeed = 1
	// token is the emulator's static access token; it grants every scope.
	token = "acceptance-token"
	// pageSize is small so that date streams span several pages and so emit several
	// checkpoints, which the incremental checks need.
	pageSize = 30
)

// suite holds what TestMain sets up for every test.
var suite struct {
	bin     string // the connector binary
	baseURL string // the emulator
}

func TestMain(m *testing.M) {
	code, err := setUp(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance suite:", err)
		code = 1
	}
	os.Exit(code)
}

// setUp builds the binary, starts the emulator and runs the tests.
func setUp(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "source-oura-acceptance-")
	if err != nil {
		return 0, fmt.Errorf("making a scratch folder: %w", err)
	}
	defer os.RemoveAll(dir)

	if suite.bin, err = protocoltest.BuildConnector(dir, "-ldflags", "-X main.version=acceptance"); err != nil {
		return 0, err
	}

	first, last := syncFirst, syncLast
	// A week of data either side of the sync range, so the boundary days hold the documents a
	// real account would have there (sleep that starts the evening before, for one).
	data := ouraemu.Generate(ouraemu.GenOptions{Seed: emuSeed, First: first.AddDate(0, 0, -7), Last: last.AddDate(0, 0, 7)})
	emu := ouraemu.NewServer(ouraemu.Options{
		Dataset:  data,
		PageSize: pageSize,
		// A fixed clock keeps the emulator's defaults the same whatever day the suite runs.
		Now:    func() time.Time { return last.AddDate(0, 0, 10) },
		Tokens: map[string][]string{token: ouraemu.AllScopes},
	})
	hs := httptest.NewServer(emu)
	defer hs.Close()
	suite.baseURL = hs.URL

	return m.Run(), nil
}
