package controlplane

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// reapplyEvery is how often the join objects and add-ons are applied into a customer cluster
// when nothing about them changed: what the customer deleted or edited comes back within it.
const reapplyEvery = 5 * time.Minute

// appliedSets remembers, per control plane, which set of objects was last applied into its
// customer cluster and when. A reconcile applies again only when the set changed (a new version,
// endpoint or CA) or reapplyEvery has passed: an apply of the ~40 objects takes seconds on a busy
// apiserver, and every status change of the control plane's pods would otherwise pay for one.
// The zero value is ready to use; it is memory only, so a restarted controller applies once more.
type appliedSets struct {
	mu   sync.Mutex
	sets map[types.NamespacedName]appliedSet
}

type appliedSet struct {
	hash string
	at   time.Time
}

// current reports whether the set with this hash was applied to key within reapplyEvery of now.
func (a *appliedSets) current(key types.NamespacedName, hash string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sets[key]
	return ok && s.hash == hash && now.Sub(s.at) < reapplyEvery
}

// record notes that the set with this hash was applied to key at now.
func (a *appliedSets) record(key types.NamespacedName, hash string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sets == nil {
		a.sets = map[types.NamespacedName]appliedSet{}
	}
	a.sets[key] = appliedSet{hash: hash, at: now}
}

// forget drops what is remembered for key (its control plane is gone).
func (a *appliedSets) forget(key types.NamespacedName) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.sets, key)
}

// hashObjects is a digest of objs' JSON encodings, in order.
func hashObjects(objs []client.Object) (string, error) {
	h := sha256.New()
	for _, o := range objs {
		data, err := json.Marshal(o)
		if err != nil {
			return "", fmt.Errorf("encoding %s/%s for its digest: %w", o.GetNamespace(), o.GetName(), err)
		}
		h.Write(data)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
