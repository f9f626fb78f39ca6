package dedup

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/store"
)

// setLayout marks the dedup buckets of ts as of layout v, written with
// other options (so that Init would rebuild them), and closes the store.
func setLayout(t *testing.T, ts *testStore, v uint32, also func(tx *bbolt.Tx) error) {
	t.Helper()
	if err := ts.st.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyVersion, binary.BigEndian.AppendUint32(nil, v)); err != nil {
			return err
		}
		if err := meta.Put(keyConfig, []byte("another layout")); err != nil {
			return err
		}
		if also != nil {
			return also(tx)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := ts.st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPreReleaseLayoutRefused: the dedup buckets of a layout before
// minLayout, written by development builds before the first release, are
// refused with an error that says so, not upgraded; the store is left as
// it was.
func TestPreReleaseLayoutRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		layout uint32
		also   func(tx *bbolt.Tx) error
		want   string
	}{
		{"layout 5", 5, nil, "layout 5"},
		{"bucket of clusters", 8, func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucket(bucketClustersV4)
			return err
		}, "layout 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestStore(t, Options{})
			ts.put("tinh", kieu)
			setLayout(t, ts, tc.layout, tc.also)
			st, err := store.Open(ts.path, store.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			err = st.AddHook(New(Options{}))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "before the first release") {
				t.Fatalf("opening a store of %s: %v", tc.name, err)
			}
			st.View(func(tx *store.Tx) error {
				if v := tx.Bolt().Bucket(bucketMeta).Get(keyVersion); binary.BigEndian.Uint32(v) != tc.layout {
					t.Errorf("layout %d after the refusal, want %d left as it was", binary.BigEndian.Uint32(v), tc.layout)
				}
				return nil
			})
		})
	}
}

// TestEarlierLayoutRebuilt: the dedup buckets of a layout from minLayout
// on but older than this build's are rebuilt at Init, ids, records and
// datestamps unchanged.
func TestEarlierLayoutRebuilt(t *testing.T) {
	ts := newTestStore(t, Options{})
	ts.put("tinh", kieu)
	v := kieu
	v.id, v.isbn, v.call = "k2", "", "VV 123"
	ts.put("xa", v)
	ts.put("vinh", book{id: "9", title: "Lịch sử Việt Nam", author: "Trần, Trọng Kim", year: 2018, pages: 400})
	ts.del("vinh", "9")
	before := ts.all()
	setLayout(t, ts, minLayout, nil)
	ts.open(Options{})
	stats, rebuilt := ts.d.LastRebuild()
	if !rebuilt || stats.Changed != 0 || stats.Live != 1 || stats.Deleted != 1 {
		t.Fatalf("rebuild at Init: %+v (ran: %v), want one live and one deleted union record, none changed", stats, rebuilt)
	}
	if after := ts.all(); !reflect.DeepEqual(after, before) {
		t.Errorf("union records after the rebuild:\n%+v\nwant\n%+v", after, before)
	}
	ts.st.View(func(tx *store.Tx) error {
		if v := tx.Bolt().Bucket(bucketMeta).Get(keyVersion); binary.BigEndian.Uint32(v) != layoutVersion {
			t.Errorf("layout %d after the rebuild, want %d", binary.BigEndian.Uint32(v), layoutVersion)
		}
		return nil
	})
}

// TestPreReleaseUnionValueRefused: a union value of an encoding before
// the one this build writes is an error naming the union and saying
// where it comes from.
func TestPreReleaseUnionValueRefused(t *testing.T) {
	ts := newTestStore(t, Options{})
	ts.put("tinh", kieu)
	id := ts.unionOf("tinh", "1").ID
	if err := ts.st.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketUnions)
		v := append([]byte(nil), b.Get([]byte(id))...)
		v[0] = 2
		return b.Put([]byte(id), v)
	}); err != nil {
		t.Fatal(err)
	}
	err := ts.st.View(func(tx *store.Tx) error {
		_, err := Get(tx.Bolt(), id)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "union "+id+": encoding version 2") || !strings.Contains(err.Error(), "before the first release") {
		t.Fatalf("reading a union value of encoding 2: %v", err)
	}
}
