//go:build unix

package auth

import (
	"os"
	"syscall"
)

// sameOwner reports whether f already has the owner and group of old.
func sameOwner(f *os.File, old os.FileInfo) bool {
	want, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	info, err := f.Stat()
	if err != nil {
		return false
	}
	got, ok := info.Sys().(*syscall.Stat_t)
	return ok && got.Uid == want.Uid && got.Gid == want.Gid
}

// chownLike gives f the owner and group of old: a config owned by another user and rewritten
// by root stays that user's.
func chownLike(f *os.File, old os.FileInfo) error {
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return f.Chown(int(st.Uid), int(st.Gid))
}
