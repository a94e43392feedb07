package protocol

import (
	"strings"
	"testing"
	"unicode/utf8"

	"source-oura/internal/protocoltest"
)

// TestMaskLongestFirst: a secret that contains another is hidden whole, whatever order they were added in.
func TestMaskLongestFirst(t *testing.T) {
	// The short secret comes first in every order below except the last, so a masker that
	// kept the order it was given (or sorted shortest first) would leave "-refresh-123456".
	added := NewMasker("abcdef")
	added.Add("abcdef-refresh-123456") // a refresh mints a longer token mid-sync
	for name, m := range map[string]*Masker{
		"short then long":       NewMasker("abcdef", "abcdef-refresh-123456"),
		"long then short":       NewMasker("abcdef-refresh-123456", "abcdef"),
		"long added later":      added,
		"with an unrelated one": NewMasker("zzzzzzzzzzzz", "abcdef", "abcdef-refresh-123456"),
	} {
		if got := m.Mask("token abcdef-refresh-123456 end, abcdef"); got != "token "+Masked+" end, "+Masked {
			t.Errorf("%s: Mask = %q; want the longer secret masked whole and the shorter one alone", name, got)
		}
	}
	if got := NewMasker("abcde").Mask("abcde"); got != "abcde" {
		t.Errorf("a 5-character value was masked: %q; values under MinSecretLength are left alone", got)
	}
}

// TestCutNeverLeavesAPieceOfAWord: cutting inside a token-like word drops the whole word, so a secret the
// caller did not mask cannot leave a fragment; a cut between words keeps the words before it.
func TestCutNeverLeavesAPieceOfAWord(t *testing.T) {
	secret := "Zq8vN3kLm2Xp7Rt5Yw1Bc4Df6Gh9Jk0"
	text := strings.Repeat("a ", 140) + secret + " trailing words"
	got := Cut(text, 300)
	if piece := protocoltest.SecretPiece(got, secret); piece != "" {
		t.Fatalf("Cut left %q of the secret: %q", piece, got)
	}
	if !strings.HasSuffix(got, "a…") || len(got) > 300+len("…") {
		t.Errorf("Cut = %q; want the words before the secret and an ellipsis", got)
	}
	if got := Cut("short", 300); got != "short" {
		t.Errorf("Cut of a short text = %q", got)
	}
	if got := Cut(strings.Repeat("é", 400), 300); !utf8.ValidString(got) || got != strings.Repeat("é", 150)+"…" {
		t.Errorf("Cut splits a character: %q", got)
	}
}
