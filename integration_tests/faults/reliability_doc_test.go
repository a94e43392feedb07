package faults

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docPath is the page this test keeps honest.
const docPath = "docs/reliability.md"

// docRow is one table row of the page: where it is and the tests it names, by file.
type docRow struct {
	line  int
	text  string
	tests map[string][]string // test file (from the repo root) → test functions
}

// parseDocRows reads every table row of the page except headers and separators. In the last
// cell, a backticked path ending in _test.go names the file for the backticked Test… and
// Fuzz… names after it.
func parseDocRows(t *testing.T, doc string) []docRow {
	t.Helper()
	code := regexp.MustCompile("`([^`]+)`")
	name := regexp.MustCompile(`^(Test|Fuzz)[A-Z0-9_]\w*$`)
	var rows []docRow
	lines := strings.Split(doc, "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "|---") {
			continue // a header
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		last := cells[len(cells)-1]
		row := docRow{line: i + 1, text: line, tests: map[string][]string{}}
		file := ""
		for _, m := range code.FindAllStringSubmatch(last, -1) {
			switch tok := m[1]; {
			case strings.HasSuffix(tok, "_test.go"):
				file = tok
			case name.MatchString(tok):
				if file == "" {
					t.Errorf("%s:%d: %s is not preceded by the test file that holds it", docPath, i+1, tok)
					continue
				}
				row.tests[file] = append(row.tests[file], tok)
			default:
				t.Errorf("%s:%d: %q in the tests column is neither a test file nor a test name", docPath, i+1, tok)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// TestReliabilityDocNamesRealTests: every row of docs/reliability.md names at least one test,
// every test it names is defined in the file it names, and every test of this fault suite has
// a row, so the page can neither promise what no test checks nor leave a fault out.
func TestReliabilityDocNamesRealTests(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(repoRoot, docPath))
	if err != nil {
		t.Fatal(err)
	}
	rows := parseDocRows(t, string(doc))
	if len(rows) < 20 {
		t.Fatalf("%s has %d table rows; the parser found too few to be reading the tables", docPath, len(rows))
	}
	named := map[string]bool{}
	sources := map[string]string{}
	for _, row := range rows {
		if len(row.tests) == 0 {
			t.Errorf("%s:%d names no test: %s", docPath, row.line, row.text)
		}
		for file, tests := range row.tests {
			src, ok := sources[file]
			if !ok {
				b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(file)))
				if err != nil {
					t.Errorf("%s:%d: %v", docPath, row.line, err)
					sources[file] = ""
					continue
				}
				src = string(b)
				sources[file] = src
			}
			for _, test := range tests {
				named[file+" "+test] = true
				if !regexp.MustCompile(`(?m)^func ` + test + `\(`).MatchString(src) {
					t.Errorf("%s:%d: %s names %s, which that file does not define", docPath, row.line, file, test)
				}
			}
		}
	}

	// Every test of the fault suite is in the page.
	suite, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	def := regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)
	for _, f := range suite {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range def.FindAllStringSubmatch(string(b), -1) {
			if key := "integration_tests/faults/" + f + " " + m[1]; !named[key] {
				t.Errorf("%s has no row for %s (%s)", docPath, m[1], f)
			}
		}
	}
}
