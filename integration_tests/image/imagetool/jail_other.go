//go:build !linux

package main

import "errors"

// jail needs Linux's prctl and chroot; the image test runs on Linux only.
func jail([]string) error {
	return errors.New("jail: runs on Linux only")
}
