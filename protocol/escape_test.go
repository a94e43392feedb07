package protocol

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestMessagesKeepAngleBrackets: a message with < > & shows them as they are, not as \u003c
// escapes, and the line is still one valid JSON message.
func TestMessagesKeepAngleBrackets(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, NewMasker())
	text := `Oura said "<html>" & gave up (got <nil>)`
	if err := w.ConnectionStatus(StatusFailed, text); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	line := out.String()
	if strings.Contains(line, `\u003c`) || strings.Contains(line, `\u0026`) || !strings.Contains(line, `<html>`) {
		t.Fatalf("escaped or lost brackets: %s", line)
	}
	if strings.Count(line, "\n") != 1 {
		t.Fatalf("want one line, got %q", line)
	}
	var m Message
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || m.ConnectionStatus.Message != text {
		t.Fatalf("not the same message back: %v %+v", err, m.ConnectionStatus)
	}
}
