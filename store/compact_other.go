//go:build !unix

package store

import "os"

// matchFile gives f the mode of the file fi describes.
func matchFile(f *os.File, fi os.FileInfo) error { return f.Chmod(fi.Mode().Perm()) }
