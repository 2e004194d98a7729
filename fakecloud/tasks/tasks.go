// Package tasks is fakecloud's durable task engine. Every piece of asynchronous work (a server
// going from BUILD to ACTIVE, a load balancer leaving PENDING_CREATE, a bare-metal node being
// deployed) is a Task row in the store, enqueued in the same update that changed the resource.
// After a crash the engine finds the rows again and runs them, so nothing stays pending.
//
// Handlers must be idempotent: a task may run again if fakecloud died after its work but
// before its completion was committed.
package tasks

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

// Task is one unit of asynchronous work on one resource.
type Task struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"` // e.g. "server.create"; handlers are registered by kind
	ResourceID string            `json:"resource_id"`
	Project    string            `json:"project,omitempty"`
	Created    time.Time         `json:"created"`
	NotBefore  time.Time         `json:"not_before"`
	Attempts   int               `json:"attempts"`
	LastError  string            `json:"last_error,omitempty"`
	Args       map[string]string `json:"args,omitempty"`
}

// Handler runs the tasks of one kind.
type Handler interface {
	// Run does the work. It returns nil when the work is done; the engine then removes the
	// task (a handler may remove it earlier, atomically with its resource update, by calling
	// Engine.Finish inside that update). An error means "try again later"; wrap it with
	// RetryAfter to choose when.
	Run(ctx context.Context, t Task) error
	// Fail gives up on the task: it puts the resource into its error state with reason. It is
	// called when a stuck fault expires or the task has failed too often.
	Fail(ctx context.Context, t Task, reason string) error
}

// Staller lets fault injection hold tasks back: Stall reports whether tasks of this kind for
// this project are stuck, and for how long after their creation before they fail.
type Staller interface {
	Stall(kind, project string) (stuckFor time.Duration, stuck bool)
}

type retryAfter struct {
	err   error
	after time.Duration
}

func (r *retryAfter) Error() string { return r.err.Error() }
func (r *retryAfter) Unwrap() error { return r.err }

// RetryAfter wraps err so the engine tries the task again after d.
func RetryAfter(d time.Duration, err error) error { return &retryAfter{err: err, after: d} }

// Options tune the engine.
type Options struct {
	Workers     int           // concurrent tasks; default 8
	MaxAttempts int           // attempts before Fail; default 20
	MaxBackoff  time.Duration // longest wait between attempts; default 30 s
	Log         *slog.Logger
	Staller     Staller
}

// Engine schedules and runs tasks.
type Engine struct {
	db       *store.DB
	table    *store.Table[Task]
	opts     Options
	mu       sync.Mutex
	handlers map[string]Handler
	queue    taskHeap
	queued   map[string]bool // ids in queue or running
	wake     chan struct{}
	idle     *sync.Cond
	running  int

	idxMu sync.Mutex
	byRes map[string]map[string]bool // resource id -> pending task ids
}

// New creates the engine and loads the pending tasks of db.
func New(db *store.DB, opts Options) (*Engine, error) {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 20
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	t, err := store.NewTable[Task](db, "_tasks")
	if err != nil {
		return nil, err
	}
	e := &Engine{db: db, table: t, opts: opts, handlers: map[string]Handler{}, queued: map[string]bool{}, wake: make(chan struct{}, 1),
		byRes: map[string]map[string]bool{}}
	e.idle = sync.NewCond(&e.mu)
	for _, task := range t.List(nil) {
		e.index(task.ResourceID, task.ID, true)
		e.push(task)
	}
	return e, nil
}

// Register sets the handler for a kind of task. Call it before Start.
func (e *Engine) Register(kind string, h Handler) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.handlers[kind] = h
}

// Enqueue adds a task as part of tx; it becomes runnable after delay once tx commits.
func (e *Engine) Enqueue(tx *store.Tx, kind, resourceID, project string, delay time.Duration, args map[string]string) (Task, error) {
	now := time.Now().UTC()
	t := Task{ID: uuid.NewString(), Kind: kind, ResourceID: resourceID, Project: project, Created: now, NotBefore: now.Add(delay), Args: args}
	if err := e.table.Put(tx, t.ID, t); err != nil {
		return t, err
	}
	e.index(resourceID, t.ID, true)
	tx.OnRollback(func() { e.index(resourceID, t.ID, false) })
	tx.AfterCommit(func() { e.push(t) })
	return t, nil
}

// index adds (or removes) a task id under its resource in the in-memory index that keeps
// Cancel and Has from scanning every pending task.
func (e *Engine) index(resourceID, id string, add bool) {
	e.idxMu.Lock()
	defer e.idxMu.Unlock()
	ids := e.byRes[resourceID]
	if add {
		if ids == nil {
			ids = map[string]bool{}
			e.byRes[resourceID] = ids
		}
		ids[id] = true
		return
	}
	delete(ids, id)
	if len(ids) == 0 {
		delete(e.byRes, resourceID)
	}
}

// tasksOf returns the pending tasks of a resource.
func (e *Engine) tasksOf(resourceID string) []Task {
	e.idxMu.Lock()
	ids := make([]string, 0, len(e.byRes[resourceID]))
	for id := range e.byRes[resourceID] {
		ids = append(ids, id)
	}
	e.idxMu.Unlock()
	out := make([]Task, 0, len(ids))
	for _, id := range ids {
		if t, ok := e.table.Get(id); ok {
			out = append(out, t)
		}
	}
	return out
}

// remove deletes a task row as part of tx and keeps the index in step.
func (e *Engine) remove(tx *store.Tx, t Task) error {
	if err := e.table.Delete(tx, t.ID); err != nil {
		return err
	}
	e.index(t.ResourceID, t.ID, false)
	tx.OnRollback(func() { e.index(t.ResourceID, t.ID, true) })
	return nil
}

// Finish removes a task as part of tx (atomically with the handler's resource update).
func (e *Engine) Finish(tx *store.Tx, id string) error {
	t, ok := e.table.Get(id)
	if !ok {
		return nil
	}
	return e.remove(tx, t)
}

// Cancel removes, as part of tx, every pending task of kind for resourceID ("" kind: all).
// A task already running finishes its current attempt but is not retried.
func (e *Engine) Cancel(tx *store.Tx, kind, resourceID string) error {
	for _, t := range e.tasksOf(resourceID) {
		if kind != "" && t.Kind != kind {
			continue
		}
		if err := e.remove(tx, t); err != nil {
			return err
		}
	}
	return nil
}

// Pending returns the tasks not yet done, for inspection.
func (e *Engine) Pending() []Task { return e.table.List(nil) }

// Has reports whether a task of kind is pending for resourceID.
func (e *Engine) Has(kind, resourceID string) bool {
	for _, t := range e.tasksOf(resourceID) {
		if t.Kind == kind {
			return true
		}
	}
	return false
}

func (e *Engine) push(t Task) {
	e.mu.Lock()
	if !e.queued[t.ID] {
		e.queued[t.ID] = true
		heap.Push(&e.queue, queued{id: t.ID, at: t.NotBefore})
	}
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Start runs the scheduler and workers until ctx is cancelled.
func (e *Engine) Start(ctx context.Context) {
	work := make(chan string)
	for i := 0; i < e.opts.Workers; i++ {
		go func() {
			for id := range work {
				e.runOne(ctx, id)
			}
		}()
	}
	go func() {
		defer close(work)
		for {
			e.mu.Lock()
			var wait time.Duration = time.Hour
			var due string
			if e.queue.Len() > 0 {
				next := e.queue[0]
				if d := time.Until(next.at); d > 0 {
					wait = d
				} else {
					heap.Pop(&e.queue)
					due = next.id
					e.running++
				}
			}
			e.mu.Unlock()
			if due != "" {
				select {
				case work <- due:
				case <-ctx.Done():
					return
				}
				continue
			}
			timer := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-e.wake:
			case <-timer.C:
			}
			timer.Stop()
		}
	}()
}

// WaitIdle blocks until no task is queued or running, or ctx ends; for tests and shutdown.
func (e *Engine) WaitIdle(ctx context.Context) error {
	for {
		e.mu.Lock()
		n := e.queue.Len() + e.running
		e.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (e *Engine) done(id string, requeue *Task) {
	e.mu.Lock()
	e.running--
	delete(e.queued, id)
	e.mu.Unlock()
	if requeue != nil {
		e.push(*requeue)
	}
}

func (e *Engine) runOne(ctx context.Context, id string) {
	t, ok := e.table.Get(id)
	if !ok { // finished or cancelled meanwhile
		e.done(id, nil)
		return
	}
	e.mu.Lock()
	h := e.handlers[t.Kind]
	e.mu.Unlock()
	if h == nil {
		e.opts.Log.Error("no handler for task; it stays pending", "kind", t.Kind, "id", t.ID)
		e.done(id, nil)
		return
	}
	if e.opts.Staller != nil {
		if stuckFor, stuck := e.opts.Staller.Stall(t.Kind, t.Project); stuck {
			if time.Since(t.Created) < stuckFor {
				t.NotBefore = time.Now().Add(min(time.Second, stuckFor))
				e.done(id, &t)
				return
			}
			e.fail(ctx, h, t, fmt.Sprintf("%s did not complete within %s (stuck by an injected fault)", t.Kind, stuckFor))
			e.done(id, nil)
			return
		}
	}
	err := h.Run(ctx, t)
	if err == nil {
		if _, still := e.table.Get(id); still {
			if err := e.db.Update(func(tx *store.Tx) error { return e.Finish(tx, id) }); err != nil {
				e.opts.Log.Error("removing finished task", "id", id, "err", err)
			}
		}
		e.done(id, nil)
		return
	}
	if ctx.Err() != nil {
		e.done(id, nil)
		return
	}
	t.Attempts++
	t.LastError = err.Error()
	if t.Attempts >= e.opts.MaxAttempts {
		e.fail(ctx, h, t, fmt.Sprintf("%s failed %d times, last: %v", t.Kind, t.Attempts, err))
		e.done(id, nil)
		return
	}
	var ra *retryAfter
	delay := backoff(t.Attempts, e.opts.MaxBackoff)
	if errors.As(err, &ra) {
		delay = ra.after
	}
	t.NotBefore = time.Now().UTC().Add(delay)
	e.opts.Log.Info("task will be retried", "kind", t.Kind, "resource", t.ResourceID, "attempt", t.Attempts, "in", delay, "err", err)
	uerr := e.db.Update(func(tx *store.Tx) error {
		if _, still := e.table.Get(id); !still {
			return nil
		}
		return e.table.Put(tx, id, t)
	})
	if uerr != nil {
		e.opts.Log.Error("saving task retry", "id", id, "err", uerr)
	}
	if _, still := e.table.Get(id); still {
		e.done(id, &t)
		return
	}
	e.done(id, nil)
}

func (e *Engine) fail(ctx context.Context, h Handler, t Task, reason string) {
	if err := h.Fail(ctx, t, reason); err != nil {
		e.opts.Log.Error("failing task", "kind", t.Kind, "resource", t.ResourceID, "err", err)
	}
	if err := e.db.Update(func(tx *store.Tx) error { return e.Finish(tx, t.ID) }); err != nil {
		e.opts.Log.Error("removing failed task", "id", t.ID, "err", err)
	}
}

func backoff(attempt int, ceiling time.Duration) time.Duration {
	d := 100 * time.Millisecond << min(attempt, 12)
	d = min(d, ceiling)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

type queued struct {
	id string
	at time.Time
}

type taskHeap []queued

func (h taskHeap) Len() int           { return len(h) }
func (h taskHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h taskHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *taskHeap) Push(x any)        { *h = append(*h, x.(queued)) }
func (h *taskHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
