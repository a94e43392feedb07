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
	"time"

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

// TestAccountLookupHasADeadline: against a server that accepts and never answers, the account lookup
// (the sync's and the auth helper's) gives up after accountLookupTimeout, retries included, instead of
// the client's whole retry budget, with one transient error that names personal_info and the limit.
func TestAccountLookupHasADeadline(t *testing.T) {
	old := accountLookupTimeout
	accountLookupTimeout = 300 * time.Millisecond
	defer func() { accountLookupTimeout = old }()

	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer srv.Close()
	var logs bytes.Buffer
	log := protocol.NewLogger(protocol.NewWriter(&logs, nil), false)
	client, err := oura.New(oura.Config{BaseURL: srv.URL, Tokens: oura.StaticToken("tok"),
		Timeout: 5 * time.Second, MaxAttempts: 6, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r := &Reader{Client: client, Log: log}
	for name, lookup := range map[string]func(context.Context) (string, error){
		"sync":        r.AccountID,
		"auth helper": func(ctx context.Context) (string, error) { return AccountID(ctx, client) },
	} {
		start := time.Now()
		id, err := lookup(context.Background())
		took := time.Since(start)
		if took > 3*time.Second {
			t.Errorf("%s: the lookup took %s, want about 300ms", name, took)
		}
		var oe *oura.Error
		if id != "" || !errors.As(err, &oe) || oe.Kind != oura.Network || !oe.Transient() {
			t.Fatalf("%s: got %q, %v; want a transient network *oura.Error", name, id, err)
		}
		msg := err.Error()
		for _, want := range []string{"/v2/usercollection/personal_info", "within 300ms", "account lookup", "try again later"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: message %q lacks %q", name, msg, want)
			}
		}
		if strings.Contains(msg, "context deadline exceeded") {
			t.Errorf("%s: message %q is Go's, not the connector's", name, msg)
		}
	}

	// The caller's own cancellation stays a cancellation: it is not blamed on Oura.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := r.AccountID(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a cancelled sync: %v, want the caller's deadline", err)
	}
}

// TestAccountLookupRetriesAreWarned: each retry of the lookup is a WARN saying what happened and the
// attempt, so a person watching a slow lookup sees progress instead of silence.
func TestAccountLookupRetriesAreWarned(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"id":"u1"}`))
	}))
	defer srv.Close()
	var logs bytes.Buffer
	log := protocol.NewLogger(protocol.NewWriter(&logs, nil), false)
	client, err := oura.New(oura.Config{BaseURL: srv.URL, Tokens: oura.StaticToken("tok"), MinBackoff: time.Millisecond,
		MaxBackoff: time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r := &Reader{Client: client, Log: log}
	if id, err := r.AccountID(context.Background()); id != "u1" || err != nil {
		t.Fatalf("AccountID = %q, %v", id, err)
	}
	if !strings.Contains(logs.String(), `"level":"WARN","message":"Oura request failed (HTTP 503) on attempt 1 of 6; asking again in`) {
		t.Errorf("no WARN for the retry:\n%s", logs.String())
	}
}
