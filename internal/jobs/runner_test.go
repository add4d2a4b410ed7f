package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
)

// deadline bounds every wait: generous, as CI machines under -race are
// slow. Nothing is measured against it.
const deadline = 30 * time.Second

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// run runs r until the test ends, or until the returned stop is called;
// stop returns once Run has.
func run(t *testing.T, r *jobs.Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(deadline):
			t.Errorf("Run did not return after its context ended")
		}
	}
	t.Cleanup(stop)
	return stop
}

// enqueue writes a job per payload and returns their IDs.
func enqueue(t *testing.T, s meta.JobStore, now time.Time, queue string, payloads ...string) []int64 {
	t.Helper()
	var js []meta.NewJob
	for _, p := range payloads {
		js = append(js, meta.NewJob{Queue: queue, Payload: []byte(p)})
	}
	if err := s.EnqueueJobs(t.Context(), js, now); err != nil {
		t.Fatalf("EnqueueJobs: %v", err)
	}
	all, err := s.ListJobs(t.Context(), meta.JobQuery{Queue: queue})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, j := range all[len(all)-len(payloads):] {
		ids = append(ids, j.ID)
	}
	return ids
}

// waitJob waits until the job satisfies ok and returns it.
func waitJob(t *testing.T, s meta.JobStore, id int64, what string, ok func(j *meta.Job) bool) *meta.Job {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		j, err := s.GetJob(t.Context(), id)
		if err != nil {
			t.Fatalf("GetJob(%d): %v", id, err)
		}
		if ok(j) {
			return j
		}
		if time.Now().After(end) {
			t.Fatalf("job %d never %s: %+v", id, what, j)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	end := time.Now().Add(deadline)
	for !ok() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func in(state meta.JobState) func(*meta.Job) bool {
	return func(j *meta.Job) bool { return j.State == state }
}

// TestOutcomes runs one job per case to its end.
func TestOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name         string
		opts         jobs.QueueOptions
		handler      func(attempt int) error
		wantState    meta.JobState
		wantAttempts int
		wantError    string
	}{
		{"success", jobs.QueueOptions{}, func(int) error { return nil }, meta.JobSucceeded, 1, ""},
		{"gives up after MaxAttempts", jobs.QueueOptions{MaxAttempts: 3, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond},
			func(n int) error { return fmt.Errorf("failure %d", n) }, meta.JobFailed, 3, "failure 3"},
		{"permanent error fails at once", jobs.QueueOptions{},
			func(int) error { return fmt.Errorf("decode: %w", jobs.Permanent(errors.New("bad payload"))) }, meta.JobFailed, 1, "decode: bad payload"},
		{"panic counts as an error", jobs.QueueOptions{MaxAttempts: 2, BackoffBase: time.Millisecond},
			func(n int) error {
				if n == 1 {
					panic("handler bug")
				}
				return nil
			}, meta.JobSucceeded, 2, "handler panicked: handler bug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t)
			ids := enqueue(t, s, time.Now(), "q", "payload")
			enqueue(t, s, time.Now(), "unhandled", "never")
			var calls atomic.Int32
			r := jobs.New(s, jobs.Options{Logger: quiet(), PollInterval: time.Millisecond})
			r.Handle("q", func(ctx context.Context, j *meta.Job) error {
				n := int(calls.Add(1))
				if string(j.Payload) != "payload" || j.Attempts != n || j.State != meta.JobRunning {
					t.Errorf("handler %d got %+v", n, j)
				}
				return tc.handler(n)
			}, tc.opts)
			run(t, r)

			j := waitJob(t, s, ids[0], "finished", func(j *meta.Job) bool { return !j.FinishedAt.IsZero() })
			if j.State != tc.wantState || j.Attempts != tc.wantAttempts || j.LastError != tc.wantError {
				t.Errorf("job = %s after %d attempts, error %q; want %s after %d, %q",
					j.State, j.Attempts, j.LastError, tc.wantState, tc.wantAttempts, tc.wantError)
			}
			if n := int(calls.Load()); n != tc.wantAttempts {
				t.Errorf("handler called %d times, want %d", n, tc.wantAttempts)
			}
			// Only queues with a handler are claimed.
			other, err := s.ListJobs(t.Context(), meta.JobQuery{Queue: "unhandled"})
			if err != nil || len(other) != 1 || other[0].State != meta.JobPending || other[0].Attempts != 0 {
				t.Errorf("the unhandled queue's job = %+v, %v; want it untouched", other, err)
			}
		})
	}
}

// TestRetry watches a failed job wait out its backoff, then succeed.
func TestRetry(t *testing.T) {
	s := openStore(t)
	clk := newClock()
	id := enqueue(t, s, clk.Now(), "q", "flaky")[0]
	var calls atomic.Int32
	r := jobs.New(s, jobs.Options{Logger: quiet(), PollInterval: time.Millisecond, Now: clk.Now})
	r.Handle("q", func(ctx context.Context, j *meta.Job) error {
		if calls.Add(1) == 1 {
			return errors.New("registry unreachable")
		}
		return nil
	}, jobs.QueueOptions{BackoffBase: time.Minute})
	run(t, r)

	j := waitJob(t, s, id, "back to pending", func(j *meta.Job) bool { return j.Attempts == 1 && j.State == meta.JobPending })
	if j.LastError != "registry unreachable" {
		t.Errorf("LastError = %q", j.LastError)
	}
	// The first retry waits the base backoff, less up to half of it.
	if wait := j.RunAfter.Sub(clk.Now()); wait < 30*time.Second || wait > time.Minute {
		t.Errorf("retry in %v, want between 30s and 1m", wait)
	}
	// The runner polls meanwhile, but the job is not due.
	time.Sleep(20 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Fatalf("handler called %d times before the retry was due", n)
	}

	clk.Add(time.Minute)
	j = waitJob(t, s, id, "succeeded", in(meta.JobSucceeded))
	if j.Attempts != 2 || j.LastError != "registry unreachable" || calls.Load() != 2 {
		t.Errorf("job = %+v after %d calls, want success on attempt 2", j, calls.Load())
	}
}

// dyingStore is a store a runner stops talking to, as if its node died:
// after die, every call fails and changes nothing.
type dyingStore struct {
	jobs.Store
	dead atomic.Bool
}

var errDead = errors.New("node is dead")

func (d *dyingStore) ClaimJob(ctx context.Context, queues []string, holder string, now time.Time, lease time.Duration) (*meta.Job, error) {
	if d.dead.Load() {
		return nil, errDead
	}
	return d.Store.ClaimJob(ctx, queues, holder, now, lease)
}

func (d *dyingStore) ExtendJobLease(ctx context.Context, id int64, holder string, until time.Time) error {
	if d.dead.Load() {
		return errDead
	}
	return d.Store.ExtendJobLease(ctx, id, holder, until)
}

func (d *dyingStore) CompleteJob(ctx context.Context, id int64, holder string, now time.Time) error {
	if d.dead.Load() {
		return errDead
	}
	return d.Store.CompleteJob(ctx, id, holder, now)
}

func (d *dyingStore) FailJob(ctx context.Context, id int64, holder, msg string, retryAt, now time.Time) error {
	if d.dead.Load() {
		return errDead
	}
	return d.Store.FailJob(ctx, id, holder, msg, retryAt, now)
}

// countingStore counts the claims that found nothing ready.
type countingStore struct {
	jobs.Store
	idle atomic.Int32
}

func (c *countingStore) ClaimJob(ctx context.Context, queues []string, holder string, now time.Time, lease time.Duration) (*meta.Job, error) {
	j, err := c.Store.ClaimJob(ctx, queues, holder, now, lease)
	if errors.Is(err, meta.ErrNotFound) {
		c.idle.Add(1)
	}
	return j, err
}

// TestDeadWorker: a node dies while it runs a job; another takes the job
// over once the lease lapses, not before.
func TestDeadWorker(t *testing.T) {
	s := openStore(t)
	clk := newClock()
	id := enqueue(t, s, clk.Now(), "q", "work")[0]

	dying := &dyingStore{Store: s}
	started := make(chan struct{})
	a := jobs.New(dying, jobs.Options{Holder: "A", Logger: quiet(), PollInterval: time.Millisecond, Now: clk.Now})
	a.Handle("q", func(ctx context.Context, j *meta.Job) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}, jobs.QueueOptions{})
	stopA := run(t, a)
	select {
	case <-started:
	case <-time.After(deadline):
		t.Fatal("A never started the job")
	}
	dying.dead.Store(true)
	stopA()
	held := waitJob(t, s, id, "running", in(meta.JobRunning))
	if !strings.HasPrefix(held.Holder, "A/") {
		t.Fatalf("job = %+v, want it held by A", held)
	}

	counting := &countingStore{Store: s}
	var ranByB atomic.Int32
	b := jobs.New(counting, jobs.Options{Holder: "B", Logger: quiet(), PollInterval: time.Millisecond, Now: clk.Now})
	b.Handle("q", func(ctx context.Context, j *meta.Job) error {
		ranByB.Add(1)
		return nil
	}, jobs.QueueOptions{})
	run(t, b)
	clk.Add(59 * time.Second)
	idle := counting.idle.Load()
	waitFor(t, "B to poll", func() bool { return counting.idle.Load() > idle+2 })
	if ranByB.Load() != 0 {
		t.Fatal("B took the job while A's lease was live")
	}

	clk.Add(time.Second) // A's lease ends
	j := waitJob(t, s, id, "succeeded", in(meta.JobSucceeded))
	if j.Attempts != 2 || !strings.HasPrefix(j.Holder, "B/") || ranByB.Load() != 1 {
		t.Errorf("job = %+v, run %d times by B; want B's second attempt", j, ranByB.Load())
	}
}

// TestStop: a runner that stops hands the jobs its handlers gave up back at
// once, and waits for the handlers that finish theirs.
func TestStop(t *testing.T) {
	s := openStore(t)
	clk := newClock()
	ids := enqueue(t, s, clk.Now(), "q", "gives up", "finishes")
	started := make(chan string, 2)
	var finished atomic.Bool
	a := jobs.New(s, jobs.Options{Logger: quiet(), PollInterval: time.Millisecond, Now: clk.Now})
	a.Handle("q", func(ctx context.Context, j *meta.Job) error {
		started <- string(j.Payload)
		<-ctx.Done()
		if string(j.Payload) == "finishes" {
			time.Sleep(20 * time.Millisecond)
			finished.Store(true)
			return nil
		}
		return ctx.Err()
	}, jobs.QueueOptions{Concurrency: 2})
	stop := run(t, a)
	for range 2 {
		select {
		case <-started:
		case <-time.After(deadline):
			t.Fatal("the jobs never started")
		}
	}
	stop()
	if !finished.Load() {
		t.Error("Run returned before a handler did")
	}
	j := waitJob(t, s, ids[0], "pending", in(meta.JobPending))
	if j.Attempts != 1 || j.LastError != "interrupted: context canceled" || j.RunAfter.After(clk.Now()) {
		t.Errorf("job given up by the handler = %+v, want it pending at once", j)
	}
	waitJob(t, s, ids[1], "succeeded", in(meta.JobSucceeded))

	b := jobs.New(s, jobs.Options{Logger: quiet(), PollInterval: time.Millisecond, Now: clk.Now})
	b.Handle("q", func(ctx context.Context, j *meta.Job) error { return nil }, jobs.QueueOptions{})
	run(t, b)
	if j := waitJob(t, s, ids[0], "succeeded", in(meta.JobSucceeded)); j.Attempts != 2 {
		t.Errorf("job = %+v, want it done by its second attempt", j)
	}
}

// TestLeaseRenewal: a job that runs longer than its lease keeps it.
func TestLeaseRenewal(t *testing.T) {
	s := openStore(t)
	clk := newClock()
	id := enqueue(t, s, clk.Now(), "q", "long")[0]
	release := make(chan struct{})
	r := jobs.New(s, jobs.Options{Logger: quiet(), PollInterval: time.Millisecond, Now: clk.Now,
		Lease: time.Minute, LeaseRenewal: time.Millisecond})
	r.Handle("q", func(ctx context.Context, j *meta.Job) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, jobs.QueueOptions{})
	run(t, r)

	claimed := waitJob(t, s, id, "running", in(meta.JobRunning))
	for range 3 {
		clk.Add(50 * time.Second)
		now := clk.Now()
		waitJob(t, s, id, "renewed", func(j *meta.Job) bool { return !j.LeaseUntil.Before(now.Add(time.Minute)) })
		// Past the first lease, yet no one else can claim the job.
		if j, err := s.ClaimJob(t.Context(), []string{"q"}, "thief", now, time.Minute); !errors.Is(err, meta.ErrNotFound) {
			t.Fatalf("a thief claimed %+v, %v", j, err)
		}
	}
	close(release)
	j := waitJob(t, s, id, "succeeded", in(meta.JobSucceeded))
	if j.Attempts != 1 || j.Holder != claimed.Holder {
		t.Errorf("job = %+v, want it done by its first holder %s", j, claimed.Holder)
	}
}

// TestLeaseLost: once another worker has taken the job over, the handler's
// context ends with meta.ErrJobLost, and the runner records nothing.
func TestLeaseLost(t *testing.T) {
	s := openStore(t)
	clk := newClock()
	id := enqueue(t, s, clk.Now(), "q", "stolen")[0]
	cause := make(chan error, 1)
	r := jobs.New(s, jobs.Options{Logger: quiet(), PollInterval: time.Millisecond, Now: clk.Now,
		Lease: time.Minute, LeaseRenewal: time.Millisecond})
	r.Handle("q", func(ctx context.Context, j *meta.Job) error {
		<-ctx.Done()
		cause <- context.Cause(ctx)
		return ctx.Err()
	}, jobs.QueueOptions{})
	run(t, r)
	waitJob(t, s, id, "running", in(meta.JobRunning))

	// The runner renews the lease all along: the thief tries until it
	// comes between two renewals.
	var stolen *meta.Job
	waitFor(t, "the thief to take the job", func() bool {
		clk.Add(2 * time.Minute)
		j, err := s.ClaimJob(t.Context(), []string{"q"}, "thief", clk.Now(), time.Hour)
		stolen = j
		return err == nil
	})
	select {
	case err := <-cause:
		if !errors.Is(err, meta.ErrJobLost) {
			t.Errorf("handler's context ended with %v, want ErrJobLost", err)
		}
	case <-time.After(deadline):
		t.Fatal("the handler ran on after its job was taken over")
	}
	time.Sleep(10 * time.Millisecond) // room for a wrong record
	j := waitJob(t, s, id, "running", in(meta.JobRunning))
	if j.Holder != "thief" || j.Attempts != stolen.Attempts || j.LastError != "" {
		t.Errorf("job = %+v, want it left to the thief", j)
	}
}

// TestNotify: a runner that polls hourly still starts a job at once when
// notified.
func TestNotify(t *testing.T) {
	s := openStore(t)
	counting := &countingStore{Store: s}
	done := make(chan string, 1)
	r := jobs.New(counting, jobs.Options{Logger: quiet(), PollInterval: time.Hour})
	r.Handle("q", func(ctx context.Context, j *meta.Job) error {
		done <- string(j.Payload)
		return nil
	}, jobs.QueueOptions{})
	run(t, r)
	waitFor(t, "the first claim to find nothing", func() bool { return counting.idle.Load() > 0 })

	enqueue(t, s, time.Now(), "q", "pushed")
	r.Notify()
	select {
	case p := <-done:
		if p != "pushed" {
			t.Errorf("ran %q", p)
		}
	case <-time.After(deadline):
		t.Fatal("Notify did not wake the runner")
	}
}

// TestConcurrency: a queue runs at most Concurrency jobs at once, and a
// busy queue does not hold up another.
func TestConcurrency(t *testing.T) {
	const limit, n = 2, 6
	s := openStore(t)
	ids := enqueue(t, s, time.Now(), "q", "1", "2", "3", "4", "5", "6")
	var active, most atomic.Int32
	release := make(chan struct{})
	r := jobs.New(s, jobs.Options{Logger: quiet(), PollInterval: time.Millisecond})
	r.Handle("q", func(ctx context.Context, j *meta.Job) error {
		now := active.Add(1)
		defer active.Add(-1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		<-release
		return nil
	}, jobs.QueueOptions{Concurrency: limit})
	otherDone := make(chan struct{})
	r.Handle("other", func(ctx context.Context, j *meta.Job) error {
		close(otherDone)
		return nil
	}, jobs.QueueOptions{})
	run(t, r)

	waitFor(t, "the queue's workers to fill", func() bool { return active.Load() >= limit })
	enqueue(t, s, time.Now(), "other", "x")
	select {
	case <-otherDone:
	case <-time.After(deadline):
		t.Fatal("a full queue held up another queue's job")
	}
	time.Sleep(20 * time.Millisecond) // room to claim too many
	running, err := s.ListJobs(t.Context(), meta.JobQuery{Queue: "q", State: meta.JobRunning})
	if err != nil || len(running) != limit || active.Load() != limit {
		t.Errorf("%d jobs running (%d in handlers), %v; want %d", len(running), active.Load(), err, limit)
	}
	close(release)
	for _, id := range ids {
		waitJob(t, s, id, "succeeded", in(meta.JobSucceeded))
	}
	if m := most.Load(); m != limit {
		t.Errorf("at most %d jobs ran at once, want %d", m, limit)
	}
}

// TestPrune: a runner prunes finished jobs past their retention.
func TestPrune(t *testing.T) {
	s := openStore(t)
	clk := newClock()
	ids := enqueue(t, s, clk.Now(), "old", "old", "pending")
	j, err := s.ClaimJob(t.Context(), []string{"old"}, "w", clk.Now(), time.Minute)
	if err != nil || j.ID != ids[0] {
		t.Fatalf("ClaimJob = %+v, %v", j, err)
	}
	if err := s.CompleteJob(t.Context(), j.ID, "w", clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Hour)
	r := jobs.New(s, jobs.Options{Logger: quiet(), PollInterval: time.Millisecond, Now: clk.Now, Retention: time.Hour})
	run(t, r)
	waitFor(t, "the old job to be pruned", func() bool {
		_, err := s.GetJob(t.Context(), ids[0])
		return errors.Is(err, meta.ErrNotFound)
	})
	if j, err := s.GetJob(t.Context(), ids[1]); err != nil || j.State != meta.JobPending {
		t.Errorf("unfinished job = %+v, %v; want it kept", j, err)
	}
}
