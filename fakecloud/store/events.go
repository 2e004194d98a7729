package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

const eventsBucket = "_events"

// Event is one entry of the event log: a state change, a fault switched on or off, a
// reconciliation step of a backend.
type Event struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Service  string    `json:"service"`            // compute, network, ...; "fault" for faults
	Kind     string    `json:"kind"`               // the resource kind: server, port, loadbalancer...
	ID       string    `json:"id,omitempty"`       // the resource id
	Project  string    `json:"project,omitempty"`  // the owning project id
	Action   string    `json:"action"`             // created, status, deleted, fault-on, ...
	Detail   string    `json:"detail,omitempty"`   // free text: the new status, the error...
	Severity string    `json:"severity,omitempty"` // "" (info), "warning" or "error"
}

type eventLog struct {
	mu      sync.Mutex
	kept    int
	next    uint64
	recent  []Event
	changed chan struct{} // closed and replaced on every append
}

func newEventLog(kept int) *eventLog {
	return &eventLog{kept: kept, next: 1, changed: make(chan struct{})}
}

func (db *DB) loadEvents() error {
	return db.bolt.View(func(btx *bolt.Tx) error {
		b := btx.Bucket([]byte(eventsBucket))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var tail []Event
		for k, v := c.Last(); k != nil && len(tail) < db.events.kept; k, v = c.Prev() {
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decoding event %x: %w", k, err)
			}
			tail = append(tail, e)
		}
		for i, j := 0, len(tail)-1; i < j; i, j = i+1, j-1 {
			tail[i], tail[j] = tail[j], tail[i]
		}
		db.events.recent = tail
		db.events.next = b.Sequence() + 1
		return nil
	})
}

// writeEvents assigns sequence numbers and stores events; runs inside a bolt update.
func (db *DB) writeEvents(btx *bolt.Tx, evs []Event) error {
	b, err := btx.CreateBucketIfNotExists([]byte(eventsBucket))
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for i := range evs {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		evs[i].Seq = seq
		if evs[i].Time.IsZero() {
			evs[i].Time = now
		}
		data, err := json.Marshal(evs[i])
		if err != nil {
			return err
		}
		var key [8]byte
		binary.BigEndian.PutUint64(key[:], seq)
		if err := b.Put(key[:], data); err != nil {
			return err
		}
	}
	return nil
}

func (l *eventLog) append(evs []Event) {
	if len(evs) == 0 {
		return
	}
	l.mu.Lock()
	l.recent = append(l.recent, evs...)
	// Trim in batches (once a quarter over the bound), not on every append: copying the
	// whole tail on each update made every write O(kept).
	if len(l.recent) > l.kept+l.kept/4 {
		l.recent = append([]Event(nil), l.recent[len(l.recent)-l.kept:]...)
	}
	l.next = evs[len(evs)-1].Seq + 1
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// Record writes events in an update of their own.
func (db *DB) Record(evs ...Event) error {
	return db.Update(func(tx *Tx) error {
		for _, e := range evs {
			tx.Emit(e)
		}
		return nil
	})
}

// EventsSince returns the in-memory events with Seq > since (at most limit when limit > 0),
// and a channel closed when a newer event is appended, for followers.
func (db *DB) EventsSince(since uint64, limit int) ([]Event, <-chan struct{}) {
	l := db.events
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Event
	for _, e := range l.recent {
		if e.Seq > since {
			out = append(out, e)
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out, l.changed
}
