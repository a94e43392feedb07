package protocol

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// NotRegularError is ReadRegularFile's refusal of a path that is a directory, a named pipe, a
// device or a socket.
type NotRegularError struct{ Mode fs.FileMode }

func (e *NotRegularError) Error() string { return "not a regular file" }

// TooLargeError is ReadRegularFile's refusal of a file longer than its bound.
type TooLargeError struct{ Max int64 }

func (e *TooLargeError) Error() string { return fmt.Sprintf("larger than %d MiB", e.Max>>20) }

// ReadRegularFile reads a whole regular file of at most max bytes, the one way the connector
// reads a file it is handed (config, catalog, state, and the config it rewrites after a token
// refresh). It never blocks: a named pipe with no writer would hold the open forever, SIGTERM
// included, and a device can be read without end, so the open is non-blocking and the opened
// file must be regular. It returns the file's info, which the config rewrite needs.
func ReadRegularFile(path string, max int64) ([]byte, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, &NotRegularError{Mode: info.Mode()}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) > max {
		return nil, nil, &TooLargeError{Max: max}
	}
	return data, info, nil
}

// UnwrapPath drops the *fs.PathError wrapper, whose text repeats the path the message names.
func UnwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
