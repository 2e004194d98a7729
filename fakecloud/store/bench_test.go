package store

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkUpdate measures one committed update of one row plus an event: the floor under
// every create fakecloud serves.
func BenchmarkUpdate(b *testing.B) {
	db, err := Open(filepath.Join(b.TempDir(), "s.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	things := MustTable[thing](db, "things")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("id-%d", i)
		err := db.Update(func(tx *Tx) error {
			tx.Emit(Event{Service: "bench", Kind: "thing", ID: id, Action: "created"})
			return things.Put(tx, id, thing{Name: id, Tags: []string{"a", "b"}})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
