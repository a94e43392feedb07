package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
	"source-oura/protocol"
	"source-oura/streams"
)

// discoverEmulator serves 30 generated days ending today, with new fields, to a token with scopes.
func discoverEmulator(t *testing.T, scopes []string, fields ...ouraemu.NewField) (*ouraemu.Server, string) {
	t.Helper()
	last := time.Now().UTC().Truncate(24 * time.Hour)
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 5, First: last.AddDate(0, 0, -29), Last: last})
	srv := ouraemu.NewServer(ouraemu.Options{Dataset: ds, Tokens: map[string][]string{testToken: scopes}, NewFields: fields})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

func recentConfig(t *testing.T, baseURL string) string {
	start := time.Now().UTC().AddDate(0, 0, -10).Format(time.DateOnly)
	return writeJSON(t, "config.json", `{"api_key":"`+testToken+`","base_url":"`+baseURL+`","start_datetime":"`+start+`T00:00:00Z"}`)
}

// catalogOf returns discover's one CATALOG, failing unless discover exited 0 with all streams.
func discoveredCatalog(t *testing.T, r result) *protocol.Catalog {
	t.Helper()
	cats := r.ofType(protocol.TypeCatalog)
	if r.code != ExitOK || len(cats) != 1 {
		t.Fatalf("discover: exit %d, %d catalogs; want 0 and one\n%s", r.code, len(cats), r.stdout)
	}
	if n := len(cats[0].Catalog.Streams); n != len(streams.AllStreams()) {
		t.Fatalf("discover listed %d streams, want %d", n, len(streams.AllStreams()))
	}
	return cats[0].Catalog
}

func schemaOf(t *testing.T, cat *protocol.Catalog, name string) map[string]json.RawMessage {
	t.Helper()
	for _, s := range cat.Streams {
		if s.Name == name {
			var schema struct{ Properties map[string]json.RawMessage }
			if err := json.Unmarshal(s.JSONSchema, &schema); err != nil {
				t.Fatal(err)
			}
			return schema.Properties
		}
	}
	t.Fatalf("no stream %s", name)
	return nil
}

// TestDiscoverDeclaresNewFieldsAndReadPassesThem: a field Oura adds to sleep documents appears,
// nullable with its inferred type and the discovered-field description, in sleep_periods' schema
// and in no other stream's; a read with that catalog writes each sleep document byte for byte as
// the emulator served it, new field included.
func TestDiscoverDeclaresNewFieldsAndReadPassesThem(t *testing.T) {
	_, url := discoverEmulator(t, ouraemu.AllScopes,
		ouraemu.NewField{Collection: "sleep", Name: "sleep_regularity_v2", Value: json.RawMessage(`{"score":81}`)})
	config := recentConfig(t, url)
	d := runCLI(t, "discover", "--config", config)
	cat := discoveredCatalog(t, d)
	for _, s := range cat.Streams {
		prop, ok := schemaOf(t, cat, s.Name)["sleep_regularity_v2"]
		if ok != (s.Name == "sleep_periods") {
			t.Errorf("%s: new field declared %v, want it only in sleep_periods", s.Name, ok)
		}
		if ok && !bytes.Contains(prop, []byte(`"type":["null","object"]`)) || ok && !bytes.Contains(prop, []byte("not in Oura's OpenAPI document")) {
			t.Errorf("sleep_periods.sleep_regularity_v2 = %s, want nullable object and the description", prop)
		}
	}

	// The served documents, for the byte-for-byte comparison.
	from, to := time.Now().UTC().AddDate(0, 0, -12).Format(time.DateOnly), time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly)
	req, _ := http.NewRequest(http.MethodGet, url+"/v2/usercollection/sleep?start_date="+from+"&end_date="+to, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var page struct{ Data []json.RawMessage }
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, doc := range page.Data {
		served[string(doc)] = true
	}

	catFile := writeJSON(t, "discovered.jsonl", string(d.stdout))
	r := runCLI(t, "read", "--config", config, "--catalog", catFile)
	if r.code != ExitOK {
		t.Fatalf("read: exit %d\n%s", r.code, r.stdout)
	}
	n := 0
	for _, m := range r.ofType(protocol.TypeRecord) {
		if m.Record.Stream != "sleep_periods" {
			continue
		}
		n++
		if !bytes.HasSuffix(m.Record.Data, []byte(`,"sleep_regularity_v2":{"score":81}}`)) || !served[string(m.Record.Data)] {
			t.Fatalf("record not as served: %s", m.Record.Data)
		}
	}
	if n == 0 {
		t.Fatal("the read wrote no sleep_periods records")
	}
}

// TestDiscoverWithDeadAPIListsEveryStream: with nothing listening at base_url, discover still
// prints every stream with its embedded schema and exits 0, with one WARN (not one per stream)
// that says Oura could not be reached and the catalog holds the built-in schemas.
func TestDiscoverWithDeadAPIListsEveryStream(t *testing.T) {
	url := protocoltest.ClosedLoopbackURL(t) // every connection is refused
	start := time.Now()
	r := runCLI(t, "discover", "--config", configFor(t, url, testToken))
	cat := discoveredCatalog(t, r)
	if took := time.Since(start); took > streams.DefaultSampleTimeout+5*time.Second {
		t.Errorf("discover took %s with a dead API", took)
	}
	embeddedSchemas(t, cat)
	// Each retry of a request is a WARN of its own (the client's); the rest say it once.
	warns := slices.DeleteFunc(logsAt(r, protocol.LevelWarn), func(w string) bool { return strings.HasPrefix(w, "Oura request failed (") })
	if len(warns) != 1 || !strings.Contains(warns[0], "could not be reached") || !strings.Contains(warns[0], "could not reach Oura") ||
		!strings.Contains(warns[0], "built-in schemas") {
		t.Fatalf("want one WARN saying Oura could not be reached and the catalog holds the built-in schemas, got %d: %q", len(warns), warns)
	}
	if errs := r.errors(); len(errs) != 0 {
		t.Errorf("unexpected error traces: %+v", errs)
	}
}

// TestDiscoverWithMissingScopeWarnsForThatStream: a token without the session scope still gets
// all streams and exit 0; one WARN names sessions and the scope, and the other streams still get
// their new fields.
func TestDiscoverWithMissingScopeWarnsForThatStream(t *testing.T) {
	var scopes []string
	for _, s := range ouraemu.AllScopes {
		if s != "session" {
			scopes = append(scopes, s)
		}
	}
	_, url := discoverEmulator(t, scopes,
		ouraemu.NewField{Collection: "session", Name: "calmness", Value: json.RawMessage(`"ok"`)},
		ouraemu.NewField{Collection: "workout", Name: "effort", Value: json.RawMessage(`3`)})
	r := runCLI(t, "discover", "--config", recentConfig(t, url))
	cat := discoveredCatalog(t, r)
	if _, ok := schemaOf(t, cat, "sessions")["calmness"]; ok {
		t.Error("sessions got a field although its sample was refused")
	}
	if _, ok := schemaOf(t, cat, "workouts")["effort"]; !ok {
		t.Error("workouts lost its new field")
	}
	warns := logsAt(r, protocol.LevelWarn)
	if len(warns) != 1 || !strings.Contains(warns[0], "could not sample sessions") || !strings.Contains(warns[0], `"session" scope`) {
		t.Errorf("want one WARN naming sessions and the session scope, got %q", warns)
	}
}

// TestDiscoverTwiceIsIdentical: two discovers of the same data print byte-identical catalogs.
func TestDiscoverTwiceIsIdentical(t *testing.T) {
	_, url := discoverEmulator(t, ouraemu.AllScopes,
		ouraemu.NewField{Collection: "daily_sleep", Name: "z_new", Value: json.RawMessage(`1`)},
		ouraemu.NewField{Collection: "daily_sleep", Name: "a_new", Value: json.RawMessage(`"x"`)},
		ouraemu.NewField{Collection: "heartrate", Name: "ring_id", Value: json.RawMessage(`"r"`)})
	config := recentConfig(t, url)
	catalogLine := func() []byte {
		r := runCLI(t, "discover", "--config", config)
		discoveredCatalog(t, r)
		for _, line := range bytes.Split(r.stdout, []byte("\n")) {
			if bytes.HasPrefix(line, []byte(`{"type":"CATALOG"`)) {
				return line
			}
		}
		t.Fatal("no CATALOG line")
		return nil
	}
	first := catalogLine()
	if !bytes.Contains(first, []byte(`"a_new"`)) || !bytes.Contains(first, []byte(`"ring_id"`)) {
		t.Fatal("the new fields are missing")
	}
	if second := catalogLine(); !bytes.Equal(first, second) {
		t.Errorf("two discovers differ:\n%s\n%s", first, second)
	}
}

// embeddedSchemas fails unless every stream of cat has its embedded schema.
func embeddedSchemas(t *testing.T, cat *protocol.Catalog) {
	t.Helper()
	embedded, err := streams.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range cat.Streams {
		if !bytes.Equal(s.JSONSchema, embedded.Streams[i].JSONSchema) {
			t.Errorf("%s: schema is not the embedded one", s.Name)
		}
	}
}

// TestDiscoverWithRefusedCredentialsWarnsOnce: a rejected API key, a spent refresh token and a
// wrong client secret still give the catalog of built-in schemas and exit 0 (orchestrators that
// only want the catalog need no API), with one WARN, not one per stream, that names the refusal,
// what to do, and that the catalog holds the built-in schemas.
func TestDiscoverWithRefusedCredentialsWarnsOnce(t *testing.T) {
	_, url := discoverEmulator(t, ouraemu.AllScopes)
	f := newOAuthFixture(t)
	spent := f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...)
	if r := f.read(t, f.configFile(t, "first.json", spent, ""), oauthCatalog(t, f.dir)); r.code != ExitOK {
		t.Fatalf("the read that spends the refresh token: exit %d", r.code)
	}
	wrongSecret := strings.Replace(string(must(os.ReadFile(f.configFile(t, "secret.json", f.srv.IssueRefreshToken(oauthClientID, ouraemu.AllScopes...), "")))),
		oauthClientSecret, "not-the-secret", 1)
	for _, tc := range []struct{ name, config, want string }{
		{"rejected API key", configFor(t, url, "wrong-token"), "rejected the access token"},
		{"spent refresh token", f.configFile(t, "spent.json", spent, ""), "source-oura auth"},
		{"wrong client secret", writeJSON(t, "wrong-secret.json", wrongSecret), "credentials.client_secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runEnv(t, Env{Now: f.clock.Now}, "discover", "--config", tc.config)
			embeddedSchemas(t, discoveredCatalog(t, r))
			warns := logsAt(r, protocol.LevelWarn)
			if len(warns) != 1 || !strings.Contains(warns[0], "refused the credentials") || !strings.Contains(warns[0], tc.want) ||
				!strings.Contains(warns[0], "built-in schemas") {
				t.Fatalf("want one WARN naming the refusal, %q and the built-in schemas; got %d: %q", tc.want, len(warns), warns)
			}
			if errs := r.errors(); len(errs) != 0 {
				t.Errorf("unexpected error traces: %+v", errs)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestDiscoverInterruptedPrintsNoCatalog: SIGTERM or SIGINT (the context main cancels) during the
// sampling ends discover like an interrupted check: one transient_error saying it was interrupted,
// exit 1, no CATALOG of built-in schemas passed off as a finished discover, no WARN per stream.
func TestDiscoverInterruptedPrintsNoCatalog(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		cancel(errors.New("terminated signal received")) // the signal arrives while Oura thinks
		<-req.Context().Done()
	}))
	t.Cleanup(hs.Close)
	var out, errb bytes.Buffer
	env := Env{Stdout: &out, Stderr: &errb, Spec: specBytes(t), Version: "test"}
	code := Run(ctx, []string{"discover", "--config", configFor(t, hs.URL, testToken)}, env)
	r := result{code: code, stdout: out.Bytes(), stderr: errb.String()}
	r.msgs = protocoltest.DecodeMessages(t, "discover", r.stdout, func(m *protocol.Message) bool { return m.Type != "" })
	errs := r.errors()
	if code != ExitFailure || len(r.ofType(protocol.TypeCatalog)) != 0 || len(errs) != 1 ||
		errs[0].FailureType != protocol.TransientError || !strings.Contains(errs[0].Message, "interrupted") {
		t.Fatalf("want exit 1, no catalog and one transient_error saying discover was interrupted; got exit %d\n%s", code, r.stdout)
	}
	for _, w := range logsAt(r, protocol.LevelWarn) {
		if strings.Contains(w, "could not sample") {
			t.Errorf("a WARN per stream after the interruption: %q", w)
		}
	}
}
