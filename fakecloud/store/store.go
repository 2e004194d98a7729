package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// Options tune how the store is opened.
type Options struct {
	// Sync makes every update fsync before it returns (host-crash durability).
	Sync bool
	// EventsKept bounds the events held in memory for followers; older ones stay on disk.
	EventsKept int
}

// DB is the store: a bbolt file plus the in-memory tables registered on it.
type DB struct {
	bolt    *bolt.DB
	writer  sync.Mutex // serialises the in-memory part of updates; guards pending
	pending *batch     // updates applied in memory, waiting for their commit
	commit  sync.Mutex // one group commit at a time
	failed  error      // set when a commit failed: the file no longer matches memory
	tables  map[string]loader
	events  *eventLog
}

// batch is a group of updates committed to bbolt in one transaction (group commit): while one
// batch is being written, the updates that arrive meanwhile gather in the next.
type batch struct {
	txs  []*Tx
	done chan struct{}
	err  error
}

type loader interface {
	load(b *bolt.Bucket) error
}

// Open opens (creating if needed) the store file at path.
func Open(path string, opts Options) (*DB, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, NoSync: !opts.Sync, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("opening state file %s (is another fakecloud using it?): %w", path, err)
	}
	db := &DB{bolt: b, tables: map[string]loader{}, pending: &batch{done: make(chan struct{})}}
	kept := opts.EventsKept
	if kept <= 0 {
		kept = 10000
	}
	db.events = newEventLog(kept)
	if err := db.loadEvents(); err != nil {
		b.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the underlying file.
func (db *DB) Close() error { return db.bolt.Close() }

// Tx is one update in progress. It is only valid inside the function given to DB.Update.
type Tx struct {
	ops    []op
	undo   []func()
	events []Event
	after  []func()
}

type op struct {
	bucket string
	key    string
	value  []byte // nil means delete
}

// Emit records an event that is committed together with the update.
func (tx *Tx) Emit(e Event) { tx.events = append(tx.events, e) }

// AfterCommit registers fn to run once the update has been committed (e.g. to wake a worker).
func (tx *Tx) AfterCommit(fn func()) { tx.after = append(tx.after, fn) }

// OnRollback registers fn to run if the update fails and its changes are undone, so that
// in-memory indexes kept beside the tables (e.g. Neutron's IP allocations) can be undone too.
// Undo functions run in reverse order of registration, still under the update's lock.
func (tx *Tx) OnRollback(fn func()) { tx.undo = append(tx.undo, fn) }

// Update runs fn as one atomic, serialised update, and returns once it is committed to the
// file. If fn returns an error, every change fn made is undone and the error is returned.
// Concurrent updates are committed together (group commit), so many writers share one write
// to the file. Should a commit itself fail (disk full), the store refuses every later update:
// memory and file no longer match, and a restart reloads the file.
func (db *DB) Update(fn func(tx *Tx) error) error {
	db.writer.Lock()
	if db.failed != nil {
		db.writer.Unlock()
		return db.failed
	}
	tx := &Tx{}
	if err := fn(tx); err != nil {
		for i := len(tx.undo) - 1; i >= 0; i-- {
			tx.undo[i]()
		}
		db.writer.Unlock()
		return err
	}
	if len(tx.ops) == 0 && len(tx.events) == 0 {
		db.writer.Unlock()
		tx.runAfter()
		return nil
	}
	b := db.pending
	b.txs = append(b.txs, tx)
	db.writer.Unlock()

	db.commit.Lock()
	select {
	case <-b.done: // a later leader committed our batch already
	default:
		db.writer.Lock()
		cur := db.pending
		db.pending = &batch{done: make(chan struct{})}
		db.writer.Unlock()
		cur.err = db.write(cur.txs)
		if cur.err != nil {
			db.writer.Lock()
			db.failed = fmt.Errorf("the state file could not be written; restart fakecloud: %w", cur.err)
			db.writer.Unlock()
		}
		close(cur.done)
	}
	db.commit.Unlock()
	<-b.done
	if b.err != nil {
		return b.err
	}
	tx.runAfter()
	return nil
}

func (tx *Tx) runAfter() {
	for _, f := range tx.after {
		f()
	}
}

// write commits the operations and events of txs, in order, in one bolt transaction.
func (db *DB) write(txs []*Tx) error {
	var events []Event
	err := db.bolt.Update(func(btx *bolt.Tx) error {
		buckets := map[string]*bolt.Bucket{}
		for _, tx := range txs {
			for _, o := range tx.ops {
				b := buckets[o.bucket]
				if b == nil {
					var err error
					if b, err = btx.CreateBucketIfNotExists([]byte(o.bucket)); err != nil {
						return err
					}
					buckets[o.bucket] = b
				}
				var err error
				if o.value == nil {
					err = b.Delete([]byte(o.key))
				} else {
					err = b.Put([]byte(o.key), o.value)
				}
				if err != nil {
					return fmt.Errorf("writing %s/%s: %w", o.bucket, o.key, err)
				}
			}
			if len(tx.events) > 0 {
				if err := db.writeEvents(btx, tx.events); err != nil {
					return err
				}
				events = append(events, tx.events...)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("committing state: %w", err)
	}
	db.events.append(events)
	return nil
}

// Table is a typed collection of rows of T keyed by string id, kept in memory and written
// through to the bucket of the same name.
type Table[T any] struct {
	name string
	db   *DB
	mu   sync.RWMutex
	rows map[string]*row[T]
}

type row[T any] struct {
	val  T      // decoded, read-only: used for filtering
	data []byte // the stored JSON: decoded afresh for every caller
}

// NewTable registers a table on db and loads its rows from disk.
func NewTable[T any](db *DB, name string) (*Table[T], error) {
	if _, dup := db.tables[name]; dup {
		return nil, fmt.Errorf("table %q registered twice", name)
	}
	t := &Table[T]{name: name, db: db, rows: map[string]*row[T]{}}
	db.tables[name] = t
	err := db.bolt.View(func(btx *bolt.Tx) error {
		b := btx.Bucket([]byte(name))
		if b == nil {
			return nil
		}
		return t.load(b)
	})
	if err != nil {
		return nil, fmt.Errorf("loading table %s: %w", name, err)
	}
	return t, nil
}

// MustTable is NewTable for program start-up, where a failure to load is fatal anyway.
func MustTable[T any](db *DB, name string) *Table[T] {
	t, err := NewTable[T](db, name)
	if err != nil {
		panic(err)
	}
	return t
}

func (t *Table[T]) load(b *bolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		r := &row[T]{data: append([]byte(nil), v...)}
		if err := json.Unmarshal(v, &r.val); err != nil {
			return fmt.Errorf("decoding %s/%s: %w", t.name, k, err)
		}
		t.rows[string(k)] = r
		return nil
	})
}

// Name returns the table's name.
func (t *Table[T]) Name() string { return t.name }

func (t *Table[T]) decode(r *row[T]) T {
	var v T
	// The bytes were produced by json.Marshal of a T, so decoding cannot fail.
	_ = json.Unmarshal(r.data, &v)
	return v
}

// Get returns a copy of the row with the given id.
func (t *Table[T]) Get(id string) (T, bool) {
	t.mu.RLock()
	r, ok := t.rows[id]
	t.mu.RUnlock()
	if !ok {
		var zero T
		return zero, false
	}
	return t.decode(r), true
}

// Len returns the number of rows.
func (t *Table[T]) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.rows)
}

// List returns copies of the rows for which match returns true (every row when match is nil),
// in no particular order. match sees the stored value and must not change it.
func (t *Table[T]) List(match func(id string, v *T) bool) []T {
	t.mu.RLock()
	hits := make([]*row[T], 0, 16)
	for id, r := range t.rows {
		if match == nil || match(id, &r.val) {
			hits = append(hits, r)
		}
	}
	t.mu.RUnlock()
	out := make([]T, len(hits))
	for i, r := range hits {
		out[i] = t.decode(r)
	}
	return out
}

// Count returns how many rows match.
func (t *Table[T]) Count(match func(id string, v *T) bool) int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	n := 0
	for id, r := range t.rows {
		if match == nil || match(id, &r.val) {
			n++
		}
	}
	return n
}

// Put stores v under id as part of tx.
func (t *Table[T]) Put(tx *Tx, id string, v T) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s/%s: %w", t.name, id, err)
	}
	r := &row[T]{data: data}
	_ = json.Unmarshal(data, &r.val) // a private copy, so the caller's v can be changed later
	t.mu.Lock()
	prev, had := t.rows[id]
	t.rows[id] = r
	t.mu.Unlock()
	tx.undo = append(tx.undo, func() { t.restore(id, prev, had) })
	tx.ops = append(tx.ops, op{bucket: t.name, key: id, value: data})
	return nil
}

// Delete removes id as part of tx. Deleting a missing row returns ErrNotFound.
func (t *Table[T]) Delete(tx *Tx, id string) error {
	t.mu.Lock()
	prev, had := t.rows[id]
	delete(t.rows, id)
	t.mu.Unlock()
	if !had {
		return fmt.Errorf("%s %s: %w", t.name, id, ErrNotFound)
	}
	tx.undo = append(tx.undo, func() { t.restore(id, prev, had) })
	tx.ops = append(tx.ops, op{bucket: t.name, key: id})
	return nil
}

func (t *Table[T]) restore(id string, prev *row[T], had bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if had {
		t.rows[id] = prev
	} else {
		delete(t.rows, id)
	}
}

// Modify loads id, lets fn change the copy, and stores the result as part of tx. It returns
// ErrNotFound (wrapped) when id does not exist, or fn's error.
func (t *Table[T]) Modify(tx *Tx, id string, fn func(v *T) error) (T, error) {
	v, ok := t.Get(id)
	if !ok {
		return v, fmt.Errorf("%s %s: %w", t.name, id, ErrNotFound)
	}
	if err := fn(&v); err != nil {
		return v, err
	}
	return v, t.Put(tx, id, v)
}

// Insert stores v under id in an update of its own.
func (t *Table[T]) Insert(id string, v T) error {
	return t.db.Update(func(tx *Tx) error { return t.Put(tx, id, v) })
}
