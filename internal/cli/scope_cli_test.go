package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"source-oura/internal/oura"
	"source-oura/internal/protocoltest"
	"source-oura/streams"
)

// Oura sometimes refuses a collection with a bare "Insufficient scope". The stream table
// (Stream.Scope) is then the one place that knows the scope, and the stream's error must name it.
func TestRefusalWithoutAScopeNameNamesTheStreamTableScope(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"detail":"Insufficient scope"}`))
	}))
	t.Cleanup(srv.Close)
	catalog := `{"streams":[{"stream":{"name":"daily_resilience","json_schema":{},"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`
	r := runEnv(t, Env{Client: func(c *oura.Config) { c.MaxAttempts = 1 }},
		"read", "--config", configFor(t, srv.URL, testToken), "--catalog", writeJSON(t, "catalog.json", catalog))
	errs := r.errors()
	if len(errs) == 0 {
		t.Fatalf("no error trace, exit %d\n%s", r.code, r.stdout)
	}
	if !strings.Contains(errs[0].Message, `lacks the "stress" scope`) {
		t.Errorf("the error does not name daily_resilience's scope from the stream table: %q", errs[0].Message)
	}
}

// The scope tables of the README and docs say what the stream table says: the stream files are the
// one source of each stream's scope, and a doc that drifts from them would send users to grant the
// wrong scope.
func TestDocsScopesMatchTheStreamTable(t *testing.T) {
	scopeOf := map[string]string{}
	scopes := map[string]bool{}
	for _, s := range streams.AllStreams() {
		scopeOf[s.Name] = s.Scope
		scopes[s.Scope] = true
	}
	root := protocoltest.RepoRoot(t)
	for _, doc := range []string{"README.md", "docs/oura.md", "docs/auth.md"} {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]string{} // stream -> scope, from rows "| scope | streams |"
		rows := 0
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "|") {
				continue
			}
			cells := strings.Split(strings.Trim(line, "| "), "|")
			for i := range cells {
				cells[i] = strings.TrimSpace(strings.ReplaceAll(cells[i], "`", ""))
			}
			if want, ok := scopeOf[cells[0]]; ok && len(cells) >= 5 {
				rows++
				if got := cells[len(cells)-1]; got != want {
					t.Errorf("%s: stream %s has scope %q, the stream table says %q", doc, cells[0], got, want)
				}
			}
			if scopes[cells[0]] && len(cells) == 2 {
				for _, name := range strings.FieldsFunc(cells[1], func(r rune) bool { return r == ',' || r == ' ' || r == '(' }) {
					if _, ok := scopeOf[name]; ok {
						listed[name] = cells[0]
					}
				}
			}
		}
		if len(listed) > 0 {
			for name, want := range scopeOf {
				if got := listed[name]; got != want {
					t.Errorf("%s: the scope table gives %s scope %q, the stream table says %q", doc, name, got, want)
				}
			}
		} else if rows != len(scopeOf) {
			t.Errorf("%s: %d stream rows with a scope, want %d", doc, rows, len(scopeOf))
		}
	}
}
