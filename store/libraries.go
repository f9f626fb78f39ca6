package store

import (
	"bytes"
	"fmt"

	"go.etcd.io/bbolt"
)

// LibraryInfo is a library of the network, copied from the configuration
// (every source's own library and those described beside them): what
// serving a union record needs to name its holders, even in a process
// that has no configuration of its own (unicat status, metrics of a store
// another process writes).
type LibraryInfo struct {
	Code    string // the code holdings carry (852 $a) and OAI sets name
	Name    string
	Level   string // province, district, commune
	OrgCode string // MARC organization code
	Address string
}

const libraryEncV1 = 1

var bucketLibraries = []byte("libraries")

func encodeLibraryInfo(dst []byte, l *LibraryInfo) []byte {
	dst = append(dst, libraryEncV1)
	for _, f := range []string{l.Name, l.Level, l.OrgCode, l.Address} {
		dst = appendString(dst, f)
	}
	return dst
}

func decodeLibraryInfo(code string, b []byte) (LibraryInfo, error) {
	d := decoder{b: b}
	if v := d.byte(); d.err == nil && v != libraryEncV1 {
		return LibraryInfo{}, fmt.Errorf("store: library %q: unknown encoding version %d", code, v)
	}
	l := LibraryInfo{Code: code, Name: d.string(), Level: d.string(), OrgCode: d.string(), Address: d.string()}
	if err := d.finish(); err != nil {
		return LibraryInfo{}, fmt.Errorf("store: library %q: %w", code, err)
	}
	return l, nil
}

// PutLibraries makes libs the registered libraries, replacing those
// registered before. Every command registers them: when nothing changed
// it costs a read, not a commit.
func (s *Store) PutLibraries(libs []LibraryInfo) error {
	want := map[string][]byte{}
	for i := range libs {
		if libs[i].Code == "" {
			return fmt.Errorf("store: put libraries: a library without a code (%q)", libs[i].Name)
		}
		want[libs[i].Code] = encodeLibraryInfo(nil, &libs[i])
	}
	same := func(b *bbolt.Bucket) bool {
		n := 0
		equal := true
		_ = b.ForEach(func(k, v []byte) error {
			n++
			if !bytes.Equal(want[string(k)], v) {
				equal = false
			}
			return nil
		})
		return equal && n == len(want)
	}
	var unchanged bool
	if err := s.db.View(func(tx *bbolt.Tx) error {
		unchanged = same(tx.Bucket(bucketLibraries))
		return nil
	}); err != nil {
		return fmt.Errorf("store: put libraries: %w", err)
	}
	if unchanged {
		return nil
	}
	return s.write("put libraries", func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket(bucketLibraries); err != nil {
			return fmt.Errorf("store: put libraries: %w", err)
		}
		b, err := tx.CreateBucket(bucketLibraries)
		if err != nil {
			return fmt.Errorf("store: put libraries: %w", err)
		}
		for code, v := range want {
			if err := b.Put([]byte(code), v); err != nil {
				return fmt.Errorf("store: put library %q: %w", code, err)
			}
		}
		return nil
	})
}

// Libraries returns the registered libraries in code order.
func (t *Tx) Libraries() ([]LibraryInfo, error) {
	var out []LibraryInfo
	err := t.tx.Bucket(bucketLibraries).ForEach(func(k, v []byte) error {
		l, err := decodeLibraryInfo(string(k), v)
		out = append(out, l)
		return err
	})
	return out, err
}

// Library returns the registration of library code; false when none.
func (t *Tx) Library(code string) (LibraryInfo, bool, error) {
	v := t.tx.Bucket(bucketLibraries).Get([]byte(code))
	if v == nil {
		return LibraryInfo{}, false, nil
	}
	l, err := decodeLibraryInfo(code, v)
	return l, err == nil, err
}
