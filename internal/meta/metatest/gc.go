package metatest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

// Link stamps come from the store's clock, so these tests compare them with
// the test's own clock: far from now (an hour) where only the order
// matters, and around a moment taken between two writes, a few milliseconds
// apart, where the stamp must fall on the right side.

// tick makes sure the store's clock has moved past the test's.
func tick() { time.Sleep(20 * time.Millisecond) }

func staleLinks(t *testing.T, s meta.Store, before time.Time) []string {
	t.Helper()
	var out []string
	var afterRepo int64
	afterDigest := ""
	for {
		page, err := s.StaleBlobLinks(t.Context(), before, afterRepo, afterDigest, 2)
		if err != nil {
			t.Fatalf("StaleBlobLinks: %v", err)
		}
		for _, l := range page {
			out = append(out, l.Repository+"@"+l.Digest)
		}
		if len(page) < 2 {
			return out
		}
		afterRepo, afterDigest = page[len(page)-1].RepoID, page[len(page)-1].Digest
	}
}

func linkNames(repo string, bs ...meta.Blob) []string {
	var out []string
	for _, b := range bs {
		out = append(out, repo+"@"+b.Digest)
	}
	slices.Sort(out)
	return out
}

func testStaleBlobLinks(t *testing.T, s meta.Store) {
	ctx := t.Context()
	a := newRepo(t, s, reg1, "a")
	b := newRepo(t, s, reg2, "b")
	used := link(t, s, a.ID, "used config", "used layer")
	put(t, s, &meta.PutManifest{RepoID: a.ID, Manifest: image("used", used...), Refs: blobRefs(used...)})
	loose := link(t, s, a.ID, "loose one", "loose two")
	// Linked in b too, but referenced only by a's manifest.
	link(t, s, b.ID, "used layer", "loose b")
	bLoose := []meta.Blob{blobOf("used layer"), blobOf("loose b")}

	later := time.Now().Add(time.Hour)
	want := append(linkNames("a", loose...), linkNames("b", bLoose...)...)
	if got := staleLinks(t, s, later); !slices.Equal(got, want) {
		t.Errorf("StaleBlobLinks(later) = %q, want %q", got, want)
	}
	if got := staleLinks(t, s, time.Now().Add(-time.Hour)); len(got) != 0 {
		t.Errorf("StaleBlobLinks(an hour ago) = %q, want none", got)
	}
	page, err := s.StaleBlobLinks(ctx, later, 0, "", 1)
	wantErr(t, "StaleBlobLinks", err, nil)
	if len(page) != 1 || page[0].RepoID != a.ID || page[0].Registry != reg1 || page[0].Repository != "a" {
		t.Errorf("StaleBlobLinks page = %+v", page)
	}
	for _, l := range page {
		if l.LinkedAt.IsZero() || l.LinkedAt.After(time.Now().Add(time.Minute)) || l.Size != blobSize(loose, l.Digest) {
			t.Errorf("stale link %+v: want a stamp of about now and the blob's size", l)
		}
	}

	// Linking again restamps; so does deleting the last manifest that
	// references a blob.
	tick()
	mid := time.Now()
	tick()
	link(t, s, a.ID, "loose one")
	wantErr(t, "DeleteManifest(used)", s.DeleteManifest(ctx, a.ID, image("used", used...).Digest, nil), nil)
	want = append(linkNames("a", loose[1]), linkNames("b", bLoose...)...)
	if got := staleLinks(t, s, mid); !slices.Equal(got, want) {
		t.Errorf("StaleBlobLinks(before restamps) = %q, want %q", got, want)
	}
	want = append(linkNames("a", append(slices.Clone(used), loose...)...), linkNames("b", bLoose...)...)
	if got := staleLinks(t, s, later); !slices.Equal(got, want) {
		t.Errorf("StaleBlobLinks(later) after restamps = %q, want %q", got, want)
	}

	// Removal checks again: not while referenced or young.
	kept := pushImage(t, s, b.ID, "kept")
	keptBlob := blobOf("layer kept")
	if ok, err := s.RemoveStaleBlobLink(ctx, b.ID, keptBlob.Digest, later); err != nil || ok {
		t.Errorf("RemoveStaleBlobLink(referenced) = %v, %v", ok, err)
	}
	if ok, err := s.RemoveStaleBlobLink(ctx, a.ID, loose[0].Digest, mid); err != nil || ok {
		t.Errorf("RemoveStaleBlobLink(young) = %v, %v", ok, err)
	}
	if ok, err := s.RemoveStaleBlobLink(ctx, a.ID, loose[1].Digest, mid); err != nil || !ok {
		t.Errorf("RemoveStaleBlobLink(stale) = %v, %v", ok, err)
	}
	checkBlob(t, s, a.ID, loose[1], false)
	if ok, err := s.RemoveStaleBlobLink(ctx, a.ID, loose[1].Digest, later); err != nil || ok {
		t.Errorf("RemoveStaleBlobLink(gone) = %v, %v", ok, err)
	}
	checkBlob(t, s, b.ID, keptBlob, true)
	getManifest(t, s, b.ID, kept.Digest)
}

func blobSize(bs []meta.Blob, digest string) int64 {
	for _, b := range bs {
		if b.Digest == digest {
			return b.Size
		}
	}
	return -1
}

func unreferenced(t *testing.T, s meta.Store, before time.Time) []string {
	t.Helper()
	var out []string
	after := ""
	for {
		page, err := s.UnreferencedBlobs(t.Context(), before, after, 2)
		if err != nil {
			t.Fatalf("UnreferencedBlobs: %v", err)
		}
		for _, b := range page {
			if b.Size != int64(len("free "))+1 {
				t.Errorf("unreferenced blob %s has size %d", b.Digest, b.Size)
			}
			out = append(out, b.Digest)
		}
		if len(page) < 2 {
			return out
		}
		after = page[len(page)-1].Digest
	}
}

func testUnreferencedBlobs(t *testing.T, s meta.Store) {
	ctx := t.Context()
	a := newRepo(t, s, reg1, "a")
	b := newRepo(t, s, reg2, "b")
	free := link(t, s, a.ID, "free 1", "free 2", "free 3")
	link(t, s, b.ID, "free 3") // linked elsewhere
	// Unlinked, but a manifest still references it.
	held := link(t, s, a.ID, "held")
	put(t, s, &meta.PutManifest{RepoID: a.ID, Manifest: image("holder", held...), Refs: blobRefs(held...)})
	for _, bl := range append(slices.Clone(free), held...) {
		wantErr(t, "UnlinkBlob", s.UnlinkBlob(ctx, a.ID, bl.Digest), nil)
	}

	later := time.Now().Add(time.Hour)
	want := []string{free[0].Digest, free[1].Digest}
	slices.Sort(want)
	if got := unreferenced(t, s, later); !slices.Equal(got, want) {
		t.Errorf("UnreferencedBlobs = %q, want %q", got, want)
	}
	// The first link is the blob's push time: a young blob is left alone.
	if got := unreferenced(t, s, time.Now().Add(-time.Hour)); len(got) != 0 {
		t.Errorf("UnreferencedBlobs(an hour ago) = %q, want none", got)
	}

	rec, err := s.RecordedBlobs(ctx, []string{free[0].Digest, held[0].Digest, blobOf("never").Digest})
	wantErr(t, "RecordedBlobs", err, nil)
	if !rec[free[0].Digest] || !rec[held[0].Digest] || rec[blobOf("never").Digest] || len(rec) != 2 {
		t.Errorf("RecordedBlobs = %v", rec)
	}
	var many []string
	for i := range 1200 {
		many = append(many, digestOf([]byte{byte(i), byte(i >> 8)}))
	}
	many = append(many, free[1].Digest)
	if rec, err := s.RecordedBlobs(ctx, many); err != nil || len(rec) != 1 || !rec[free[1].Digest] {
		t.Errorf("RecordedBlobs(1201 digests) = %d found, %v", len(rec), err)
	}
}

func testBlobDeletion(t *testing.T, s meta.Store) {
	ctx := t.Context()
	r := newRepo(t, s, reg1, "app")
	claim := func(digest string, n int, want bool) {
		t.Helper()
		got, err := s.ClaimBlobDeletion(ctx, digest, at(n))
		if err != nil || got != want {
			t.Fatalf("ClaimBlobDeletion(%s) = %v, %v; want %v", digest, got, err, want)
		}
	}
	bl := link(t, s, r.ID, "bytes")[0]
	claim(bl.Digest, 0, false) // linked

	held := link(t, s, r.ID, "held")[0]
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: image("holder", held), Refs: blobRefs(held)})
	wantErr(t, "UnlinkBlob(held)", s.UnlinkBlob(ctx, r.ID, held.Digest), nil)
	claim(held.Digest, 0, false) // referenced

	wantErr(t, "UnlinkBlob", s.UnlinkBlob(ctx, r.ID, bl.Digest), nil)
	claim(bl.Digest, 1, true)
	if rec, _ := s.RecordedBlobs(ctx, []string{bl.Digest}); rec[bl.Digest] {
		t.Error("a claimed blob keeps its record")
	}
	claim(bl.Digest, 2, false) // already under way
	wantErr(t, "LinkBlob(deleting)", s.LinkBlob(ctx, r.ID, bl), meta.ErrBlobDeleting)
	up := &meta.Upload{ID: "u1", RepoID: r.ID, CreatedAt: at(0), UpdatedAt: at(0)}
	wantErr(t, "CreateUpload", s.CreateUpload(ctx, up), nil)
	wantErr(t, "BeginBlobCommit(deleting)", s.BeginBlobCommit(ctx, up.ID, bl.Digest), meta.ErrBlobDeleting)

	pending, err := s.PendingBlobDeletions(ctx, at(5))
	wantErr(t, "PendingBlobDeletions", err, nil)
	if !slices.Equal(pending, []string{bl.Digest}) {
		t.Errorf("PendingBlobDeletions = %q", pending)
	}
	if pending, _ := s.PendingBlobDeletions(ctx, at(1)); len(pending) != 0 {
		t.Errorf("PendingBlobDeletions(before the claim) = %q", pending)
	}

	wantErr(t, "FinishBlobDeletion", s.FinishBlobDeletion(ctx, bl.Digest), nil)
	if pending, _ := s.PendingBlobDeletions(ctx, at(5)); len(pending) != 0 {
		t.Errorf("PendingBlobDeletions after finishing = %q", pending)
	}
	// The bytes are gone: a link would name nothing, an upload brings them
	// back.
	wantErr(t, "LinkBlob(deleted)", s.LinkBlob(ctx, r.ID, bl), meta.ErrBlobDeleting)
	wantErr(t, "BeginBlobCommit(unknown upload)", s.BeginBlobCommit(ctx, "nope", bl.Digest), meta.ErrUploadUnknown)
	wantErr(t, "BeginBlobCommit", s.BeginBlobCommit(ctx, up.ID, bl.Digest), nil)
	claim(bl.Digest, 6, false) // an upload is committing it
	wantErr(t, "CompleteUpload", s.CompleteUpload(ctx, up.ID, r.ID, bl), nil)
	checkBlob(t, s, r.ID, bl, true)
	claim(bl.Digest, 7, false)

	// A digest with no record at all (bytes a crash left behind) can be
	// claimed too; pruning forgets finished deletions.
	orphan := blobOf("orphan").Digest
	claim(orphan, 8, true)
	wantErr(t, "FinishBlobDeletion(orphan)", s.FinishBlobDeletion(ctx, orphan), nil)
	if n, err := s.PruneBlobDeletions(ctx, at(8)); err != nil || n != 0 {
		t.Errorf("PruneBlobDeletions(before the claim) = %d, %v", n, err)
	}
	if n, err := s.PruneBlobDeletions(ctx, at(9)); err != nil || n != 1 {
		t.Errorf("PruneBlobDeletions = %d, %v; want 1", n, err)
	}
	wantErr(t, "LinkBlob(pruned)", s.LinkBlob(ctx, r.ID, blobOf("orphan")), nil)

	// A session that ends without completing lets go of the digest.
	up2 := &meta.Upload{ID: "u2", RepoID: r.ID, CreatedAt: at(0), UpdatedAt: at(0)}
	wantErr(t, "CreateUpload(u2)", s.CreateUpload(ctx, up2), nil)
	other := blobOf("abandoned").Digest
	wantErr(t, "BeginBlobCommit(u2)", s.BeginBlobCommit(ctx, up2.ID, other), nil)
	claim(other, 10, false)
	wantErr(t, "DeleteUpload(u2)", s.DeleteUpload(ctx, up2.ID), nil)
	claim(other, 11, true)
}

// testConcurrentBlobDeletion races an upload committing a digest against a
// collector claiming it: never both.
func testConcurrentBlobDeletion(t *testing.T, s meta.Store) {
	ctx := t.Context()
	r := newRepo(t, s, reg1, "app")
	for round := range 20 {
		bl := blobOf("contested " + string(rune('a'+round)))
		up := &meta.Upload{ID: "race-" + string(rune('a'+round)), RepoID: r.ID, CreatedAt: at(0), UpdatedAt: at(0)}
		wantErr(t, "CreateUpload", s.CreateUpload(ctx, up), nil)
		var committed, claimed bool
		parallel(2, func(i int) {
			if i == 0 {
				err := s.BeginBlobCommit(ctx, up.ID, bl.Digest)
				switch {
				case errors.Is(err, meta.ErrBlobDeleting):
				case err != nil:
					t.Errorf("BeginBlobCommit: %v", err)
				default:
					committed = true
					if err := s.CompleteUpload(ctx, up.ID, r.ID, bl); err != nil {
						t.Errorf("CompleteUpload after BeginBlobCommit: %v", err)
					}
				}
				return
			}
			ok, err := s.ClaimBlobDeletion(ctx, bl.Digest, at(round))
			if err != nil {
				t.Errorf("ClaimBlobDeletion: %v", err)
			}
			claimed = ok
		})
		if committed == claimed {
			t.Fatalf("round %d: committed %v, claimed %v: want exactly one", round, committed, claimed)
		}
	}
}

// testConcurrentStaleLink races a push referencing a blob against garbage
// collection removing the blob's link as stale: either the push fails
// with the blob missing, or the link stays. Never a stored manifest whose
// blob the repository no longer links.
func testConcurrentStaleLink(t *testing.T, s meta.Store) {
	ctx := t.Context()
	r := newRepo(t, s, reg1, "app")
	later := time.Now().Add(time.Hour) // every unreferenced link is stale
	for round := range 20 {
		bl := link(t, s, r.ID, fmt.Sprint("contested layer ", round))[0]
		m := image(fmt.Sprint("contested ", round), bl)
		var pushed, removed bool
		parallel(2, func(i int) {
			if i == 0 {
				err := s.PutManifest(ctx, &meta.PutManifest{RepoID: r.ID, Manifest: m, Refs: blobRefs(bl)})
				switch {
				case err == nil:
					pushed = true
				case !errors.Is(err, meta.ErrBlobUnknown):
					t.Errorf("PutManifest: %v", err)
				}
				return
			}
			ok, err := s.RemoveStaleBlobLink(ctx, r.ID, bl.Digest, later)
			if err != nil {
				t.Errorf("RemoveStaleBlobLink: %v", err)
			}
			removed = ok
		})
		if pushed == removed {
			t.Fatalf("round %d: pushed %v, link removed %v: want exactly one", round, pushed, removed)
		}
		checkBlob(t, s, r.ID, bl, pushed)
	}
}

func testBlobUsage(t *testing.T, s meta.Store) {
	ctx := t.Context()
	a := newRepo(t, s, reg1, "a")
	b := newRepo(t, s, reg2, "b")
	newRepo(t, s, reg1, "empty")
	bs := link(t, s, a.ID, "12345", "1234567")
	put(t, s, &meta.PutManifest{RepoID: a.ID, Manifest: image("a", bs...), Refs: blobRefs(bs...)})
	link(t, s, a.ID, "123")
	link(t, s, b.ID, "12345", "1")

	got, err := s.BlobUsage(ctx)
	wantErr(t, "BlobUsage", err, nil)
	want := []meta.RepositoryUsage{
		{RepoID: a.ID, Registry: reg1, Repository: "a", ReferencedBlobs: 2, ReferencedBytes: 12, UnreferencedBlobs: 1, UnreferencedBytes: 3},
		{RepoID: b.ID, Registry: reg2, Repository: "b", UnreferencedBlobs: 2, UnreferencedBytes: 6},
	}
	if !slices.Equal(got, want) {
		t.Errorf("BlobUsage = %+v\nwant %+v", got, want)
	}
}
