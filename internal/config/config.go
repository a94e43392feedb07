// Package config reads and checks the connector's config file: first against the
// connectionSpecification in spec.json (with jsonschema/v5), then for the rules a schema
// cannot say. Every error names the field and what to do.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"source-oura/internal/netpolicy"
)

// Auth kinds, as the credentials.auth_type const values spell them.
const (
	AuthAPIKey = "api_key"
	AuthOAuth  = "oauth2.0"
)

// Defaults for optional fields.
const (
	DefaultBaseURL         = "https://api.ouraring.com"
	DefaultLookbackDays    = 7
	DefaultConcurrency     = 4
	DefaultRequestsPer5Min = 5000
)

// DefaultStart is where a sync begins when start_datetime is not set: before the first
// Oura ring that talks to the v2 API.
var DefaultStart = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

// Auth holds the credentials. For AuthAPIKey only APIKey is set.
type Auth struct {
	Kind         string
	APIKey       string
	ClientID     string
	ClientSecret string
	RefreshToken string
	AccessToken  string
	TokenExpiry  time.Time // zero when unknown
	TokenURL     string    // resolved: never empty for OAuth
	// AppType is credentials.oauth_app_type ("cloud", "developer_portal" or empty, the schema's
	// enum); with TokenURL it decides where refreshes go (auth.TokenEndpoints).
	AppType string
}

// Config is a checked config.
type Config struct {
	Auth            Auth
	Start           time.Time
	End             time.Time // zero: up to now
	LookbackDays    int
	BaseURL         string // without a trailing slash
	Sandbox         bool
	MaxConcurrent   int
	RequestsPer5Min int
	// Account is the account_column setting; off by default.
	Account AccountColumn
	// Unknown lists the keys the spec does not know, at the top level and inside credentials
	// (as credentials.KEY); they are accepted and ignored.
	Unknown []string
	// unknownNote says the same for a person, with a "did you mean" hint where one fits.
	unknownNote string
	// trimmed lists the secret fields whose surrounding spaces were removed, for Warnings.
	trimmed []string
	// labelTrimmed: account_column.label had surrounding spaces, removed; labelIgnored: a label
	// was given while account_column.enabled is not true. Both for Warnings.
	labelTrimmed, labelIgnored bool
	// badExpiry is credentials.token_expiry_date as written when it could not be read, for
	// Warnings: the expiry is then unknown and the access token is not used (see Parse).
	badExpiry *string
	// startText and endText are start_datetime and end_datetime as written ("" when not set),
	// so that messages show the user's own words rather than the whole-day End.
	startText, endText string
	// Raw is the config document as given, for rewriting it after a token refresh.
	Raw []byte
}

// AccountColumnName is the column account_column adds to every record. The oura_ prefix keeps
// it clear of the fields Oura sends, which have none.
const AccountColumnName = "oura_account"

// AccountColumn is the account_column setting, for several accounts synced into one set of
// tables: when Enabled, every record carries AccountColumnName, whose value is Label or, when
// Label is empty, the Oura user id from personal_info.
type AccountColumn struct {
	Enabled bool
	Label   string // "" for the Oura user id
}

// Error is a config problem in one field.
type Error struct {
	Field   string // dotted path, e.g. credentials.refresh_token; "" for the whole document
	Problem string
	// Hint names the keys the connector does not know, with "did you mean" suggestions: a
	// misnamed key is often why a required one looks missing.
	Hint string
}

func (e *Error) Error() string {
	msg := "config: " + e.Problem
	if e.Field != "" {
		msg = fmt.Sprintf("config field %q: %s", e.Field, e.Problem)
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Validator checks configs against the spec's connectionSpecification.
type Validator struct {
	schema *jsonschema.Schema
	props  map[string]bool
	// credProps are the keys of every credentials variant.
	credProps map[string]bool
	// ranges says, for each integer field, which numbers it takes ("a whole number from 0 to 90").
	ranges map[string]string
	// secretPaths lists the fields marked airbyte_secret, as paths.
	secretPaths [][]string
	// oauth is the credentials variant for OAuth2.0 alone, and oauthEnums the allowed values of
	// its enum fields: a config that clearly means OAuth is told what its OAuth part lacks rather
	// than that it matches neither variant (oauthError).
	oauth      *jsonschema.Schema
	oauthEnums map[string][]string
}

// NewValidator compiles the connectionSpecification of a spec.json document.
func NewValidator(spec []byte) (*Validator, error) {
	var doc struct {
		ConnectionSpecification json.RawMessage `json:"connectionSpecification"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("spec.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft7
	if err := c.AddResource("spec.json", bytes.NewReader(doc.ConnectionSpecification)); err != nil {
		return nil, fmt.Errorf("spec.json connectionSpecification: %w", err)
	}
	s, err := c.Compile("spec.json")
	if err != nil {
		return nil, fmt.Errorf("spec.json connectionSpecification: %w", err)
	}
	var tree map[string]any
	if err := json.Unmarshal(doc.ConnectionSpecification, &tree); err != nil {
		return nil, fmt.Errorf("spec.json connectionSpecification: %w", err)
	}
	v := &Validator{schema: s, props: map[string]bool{}, credProps: map[string]bool{}, ranges: map[string]string{}}
	props, _ := tree["properties"].(map[string]any)
	for k, p := range props {
		v.props[k] = true
		if pm, ok := p.(map[string]any); ok && pm["type"] == "integer" {
			v.ranges[k] = integerRange(pm)
		}
	}
	if creds, ok := props["credentials"].(map[string]any); ok {
		variants, _ := creds["oneOf"].([]any)
		for i, variant := range variants {
			vm, _ := variant.(map[string]any)
			vp, _ := vm["properties"].(map[string]any)
			for k := range vp {
				v.credProps[k] = true
			}
			if at, _ := vp["auth_type"].(map[string]any); at["const"] == AuthOAuth {
				if v.oauth, err = c.Compile(fmt.Sprintf("spec.json#/properties/credentials/oneOf/%d", i)); err != nil {
					return nil, fmt.Errorf("spec.json connectionSpecification, OAuth2.0 credentials: %w", err)
				}
				v.oauthEnums = map[string][]string{}
				for k, p := range vp {
					pm, _ := p.(map[string]any)
					enum, _ := pm["enum"].([]any)
					for _, e := range enum {
						v.oauthEnums[k] = append(v.oauthEnums[k], fmt.Sprint(e))
					}
				}
			}
		}
	}
	collectSecrets(tree, nil, &v.secretPaths)
	return v, nil
}

// collectSecrets records the property paths marked airbyte_secret, looking into oneOf variants.
func collectSecrets(node map[string]any, path []string, out *[][]string) {
	if props, ok := node["properties"].(map[string]any); ok {
		for name, p := range props {
			pm, ok := p.(map[string]any)
			if !ok {
				continue
			}
			child := append(append([]string{}, path...), name)
			if sec, _ := pm["airbyte_secret"].(bool); sec {
				*out = append(*out, child)
			}
			collectSecrets(pm, child, out)
		}
	}
	if variants, ok := node["oneOf"].([]any); ok {
		for _, v := range variants {
			if vm, ok := v.(map[string]any); ok {
				collectSecrets(vm, path, out)
			}
		}
	}
}

// Secrets returns the values of every airbyte_secret field present in a config document, so
// they can be masked. It works on documents that failed validation too.
func (v *Validator) Secrets(raw []byte) []string {
	var doc map[string]any
	// Numbers stay text: a number float64 cannot hold (1e999) must not stop the masking.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&doc) != nil {
		return nil
	}
	var out []string
	for _, p := range v.secretPaths {
		var cur any = doc
		for _, k := range p {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = m[k]
		}
		if s, ok := cur.(string); ok && s != "" {
			out = append(out, s)
			// Parse removes surrounding spaces, and the value without them is what gets sent.
			if t := strings.TrimSpace(s); t != s && t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// Parse checks a config document and returns the config. Errors are *Error.
func (v *Validator) Parse(raw []byte) (*Config, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, &Error{Problem: "is not valid JSON: " + err.Error()}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, &Error{Problem: "must be a JSON object with the connector's settings, not " + kindOf(doc)}
	}
	cfg := &Config{
		LookbackDays:    DefaultLookbackDays,
		BaseURL:         DefaultBaseURL,
		MaxConcurrent:   DefaultConcurrency,
		RequestsPer5Min: DefaultRequestsPer5Min,
		Start:           DefaultStart,
		Raw:             raw,
	}
	if err := checkDuplicateKeys(raw); err != nil {
		return nil, err
	}
	cfg.Unknown = v.unknownKeys(obj)
	cfg.unknownNote = describeUnknown(cfg.Unknown, v.props, v.credProps)
	withHint := func(err error) error {
		var ce *Error
		if errors.As(err, &ce) && cfg.unknownNote != "" {
			ce.Hint = "the config has " + cfg.unknownNote
		}
		return err
	}
	// Before the schema: its validator panics on numbers like 1e999999999 and takes
	// seconds on a number with a million digits.
	if err := v.checkNumbers(doc, ""); err != nil {
		return nil, withHint(err)
	}
	cfg.badExpiry = unreadableExpiry(obj)
	if err := v.schema.Validate(doc); err != nil {
		if oe := v.oauthError(obj); oe != nil {
			return nil, withHint(oe)
		}
		return nil, withHint(schemaError(err))
	}
	d, err := v.decode(obj)
	if err != nil {
		return nil, withHint(err)
	}
	if err := cfg.fill(d); err != nil {
		return nil, withHint(err)
	}
	return cfg, nil
}

// Warnings lists what a person should hear about a config that is valid: keys it does not
// know (with a "did you mean" hint where one fits), secrets whose surrounding spaces were
// removed, a start in the future, which makes a sync read nothing, and dates before Oura's first
// ring, where there is nothing to read. Each is worded to follow "config file PATH: ".
func (c *Config) Warnings(now time.Time) []string {
	var out []string
	if c.unknownNote != "" {
		out = append(out, "it has "+c.unknownNote+", which the connector ignores")
	}
	if len(c.trimmed) > 0 {
		out = append(out, trimWarning(c.trimmed))
	}
	if c.labelTrimmed {
		out = append(out, fmt.Sprintf("account_column.label had spaces before or after it; the connector removed them and writes %q: remove them from the config too",
			c.Account.Label))
	}
	if c.labelIgnored {
		out = append(out, "account_column.label is set but account_column.enabled is not, so the label is ignored and records carry no oura_account column; set \"enabled\": true to add it, or remove the label")
	}
	if c.badExpiry != nil {
		out = append(out, fmt.Sprintf("credentials.token_expiry_date %q is not an RFC 3339 date-time such as 2026-01-02T15:04:05Z, so the access token's expiry is unknown: the connector gets a new access token first and saves its expiry",
			*c.badExpiry))
	}
	if c.Start.After(now) {
		out = append(out, fmt.Sprintf("start_datetime %s is in the future (it is now %s): the sync reads nothing before it, so it will find no data; check the date",
			c.Start.Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	if c.Start.Before(DefaultStart) {
		out = append(out, fmt.Sprintf("start_datetime %s is before 2015, when Oura's first ring shipped; requests start at %s",
			c.startText, DefaultStart.Format(time.DateOnly)))
	}
	if !c.End.IsZero() && c.End.Before(DefaultStart) {
		out = append(out, fmt.Sprintf("end_datetime %s is before 2015, when Oura's first ring shipped: the sync will find no data; check the date",
			c.endText))
	}
	return out
}

// document is the config's shape, decoded once the schema has checked every type. Pointers and
// json.Number tell a field that is absent from one that is empty or zero, as the defaults need.
type document struct {
	Credentials          *credentials    `json:"credentials"`
	APIKey               *string         `json:"api_key"`
	StartDatetime        *string         `json:"start_datetime"`
	EndDatetime          string          `json:"end_datetime"`
	LookbackWindowDays   json.Number     `json:"lookback_window_days"`
	Sandbox              bool            `json:"sandbox"`
	MaxConcurrentStreams json.Number     `json:"max_concurrent_streams"`
	RequestsPer5Minutes  json.Number     `json:"requests_per_5_minutes"`
	BaseURL              *string         `json:"base_url"`
	AccountColumn        *accountSetting `json:"account_column"`

	// strayAccountKey is a key of account_column other than enabled and label, refused by fill.
	strayAccountKey string
}

// credentials holds the members of every credentials variant; auth_type says which apply.
type credentials struct {
	AuthType        string `json:"auth_type"`
	APIKey          string `json:"api_key"`
	ClientID        string `json:"client_id"`
	ClientSecret    string `json:"client_secret"`
	RefreshToken    string `json:"refresh_token"`
	AccessToken     string `json:"access_token"`
	TokenExpiryDate string `json:"token_expiry_date"`
	TokenURL        string `json:"token_url"`
	OAuthAppType    string `json:"oauth_app_type"`
}

// accountSetting is account_column.
type accountSetting struct {
	// Enabled is a pointer so that "enabled" left out (a label alone: most likely a mistake,
	// warned about) differs from an explicit false (the column turned off on purpose).
	Enabled *bool  `json:"enabled"`
	Label   string `json:"label"`
}

// decode turns the checked document into a document struct. encoding/json matches member names
// without regard to case, so only the exact names the schema knows are handed to it: a key such as
// "API_KEY" stays an unknown key that is warned about and ignored, as the schema sees it.
func (v *Validator) decode(obj map[string]any) (*document, error) {
	known := make(map[string]any, len(obj))
	for k, val := range obj {
		if v.props[k] {
			known[k] = val
		}
	}
	if creds, ok := obj["credentials"].(map[string]any); ok {
		kept := make(map[string]any, len(creds))
		for k, val := range creds {
			if v.credProps[k] {
				kept[k] = val
			}
		}
		known["credentials"] = kept
	}
	stray := ""
	if ac, ok := obj["account_column"].(map[string]any); ok {
		// Its keys are checked here too, though the spec allows others (Airbyte wants
		// additionalProperties left open): a misspelt label would otherwise put the user id where
		// a participant id was meant.
		for k := range ac {
			if k != "enabled" && k != "label" {
				stray = k
			}
		}
	}
	b, err := json.Marshal(known)
	if err != nil {
		return nil, &Error{Problem: "cannot be read: " + err.Error()}
	}
	d := document{strayAccountKey: stray}
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, &Error{Problem: "cannot be read: " + err.Error()}
	}
	return &d, nil
}

func (c *Config) fill(d *document) error {
	if d.BaseURL != nil {
		u, err := netpolicy.BaseURL("", *d.BaseURL)
		if err != nil {
			return &Error{Field: "base_url", Problem: err.Error()}
		}
		c.BaseURL = u
	}
	if err := c.fillAuth(d); err != nil {
		return err
	}
	if d.StartDatetime != nil {
		t, err := parseBound("start_datetime", *d.StartDatetime)
		if err != nil {
			return err
		}
		c.Start, c.startText = t, *d.StartDatetime
	}
	if s := d.EndDatetime; s != "" {
		t, err := parseBound("end_datetime", s)
		if err != nil {
			return err
		}
		c.endText = s
		if _, err := time.Parse(time.DateOnly, s); err == nil {
			// A date means that whole day, for the time series too: their last window keeps
			// samples up to and including End, so End is the last instant of the day.
			t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
		}
		c.End = t
	}
	if !c.End.IsZero() && c.Start.After(c.End) {
		if c.startText == "" {
			// Blame the field the user set, not the default they never wrote.
			return &Error{Field: "end_datetime", Problem: fmt.Sprintf("%s is before start_datetime (%s when not set); Oura has no data before 2015: use a later end_datetime, or leave it empty",
				c.endText, DefaultStart.Format(time.DateOnly))}
		}
		return &Error{Field: "start_datetime", Problem: fmt.Sprintf("%s is after end_datetime %s; the start must come first",
			c.startText, c.endText)}
	}
	for _, f := range []struct {
		key string
		n   json.Number
		dst *int
	}{
		{"lookback_window_days", d.LookbackWindowDays, &c.LookbackDays},
		{"max_concurrent_streams", d.MaxConcurrentStreams, &c.MaxConcurrent},
		{"requests_per_5_minutes", d.RequestsPer5Minutes, &c.RequestsPer5Min},
	} {
		if f.n == "" {
			continue
		}
		n, err := intField(f.key, f.n)
		if err != nil {
			return err
		}
		*f.dst = n
	}
	c.Sandbox = d.Sandbox
	if k := d.strayAccountKey; k != "" {
		return &Error{Field: "account_column." + k, Problem: `is not a setting of account_column; it takes "enabled" (true or false) and "label" (text), so rename or remove it`}
	}
	return c.fillAccount(d.AccountColumn)
}

// fillAccount reads account_column, which the schema and decode have checked.
func (c *Config) fillAccount(ac *accountSetting) error {
	if ac == nil {
		return nil
	}
	c.Account.Enabled = ac.Enabled != nil && *ac.Enabled
	label := ac.Label
	if label != "" && strings.TrimSpace(label) == "" {
		return &Error{Field: "account_column.label", Problem: "is only blanks; give the account a name such as a participant id, or leave it empty to use the Oura user id"}
	}
	// The label goes into every record and every primary key, where a tab, a NUL or a direction
	// override is invisible and " p-01 " is another person than "p-01": the secrets' paste check
	// applies, and surrounding spaces are removed with a warning.
	var trimmed []string
	label, err := cleanSecret("account_column.label", label, redoLabel, &trimmed)
	if err != nil {
		return err
	}
	c.labelTrimmed = len(trimmed) > 0
	c.labelIgnored = label != "" && ac.Enabled == nil
	c.Account.Label = label
	if c.Account.Enabled && label == "" && c.Sandbox {
		return &Error{Field: "account_column.label", Problem: "is needed with sandbox: Oura's sandbox has no personal_info, so there is no user id to name the account; give a label"}
	}
	return nil
}

func (c *Config) fillAuth(d *document) error {
	creds := d.Credentials
	switch {
	case creds != nil && d.APIKey != nil:
		return &Error{Field: "api_key", Problem: `give either "api_key" or "credentials", not both; remove one`}
	case creds == nil && d.APIKey == nil:
		return &Error{Field: "credentials", Problem: `is missing; set "credentials" (OAuth2.0 or a personal access token) or the legacy "api_key"`}
	case d.APIKey != nil:
		key, err := cleanSecret("api_key", *d.APIKey, redoToken, &c.trimmed)
		if err != nil {
			return err
		}
		if strings.TrimSpace(key) == "" {
			return &Error{Field: "api_key", Problem: "is empty; paste your Oura personal access token"}
		}
		c.Auth = Auth{Kind: AuthAPIKey, APIKey: key}
		return nil
	}
	switch kind := creds.AuthType; kind {
	case AuthAPIKey:
		key, err := cleanSecret("credentials.api_key", creds.APIKey, redoToken, &c.trimmed)
		if err != nil {
			return err
		}
		if strings.TrimSpace(key) == "" {
			return &Error{Field: "credentials.api_key", Problem: "is empty; paste your Oura personal access token"}
		}
		c.Auth = Auth{Kind: AuthAPIKey, APIKey: key}
	case AuthOAuth:
		a := Auth{
			Kind:     AuthOAuth,
			TokenURL: creds.TokenURL,
			AppType:  creds.OAuthAppType,
		}
		for _, f := range []struct {
			name, val, redo string
			dst             *string
		}{
			{"client_id", creds.ClientID, redoApp, &a.ClientID},
			{"client_secret", creds.ClientSecret, redoApp, &a.ClientSecret},
			{"refresh_token", creds.RefreshToken, redoToken, &a.RefreshToken},
			{"access_token", creds.AccessToken, redoToken, &a.AccessToken},
		} {
			val, err := cleanSecret("credentials."+f.name, f.val, f.redo, &c.trimmed)
			if err != nil {
				return err
			}
			// access_token is optional: without one the first request refreshes.
			if f.name != "access_token" && strings.TrimSpace(val) == "" {
				return &Error{Field: "credentials." + f.name, Problem: "is empty; copy it from your Oura API application (or run `source-oura auth`)"}
			}
			*f.dst = val
		}
		if c.badExpiry != nil {
			// The expiry cannot be read, so neither can whether the access token still works:
			// without it the first request refreshes and the new expiry is saved.
			a.AccessToken = ""
		}
		if s := creds.TokenExpiryDate; s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return &Error{Field: "credentials.token_expiry_date", Problem: "is not an RFC 3339 date-time such as 2026-01-02T15:04:05Z"}
			}
			a.TokenExpiry = t
		}
		if a.TokenURL == "" {
			a.TokenURL = c.BaseURL + "/oauth/token"
		} else {
			// netpolicy's one rule: https, or http for loopback only, normalised once so every
			// later decision (proxy, same origin) sees one spelling.
			u, err := netpolicy.EndpointURL("", a.TokenURL)
			if err != nil {
				return &Error{Field: "credentials.token_url", Problem: err.Error()}
			}
			a.TokenURL = u
		}
		c.Auth = a
	default:
		return &Error{Field: "credentials.auth_type", Problem: fmt.Sprintf("%q is not a known method; use \"oauth2.0\" or \"api_key\"", kind)}
	}
	return nil
}

// meansOAuth reports whether a credentials object is clearly meant as OAuth2.0: it says so, or,
// saying nothing else, it holds a field only OAuth has.
func meansOAuth(creds map[string]any) bool {
	switch creds["auth_type"] {
	case AuthOAuth:
		return true
	case nil:
		_, rt := creds["refresh_token"]
		_, id := creds["client_id"]
		return rt || id
	}
	return false
}

// unreadableExpiry removes from an OAuth config document a credentials.token_expiry_date that is
// not RFC 3339 (empty, a date alone) and returns it as written; nil when there is none. The
// connector writes that field itself after each refresh, as a cache: a bad one means only that
// the expiry is unknown, which is no reason to refuse the config (see Warnings and fillAuth).
func unreadableExpiry(obj map[string]any) *string {
	creds, _ := obj["credentials"].(map[string]any)
	s, ok := creds["token_expiry_date"].(string)
	if !ok || !meansOAuth(creds) {
		return nil
	}
	if _, err := time.Parse(time.RFC3339, s); err == nil {
		return nil
	}
	delete(creds, "token_expiry_date")
	return &s
}

// missingNames reads the property names of the validator's "missing properties: 'a', 'b'".
var missingNames = regexp.MustCompile(`'([^']*)'`)

// oauthError explains why a config that clearly means OAuth (meansOAuth) fails the schema, from
// the OAuth2.0 variant alone: the field and the form it takes, instead of a report on both
// variants that ends in "auth_type must be api_key". nil when the credentials are not meant as
// OAuth or their OAuth part is fine (the schema failed elsewhere).
func (v *Validator) oauthError(obj map[string]any) *Error {
	creds, ok := obj["credentials"].(map[string]any)
	if !ok || v.oauth == nil || !meansOAuth(creds) {
		return nil
	}
	err := v.oauth.Validate(creds)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var problems []*Error
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		key := strings.TrimPrefix(e.InstanceLocation, "/")
		field := "credentials"
		if key != "" {
			field += "." + strings.ReplaceAll(key, "/", ".")
		}
		switch {
		case strings.HasSuffix(e.KeywordLocation, "/required"):
			for _, m := range missingNames.FindAllStringSubmatch(e.Message, -1) {
				what := "copy it from your Oura API application (or run `source-oura auth`)"
				if m[1] == "auth_type" {
					what = `set it to "oauth2.0"`
				}
				problems = append(problems, &Error{Field: field + "." + m[1], Problem: "is missing; " + what})
			}
		case strings.HasSuffix(e.KeywordLocation, "/enum") && v.oauthEnums[key] != nil:
			got, _ := json.Marshal(creds[key])
			problems = append(problems, &Error{Field: field, Problem: fmt.Sprintf("%s is not one of %s",
				strings.ToValidUTF8(shortNumber(string(got)), ""), strings.Join(v.oauthEnums[key], ", "))})
		default:
			problems = append(problems, &Error{Field: field, Problem: friendly(e.Message)})
		}
	}
	walk(ve)
	if len(problems) == 0 {
		return nil
	}
	first := problems[0]
	for _, p := range problems[1:] {
		first.Problem += fmt.Sprintf("; also %q %s", p.Field, p.Problem)
	}
	return first
}

// lastDate bounds start_datetime and end_datetime: the connector asks Oura for the day after
// the last one it wants, and for a date in 9999 that is year 10000, which Oura answers with a 400.
var lastDate = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// parseBound reads start_datetime or end_datetime (named by field) and refuses a date the
// connector could not send.
func parseBound(field, s string) (time.Time, error) {
	t, err := ParseTime(s)
	if err != nil {
		return time.Time{}, &Error{Field: field, Problem: err.Error()}
	}
	if !t.Before(lastDate) {
		return time.Time{}, &Error{Field: field, Problem: fmt.Sprintf("%s is later than the connector can ask Oura for; use a date before 9999", s)}
	}
	return t, nil
}

// ParseTime reads start_datetime/end_datetime: RFC 3339 (which includes the
// YYYY-MM-DDTHH:MM:SSZ form of the older connector) or a bare date, read as midnight UTC.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date-time like 2024-01-01T00:00:00Z or a date like 2024-01-01", s)
}

// intField reads an integer field the schema has checked. A value the schema calls an
// integer but an int cannot hold (1e30, 99999999999999999999) is an error, not the default.
func intField(k string, n json.Number) (int, error) {
	if i, err := n.Int64(); err == nil && i >= math.MinInt32 && i <= math.MaxInt32 {
		return int(i), nil
	}
	if f, err := n.Float64(); err == nil && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 {
		return int(f), nil // 7.0 or 7e0: integers to JSON Schema
	}
	return 0, &Error{Field: k, Problem: fmt.Sprintf("%s is too large; use a whole number below %d", shortNumber(string(n)), math.MaxInt32+1)}
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a value"
}

// schemaError turns the validator's nested report into one line naming the deepest field.
func schemaError(err error) error {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &Error{Problem: err.Error()}
	}
	leaf := deepest(ve)
	field := strings.ReplaceAll(strings.TrimPrefix(leaf.InstanceLocation, "/"), "/", ".")
	msg := leaf.Message
	// A oneOf failure reports every variant; say what the user can act on instead.
	if strings.Contains(leaf.KeywordLocation, "/oneOf") || strings.HasPrefix(field, "credentials") && strings.Contains(msg, "oneOf") {
		return &Error{Field: field, Problem: credentialsHint(ve)}
	}
	if strings.HasSuffix(leaf.KeywordLocation, "/pattern") {
		return &Error{Field: field, Problem: "is not in the expected format; " + formatHint(field)}
	}
	return &Error{Field: field, Problem: friendly(msg)}
}

func formatHint(field string) string {
	switch field {
	case "start_datetime", "end_datetime":
		return "use a date-time like 2024-01-01T00:00:00Z or a date like 2024-01-01"
	}
	return "see the field's description in the spec"
}

// deepest follows the first cause chain to the most specific failure.
func deepest(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(ve.Causes) > 0 {
		best := ve.Causes[0]
		for _, c := range ve.Causes[1:] {
			if len(c.InstanceLocation) > len(best.InstanceLocation) {
				best = c
			}
		}
		ve = best
	}
	return ve
}

// credentialsHint explains a credentials object that matches neither variant.
func credentialsHint(ve *jsonschema.ValidationError) string {
	var leaves []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, strings.TrimPrefix(e.InstanceLocation, "/")+": "+friendly(e.Message))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return `matches neither OAuth2.0 (auth_type "oauth2.0" with client_id, client_secret, refresh_token) nor a personal access token (auth_type "api_key" with api_key): ` + strings.Join(leaves, "; ")
}

func friendly(msg string) string {
	r := strings.NewReplacer("expected", "must be", "but got", "not")
	return r.Replace(msg)
}
