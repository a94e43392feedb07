package auth

import (
	"strings"
	"testing"
)

// TestConsentErrorsNameFlagsOnlyForTheAuthCommand: one Error type serves the auth command and
// read/check. A refused client or token URL names the config fields for a config file, and the
// flags (and where the secret came from) when the auth command set SecretFrom.
func TestConsentErrorsNameFlagsOnlyForTheAuthCommand(t *testing.T) {
	for _, tc := range []struct {
		name       string
		kind       Kind
		secretFrom string
		want       string
		notWant    string
	}{
		{"client, config", BadClient, "", "check credentials.client_id and credentials.client_secret against", "--client-id"},
		{"client, auth", BadClient, "OURA_CLIENT_SECRET", "check --client-id and the client secret (OURA_CLIENT_SECRET) against", "credentials."},
		{"token URL, config", Refused, "", "check credentials.token_url (default: the base URL + /oauth/token;", "--token-url"},
		{"token URL, auth", Refused, "typed at the prompt", "check --token-url and --app-type", "credentials."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Error{Kind: tc.kind, Grant: grantCode, TokenURL: "https://api.ouraring.com/oauth/token", Status: 401,
				Code: "invalid_client", SecretFrom: tc.secretFrom}
			msg := e.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, tc.notWant) || strings.Contains(msg, "\n") {
				t.Errorf("%s\nwant one line with %q and without %q", msg, tc.want, tc.notWant)
			}
		})
	}
}
