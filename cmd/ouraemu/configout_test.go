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
