package auth

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var newTokens = Tokens{
	AccessToken:  "acc-NEW",
	RefreshToken: "ref-NEW",
	Expiry:       time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600)),
}

func TestUpdateConfigEditsOnlyTheTokens(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{
			name: "pretty, every key present, unknown keys and order kept",
			in: `{
  "_note": "mine",
  "credentials": {
    "auth_type": "oauth2.0",
    "token_expiry_date": "2020-01-01T00:00:00Z",
    "client_id": "id",
    "refresh_token": "ref-OLD",
    "extra": [1, {"refresh_token": "not me"}],
    "client_secret": "s",
    "access_token": "acc-OLD"
  },
  "start_datetime": "2024-01-01",
  "zzz": {"access_token": "not me either"}
}
`,
			want: `{
  "_note": "mine",
  "credentials": {
    "auth_type": "oauth2.0",
    "token_expiry_date": "2026-03-04T04:06:07Z",
    "client_id": "id",
    "refresh_token": "ref-NEW",
    "extra": [1, {"refresh_token": "not me"}],
    "client_secret": "s",
    "access_token": "acc-NEW"
  },
  "start_datetime": "2024-01-01",
  "zzz": {"access_token": "not me either"}
}
`,
		},
		{
			name: "pretty, missing keys appended in the same style",
			in:   "{\n\t\"credentials\": {\n\t\t\"auth_type\": \"oauth2.0\",\n\t\t\"refresh_token\": \"ref-OLD\"\n\t}\n}",
			want: "{\n\t\"credentials\": {\n\t\t\"auth_type\": \"oauth2.0\",\n\t\t\"refresh_token\": \"ref-NEW\",\n" +
				"\t\t\"access_token\": \"acc-NEW\",\n\t\t\"token_expiry_date\": \"2026-03-04T04:06:07Z\"\n\t}\n}",
		},
		{
			name: "compact",
			in:   `{"credentials":{"refresh_token":"ref-OLD","auth_type":"oauth2.0"},"sandbox":true}`,
			want: `{"credentials":{"refresh_token":"ref-NEW","auth_type":"oauth2.0","access_token":"acc-NEW","token_expiry_date":"2026-03-04T04:06:07Z"},"sandbox":true}`,
		},
		{
			name: "escapes in other values survive",
			in:   `{"a\"b":"x\\\"}","credentials":{"k":"{\"refresh_token\":1}","refresh_token":"ref-OLD"}}`,
			want: `{"a\"b":"x\\\"}","credentials":{"k":"{\"refresh_token\":1}","refresh_token":"ref-NEW","access_token":"acc-NEW","token_expiry_date":"2026-03-04T04:06:07Z"}}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := UpdateConfig([]byte(tc.in), newTokens)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestUpdateConfigDropsAnExpiryItCannotKnow(t *testing.T) {
	in := "{\n  \"credentials\": {\n    \"refresh_token\": \"ref-OLD\",\n    \"token_expiry_date\": \"2020-01-01T00:00:00Z\",\n    \"auth_type\": \"oauth2.0\"\n  }\n}"
	want := "{\n  \"credentials\": {\n    \"refresh_token\": \"ref-NEW\",\n    \"auth_type\": \"oauth2.0\",\n    \"access_token\": \"acc-NEW\"\n  }\n}"
	got, err := UpdateConfig([]byte(in), Tokens{AccessToken: "acc-NEW", RefreshToken: "ref-NEW"})
	if err != nil || string(got) != want {
		t.Errorf("got %v\n%s\nwant\n%s", err, got, want)
	}
}

func TestSetMembersCreatesMissingObjects(t *testing.T) {
	creds := []Member{{Key: "auth_type", Value: "oauth2.0"}, {Key: "client_id", Value: "id"}}
	for _, tc := range []struct{ in, want string }{
		{"{\n}\n", "{\n  \"credentials\": {\n    \"auth_type\": \"oauth2.0\",\n    \"client_id\": \"id\"\n  }\n}\n"},
		{`{}`, `{"credentials":{"auth_type":"oauth2.0","client_id":"id"}}`},
		{"{\n  \"sandbox\": true\n}", "{\n  \"sandbox\": true,\n  \"credentials\": {\n    \"auth_type\": \"oauth2.0\",\n    \"client_id\": \"id\"\n  }\n}"},
		{`{"credentials":"junk","x":1}`, `{"credentials":{"auth_type":"oauth2.0","client_id":"id"},"x":1}`},
	} {
		got, err := SetMembers([]byte(tc.in), []string{"credentials"}, creds)
		if err != nil || string(got) != tc.want {
			t.Errorf("%q: got %v\n%s\nwant\n%s", tc.in, err, got, tc.want)
		}
	}
	got, err := SetMembers([]byte(`{"api_key":"k","credentials":{"auth_type":"api_key","api_key":"k"},"b":2}`), nil,
		[]Member{{Key: "b", Value: 3}}, "api_key")
	if want := `{"credentials":{"auth_type":"api_key","api_key":"k"},"b":3}`; err != nil || string(got) != want {
		t.Errorf("remove at top level: %v %s", err, got)
	}
}

func TestSetMembersRefusesWhatIsNotAnObject(t *testing.T) {
	for _, in := range []string{``, `[1]`, `{"a":}`, `"x"`, `{"a":1}}`} {
		if out, err := SetMembers([]byte(in), nil, []Member{{Key: "a", Value: 1}}); err == nil {
			t.Errorf("%q accepted: %s", in, out)
		}
	}
}

func writeTemp(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // WriteFile is subject to the umask
		t.Fatal(err)
	}
	return p
}

func readBack(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noTempFiles fails if a temporary file was left in dir.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestWriteFileNeverLoosensTheMode: the original's bits are kept where stricter than 0600,
// and group/other bits are dropped: the file now holds a fresh refresh token.
func TestWriteFileNeverLoosensTheMode(t *testing.T) {
	for mode, want := range map[os.FileMode]os.FileMode{0o600: 0o600, 0o640: 0o600, 0o644: 0o600, 0o200: 0o200} {
		p := writeTemp(t, "old", mode)
		if err := WriteFile(p, []byte("new"), 0o600); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != want {
			t.Errorf("mode %04o: now %04o, want %04o", mode, info.Mode().Perm(), want)
		}
		if mode&0o400 != 0 && readBack(t, p) != "new" {
			t.Errorf("mode %04o: content %q", mode, readBack(t, p))
		}
		noTempFiles(t, filepath.Dir(p))
	}
}

func TestWriteFileCreatesWithTheGivenMode(t *testing.T) {
	p := filepath.Join(t.TempDir(), "new.json")
	if err := WriteFile(p, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(p); info.Mode().Perm() != 0o600 || readBack(t, p) != "{}" {
		t.Errorf("new file: mode %04o, %q", info.Mode().Perm(), readBack(t, p))
	}
}

func TestWriteFileRefusesReadOnlyFilesAndFolders(t *testing.T) {
	p := writeTemp(t, "old", 0o400)
	err := WriteFile(p, []byte("new"), 0o600)
	if !errors.Is(err, ErrReadOnly) || readBack(t, p) != "old" {
		t.Errorf("read-only file: err %v, content %q", err, readBack(t, p))
	}

	// A read-only folder no longer stops the write: the file itself is rewritten in place
	// (TestUpdateFileInPlaceWhenTheFolderCannotBeWritten).
	p = writeTemp(t, "old", 0o600)
	dir := filepath.Dir(p)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	err = WriteFile(p, []byte("new"), 0o600)
	if err != nil || readBack(t, p) != "new" {
		t.Errorf("read-only folder: err %v, content %q", err, readBack(t, p))
	}
	noTempFiles(t, dir)
}

func TestWriteFileFollowsSymlinks(t *testing.T) {
	target := writeTemp(t, "old", 0o600)
	link := filepath.Join(t.TempDir(), "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if err := WriteFile(link, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced by a file")
	}
	if readBack(t, target) != "new" {
		t.Errorf("target = %q", readBack(t, target))
	}
}

func TestWriteFileRewritesAMountedFileInPlace(t *testing.T) {
	// A file bind-mounted on its own into a container cannot be renamed over (EBUSY).
	rename = func(string, string) error { return &os.LinkError{Op: "rename", Err: syscall.EBUSY} }
	t.Cleanup(func() { rename = os.Rename })
	p := writeTemp(t, "a much longer old content", 0o640)
	if err := WriteFile(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(p); readBack(t, p) != "new" || info.Mode().Perm() != 0o600 {
		t.Errorf("content %q mode %04o", readBack(t, p), info.Mode().Perm())
	}
	noTempFiles(t, filepath.Dir(p))

	rename = func(string, string) error { return &os.LinkError{Op: "rename", Err: syscall.EIO} }
	if err := WriteFile(p, []byte("newer"), 0o600); err == nil || readBack(t, p) != "new" {
		t.Errorf("other rename failure: err %v, content %q", err, readBack(t, p))
	}
	noTempFiles(t, filepath.Dir(p))
}

const oldConfig = `{
  "credentials": {
    "auth_type": "oauth2.0",
    "client_id": "id",
    "client_secret": "s",
    "refresh_token": "ref-OLD-0123456789",
    "access_token": "acc-OLD-0123456789"
  },
  "start_datetime": "2024-01-01"
}
`

// tokensIn returns the refresh token of a config document, failing if it is not JSON.
func tokensIn(t *testing.T, doc []byte) string {
	t.Helper()
	var c struct {
		Credentials struct {
			RefreshToken string `json:"refresh_token"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal(doc, &c); err != nil {
		t.Fatalf("not a JSON document: %v\n%q", err, doc)
	}
	return c.Credentials.RefreshToken
}

func noWarn(t *testing.T) func(string) {
	return func(s string) { t.Errorf("unexpected warning: %s", s) }
}

// TestUpdateFileKeepsEditsMadeDuringTheRun: the file is re-read just before the rewrite, so a
// change made to it while the sync ran survives; only the token fields change.
func TestUpdateFileKeepsEditsMadeDuringTheRun(t *testing.T) {
	p := writeTemp(t, oldConfig, 0o600)
	// The run read oldConfig at start-up; meanwhile the user edits the file.
	edited := strings.Replace(oldConfig, `"start_datetime": "2024-01-01"`, `"start_datetime": "2025-06-01",
  "sandbox": true`, 1)
	if err := os.WriteFile(p, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := UpdateFile(p, newTokens, noWarn(t)); err != nil {
		t.Fatal(err)
	}
	want, err := UpdateConfig([]byte(edited), newTokens)
	if err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, p); got != string(want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestUpdateFileRefusesAFileNoLongerJSON: a file broken by an edit in progress is left alone
// with an error, not overwritten with the start-up copy.
func TestUpdateFileRefusesAFileNoLongerJSON(t *testing.T) {
	p := writeTemp(t, `{"credentials": {"refresh_token": "half an ed`, 0o600)
	err := UpdateFile(p, newTokens, noWarn(t))
	if err == nil || !strings.Contains(err.Error(), p) || readBack(t, p) != `{"credentials": {"refresh_token": "half an ed` {
		t.Fatalf("err %v, content %q", err, readBack(t, p))
	}
}

// TestUpdateFileInPlaceWhenTheFolderCannotBeWritten: a file that is writable in a folder that
// is not (a single file mounted into a container as uid 1000) gets the new tokens in place.
func TestUpdateFileInPlaceWhenTheFolderCannotBeWritten(t *testing.T) {
	t.Run("no file can be created in the folder", func(t *testing.T) {
		createTemp = func(string, string) (*os.File, error) {
			return nil, &os.PathError{Op: "open", Path: "/secrets/.config.json.tmp", Err: syscall.EACCES}
		}
		t.Cleanup(func() { createTemp = os.CreateTemp })
		p := writeTemp(t, oldConfig, 0o600)
		if err := UpdateFile(p, newTokens, noWarn(t)); err != nil {
			t.Fatal(err)
		}
		if got := tokensIn(t, []byte(readBack(t, p))); got != "ref-NEW" {
			t.Errorf("refresh token %q", got)
		}
	})
	t.Run("the folder has no write bit", func(t *testing.T) {
		p := writeTemp(t, oldConfig, 0o600)
		dir := filepath.Dir(p)
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		if err := UpdateFile(p, newTokens, noWarn(t)); err != nil {
			t.Fatal(err)
		}
		if got := tokensIn(t, []byte(readBack(t, p))); got != "ref-NEW" {
			t.Errorf("refresh token %q", got)
		}
		noTempFiles(t, dir)
	})
}

// TestInPlaceRewriteIsNeverAPartialDocument: between any two steps of an in-place rewrite (where
// a crash or a kill could stop it) the file is a complete JSON document holding the old tokens
// or the new ones; it is never truncated first. New content longer, shorter, and as long.
func TestInPlaceRewriteIsNeverAPartialDocument(t *testing.T) {
	rename = func(string, string) error { return &os.LinkError{Op: "rename", Err: syscall.EBUSY} }
	t.Cleanup(func() { rename = os.Rename; afterStep = nil })
	for name, tok := range map[string]Tokens{
		"longer":  {RefreshToken: "ref-NEW-" + strings.Repeat("x", 300), AccessToken: "acc-NEW"},
		"shorter": {RefreshToken: "r", AccessToken: "a"},
		"as long": {RefreshToken: "ref-NEW-9876543210", AccessToken: "acc-NEW-9876543210"},
	} {
		t.Run(name, func(t *testing.T) {
			p := writeTemp(t, oldConfig, 0o600)
			var steps []string
			afterStep = func(step string) {
				steps = append(steps, step)
				if got := tokensIn(t, []byte(readBack(t, p))); got != "ref-OLD-0123456789" && got != tok.RefreshToken {
					t.Errorf("after %s: refresh token %q", step, got)
				}
			}
			if err := UpdateFile(p, tok, noWarn(t)); err != nil {
				t.Fatal(err)
			}
			want, _ := UpdateConfig([]byte(oldConfig), tok)
			if got := readBack(t, p); got != string(want) {
				t.Errorf("final content\n%q\nwant\n%q", got, want)
			}
			if !slices.Contains(steps, "write") {
				t.Errorf("not rewritten in place: steps %v", steps)
			}
			t.Logf("steps %v", steps)
		})
	}
}

// TestUpdateFileKeepsOwnerAndGroup: a config owned by another user and rewritten by root stays
// that user's, both when it is replaced by a rename and when it is rewritten in place, and is
// 0600 after.
func TestUpdateFileKeepsOwnerAndGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	for _, inPlace := range []bool{false, true} {
		if inPlace {
			rename = func(string, string) error { return &os.LinkError{Op: "rename", Err: syscall.EBUSY} }
		}
		p := writeTemp(t, oldConfig, 0o640)
		if err := os.Chown(p, 4242, 4343); err != nil {
			t.Fatal(err)
		}
		err := UpdateFile(p, newTokens, noWarn(t))
		rename = os.Rename
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		if st.Uid != 4242 || st.Gid != 4343 || info.Mode().Perm() != 0o600 {
			t.Errorf("in place %v: owner %d:%d mode %04o, want 4242:4343 0600", inPlace, st.Uid, st.Gid, info.Mode().Perm())
		}
		if got := tokensIn(t, []byte(readBack(t, p))); got != "ref-NEW" {
			t.Errorf("in place %v: refresh token %q", inPlace, got)
		}
		noTempFiles(t, filepath.Dir(p))
	}
}

// TestInPlaceRewriteNarrowsTheModeOrWarns: a 0644 file rewritten in place becomes 0600; when
// this user may not change its mode, the tokens are still saved and a warning says what to do.
func TestInPlaceRewriteNarrowsTheModeOrWarns(t *testing.T) {
	rename = func(string, string) error { return &os.LinkError{Op: "rename", Err: syscall.EBUSY} }
	t.Cleanup(func() { rename = os.Rename; chmod = (*os.File).Chmod })
	p := writeTemp(t, oldConfig, 0o644)
	if err := UpdateFile(p, newTokens, noWarn(t)); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(p); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", info.Mode().Perm())
	}

	chmod = func(f *os.File, _ os.FileMode) error {
		return &os.PathError{Op: "chmod", Path: f.Name(), Err: syscall.EPERM}
	}
	p = writeTemp(t, oldConfig, 0o644)
	var warnings []string
	if err := UpdateFile(p, newTokens, func(s string) { warnings = append(warnings, s) }); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "chmod 600 "+p) || !strings.Contains(warnings[0], "0644") {
		t.Errorf("warnings %q", warnings)
	}
	if got := tokensIn(t, []byte(readBack(t, p))); got != "ref-NEW" {
		t.Errorf("refresh token %q", got)
	}
}

// TestWriteConfigRefusesAFIFOWithoutBlocking: the auth helper reads an existing --output before
// updating it; a FIFO there (or any file that is not regular) is refused at once instead of
// waiting forever for a writer, and nothing is written.
func TestWriteConfigRefusesAFIFOWithoutBlocking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	c := &Consent{App: App{ClientID: "client-id-1", ClientSecret: "client-secret-1"}, AppType: "cloud", Output: path}
	done := make(chan error, 1)
	go func() { done <- c.WriteConfig(Tokens{RefreshToken: "refresh-token-1"}, "oauth2.0") }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("WriteConfig on a FIFO = %v, want a refusal saying it is not a regular file", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WriteConfig blocked on a FIFO with no writer")
	}
}
