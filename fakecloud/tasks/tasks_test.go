package tasks

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kaas-sandbox/sandbox/fakecloud/store"
)

type recorder struct {
	mu       sync.Mutex
	runs     map[string]int
	failed   map[string]string
	failUpTo int // Run fails this many times per task before succeeding
}

func newRecorder() *recorder { return &recorder{runs: map[string]int{}, failed: map[string]string{}} }

func (r *recorder) Run(_ context.Context, t Task) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs[t.ResourceID]++
	if r.runs[t.ResourceID] <= r.failUpTo {
		return RetryAfter(5*time.Millisecond, errors.New("transient"))
	}
	return nil
}

func (r *recorder) Fail(_ context.Context, t Task, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed[t.ResourceID] = reason
	return nil
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[id]
}

func waitIdle(t *testing.T, e *Engine) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.WaitIdle(ctx); err != nil {
		t.Fatalf("engine not idle: %v (pending %+v)", err, e.Pending())
	}
}

func TestRunsDelayedTasksAndRetries(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err := New(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	rec.failUpTo = 2
	e.Register("thing.create", rec)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	start := time.Now()
	err = db.Update(func(tx *store.Tx) error {
		_, err := e.Enqueue(tx, "thing.create", "a", "p", 50*time.Millisecond, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, e)
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("ran after %s, before its delay", d)
	}
	if n := rec.count("a"); n != 3 {
		t.Errorf("runs = %d, want 3 (two transient failures, then success)", n)
	}
	if len(e.Pending()) != 0 {
		t.Errorf("finished task still stored: %+v", e.Pending())
	}
}

func TestPendingTasksSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db, _ := store.Open(path, store.Options{})
	e, _ := New(db, Options{})
	// Not started: the "crash" happens before the task runs.
	err := db.Update(func(tx *store.Tx) error {
		_, err := e.Enqueue(tx, "thing.create", "b", "p", 0, map[string]string{"k": "v"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	e, err = New(db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := e.Pending(); len(p) != 1 || p[0].Args["k"] != "v" {
		t.Fatalf("after restart pending = %+v", p)
	}
	rec := newRecorder()
	e.Register("thing.create", rec)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	waitIdle(t, e)
	if rec.count("b") != 1 {
		t.Fatalf("task from before the restart ran %d times", rec.count("b"))
	}
}

type stall struct{ on atomic.Bool }

func (s *stall) Stall(kind, project string) (time.Duration, bool) {
	return 80 * time.Millisecond, s.on.Load() && kind == "lb.create"
}

func TestStuckTasksFailAndGiveUpAfterMaxAttempts(t *testing.T) {
	db, _ := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	defer db.Close()
	st := &stall{}
	st.on.Store(true)
	e, _ := New(db, Options{Staller: st, MaxAttempts: 3})
	rec := newRecorder()
	rec.failUpTo = 100
	e.Register("lb.create", rec)
	e.Register("server.create", rec)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	_ = db.Update(func(tx *store.Tx) error {
		if _, err := e.Enqueue(tx, "lb.create", "lb1", "p", 0, nil); err != nil {
			return err
		}
		_, err := e.Enqueue(tx, "server.create", "s1", "p", 0, nil)
		return err
	})
	waitIdle(t, e)
	if rec.count("lb1") != 0 {
		t.Errorf("a stuck task ran %d times", rec.count("lb1"))
	}
	if rec.failed["lb1"] == "" {
		t.Error("the stuck task was not failed")
	}
	if rec.count("s1") != 3 || rec.failed["s1"] == "" {
		t.Errorf("server.create: %d runs, failed %q; want 3 runs then Fail", rec.count("s1"), rec.failed["s1"])
	}
}

func TestCancel(t *testing.T) {
	db, _ := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{})
	defer db.Close()
	e, _ := New(db, Options{})
	rec := newRecorder()
	e.Register("x", rec)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.Start(ctx)
	_ = db.Update(func(tx *store.Tx) error {
		_, err := e.Enqueue(tx, "x", "r", "p", 30*time.Millisecond, nil)
		return err
	})
	if !e.Has("x", "r") {
		t.Fatal("Has = false for a pending task")
	}
	_ = db.Update(func(tx *store.Tx) error { return e.Cancel(tx, "", "r") })
	if e.Has("x", "r") {
		t.Fatal("Has = true after Cancel")
	}
	_ = db.Update(func(tx *store.Tx) error {
		if _, err := e.Enqueue(tx, "x", "rolled-back", "p", time.Hour, nil); err != nil {
			return err
		}
		return errors.New("abort")
	})
	if e.Has("x", "rolled-back") || len(e.Pending()) != 0 {
		t.Fatal("a task enqueued by a failed update is still pending")
	}
	waitIdle(t, e)
	if rec.count("r") != 0 {
		t.Fatal("a cancelled task ran")
	}
}
