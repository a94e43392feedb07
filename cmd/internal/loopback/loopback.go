// Package loopback serves a handler (the bundled emulator) on a free loopback port for
// cmd/bench and cmd/demo, which both measure or show the connector against it in-process.
package loopback

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve serves h on a free 127.0.0.1 port in the background and returns its base URL and a
// stop function that closes the server and every connection.
func Serve(h http.Handler) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listening on loopback for the emulator: %w", err)
	}
	// ReadHeaderTimeout bounds a client that opens a connection and never sends a request.
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = hs.Close() }, nil
}
