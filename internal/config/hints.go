package config

import (
	"fmt"
	"sort"
	"strings"
)

// Hints for misnamed keys. A key the connector does not know is ignored, so a misspelt
// start_datetime silently reads from 2015 and a misnamed token reads as "credentials is
// missing". Each unknown key close to a known one gets a "did you mean" hint: first from the
// alias table (names other tools use), then by edit distance or a shared prefix.

// aliases maps names people write (lower case, '-' and ' ' as '_') to the key they mean, at
// the top level of the config.
var aliases = map[string]string{
	"token": "api_key", "access_token": "api_key", "personal_access_token": "api_key", "pat": "api_key",
	"apikey": "api_key", "api_token": "api_key", "oura_token": "api_key", "personal_token": "api_key", "key": "api_key",
	"start": "start_datetime", "start_time": "start_datetime", "startdate": "start_datetime", "from": "start_datetime",
	"end": "end_datetime", "end_time": "end_datetime", "enddate": "end_datetime", "to": "end_datetime",
	"lookback": "lookback_window_days", "lookback_days": "lookback_window_days",
	"concurrency": "max_concurrent_streams", "max_concurrency": "max_concurrent_streams", "max_streams": "max_concurrent_streams",
	"rate_limit": "requests_per_5_minutes", "max_requests": "requests_per_5_minutes",
	"url": "base_url", "api_url": "base_url", "host": "base_url", "endpoint": "base_url",
	"auth": "credentials", "authentication": "credentials", "oauth": "credentials",
	// OAuth fields written at the top level belong inside credentials.
	"refresh_token": "credentials.refresh_token", "client_id": "credentials.client_id",
	"client_secret": "credentials.client_secret", "auth_type": "credentials.auth_type",
}

// credAliases is the same inside the credentials object.
var credAliases = map[string]string{
	"token": "api_key", "personal_access_token": "api_key", "pat": "api_key", "apikey": "api_key",
	"refresh": "refresh_token", "type": "auth_type", "method": "auth_type", "auth": "auth_type",
	"expiry": "token_expiry_date", "expires_at": "token_expiry_date", "token_expiry": "token_expiry_date",
	"secret": "client_secret", "id": "client_id",
}

// Bounds on the work: keys are compared only when short, and only the first few unknown
// keys get a hint or are named in a message.
const (
	maxHintKeyLen = 64
	maxNamedKeys  = 10
)

// unknownKeys lists, sorted, the keys the spec does not know: at the top level, and inside a
// credentials object as credentials.KEY. Keys starting with "_" are comments and not listed.
func (v *Validator) unknownKeys(obj map[string]any) []string {
	var out []string
	for k := range obj {
		if !v.props[k] && !strings.HasPrefix(k, "_") {
			out = append(out, k)
		}
	}
	if creds, ok := obj["credentials"].(map[string]any); ok {
		for k := range creds {
			if !v.credProps[k] && !strings.HasPrefix(k, "_") {
				out = append(out, "credentials."+k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// describeUnknown names unknown keys for a person, each with a hint where one fits:
// `keys the connector does not know: "start_date" (did you mean "start_datetime"?), "x"`.
func describeUnknown(keys []string, props, credProps map[string]bool) string {
	if len(keys) == 0 {
		return ""
	}
	var parts []string
	for i, k := range keys {
		if i == maxNamedKeys {
			parts = append(parts, fmt.Sprintf("and %d more", len(keys)-i))
			break
		}
		part := fmt.Sprintf("%q", k)
		if s := suggest(k, props, credProps); s != "" {
			part += fmt.Sprintf(" (did you mean %q?)", s)
		}
		parts = append(parts, part)
	}
	what := "a key the connector does not know: "
	if len(keys) > 1 {
		what = "keys the connector does not know: "
	}
	return what + strings.Join(parts, ", ")
}

// suggest returns the known key an unknown one most likely meant, or "".
func suggest(key string, props, credProps map[string]bool) string {
	known, table, prefix := props, aliases, ""
	if rest, ok := strings.CutPrefix(key, "credentials."); ok {
		key, known, table, prefix = rest, credProps, credAliases, "credentials."
	}
	if len(key) > maxHintKeyLen {
		return ""
	}
	norm := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(key)))
	if to, ok := table[norm]; ok {
		return prefix + to
	}
	best, bestDist := "", 0
	for k := range known {
		if k == norm {
			return prefix + k // only the letter case differed
		}
		d := distance(norm, k)
		// Allow about one typo in four letters, at most two; short keys must match closely.
		limit := min(2, len(norm)/4)
		if len(norm) >= 4 && (strings.HasPrefix(k, norm) || strings.HasPrefix(norm, k)) {
			limit = max(limit, d)
		}
		if d <= limit && (best == "" || d < bestDist || d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return prefix + best
}

// distance is the Levenshtein edit distance between two short strings, by bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
