package integrationtests

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// These tests read the packaging files (metadata.yaml, Dockerfile, acceptance-test-config.yml,
// docs/oura.md) and check that they agree with each other and with the connector. The image
// itself is built and run by integration_tests/image/test.sh; the checks here run everywhere,
// without a container engine.

// metadata is the part of metadata.yaml the checks read.
type metadata struct {
	MetadataSpecVersion string         `yaml:"metadataSpecVersion"`
	Data                map[string]any `yaml:"data"`
}

func readMetadata(t *testing.T) metadata {
	t.Helper()
	raw, err := os.ReadFile("../metadata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m metadata
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("metadata.yaml: %v", err)
	}
	return m
}

func (m metadata) str(key string) string {
	s, _ := m.Data[key].(string)
	return s
}

func TestMetadata(t *testing.T) {
	m := readMetadata(t)
	if m.MetadataSpecVersion == "" {
		t.Error("metadataSpecVersion is missing")
	}
	// ConnectorMetadataDefinitionV0 forbids unknown keys in data.
	allowed := map[string]bool{}
	for _, k := range []string{"name", "definitionId", "connectorType", "dockerRepository", "dockerImageTag", "license",
		"documentationUrl", "githubIssueLabel", "connectorSubtype", "releaseStage", "icon", "connectorBuildOptions",
		"supportsDbt", "supportsNormalization", "maxSecondsBetweenMessages", "releaseDate", "protocolVersion",
		"supportLevel", "tags", "registries", "allowedHosts", "releases", "normalizationConfig", "suggestedStreams",
		"resourceRequirements", "ab_internal", "remotePackageIndex", "registryOverrides", "remoteRegistries",
		"connectorTestSuitesOptions"} {
		allowed[k] = true
	}
	for k := range m.Data {
		if !allowed[k] {
			t.Errorf("data.%s is not a field of Airbyte's connector metadata", k)
		}
	}
	for _, k := range []string{"name", "definitionId", "connectorType", "dockerRepository", "dockerImageTag", "license",
		"documentationUrl", "githubIssueLabel", "connectorSubtype", "releaseStage"} {
		if m.str(k) == "" {
			t.Errorf("data.%s is required", k)
		}
	}
	oneOf := func(key string, values ...string) {
		for _, v := range values {
			if m.str(key) == v {
				return
			}
		}
		t.Errorf("data.%s is %q; want one of %v", key, m.str(key), values)
	}
	oneOf("connectorType", "source")
	oneOf("connectorSubtype", "api")
	oneOf("releaseStage", "alpha", "beta", "generally_available", "custom")
	oneOf("supportLevel", "community", "certified", "archived")
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(m.str("definitionId")) {
		t.Errorf("data.definitionId %q is not a UUID", m.str("definitionId"))
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(m.str("dockerImageTag")) {
		t.Errorf("data.dockerImageTag %q is not a semantic version", m.str("dockerImageTag"))
	}

	var spec struct {
		DocumentationURL string `json:"documentationUrl"`
		AdvancedAuth     struct {
			OAuth struct {
				Input struct {
					TokenURL string `json:"access_token_url"`
				} `json:"oauth_connector_input_specification"`
			} `json:"oauth_config_specification"`
		} `json:"advanced_auth"`
		ConnectionSpecification struct {
			Properties struct {
				BaseURL struct {
					Default string `json:"default"`
				} `json:"base_url"`
			} `json:"properties"`
		} `json:"connectionSpecification"`
	}
	raw, err := os.ReadFile("../spec.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	if m.str("documentationUrl") != spec.DocumentationURL {
		t.Errorf("data.documentationUrl %q differs from spec.json's %q", m.str("documentationUrl"), spec.DocumentationURL)
	}

	hosts := map[string]bool{}
	ah, _ := m.Data["allowedHosts"].(map[string]any)
	list, _ := ah["hosts"].([]any)
	for _, h := range list {
		hosts[h.(string)] = true
	}
	// The token URL is a template choosing between Oura's two OAuth hosts: every URL in it counts.
	called := append([]string{spec.ConnectionSpecification.Properties.BaseURL.Default},
		regexp.MustCompile(`https?://[^\s'"{}]+`).FindAllString(spec.AdvancedAuth.OAuth.Input.TokenURL, -1)...)
	if len(called) < 2 {
		t.Errorf("no URL in the spec's access_token_url %q", spec.AdvancedAuth.OAuth.Input.TokenURL)
	}
	for _, u := range called {
		pu, err := url.Parse(u)
		if err != nil || !hosts[pu.Hostname()] {
			t.Errorf("allowedHosts %v lacks the host of %q, which the connector calls", sortedKeys(toAny(hosts)), u)
		}
	}

	names := map[string]bool{}
	for _, s := range discover(t).Streams {
		names[s.Name] = true
	}
	ss, _ := m.Data["suggestedStreams"].(map[string]any)
	suggested, _ := ss["streams"].([]any)
	if len(suggested) == 0 {
		t.Error("suggestedStreams.streams is empty")
	}
	for _, s := range suggested {
		if name, _ := s.(string); !names[name] {
			t.Errorf("suggestedStreams names %v, which discover does not list", s)
		}
	}
}

func toAny(m map[string]bool) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// dockerfile is the final stage of a Dockerfile, as far as the checks need it.
type dockerfile struct {
	args       map[string]string // ARG defaults, from every stage
	labels     map[string]string
	env        map[string]string
	entrypoint []string
	user       string
	runs       []string // RUN commands of every stage
}

// parseDockerfile reads the instructions the checks need. It follows line continuations and
// double quotes, which is all this repository's Dockerfile uses.
func parseDockerfile(text string) (*dockerfile, error) {
	d := &dockerfile{args: map[string]string{}}
	text = strings.ReplaceAll(text, "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			// Only the last stage makes the image.
			d.labels, d.env, d.entrypoint, d.user = map[string]string{}, map[string]string{}, nil, ""
		case "ARG":
			// A bare `ARG NAME` brings a global ARG into a stage; it keeps the default.
			if k, v, ok := strings.Cut(rest, "="); ok {
				d.args[k] = unquote(v)
			} else if _, known := d.args[k]; !known {
				d.args[k] = ""
			}
		case "LABEL":
			for k, v := range pairs(rest) {
				d.labels[k] = os.Expand(v, func(name string) string { return d.args[name] })
			}
		case "ENV":
			for k, v := range pairs(rest) {
				d.env[k] = v
			}
		case "ENTRYPOINT":
			d.entrypoint = nil
			if err := json.Unmarshal([]byte(rest), &d.entrypoint); err != nil {
				return nil, &dockerfileError{"ENTRYPOINT is not in JSON (exec) form: " + rest}
			}
		case "USER":
			d.user = rest
		case "RUN":
			d.runs = append(d.runs, rest)
		}
	}
	return d, nil
}

type dockerfileError struct{ msg string }

func (e *dockerfileError) Error() string { return e.msg }

// pairs splits k="v" k2=v2 into a map.
func pairs(s string) map[string]string {
	out := map[string]string{}
	for _, tok := range regexp.MustCompile(`([A-Za-z0-9_.\-]+)=("(?:[^"\\]|\\.)*"|\S+)`).FindAllStringSubmatch(s, -1) {
		out[tok[1]] = unquote(tok[2])
	}
	return out
}

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseDockerfile(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	m := readMetadata(t)
	if d.labels["io.airbyte.name"] != m.str("dockerRepository") || d.labels["io.airbyte.version"] != m.str("dockerImageTag") {
		t.Errorf("labels io.airbyte.name=%q io.airbyte.version=%q; metadata.yaml says %q and %q",
			d.labels["io.airbyte.name"], d.labels["io.airbyte.version"], m.str("dockerRepository"), m.str("dockerImageTag"))
	}
	if d.args["VERSION"] != m.str("dockerImageTag") {
		t.Errorf("ARG VERSION defaults to %q; the binary would report a version other than dockerImageTag %q", d.args["VERSION"], m.str("dockerImageTag"))
	}
	if len(d.entrypoint) == 0 {
		t.Fatal("no ENTRYPOINT in the final stage")
	}
	if got, want := d.env["AIRBYTE_ENTRYPOINT"], strings.Join(d.entrypoint, " "); got != want {
		t.Errorf("AIRBYTE_ENTRYPOINT is %q; it must equal the ENTRYPOINT, %q", got, want)
	}
	if !filepath.IsAbs(d.entrypoint[0]) {
		t.Errorf("ENTRYPOINT %q is not an absolute path; Airbyte changes the working directory", d.entrypoint[0])
	}
	if d.user != "airbyte" {
		t.Errorf("the image runs as %q; Airbyte expects the non-root user airbyte", d.user)
	}
	for _, a := range []string{"GO_IMAGE", "RUNTIME_IMAGE"} {
		if d.args[a] == "" || strings.Contains(d.args[a], "scratch") || strings.Contains(d.args[a], "distroless") {
			t.Errorf("ARG %s defaults to %q; it needs a real image, and the runtime one needs /bin/sh", a, d.args[a])
		}
		if !fullyQualified(d.args[a]) {
			t.Errorf("ARG %s defaults to %q; write the registry too (docker.io/library/…): podman has no short-name alias for it", a, d.args[a])
		}
	}
	build := strings.Join(d.runs, "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=${VERSION}"} {
		if !strings.Contains(build, want) {
			t.Errorf("no RUN builds with %s", want)
		}
	}
}

// fullyQualified reports whether an image reference names its registry, the way podman and
// buildah read it: a first path component with a dot or a port, or localhost.
func fullyQualified(ref string) bool {
	host, _, ok := strings.Cut(ref, "/")
	return ok && (strings.ContainsAny(host, ".:") || host == "localhost")
}

// TestDockerfileParser checks the parser on a Dockerfile broken the ways the image test's
// variants are, so that TestDockerfile can fail.
func TestDockerfileParser(t *testing.T) {
	d, err := parseDockerfile(`FROM a AS build
LABEL io.airbyte.name="wrong" keep=1
FROM b
LABEL io.airbyte.name="x/y" \
      io.airbyte.version="1.2.3"
ENV AIRBYTE_ENTRYPOINT="/bin/x --flag"
ENTRYPOINT ["/bin/x", "--flag"]
USER root
`)
	if err != nil {
		t.Fatal(err)
	}
	if d.labels["io.airbyte.name"] != "x/y" || d.labels["io.airbyte.version"] != "1.2.3" || d.labels["keep"] != "" {
		t.Errorf("labels %v; want only the final stage's", d.labels)
	}
	if d.env["AIRBYTE_ENTRYPOINT"] != "/bin/x --flag" || strings.Join(d.entrypoint, " ") != "/bin/x --flag" || d.user != "root" {
		t.Errorf("parsed env %v, entrypoint %v, user %q", d.env, d.entrypoint, d.user)
	}
	// A global ARG's default reaches a stage that names it, and labels expand it.
	d, err = parseDockerfile("ARG V=1.2.3\nFROM a\nARG V\nLABEL v=\"${V}\"\n")
	if err != nil || d.args["V"] != "1.2.3" || d.labels["v"] != "1.2.3" {
		t.Errorf("ARG V default %q, label v %q (%v); want 1.2.3 both", d.args["V"], d.labels["v"], err)
	}
	for ref, want := range map[string]bool{"docker.io/library/alpine:3.22": true, "localhost/x:1": true,
		"registry:5000/x": true, "alpine:3.22": false, "library/alpine": false} {
		if fullyQualified(ref) != want {
			t.Errorf("fullyQualified(%q) = %v", ref, !want)
		}
	}
	if _, err := parseDockerfile("FROM b\nENTRYPOINT /bin/x\n"); err == nil {
		t.Error("a shell-form ENTRYPOINT was accepted; Airbyte needs the exec form to compare it")
	}
}

func TestAcceptanceTestConfig(t *testing.T) {
	raw, err := os.ReadFile("acceptance-test-config.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("acceptance-test-config.yml: %v", err)
	}
	m := readMetadata(t)
	if img, _ := cfg["connector_image"].(string); img != m.str("dockerRepository")+":dev" {
		t.Errorf("connector_image %q; want %s:dev", img, m.str("dockerRepository"))
	}
	if cfg["test_strictness_level"] != "high" {
		t.Errorf("test_strictness_level is %v, want high", cfg["test_strictness_level"])
	}
	suites, _ := cfg["acceptance_tests"].(map[string]any)
	for _, s := range []string{"spec", "connection", "discovery", "basic_read", "full_refresh", "incremental"} {
		if _, ok := suites[s]; !ok {
			t.Errorf("suite %s is missing; high strictness needs all six core suites", s)
		}
	}
	// The CDK's standard tests turn each connection test into a scenario (pydantic, status a
	// literal succeed or failed); the image test runs them the same way.
	conn, _ := suites["connection"].(map[string]any)
	tests, _ := conn["tests"].([]any)
	if len(tests) == 0 {
		t.Error("connection has no tests; the standard tests take their scenarios from them")
	}
	for i, e := range tests {
		test, _ := e.(map[string]any)
		if p, _ := test["config_path"].(string); p == "" || (test["status"] != "succeed" && test["status"] != "failed") {
			t.Errorf("connection test %d is %v; the standard tests need config_path and status succeed or failed", i, test)
		}
	}
	// CAT compares the spec and catalog with the previous version's image, which no registry has.
	for _, suite := range []string{"spec", "discovery"} {
		sm, _ := suites[suite].(map[string]any)
		st, _ := sm["tests"].([]any)
		for _, e := range st {
			test, _ := e.(map[string]any)
			bc, _ := test["backward_compatibility_tests_config"].(map[string]any)
			if v, _ := bc["disable_for_version"].(string); v != m.str("dockerImageTag") {
				t.Errorf("%s: backward compatibility is disabled for %q, not this release %s: CAT would look for an earlier image no registry has", suite, v, m.str("dockerImageTag"))
			}
		}
	}

	names := map[string]bool{}
	for _, s := range discover(t).Streams {
		names[s.Name] = true
	}
	// Every file the config names must exist, except the git-ignored secrets.
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(e, k)
			}
			if name, ok := x["name"].(string); ok && key == "" {
				if !names[name] {
					t.Errorf("the config names stream %q, which discover does not list", name)
				}
				if r, _ := x["bypass_reason"].(string); r == "" {
					t.Errorf("stream %s is excused without a bypass_reason", name)
				}
			}
		case []any:
			for _, e := range x {
				walk(e, "")
			}
		case string:
			if (strings.HasSuffix(key, "_path") || key == "path") && !strings.HasPrefix(x, "secrets/") {
				if _, err := os.Stat(filepath.Join("..", x)); err != nil {
					t.Errorf("%s: %s does not exist", key, x)
				}
			}
		}
	}
	walk(cfg, "config")
}

func TestDocs(t *testing.T) {
	raw, err := os.ReadFile("../docs/oura.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, s := range discover(t).Streams {
		if !strings.Contains(doc, "| `"+s.Name+"` |") {
			t.Errorf("docs/oura.md has no stream table row for %s", s.Name)
		}
	}
	if !strings.Contains(doc, "(auth.md)") {
		t.Error("docs/oura.md does not link to auth.md for the OAuth details")
	}
	m := readMetadata(t)
	if !strings.Contains(doc, "| "+m.str("dockerImageTag")+" |") {
		t.Errorf("the changelog in docs/oura.md has no row for version %s", m.str("dockerImageTag"))
	}
}
