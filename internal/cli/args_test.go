package cli

import (
	"strings"
	"testing"

	"source-oura/protocol"
)

// Every command line the connector cannot run exits 2 with one CONFIG_ERROR trace naming the
// problem, and the usage text on stderr; --help and --version exit 0 and write nothing to stdout.
func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{nil, "no command given; use spec, check, discover, read or auth"},
		{[]string{"sync"}, `unknown command "sync"; use spec, check, discover, read or auth`},
		{[]string{"read"}, "command read needs --config"},
		{[]string{"auth"}, "command auth needs --client-id"},
		{[]string{"check", "--config", "a.json", "--config", "b.json"}, "flag --config is given twice"},
		{[]string{"check", "--config"}, "flag --config needs a value"},
		{[]string{"check", "--config", "a.json", "--catalog", "c.json"}, "command check does not take --catalog"},
		{[]string{"check", "--config", "a.json", "--paste"}, "command check does not take --paste"},
		{[]string{"read", "--config", "a.json", "--frobnicate"}, "unknown flag --frobnicate"},
		{[]string{"read", "--config", "a.json", "extra"}, `unexpected argument "extra"; flags are named, e.g. --config FILE`},
		{[]string{"read", "--debug=maybe", "--config", "a.json"}, "flag --debug takes no value"},
		{[]string{"--config", "a.json", "check"}, "flag --config comes after the command, e.g. source-oura read --config FILE"},
	} {
		r := runCLI(t, tc.argv...)
		errs := r.errors()
		if r.code != ExitUsage || len(r.msgs) != 1 || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError {
			t.Errorf("%q: exit %d, stdout\n%s", tc.argv, r.code, r.stdout)
			continue
		}
		if want := "Invalid command line: " + tc.want + ". Run source-oura --help for usage."; errs[0].Message != want {
			t.Errorf("%q: message %q, want %q", tc.argv, errs[0].Message, want)
		}
		if !strings.Contains(r.stderr, "Usage:") {
			t.Errorf("%q: no usage on stderr: %q", tc.argv, r.stderr)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, argv := range [][]string{{"--help"}, {"-h"}, {"read", "--help"}, {"auth", "-h", "--client-id", "x"}} {
		r := runEnv(t, Env{}, argv...)
		if r.code != ExitOK || len(r.stdout) != 0 || !strings.Contains(r.stderr, "source-oura read     --config FILE") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", argv, r.code, r.stdout, r.stderr)
		}
	}
	for _, argv := range [][]string{{"--version"}, {"spec", "--version"}} {
		r := runEnv(t, Env{}, argv...) // runEnv sets the version "test"
		if r.code != ExitOK || len(r.stdout) != 0 || r.stderr != "source-oura test\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", argv, r.code, r.stdout, r.stderr)
		}
	}
}

// Flags are named: any order after the command, as --name value, --name=value
// or -name value, and --debug may come before it.
func TestFlagSpellings(t *testing.T) {
	for _, argv := range [][]string{
		{"--debug", "check", "--config", "a.json"},
		{"check", "--config=a.json", "--debug"},
		{"check", "-config", "a.json"},
	} {
		a, err := parseArgs(argv)
		if err != nil || a.command != "check" || a.config != "a.json" {
			t.Errorf("%q: %+v, %v", argv, a, err)
		}
	}
	a, err := parseArgs([]string{"auth", "--paste", "--client-id", "id", "--app-type", "developer_portal", "--client-secret", "s"})
	if err != nil || !a.noBrowserWait || a.clientID != "id" || a.appType != "developer_portal" || !a.set["client-secret"] || a.set["code"] {
		t.Errorf("auth flags: %+v, %v", a, err)
	}
}

// TestFlagValueMistakes: an empty path and a forgotten value (the next flag taken as the value)
// are said as such, exit 2, instead of "config file : no path given" or "unexpected argument".
func TestFlagValueMistakes(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want string
	}{
		{[]string{"check", "--config", ""}, "--config needs a file path"},
		{[]string{"read", "--config=", "--state", "s.json"}, "--config needs a file path"},
		{[]string{"read", "--config", "a.json", "--state", ""}, "--state needs a file path"},
		{[]string{"read", "--config", "a.json", "--catalog", ""}, "--catalog needs a file path"},
		{[]string{"read", "--config", "--state", "s.json"}, "--config needs a value (got the flag --state)"},
		{[]string{"read", "--config", "a.json", "--catalog", "--state=s.json"}, "--catalog needs a value (got the flag --state)"},
		{[]string{"check", "--config", "-debug"}, "--config needs a value (got the flag -debug)"},
		{[]string{"check", "--config", "--config", "a.json"}, "--config needs a value (got the flag --config)"},
	} {
		r := runCLI(t, tc.argv...)
		errs := r.errors()
		if r.code != ExitUsage || len(errs) != 1 || errs[0].FailureType != protocol.ConfigError {
			t.Errorf("%q: exit %d, stdout\n%s", tc.argv, r.code, r.stdout)
			continue
		}
		if want := "Invalid command line: " + tc.want + ". Run source-oura --help for usage."; errs[0].Message != want {
			t.Errorf("%q: message %q, want %q", tc.argv, errs[0].Message, want)
		}
	}
	// A value that only looks like a flag, or names a flag the command does not have, is a value.
	for _, argv := range [][]string{
		{"check", "--config", "./--state"},
		{"check", "--config", "--catalog"}, // check takes no --catalog: a (strange) file name
		{"check", "--config", "-"},
	} {
		if a, err := parseArgs(argv); err != nil || a.config != argv[2] {
			t.Errorf("%q: %+v, %v", argv, a, err)
		}
	}
}
