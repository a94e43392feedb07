package oura

import (
	"context"
	"errors"
	"fmt"
)

// TokenSource supplies the bearer token sent to Oura. Implementations must be safe for concurrent use:
// one Client serves every stream.
type TokenSource interface {
	// Token returns the token to send now.
	Token(ctx context.Context) (string, error)
	// Refresh is called once after a 401 with the token that was rejected; it returns a fresh token or an
	// error (a static API key cannot refresh: return an error wrapping ErrCannotRefresh). Passing the
	// rejected token lets an implementation shared by concurrent callers refresh only once.
	Refresh(ctx context.Context, rejected string) (string, error)
}

// StaticToken returns a TokenSource for a fixed token, such as a personal access token. It cannot refresh.
func StaticToken(token string) TokenSource { return staticToken(token) }

type staticToken string

var errEmptyToken = errors.New("the access token is empty")

func (s staticToken) Token(context.Context) (string, error) {
	if s == "" {
		return "", errEmptyToken
	}
	return string(s), nil
}

func (s staticToken) Refresh(context.Context, string) (string, error) {
	return "", fmt.Errorf("a fixed API key: %w", ErrCannotRefresh)
}
