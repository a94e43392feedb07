package integrationtests

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"source-oura/internal/auth"
)

// TestSpec runs `spec` and applies the acceptance tests' rules for a connection specification.
func TestSpec(t *testing.T) {
	o := runConnector(t, "spec")
	if o.code != 0 {
		t.Fatalf("spec exited %d\n%s", o.code, o.describe())
	}
	specs := o.of("SPEC")
	if len(specs) != 1 || len(o.msgs) != 1 {
		t.Fatalf("spec printed %d SPEC messages among %d; want exactly one message\n%s", len(specs), len(o.msgs), o.describe())
	}
	raw := specs[0].Spec

	t.Run("matches spec.json", func(t *testing.T) {
		file, err := os.ReadFile("../spec.json")
		if err != nil {
			t.Fatal(err)
		}
		if eq, err := jsonEqual(raw, file); err != nil || !eq {
			t.Errorf("the SPEC message differs from spec.json (err %v)", err)
		}
	})

	spec, err := toMap(raw)
	if err != nil {
		t.Fatal(err)
	}
	problems := specProblems(spec)
	for _, rule := range specRules {
		t.Run(rule, func(t *testing.T) {
			for _, p := range problems[rule] {
				t.Error(p)
			}
		})
	}

	t.Run("configs match the spec", func(t *testing.T) {
		cs, _ := spec["connectionSpecification"].(map[string]any)
		schema, err := compileSchema("connectionSpecification.json", mustMarshal(t, cs))
		if err != nil {
			t.Fatalf("the spec is not a valid draft-07 schema: %v", err)
		}
		for _, name := range []string{"sample_config.json", "invalid_config.json"} {
			var v any
			readFixture(t, name, &v)
			if err := schema.Validate(v); err != nil {
				t.Errorf("%s does not match the spec: %v", name, err)
			}
		}
		cfg, _ := decodeJSON(mustMarshal(t, testConfig()))
		if err := schema.Validate(cfg); err != nil {
			t.Errorf("the suite's own config does not match the spec: %v", err)
		}
		// The check must be able to fail: a config with a wrong type is refused.
		bad := testConfig()
		bad["lookback_window_days"] = "seven"
		badV, _ := decodeJSON(mustMarshal(t, bad))
		if schema.Validate(badV) == nil {
			t.Error("a config with lookback_window_days \"seven\" matches the spec; the schema checks nothing")
		}
	})
}

// specRules names the rule groups specProblems reports under, in the order tests run them.
var specRules = []string{"envelope", "draft-07", "enum", "oneOf", "secrets", "types", "forbidden keywords",
	"order and group", "display_type", "additionalProperties", "OAuth"}

// specProblems applies the acceptance tests' spec rules to a ConnectorSpecification and
// returns what breaks them, by rule.
func specProblems(spec map[string]any) map[string][]string {
	out := map[string][]string{}
	add := func(rule, format string, args ...any) { out[rule] = append(out[rule], fmt.Sprintf(format, args...)) }

	doc, _ := spec["documentationUrl"].(string)
	if u, err := url.Parse(doc); err != nil || u.Scheme != "https" || u.Host == "" {
		add("envelope", "documentationUrl %q is not an https URL", doc)
	}
	// The platform rejects protocol versions outside 0.0.0–0.3.0; 0.2.0 is its default.
	if v, ok := spec["protocol_version"]; ok && v != "0.2.0" {
		add("envelope", "protocol_version is %v; leave it out or set 0.2.0", v)
	}
	cs, ok := spec["connectionSpecification"].(map[string]any)
	if !ok {
		add("envelope", "connectionSpecification is missing or not an object")
		return out
	}

	if cs["$schema"] != "http://json-schema.org/draft-07/schema#" {
		add("draft-07", "$schema is %v; declare draft-07 so validators pick the right rules", cs["$schema"])
	}
	if raw, err := json.Marshal(cs); err != nil {
		add("draft-07", "%v", err)
	} else if _, err := compileSchema("connectionSpecification.json", raw); err != nil {
		add("draft-07", "not a valid draft-07 schema: %v", err)
	}

	secretNames := map[string]bool{}
	for _, n := range []string{"client_token", "access_token", "api_token", "token", "secret", "client_secret",
		"password", "key", "service_account_info", "service_account", "tenant_id", "certificate", "jwt",
		"credentials", "app_id", "appid", "refresh_token"} {
		secretNames[n] = true
	}
	walkSchemas(cs, func(n schemaNode) {
		if list, ok := n.schema["enum"].([]any); ok {
			seen := map[string]bool{}
			for _, v := range list {
				k := fmt.Sprint(v)
				if seen[k] {
					add("enum", "%s: enum value %v appears twice", n.path, v)
				}
				seen[k] = true
			}
		}

		if n.name != "" {
			_, isConst := n.schema["const"]
			canHoldSecret := hasType(n.schema, "string", "integer", "number") && !isConst
			marked := n.schema["airbyte_secret"] == true
			if secretNames[strings.ToLower(n.name)] && canHoldSecret && !marked {
				add("secrets", "%s looks like a secret but has no airbyte_secret: true", n.path)
			}
			if marked && !canHoldSecret {
				add("secrets", "%s is marked airbyte_secret but cannot hold a secret (type %v, const %v)", n.path, typesOf(n.schema), isConst)
			}
		}

		if list, ok := n.schema["type"].([]any); ok {
			if len(list) > 2 || len(list) == 2 && list[1] != "null" {
				add("types", "%s: type %v; a list may only add \"null\" as its second entry", n.path, list)
			}
		}
		if n.path != "$" && hasType(n.schema, "object") {
			props, _ := n.schema["properties"].(map[string]any)
			if len(props) == 0 && len(variants(n.schema)) == 0 {
				add("types", "%s: an object with neither properties nor oneOf", n.path)
			}
		}
		if hasType(n.schema, "array") {
			items, ok := n.schema["items"].(map[string]any)
			_, hasEnum := items["enum"]
			if !ok || !hasType(items, "object", "string", "number", "integer") && !hasEnum {
				add("types", "%s: array items must be one schema of type object, string, number or integer, or an enum", n.path)
			}
		}

		if props, ok := n.schema["properties"].(map[string]any); ok {
			seen := map[string]string{}
			for _, name := range sortedKeys(props) {
				p, _ := props[name].(map[string]any)
				order, ok := p["order"]
				if !ok {
					continue
				}
				key := fmt.Sprintf("%v/%v", p["group"], order)
				if other, dup := seen[key]; dup {
					add("order and group", "%s: %s and %s share order %v in group %v", n.path, other, name, order, p["group"])
				}
				seen[key] = name
			}
		}
		if _, ok := n.schema["group"]; ok && !n.topLevel {
			add("order and group", "%s: group is only allowed on top-level properties", n.path)
		}
		if dt, ok := n.schema["display_type"]; ok {
			if len(variants(n.schema)) == 0 || dt != "dropdown" && dt != "radio" {
				add("display_type", "%s: display_type %v needs a oneOf and the value dropdown or radio", n.path, dt)
			}
		}
	})

	for _, p := range oneOfProblems(cs) {
		add("oneOf", "%s", p)
	}
	for _, kw := range []string{"not", "anyOf", "patternProperties", "prefixItems", "allOf", "if", "then", "else",
		"dependentSchemas", "dependentRequired"} {
		for _, at := range keywordUses(cs, kw) {
			add("forbidden keywords", "%s: keyword %s is not allowed in a connection specification", at, kw)
		}
	}
	for _, at := range keywordUses(spec, "$ref") {
		add("forbidden keywords", "%s: $ref is not allowed; inline the schema", at)
	}
	for _, at := range keywordUses(spec, "additionalProperties") {
		if v := lookup(spec, at); v != true {
			add("additionalProperties", "%s is %v; it must be true where it appears", at, v)
		}
	}
	for _, p := range oauthProblems(spec, cs) {
		add("OAuth", "%s", p)
	}
	return out
}

// oneOfProblems applies the rules for oneOf: the parent is an object, every variant has
// properties, and exactly one property common to all variants is a const that tells them
// apart, with no default or enum that contradicts it.
func oneOfProblems(cs map[string]any) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	count := 0
	walkSchemas(cs, func(n schemaNode) {
		vs := variants(n.schema)
		if len(vs) == 0 {
			return
		}
		count++
		if !hasType(n.schema, "object") {
			add("%s: a oneOf parent must have type object", n.path)
		}
		common := map[string]int{}
		for i, v := range vs {
			props, _ := v["properties"].(map[string]any)
			if len(props) == 0 {
				add("%s.oneOf[%d] has no properties", n.path, i)
			}
			for name := range props {
				common[name]++
			}
		}
		var consts []string
		for _, name := range sortedKeys(toAnyMap(common)) {
			if common[name] != len(vs) {
				continue
			}
			all := true
			for _, v := range vs {
				if _, ok := variantProperty(v, name)["const"]; !ok {
					all = false
				}
			}
			if all {
				consts = append(consts, name)
			}
		}
		if len(consts) != 1 {
			add("%s: want exactly one common const property in every variant, found %v", n.path, consts)
			return
		}
		for i, v := range vs {
			p := variantProperty(v, consts[0])
			if d, ok := p["default"]; ok && d != p["const"] {
				add("%s.oneOf[%d].%s: default %v differs from const %v", n.path, i, consts[0], d, p["const"])
			}
			if e, ok := p["enum"].([]any); ok && (len(e) != 1 || e[0] != p["const"]) {
				add("%s.oneOf[%d].%s: enum %v must be exactly [const]", n.path, i, consts[0], e)
			}
		}
	})
	if count == 0 {
		add("the spec has no oneOf; the credentials choice should be one")
	}
	return out
}

func variantProperty(v map[string]any, name string) map[string]any {
	props, _ := v["properties"].(map[string]any)
	p, _ := props[name].(map[string]any)
	return p
}

func toAnyMap(m map[string]int) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// oauthProblems checks that every config path named by advanced_auth exists in the spec and
// that OAuth is the first, default authentication method.
func oauthProblems(spec, cs map[string]any) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	aa, ok := spec["advanced_auth"].(map[string]any)
	if !ok {
		return []string{"the spec has no advanced_auth; Airbyte's OAuth flow needs it"}
	}
	if aa["auth_flow_type"] != "oauth2.0" {
		add("advanced_auth.auth_flow_type is %v, want oauth2.0", aa["auth_flow_type"])
	}
	predicate := stringList(aa["predicate_key"])
	if len(predicate) == 0 || !propertyAt(cs, predicate) {
		add("advanced_auth.predicate_key %v is not a path in connectionSpecification", aa["predicate_key"])
	}
	// The method the predicate selects must be the first variant, so new connections default to it.
	if len(predicate) > 0 {
		parent := cs
		for _, key := range predicate[:len(predicate)-1] {
			props, _ := parent["properties"].(map[string]any)
			parent, _ = props[key].(map[string]any)
		}
		if vs := variants(parent); len(vs) > 0 {
			if got := variantProperty(vs[0], predicate[len(predicate)-1])["const"]; got != aa["predicate_value"] {
				add("the first authentication method has %v = %v; the OAuth one (%v) should come first",
					predicate, got, aa["predicate_value"])
			}
		}
	}
	ocs, _ := aa["oauth_config_specification"].(map[string]any)
	paths := 0
	for _, part := range []string{"complete_oauth_output_specification", "complete_oauth_server_output_specification",
		"oauth_user_input_from_connector_config_specification"} {
		sub, _ := ocs[part].(map[string]any)
		props, _ := sub["properties"].(map[string]any)
		for _, name := range sortedKeys(props) {
			p, _ := props[name].(map[string]any)
			path := stringList(p["path_in_connector_config"])
			paths++
			if len(path) == 0 || !propertyAt(cs, path) {
				add("%s.%s: path_in_connector_config %v is not in connectionSpecification", part, name, p["path_in_connector_config"])
			}
		}
	}
	if paths == 0 {
		add("advanced_auth names no path_in_connector_config; the OAuth flow could not fill the config")
	}
	return out
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// lookup returns the value at a path made by keywordUses, such as $.a.b[0].c.
func lookup(root any, path string) any {
	cur := root
	for _, part := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 {
			name = part[:i]
			fmt.Sscanf(part[i:], "[%d]", &idx)
		}
		m, _ := cur.(map[string]any)
		cur = m[name]
		if idx >= 0 {
			list, _ := cur.([]any)
			if idx >= len(list) {
				return nil
			}
			cur = list[idx]
		}
	}
	return cur
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSpecRulesCatchMistakes breaks the real spec in one way at a time and checks that the
// rule meant to catch each mistake does, so a passing TestSpec means something.
func TestSpecRulesCatchMistakes(t *testing.T) {
	raw, err := os.ReadFile("../spec.json")
	if err != nil {
		t.Fatal(err)
	}
	props := func(s map[string]any) map[string]any {
		return s["connectionSpecification"].(map[string]any)["properties"].(map[string]any)
	}
	prop := func(s map[string]any, name string) map[string]any { return props(s)[name].(map[string]any) }
	variant := func(s map[string]any, i int) map[string]any {
		return prop(s, "credentials")["oneOf"].([]any)[i].(map[string]any)["properties"].(map[string]any)
	}
	rulesCatch(t, "spec.json", func(t *testing.T) map[string]any { return mustMap(t, raw) }, specProblems, []mutation[map[string]any]{
		{"envelope", func(s map[string]any) { s["protocol_version"] = "0.5.2" }},
		{"draft-07", func(s map[string]any) { prop(s, "sandbox")["type"] = "flag" }},
		{"enum", func(s map[string]any) { prop(s, "start_datetime")["enum"] = []any{"a", "a"} }},
		{"oneOf", func(s map[string]any) { delete(variant(s, 1)["auth_type"].(map[string]any), "const") }},
		{"oneOf", func(s map[string]any) { variant(s, 0)["auth_type"].(map[string]any)["default"] = "api_key" }},
		{"secrets", func(s map[string]any) { delete(variant(s, 0)["client_secret"].(map[string]any), "airbyte_secret") }},
		{"secrets", func(s map[string]any) { prop(s, "sandbox")["airbyte_secret"] = true }},
		{"types", func(s map[string]any) { prop(s, "sandbox")["type"] = []any{"null", "boolean"} }},
		{"types", func(s map[string]any) { props(s)["extra"] = map[string]any{"type": "object"} }},
		{"types", func(s map[string]any) {
			props(s)["extra"] = map[string]any{"type": "array", "items": map[string]any{"type": "boolean"}}
		}},
		{"forbidden keywords", func(s map[string]any) { prop(s, "base_url")["allOf"] = []any{map[string]any{}} }},
		{"forbidden keywords", func(s map[string]any) { prop(s, "base_url")["$ref"] = "#/definitions/url" }},
		{"order and group", func(s map[string]any) { prop(s, "base_url")["order"] = json.Number("0") }},
		{"order and group", func(s map[string]any) { variant(s, 0)["client_id"].(map[string]any)["group"] = "auth" }},
		{"display_type", func(s map[string]any) { prop(s, "start_datetime")["display_type"] = "dropdown" }},
		{"additionalProperties", func(s map[string]any) {
			s["connectionSpecification"].(map[string]any)["additionalProperties"] = false
		}},
		{"OAuth", func(s map[string]any) {
			s["advanced_auth"].(map[string]any)["predicate_key"] = []any{"credentials", "auth_kind"}
		}},
		{"OAuth", func(s map[string]any) {
			oneOf := prop(s, "credentials")["oneOf"].([]any)
			oneOf[0], oneOf[1] = oneOf[1], oneOf[0]
		}},
		{"OAuth", func(s map[string]any) {
			out := s["advanced_auth"].(map[string]any)["oauth_config_specification"].(map[string]any)["complete_oauth_output_specification"].(map[string]any)
			out["properties"].(map[string]any)["access_token"].(map[string]any)["path_in_connector_config"] = []any{"credentials", "token"}
		}},
	})
}

func mustMap(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	m, err := toMap(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// renderOAuthTemplate renders a declarative-OAuth template the way the Airbyte platform does,
// for exactly the constructs spec.json uses: {{ name }} substitutions and one level of
// {% if name == 'literal' %}…{% else %}…{% endif %}. An unknown name or an unclosed block is an
// error, so that a typo in spec.json cannot render silently to the classic URL.
func renderOAuthTemplate(tmpl string, vars map[string]string) (string, error) {
	ifBlock := regexp.MustCompile(`(?s)\{%\s*if\s+(\w+)\s*==\s*'([^']*)'\s*%\}(.*?)(?:\{%\s*else\s*%\}(.*?))?\{%\s*endif\s*%\}`)
	var err error
	out := ifBlock.ReplaceAllStringFunc(tmpl, func(block string) string {
		m := ifBlock.FindStringSubmatch(block)
		v, ok := vars[m[1]]
		if !ok {
			err = fmt.Errorf("{%% if %s %%}: the platform offers no variable %q", m[1], m[1])
		}
		if v == m[2] {
			return m[3]
		}
		return m[4]
	})
	if err != nil {
		return "", err
	}
	if strings.Contains(out, "{%") {
		return "", fmt.Errorf("a {%% … %%} block is left after rendering: %s", out)
	}
	subst := regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)
	out = subst.ReplaceAllStringFunc(out, func(ref string) string {
		name := subst.FindStringSubmatch(ref)[1]
		v, ok := vars[name]
		if !ok {
			err = fmt.Errorf("{{%s}}: the platform offers no variable %q", name, name)
		}
		return v
	})
	if err == nil && strings.Contains(out, "{{") {
		err = fmt.Errorf("a {{…}} is left after rendering: %s", out)
	}
	return out, err
}

// TestSpecOAuthURLsFollowTheAppType renders spec.json's consent and token URLs for both values of
// credentials.oauth_app_type, with the variables the platform offers, and checks that they are
// the classic and the developer-portal addresses the connector itself uses for refreshes.
func TestSpecOAuthURLsFollowTheAppType(t *testing.T) {
	raw, err := os.ReadFile("../spec.json")
	if err != nil {
		t.Fatal(err)
	}
	spec := mustMap(t, raw)
	ocs, _ := lookup(spec, "$.advanced_auth.oauth_config_specification").(map[string]any)
	in, _ := ocs["oauth_connector_input_specification"].(map[string]any)
	consent, _ := in["consent_url"].(string)
	token, _ := in["access_token_url"].(string)

	// The platform offers a connector field to the templates only when it is declared here.
	if p := stringList(lookup(ocs, "$.oauth_user_input_from_connector_config_specification.properties.oauth_app_type.path_in_connector_config")); strings.Join(p, ".") != "credentials.oauth_app_type" {
		t.Errorf("oauth_user_input_from_connector_config_specification does not offer credentials.oauth_app_type (path %v)", p)
	}
	// The choice is an enum, never a free URL: the platform posts the client secret to the result.
	field, _ := lookup(spec, "$.connectionSpecification.properties.credentials.oneOf[0].properties.oauth_app_type").(map[string]any)
	if got := fmt.Sprint(field["enum"]); got != "[cloud developer_portal]" || field["default"] != "cloud" {
		t.Errorf("credentials.oauth_app_type is %v; want enum [cloud developer_portal] with default cloud", field)
	}
	if lookup(ocs, "$.complete_oauth_output_specification.properties.token_expiry_date.path_in_oauth_response") == nil {
		t.Error("the token_expiry_date output property is gone; the platform fills it from expires_in by that name")
	}

	const redirect = "https://cloud.airbyte.example/auth_flow"
	for _, tc := range []struct {
		appType, authorize, token string
	}{
		{"cloud", "https://cloud.ouraring.com/oauth/authorize", "https://api.ouraring.com/oauth/token"},
		{"developer_portal", "https://moi.ouraring.com/oauth/v2/ext/oauth-authorize", "https://moi.ouraring.com/oauth/v2/ext/oauth-token"},
		// A config saved before the field existed: Jinja compares an undefined name as unequal.
		{"", "https://cloud.ouraring.com/oauth/authorize", "https://api.ouraring.com/oauth/token"},
	} {
		t.Run("app type "+tc.appType, func(t *testing.T) {
			// The platform's own variables, plus each user input the spec declares, by its name.
			vars := map[string]string{
				"client_id_param":    "client_id=the-client",
				"redirect_uri_param": "redirect_uri=" + url.QueryEscape(redirect),
				"state_param":        "state=st4te",
			}
			inputs, _ := lookup(ocs, "$.oauth_user_input_from_connector_config_specification.properties").(map[string]any)
			for name := range inputs {
				vars[name] = tc.appType
			}
			c, err := renderOAuthTemplate(consent, vars)
			if err != nil {
				t.Fatalf("consent_url: %v", err)
			}
			u, err := url.Parse(c)
			if err != nil {
				t.Fatalf("consent_url renders to %q, not a URL: %v", c, err)
			}
			q := u.Query()
			if base := u.Scheme + "://" + u.Host + u.Path; base != tc.authorize || q.Get("client_id") != "the-client" ||
				q.Get("redirect_uri") != redirect || q.Get("response_type") != "code" || q.Get("state") != "st4te" {
				t.Errorf("consent_url renders to %s; want %s with client_id, redirect_uri, response_type=code and state", c, tc.authorize)
			}
			tok, err := renderOAuthTemplate(token, vars)
			if err != nil || tok != tc.token {
				t.Errorf("access_token_url renders to %q (%v); want %s", tok, err, tc.token)
			}
			// The same addresses the connector and the auth helper use.
			wantAuthorize, wantToken, err := auth.Endpoints(tc.appType, "https://api.ouraring.com")
			if err != nil || wantAuthorize != tc.authorize || wantToken != tc.token {
				t.Errorf("auth.Endpoints(%q) = %s, %s (%v); the spec and the connector disagree", tc.appType, wantAuthorize, wantToken, err)
			}
		})
	}

	// The token request's parameters render with the platform's variables too.
	params, _ := in["access_token_params"].(map[string]any)
	for k, v := range params {
		s, _ := v.(string)
		if _, err := renderOAuthTemplate(s, map[string]string{"auth_code_value": "c", "client_id_value": "i",
			"client_secret_value": "s", "redirect_uri_value": redirect}); err != nil {
			t.Errorf("access_token_params.%s: %v", k, err)
		}
	}
}

// TestOAuthTemplateRendererCatchesMistakes keeps the renderer above honest: a misspelt variable
// or an unclosed block fails instead of rendering the else branch.
func TestOAuthTemplateRendererCatchesMistakes(t *testing.T) {
	vars := map[string]string{"oauth_app_type": "developer_portal"}
	for _, bad := range []string{
		"{% if oauth_app_typ == 'developer_portal' %}a{% else %}b{% endif %}",
		"{% if oauth_app_type == 'developer_portal' %}a{% else %}b",
		"x{{client_id_parm}}",
	} {
		if got, err := renderOAuthTemplate(bad, vars); err == nil {
			t.Errorf("%q rendered to %q without an error", bad, got)
		}
	}
	if got, err := renderOAuthTemplate("{% if oauth_app_type == 'developer_portal' %}a{% else %}b{% endif %}-{{ oauth_app_type }}", vars); err != nil || got != "a-developer_portal" {
		t.Errorf("rendered %q, %v; want a-developer_portal", got, err)
	}
}
