package cli

import (
	"testing"

	"source-oura/protocol"
)

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
