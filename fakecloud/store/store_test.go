package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

type thing struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

func openTemp(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestPutGetModifyDeleteAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db := openTemp(t, path)
	things := MustTable[thing](db, "things")
	if err := things.Insert("a", thing{Name: "a", Tags: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	got, ok := things.Get("a")
	if !ok || got.Name != "a" {
		t.Fatalf("Get(a) = %+v, %v", got, ok)
	}
	got.Tags[0] = "changed" // a copy: the stored row must not change
	if again, _ := things.Get("a"); again.Tags[0] != "x" {
		t.Fatalf("Get returned shared state: %v", again.Tags)
	}
	err := db.Update(func(tx *Tx) error {
		_, err := things.Modify(tx, "a", func(v *thing) error { v.Tags = append(v.Tags, "y"); return nil })
		if err != nil {
			return err
		}
		tx.Emit(Event{Service: "test", Kind: "thing", ID: "a", Action: "modified"})
		return things.Put(tx, "b", thing{Name: "b"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := things.Count(func(_ string, v *thing) bool { return len(v.Tags) == 2 }); n != 1 {
		t.Fatalf("count with two tags = %d", n)
	}
	if err := db.Update(func(tx *Tx) error { return things.Delete(tx, "b") }); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *Tx) error { return things.Delete(tx, "nope") }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete of a missing row: %v", err)
	}
	db.Close()

	db = openTemp(t, path)
	defer db.Close()
	things = MustTable[thing](db, "things")
	if things.Len() != 1 {
		t.Fatalf("after reopen: %d rows", things.Len())
	}
	a, _ := things.Get("a")
	if len(a.Tags) != 2 || a.Tags[1] != "y" {
		t.Fatalf("after reopen a = %+v", a)
	}
	evs, _ := db.EventsSince(0, 0)
	if len(evs) != 1 || evs[0].Action != "modified" || evs[0].Seq != 1 {
		t.Fatalf("events after reopen: %+v", evs)
	}
}

func TestFailedUpdateRollsBack(t *testing.T) {
	db := openTemp(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	things := MustTable[thing](db, "things")
	_ = things.Insert("keep", thing{Name: "keep"})
	boom := errors.New("boom")
	err := db.Update(func(tx *Tx) error {
		_ = things.Put(tx, "new", thing{Name: "new"})
		_ = things.Delete(tx, "keep")
		if _, ok := things.Get("new"); !ok {
			t.Error("a write must be visible inside its own update")
		}
		tx.Emit(Event{Action: "never"})
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, ok := things.Get("new"); ok {
		t.Error("row from a failed update survived")
	}
	if _, ok := things.Get("keep"); !ok {
		t.Error("row deleted by a failed update is gone")
	}
	if evs, _ := db.EventsSince(0, 0); len(evs) != 0 {
		t.Errorf("events from a failed update: %+v", evs)
	}
}

func TestEventsFollow(t *testing.T) {
	db := openTemp(t, filepath.Join(t.TempDir(), "s.db"))
	defer db.Close()
	_, changed := db.EventsSince(0, 0)
	if err := db.Record(Event{Action: "one"}, Event{Action: "two"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	default:
		t.Fatal("followers were not woken")
	}
	evs, _ := db.EventsSince(1, 0)
	if len(evs) != 1 || evs[0].Action != "two" {
		t.Fatalf("EventsSince(1) = %+v", evs)
	}
}

func TestConcurrentUpdatesAreAllCommitted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openTemp(t, path)
	things := MustTable[thing](db, "things")
	const writers, each = 8, 50
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		go func(w int) {
			for i := 0; i < each; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				err := db.Update(func(tx *Tx) error {
					tx.Emit(Event{Action: "created", ID: id})
					return things.Put(tx, id, thing{Name: id})
				})
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < writers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	evs, _ := db.EventsSince(0, 0)
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: sequence numbers must be dense and ordered", i, e.Seq)
		}
	}
	db.Close()
	db = openTemp(t, path)
	defer db.Close()
	if n := MustTable[thing](db, "things").Len(); n != writers*each {
		t.Fatalf("%d rows after reopen, want %d", n, writers*each)
	}
	if evs, _ := db.EventsSince(0, 0); len(evs) != writers*each {
		t.Fatalf("%d events after reopen, want %d", len(evs), writers*each)
	}
}
