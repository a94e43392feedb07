package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// UpdateConfig returns the config document doc with the new tokens in its credentials object:
// refresh_token, access_token and token_expiry_date (RFC 3339, UTC; removed when the expiry is
// unknown, so a stale one cannot linger). Everything else is kept as it was, byte for byte:
// unknown keys, key order, spacing.
func UpdateConfig(doc []byte, t Tokens) ([]byte, error) {
	set := []Member{{Key: "refresh_token", Value: t.RefreshToken}, {Key: "access_token", Value: t.AccessToken}}
	var remove []string
	if t.Expiry.IsZero() {
		remove = append(remove, "token_expiry_date")
	} else {
		set = append(set, Member{Key: "token_expiry_date", Value: t.Expiry.UTC().Format(time.RFC3339)})
	}
	out, err := SetMembers(doc, []string{"credentials"}, set, remove...)
	if err != nil {
		return nil, fmt.Errorf("putting the new tokens in the config: %w", err)
	}
	return out, nil
}

// Member is one key of a JSON object and the value to give it. A Value of type []Member becomes
// a nested object with its keys in that order; any other value is encoded with encoding/json.
type Member struct {
	Key   string
	Value any
}

// SetMembers edits the object reached from the top-level object of doc through the keys in path
// (creating the objects on the way that are missing): keys of set that it has get their new
// values in place, the others are appended in order, and keys in remove are dropped. The document
// is edited as text, never decoded into a map and encoded again, so the rest of it stays exactly
// as written; appended keys copy the spacing of the key before them.
func SetMembers(doc []byte, path []string, set []Member, remove ...string) ([]byte, error) {
	if !json.Valid(doc) {
		return nil, errors.New("the document is not valid JSON")
	}
	start := skipSpace(doc, 0)
	if doc[start] != '{' {
		return nil, errors.New("the document is not a JSON object")
	}
	end := skipValue(doc, start)
	obj, err := editObject(doc, start, end, descend{path: path, set: set, remove: remove})
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(doc)+len(obj)-(end-start))
	out = append(out, doc[:start]...)
	out = append(out, obj...)
	return append(out, doc[end:]...), nil
}

// descend is a change to make further down: in the object at path, set and remove keys.
type descend struct {
	path   []string
	set    []Member
	remove []string
}

// member is where one key and its value lie in the document.
type member struct {
	key        string
	lead       string // whitespace between the separator ('{' or ',') and the key
	keyStart   int
	keyEnd     int
	valueStart int
	valueEnd   int
}

// editObject returns the new text of the object doc[start:end] after the change d.
func editObject(doc []byte, start, end int, d descend) ([]byte, error) {
	members, closeAt, err := scanObject(doc, start, end)
	if err != nil {
		return nil, err
	}
	changes, remove := d.set, d.remove
	if len(d.path) > 0 {
		changes = []Member{{Key: d.path[0], Value: descend{path: d.path[1:], set: d.set, remove: d.remove}}}
		remove = nil
	}

	// Defaults for keys appended to an empty object: pretty if the braces sit on separate lines.
	inner := string(doc[start+1 : closeAt])
	lead, colon := "", ":"
	if i := strings.LastIndexByte(inner, '\n'); i >= 0 {
		lead, colon = "\n"+inner[i+1:]+indentUnit(inner[i+1:]), ": "
	}
	trailing := inner

	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	done := map[string]bool{}
	for _, m := range members {
		trailing = string(doc[m.valueEnd:closeAt])
		if slices.Contains(remove, m.key) {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(m.lead)
		b.Write(doc[m.keyStart:m.valueStart])
		value := doc[m.valueStart:m.valueEnd]
		if i := slices.IndexFunc(changes, func(c Member) bool { return c.Key == m.key }); i >= 0 {
			done[m.key] = true
			if value, err = newValue(doc, m, changes[i].Value); err != nil {
				return nil, err
			}
		}
		b.Write(value)
		lead, colon = m.lead, string(doc[m.keyEnd:m.valueStart])
	}
	for _, c := range changes {
		if done[c.Key] {
			continue
		}
		done[c.Key] = true
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.WriteString(lead)
		b.Write(encode(c.Key))
		b.WriteString(colon)
		v, err := render(c.Value, lead)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteString(trailing)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// newValue is the replacement for the value of m: an edited copy when the change goes further
// down into an object that exists, otherwise the rendered new value.
func newValue(doc []byte, m member, v any) ([]byte, error) {
	if d, ok := v.(descend); ok && doc[m.valueStart] == '{' {
		return editObject(doc, m.valueStart, m.valueEnd, d)
	}
	return render(v, m.lead)
}

// render encodes a new value. lead is the whitespace before its key, which sets the indentation
// of a nested object.
func render(v any, lead string) ([]byte, error) {
	switch x := v.(type) {
	case descend:
		if len(x.path) == 0 {
			return render(x.set, lead)
		}
		return render([]Member{{Key: x.path[0], Value: descend{path: x.path[1:], set: x.set}}}, lead)
	case []Member:
		pretty := strings.Contains(lead, "\n")
		indent := lead[strings.LastIndexByte(lead, '\n')+1:]
		inner, colon, closing := "", ":", ""
		if pretty {
			inner, colon, closing = "\n"+indent+indentUnit(indent), ": ", "\n"+indent
		}
		var b bytes.Buffer
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(inner)
			b.Write(encode(m.Key))
			b.WriteString(colon)
			val, err := render(m.Value, inner)
			if err != nil {
				return nil, err
			}
			b.Write(val)
		}
		if len(x) > 0 {
			b.WriteString(closing)
		}
		b.WriteByte('}')
		return b.Bytes(), nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding a config value: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// indentUnit guesses one level of indentation from an existing one.
func indentUnit(indent string) string {
	if strings.HasPrefix(indent, "\t") {
		return "\t"
	}
	return "  "
}

func encode(s string) []byte {
	b, _ := render(s, "") // a string always encodes
	return b
}

// scanObject lists the members of the object doc[start:end], which must be valid JSON, and
// returns the offset of its closing brace.
func scanObject(doc []byte, start, end int) ([]member, int, error) {
	bad := fmt.Errorf("the JSON object at byte %d could not be read", start)
	if doc[start] != '{' {
		return nil, 0, bad
	}
	var out []member
	i := skipSpace(doc, start+1)
	sepEnd := start + 1 // where the whitespace before the next key begins
	for i < end && doc[i] != '}' {
		if doc[i] == ',' {
			sepEnd = i + 1
			i = skipSpace(doc, i+1)
		}
		if i >= end || doc[i] != '"' {
			return nil, 0, bad
		}
		m := member{lead: string(doc[sepEnd:i]), keyStart: i, keyEnd: stringEnd(doc, i)}
		if err := json.Unmarshal(doc[m.keyStart:m.keyEnd], &m.key); err != nil {
			return nil, 0, bad
		}
		j := skipSpace(doc, m.keyEnd)
		if j >= end || doc[j] != ':' {
			return nil, 0, bad
		}
		m.valueStart = skipSpace(doc, j+1)
		m.valueEnd = skipValue(doc, m.valueStart)
		out = append(out, m)
		i = skipSpace(doc, m.valueEnd)
	}
	if i >= end {
		return nil, 0, bad
	}
	return out, i, nil
}

func skipSpace(doc []byte, i int) int {
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the offset just past the string literal starting at doc[i].
func stringEnd(doc []byte, i int) int {
	for i++; i < len(doc); i++ {
		switch doc[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(doc)
}

// skipValue returns the offset just past the JSON value starting at doc[i].
func skipValue(doc []byte, i int) int {
	switch doc[i] {
	case '"':
		return stringEnd(doc, i)
	case '{', '[':
		depth := 0
		for ; i < len(doc); i++ {
			switch doc[i] {
			case '"':
				i = stringEnd(doc, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(doc)
	}
	for i < len(doc) && !strings.ContainsRune(" \t\r\n,}]", rune(doc[i])) {
		i++
	}
	return i
}

// ErrReadOnly is wrapped by WriteFile when the file or its folder cannot be written.
var ErrReadOnly = errors.New("read-only")

// rename is os.Rename; tests replace it to act out a file that cannot be replaced.
var rename = os.Rename

// WriteFile replaces the file at path with data so that a reader sees the old file or the new
// one, never a mix: it writes a temporary file in the same folder, syncs it to disk and renames
// it over the original. The new file keeps the original's permission bits where they are
// stricter than newMode and drops any beyond it: a config holding a fresh refresh token is not
// left readable by the group or others just because the old one was (0644 becomes 0600). A symbolic link is followed and the file it points to replaced.
//
// A file or folder without its owner's write bit is treated as read-only even where the process
// could write it (as root): the user marked it so. Errors for read-only files wrap ErrReadOnly.
// A file that cannot be replaced because it is a mount point (a single file bind-mounted into a
// container) is rewritten in place instead, as the only way to save its new content.
func WriteFile(path string, data []byte, newMode os.FileMode) error {
	target, err := filepath.EvalSymlinks(path)
	mode := newMode.Perm()
	switch {
	case err == nil:
		info, err := os.Stat(target)
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("writing %s: not a regular file", path)
		}
		mode = info.Mode().Perm() & newMode.Perm()
		if info.Mode().Perm()&0o200 == 0 {
			return fmt.Errorf("writing %s: the file is %w (mode %04o)", path, ErrReadOnly, mode)
		}
	case errors.Is(err, fs.ErrNotExist):
		target = path
	default:
		return fmt.Errorf("writing %s: %w", path, err)
	}

	dir := filepath.Dir(target)
	if info, err := os.Stat(dir); err == nil && info.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("writing %s: its folder %s is %w (mode %04o)", path, dir, ErrReadOnly, info.Mode().Perm())
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, readOnly(err))
	}
	keep := false
	defer func() {
		if !keep {
			_ = os.Remove(tmp.Name())
		}
	}()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, readOnly(err))
	}
	if err := rename(tmp.Name(), target); err != nil {
		if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EXDEV) {
			return rewrite(path, target, data)
		}
		return fmt.Errorf("writing %s: %w", path, readOnly(err))
	}
	keep = true
	// Make the rename itself durable; a folder that cannot be synced is no reason to fail.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// rewrite writes data over target in place, for a file that cannot be replaced.
func rewrite(path, target string, data []byte) error {
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("writing %s in place: %w", path, readOnly(err))
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s in place: %w", path, err)
	}
	return nil
}

// readOnly marks permission and read-only file system errors with ErrReadOnly.
func readOnly(err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return fmt.Errorf("%w: %w", ErrReadOnly, err)
	}
	return err
}
