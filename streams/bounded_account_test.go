package streams

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"source-oura/internal/oura"
	"source-oura/protocol"
)

// TestAccountIDBounds: an id up to MaxAccountIDBytes without control characters is the account;
// one byte more, or a control character (C0 or C1), is an *UnusableAccountIDError whose text
// is one short line without the id, from both lookups (the sync's and the auth helper's), and
// the sync logs the account only when it is usable.
func TestAccountIDBounds(t *testing.T) {
	for _, tc := range []struct {
		id     string
		usable bool
	}{
		{"6c1e6b4e-2f0a-4c1e-9d8e-1a2b3c4d5e6f", true},
		{strings.Repeat("a", MaxAccountIDBytes), true},
		{strings.Repeat("a", MaxAccountIDBytes+1), false},
		{strings.Repeat("a", 1<<20), false},
		{"user-1\nINFO fake", false},
		{"user-1\u0085", false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"id":` + strconv.Quote(tc.id) + `}`))
		}))
		client, err := oura.New(oura.Config{BaseURL: srv.URL, Tokens: oura.StaticToken("tok"), RequestsPer5Min: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		helper, herr := AccountID(context.Background(), client)
		var logs bytes.Buffer
		r := &Reader{Client: client, Log: protocol.NewLogger(protocol.NewWriter(&logs, nil), false)}
		synced, serr := r.AccountID(context.Background())
		srv.Close()
		if logged := strings.Contains(logs.String(), "account_id"); logged != tc.usable || logs.Len() > 1<<10 {
			t.Errorf("%d-byte id: logged %v in %d bytes of log", len(tc.id), logged, logs.Len())
		}
		for _, got := range []struct {
			id  string
			err error
		}{{helper, herr}, {synced, serr}} {
			var bad *UnusableAccountIDError
			switch {
			case tc.usable && (got.err != nil || got.id != tc.id):
				t.Errorf("%d-byte id: got %q, %v", len(tc.id), got.id, got.err)
			case !tc.usable && (!errors.As(got.err, &bad) || got.id != ""):
				t.Errorf("%d-byte id %.20q: got %.20q, %v; want an UnusableAccountIDError", len(tc.id), tc.id, got.id, got.err)
			case !tc.usable && (len(got.err.Error()) > 200 || strings.ContainsAny(got.err.Error(), "\n\u0085")):
				t.Errorf("error of %d bytes: %.300q", len(got.err.Error()), got.err)
			}
		}
	}
}
