package loadbalancer

import (
	"strings"
	"sync"

	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// nameIndex maps lower-cased names to ids beside a table, so that the common "?name=" list
// needs no scan of every row. It changes with the store update that changes the rows (undone
// with it on rollback) and is rebuilt from the table at start.
type nameIndex struct {
	mu     sync.RWMutex
	byName map[string]map[string]struct{}
	nameOf map[string]string
}

func newNameIndex() *nameIndex {
	return &nameIndex{byName: map[string]map[string]struct{}{}, nameOf: map[string]string{}}
}

func (x *nameIndex) setLocked(id, name string, present bool) {
	if old, ok := x.nameOf[id]; ok {
		delete(x.byName[old], id)
		if len(x.byName[old]) == 0 {
			delete(x.byName, old)
		}
		delete(x.nameOf, id)
	}
	if !present {
		return
	}
	key := strings.ToLower(name)
	if x.byName[key] == nil {
		x.byName[key] = map[string]struct{}{}
	}
	x.byName[key][id] = struct{}{}
	x.nameOf[id] = key
}

// set records that id is named name (present) or gone (!present), as part of tx.
func (x *nameIndex) set(tx *store.Tx, id, name string, present bool) {
	x.mu.Lock()
	old, had := x.nameOf[id]
	x.setLocked(id, name, present)
	x.mu.Unlock()
	if tx != nil {
		tx.OnRollback(func() {
			x.mu.Lock()
			defer x.mu.Unlock()
			x.setLocked(id, old, had)
		})
	}
}

// ids returns the ids whose name equals one of names, case-insensitively.
func (x *nameIndex) ids(names []string) []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		for id := range x.byName[strings.ToLower(n)] {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// putLB stores a load balancer and indexes its name, as part of tx.
func (s *Service) putLB(tx *store.Tx, lb LoadBalancer) error {
	if err := s.lbs.Put(tx, lb.ID, lb); err != nil {
		return err
	}
	s.lbNames.set(tx, lb.ID, lb.Name, true)
	return nil
}

// deleteLBRow removes a load balancer row and its index entry, as part of tx.
func (s *Service) deleteLBRow(tx *store.Tx, id string) error {
	if err := s.lbs.Delete(tx, id); err != nil {
		return err
	}
	s.lbNames.set(tx, id, "", false)
	return nil
}

// lbCandidates narrows a load balancer list to the ids of the names asked, when a name is.
func (s *Service) lbCandidates(q map[string][]string) ([]string, bool) {
	names, ok := q["name"]
	if !ok {
		return nil, false
	}
	return s.lbNames.ids(names), true
}
