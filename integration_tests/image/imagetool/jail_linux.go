package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// Constants of prctl(2) that package syscall does not name.
const (
	prCapBSetDrop   = 24
	prSetNoNewPrivs = 38
)

// jail runs a program the way Airbyte's custom-connector guide runs a connector pod, where
// `podman run --cap-drop=ALL --user` cannot run (crun cannot set its rlimits on machines
// without CAP_SYS_RESOURCE): chrooted into ROOT (which the caller has mounted read-only), as
// UID:GID with no supplementary groups, with an empty capability bounding set and
// no_new_privs, so that no capability is held or can be gained. The environment passes
// unchanged: the caller sets the image's (env -i …).
//
//	imagetool jail ROOT UID:GID WORKDIR PROGRAM ARG...
func jail(args []string) error {
	root, ids, dir, argv := args[0], args[1], args[2], args[3:]
	var uid, gid int
	if _, err := fmt.Sscanf(ids, "%d:%d", &uid, &gid); err != nil || uid <= 0 || gid <= 0 {
		return fmt.Errorf("jail: %q is not UID:GID of a non-root user", ids)
	}
	// The bounding set and no_new_privs belong to the thread; exec starts the program from
	// this one.
	runtime.LockOSThread()
	for c := 0; c < 64; c++ {
		if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prCapBSetDrop, uintptr(c), 0); e != 0 && !errors.Is(e, syscall.EINVAL) {
			return fmt.Errorf("jail: dropping capability %d from the bounding set: %w", c, e)
		}
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0); e != 0 {
		return fmt.Errorf("jail: setting no_new_privs: %w", e)
	}
	if err := syscall.Chroot(root); err != nil {
		return fmt.Errorf("jail: chroot %s: %w", root, err)
	}
	if err := syscall.Chdir(dir); err != nil {
		return fmt.Errorf("jail: chdir %s: %w", dir, err)
	}
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("jail: setgroups: %w", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("jail: setgid %d: %w", gid, err)
	}
	// Leaving uid 0 clears the permitted and effective capabilities.
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("jail: setuid %d: %w", uid, err)
	}
	return fmt.Errorf("jail: exec %s: %w", argv[0], syscall.Exec(argv[0], argv, os.Environ()))
}
