package metatest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// Crash describes a backend to RunCrash.
type Crash struct {
	// Open opens the store under test; every call must open the same
	// store (the same file, the same database), as it was left.
	Open func(t *testing.T) meta.Store
	// Child returns an unstarted command whose process opens the same
	// store and calls CrashChild with its standard output. RunCrash sets
	// the command's Stdout and Stderr.
	Child func(t *testing.T) *exec.Cmd
	// Check, if set, checks the backend's own consistency on the store
	// reopened after a kill (SQLite: PRAGMA integrity_check).
	Check func(t *testing.T, s meta.Store)
	// Rounds is how many children are killed; 0 means 12.
	Rounds int
	// Window is how long after a child is ready it is killed, at a random
	// moment within; 0 means 20ms, which suits a store whose changes take
	// well under a millisecond. A store whose changes take longer (a
	// round trip to a server for each statement) widens it, so that every
	// child gets several changes done, and dies inside most of them.
	Window time.Duration
}

// The child's queues: one job per push and one per delete.
const (
	crashPushQueue   = "crash-push"
	crashDeleteQueue = "crash-delete"
	crashRepository  = "crash"
)

// CrashChild is the child of RunCrash: it pushes manifests, each with a job
// naming it, and deletes every other one, with a job naming it too, until
// it is killed or ctx ends. It writes "ready" to out once it has opened the
// store, and a line after each change returns ("put <digest>", "del
// <digest>"), so that the parent knows which changes it was told had
// committed.
func CrashChild(ctx context.Context, s meta.Store, out io.Writer) error {
	r := &meta.Repository{Registry: reg1, Name: crashRepository, TagMutability: "MUTABLE"}
	err := s.CreateRepository(ctx, r)
	if errors.Is(err, meta.ErrRepositoryExists) {
		r, err = s.GetRepository(ctx, reg1, crashRepository)
	}
	if err != nil {
		return fmt.Errorf("crash child: repository: %w", err)
	}
	layer := blobOf("crash layer")
	if err := s.LinkBlob(ctx, r.ID, layer); err != nil {
		return fmt.Errorf("crash child: link: %w", err)
	}
	if _, err := fmt.Fprintln(out, "ready"); err != nil {
		return err
	}
	var prev string
	for i := 0; ctx.Err() == nil; i++ {
		m := image(rand.Text(), layer)
		err := s.PutManifest(ctx, &meta.PutManifest{
			RepoID: r.ID, Manifest: m, Refs: blobRefs(layer), Tags: tags("latest", m.Digest[7:23]),
			Jobs: []meta.NewJob{{Queue: crashPushQueue, Payload: []byte(m.Digest)}},
		})
		if err != nil {
			return fmt.Errorf("crash child: push: %w", err)
		}
		if _, err := fmt.Fprintf(out, "put %s\n", m.Digest); err != nil {
			return err // the parent is gone
		}
		if i%2 == 1 {
			err := s.DeleteManifest(ctx, r.ID, prev, []meta.NewJob{{Queue: crashDeleteQueue, Payload: []byte(prev)}})
			if err != nil {
				return fmt.Errorf("crash child: delete: %w", err)
			}
			if _, err := fmt.Fprintf(out, "del %s\n", prev); err != nil {
				return err
			}
		}
		prev = m.Digest
	}
	return ctx.Err()
}

// RunCrash proves across SIGKILL that a change's jobs are written with it
// or not at all. It starts c.Child, kills it at a random moment once it is
// ready (mostly inside a transaction: the child does little else), reopens
// the store and checks that every manifest stored has its push job, every
// push job's manifest is stored or has its delete job, every delete job's
// manifest is gone, and every change the child reported survived. Then it
// starts the next child on the same store.
//
// The test proves nothing unless the children got some work done: on a
// machine too slow (or too busy) for them to push and delete within the
// window in c.Rounds rounds, it goes on for up to four times as many.
func RunCrash(t *testing.T, c Crash) {
	rounds := c.Rounds
	if rounds <= 0 {
		rounds = 12
	}
	var counts []int
	round := 0
	for ; round < rounds || round < 4*rounds && slices.Contains(counts, 0); round++ {
		// The first child dies soon after it starts, maybe while opening
		// the store. The last one is let do some work first, so that the
		// test proves something even on a machine too busy for the
		// children to get far in a few milliseconds.
		reported := runCrashChild(t, c, round, round == 0, round == rounds-1)
		s := c.Open(t)
		checkCrash(t, s, round, reported)
		if c.Check != nil {
			c.Check(t, s)
		}
		counts = counts[:0]
		for _, q := range []string{crashPushQueue, crashDeleteQueue} {
			counts = append(counts, len(listJobs(t, s, meta.JobQuery{Queue: q})))
		}
		if err := s.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
		if t.Failed() {
			return
		}
	}
	for i, q := range []string{crashPushQueue, crashDeleteQueue} {
		if counts[i] == 0 {
			t.Errorf("after %d rounds no job in %s: the children did nothing", round, q)
		}
		t.Logf("%d rounds wrote %d jobs to %s", round, counts[i], q)
	}
}

// minWork is how many changes the last child reports before it may die.
const minWork = 40

// runCrashChild starts a child, kills it a random moment after it says it
// is ready (or, with early set, after it starts) and returns what it
// reported. The parent does not read the child's output until the child is
// dead: a reader woken by each line would have the kill land, most of the
// time, just after the child wrote one (between its changes, not inside).
func runCrashChild(t *testing.T, c Crash, round int, early, worked bool) []string {
	t.Helper()
	cmd := c.Child(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("round %d: start child: %v", round, err)
	}
	out := bufio.NewReader(stdout)
	var ready string
	if !early {
		readyc := make(chan string, 1)
		go func() {
			line, _ := out.ReadString('\n')
			readyc <- line
		}()
		select {
		case ready = <-readyc:
		case <-time.After(time.Minute):
			t.Errorf("round %d: the child was not ready within a minute", round)
		}
	}
	if worked {
		// Reading lines biases the kill towards the moment after one;
		// one round in the run can afford it.
		for range minWork {
			line, err := out.ReadString('\n')
			ready += line
			if err != nil {
				break
			}
		}
	}
	// The child writes a line of about 80 bytes per change, about one
	// every 0.1ms to a few ms: it fills no pipe buffer in this time.
	window := c.Window
	if window <= 0 {
		window = 20 * time.Millisecond
	}
	time.Sleep(time.Duration(mrand.Int64N(int64(window))))
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("round %d: kill: %v", round, err)
	}
	rest, _ := io.ReadAll(out)
	err = cmd.Wait()
	if cmd.ProcessState == nil || cmd.ProcessState.Exited() {
		// Not killed: it stopped on an error of its own.
		t.Fatalf("round %d: the child exited (%v) before it was killed:\n%s", round, err, stderr.String())
	}
	return strings.Split(ready+string(rest), "\n")
}

func checkCrash(t *testing.T, s meta.Store, round int, reported []string) {
	t.Helper()
	ctx := t.Context()
	pushJobs := map[string]int{}
	for _, j := range listJobs(t, s, meta.JobQuery{Queue: crashPushQueue}) {
		pushJobs[string(j.Payload)]++
	}
	deleteJobs := map[string]int{}
	for _, j := range listJobs(t, s, meta.JobQuery{Queue: crashDeleteQueue}) {
		deleteJobs[string(j.Payload)]++
	}
	stored := map[string]bool{}
	r, err := s.GetRepository(ctx, reg1, crashRepository)
	switch {
	case errors.Is(err, meta.ErrRepositoryUnknown):
		// Killed before it made the repository.
	case err != nil:
		t.Fatalf("round %d: GetRepository: %v", round, err)
	default:
		ms, err := s.ListImages(ctx, r.ID, meta.ImageQuery{})
		if err != nil {
			t.Fatalf("round %d: ListImages: %v", round, err)
		}
		for _, m := range ms {
			stored[m.Digest] = true
		}
	}

	for d := range stored {
		if pushJobs[d] != 1 {
			t.Errorf("round %d: manifest %s stored with %d push jobs, want 1", round, d, pushJobs[d])
		}
		if deleteJobs[d] != 0 {
			t.Errorf("round %d: manifest %s stored, yet it has a delete job", round, d)
		}
	}
	for d, n := range pushJobs {
		switch {
		case n != 1:
			t.Errorf("round %d: %d push jobs for %s, want 1", round, n, d)
		case !stored[d] && deleteJobs[d] != 1:
			t.Errorf("round %d: push job for %s, whose manifest is gone without a delete job", round, d)
		}
	}
	for d, n := range deleteJobs {
		if n != 1 || pushJobs[d] != 1 {
			t.Errorf("round %d: %d delete jobs and %d push jobs for %s, want 1 each", round, n, pushJobs[d], d)
		}
	}
	// What the child was told had committed did.
	for _, line := range reported {
		op, d, ok := strings.Cut(line, " ")
		switch {
		case !ok || !strings.HasPrefix(d, "sha256:"):
			// "ready", or the test binary's own output.
		case op == "put" && pushJobs[d] != 1:
			t.Errorf("round %d: push of %s reported, but its job is missing", round, d)
		case op == "del" && (deleteJobs[d] != 1 || stored[d]):
			t.Errorf("round %d: delete of %s reported, but it did not last", round, d)
		}
	}
}
