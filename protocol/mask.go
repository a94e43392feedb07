package protocol

import (
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Masked replaces every secret in text the connector writes.
const Masked = "****"

// MinSecretLength is the shortest value the Masker hides. Real Oura tokens and secrets are
// far longer; masking a one-letter "secret" would garble every message instead.
const MinSecretLength = 6

// Masker hides secret values in free text. Secrets can be added while the connector runs,
// because OAuth refreshes mint new tokens mid-sync.
type Masker struct {
	mu      sync.RWMutex
	secrets []string
	r       *strings.Replacer
}

// NewMasker returns a Masker for the given secrets; values shorter than MinSecretLength are ignored.
func NewMasker(secrets ...string) *Masker {
	m := &Masker{}
	m.Add(secrets...)
	return m
}

// Add registers more secrets.
func (m *Masker) Add(secrets ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range secrets {
		if len(s) < MinSecretLength {
			continue
		}
		m.secrets = append(m.secrets, s)
	}
	// Longest first, so a secret that contains another is hidden whole.
	sort.Slice(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	pairs := make([]string, 0, 2*len(m.secrets))
	for _, s := range m.secrets {
		pairs = append(pairs, s, Masked)
	}
	m.r = strings.NewReplacer(pairs...)
}

// Mask returns text with every known secret replaced by Masked.
func (m *Masker) Mask(text string) string {
	if text == "" {
		return text
	}
	m.mu.RLock()
	r := m.r
	m.mu.RUnlock()
	if r == nil {
		return text
	}
	return r.Replace(text)
}

// Cut bounds text to at most n bytes (plus a closing "…") for a message. Mask before cutting: a cut made
// first could split a secret, and the masker cannot recognise half a secret. As a second guard for secrets
// the caller did not know of, a cut never leaves a partial word behind: when it falls inside a run of the
// characters tokens are made of (letters, digits, - _ . ~ + / =), the whole run is dropped.
func Cut(text string, n int) string {
	if len(text) <= n {
		return text
	}
	cut := max(n, 0)
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	if tokenByte(text[cut]) {
		for cut > 0 && tokenByte(text[cut-1]) {
			cut--
		}
	}
	return strings.TrimRight(text[:cut], " ") + "…"
}

// tokenByte reports whether c can be part of a token, key or secret (base64, base64url, JWT, hex).
func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '='
}
