package fsutil

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// NotRegularError is a path that names something other than a regular
// file (after links are followed): a device, a named pipe, a socket, a
// directory.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, DescribeMode(e.Mode))
}

// TooLargeError is a file over the limit a reader was given. Grew is set
// when the file's size said otherwise and the bytes read went past it.
type TooLargeError struct {
	Path        string
	Size, Limit int64
	Grew        bool
}

func (e *TooLargeError) Error() string {
	if e.Grew {
		return fmt.Sprintf("%s grew past the limit of %d bytes while it was read", e.Path, e.Limit)
	}
	return fmt.Sprintf("%s has %d bytes, more than the limit of %d", e.Path, e.Size, e.Limit)
}

// DescribeMode names a file type in words.
func DescribeMode(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	default:
		return "not a regular file"
	}
}

// ReadRegular reads a regular file of at most limit bytes. The file is
// opened without blocking (a named pipe swapped in opens at once and is
// then refused) and checked on the open descriptor, and the read stops at
// limit+1 bytes whatever stat said, so that a link to a device or a file
// that keeps growing cannot make the reader block or exhaust memory.
func ReadRegular(path string, limit int64) ([]byte, fs.FileInfo, error) {
	if info, err := os.Stat(path); err != nil {
		return nil, nil, err
	} else if !info.Mode().IsRegular() {
		return nil, info, &NotRegularError{Path: path, Mode: info.Mode()}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0) // #nosec G304 -- the caller's own file
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, info, &NotRegularError{Path: path, Mode: info.Mode()}
	}
	if info.Size() > limit {
		return nil, info, &TooLargeError{Path: path, Size: info.Size(), Limit: limit}
	}
	data, over, err := ReadAtMost(f, info.Size(), limit)
	if err != nil {
		return nil, info, fmt.Errorf("read %s: %w", path, err)
	}
	if over {
		return nil, info, &TooLargeError{Path: path, Size: int64(len(data)), Limit: limit, Grew: true}
	}
	return data, info, nil
}

// ReadAtMost reads r to its end, starting with room for sizeHint bytes (a
// stat size, which may be wrong) and never reading more than limit+1: over
// says r held more than limit, so a device or a file that grows while it is
// read cannot make the reader hold more than the limit.
func ReadAtMost(r io.Reader, sizeHint, limit int64) (data []byte, over bool, err error) {
	r = io.LimitReader(r, limit+1)
	data = make([]byte, 0, min(sizeHint, limit)+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, int64(len(data)) > limit, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
}
