package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"source-oura/internal/jsonscan"
	"source-oura/protocol"
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
//
// It stays hand-written rather than github.com/tidwall/sjson: sjson also edits text and keeps key
// order and unknown keys, but it appends a new member as `,"key":value` and creates a missing
// object on one line, so an indented config file would come back with a token crammed onto the
// last line (the formatting tests in configfile_test.go pin the spacing), and it removes and sets
// one path per call, where a rewrite here must change several members of one object at once.
func SetMembers(doc []byte, path []string, set []Member, remove ...string) ([]byte, error) {
	if !json.Valid(doc) {
		return nil, errors.New("the document is not valid JSON")
	}
	// A valid document is one value between whitespace: the object spans start to end.
	const space = " \t\r\n"
	start, end := len(doc)-len(bytes.TrimLeft(doc, space)), len(bytes.TrimRight(doc, space))
	if doc[start] != '{' {
		return nil, errors.New("the document is not a JSON object")
	}
	obj, err := editObject(doc, start, descend{path: path, set: set, remove: remove})
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

// editObject returns the new text of the object at doc[start] after the change d.
func editObject(doc []byte, start int, d descend) ([]byte, error) {
	members, closeAt, err := scanObject(doc, start)
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
		if err := writeNewMember(&b, n == 0, lead, colon, c); err != nil {
			return nil, err
		}
		n++
	}
	b.WriteString(trailing)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// newValue is the replacement for the value of m: an edited copy when the change goes further
// down into an object that exists, otherwise the rendered new value.
func newValue(doc []byte, m member, v any) ([]byte, error) {
	if d, ok := v.(descend); ok && doc[m.valueStart] == '{' {
		return editObject(doc, m.valueStart, d)
	}
	return render(v, m.lead)
}

// writeNewMember writes a member that is not in the document yet: a comma unless it is the
// first, then lead, the key, colon and the rendered value, indented as lead is.
func writeNewMember(b *bytes.Buffer, first bool, lead, colon string, m Member) error {
	if !first {
		b.WriteByte(',')
	}
	b.WriteString(lead)
	b.Write(encode(m.Key))
	b.WriteString(colon)
	v, err := render(m.Value, lead)
	if err != nil {
		return err
	}
	b.Write(v)
	return nil
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
			if err := writeNewMember(&b, i == 0, inner, colon, m); err != nil {
				return nil, err
			}
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

// scanObject lists the members of the object at doc[start] and returns the offset of its
// closing brace.
func scanObject(doc []byte, start int) ([]member, int, error) {
	found, past, err := jsonscan.Members(doc, start)
	if err != nil {
		return nil, 0, fmt.Errorf("the JSON object at byte %d could not be read: %w", start, err)
	}
	out := make([]member, len(found))
	for i, m := range found {
		out[i] = member{key: m.Key, lead: string(doc[m.Lead:m.KeyStart]), keyStart: m.KeyStart, keyEnd: m.KeyEnd,
			valueStart: m.ValueStart, valueEnd: m.ValueEnd}
	}
	return out, past - 1, nil
}

// ErrReadOnly is wrapped by WriteFile and UpdateFile when the file cannot be written.
var ErrReadOnly = errors.New("read-only")

// maxConfigFileSize bounds the re-read of a config file; real ones are about a kilobyte.
const maxConfigFileSize = protocol.MaxInputFileSize

// Seams for tests, which act out what a root-run test machine cannot: a file that cannot be
// renamed over (a bind mount), a folder where no file can be created, a chmod refused.
var (
	rename     = os.Rename
	createTemp = os.CreateTemp
	chmod      = (*os.File).Chmod
	// afterStep, when set, is called after each step of an in-place rewrite (tests look at
	// the file between steps, as a crash would leave it).
	afterStep func(step string)
)

// readConfigFile reads a config file the bounded, non-blocking way every file is read.
func readConfigFile(path string) ([]byte, os.FileInfo, error) {
	return protocol.ReadRegularFile(path, maxConfigFileSize)
}

// UpdateFile saves new tokens in the config file at path after a refresh. It reads the file as
// it is now, not as it was when the run started, so edits made during the run are kept, and
// changes only the token fields (see UpdateConfig); then it writes it back like WriteFile: by
// an atomic rename where it can, in place where it cannot (a file mounted on its own, a folder
// this user cannot write). warn receives what the user should fix but is not an error: a
// file left readable by others because this user cannot change its mode.
func UpdateFile(path string, t Tokens, warn func(string)) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("re-reading %s: %w", path, readOnly(err))
	}
	cur, info, err := readConfigFile(target)
	if err != nil {
		return fmt.Errorf("re-reading %s: %w", path, readOnly(err))
	}
	updated, err := UpdateConfig(cur, t)
	if err != nil {
		return fmt.Errorf("%s changed during the run and %w", path, err)
	}
	if bytes.Equal(updated, cur) {
		return nil
	}
	return replace(path, target, info, updated, warn)
}

// ReadTokens reads the OAuth tokens saved in the config file at path as it is now (bounded, and
// without blocking on a FIFO, as UpdateFile reads it). An expiry that is not RFC 3339 is left
// zero (unknown), as the config itself would refuse it.
func ReadTokens(path string) (Tokens, error) {
	data, _, err := readConfigFile(path)
	if err != nil {
		return Tokens{}, fmt.Errorf("re-reading %s: %w", path, protocol.UnwrapPath(err))
	}
	var doc struct {
		Credentials struct {
			RefreshToken string `json:"refresh_token"`
			AccessToken  string `json:"access_token"`
			Expiry       string `json:"token_expiry_date"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return Tokens{}, fmt.Errorf("re-reading %s: %w", path, err)
	}
	c := doc.Credentials
	t := Tokens{RefreshToken: strings.TrimSpace(c.RefreshToken), AccessToken: strings.TrimSpace(c.AccessToken)}
	if exp, err := time.Parse(time.RFC3339, c.Expiry); err == nil {
		t.Expiry = exp
	}
	return t, nil
}

// WriteFile writes data to the file at path, creating it with newMode (0600 for a config) or
// replacing it. An existing file is replaced as UpdateFile does: a reader sees the old file or
// the new one, never a mix, where the folder allows a rename; its owner and group are kept; its
// permission bits are kept where stricter than newMode and the others dropped (a config
// holding a fresh refresh token is not left readable by the group or others just because the
// old one was: 0644 becomes 0600). A symbolic link is followed and the file it points to
// replaced.
//
// A file without its owner's write bit is treated as read-only even where the process could
// write it (as root): the user marked it so. Errors for read-only files wrap ErrReadOnly.
func WriteFile(path string, data []byte, newMode os.FileMode) error {
	target, err := filepath.EvalSymlinks(path)
	switch {
	case err == nil:
		info, err := os.Stat(target)
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("writing %s: not a regular file", path)
		}
		return replaceMode(path, target, info, data, info.Mode().Perm()&newMode.Perm(), func(string) {})
	case errors.Is(err, fs.ErrNotExist):
		_, err := atomicWrite(filepath.Dir(path), path, data, newMode.Perm(), nil)
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, readOnly(err))
		}
		return nil
	default:
		return fmt.Errorf("writing %s: %w", path, err)
	}
}

// replace writes data over the existing regular file target (reached from path), whose state
// before is info, keeping its owner and group and at most mode 0600.
func replace(path, target string, info os.FileInfo, data []byte, warn func(string)) error {
	return replaceMode(path, target, info, data, info.Mode().Perm()&0o600, warn)
}

func replaceMode(path, target string, info os.FileInfo, data []byte, mode os.FileMode, warn func(string)) error {
	if info.Mode().Perm()&0o200 == 0 {
		return fmt.Errorf("writing %s: the file is %w (mode %04o)", path, ErrReadOnly, info.Mode().Perm())
	}
	dir := filepath.Dir(target)
	if dinfo, err := os.Stat(dir); err == nil && dinfo.Mode().Perm()&0o200 == 0 {
		// A folder marked read-only: no new file can go there, but the file itself is writable.
		return rewriteInPlace(path, target, info, data, warn)
	}
	replaced, err := atomicWrite(dir, target, data, mode, info)
	switch {
	case replaced:
		return nil
	case errors.Is(err, errCannotReplace):
		return rewriteInPlace(path, target, info, data, warn)
	}
	return fmt.Errorf("writing %s: %w", path, readOnly(err))
}

// errCannotReplace says the file cannot be swapped for a new one, but may be rewritten in place.
var errCannotReplace = errors.New("the file cannot be replaced by a rename")

// atomicWrite writes data to a temporary file in dir and renames it to target. With old set
// (target exists) the new file gets old's owner and group first; errCannotReplace is returned
// when no file can be created in dir, when the owner or group cannot be given (the rename
// would hand the file to this user), or when the rename is refused because target is a mount
// point (EBUSY) or on another file system (EXDEV).
func atomicWrite(dir, target string, data []byte, mode os.FileMode, old os.FileInfo) (bool, error) {
	tmp, err := createTemp(dir, "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		if old != nil && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)) {
			return false, errCannotReplace
		}
		return false, err
	}
	keep := false
	defer func() {
		if !keep {
			_ = os.Remove(tmp.Name())
		}
	}()
	if old != nil && !sameOwner(tmp, old) {
		if err := chownLike(tmp, old); err != nil {
			_ = tmp.Close()
			return false, errCannotReplace
		}
	}
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
		return false, err
	}
	if err := rename(tmp.Name(), target); err != nil {
		if old != nil && (errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EXDEV)) {
			return false, errCannotReplace
		}
		return false, err
	}
	keep = true
	// Make the rename itself durable; a folder that cannot be synced is no reason to fail.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return true, nil
}

// rewriteInPlace writes data over target without replacing it, for a file that cannot be
// replaced. It never truncates first. Between any two of its steps the file is one complete
// JSON document (JSON allows trailing spaces), so a run stopped between them leaves a file
// the next run reads:
//
//  1. the mode is narrowed to 0600 first, so the new token is never readable by others
//     (when this user may not change it: a WARN);
//  2. a file shorter than the new content is first padded with spaces to its length, synced;
//  3. the bytes that differ are written (the content padded with spaces to the file's length),
//     synced;
//  4. the padding beyond the new content is cut off, synced.
//
// What it cannot promise: a power loss in the middle of step 3, before the sync, can leave the
// changed range half old and half new. That range is only the token values, a few hundred bytes
// in one disk page, which disks write as a unit in practice; the CONTROL message carries the
// same tokens for the platform.
func rewriteInPlace(path, target string, info os.FileInfo, data []byte, warn func(string)) error {
	fail := func(err error) error { return fmt.Errorf("writing %s in place: %w", path, readOnly(err)) }
	f, err := os.OpenFile(target, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if !st.Mode().IsRegular() {
		return fail(errors.New("not a regular file"))
	}
	step := func(name string) {
		if afterStep != nil {
			afterStep(name)
		}
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		if err := chmod(f, perm&0o600); err != nil {
			warn(fmt.Sprintf("the config file %s holds the new refresh token and is readable by other users (mode %04o), "+
				"and this user cannot change that (%v): run chmod 600 %s as its owner", path, perm, protocol.UnwrapPath(err), path))
		}
		step("chmod")
	}
	size := st.Size()
	if size > maxConfigFileSize {
		return fail(fmt.Errorf("larger than %d MiB", maxConfigFileSize>>20))
	}
	old := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), old); err != nil {
		return fail(err)
	}
	if int64(len(data)) > size {
		if _, err := f.WriteAt(bytes.Repeat([]byte{' '}, len(data)-int(size)), size); err != nil {
			return fail(err)
		}
		if err := f.Sync(); err != nil {
			return fail(err)
		}
		old = append(old, bytes.Repeat([]byte{' '}, len(data)-int(size))...)
		step("pad")
	}
	padded := append(append([]byte{}, data...), bytes.Repeat([]byte{' '}, len(old)-len(data))...)
	from, to := 0, len(padded)
	for from < to && padded[from] == old[from] {
		from++
	}
	for to > from && padded[to-1] == old[to-1] {
		to--
	}
	if from < to {
		if _, err := f.WriteAt(padded[from:to], int64(from)); err != nil {
			return fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	step("write")
	if len(padded) > len(data) {
		if err := f.Truncate(int64(len(data))); err != nil {
			return fail(err)
		}
		if err := f.Sync(); err != nil {
			return fail(err)
		}
		step("truncate")
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
