package metatest

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

const policyText = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`

func getPolicy(t *testing.T, s meta.Store, repoID int64) *meta.LifecyclePolicy {
	t.Helper()
	p, err := s.GetLifecyclePolicy(t.Context(), repoID)
	if err != nil {
		t.Fatalf("GetLifecyclePolicy: %v", err)
	}
	return p
}

func testLifecyclePolicy(t *testing.T, s meta.Store) {
	ctx := t.Context()
	a := newRepo(t, s, reg1, "a")
	b := newRepo(t, s, reg2, "b")
	c := newRepo(t, s, reg3, "c")

	_, err := s.GetLifecyclePolicy(ctx, a.ID)
	wantErr(t, "GetLifecyclePolicy(none)", err, meta.ErrNotFound)
	_, err = s.DeleteLifecyclePolicy(ctx, a.ID)
	wantErr(t, "DeleteLifecyclePolicy(none)", err, meta.ErrNotFound)
	wantErr(t, "PutLifecyclePolicy(unknown repo)", s.PutLifecyclePolicy(ctx, a.ID+b.ID+c.ID+1000, policyText, at(0)), meta.ErrRepositoryUnknown)

	// The text is kept byte for byte, whitespace and all.
	text := " " + policyText + "\n\t"
	wantErr(t, "PutLifecyclePolicy(a)", s.PutLifecyclePolicy(ctx, a.ID, text, at(1)), nil)
	p := getPolicy(t, s, a.ID)
	if p.Text != text || p.RepoID != a.ID || p.Registry != reg1 || p.Repository != "a" {
		t.Errorf("GetLifecyclePolicy = %+v", p)
	}
	checkTime(t, "UpdatedAt", p.UpdatedAt, at(1))
	checkTime(t, "LastEvaluatedAt", p.LastEvaluatedAt, time.Time{})

	wantErr(t, "MarkLifecycleEvaluated", s.MarkLifecycleEvaluated(ctx, a.ID, text, at(2)), nil)
	checkTime(t, "LastEvaluatedAt", getPolicy(t, s, a.ID).LastEvaluatedAt, at(2))
	// A run of an older text does not count for the new one.
	wantErr(t, "MarkLifecycleEvaluated(other text)", s.MarkLifecycleEvaluated(ctx, a.ID, policyText, at(3)), nil)
	checkTime(t, "LastEvaluatedAt after a stale mark", getPolicy(t, s, a.ID).LastEvaluatedAt, at(2))

	// Replacing the text keeps the evaluation time.
	wantErr(t, "PutLifecyclePolicy(a) again", s.PutLifecyclePolicy(ctx, a.ID, policyText, at(4)), nil)
	p = getPolicy(t, s, a.ID)
	if p.Text != policyText {
		t.Errorf("replaced text = %q", p.Text)
	}
	checkTime(t, "UpdatedAt after replace", p.UpdatedAt, at(4))
	checkTime(t, "LastEvaluatedAt after replace", p.LastEvaluatedAt, at(2))

	wantErr(t, "PutLifecyclePolicy(b)", s.PutLifecyclePolicy(ctx, b.ID, policyText, at(5)), nil)
	wantErr(t, "PutLifecyclePolicy(c)", s.PutLifecyclePolicy(ctx, c.ID, policyText, at(6)), nil)
	list, err := s.ListLifecyclePolicies(ctx)
	wantErr(t, "ListLifecyclePolicies", err, nil)
	var got []string
	for _, p := range list {
		got = append(got, p.Registry.Account+"/"+p.Registry.Region+"/"+p.Repository)
	}
	want := []string{reg1.Account + "/" + reg1.Region + "/a", reg2.Account + "/" + reg2.Region + "/b", reg3.Account + "/" + reg3.Region + "/c"}
	if !slices.Equal(got, want) {
		t.Errorf("ListLifecyclePolicies = %q, want %q", got, want)
	}

	deleted, err := s.DeleteLifecyclePolicy(ctx, a.ID)
	wantErr(t, "DeleteLifecyclePolicy", err, nil)
	if deleted.Text != policyText || deleted.Repository != "a" {
		t.Errorf("DeleteLifecyclePolicy returned %+v", deleted)
	}
	checkTime(t, "deleted LastEvaluatedAt", deleted.LastEvaluatedAt, at(2))
	_, err = s.GetLifecyclePolicy(ctx, a.ID)
	wantErr(t, "GetLifecyclePolicy(deleted)", err, meta.ErrNotFound)

	// A policy goes with its repository.
	wantErr(t, "DeleteRepository(b)", s.DeleteRepository(ctx, b.ID, true), nil)
	_, err = s.GetLifecyclePolicy(ctx, b.ID)
	wantErr(t, "GetLifecyclePolicy(deleted repository)", err, meta.ErrNotFound)
	list, err = s.ListLifecyclePolicies(ctx)
	wantErr(t, "ListLifecyclePolicies", err, nil)
	if len(list) != 1 || list[0].RepoID != c.ID {
		t.Errorf("ListLifecyclePolicies after deletes = %+v, want c's only", list)
	}
}

func getPreview(t *testing.T, s meta.Store, repoID int64) *meta.LifecyclePreview {
	t.Helper()
	p, err := s.GetLifecyclePreview(t.Context(), repoID)
	if err != nil {
		t.Fatalf("GetLifecyclePreview: %v", err)
	}
	return p
}

func testLifecyclePreview(t *testing.T, s meta.Store) {
	ctx := t.Context()
	r := newRepo(t, s, reg1, "app")

	_, err := s.GetLifecyclePreview(ctx, r.ID)
	wantErr(t, "GetLifecyclePreview(none)", err, meta.ErrNotFound)
	wantErr(t, "StartLifecyclePreview(unknown repo)",
		s.StartLifecyclePreview(ctx, &meta.LifecyclePreview{RepoID: r.ID + 1000, ID: "x", Text: policyText, StartedAt: at(0)}, at(-100), nil),
		meta.ErrRepositoryUnknown)

	first := &meta.LifecyclePreview{RepoID: r.ID, ID: "first", Text: policyText, StartedAt: at(10)}
	wantErr(t, "StartLifecyclePreview", s.StartLifecyclePreview(ctx, first, at(0), nil), nil)
	p := getPreview(t, s, r.ID)
	if p.ID != "first" || p.Text != policyText || p.Status != meta.PreviewInProgress || len(p.Results) != 0 {
		t.Errorf("started preview = %+v", p)
	}
	checkTime(t, "StartedAt", p.StartedAt, at(10))
	checkTime(t, "FinishedAt", p.FinishedAt, time.Time{})

	// While it runs, and is not stale, no other preview starts.
	second := &meta.LifecyclePreview{RepoID: r.ID, ID: "second", Text: "other", StartedAt: at(20)}
	wantErr(t, "StartLifecyclePreview(in progress)", s.StartLifecyclePreview(ctx, second, at(10), nil), meta.ErrPreviewInProgress)
	// Once given up as stale, another replaces it, and the stale one can no
	// longer finish.
	wantErr(t, "StartLifecyclePreview(stale)", s.StartLifecyclePreview(ctx, second, at(11), nil), nil)
	first.Status, first.FinishedAt = meta.PreviewComplete, at(21)
	wantErr(t, "FinishLifecyclePreview(superseded)", s.FinishLifecyclePreview(ctx, first), meta.ErrNotFound)

	results := []meta.PreviewResult{
		{Digest: digestOf([]byte("b")), Tags: []string{"v2", "latest"}, PushedAt: at(-5), Action: "EXPIRE", RulePriority: 1, StorageClass: "STANDARD"},
		{Digest: digestOf([]byte("a")), PushedAt: at(-9), Action: "TRANSITION", TargetStorageClass: "ARCHIVE", RulePriority: 7, StorageClass: "STANDARD"},
	}
	second.Status, second.FinishedAt, second.Results = meta.PreviewComplete, at(22), results
	wantErr(t, "FinishLifecyclePreview", s.FinishLifecyclePreview(ctx, second), nil)
	p = getPreview(t, s, r.ID)
	if p.ID != "second" || p.Text != "other" || p.Status != meta.PreviewComplete || p.Reason != "" {
		t.Errorf("finished preview = %+v", p)
	}
	checkTime(t, "FinishedAt", p.FinishedAt, at(22))
	wantResults := []meta.PreviewResult{results[1], results[0]}
	if results[0].Digest < results[1].Digest {
		wantResults = results
	}
	checkPreviewResults(t, p.Results, wantResults)

	// A finished preview does not finish again.
	wantErr(t, "FinishLifecyclePreview(twice)", s.FinishLifecyclePreview(ctx, second), meta.ErrNotFound)

	// A new preview replaces the results; a failure has a reason.
	third := &meta.LifecyclePreview{RepoID: r.ID, ID: "third", Text: policyText, StartedAt: at(30)}
	wantErr(t, "StartLifecyclePreview(after complete)", s.StartLifecyclePreview(ctx, third, at(0), nil), nil)
	if p := getPreview(t, s, r.ID); len(p.Results) != 0 || p.Status != meta.PreviewInProgress {
		t.Errorf("restarted preview = %+v", p)
	}
	third.Status, third.Reason, third.FinishedAt = meta.PreviewFailed, "it broke", at(31)
	wantErr(t, "FinishLifecyclePreview(failed)", s.FinishLifecyclePreview(ctx, third), nil)
	if p := getPreview(t, s, r.ID); p.Status != meta.PreviewFailed || p.Reason != "it broke" {
		t.Errorf("failed preview = %+v", p)
	}

	wantErr(t, "DeleteRepository", s.DeleteRepository(ctx, r.ID, true), nil)
	_, err = s.GetLifecyclePreview(ctx, r.ID)
	wantErr(t, "GetLifecyclePreview(deleted repository)", err, meta.ErrNotFound)
}

func checkPreviewResults(t *testing.T, got, want []meta.PreviewResult) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("preview has %d results, want %d: %+v", len(got), len(want), got)
	}
	for i := range got {
		g, w := got[i], want[i]
		checkTime(t, "result PushedAt", g.PushedAt, w.PushedAt)
		g.PushedAt, w.PushedAt = time.Time{}, time.Time{}
		if !sameStrings(g.Tags, w.Tags) {
			t.Errorf("result %d tags = %q, want %q", i, g.Tags, w.Tags)
		}
		g.Tags, w.Tags = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("result %d = %+v, want %+v", i, g, w)
		}
	}
}

func testManifestChildren(t *testing.T, s meta.Store) {
	ctx := t.Context()
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")
	one := pushImage(t, s, r.ID, "one")
	two := pushImage(t, s, r.ID, "two")
	idx := index("idx", one, two)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: idx, Refs: manifestRefs(one, two), Tags: tags("multi")})
	small := index("small", two)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: small, Refs: manifestRefs(two)})
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: referrer("sig", atSig, one.Digest)})
	o := pushImage(t, s, other.ID, "o")
	put(t, s, &meta.PutManifest{RepoID: other.ID, Manifest: index("o-idx", o), Refs: manifestRefs(o)})

	got, err := s.ManifestChildren(ctx, r.ID)
	wantErr(t, "ManifestChildren", err, nil)
	for _, c := range got {
		slices.Sort(c)
	}
	want := map[string][]string{idx.Digest: sortedDigests(one, two), small.Digest: {two.Digest}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ManifestChildren = %v, want %v", got, want)
	}
	empty := newRepo(t, s, reg1, "empty")
	if got, err := s.ManifestChildren(ctx, empty.ID); err != nil || len(got) != 0 {
		t.Errorf("ManifestChildren(empty) = %v, %v", got, err)
	}
}

func testDeleteManifestIf(t *testing.T, s meta.Store) {
	ctx := t.Context()
	r := newRepo(t, s, reg1, "app")
	m := pushImage(t, s, r.ID, "img", "v1", "latest")
	state := meta.ManifestState{Digest: m.Digest, Tags: []string{"latest", "v1"}, PushedAt: m.PushedAt}

	for _, tc := range []struct {
		name   string
		change func(*meta.ManifestState)
	}{
		{"fewer tags", func(w *meta.ManifestState) { w.Tags = []string{"v1"} }},
		{"more tags", func(w *meta.ManifestState) { w.Tags = append(w.Tags, "v2") }},
		{"untagged", func(w *meta.ManifestState) { w.Tags = nil }},
		{"other push time", func(w *meta.ManifestState) { w.PushedAt = w.PushedAt.Add(time.Second) }},
		{"pulled", func(w *meta.ManifestState) { w.LastPulledAt = at(5) }},
	} {
		w := state
		w.Tags = slices.Clone(state.Tags)
		tc.change(&w)
		ok, err := s.DeleteManifestIf(ctx, r.ID, w, nil)
		if err != nil || ok {
			t.Errorf("DeleteManifestIf(%s) = %v, %v; want false", tc.name, ok, err)
		}
		getManifest(t, s, r.ID, m.Digest)
	}

	// A tag moved away or a pull since the evaluation keeps the image.
	pushImage(t, s, r.ID, "newer", "latest")
	if ok, err := s.DeleteManifestIf(ctx, r.ID, state, nil); err != nil || ok {
		t.Errorf("DeleteManifestIf(re-tagged) = %v, %v; want false", ok, err)
	}
	state.Tags = []string{"v1"}
	wantErr(t, "RecordPulls", s.RecordPulls(ctx, []meta.Pull{{RepoID: r.ID, Digest: m.Digest, At: at(7)}}), nil)
	if ok, err := s.DeleteManifestIf(ctx, r.ID, state, nil); err != nil || ok {
		t.Errorf("DeleteManifestIf(pulled since) = %v, %v; want false", ok, err)
	}
	state.LastPulledAt = at(7)
	if ok, err := s.DeleteManifestIf(ctx, r.ID, state, nil); err != nil || !ok {
		t.Errorf("DeleteManifestIf(unchanged) = %v, %v; want true", ok, err)
	}
	checkManifestUnknown(t, s, r.ID, m.Digest)
	checkTags(t, s, r.ID, map[string]string{"v1": ""})
	if ok, err := s.DeleteManifestIf(ctx, r.ID, state, nil); err != nil || ok {
		t.Errorf("DeleteManifestIf(gone) = %v, %v; want false", ok, err)
	}

	// An index's child waits for the index, whose own deletion frees it.
	child := pushImage(t, s, r.ID, "child")
	idx := index("idx", child)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: idx, Refs: manifestRefs(child)})
	childState := meta.ManifestState{Digest: child.Digest, PushedAt: child.PushedAt}
	_, err := s.DeleteManifestIf(ctx, r.ID, childState, nil)
	var refd *meta.ReferencedError
	if !errors.As(err, &refd) || refd.By != idx.Digest || !errors.Is(err, meta.ErrManifestReferenced) {
		t.Fatalf("DeleteManifestIf(child) = %v, want a ReferencedError by %s", err, idx.Digest)
	}
	if ok, err := s.DeleteManifestIf(ctx, r.ID, meta.ManifestState{Digest: idx.Digest, PushedAt: idx.PushedAt}, nil); err != nil || !ok {
		t.Fatalf("DeleteManifestIf(index) = %v, %v", ok, err)
	}
	if ok, err := s.DeleteManifestIf(ctx, r.ID, childState, nil); err != nil || !ok {
		t.Fatalf("DeleteManifestIf(freed child) = %v, %v", ok, err)
	}
}

func testLeases(t *testing.T, s meta.Store) {
	ctx := t.Context()
	acquire := func(name, holder string, now time.Time, want bool) {
		t.Helper()
		got, err := s.AcquireLease(ctx, name, holder, now, time.Minute)
		if err != nil || got != want {
			t.Errorf("AcquireLease(%s, %s, %v) = %v, %v; want %v", name, holder, now, got, err, want)
		}
	}
	acquire("gc", "n1", at(0), true)
	acquire("gc", "n2", at(30), false)
	acquire("other", "n2", at(30), true) // leases are independent
	acquire("gc", "n1", at(50), true)    // renewed until at(110)
	acquire("gc", "n2", at(100), false)
	acquire("gc", "n2", at(110), true) // lapsed
	acquire("gc", "n1", at(120), false)
	wantErr(t, "ReleaseLease(not holder)", s.ReleaseLease(ctx, "gc", "n1"), nil)
	acquire("gc", "n1", at(120), false)
	wantErr(t, "ReleaseLease", s.ReleaseLease(ctx, "gc", "n2"), nil)
	acquire("gc", "n1", at(120), true)
	wantErr(t, "ReleaseLease(never taken)", s.ReleaseLease(ctx, "never", "n1"), nil)
}

// testConcurrentLease has many nodes race for one lease: exactly one wins.
func testConcurrentLease(t *testing.T, s meta.Store) {
	const nodes = 8
	var won [nodes]bool
	parallel(nodes, func(i int) {
		ok, err := s.AcquireLease(t.Context(), "race", string(rune('a'+i)), at(0), time.Minute)
		if err != nil {
			t.Errorf("AcquireLease: %v", err)
		}
		won[i] = ok
	})
	if n := len(slices.DeleteFunc(won[:], func(b bool) bool { return !b })); n != 1 {
		t.Errorf("%d nodes hold the lease, want 1", n)
	}
}

// testStoreClock: the store's clock reads a time, near this machine's for
// a test server on this machine.
func testStoreClock(t *testing.T, s meta.Store) {
	before := time.Now()
	now, err := s.Now(t.Context())
	wantErr(t, "Now", err, nil)
	if d := now.Sub(before); d < -time.Minute || d > time.Minute {
		t.Errorf("the store's clock reads %v, %v from this machine's", now, d)
	}
}
