package cli

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"source-oura/internal/config"
	"source-oura/internal/ouraemu"
	"source-oura/protocol"
	"source-oura/streams"
)

// Two people: seed 1 and seed 107, whose heart-rate grids fall on the same minutes, as two
// rings worn at the same time do. tokNoPersonal reads person B without the personal scope.
const (
	tokA          = "tok-account-a"
	tokB          = "tok-account-b"
	tokNoPersonal = "tok-account-b-no-personal"
	seedB         = 107
)

// twoAccounts serves ten days of two generated people and returns the base URL and each
// person's user id.
func twoAccounts(t *testing.T) (srv *ouraemu.Server, url, idA, idB string) {
	t.Helper()
	first := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	gen := ouraemu.GenOptions{Seed: 1, First: first, Last: first.AddDate(0, 0, 9)}
	a := ouraemu.Generate(gen)
	gen.Seed = seedB
	b := ouraemu.Generate(gen)
	noPersonal := slices.DeleteFunc(slices.Clone(ouraemu.AllScopes), func(s string) bool { return s == "personal" })
	srv = ouraemu.NewServer(ouraemu.Options{
		Dataset:  a,
		Tokens:   map[string][]string{tokA: ouraemu.AllScopes, tokB: ouraemu.AllScopes, tokNoPersonal: noPersonal},
		Accounts: map[string]*ouraemu.Dataset{tokB: b, tokNoPersonal: b},
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	id := func(d *ouraemu.Dataset) string {
		var info struct{ ID string }
		if err := json.Unmarshal(d.PersonalInfo, &info); err != nil || info.ID == "" {
			t.Fatalf("personal_info %s: %v", d.PersonalInfo, err)
		}
		return info.ID
	}
	if idA, idB = id(a), id(b); idA == idB {
		t.Fatalf("both people have user id %s", idA)
	}
	return srv, hs.URL, idA, idB
}

// accountConfig writes a config for token over the emulator's ten days; account is the
// account_column value, or "" for none.
func accountConfig(t *testing.T, url, token, account string) string {
	t.Helper()
	doc := `{"api_key":"` + token + `","base_url":"` + url + `","start_datetime":"2025-03-01","end_datetime":"2025-03-10"`
	if account != "" {
		doc += `,"account_column":` + account
	}
	return writeJSON(t, "config.json", doc+"}")
}

var pinned = func() time.Time { return time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC) }

// readLines runs read with a pinned clock and returns, per stream, its RECORD lines and its
// STATE lines, byte for byte, in the order written.
func readLines(t *testing.T, argv ...string) (records, states map[string][]string, r result) {
	t.Helper()
	r = runEnv(t, Env{Now: pinned}, append([]string{"read"}, argv...)...)
	records, states = map[string][]string{}, map[string][]string{}
	lines := bytes.Split(bytes.TrimSpace(r.stdout), []byte("\n"))
	if len(lines) != len(r.msgs) {
		t.Fatalf("%d lines, %d messages", len(lines), len(r.msgs))
	}
	for i, m := range r.msgs {
		switch {
		case m.Type == protocol.TypeRecord:
			records[m.Record.Stream] = append(records[m.Record.Stream], string(lines[i]))
		case m.Type == protocol.TypeState && m.State.Stream != nil:
			name := m.State.Stream.StreamDescriptor.Name
			states[name] = append(states[name], string(lines[i]))
		}
	}
	return records, states, r
}

// keyOf returns the values of a record's primary key, as JSON text joined by tabs.
func keyOf(t *testing.T, line string, pk [][]string) string {
	t.Helper()
	var m struct {
		Record struct {
			Data map[string]json.RawMessage `json:"data"`
		} `json:"record"`
	}
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, path := range pk {
		v, ok := m.Record.Data[path[0]]
		if len(path) != 1 || !ok {
			t.Fatalf("record has no key field %v: %s", path, line)
		}
		parts = append(parts, string(v))
	}
	return strings.Join(parts, "\t")
}

// collisions counts, per stream, the primary keys that records of both reads share.
func collisions(t *testing.T, a, b map[string][]string, keys map[string][][]string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for name, pk := range keys {
		seen := map[string]bool{}
		for _, l := range a[name] {
			seen[keyOf(t, l, pk)] = true
		}
		for _, l := range b[name] {
			if seen[keyOf(t, l, pk)] {
				out[name]++
			}
		}
	}
	return out
}

func primaryKeys(cat *protocol.Catalog) map[string][][]string {
	out := map[string][][]string{}
	for _, s := range cat.Streams {
		out[s.Name] = s.SourceDefinedPrimaryKey
	}
	return out
}

// TestAccountColumnTwoAccounts reads two people with account_column on, A by user id and B
// by label: every record starts with its account and is otherwise byte for byte the record of
// a read with the setting off, states are unchanged, and while the setting-off reads collide
// on heart_rate's key (timestamp, source), the union of the setting-on reads has no primary-key
// collision in any stream under the keys discover declares with the setting on.
func TestAccountColumnTwoAccounts(t *testing.T) {
	_, url, idA, _ := twoAccounts(t)
	offA, offStatesA, _ := readLines(t, "--config", accountConfig(t, url, tokA, ""))
	offB, _, _ := readLines(t, "--config", accountConfig(t, url, tokB, ""))
	onCfgA := accountConfig(t, url, tokA, `{"enabled":true}`)
	onA, onStatesA, rA := readLines(t, "--config", onCfgA)
	onB, _, rB := readLines(t, "--config", accountConfig(t, url, tokB, `{"enabled":true,"label":"participant \"07\""}`))
	for _, r := range []result{rA, rB} {
		if r.code != ExitOK || len(r.errors()) > 0 {
			t.Fatalf("read with account_column: exit %d\n%s", r.code, r.stdout)
		}
	}
	for _, name := range []string{"heart_rate", "daily_sleep", "sleep_periods", "personal_info"} {
		if len(offA[name]) == 0 || len(offB[name]) == 0 {
			t.Fatalf("stream %s: %d and %d records; the test needs both people to have some", name, len(offA[name]), len(offB[name]))
		}
	}

	for _, c := range []struct {
		who     string
		on, off map[string][]string
		value   string
	}{{"A (user id)", onA, offA, idA}, {"B (label)", onB, offB, `participant \"07\"`}} {
		column := `"data":{"` + config.AccountColumnName + `":"` + c.value + `"`
		for _, name := range streams.Names() {
			if len(c.on[name]) != len(c.off[name]) {
				t.Errorf("%s %s: %d records with the column, %d without", c.who, name, len(c.on[name]), len(c.off[name]))
				continue
			}
			for i, line := range c.on[name] {
				if !strings.Contains(line, column) {
					t.Fatalf("%s %s: record does not start with its account %s:\n%s", c.who, name, c.value, line)
				}
				if back := strings.Replace(line, column+",", `"data":{`, 1); back != c.off[name][i] {
					t.Fatalf("%s %s record %d differs beyond the column:\n with %s\n  off %s", c.who, name, i, line, c.off[name][i])
				}
			}
		}
	}
	for _, name := range streams.Names() {
		if !slices.Equal(onStatesA[name], offStatesA[name]) {
			t.Errorf("%s: states with the column %q, without %q", name, onStatesA[name], offStatesA[name])
		}
	}

	offCat := discoveredCatalog(t, runCLI(t, "discover", "--config", accountConfig(t, url, tokA, "")))
	if n := collisions(t, offA, offB, primaryKeys(offCat))["heart_rate"]; n == 0 {
		t.Fatal("without the column the two people share no heart_rate key; the test no longer shows the collision it guards against")
	}
	onCat := discoveredCatalog(t, runCLI(t, "discover", "--config", onCfgA))
	for name, n := range collisions(t, onA, onB, primaryKeys(onCat)) {
		if n > 0 {
			t.Errorf("%s: %d primary keys shared by the two people with the column on", name, n)
		}
	}
}

// TestAccountColumnDiscover: with the setting on, every stream's schema declares the column
// as a string and its primary key starts with it, the rest of the stream unchanged; with it
// off (absent, or enabled false with a label) the catalog is byte for byte today's.
func TestAccountColumnDiscover(t *testing.T) {
	_, url, _, _ := twoAccounts(t)
	plain := runCLI(t, "discover", "--config", accountConfig(t, url, tokA, ""))
	off := runCLI(t, "discover", "--config", accountConfig(t, url, tokA, `{"enabled":false,"label":"p1"}`))
	if !bytes.Equal(plain.stdout, off.stdout) {
		t.Errorf("discover with account_column off differs from discover without it:\n%s\n%s", plain.stdout, off.stdout)
	}
	offCat := discoveredCatalog(t, plain)
	onCat := discoveredCatalog(t, runCLI(t, "discover", "--config", accountConfig(t, url, tokA, `{"enabled":true,"label":"p1"}`)))
	for i, s := range onCat.Streams {
		was := offCat.Streams[i]
		prop := schemaOf(t, onCat, s.Name)[config.AccountColumnName]
		if !bytes.Contains(prop, []byte(`"type":"string"`)) {
			t.Errorf("%s: schema declares %s as %s, want a string", s.Name, config.AccountColumnName, prop)
		}
		if rest := bytes.Replace(s.JSONSchema, []byte(`,"`+config.AccountColumnName+`":`+string(prop)), nil, 1); !bytes.Equal(rest, was.JSONSchema) {
			t.Errorf("%s: beyond the column, the schema changed:\n%s\n%s", s.Name, rest, was.JSONSchema)
		}
		if want := append([][]string{{config.AccountColumnName}}, was.SourceDefinedPrimaryKey...); !slices.EqualFunc(s.SourceDefinedPrimaryKey, want, slices.Equal) {
			t.Errorf("%s: primary key %v, want %v", s.Name, s.SourceDefinedPrimaryKey, want)
		}
		s.JSONSchema, s.SourceDefinedPrimaryKey = was.JSONSchema, was.SourceDefinedPrimaryKey
		got, _ := json.Marshal(s)
		want, _ := json.Marshal(was)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: beyond schema and key, the stream changed:\n%s\n%s", s.Name, got, want)
		}
	}
}

// TestAccountColumnCatalogFromDiscover: read takes the catalog discover printed with the
// setting on, keys and all, without a word; a catalog whose keys disagree with the setting
// (on without a schema refresh, or off with the old keys) gets one WARN saying to refresh.
func TestAccountColumnCatalogFromDiscover(t *testing.T) {
	_, url, _, _ := twoAccounts(t)
	on := accountConfig(t, url, tokA, `{"enabled":true,"label":"p1"}`)
	off := accountConfig(t, url, tokA, "")
	catalogFile := func(cfg string) string {
		d := runCLI(t, "discover", "--config", cfg)
		return writeJSON(t, "catalog.json", string(bytes.TrimSpace(d.stdout)))
	}
	onCat, offCat := catalogFile(on), catalogFile(off)
	warnings := func(r result) []string {
		var out []string
		for _, l := range logsAt(r, protocol.LevelWarn) {
			if strings.Contains(l, "refresh the source schema") {
				out = append(out, l)
			}
		}
		return out
	}
	r := runCLI(t, "read", "--config", on, "--catalog", onCat)
	if r.code != ExitOK || len(r.ofType(protocol.TypeRecord)) == 0 || len(warnings(r)) != 0 {
		t.Fatalf("read with the setting-on catalog: exit %d, %d records, warnings %q", r.code, len(r.ofType(protocol.TypeRecord)), warnings(r))
	}
	for _, c := range []struct{ cfg, cat, text string }{
		{on, offCat, "do not start with oura_account, though account_column is on"},
		{off, onCat, "include oura_account, though account_column is off"},
	} {
		r := runCLI(t, "read", "--config", c.cfg, "--catalog", c.cat)
		w := warnings(r)
		if r.code != ExitOK || len(w) != 1 || !strings.Contains(w[0], c.text) || !strings.Contains(w[0], "heart_rate") {
			t.Errorf("exit %d, warnings %q; want one saying %q", r.code, w, c.text)
		}
	}
}

// TestAccountColumnNeedsPersonalScopeOrLabel: on without a label, a token that cannot read
// personal_info stops the read before any stream with one config_error that says to grant the
// personal scope or give a label, and check fails saying the same; with a label the same token
// checks and reads, records carrying it. An
// outage of personal_info is a transient_error instead, so the platform retries.
func TestAccountColumnNeedsPersonalScopeOrLabel(t *testing.T) {
	srv, url, _, _ := twoAccounts(t)
	catalog := writeJSON(t, "catalog.json", `{"streams":[{"name":"daily_sleep","json_schema":{}}]}`)
	r := runCLI(t, "read", "--config", accountConfig(t, url, tokNoPersonal, `{"enabled":true}`), "--catalog", catalog)
	errs := r.errors()
	if r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError ||
		!strings.Contains(errs[0].Message, "personal scope") || !strings.Contains(errs[0].Message, "account_column.label") ||
		strings.Contains(errs[0].Message, "\n") {
		t.Fatalf("exit %d, errors %+v", r.code, errs)
	}
	if n := len(r.ofType(protocol.TypeRecord)); n != 0 {
		t.Errorf("%d records written without their account", n)
	}

	// check says the same, so Airbyte refuses the source before any sync; with a label it passes.
	for account, want := range map[string]protocol.Status{`{"enabled":true}`: protocol.StatusFailed, `{"enabled":true,"label":"p1"}`: protocol.StatusSucceeded} {
		c := runCLI(t, "check", "--config", accountConfig(t, url, tokNoPersonal, account))
		st := c.ofType(protocol.TypeConnectionStatus)
		if c.code != ExitOK || len(st) != 1 || st[0].ConnectionStatus.Status != want ||
			want == protocol.StatusFailed && !strings.Contains(st[0].ConnectionStatus.Message, "grant the connector the personal scope, or set account_column.label") {
			t.Errorf("check with account_column %s: exit %d, statuses %+v; want %s", account, c.code, st, want)
		}
	}

	records, _, r := readLines(t, "--config", accountConfig(t, url, tokNoPersonal, `{"enabled":true,"label":"p1"}`), "--catalog", catalog)
	if r.code != ExitOK || len(records["daily_sleep"]) == 0 {
		t.Fatalf("with a label: exit %d\n%s", r.code, r.stdout)
	}
	for _, l := range records["daily_sleep"] {
		if !strings.Contains(l, `"data":{"oura_account":"p1",`) {
			t.Fatalf("record without the label: %s", l)
		}
	}

	srv.SetFaults(ouraemu.Faults{OnlyPaths: []string{"personal_info"}, ServerErrorEvery: 1})
	r = runCLI(t, "read", "--config", accountConfig(t, url, tokA, `{"enabled":true}`), "--catalog", catalog)
	if errs := r.errors(); r.code != ExitFailure || len(errs) != 1 || errs[0].FailureType != protocol.TransientError {
		t.Fatalf("personal_info down: exit %d, errors %+v", r.code, errs)
	}
}
