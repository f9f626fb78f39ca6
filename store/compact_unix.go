//go:build unix

package store

import (
	"os"
	"syscall"
)

// matchFile gives f the mode, owner and group of the file fi describes.
func matchFile(f *os.File, fi os.FileInfo) error {
	if err := f.Chmod(fi.Mode().Perm()); err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if err := f.Chown(int(st.Uid), int(st.Gid)); err != nil && !os.IsPermission(err) {
			return err
		}
	}
	return nil
}
