package auth

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestReadPastedEndsWhenCancelled: auth --paste waiting on a stdin that never sends (a pipe from
// `sleep`, a terminal nobody types in) must give up as soon as the command is cancelled, because
// main's signal handling has taken over Ctrl-C and SIGTERM: a bare read kept the process alive.
func TestReadPastedEndsWhenCancelled(t *testing.T) {
	c, err := NewConsent(ConsentOptions{ClientID: clientID, ClientSecret: clientSecret}, "https://api.ouraring.com")
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe() // never written to
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	announced := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := c.ReadPasted(ctx, pr, func(string) { close(announced) })
		done <- err
	}()
	<-announced
	time.Sleep(20 * time.Millisecond) // into the read
	cancel()
	start := time.Now()
	select {
	case err = <-done:
	case <-time.After(time.Second):
		t.Fatal("ReadPasted still waiting 1 s after its context was cancelled")
	}
	t.Logf("returned %v after the cancel", time.Since(start).Round(time.Microsecond))
	if !errors.Is(err, ErrCancelled) || !strings.Contains(err.Error(), "pasted code") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %v; want one line saying the wait for the pasted code was cancelled", err)
	}
	// A context already done does not start a read at all.
	if _, err := c.ReadPasted(ctx, strings.NewReader("code-1\n"), func(string) {}); !errors.Is(err, ErrCancelled) {
		t.Errorf("already cancelled: err = %v, want ErrCancelled", err)
	}
	// What is pasted in time is still read.
	if code, err := c.ReadPasted(context.Background(), strings.NewReader("code-1\n"), func(string) {}); err != nil || code != "code-1" {
		t.Errorf("pasted code-1: got %q, %v", code, err)
	}
}
