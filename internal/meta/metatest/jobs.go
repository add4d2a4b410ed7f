package metatest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

func enqueue(t *testing.T, s meta.Store, now time.Time, jobs ...meta.NewJob) {
	t.Helper()
	if err := s.EnqueueJobs(t.Context(), jobs, now); err != nil {
		t.Fatalf("EnqueueJobs: %v", err)
	}
}

func listJobs(t *testing.T, s meta.Store, q meta.JobQuery) []*meta.Job {
	t.Helper()
	js, err := s.ListJobs(t.Context(), q)
	if err != nil {
		t.Fatalf("ListJobs(%+v): %v", q, err)
	}
	return js
}

func getJob(t *testing.T, s meta.Store, id int64) *meta.Job {
	t.Helper()
	j, err := s.GetJob(t.Context(), id)
	if err != nil {
		t.Fatalf("GetJob(%d): %v", id, err)
	}
	return j
}

// claim claims a job and fails unless it is the one wanted (by payload);
// an empty want asks for none to be ready.
func claim(t *testing.T, s meta.Store, queues []string, holder string, now time.Time, want string) *meta.Job {
	t.Helper()
	j, err := s.ClaimJob(t.Context(), queues, holder, now, time.Minute)
	switch {
	case want == "" && !errors.Is(err, meta.ErrNotFound):
		t.Fatalf("ClaimJob(%q, %s, %v) = %+v, %v; want ErrNotFound", queues, holder, now, j, err)
	case want == "":
		return nil
	case err != nil:
		t.Fatalf("ClaimJob(%q, %s, %v): %v; want %s", queues, holder, now, err, want)
	case string(j.Payload) != want:
		t.Fatalf("ClaimJob(%q, %s, %v) = %s, want %s", queues, holder, now, j.Payload, want)
	}
	return j
}

func job(queue, payload string) meta.NewJob {
	return meta.NewJob{Queue: queue, Payload: []byte(payload)}
}

func payloads(js []*meta.Job) []string {
	var out []string
	for _, j := range js {
		out = append(out, string(j.Payload))
	}
	return out
}

// checkJob compares what a job's state says, times included.
func checkJob(t *testing.T, what string, got, want *meta.Job) {
	t.Helper()
	if got.Queue != want.Queue || got.Key != want.Key || !bytes.Equal(got.Payload, want.Payload) ||
		got.State != want.State || got.Attempts != want.Attempts || got.Holder != want.Holder ||
		got.LastError != want.LastError {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
	checkTime(t, what+" RunAfter", got.RunAfter, want.RunAfter)
	checkTime(t, what+" LeaseUntil", got.LeaseUntil, want.LeaseUntil)
	checkTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, what+" UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	checkTime(t, what+" FinishedAt", got.FinishedAt, want.FinishedAt)
}

func testEnqueueJobs(t *testing.T, s meta.Store) {
	ctx := t.Context()
	wantErr(t, "EnqueueJobs(none)", s.EnqueueJobs(ctx, nil, at(0)), nil)
	if js := listJobs(t, s, meta.JobQuery{}); len(js) != 0 {
		t.Fatalf("jobs after enqueuing none: %+v", js)
	}
	// A batch is one transaction: a job the store refuses takes the batch.
	if err := s.EnqueueJobs(ctx, []meta.NewJob{job("events", "x"), {Payload: []byte("no queue")}}, at(0)); err == nil {
		t.Error("EnqueueJobs accepted a job without a queue")
	}
	if js := listJobs(t, s, meta.JobQuery{}); len(js) != 0 {
		t.Fatalf("a refused batch left jobs: %+v", payloads(js))
	}

	enqueue(t, s, at(1),
		meta.NewJob{Queue: "events", Key: "k", Payload: []byte(`{"a":1}`)},
		meta.NewJob{Queue: "scan", RunAfter: at(60)},
		job("events", "third"))
	js := listJobs(t, s, meta.JobQuery{})
	if len(js) != 3 || !(js[0].ID < js[1].ID && js[1].ID < js[2].ID) {
		t.Fatalf("ListJobs = %+v, want 3 in ID order", js)
	}
	checkJob(t, "job 1", js[0], &meta.Job{Queue: "events", Key: "k", Payload: []byte(`{"a":1}`), State: meta.JobPending,
		CreatedAt: at(1), UpdatedAt: at(1)})
	checkJob(t, "job 2", js[1], &meta.Job{Queue: "scan", State: meta.JobPending, RunAfter: at(60), CreatedAt: at(1), UpdatedAt: at(1)})
	checkJob(t, "GetJob", getJob(t, s, js[2].ID), js[2])
	_, err := s.GetJob(ctx, js[2].ID+100)
	wantErr(t, "GetJob(unknown)", err, meta.ErrNotFound)

	for _, tc := range []struct {
		q    meta.JobQuery
		want []int
	}{
		{meta.JobQuery{Queue: "events"}, []int{0, 2}},
		{meta.JobQuery{Queue: "scan", State: meta.JobPending}, []int{1}},
		{meta.JobQuery{State: meta.JobRunning}, nil},
		{meta.JobQuery{Queue: "nothing"}, nil},
		{meta.JobQuery{After: js[0].ID}, []int{1, 2}},
		{meta.JobQuery{Limit: 2}, []int{0, 1}},
		{meta.JobQuery{Queue: "events", After: js[0].ID, Limit: 5}, []int{2}},
	} {
		var want []int64
		for _, i := range tc.want {
			want = append(want, js[i].ID)
		}
		var got []int64
		for _, j := range listJobs(t, s, tc.q) {
			got = append(got, j.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("ListJobs(%+v) = %v, want %v", tc.q, got, want)
		}
	}
}

// testJobKeys: a key names work that need not be asked for twice while it
// is still to be done.
func testJobKeys(t *testing.T, s meta.Store) {
	ctx := t.Context()
	keyed := func(queue, key, payload string) meta.NewJob {
		return meta.NewJob{Queue: queue, Key: key, Payload: []byte(payload)}
	}
	unfinished := func(queue string) []string {
		t.Helper()
		var out []string
		for _, j := range listJobs(t, s, meta.JobQuery{Queue: queue}) {
			if j.State == meta.JobPending || j.State == meta.JobRunning {
				out = append(out, string(j.Payload))
			}
		}
		return out
	}
	check := func(step, queue string, want ...string) {
		t.Helper()
		if got := unfinished(queue); !slices.Equal(got, want) {
			t.Errorf("%s: unfinished jobs of %s = %q, want %q", step, queue, got, want)
		}
	}

	// Duplicates within one batch and across batches are dropped, not
	// refused; other queues and unkeyed jobs are not duplicates.
	enqueue(t, s, at(0), keyed("scan", "img", "first"), keyed("scan", "img", "dup in batch"),
		keyed("plain", "", "unkeyed"), keyed("plain", "", "unkeyed"), keyed("events", "img", "other queue"))
	enqueue(t, s, at(1), keyed("scan", "img", "dup later"))
	check("enqueued", "scan", "first")
	check("enqueued", "plain", "unkeyed", "unkeyed")
	check("enqueued", "events", "other queue")

	// A running job still holds its key; so does one waiting for a retry.
	j := claim(t, s, []string{"scan"}, "w", at(2), "first")
	enqueue(t, s, at(3), keyed("scan", "img", "while running"))
	check("while running", "scan", "first")
	wantErr(t, "FailJob(retry)", s.FailJob(ctx, j.ID, "w", "boom", at(100), at(4)), nil)
	enqueue(t, s, at(5), keyed("scan", "img", "while retrying"))
	check("while retrying", "scan", "first")

	// A finished job frees the key, whether it failed or succeeded.
	j = claim(t, s, []string{"scan"}, "w", at(100), "first")
	wantErr(t, "FailJob(final)", s.FailJob(ctx, j.ID, "w", "gave up", time.Time{}, at(101)), nil)
	enqueue(t, s, at(102), keyed("scan", "img", "after failure"))
	check("after failure", "scan", "after failure")
	j = claim(t, s, []string{"scan"}, "w", at(103), "after failure")
	wantErr(t, "CompleteJob", s.CompleteJob(ctx, j.ID, "w", at(104)), nil)
	enqueue(t, s, at(105), keyed("scan", "img", "after success"))
	check("after success", "scan", "after success")
}

func testClaimJob(t *testing.T, s meta.Store) {
	ctx := t.Context()
	enqueue(t, s, at(0),
		job("q1", "a"), job("q2", "b"),
		meta.NewJob{Queue: "q1", Payload: []byte("c"), RunAfter: at(100)},
		job("q1", "d"))

	claim(t, s, []string{"q3"}, "w", at(10), "")
	claim(t, s, nil, "w", at(10), "")
	a := claim(t, s, []string{"q1"}, "w1", at(10), "a")
	checkJob(t, "claimed", a, &meta.Job{Queue: "q1", Payload: []byte("a"), State: meta.JobRunning, Attempts: 1,
		Holder: "w1", LeaseUntil: at(70), CreatedAt: at(0), UpdatedAt: at(10)})
	checkJob(t, "GetJob(claimed)", getJob(t, s, a.ID), a)
	d := claim(t, s, []string{"q1"}, "w2", at(10), "d") // a is held, c waits
	claim(t, s, []string{"q1"}, "w2", at(10), "")
	b := claim(t, s, []string{"q1", "q2"}, "w2", at(10), "b")
	for _, j := range []*meta.Job{a, b, d} {
		wantErr(t, "CompleteJob", s.CompleteJob(ctx, j.ID, j.Holder, at(11)), nil)
	}
	claim(t, s, []string{"q1"}, "w2", at(99), "")
	c := claim(t, s, []string{"q1"}, "w2", at(100), "c") // RunAfter is inclusive
	wantErr(t, "CompleteJob", s.CompleteJob(ctx, c.ID, "w2", at(101)), nil)

	// Across queues, jobs asked for at once go in the order they were
	// written, ahead of delayed ones, which go by RunAfter.
	enqueue(t, s, at(200),
		meta.NewJob{Queue: "q1", Payload: []byte("late"), RunAfter: at(260)},
		meta.NewJob{Queue: "q2", Payload: []byte("early"), RunAfter: at(250)},
		job("q2", "e"), job("q1", "f"))
	for _, want := range []string{"e", "f", "early", "late"} {
		claim(t, s, []string{"q1", "q2"}, "w3", at(300), want)
	}
	if got := listJobs(t, s, meta.JobQuery{State: meta.JobPending}); len(got) != 0 {
		t.Errorf("pending after claiming all: %q", payloads(got))
	}
	if _, err := s.ClaimJob(ctx, []string{"q1"}, "", at(300), time.Minute); err == nil {
		t.Error("ClaimJob accepted an empty holder")
	}
}

// testJobLeaseLapse: a worker that dies holding a job loses it once its
// lease lapses, and whatever it says afterwards is refused.
func testJobLeaseLapse(t *testing.T, s meta.Store) {
	ctx := t.Context()
	enqueue(t, s, at(0), job("q", "j"))
	j := claim(t, s, []string{"q"}, "A", at(0), "j")
	claim(t, s, []string{"q"}, "B", at(30), "")
	wantErr(t, "ExtendJobLease(A)", s.ExtendJobLease(ctx, j.ID, "A", at(90)), nil)
	if got := getJob(t, s, j.ID); !got.LeaseUntil.Equal(at(90)) {
		t.Errorf("LeaseUntil after extension = %v, want %v", got.LeaseUntil, at(90))
	}
	claim(t, s, []string{"q"}, "B", at(89), "")
	wantErr(t, "ExtendJobLease(not holder)", s.ExtendJobLease(ctx, j.ID, "B", at(200)), meta.ErrJobLost)

	// A went quiet: at the end of its lease B takes the job over.
	taken := claim(t, s, []string{"q"}, "B", at(90), "j")
	checkJob(t, "taken over", taken, &meta.Job{Queue: "q", Payload: []byte("j"), State: meta.JobRunning, Attempts: 2,
		Holder: "B", LeaseUntil: at(150), CreatedAt: at(0), UpdatedAt: at(90)})
	wantErr(t, "CompleteJob(A)", s.CompleteJob(ctx, j.ID, "A", at(91)), meta.ErrJobLost)
	wantErr(t, "ExtendJobLease(A)", s.ExtendJobLease(ctx, j.ID, "A", at(200)), meta.ErrJobLost)
	wantErr(t, "FailJob(A)", s.FailJob(ctx, j.ID, "A", "late", at(200), at(91)), meta.ErrJobLost)
	wantErr(t, "FailJob(A, final)", s.FailJob(ctx, j.ID, "A", "late", time.Time{}, at(91)), meta.ErrJobLost)
	checkJob(t, "after A's refused calls", getJob(t, s, j.ID), taken)

	wantErr(t, "CompleteJob(B)", s.CompleteJob(ctx, j.ID, "B", at(100)), nil)
	checkJob(t, "completed", getJob(t, s, j.ID), &meta.Job{Queue: "q", Payload: []byte("j"), State: meta.JobSucceeded,
		Attempts: 2, Holder: "B", CreatedAt: at(0), UpdatedAt: at(100), FinishedAt: at(100)})
	// A finished job is held by no one and never claimed again.
	wantErr(t, "CompleteJob(B) again", s.CompleteJob(ctx, j.ID, "B", at(101)), meta.ErrJobLost)
	wantErr(t, "ExtendJobLease(B) after completion", s.ExtendJobLease(ctx, j.ID, "B", at(300)), meta.ErrJobLost)
	wantErr(t, "CompleteJob(unknown)", s.CompleteJob(ctx, j.ID+100, "B", at(101)), meta.ErrJobLost)
	claim(t, s, []string{"q"}, "C", at(1000), "")
}

// testFailJob: a failing job backs off, and one given up on shows as
// failed.
func testFailJob(t *testing.T, s meta.Store) {
	ctx := t.Context()
	enqueue(t, s, at(0), job("q", "flaky"), job("q", "doomed"))
	j := claim(t, s, []string{"q"}, "w", at(0), "flaky")
	wantErr(t, "FailJob(retry)", s.FailJob(ctx, j.ID, "w", "boom", at(60), at(10)), nil)
	checkJob(t, "retrying", getJob(t, s, j.ID), &meta.Job{Queue: "q", Payload: []byte("flaky"), State: meta.JobPending,
		Attempts: 1, RunAfter: at(60), Holder: "w", LastError: "boom", CreatedAt: at(0), UpdatedAt: at(10)})
	wantErr(t, "CompleteJob(pending)", s.CompleteJob(ctx, j.ID, "w", at(11)), meta.ErrJobLost)
	d := claim(t, s, []string{"q"}, "w", at(20), "doomed")
	claim(t, s, []string{"q"}, "w", at(59), "")
	j = claim(t, s, []string{"q"}, "w", at(60), "flaky")
	if j.Attempts != 2 || j.LastError != "boom" {
		t.Errorf("second claim = %+v, want Attempts 2 and the last error", j)
	}
	wantErr(t, "CompleteJob", s.CompleteJob(ctx, j.ID, "w", at(61)), nil)
	if got := getJob(t, s, j.ID); got.State != meta.JobSucceeded || got.LastError != "boom" {
		t.Errorf("succeeded after a retry = %+v, want the last error kept", got)
	}

	wantErr(t, "FailJob(final)", s.FailJob(ctx, d.ID, "w", "no way", time.Time{}, at(70)), nil)
	checkJob(t, "failed", getJob(t, s, d.ID), &meta.Job{Queue: "q", Payload: []byte("doomed"), State: meta.JobFailed,
		Attempts: 1, Holder: "w", LastError: "no way", CreatedAt: at(0), UpdatedAt: at(70), FinishedAt: at(70)})
	failed := listJobs(t, s, meta.JobQuery{Queue: "q", State: meta.JobFailed})
	if len(failed) != 1 || failed[0].ID != d.ID {
		t.Errorf("ListJobs(failed) = %q, want doomed", payloads(failed))
	}
	claim(t, s, []string{"q"}, "w", at(100000), "")
	wantErr(t, "FailJob(failed)", s.FailJob(ctx, d.ID, "w", "again", at(100), at(71)), meta.ErrJobLost)
}

func testPruneJobs(t *testing.T, s meta.Store) {
	ctx := t.Context()
	enqueue(t, s, at(0), job("q", "s1"), job("q", "f1"), job("q", "s2"), job("q", "running"), job("q", "pending"))
	finish := func(payload string, ok bool, now time.Time) {
		t.Helper()
		j := claim(t, s, []string{"q"}, "w", now, payload)
		if ok {
			wantErr(t, "CompleteJob", s.CompleteJob(ctx, j.ID, "w", now), nil)
		} else {
			wantErr(t, "FailJob", s.FailJob(ctx, j.ID, "w", "x", time.Time{}, now), nil)
		}
	}
	finish("s1", true, at(10))
	finish("f1", false, at(20))
	finish("s2", true, at(40))
	claim(t, s, []string{"q"}, "w", at(0), "running") // lease lapsed long ago, still unfinished

	for _, tc := range []struct {
		before time.Time
		want   int
		left   []string
	}{
		{time.Time{}, 0, []string{"s1", "f1", "s2", "running", "pending"}},
		{at(10), 0, []string{"s1", "f1", "s2", "running", "pending"}}, // strictly before
		{at(30), 2, []string{"s2", "running", "pending"}},
		{at(100000), 1, []string{"running", "pending"}},
	} {
		n, err := s.PruneJobs(ctx, tc.before)
		if err != nil || n != tc.want {
			t.Errorf("PruneJobs(%v) = %d, %v; want %d", tc.before, n, err, tc.want)
		}
		if got := payloads(listJobs(t, s, meta.JobQuery{})); !slices.Equal(got, tc.left) {
			t.Errorf("after PruneJobs(%v): %q, want %q", tc.before, got, tc.left)
		}
	}
}

// testJobsWithChanges: a change's jobs are written if, and only if, the
// change takes effect. Each step asks for one job of its own queue.
func testJobsWithChanges(t *testing.T, s meta.Store) {
	ctx := t.Context()
	r := newRepo(t, s, reg1, "app")
	base := pushImage(t, s, r.ID, "base", "pinned")
	idx := index("idx", base)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: idx, Refs: manifestRefs(base)})
	other := pushImage(t, s, r.ID, "other", "v1", "v2")
	untagged := pushImage(t, s, r.ID, "untagged")
	expired := pushImage(t, s, r.ID, "expired")
	missing := blobOf("never linked")
	fresh := image("fresh", missing)

	deleteIf := func(m meta.Manifest, tags ...string) func([]meta.NewJob) error {
		return func(jobs []meta.NewJob) error {
			ok, err := s.DeleteManifestIf(ctx, r.ID, meta.ManifestState{Digest: m.Digest, Tags: tags, PushedAt: m.PushedAt}, jobs)
			if err == nil && !ok {
				err = errNotDeleted
			}
			return err
		}
	}
	deleteUntagged := func(m meta.Manifest) func([]meta.NewJob) error {
		return func(jobs []meta.NewJob) error {
			ok, err := s.DeleteUntaggedManifest(ctx, r.ID, m.Digest, jobs)
			if err == nil && !ok {
				err = errNotDeleted
			}
			return err
		}
	}
	preview := func(id string, staleBefore time.Time) func([]meta.NewJob) error {
		return func(jobs []meta.NewJob) error {
			p := &meta.LifecyclePreview{RepoID: r.ID, ID: id, Text: policyText, StartedAt: at(10)}
			return s.StartLifecyclePreview(ctx, p, staleBefore, jobs)
		}
	}
	pushTo := func(repoID int64, m meta.Manifest, refs []meta.Ref, tw ...meta.TagWrite) func([]meta.NewJob) error {
		return func(jobs []meta.NewJob) error {
			return s.PutManifest(ctx, &meta.PutManifest{RepoID: repoID, Manifest: m, Refs: refs, Tags: tw, Jobs: jobs})
		}
	}
	immutable := meta.TagWrite{Name: "pinned", Immutable: true}

	steps := []struct {
		name    string
		change  func(jobs []meta.NewJob) error
		wantErr error
		applied bool
	}{
		{"push refused: missing ref", pushTo(r.ID, fresh, blobRefs(missing)), meta.ErrBlobUnknown, false},
		{"push refused: immutable tag moved", pushTo(r.ID, other, nil, immutable), meta.ErrTagImmutable, false},
		{"push refused: unknown repository", pushTo(r.ID+1000, fresh, nil), meta.ErrRepositoryUnknown, false},
		{"push", pushTo(r.ID, fresh, nil, meta.TagWrite{Name: "fresh"}), nil, true},
		{"push again (same digest)", pushTo(r.ID, fresh, nil), nil, true},
		{"delete tag", func(jobs []meta.NewJob) error { return s.DeleteTag(ctx, r.ID, "v1", jobs) }, nil, true},
		{"delete tag: unknown", func(jobs []meta.NewJob) error { return s.DeleteTag(ctx, r.ID, "v1", jobs) }, meta.ErrTagUnknown, false},
		{"delete manifest: referenced", func(jobs []meta.NewJob) error { return s.DeleteManifest(ctx, r.ID, base.Digest, jobs) }, meta.ErrManifestReferenced, false},
		{"delete manifest", func(jobs []meta.NewJob) error { return s.DeleteManifest(ctx, r.ID, other.Digest, jobs) }, nil, true},
		{"delete manifest: unknown", func(jobs []meta.NewJob) error { return s.DeleteManifest(ctx, r.ID, other.Digest, jobs) }, meta.ErrManifestUnknown, false},
		{"delete untagged: tagged", deleteUntagged(fresh), errNotDeleted, false},
		{"delete untagged: listed by an index", deleteUntagged(base), errNotDeleted, false},
		{"delete untagged", deleteUntagged(untagged), nil, true},
		{"delete untagged: gone", deleteUntagged(untagged), errNotDeleted, false},
		{"delete if: changed", deleteIf(expired, "retagged"), errNotDeleted, false},
		{"delete if: referenced", deleteIf(base, "pinned"), meta.ErrManifestReferenced, false},
		{"delete if", deleteIf(expired), nil, true},
		{"delete if: gone", deleteIf(expired), errNotDeleted, false},
		{"preview: unknown repository", func(jobs []meta.NewJob) error {
			return s.StartLifecyclePreview(ctx, &meta.LifecyclePreview{RepoID: r.ID + 1000, ID: "x", StartedAt: at(0)}, at(0), jobs)
		}, meta.ErrRepositoryUnknown, false},
		{"preview", preview("first", at(0)), nil, true},
		{"preview: in progress", preview("second", at(0)), meta.ErrPreviewInProgress, false},
		{"preview: replaces a stale one", preview("third", at(11)), nil, true},
	}
	applied := 0
	for i, st := range steps {
		queue := fmt.Sprintf("step-%02d", i)
		err := st.change([]meta.NewJob{
			{Queue: queue, Payload: []byte(st.name)},
			{Queue: queue, Key: "k", Payload: []byte(st.name)},
		})
		if st.wantErr == nil && err != nil || st.wantErr != nil && !errors.Is(err, st.wantErr) {
			t.Errorf("%s: error %v, want %v", st.name, err, st.wantErr)
		}
		js := listJobs(t, s, meta.JobQuery{Queue: queue})
		if !st.applied {
			if len(js) != 0 {
				t.Errorf("%s: the change did not apply, yet wrote %d jobs", st.name, len(js))
			}
			continue
		}
		applied++
		if len(js) != 2 {
			t.Errorf("%s: the change applied and wrote %d jobs, want 2", st.name, len(js))
		}
		for _, j := range js {
			// A change takes no time: the store stamps its jobs with its
			// own clock.
			if j.State != meta.JobPending || string(j.Payload) != st.name || j.CreatedAt.IsZero() ||
				j.CreatedAt.Location() != time.UTC || !j.RunAfter.IsZero() {
				t.Errorf("%s: job %+v", st.name, j)
			}
		}
	}

	// A job the store refuses refuses its change.
	bad := []meta.NewJob{{Payload: []byte("no queue")}}
	if err := s.PutManifest(ctx, &meta.PutManifest{RepoID: r.ID, Manifest: image("refused"), Tags: tags("refused"), Jobs: bad}); err == nil {
		t.Error("PutManifest with a job without a queue succeeded")
	}
	checkManifestUnknown(t, s, r.ID, image("refused").Digest)
	checkTags(t, s, r.ID, map[string]string{"refused": "", "fresh": fresh.Digest})
	if err := s.DeleteTag(ctx, r.ID, "fresh", bad); err == nil {
		t.Error("DeleteTag with a job without a queue succeeded")
	}
	checkTags(t, s, r.ID, map[string]string{"fresh": fresh.Digest})
	if n := len(listJobs(t, s, meta.JobQuery{})); n != 2*applied {
		t.Errorf("%d jobs in all, want %d", n, 2*applied)
	}
}

// errNotDeleted stands for a conditional delete that reported false.
var errNotDeleted = errors.New("not deleted")

// testConcurrentClaims has many workers drain one queue at once: while the
// leases are live, every job goes to exactly one of them.
func testConcurrentClaims(t *testing.T, s meta.Store) {
	const workers, n = 8, 64
	var jobs []meta.NewJob
	for i := range n {
		jobs = append(jobs, job("q", fmt.Sprint(i)))
	}
	enqueue(t, s, at(0), jobs...)

	var mu sync.Mutex
	claimedBy := map[int64][]string{}
	parallel(workers, func(w int) {
		holder := fmt.Sprint("worker ", w)
		for range n + 1 { // bounded, should a store hand jobs out again
			j, err := s.ClaimJob(t.Context(), []string{"q"}, holder, at(1), time.Hour)
			if errors.Is(err, meta.ErrNotFound) {
				return
			}
			if err != nil {
				t.Errorf("%s: ClaimJob: %v", holder, err)
				return
			}
			if j.Holder != holder || j.Attempts != 1 {
				t.Errorf("%s claimed %+v", holder, j)
			}
			mu.Lock()
			claimedBy[j.ID] = append(claimedBy[j.ID], holder)
			mu.Unlock()
		}
		t.Errorf("%s claimed more jobs than there are", holder)
	})
	if len(claimedBy) != n {
		t.Errorf("%d jobs claimed, want %d", len(claimedBy), n)
	}
	for id, holders := range claimedBy {
		if len(holders) != 1 {
			t.Errorf("job %d claimed by %q", id, holders)
		}
		if j := getJob(t, s, id); j.State != meta.JobRunning || j.Holder != holders[0] || j.Attempts != 1 {
			t.Errorf("job %d = %+v, want running under %s", id, j, holders[0])
		}
	}
}

// testClaimRace has several workers race for a single job, fresh and then
// with its lease lapsed: one wins each race.
func testClaimRace(t *testing.T, s meta.Store) {
	const workers, rounds = 8, 10
	for round := range rounds {
		payload := fmt.Sprint("round ", round)
		enqueue(t, s, at(0), job("race", payload))
		for attempt, now := range []time.Time{at(1), at(1 + 61)} {
			var mu sync.Mutex
			var winners []string
			parallel(workers, func(w int) {
				holder := fmt.Sprintf("r%d-a%d-w%d", round, attempt, w)
				j, err := s.ClaimJob(t.Context(), []string{"race"}, holder, now, time.Minute)
				switch {
				case errors.Is(err, meta.ErrNotFound):
				case err != nil:
					t.Errorf("ClaimJob: %v", err)
				case string(j.Payload) != payload || j.Attempts != attempt+1:
					t.Errorf("%s claimed %+v", holder, j)
				default:
					mu.Lock()
					winners = append(winners, holder)
					mu.Unlock()
				}
			})
			if len(winners) != 1 {
				t.Fatalf("round %d, attempt %d: won by %q, want one worker", round, attempt+1, winners)
			}
			if round%2 == 0 || attempt == 1 {
				js := listJobs(t, s, meta.JobQuery{Queue: "race", State: meta.JobRunning})
				if len(js) != 1 || js[0].Holder != winners[0] {
					t.Fatalf("round %d: running %+v, want one held by %s", round, js, winners[0])
				}
				wantErr(t, "CompleteJob", s.CompleteJob(t.Context(), js[0].ID, winners[0], now), nil)
				break
			}
		}
	}
}
