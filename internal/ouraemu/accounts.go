package ouraemu

import (
	"net/http"
	"strings"
)

// bearerToken returns the token of a request's Authorization header, "" for none. Only
// requests bearer has accepted reach the data, so it need not report malformed headers.
func bearerToken(r *http.Request) string {
	scheme, token, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
