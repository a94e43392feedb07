package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestAccountColumnSetting: account_column is off unless enabled, keeps the label as given,
// and an empty label means the Oura user id.
func TestAccountColumnSetting(t *testing.T) {
	for in, want := range map[string]AccountColumn{
		`{"api_key":"abcdef"}`:                                                              {},
		`{"api_key":"abcdef","account_column":{}}`:                                          {},
		`{"api_key":"abcdef","account_column":{"enabled":false,"label":"p-01"}}`:            {Label: "p-01"},
		`{"api_key":"abcdef","account_column":{"enabled":true}}`:                            {Enabled: true},
		`{"api_key":"abcdef","account_column":{"enabled":true,"label":""}}`:                 {Enabled: true},
		`{"api_key":"abcdef","account_column":{"enabled":true,"label":" Zoë 01 "}}`:         {Enabled: true, Label: "Zoë 01"},
		`{"api_key":"abcdef","sandbox":true,"account_column":{"enabled":true,"label":"p"}}`: {Enabled: true, Label: "p"},
	} {
		c, err := validator(t).Parse([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if c.Account != want {
			t.Errorf("%s: got %+v, want %+v", in, c.Account, want)
		}
	}
}

// TestAccountColumnBadValues: each mistake is one error naming the field and what to do.
func TestAccountColumnBadValues(t *testing.T) {
	for _, c := range []struct{ in, field, text string }{
		{`{"api_key":"abcdef","account_column":true}`, "account_column", "must be object"},
		{`{"api_key":"abcdef","account_column":{"enabled":"yes"}}`, "account_column.enabled", "must be boolean"},
		{`{"api_key":"abcdef","account_column":{"enabled":true,"label":7}}`, "account_column.label", "must be string"},
		{`{"api_key":"abcdef","account_column":{"enabled":true,"label":"` + strings.Repeat("x", 201) + `"}}`, "account_column.label", "200"},
		{`{"api_key":"abcdef","account_column":{"enabled":true,"label":"   "}}`, "account_column.label", "only blanks"},
		{`{"api_key":"abcdef","account_column":{"enabled":true,"lable":"p-01"}}`, "account_column.lable", `"label"`},
		{`{"api_key":"abcdef","sandbox":true,"account_column":{"enabled":true}}`, "account_column.label", "sandbox has no personal_info"},
		{`{"api_key":"abcdef","account_column":{"enabled":true,"label":"p\u0000"}}`, "account_column.label", "control character (U+0000)"},
		{`{"api_key":"abcdef","account_column":{"enabled":true,"label":"a\tb"}}`, "account_column.label", "control character (U+0009)"},
		{`{"api_key":"abcdef","account_column":{"enabled":true,"label":"a\u202eb"}}`, "account_column.label", "invisible character (U+202E)"},
		{`{"api_key":"abcdef","account_column":{"enabled":true,"label":"p-01\u200b"}}`, "account_column.label", "invisible character (U+200B)"},
	} {
		_, err := validator(t).Parse([]byte(c.in))
		var ce *Error
		if !errors.As(err, &ce) || ce.Field != c.field || !strings.Contains(err.Error(), c.text) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got %v, want field %s saying %q", c.in, err, c.field, c.text)
		}
	}
}

// TestAccountColumnWarnings: a label with spaces around it is written without them, and a label
// without "enabled" is ignored; each says so in one warning. A plain setting, and a label beside
// an explicit "enabled": false (the column turned off on purpose), warn of nothing.
func TestAccountColumnWarnings(t *testing.T) {
	for in, want := range map[string]string{
		`{"api_key":"abcdef","account_column":{"label":"x"}}`:                     "account_column.label is set but account_column.enabled is not, so the label is ignored",
		`{"api_key":"abcdef","account_column":{"enabled":false,"label":"x"}}`:     "",
		`{"api_key":"abcdef","account_column":{"enabled":true,"label":" p-01 "}}`: `account_column.label had spaces before or after it; the connector removed them and writes "p-01"`,
		`{"api_key":"abcdef","account_column":{"enabled":true,"label":"p-01"}}`:   "",
		`{"api_key":"abcdef","account_column":{"enabled":false}}`:                 "",
	} {
		c, err := validator(t).Parse([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got := strings.Join(c.Warnings(time.Now()), "\n")
		if want == "" && got != "" || !strings.Contains(got, want) || strings.Count(got, "account_column") > 0 && strings.Contains(got, "\n") {
			t.Errorf("%s: warnings %q, want one saying %q", in, got, want)
		}
	}
}
