package lang

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is returned for a path that is not a regular file: a FIFO
// would block the reader forever, a device (/dev/zero) never ends.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading and refuses anything but a regular
// file without ever blocking on it: the open is non-blocking (a FIFO with
// no writer would otherwise hang the open itself) and the check is fstat
// on the opened descriptor, so the file cannot be swapped in between.
// Every file voicewall reads as input goes through here.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	return regularOnly(f, path)
}

// regularOnly returns an opened file with its fstat when it is a regular
// file, and closes it otherwise.
func regularOnly(f *os.File, path string) (*os.File, fs.FileInfo, error) {
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, fileKind(st.Mode()))}
	}
	return f, st, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "not a plain file"
}

// ErrTooLarge is returned by ReadRegular for a file over its limit.
var ErrTooLarge = errors.New("file too large")

// ReadRegular reads a whole regular file (see OpenRegular) of at most max
// bytes. The limit holds while reading too, as /proc and /sys files report
// a size of 0. A read error is returned, never taken for the end.
func ReadRegular(path string, max int64) ([]byte, error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readBounded(f, st, path, max)
}

// readBounded reads an open regular file of at most max bytes: its size
// checked first, the limit held while reading (/proc and /sys files report
// a size of 0).
func readBounded(f io.Reader, st fs.FileInfo, path string, max int64) ([]byte, error) {
	if st.Size() > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: %d bytes, over the limit of %d", ErrTooLarge, st.Size(), max)}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: over the limit of %d bytes", ErrTooLarge, max)}
	}
	return b, nil
}
