package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// args is a parsed command line: --debug, --help and --version, then the command and its own
// flags, in any order, as --name value or --name=value. The standard flag package parses it, one
// FlagSet per command (as cmd/ouraemu does); this file only turns flag's errors into ours.
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

	// set holds the value flags given on the command line.
	set map[string]bool
	// twice is the first value flag given a second time, found by onceValue.Set.
	twice string
	// flagAsValue says which value flag took one of the command's flags as its value.
	flagAsValue string
}

// usageError is a command line the connector cannot run.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

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

// valueFlag returns where the value flag name is kept, nil for an unknown name.
func (a *args) valueFlag(name string) *string {
	return map[string]*string{
		"config": &a.config, "catalog": &a.catalog, "state": &a.state,
		"client-id": &a.clientID, "client-secret": &a.clientSecret, "redirect-uri": &a.redirectURI,
		"output": &a.output, "base-url": &a.baseURL, "authorize-url": &a.authorizeURL,
		"token-url": &a.tokenURL, "code": &a.code, "app-type": &a.appType,
	}[name]
}

// onceValue is a string flag that refuses a second value: flag would silently keep the last one,
// and a config path given twice is more likely a mistake than a wish.
type onceValue struct {
	a    *args
	fs   *flag.FlagSet // the command's flags, to tell a forgotten value from a value
	name string
	p    *string
	set  bool
}

func (o *onceValue) String() string {
	if o == nil || o.p == nil {
		return ""
	}
	return *o.p
}

func (o *onceValue) Set(v string) error {
	if o.set {
		if o.a.twice == "" {
			o.a.twice = o.name
		}
		return errors.New("given twice")
	}
	// "--config --state s.json": flag takes "--state" as the path and then finds "s.json" in
	// the way; say which value was forgotten instead. A file really named like a flag can be
	// given as ./--state.
	if name, ok := flagName(v); ok && o.fs.Lookup(name) != nil {
		if o.a.flagAsValue == "" {
			o.a.flagAsValue = fmt.Sprintf("--%s needs a value (got the flag %s)", o.name, strings.SplitN(v, "=", 2)[0])
		}
		return errors.New("got a flag as its value")
	}
	o.set = true
	*o.p = v
	return nil
}

// flagSet is the FlagSet of one command ("" for the flags before it): the switches every command
// takes, plus the value flags listed. flag prints nothing; our usage text and errors say it.
func (a *args) flagSet(command string, values []string) *flag.FlagSet {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&a.debug, "debug", a.debug, "add debug logs")
	fs.BoolVar(&a.help, "help", a.help, "print usage")
	fs.BoolVar(&a.help, "h", a.help, "print usage")
	fs.BoolVar(&a.version, "version", a.version, "print the version")
	if command == "auth" {
		fs.BoolVar(&a.noBrowserWait, "paste", false, "paste the code instead of waiting for the redirect")
	}
	for _, name := range values {
		fs.Var(&onceValue{a: a, fs: fs, name: name, p: a.valueFlag(name)}, name, "")
	}
	return fs
}

// flagName returns the flag name v spells (-name, --name or --name=value), if it looks like one.
func flagName(v string) (string, bool) {
	name, ok := strings.CutPrefix(v, "-")
	if !ok {
		return "", false
	}
	name = strings.TrimPrefix(name, "-")
	name, _, _ = strings.Cut(name, "=")
	return name, name != ""
}

// pathFlags are the value flags that name a file: an empty value (--config "") is a mistake,
// said here rather than as a file error with no file name in it.
var pathFlags = []string{"config", "catalog", "state", "output"}

func parseArgs(argv []string) (*args, error) {
	a := &args{set: map[string]bool{}}
	global := a.flagSet("", nil)
	if err := a.parse(global, "", argv); err != nil {
		return a, err
	}
	if a.help || a.version {
		return a, nil
	}
	if global.NArg() == 0 {
		return a, &usageError{"no command given; use spec, check, discover, read or auth"}
	}
	a.command = global.Arg(0)
	spec, ok := commandFlags[a.command]
	if !ok {
		return a, &usageError{fmt.Sprintf("unknown command %q; use spec, check, discover, read or auth", a.command)}
	}
	fs := a.flagSet(a.command, spec.allowed)
	if err := a.parse(fs, a.command, global.Args()[1:]); err != nil {
		return a, err
	}
	if a.help || a.version {
		return a, nil
	}
	if fs.NArg() > 0 {
		return a, &usageError{fmt.Sprintf("unexpected argument %q; flags are named, e.g. --config FILE", fs.Arg(0))}
	}
	fs.Visit(func(f *flag.Flag) { a.set[f.Name] = true })
	for _, name := range pathFlags {
		if a.set[name] && *a.valueFlag(name) == "" {
			return a, &usageError{fmt.Sprintf("--%s needs a file path", name)}
		}
	}
	for _, name := range spec.required {
		if !a.set[name] {
			return a, &usageError{fmt.Sprintf("command %s needs --%s", a.command, name)}
		}
	}
	return a, nil
}

// parse runs fs over argv and words its errors the way this connector always has.
func (a *args) parse(fs *flag.FlagSet, command string, argv []string) error {
	err := fs.Parse(argv)
	if err == nil {
		return nil
	}
	if a.twice != "" {
		return &usageError{fmt.Sprintf("flag --%s is given twice", a.twice)}
	}
	if a.flagAsValue != "" {
		return &usageError{a.flagAsValue}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		switch {
		case a.valueFlag(name) == nil && name != "paste":
			return &usageError{fmt.Sprintf("unknown flag --%s", name)}
		case command == "":
			return &usageError{fmt.Sprintf("flag --%s comes after the command, e.g. source-oura read --config FILE", name)}
		}
		return &usageError{fmt.Sprintf("command %s does not take --%s", command, name)}
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return &usageError{fmt.Sprintf("flag --%s needs a value", name)}
	}
	if strings.HasPrefix(msg, "invalid boolean value") {
		if _, rest, ok := strings.Cut(msg, " for -"); ok {
			name, _, _ := strings.Cut(rest, ":")
			return &usageError{fmt.Sprintf("flag --%s takes no value", name)}
		}
	}
	return &usageError{msg}
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

A command's flags follow it, in any order. --debug adds debug logs to any command.
Airbyte messages go to stdout, one JSON object per line; this help goes to stderr.
`
