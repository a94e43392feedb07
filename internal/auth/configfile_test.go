package auth

import (
	"errors"
	"os"
	"path/filepath"
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

	p = writeTemp(t, "old", 0o600)
	dir := filepath.Dir(p)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	err = WriteFile(p, []byte("new"), 0o600)
	if !errors.Is(err, ErrReadOnly) || readBack(t, p) != "old" {
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
	if info, _ := os.Stat(p); readBack(t, p) != "new" || info.Mode().Perm() != 0o640 {
		t.Errorf("content %q mode %04o", readBack(t, p), info.Mode().Perm())
	}
	noTempFiles(t, filepath.Dir(p))

	rename = func(string, string) error { return &os.LinkError{Op: "rename", Err: syscall.EIO} }
	if err := WriteFile(p, []byte("newer"), 0o600); err == nil || readBack(t, p) != "new" {
		t.Errorf("other rename failure: err %v, content %q", err, readBack(t, p))
	}
	noTempFiles(t, filepath.Dir(p))
}
