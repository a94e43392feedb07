package cli

import (
	"fmt"
	"strings"
)

// args is a parsed command line. Flags are named and may come in any order, before or
// after the command, as --name value or --name=value.
type args struct {
	command string
	config  string
	catalog string
	state   string
	debug   bool
	help    bool
	version bool
	// auth command
	clientID, clientSecret, redirectURI, output, baseURL, authorizeURL, tokenURL, code, appType string
	noBrowserWait                                                                               bool
	set                                                                                         map[string]bool
}

// usageError is a command line the connector cannot run.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

var valueFlags = map[string]func(*args) *string{
	"config":        func(a *args) *string { return &a.config },
	"catalog":       func(a *args) *string { return &a.catalog },
	"state":         func(a *args) *string { return &a.state },
	"client-id":     func(a *args) *string { return &a.clientID },
	"client-secret": func(a *args) *string { return &a.clientSecret },
	"redirect-uri":  func(a *args) *string { return &a.redirectURI },
	"output":        func(a *args) *string { return &a.output },
	"base-url":      func(a *args) *string { return &a.baseURL },
	"authorize-url": func(a *args) *string { return &a.authorizeURL },
	"token-url":     func(a *args) *string { return &a.tokenURL },
	"code":          func(a *args) *string { return &a.code },
	"app-type":      func(a *args) *string { return &a.appType },
}

var boolFlags = map[string]func(*args) *bool{
	"debug":   func(a *args) *bool { return &a.debug },
	"help":    func(a *args) *bool { return &a.help },
	"h":       func(a *args) *bool { return &a.help },
	"version": func(a *args) *bool { return &a.version },
	"paste":   func(a *args) *bool { return &a.noBrowserWait },
}

// commandFlags says which value flags each command takes, and which it requires.
var commandFlags = map[string]struct{ allowed, required []string }{
	"spec":     {},
	"check":    {allowed: []string{"config"}, required: []string{"config"}},
	"discover": {allowed: []string{"config"}, required: []string{"config"}},
	"read":     {allowed: []string{"config", "catalog", "state"}, required: []string{"config"}}, // no --catalog: every stream
	// The client secret may also come from OURA_CLIENT_SECRET or a prompt (auth.go clientSecret).
	"auth": {allowed: []string{"client-id", "client-secret", "redirect-uri", "output", "base-url", "authorize-url", "token-url", "code", "app-type"},
		required: []string{"client-id"}},
}

func parseArgs(argv []string) (*args, error) {
	a := &args{set: map[string]bool{}}
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			if a.command != "" {
				return a, &usageError{fmt.Sprintf("unexpected argument %q; flags are named, e.g. --config FILE", arg)}
			}
			a.command = arg
			continue
		}
		name := strings.TrimLeft(arg, "-")
		value, hasValue := "", false
		if k, v, ok := strings.Cut(name, "="); ok {
			name, value, hasValue = k, v, true
		}
		if f, ok := boolFlags[name]; ok {
			if hasValue {
				return a, &usageError{fmt.Sprintf("flag --%s takes no value", name)}
			}
			*f(a) = true
			continue
		}
		f, ok := valueFlags[name]
		if !ok {
			return a, &usageError{fmt.Sprintf("unknown flag --%s", name)}
		}
		if !hasValue {
			if i+1 >= len(argv) || strings.HasPrefix(argv[i+1], "--") {
				return a, &usageError{fmt.Sprintf("flag --%s needs a value", name)}
			}
			i++
			value = argv[i]
		}
		if a.set[name] {
			return a, &usageError{fmt.Sprintf("flag --%s is given twice", name)}
		}
		a.set[name] = true
		*f(a) = value
	}
	if a.help || a.version {
		return a, nil
	}
	if a.command == "" {
		return a, &usageError{"no command given; use spec, check, discover, read or auth"}
	}
	spec, ok := commandFlags[a.command]
	if !ok {
		return a, &usageError{fmt.Sprintf("unknown command %q; use spec, check, discover, read or auth", a.command)}
	}
	for name := range a.set {
		if !contains(spec.allowed, name) {
			return a, &usageError{fmt.Sprintf("command %s does not take --%s", a.command, name)}
		}
	}
	for _, name := range spec.required {
		if !a.set[name] {
			return a, &usageError{fmt.Sprintf("command %s needs --%s", a.command, name)}
		}
	}
	return a, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

const usage = `source-oura: an Airbyte source for the Oura Ring API v2.

Usage:
  source-oura spec
  source-oura check    --config FILE
  source-oura discover --config FILE
  source-oura read     --config FILE [--catalog FILE] [--state FILE]
  source-oura auth     --client-id ID [--app-type cloud|developer_portal] [--redirect-uri URI] [--output FILE]
                       [--paste | --code CODE] [--base-url URL] [--authorize-url URL] [--token-url URL]
                       The client secret is read from OURA_CLIENT_SECRET, or asked for when stdin is a
                       terminal; --client-secret SECRET also works but other users can see it in ps.

Flags may come in any order. --debug adds debug logs to any command.
Airbyte messages go to stdout, one JSON object per line; this help goes to stderr.
`
