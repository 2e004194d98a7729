// Package store is fakecloud's durable state: typed tables held in memory for fast reads and
// written through to an embedded bbolt file, plus the event log.
//
// Every write happens inside DB.Update, which serialises writers, applies changes to memory at
// once (so later reads in the same update see them), rolls them back if the update fails, and
// commits them to bbolt in one transaction. Reads never block on bbolt. Values handed out are
// fresh copies decoded from their stored JSON, so callers may change them freely.
//
// Concurrent updates share one bbolt transaction (group commit); each Update still returns
// only once its own changes are committed.
//
// Durability: by default bbolt skips fsync; data written by a committed update survives a
// kill -9 of the process (it is in the kernel's page cache), not a crash of the host. Open with
// Options.Sync for host-crash durability at the price of an fsync per update.
package store
