package integrationtests

import (
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// These tests keep the repository usable as an open-source project: a license that matches
// metadata.yaml, an icon Airbyte can show, and one version that every place agrees on.

// readRepoFile reads a file at the repository root.
func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile("../" + name)
	if err != nil {
		t.Fatalf("%s: %v (it belongs at the repository root)", name, err)
	}
	return string(raw)
}

// TestLicense: LICENSE holds the MIT text that metadata.yaml's `license: MIT` promises, with a
// holder and the year of the first release (the oldest row of docs/oura.md's changelog), and the
// README says so.
func TestLicense(t *testing.T) {
	text := readRepoFile(t, "LICENSE")
	if m := readMetadata(t); m.str("license") != "MIT" {
		t.Fatalf("metadata.yaml says license %q; this test knows the MIT text only", m.str("license"))
	}
	for _, want := range []string{
		"MIT License",
		"Permission is hereby granted, free of charge, to any person obtaining a copy",
		"The above copyright notice and this permission notice shall be included in all",
		`THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("LICENSE lacks %q of the MIT text", want)
		}
	}
	holder := regexp.MustCompile(`(?m)^Copyright \(c\) (\d{4}) (\S.*)$`).FindStringSubmatch(text)
	if holder == nil {
		t.Fatal("LICENSE has no line `Copyright (c) YEAR HOLDER`")
	}
	rows := regexp.MustCompile(`(?m)^\| \d+\.\d+\.\d+ \| (\d{4})-\d\d-\d\d \|`).FindAllStringSubmatch(readRepoFile(t, "docs/oura.md"), -1)
	if len(rows) == 0 {
		t.Fatal("docs/oura.md's changelog has no `| x.y.z | yyyy-mm-dd |` rows")
	}
	first := rows[0][1]
	for _, r := range rows {
		first = min(first, r[1])
	}
	if holder[1] != first {
		t.Errorf("LICENSE says %s; the first release in docs/oura.md's changelog is from %s", holder[1], first)
	}
	if !regexp.MustCompile(`MIT.*\(LICENSE\)|\(LICENSE\).*MIT`).MatchString(readRepoFile(t, "README.md")) {
		t.Error("README.md has no line naming the MIT license with a link to LICENSE")
	}
}

// TestIcon: icon.svg, named by metadata.yaml's icon field, is well-formed XML whose root is an
// SVG element with a viewBox (Airbyte scales the tile), small, and self-contained: no script and
// no reference to anything outside the file, which a registry page would refuse or fetch.
func TestIcon(t *testing.T) {
	m := readMetadata(t)
	if m.str("icon") != "icon.svg" {
		t.Errorf("metadata.yaml icon is %q; Airbyte's registry takes icon.svg beside metadata.yaml", m.str("icon"))
	}
	text := readRepoFile(t, "icon.svg")
	if len(text) > 8<<10 {
		t.Errorf("icon.svg is %d bytes; a tile icon should be a few kB at most", len(text))
	}
	if err := checkSVG(text); err != nil {
		t.Errorf("icon.svg: %v", err)
	}
}

// checkSVG decodes every token of an SVG document and returns the first problem.
func checkSVG(text string) error {
	dec := xml.NewDecoder(strings.NewReader(text))
	dec.Strict = true
	root := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root {
			if se.Name.Space != "http://www.w3.org/2000/svg" || se.Name.Local != "svg" {
				return errors.New("the root element is {" + se.Name.Space + "}" + se.Name.Local + ", not an SVG <svg>")
			}
			hasViewBox := false
			for _, a := range se.Attr {
				hasViewBox = hasViewBox || a.Name.Local == "viewBox"
			}
			if !hasViewBox {
				return errors.New("the <svg> element has no viewBox, so it cannot be scaled to a tile")
			}
			root = false
		}
		if se.Name.Local == "script" || se.Name.Local == "foreignObject" {
			return errors.New("it has a <" + se.Name.Local + "> element")
		}
		for _, a := range se.Attr {
			if a.Name.Local == "href" && !strings.HasPrefix(a.Value, "#") {
				return errors.New("it refers to " + a.Value + " outside the file")
			}
		}
	}
	if root {
		return errors.New("it has no elements")
	}
	return nil
}

// TestCheckSVG shows checkSVG failing on the ways an icon goes wrong.
func TestCheckSVG(t *testing.T) {
	ns := `xmlns="http://www.w3.org/2000/svg"`
	for name, doc := range map[string]string{
		"not closed":    `<svg ` + ns + ` viewBox="0 0 1 1"><circle r="1">`,
		"not svg":       `<html ` + ns + ` viewBox="0 0 1 1"/>`,
		"no namespace":  `<svg viewBox="0 0 1 1"/>`,
		"no viewBox":    `<svg ` + ns + `/>`,
		"script":        `<svg ` + ns + ` viewBox="0 0 1 1"><script>alert(1)</script></svg>`,
		"external href": `<svg ` + ns + ` xmlns:x="http://www.w3.org/1999/xlink" viewBox="0 0 1 1"><image x:href="http://e.com/a.png"/></svg>`,
		"empty":         ``,
	} {
		if checkSVG(doc) == nil {
			t.Errorf("%s: accepted %s", name, doc)
		}
	}
	if err := checkSVG(`<svg ` + ns + ` viewBox="0 0 1 1"><circle r="1"/></svg>`); err != nil {
		t.Errorf("a minimal icon: %v", err)
	}
}

// TestVersionAgrees: the VERSION file is the one place a release sets the version; metadata.yaml's
// dockerImageTag, the Dockerfile's VERSION default and io.airbyte.version label, the version
// `make build` stamps into the binary and the changelog must all say the same.
func TestVersionAgrees(t *testing.T) {
	raw := readRepoFile(t, "VERSION")
	version := strings.TrimSpace(raw)
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(version) || raw != version+"\n" {
		t.Fatalf("VERSION holds %q; want one line with a semantic version such as 1.2.3", raw)
	}
	if tag := readMetadata(t).str("dockerImageTag"); tag != version {
		t.Errorf("metadata.yaml dockerImageTag is %q, VERSION is %q", tag, version)
	}
	d, err := parseDockerfile(readRepoFile(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if d.args["VERSION"] != version {
		t.Errorf("the Dockerfile's ARG VERSION defaults to %q, VERSION is %q: a plain docker build would carry another version", d.args["VERSION"], version)
	}
	if l := d.labels["io.airbyte.version"]; l != version {
		t.Errorf("the Dockerfile's io.airbyte.version label is %q, VERSION is %q", l, version)
	}
	if !regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(version) + ` \| \d{4}-\d\d-\d\d \|`).MatchString(readRepoFile(t, "docs/oura.md")) {
		t.Errorf("docs/oura.md's changelog has no row for %s", version)
	}

	// The commands the docs show use the image tag make image builds.
	for _, doc := range []string{"README.md", "docs/oura.md"} {
		for _, m := range regexp.MustCompile(`source-oura/source-oura:(\d+\.\d+\.\d+)`).FindAllStringSubmatch(readRepoFile(t, doc), -1) {
			if m[1] != version {
				t.Errorf("%s shows the image tag %s; make image builds %s", doc, m[1], version)
			}
		}
	}

	// What make build would run, without running it: the binary gets -X main.version=VERSION.
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("no make on PATH; the Makefile's version is not checked")
	}
	cmd := exec.Command(mk, "-n", "build")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n build: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "-X main.version="+version+" ") && !strings.Contains(string(out), "-X main.version="+version+`"`) {
		t.Errorf("make build stamps another version than %s:\n%s", version, out)
	}
	if !strings.Contains(string(out), "--version") {
		t.Errorf("make build does not print the version it built:\n%s", out)
	}
}

// TestTestSupportNeverShips: the packages that exist only to help tests (and the testing
// package itself) are not linked into the connector, the emulator, bench or demo. They are
// imported only from _test.go files; an import from ordinary code would ship test doubles.
func TestTestSupportNeverShips(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command(goTool, "list", "-deps", ".", "./cmd/ouraemu", "./cmd/bench", "./cmd/demo")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	testOnly := map[string]bool{
		"testing": true, "source-oura/internal/protocoltest": true, "source-oura/internal/fakeclock": true,
		"source-oura/internal/streamtest": true, "source-oura/internal/ouratest": true,
		"source-oura/internal/orderedjson": true,
	}
	for _, pkg := range strings.Fields(string(out)) {
		if testOnly[pkg] {
			t.Errorf("%s is linked into a binary; import it only from _test.go files", pkg)
		}
	}
}

// TestReadmeLayoutIsTrue: README's layout section names every folder that holds Go code (itself or
// through a parent it names, as cmd/bench/ covers cmd/bench/floor/), and every folder it names exists.
func TestReadmeLayoutIsTrue(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	_, section, ok := strings.Cut(readme, "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no \"## Layout\" section")
	}
	_, block, _ := strings.Cut(section, "```\n")
	block, _, _ = strings.Cut(block, "```")
	named := map[string]bool{}
	for _, line := range strings.Split(block, "\n") {
		if line == "" || line[0] == ' ' {
			continue // a description carried on
		}
		// A line starts with one path, or several joined by ", ", then says what they hold.
		for _, field := range strings.Fields(line) {
			p := strings.TrimSuffix(field, ",")
			named[strings.TrimSuffix(p, "/")] = true
			if _, err := os.Stat(filepath.Join("..", p)); err != nil {
				t.Errorf("README layout names %s, which is not in the repository", p)
			}
			if p == field {
				break
			}
		}
	}
	if len(named) < 10 {
		t.Fatalf("read only %d paths from README's layout block: %v", len(named), named)
	}
	goDirs := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != ".." && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") {
			rel, _ := filepath.Rel("..", filepath.Dir(path))
			goDirs[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range goDirs {
		if dir == "." {
			continue // main.go, named on its own
		}
		covered := false
		for d := dir; d != "." && !covered; d = filepath.ToSlash(filepath.Dir(d)) {
			covered = named[d]
		}
		if !covered {
			t.Errorf("%s/ holds Go code but README's layout section does not name it", dir)
		}
	}
}
