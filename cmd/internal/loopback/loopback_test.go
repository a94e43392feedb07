package loopback

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServeAnswersOnLoopbackUntilStopped: the base URL is a 127.0.0.1 address that reaches the
// handler, and nothing answers there once stop has run.
func TestServeAnswersOnLoopbackUntilStopped(t *testing.T) {
	url, stop, err := Serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "hello "+r.URL.Path) }))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("base URL %q is not on 127.0.0.1", url)
	}
	resp, err := http.Get(url + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello /x" {
		t.Fatalf("body %q", body)
	}
	stop()
	http.DefaultClient.CloseIdleConnections()
	if resp, err := http.Get(url + "/x"); err == nil {
		resp.Body.Close()
		t.Fatal("the server still answers after stop")
	}
}
