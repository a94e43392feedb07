package ouratest

import (
	"net"
	"sync/atomic"
	"testing"
)

// NotTLS is what a server that does not speak TLS (here an SSH server's greeting) answers a TLS
// client with: "first record does not look like a TLS handshake".
const NotTLS = "SSH-2.0-OpenSSH_9.6\r\n"

// Listen serves a loopback TCP port below HTTP, for servers no http.Handler can play: each
// connection is counted, handed to handle, then closed. handle nil closes it at once without a
// word. It returns the address (host:port) and the count of connections so far; the listener
// closes when the test ends.
func Listen(t testing.TB, handle func(net.Conn)) (addr string, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the test ended
			}
			conns.Add(1)
			if handle != nil {
				handle(c)
			}
			c.Close()
		}
	}()
	return ln.Addr().String(), conns
}
