package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"source-oura/internal/protocoltest"
)

// openPTY opens a pseudo-terminal pair: what a person typing at the secret prompt sits behind.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	var unlock int32
	var n uint32
	if err := ioctl(m, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Skipf("unlocking the pseudo-terminal: %v", err)
	}
	if err := ioctl(m, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Skipf("naming the pseudo-terminal: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

func ioctl(f *os.File, req uintptr, arg unsafe.Pointer) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(arg)); errno != 0 {
		return errno
	}
	return nil
}

func echoes(t *testing.T, tty *os.File) bool {
	t.Helper()
	var tio syscall.Termios
	if err := ioctl(tty, syscall.TCGETS, unsafe.Pointer(&tio)); err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&syscall.ECHO != 0
}

// TestSecretPromptEndsOnSIGTERMAndGivesTheTerminalBack: auth asking for the client secret on a
// terminal nobody types in ends within 2 s of SIGTERM, exit 1, and leaves the terminal echoing
// again: the abandoned no-echo read would otherwise leave the user's shell blind.
func TestSecretPromptEndsOnSIGTERMAndGivesTheTerminalBack(t *testing.T) {
	_, tty := openPTY(t)
	if !echoes(t, tty) {
		t.Fatal("a new pseudo-terminal should echo")
	}
	cmd := exec.Command(binary, "auth", "--client-id", "client-x", "--paste", "--output", filepath.Join(t.TempDir(), "c.json"))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OURA_CLIENT_SECRET=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdin = tty
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	prompted := make(chan struct{})
	go func() {
		r := bufio.NewReader(stderr)
		buf := ""
		for !strings.Contains(buf, "typing is not shown") {
			b, err := r.ReadByte()
			if err != nil {
				return
			}
			buf += string(b)
		}
		close(prompted)
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case <-prompted:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("no secret prompt within 10 s")
	}
	// The prompt is printed just before the read turns echo off.
	deadline := time.Now().Add(2 * time.Second)
	for echoes(t, tty) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if echoes(t, tty) {
		_ = cmd.Process.Kill()
		t.Fatal("the prompt did not turn echo off")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ended, err := waitExit(cmd, 2*time.Second)
	if !ended {
		t.Fatal("still at the secret prompt 2 s after SIGTERM")
	}
	if code := protocoltest.ExitCode(t, err); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !echoes(t, tty) {
		t.Error("the terminal was left without echo")
	}
}
