package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigOutCreatesFolder: `ouraemu --config-out secrets/config.json` on a fresh clone, where
// secrets/ does not exist yet, writes the config (0600, in a 0700 folder) instead of failing.
func TestConfigOutCreatesFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets", "emu")
	out := filepath.Join(dir, "config.json")
	lines, stop := startRun(t, "--days", "2", "--config-out", out)
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("--config-out into a missing folder: %v", err)
	}
	if strings.TrimSpace(string(written)) != lines[2] {
		t.Errorf("--config-out holds %s, stdout showed %s", written, lines[2])
	}
	for path, want := range map[string]os.FileMode{out: 0o600, dir: 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	if err := stop(); err != nil {
		t.Errorf("run after cancel: %v", err)
	}
}

// TestConfigOutUnwritable: a --config-out the emulator cannot create gives an error naming the flag.
func TestConfigOutUnwritable(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(t.Context(), []string{"--addr", "127.0.0.1:0", "--days", "2", "--config-out", filepath.Join(blocker, "config.json")}, os.Stderr, os.Stderr)
	if err == nil || !strings.Contains(err.Error(), "--config-out") {
		t.Errorf("config-out below a file: %v; want an error naming --config-out", err)
	}
}

// TestConfigOutReplacesAWholeFile: a config left by an earlier run (a longer one, with another
// port) is replaced in one step, so a script waiting for the file reads the new config whole,
// and no temporary file is left beside it.
func TestConfigOutReplacesAWholeFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "config.json")
	stale := `{"api_key":"old","base_url":"http://127.0.0.1:1","start_datetime":"2020-01-01T00:00:00Z","padding":"` + strings.Repeat("x", 4096) + `"}`
	if err := os.WriteFile(out, []byte(stale), 0o644); err != nil {
		t.Fatal(err)
	}
	lines, stop := startRun(t, "--days", "2", "--config-out", out)
	defer stop()
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(written)) != lines[2] {
		t.Errorf("--config-out holds %.80s…, stdout showed %s", written, lines[2])
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced config: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d files, want only config.json", len(entries))
	}
}
