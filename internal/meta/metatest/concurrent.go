package metatest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

// parallel runs fn(0) … fn(n-1) at once and waits for them. fn reports with
// t.Errorf, never t.Fatal, which must not be called off the test goroutine.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// testConcurrentPushes has many clients push into one repository at once,
// as `docker push` of several images does, and checks that only the
// expected errors occur and that the end state adds up.
func testConcurrentPushes(t *testing.T, s meta.Store) {
	const workers, rounds = 8, 6
	r := newRepo(t, s, reg1, "app")
	shared := blobOf("base layer every image shares")
	stable := image("stable", shared)

	var pinned [rounds]atomic.Int32 // successful pushes of pinned-<round>
	pushed := make([][]string, workers)
	parallel(workers, func(w int) {
		ctx := t.Context()
		for round := range rounds {
			seed := fmt.Sprintf("w%d-r%d", w, round)
			own := blobOf("layer " + seed)
			up := &meta.Upload{ID: "upload-" + seed, RepoID: r.ID, CreatedAt: at(round)}
			for _, err := range []error{
				s.LinkBlob(ctx, r.ID, shared),
				s.CreateUpload(ctx, up),
				s.AdvanceUpload(ctx, up.ID, 0, &meta.Upload{Offset: own.Size, HashState: hashState(byte(w))}),
				s.CompleteUpload(ctx, up.ID, r.ID, own),
			} {
				if err != nil {
					t.Errorf("%s: upload: %v", seed, err)
					return
				}
			}

			// Everyone pushes the same stable image under an immutable tag.
			err := s.PutManifest(ctx, &meta.PutManifest{RepoID: r.ID, Manifest: stable, Refs: blobRefs(shared),
				Tags: []meta.TagWrite{{Name: "stable", Immutable: true}}})
			if err != nil {
				t.Errorf("%s: push stable: %v", seed, err)
			}

			m := image(seed, shared, own)
			m.PushedAt = at(round)
			err = s.PutManifest(ctx, &meta.PutManifest{RepoID: r.ID, Manifest: m, Refs: blobRefs(shared, own),
				Tags: tags("latest", seed)})
			if err != nil {
				t.Errorf("%s: push: %v", seed, err)
				continue
			}
			pushed[w] = append(pushed[w], m.Digest)

			// Only the first of these wins the immutable tag.
			err = s.PutManifest(ctx, &meta.PutManifest{RepoID: r.ID, Manifest: m,
				Tags: []meta.TagWrite{{Name: fmt.Sprintf("pinned-%d", round), Immutable: true}}})
			switch {
			case err == nil:
				pinned[round].Add(1)
			case !errors.Is(err, meta.ErrTagImmutable):
				t.Errorf("%s: pin: %v", seed, err)
			}

			// Reads meanwhile see whole manifests.
			got, err := s.GetManifest(ctx, r.ID, m.Digest)
			if err != nil || got.Digest != m.Digest || len(got.Content) != len(m.Content) || !slices.Contains(got.Tags, seed) {
				t.Errorf("%s: GetManifest = %+v, %v", seed, got, err)
			}
			if _, err := s.ResolveTag(ctx, r.ID, "latest"); err != nil {
				t.Errorf("%s: ResolveTag(latest): %v", seed, err)
			}
			if _, err := s.ListTags(ctx, r.ID, "", 0); err != nil {
				t.Errorf("%s: ListTags: %v", seed, err)
			}
		}
	})
	if t.Failed() {
		return
	}

	var all []string
	wantTags := map[string]string{"stable": stable.Digest}
	for w, digests := range pushed {
		all = append(all, digests...)
		for round, d := range digests {
			wantTags[fmt.Sprintf("w%d-r%d", w, round)] = d
		}
	}
	checkTags(t, s, r.ID, wantTags)
	latest, err := s.ResolveTag(t.Context(), r.ID, "latest")
	if err != nil || !slices.Contains(all, latest) {
		t.Errorf("latest = %s, %v; want one of the pushed manifests", latest, err)
	}
	for round := range rounds {
		if n := pinned[round].Load(); n != 1 {
			t.Errorf("pinned-%d was pushed %d times, want 1", round, n)
		}
		d, err := s.ResolveTag(t.Context(), r.ID, fmt.Sprintf("pinned-%d", round))
		if err != nil || !slices.Contains(all, d) {
			t.Errorf("pinned-%d = %s, %v", round, d, err)
		}
	}
	list, err := s.ListTags(t.Context(), r.ID, "", 0)
	if want := 2 + workers*rounds + rounds; err != nil || len(list) != want {
		t.Errorf("ListTags gave %d tags, %v; want %d", len(list), err, want)
	}
	if ids, err := s.UploadIDs(t.Context()); err != nil || len(ids) != 0 {
		t.Errorf("UploadIDs = %q, %v; want none", ids, err)
	}
}

func testConcurrentCreateRepository(t *testing.T, s meta.Store) {
	const n = 16
	var created atomic.Int32
	ids := make([]int64, n)
	parallel(n, func(i int) {
		r := &meta.Repository{Registry: reg1, Name: "contended", TagMutability: fmt.Sprint(i)}
		err := s.CreateRepository(t.Context(), r)
		switch {
		case err == nil:
			created.Add(1)
			ids[i] = r.ID
		case !errors.Is(err, meta.ErrRepositoryExists):
			t.Errorf("CreateRepository: %v", err)
		}
	})
	if c := created.Load(); c != 1 {
		t.Fatalf("%d of %d concurrent creations succeeded, want 1", c, n)
	}
	got, err := s.GetRepository(t.Context(), reg1, "contended")
	if err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	// The winner's write is the one stored, under the ID it was given.
	i, err := strconv.Atoi(got.TagMutability)
	if err != nil || i < 0 || i >= n || ids[i] != got.ID {
		t.Errorf("stored %+v, but the winners got IDs %v", got, ids)
	}
}

func testConcurrentAdvanceUpload(t *testing.T, s meta.Store) {
	const n = 16
	r := newRepo(t, s, reg1, "app")
	wantErr(t, "CreateUpload", s.CreateUpload(t.Context(), &meta.Upload{ID: "u", RepoID: r.ID}), nil)

	// Every client read offset 0; only one may write after it.
	var won atomic.Int32
	parallel(n, func(i int) {
		err := s.AdvanceUpload(t.Context(), "u", 0, &meta.Upload{Offset: int64(100 + i), HashState: hashState(byte(i))})
		switch {
		case err == nil:
			won.Add(1)
		case !errors.Is(err, meta.ErrOffsetMismatch):
			t.Errorf("AdvanceUpload: %v", err)
		}
	})
	if w := won.Load(); w != 1 {
		t.Fatalf("%d of %d concurrent advances succeeded, want 1", w, n)
	}
	u := getUpload(t, s, r.ID, "u")
	if i := u.Offset - 100; i < 0 || i >= n || !slices.Equal(u.HashState, hashState(byte(i))) {
		t.Errorf("upload = %+v, not one client's whole write", u)
	}
}

// testConcurrentDeleteChild races pushes of an index against deletions of
// its child: either may win, but never both, which would leave an index
// listing a manifest that is gone.
func testConcurrentDeleteChild(t *testing.T, s meta.Store) {
	const n = 12
	r := newRepo(t, s, reg1, "app")
	children := make([]meta.Manifest, n)
	for i := range children {
		children[i] = pushImage(t, s, r.ID, fmt.Sprint("child ", i))
	}
	parallel(2*n, func(i int) {
		child := children[i/2]
		var err error
		if i%2 == 0 {
			err = s.PutManifest(t.Context(), &meta.PutManifest{RepoID: r.ID, Manifest: index(child.Digest, child), Refs: manifestRefs(child)})
		} else {
			err = s.DeleteManifest(t.Context(), r.ID, child.Digest, nil)
		}
		if err != nil && !errors.Is(err, meta.ErrManifestUnknown) && !errors.Is(err, meta.ErrManifestReferenced) {
			t.Errorf("unexpected error %v", err)
		}
	})
	for _, child := range children {
		_, errIndex := s.GetManifest(t.Context(), r.ID, index(child.Digest, child).Digest)
		_, errChild := s.GetManifest(t.Context(), r.ID, child.Digest)
		if errIndex == nil && errChild != nil {
			t.Errorf("index of %s stored while the child is gone: %v", child.Digest, errChild)
		}
		if errIndex != nil && errChild == nil {
			t.Errorf("neither the index push nor the deletion of %s took effect", child.Digest)
		}
	}
}

// testConcurrentTagWrites has clients push different manifests under the
// same two tags at once, as nodes taking pushes of :latest do, half of them
// naming the tags in the other order. Each push is one transaction, so both
// tags end at the same push, one of them; every manifest is stored, and each
// tag is one row.
func testConcurrentTagWrites(t *testing.T, s meta.Store) {
	const n, rounds = 8, 4
	ctx := t.Context()
	r := newRepo(t, s, reg1, "app")
	layer := link(t, s, r.ID, "shared layer")[0]
	for round := range rounds {
		ms := make([]meta.Manifest, n)
		for i := range ms {
			ms[i] = image(fmt.Sprintf("tag race %d/%d", round, i), layer)
		}
		parallel(n, func(i int) {
			names := []string{"latest", "stable"}
			if i%2 == 1 {
				slices.Reverse(names)
			}
			err := s.PutManifest(ctx, &meta.PutManifest{RepoID: r.ID, Manifest: ms[i], Refs: blobRefs(layer), Tags: tags(names...)})
			if err != nil {
				t.Errorf("round %d: push %d: %v", round, i, err)
			}
		})
		if t.Failed() {
			return
		}
		latest, err := s.ResolveTag(ctx, r.ID, "latest")
		wantErr(t, "ResolveTag(latest)", err, nil)
		stable, err := s.ResolveTag(ctx, r.ID, "stable")
		wantErr(t, "ResolveTag(stable)", err, nil)
		if latest != stable {
			t.Errorf("round %d: latest = %s, stable = %s: the tags of one push, moved by two", round, latest, stable)
		}
		winners := 0
		for _, m := range ms {
			got := getManifest(t, s, r.ID, m.Digest)
			if m.Digest == latest {
				winners++
				if !sameStrings(got.Tags, []string{"latest", "stable"}) {
					t.Errorf("round %d: the tagged manifest has tags %q", round, got.Tags)
				}
			} else if len(got.Tags) != 0 {
				t.Errorf("round %d: manifest %s kept tags %q", round, m.Digest, got.Tags)
			}
		}
		if winners != 1 {
			t.Errorf("round %d: latest = %s, not one of the pushed manifests", round, latest)
		}
		if list, err := s.ListTags(ctx, r.ID, "", 0); err != nil || !slices.Equal(list, []string{"latest", "stable"}) {
			t.Errorf("round %d: ListTags = %q, %v; want [latest stable] once each", round, list, err)
		}
	}
}

// testConcurrentImmutableTag races pushes of different manifests under one
// new immutable tag: exactly one succeeds, the others fail with
// ErrTagImmutable and, like any failed push, store nothing.
func testConcurrentImmutableTag(t *testing.T, s meta.Store) {
	const n, rounds = 8, 4
	ctx := t.Context()
	r := newRepo(t, s, reg1, "app")
	layer := link(t, s, r.ID, "shared layer")[0]
	for round := range rounds {
		tag := fmt.Sprintf("v%d", round)
		ms := make([]meta.Manifest, n)
		for i := range ms {
			ms[i] = image(fmt.Sprintf("immutable race %d/%d", round, i), layer)
		}
		won := make([]bool, n)
		parallel(n, func(i int) {
			err := s.PutManifest(ctx, &meta.PutManifest{RepoID: r.ID, Manifest: ms[i], Refs: blobRefs(layer),
				Tags: []meta.TagWrite{{Name: tag, Immutable: true}}})
			switch {
			case err == nil:
				won[i] = true
			case !errors.Is(err, meta.ErrTagImmutable):
				t.Errorf("round %d: push %d: %v", round, i, err)
			}
		})
		winner := slices.Index(won, true)
		if c := len(slices.DeleteFunc(slices.Clone(won), func(w bool) bool { return !w })); c != 1 {
			t.Fatalf("round %d: %d of %d pushes of immutable tag %s succeeded, want 1", round, c, n, tag)
		}
		checkTags(t, s, r.ID, map[string]string{tag: ms[winner].Digest})
		for i, m := range ms {
			if i != winner {
				checkManifestUnknown(t, s, r.ID, m.Digest)
			}
		}
		list, err := s.ListTags(ctx, r.ID, "", 0)
		if want := round + 1; err != nil || len(list) != want {
			t.Errorf("round %d: ListTags = %q, %v; want %d tags", round, list, err, want)
		}
	}
}

// testConcurrentDeleteRepository races a push into a repository against
// its deletion without force: either the push commits first and the
// deletion finds the repository not empty, or the deletion wins and the
// push finds no repository. Never a push reported stored and then deleted.
func testConcurrentDeleteRepository(t *testing.T, s meta.Store) {
	ctx := t.Context()
	for round := range 20 {
		r := newRepo(t, s, reg1, fmt.Sprint("doomed-", round))
		layer := link(t, s, r.ID, "layer")[0]
		m := image(fmt.Sprint("last push ", round), layer)
		var pushed, deleted bool
		parallel(2, func(i int) {
			if i == 0 {
				err := s.PutManifest(ctx, &meta.PutManifest{RepoID: r.ID, Manifest: m, Refs: blobRefs(layer), Tags: tags("latest")})
				switch {
				case err == nil:
					pushed = true
				case !errors.Is(err, meta.ErrRepositoryUnknown):
					t.Errorf("PutManifest: %v", err)
				}
				return
			}
			err := s.DeleteRepository(ctx, r.ID, false)
			switch {
			case err == nil:
				deleted = true
			case !errors.Is(err, meta.ErrRepositoryNotEmpty):
				t.Errorf("DeleteRepository: %v", err)
			}
		})
		if pushed == deleted {
			t.Fatalf("round %d: pushed %v, repository deleted %v: want exactly one", round, pushed, deleted)
		}
		if pushed {
			checkTags(t, s, r.ID, map[string]string{"latest": m.Digest})
		}
	}
}
