package ouraemu

import (
	"net/http"
	"strings"
)

// bearerToken returns the token of a request's Authorization header, "" for none or a header
// that is not "Bearer <token>": bearer says which, for the answer; the data routes only need the
// token to pick the account.
func bearerToken(r *http.Request) string {
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
