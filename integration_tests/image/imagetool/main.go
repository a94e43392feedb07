// Command imagetool does the JSON and YAML work of integration_tests/image/test.sh, so that the
// image test needs nothing beyond Go and a shell (no jq, no yq, no Python on the CI machine).
//
//	imagetool scenarios ACCEPTANCE_CONFIG METADATA   the scenarios Airbyte's standard tests run
//	imagetool catalog DISCOVER_OUTPUT STREAM...      a configured catalog of those streams
//	imagetool oauth-config EMU_CONFIG EMU_LOG         an OAuth config for the emulator's account
//	imagetool field FILE credentials.refresh_token   one string field of a JSON file
//	imagetool local-config FILE BASE_URL             the config with base_url set (no call leaves loopback)
//	imagetool forget-access-token FILE               drop the saved access token, keep the rest
//	imagetool jail ROOT UID:GID WORKDIR PROGRAM ARG... run PROGRAM chrooted, unprivileged (jail_linux.go)
//
// Every error is one line on stderr naming the file, and exit status 1.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "imagetool:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("no command; see the doc comment of integration_tests/image/imagetool")
	}
	cmd, args := args[0], args[1:]
	need := map[string]int{"scenarios": 2, "catalog": 2, "oauth-config": 2, "field": 2, "local-config": 2, "forget-access-token": 1, "jail": 4}
	if n, ok := need[cmd]; !ok {
		return fmt.Errorf("unknown command %q", cmd)
	} else if len(args) < n {
		return fmt.Errorf("%s needs %d arguments, got %d", cmd, n, len(args))
	}
	switch cmd {
	case "scenarios":
		return scenarios(args[0], args[1], out)
	case "catalog":
		return catalog(args[0], args[1:], out)
	case "oauth-config":
		return oauthConfig(args[0], args[1], out)
	case "field":
		return field(args[0], args[1], out)
	case "local-config":
		return localConfig(args[0], args[1], out)
	case "jail":
		return jail(args)
	default:
		return forgetAccessToken(args[0])
	}
}

// maxFile bounds every file read: the largest is a discover output of 19 schemas (~200 kB).
const maxFile = 16 << 20

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("%s is over %d bytes", path, maxFile)
	}
	return b, nil
}

// readObject reads the JSON object in the file at path. Anything else, null included, is an
// error naming the file: the configs and outputs this tool edits are objects.
func readObject(path string) (map[string]any, error) {
	raw, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if obj == nil {
		return nil, fmt.Errorf("%s: null where a JSON object was expected", path)
	}
	return obj, nil
}

// scenarios prints what the CDK's standard tests take from acceptance-test-config.yml and
// metadata.yaml, one per line: "connection CONFIG_PATH succeed|failed", "basic_read CONFIG_PATH"
// and "stream NAME" for each of metadata.yaml's suggestedStreams (the streams a basic read
// covers by default). Paths are as written, relative to the connector root.
func scenarios(acceptancePath, metadataPath string, out io.Writer) error {
	raw, err := readFile(acceptancePath)
	if err != nil {
		return err
	}
	type test struct {
		ConfigPath string `yaml:"config_path"`
		Status     string `yaml:"status"`
	}
	var cfg struct {
		AcceptanceTests struct {
			Connection struct{ Tests []test } `yaml:"connection"`
			BasicRead  struct{ Tests []test } `yaml:"basic_read"`
		} `yaml:"acceptance_tests"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("%s: %w", acceptancePath, err)
	}
	var lines []string
	for _, t := range cfg.AcceptanceTests.Connection.Tests {
		if t.ConfigPath == "" || (t.Status != "succeed" && t.Status != "failed") {
			return fmt.Errorf("%s: a connection test needs config_path and status succeed or failed, got %+v", acceptancePath, t)
		}
		lines = append(lines, "connection "+t.ConfigPath+" "+t.Status)
	}
	for _, t := range cfg.AcceptanceTests.BasicRead.Tests {
		if t.ConfigPath == "" {
			return fmt.Errorf("%s: a basic_read test has no config_path", acceptancePath)
		}
		lines = append(lines, "basic_read "+t.ConfigPath)
	}
	raw, err = readFile(metadataPath)
	if err != nil {
		return err
	}
	var meta struct {
		Data struct {
			SuggestedStreams struct{ Streams []string } `yaml:"suggestedStreams"`
		} `yaml:"data"`
	}
	if err := yaml.Unmarshal(raw, &meta); err != nil {
		return fmt.Errorf("%s: %w", metadataPath, err)
	}
	for _, s := range meta.Data.SuggestedStreams.Streams {
		lines = append(lines, "stream "+s)
	}
	if len(lines) == 0 {
		return fmt.Errorf("%s and %s give no scenario", acceptancePath, metadataPath)
	}
	_, err = fmt.Fprintln(out, strings.Join(lines, "\n"))
	return err
}

// catalog builds the configured catalog of the standard tests' basic read from discover's
// output: each named stream with sync mode full_refresh and destination sync mode append_dedup.
func catalog(discoverPath string, names []string, out io.Writer) error {
	raw, err := readFile(discoverPath)
	if err != nil {
		return err
	}
	var streams []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), maxFile)
	for sc.Scan() {
		var msg struct {
			Type    string
			Catalog struct{ Streams []json.RawMessage }
		}
		if json.Unmarshal(sc.Bytes(), &msg) == nil && msg.Type == "CATALOG" {
			streams = msg.Catalog.Streams
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", discoverPath, err)
	}
	if streams == nil {
		return fmt.Errorf("%s holds no CATALOG message", discoverPath)
	}
	byName := map[string]json.RawMessage{}
	for _, s := range streams {
		var head struct{ Name string }
		if err := json.Unmarshal(s, &head); err != nil {
			return fmt.Errorf("%s: a stream: %w", discoverPath, err)
		}
		byName[head.Name] = s
	}
	type configured struct {
		Stream              json.RawMessage `json:"stream"`
		SyncMode            string          `json:"sync_mode"`
		DestinationSyncMode string          `json:"destination_sync_mode"`
	}
	var cat struct {
		Streams []configured `json:"streams"`
	}
	for _, n := range names {
		s, ok := byName[n]
		if !ok {
			return fmt.Errorf("%s has no stream %q", discoverPath, n)
		}
		cat.Streams = append(cat.Streams, configured{s, "full_refresh", "append_dedup"})
	}
	return json.NewEncoder(out).Encode(cat)
}

// oauthConfig turns the emulator's api_key config and the OAuth line it printed into an OAuth
// config: same base_url and start, the refresh token instead of the API key.
func oauthConfig(configPath, logPath string, out io.Writer) error {
	cfg, err := readObject(configPath)
	if err != nil {
		return err
	}
	logText, err := readFile(logPath)
	if err != nil {
		return err
	}
	creds := map[string]any{"auth_type": "oauth2.0"}
	for _, line := range strings.Split(string(logText), "\n") {
		rest, ok := strings.CutPrefix(line, "oauth: client_id=")
		if !ok {
			continue
		}
		for _, f := range strings.Fields("client_id=" + rest) {
			k, v, _ := strings.Cut(f, "=")
			creds[k] = v
		}
	}
	for _, k := range []string{"client_id", "client_secret", "refresh_token"} {
		if s, _ := creds[k].(string); s == "" {
			return fmt.Errorf("%s has no line `oauth: client_id=… client_secret=… refresh_token=…`", logPath)
		}
	}
	delete(cfg, "api_key")
	cfg["credentials"] = creds
	return json.NewEncoder(out).Encode(cfg)
}

// field prints the string at a dotted path of a JSON object.
func field(path, dotted string, out io.Writer) error {
	obj, err := readObject(path)
	if err != nil {
		return err
	}
	var v any = obj
	for _, k := range strings.Split(dotted, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%s has no string at %s", path, dotted)
	}
	_, err = fmt.Fprintln(out, s)
	return err
}

// localConfig prints the config at path with base_url replaced, so that a fixture written for
// the real API (integration_tests/invalid_config.json) is tried against the emulator instead.
func localConfig(path, baseURL string, out io.Writer) error {
	cfg, err := readObject(path)
	if err != nil {
		return err
	}
	cfg["base_url"] = baseURL
	return json.NewEncoder(out).Encode(cfg)
}

// forgetAccessToken removes credentials.access_token and token_expiry_date, rewriting the
// file in place (keeping its owner and mode), so that the next run must spend the refresh
// token the last run saved: the only way to see that the saved one is the live one.
func forgetAccessToken(path string) error {
	cfg, err := readObject(path)
	if err != nil {
		return err
	}
	creds, ok := cfg["credentials"].(map[string]any)
	if !ok {
		return fmt.Errorf("%s has no credentials object", path)
	}
	delete(creds, "access_token")
	delete(creds, "token_expiry_date")
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}
