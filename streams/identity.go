package streams

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"source-oura/internal/oura"
)

// identity is the account behind the token, read from personal_info at most once per sync: the
// account id is logged from here alone, and the personal_info stream reuses the document instead of
// asking for it again.
type identity struct {
	mu   sync.Mutex
	body []byte // personal_info as Oura sent it; nil until fetched
	id   string
}

// AccountID returns the Oura user id of the token's account (from personal_info) and logs it once
// per sync ("syncing Oura account"), so the syncs of several accounts can be told apart. Only a
// token with the personal scope can read it; the sandbox has no personal_info route.
func (r *Reader) AccountID(ctx context.Context) (string, error) {
	if r.Sandbox {
		return "", errors.New("the sandbox has no personal_info")
	}
	if _, _, err := r.personalInfo(ctx); err != nil {
		return "", err
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
	if r.who.id = accountIDOf(body); r.who.id != "" {
		r.Log.Info().Str("account_id", r.who.id).Msg("syncing Oura account")
	}
	return body, true, nil
}

// AccountID reads the user id of the token's account from personal_info, for callers without a
// sync (the auth helper names the account it just authorized).
func AccountID(ctx context.Context, client *oura.Client) (string, error) {
	body, err := client.Get(ctx, "/v2/usercollection/"+personalInfo.Path, nil)
	if err != nil {
		return "", err
	}
	if id := accountIDOf(body); id != "" {
		return id, nil
	}
	return "", errors.New("personal_info has no id")
}

// accountIDOf is the "id" of a personal_info document, "" when it has none.
func accountIDOf(body []byte) string {
	var doc struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	return doc.ID
}
