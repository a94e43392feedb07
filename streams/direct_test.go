package streams

import (
	"bytes"
	"testing"
	"time"

	"source-oura/internal/oura"
	"source-oura/internal/protocoltest"
	"source-oura/protocol"
	"source-oura/schemas"
)

// directReader is a Reader of one stream at a time against a hand-made server at baseURL, for
// tests of the loop itself: no config, no rate budget worth the name, the records and logs in
// the returned buffer. The sync ends at end and starts days before it.
func directReader(t *testing.T, baseURL string, end time.Time, days, prefetch int) (*Reader, *bytes.Buffer) {
	t.Helper()
	client, err := oura.New(oura.Config{BaseURL: baseURL, Tokens: oura.StaticToken("direct-reader-token"), RequestsPer5Min: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	v, err := schemas.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	out := &bytes.Buffer{}
	w := protocol.NewWriter(out, nil)
	return &Reader{Client: client, Out: w, Log: protocol.NewLogger(w, false), Validator: v, Concurrency: 1, Prefetch: prefetch,
		Start: end.AddDate(0, 0, -days), End: end, Now: func() time.Time { return end }}, out
}

// fullRefreshJob is a full-refresh job of the named stream.
func fullRefreshJob(t *testing.T, name string) Job {
	t.Helper()
	s, ok := Lookup(name)
	if !ok {
		t.Fatalf("no stream %q", name)
	}
	return Job{Stream: s, Mode: protocol.FullRefresh, Desc: protocol.StreamDescriptor{Name: s.Name}}
}

// messages decodes what a directReader wrote; every line must be a message.
func messages(t *testing.T, out *bytes.Buffer) []protocol.Message {
	t.Helper()
	return protocoltest.DecodeMessages(t, "read", out.Bytes(), func(m *protocol.Message) bool { return m.Type != "" })
}
