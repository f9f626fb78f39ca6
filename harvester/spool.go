package harvester

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// spoolMemory is how much of a response body is kept in memory; the rest
// of a larger one goes to a temporary file. Ordinary pages (a few hundred
// records, under 1 MB) never touch the disk.
const spoolMemory = 4 << 20

// Body is a response body read in full: in memory up to spoolMemory
// bytes, beyond that in a temporary file, so that a page of any size up
// to MaxResponseBytes costs spoolMemory of memory. The file is removed as
// soon as it is made (where the system allows, else on Close): a crash
// leaves nothing behind. A Body can be read from the start any number of
// times.
type Body struct {
	mem  []byte
	file *os.File
	name string // the file's name while it could not be removed
	n    int64
}

// Len is the body's length in bytes.
func (b *Body) Len() int64 {
	if b == nil {
		return 0
	}
	return b.n
}

// Reader reads the body from its start.
func (b *Body) Reader() io.Reader {
	if b.file == nil {
		return bytes.NewReader(b.mem)
	}
	return io.NewSectionReader(b.file, 0, b.n)
}

// Head returns up to n bytes of the start of the body.
func (b *Body) Head(n int) []byte {
	if b == nil {
		return nil
	}
	if b.file == nil {
		return b.mem[:min(n, len(b.mem))]
	}
	buf := make([]byte, min(int64(n), b.n))
	k, _ := b.file.ReadAt(buf, 0)
	return buf[:k]
}

// Bytes returns the whole body in memory, for a small one (an error page,
// a test).
func (b *Body) Bytes() ([]byte, error) {
	if b.file == nil {
		return b.mem, nil
	}
	return io.ReadAll(b.Reader())
}

// Close releases the file, if any. A nil Body may be closed.
func (b *Body) Close() error {
	if b == nil || b.file == nil {
		return nil
	}
	err := b.file.Close()
	if b.name != "" {
		err = errors.Join(err, os.Remove(b.name))
	}
	b.file = nil
	return err
}

// spool reads r to its end into a Body, refusing more than limit bytes;
// a body larger than spoolMemory goes to a temporary file in dir (the
// system's temporary directory when dir is "").
func spool(r io.Reader, limit int64, dir string) (*Body, error) {
	b := &Body{}
	mem := make([]byte, 0, 64<<10)
	for len(mem) < spoolMemory {
		if len(mem) == cap(mem) {
			mem = append(mem, 0)[:len(mem)]
		}
		k, err := r.Read(mem[len(mem):min(cap(mem), spoolMemory)])
		mem = mem[:len(mem)+k]
		if int64(len(mem)) > limit {
			return nil, fmt.Errorf("response larger than %d bytes", limit)
		}
		if err == io.EOF {
			b.mem, b.n = mem, int64(len(mem))
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
	f, err := os.CreateTemp(dir, "unicat-response-*")
	if err != nil {
		return nil, fmt.Errorf("spooling the response: %w", err)
	}
	b.file = f
	if os.Remove(f.Name()) != nil {
		b.name = f.Name()
	}
	n, err := f.Write(mem)
	if err == nil {
		var m int64
		m, err = io.Copy(f, io.LimitReader(r, limit+1-int64(n)))
		b.n = int64(n) + m
	}
	if err == nil && b.n > limit {
		err = fmt.Errorf("response larger than %d bytes", limit)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}
