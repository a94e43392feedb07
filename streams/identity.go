package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/rs/zerolog"

	"source-oura/internal/oura"
)

// identity is the account behind the token, read from personal_info at most once per sync: the
// account id is logged from here alone, and the personal_info stream reuses the document instead of
// asking for it again.
type identity struct {
	mu    sync.Mutex
	body  []byte // personal_info as Oura sent it; nil until fetched
	id    string
	idErr error // the id Oura sent is unusable (*UnusableAccountIDError)
}

// MaxAccountIDBytes bounds the Oura user id the connector accepts. Oura's ids are UUID-like
// (36 bytes), so this is generous; it is there because with account_column on the id is written
// into every record, and an id of any length would grow every RECORD line by as much.
const MaxAccountIDBytes = 256

// UnusableAccountIDError is personal_info carrying an id the connector will not log or write
// into records: longer than MaxAccountIDBytes, or with control characters. Its text
// never carries the id itself.
type UnusableAccountIDError struct {
	Reason string // what is wrong with it, the id's length for one too long
}

// Error says the id is unusable and why, in one line.
func (e *UnusableAccountIDError) Error() string {
	return fmt.Sprintf("Oura sent an unusable user id in personal_info (%s)", e.Reason)
}

// accountLookupTimeout bounds the whole account lookup, retries included. It runs before any stream, so
// a server that accepts and never answers would otherwise hold the sync silent for the client's full
// retry budget (6 attempts of up to a minute each) before the first stream starts. A variable so that
// tests can shorten it.
var accountLookupTimeout = 2 * time.Minute

// lookupContext is ctx bounded by accountLookupTimeout.
func lookupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, accountLookupTimeout)
}

// lookupFailed words a lookup that ran out of its own time (not the caller's) as an *oura.Error of kind
// Network: transient, naming personal_info and the limit, instead of a bare "context deadline exceeded".
func lookupFailed(ctx, lookup context.Context, path string, err error) error {
	if ctx.Err() == nil && errors.Is(lookup.Err(), context.DeadlineExceeded) {
		return &oura.Error{Kind: oura.Network, Path: path, Err: fmt.Errorf(
			"no usable answer within %s, the time the account lookup may take (the WARNs above say what happened)", accountLookupTimeout)}
	}
	return err
}

// AccountID returns the Oura user id of the token's account (from personal_info) and logs it once
// per sync ("syncing Oura account"), so the syncs of several accounts can be told apart. Only a
// token with the personal scope can read it; the sandbox has no personal_info route. The lookup,
// retries included, ends after accountLookupTimeout.
func (r *Reader) AccountID(ctx context.Context) (string, error) {
	if r.Sandbox {
		return "", errors.New("the sandbox has no personal_info")
	}
	lctx, cancel := lookupContext(ctx)
	defer cancel()
	if _, _, err := r.personalInfo(lctx); err != nil {
		return "", lookupFailed(ctx, lctx, r.path(&personalInfo), err)
	}
	if r.who.idErr != nil {
		return "", r.who.idErr
	}
	if r.who.id == "" {
		return "", errors.New("personal_info has no id")
	}
	return r.who.id, nil
}

// personalInfo returns the personal_info document, fetching it unless this sync already did
// (requested says whether it sent a request now). A failed fetch is not kept: the personal_info
// stream asks again and reports its own error.
func (r *Reader) personalInfo(ctx context.Context) (body []byte, requested bool, err error) {
	r.who.mu.Lock()
	defer r.who.mu.Unlock()
	if r.who.body != nil {
		return r.who.body, false, nil
	}
	body, err = r.Client.Get(ctx, r.path(&personalInfo), nil)
	if err != nil {
		return nil, true, err
	}
	r.who.body = body
	if r.who.id, r.who.idErr = accountIDOf(body); r.who.id != "" {
		r.Log.Info().Str("account_id", r.who.id).Msg("syncing Oura account")
	}
	return body, true, nil
}

// AccountID reads the user id of the token's account from personal_info, for callers without a
// sync (the auth helper names the account it just authorized): Reader.AccountID on a reader of
// its own, which logs nothing.
func AccountID(ctx context.Context, client *oura.Client) (string, error) {
	return (&Reader{Client: client, Log: zerolog.Nop()}).AccountID(ctx)
}

// accountIDOf is the "id" of a personal_info document, "" when it has none, and an
// *UnusableAccountIDError (with "") when the id is not one the connector can log and write.
// (Bytes that are not UTF-8 arrive as U+FFFD: encoding/json replaces them.)
func accountIDOf(body []byte) (string, error) {
	var doc struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return "", nil
	}
	id := doc.ID
	switch {
	case len(id) > MaxAccountIDBytes:
		return "", &UnusableAccountIDError{
			Reason: fmt.Sprintf("%d bytes, more than the %d an id may have", len(id), MaxAccountIDBytes)}
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return "", &UnusableAccountIDError{Reason: "it contains control characters"}
	}
	return id, nil
}
