package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"source-oura/internal/ouraemu"
	"source-oura/internal/protocoltest"
	"source-oura/protocol"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "source-oura-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if binary, err = protocoltest.BuildConnector(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const tok = "main-test-token-42"

// slowEmulator serves 400 days with small pages and added latency, so a read takes a while.
func slowEmulator(t *testing.T, latency time.Duration) string {
	t.Helper()
	last := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	ds := ouraemu.Generate(ouraemu.GenOptions{Seed: 3, First: last.AddDate(0, 0, -400), Last: last})
	srv := ouraemu.NewServer(ouraemu.Options{Dataset: ds, PageSize: 200, Tokens: map[string][]string{tok: ouraemu.AllScopes}})
	srv.SetFaults(ouraemu.Faults{Latency: latency})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return hs.URL
}

func files(t *testing.T, url string) (config, catalog string) {
	t.Helper()
	dir := t.TempDir()
	config = filepath.Join(dir, "config.json")
	catalog = filepath.Join(dir, "catalog.json")
	cfg := fmt.Sprintf(`{"api_key":%q,"base_url":%q,"start_datetime":"2024-05-01T00:00:00Z","end_datetime":"2025-06-01T00:00:00Z","max_concurrent_streams":2}`, tok, url)
	cat := `{"streams":[` +
		`{"stream":{"name":"heart_rate","json_schema":{},"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"},` +
		`{"stream":{"name":"ring_battery_level","json_schema":{},"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"},` +
		`{"stream":{"name":"daily_sleep","json_schema":{},"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(catalog, []byte(cat), 0o600); err != nil {
		t.Fatal(err)
	}
	return config, catalog
}

// startRead starts a read of the emulator at url in the background, with stdout as a pipe the
// test reads (or closes) as it goes.
func startRead(t *testing.T, url string) (*exec.Cmd, io.ReadCloser, *bytes.Buffer) {
	t.Helper()
	config, catalog := files(t, url)
	cmd := exec.Command(binary, "read", "--config", config, "--catalog", catalog)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdout, stderr
}

// TestSIGTERMStopsCleanly: on SIGTERM the connector stops asking, writes what it has,
// marks unfinished streams INCOMPLETE and exits 1 within 5 seconds.
func TestSIGTERMStopsCleanly(t *testing.T) {
	cmd, stdout, stderr := startRead(t, slowEmulator(t, 150*time.Millisecond))
	var lines []string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	// Wait for the first state: the sync is under way.
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), `"type":"STATE"`) {
			break
		}
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		done <- cmd.Wait()
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("still running 5 s after SIGTERM")
	}
	t.Logf("exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	if code := protocoltest.ExitCode(t, err); code != 1 {
		t.Fatalf("want exit 1, got %v", err)
	}
	status := map[string]string{}
	var last protocol.Message
	msgs := protocoltest.DecodeMessages(t, "read stopped by SIGTERM", []byte(strings.Join(lines, "\n")), func(m *protocol.Message) bool { return m.Type != "" })
	for _, m := range msgs {
		if m.Trace != nil && m.Trace.StreamStatus != nil {
			status[m.Trace.StreamStatus.StreamDescriptor.Name] = string(m.Trace.StreamStatus.Status)
		}
		last = m
	}
	if status["heart_rate"] != "INCOMPLETE" {
		t.Errorf("heart_rate should be INCOMPLETE, statuses %v", status)
	}
	if last.Trace == nil || last.Trace.Error == nil || last.Trace.Error.FailureType != protocol.TransientError {
		t.Errorf("the last message should be a transient error trace, got %+v", last)
	}
	if strings.Contains(stderr.String(), "goroutine") {
		t.Errorf("stack trace on stderr:\n%s", stderr.String())
	}
}

// TestStdoutClosedEarly: `read | head -1` ends the connector quietly with a non-zero exit.
func TestStdoutClosedEarly(t *testing.T) {
	cmd, stdout, stderr := startRead(t, slowEmulator(t, 0))
	first, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "{") {
		t.Fatalf("first line %q: %v", first, err)
	}
	stdout.Close() // like head -1 exiting
	ended, err := waitExit(cmd, 20*time.Second)
	if !ended {
		t.Fatal("the connector kept running after its stdout was closed")
	}
	if err == nil {
		t.Fatal("want a non-zero exit when stdout is gone")
	}
	if s := stderr.String(); strings.Contains(s, "goroutine") || strings.Contains(s, "panic") {
		t.Fatalf("stack trace on stderr:\n%s", s)
	}
	_, _ = io.Copy(io.Discard, stdout)
}

// TestFIFOInputRefusedAndSIGTERMEndsIt: --config, --catalog or --state naming a named pipe
// with no writer is refused with a config_error naming it, and the process ends within a
// second of SIGTERM either way (it used to block in open forever, deaf to SIGTERM).
func TestFIFOInputRefusedAndSIGTERMEndsIt(t *testing.T) {
	config, catalog := files(t, "http://127.0.0.1:9")
	for _, flag := range []string{"config", "catalog", "state"} {
		t.Run(flag, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), flag+".json")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
			args := map[string]string{"config": config, "catalog": catalog}
			args[flag] = fifo
			argv := []string{"read", "--config", args["config"], "--catalog", args["catalog"]}
			if flag == "state" {
				argv = append(argv, "--state", fifo)
			}
			cmd := exec.Command(binary, argv...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			_ = cmd.Process.Signal(syscall.SIGTERM) // fails harmlessly if it has already exited
			if ended, _ := waitExit(cmd, time.Second); !ended {
				t.Fatalf("still running 1 s after SIGTERM, blocked on the %s FIFO", flag)
			}
			var last protocol.Message
			if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &last); err != nil {
				t.Fatalf("want one message on stdout, got %q: %v", stdout.String(), err)
			}
			if last.Trace == nil || last.Trace.Error == nil || last.Trace.Error.FailureType != protocol.ConfigError ||
				!strings.Contains(last.Trace.Error.Message, fifo) || !strings.Contains(last.Trace.Error.Message, "not a regular file") {
				t.Errorf("want a config_error naming %s, got %s", fifo, stdout.String())
			}
			if cmd.ProcessState.ExitCode() != 1 {
				t.Errorf("exit %d, want 1", cmd.ProcessState.ExitCode())
			}
		})
	}
}

// TestAuthPasteEndsOnSignal: `sleep 30 | source-oura auth --paste` waits for a code that never
// comes; SIGTERM or Ctrl-C (SIGINT) ends it within 2 s with exit 1 and one transient error
// saying the wait was cancelled. It used to stay blocked in the read, deaf to both signals.
func TestAuthPasteEndsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "config.json")
			cmd := exec.Command(binary, "auth", "--client-id", "client-x", "--paste", "--output", out)
			cmd.Env = append(os.Environ(), "OURA_CLIENT_SECRET=secret-x")
			stdin, err := cmd.StdinPipe() // held open and never written, like `sleep 30 |`
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			prompted := make(chan struct{})
			go func() {
				sc := bufio.NewScanner(stderr)
				once := false
				for sc.Scan() {
					if !once && strings.Contains(sc.Text(), "paste it here") {
						once = true
						close(prompted)
					}
				}
			}()
			select {
			case <-prompted:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("no paste prompt within 10 s")
			}
			time.Sleep(50 * time.Millisecond) // into the read
			sent := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			ended, err := waitExit(cmd, 2*time.Second)
			if !ended {
				t.Fatalf("still waiting for the pasted code 2 s after %v", sig)
			}
			t.Logf("exited %v after %v", time.Since(sent).Round(time.Millisecond), sig)
			if code := protocoltest.ExitCode(t, err); code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			var last protocol.Message
			if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &last); err != nil {
				t.Fatalf("want one message on stdout, got %q: %v", stdout.String(), err)
			}
			if last.Trace == nil || last.Trace.Error == nil || last.Trace.Error.FailureType != protocol.TransientError ||
				!strings.Contains(last.Trace.Error.Message, "cancelled while waiting for the pasted code") {
				t.Errorf("want a transient error saying the wait was cancelled, got %s", stdout.String())
			}
		})
	}
}

// TestCPUProfileNeverOverwritesAFile: SOURCE_OURA_CPUPROFILE naming an existing file, or a
// symlink to one (it once named the config file and destroyed the only refresh token), leaves
// that file byte-identical, warns in one stderr line naming the variable, and the command still
// works. A new path still gets a profile.
func TestCPUProfileNeverOverwritesAFile(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "config.json")
	content := []byte(`{"credentials":{"refresh_token":"the-only-one"}}`)
	if err := os.WriteFile(existing, content, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.prof")
	if err := os.Symlink(existing, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.prof")
	if err := os.Symlink(filepath.Join(dir, "not-yet"), dangling); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "new.prof")
	for _, tc := range []struct {
		name, path string
		refused    bool
	}{
		{"existing file", existing, true},
		{"symlink to it", link, true},
		{"dangling symlink", dangling, true},
		{"new file", fresh, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, "spec")
			cmd.Env = append(os.Environ(), "SOURCE_OURA_CPUPROFILE="+tc.path)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("spec: %v\n%s", err, stderr.String())
			}
			if !strings.Contains(stdout.String(), `"type":"SPEC"`) {
				t.Errorf("no SPEC message on stdout: %s", stdout.String())
			}
			if got, _ := os.ReadFile(existing); !bytes.Equal(got, content) {
				t.Fatalf("%s was changed (%d bytes now, %d before)", existing, len(got), len(content))
			}
			warn := strings.TrimSpace(stderr.String())
			if tc.refused {
				if strings.Count(warn, "\n") != 0 || !strings.Contains(warn, "SOURCE_OURA_CPUPROFILE") || !strings.Contains(warn, tc.path) {
					t.Errorf("want one stderr line naming the variable and %s, got %q", tc.path, warn)
				}
				if _, err := os.Lstat(filepath.Join(dir, "not-yet")); err == nil {
					t.Error("the dangling symlink's target was created")
				}
				return
			}
			if warn != "" {
				t.Errorf("stderr: %q", warn)
			}
			if fi, err := os.Stat(fresh); err != nil || fi.Size() == 0 {
				t.Errorf("no profile written to a new path: %v", err)
			}
		})
	}
}

// waitExit waits up to d for a started command to end and returns what Wait returned; when d
// passes first it kills the command, waits for it, and reports ended false.
func waitExit(cmd *exec.Cmd, d time.Duration) (ended bool, err error) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
		return true, err
	case <-time.After(d):
		_ = cmd.Process.Kill()
		return false, <-done
	}
}

// TestFullStdoutIsOneLineOnStderr: with stdout on /dev/full, every command exits 1 with exactly
// the one line that says stdout cannot be written, and no zerolog line per dropped event.
func TestFullStdoutIsOneLineOnStderr(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	config, catalog := files(t, slowEmulator(t, 0))
	for _, argv := range [][]string{{"spec"}, {"check", "--config", config}, {"discover", "--config", config},
		{"read", "--config", config, "--catalog", catalog}} {
		cmd := exec.Command(binary, argv...)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = full, &stderr
		err := cmd.Run()
		want := "source-oura: cannot write to stdout: write /dev/stdout: no space left on device; nothing more can be reported there\n"
		if code := protocoltest.ExitCode(t, err); code != 1 || stderr.String() != want {
			t.Errorf("%s > /dev/full: exit %d, stderr %q; want exit 1 and %q", argv[0], code, stderr.String(), want)
		}
	}
}
