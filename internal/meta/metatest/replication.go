package metatest

import (
	"errors"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

// testPutManifestLinks covers PutManifest.Links: a replica's blobs are
// linked with its manifest, in one transaction.
func testPutManifestLinks(t *testing.T, s meta.Store) {
	src := newRepo(t, s, reg1, "links/source")
	dst := newRepo(t, s, reg3, "links/source")
	bs := link(t, s, src.ID, "config links", "layer links")
	m := image("links", bs...)

	// Without links the replica's refs are missing: nothing is written.
	err := s.PutManifest(t.Context(), &meta.PutManifest{RepoID: dst.ID, Manifest: m, Refs: blobRefs(bs...), Tags: tags("v1")})
	var missing *meta.MissingRefError
	if !errors.As(err, &missing) {
		t.Fatalf("PutManifest without links: error %v, want a *MissingRefError", err)
	}
	for _, b := range bs {
		checkBlob(t, s, dst.ID, b, false)
	}

	put(t, s, &meta.PutManifest{RepoID: dst.ID, Manifest: m, Refs: blobRefs(bs...), Links: bs, Tags: tags("v1")})
	for _, b := range bs {
		checkBlob(t, s, dst.ID, b, true)
	}
	checkManifest(t, getManifest(t, s, dst.ID, m.Digest), m, "v1")
	// Linking again, as a retried replication does, changes nothing.
	put(t, s, &meta.PutManifest{RepoID: dst.ID, Manifest: m, Refs: blobRefs(bs...), Links: bs, Tags: tags("v1")})
	checkManifest(t, getManifest(t, s, dst.ID, m.Digest), m, "v1")

	// A blob that garbage collection is deleting cannot be linked, and the
	// push fails as a whole.
	gone := blobOf("links being collected")
	if err := s.LinkBlob(t.Context(), src.ID, gone); err != nil {
		t.Fatalf("LinkBlob: %v", err)
	}
	if err := s.UnlinkBlob(t.Context(), src.ID, gone.Digest); err != nil {
		t.Fatalf("UnlinkBlob: %v", err)
	}
	claimed, err := s.ClaimBlobDeletion(t.Context(), gone.Digest, at(100))
	if err != nil || !claimed {
		t.Fatalf("ClaimBlobDeletion = %v, %v", claimed, err)
	}
	m2 := image("links gone", bs[0], gone)
	err = s.PutManifest(t.Context(), &meta.PutManifest{RepoID: dst.ID, Manifest: m2, Refs: blobRefs(bs[0], gone), Links: []meta.Blob{bs[0], gone}, Tags: tags("v2")})
	wantErr(t, "PutManifest linking a blob being deleted", err, meta.ErrBlobDeleting)
	if _, err := s.GetManifest(t.Context(), dst.ID, m2.Digest); err == nil {
		t.Error("the refused replica's manifest was written")
	}
}

// testReplicationStatuses covers ReplicationStore.
func testReplicationStatuses(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "replicated/app")
	m := pushImage(t, s, r.ID, "replicated", "v1")
	other := pushImage(t, s, r.ID, "replicated other")
	west := meta.RegistryKey{Account: reg1.Account, Region: "us-west-2"}
	east := meta.RegistryKey{Account: reg1.Account, Region: "us-east-1"}
	xacct := meta.RegistryKey{Account: reg2.Account, Region: "us-east-1"}

	if got := statuses(t, s, r.ID, m.Digest); len(got) != 0 {
		t.Fatalf("statuses before any replication = %+v", got)
	}
	start := func(d meta.RegistryKey) meta.ReplicationStatus {
		return meta.ReplicationStatus{RepoID: r.ID, Digest: m.Digest, Destination: d, State: meta.ReplicationInProgress, UpdatedAt: at(1)}
	}
	gone := meta.ReplicationStatus{RepoID: r.ID, Digest: digestOf([]byte("not pushed")), Destination: west,
		State: meta.ReplicationInProgress, UpdatedAt: at(1)}
	jobs := []meta.NewJob{{Queue: "replicate", Key: "a", Payload: []byte("west")}, {Queue: "replicate", Key: "b", Payload: []byte("gone")}}
	err := s.StartReplications(t.Context(), []meta.ReplicationStatus{start(west), start(xacct), start(east), gone}, jobs)
	wantErr(t, "StartReplications", err, nil)
	checkStatuses(t, statuses(t, s, r.ID, m.Digest), start(east), start(xacct), start(west))
	if got := statuses(t, s, r.ID, gone.Digest); len(got) != 0 {
		t.Errorf("a manifest that is not there has statuses %+v", got)
	}
	if got := payloads(listJobs(t, s, meta.JobQuery{Queue: "replicate"})); !sameStrings(got, []string{"west", "gone"}) {
		t.Errorf("jobs written with the statuses = %q", got)
	}
	// The other image has statuses of its own.
	if got := statuses(t, s, r.ID, other.Digest); len(got) != 0 {
		t.Errorf("statuses of an image never replicated = %+v", got)
	}

	// A status moves through the states; a failure carries its reason.
	failed := start(west)
	failed.State, failed.Failure, failed.UpdatedAt = meta.ReplicationFailed, "the destination said no", at(2)
	wantErr(t, "PutReplicationStatus(failed)", s.PutReplicationStatus(t.Context(), failed), nil)
	done := start(xacct)
	done.State, done.UpdatedAt = meta.ReplicationComplete, at(3)
	wantErr(t, "PutReplicationStatus(complete)", s.PutReplicationStatus(t.Context(), done), nil)
	checkStatuses(t, statuses(t, s, r.ID, m.Digest), start(east), done, failed)
	fixed := failed
	fixed.State, fixed.Failure, fixed.UpdatedAt = meta.ReplicationComplete, "", at(4)
	wantErr(t, "PutReplicationStatus(fixed)", s.PutReplicationStatus(t.Context(), fixed), nil)
	checkStatuses(t, statuses(t, s, r.ID, m.Digest), start(east), done, fixed)

	// Statuses go with their manifest; a status for it afterwards is not
	// written.
	wantErr(t, "DeleteManifest", s.DeleteManifest(t.Context(), r.ID, m.Digest, nil), nil)
	if got := statuses(t, s, r.ID, m.Digest); len(got) != 0 {
		t.Errorf("statuses after the manifest was deleted = %+v", got)
	}
	wantErr(t, "PutReplicationStatus(deleted)", s.PutReplicationStatus(t.Context(), fixed), nil)
	if got := statuses(t, s, r.ID, m.Digest); len(got) != 0 {
		t.Errorf("a status was written for a deleted manifest: %+v", got)
	}
	// And with their repository.
	st := meta.ReplicationStatus{RepoID: r.ID, Digest: other.Digest, Destination: west, State: meta.ReplicationComplete, UpdatedAt: at(5)}
	wantErr(t, "PutReplicationStatus(other)", s.PutReplicationStatus(t.Context(), st), nil)
	wantErr(t, "DeleteRepository", s.DeleteRepository(t.Context(), r.ID, true), nil)
	if got := statuses(t, s, r.ID, other.Digest); len(got) != 0 {
		t.Errorf("statuses after the repository was deleted = %+v", got)
	}
}

func statuses(t *testing.T, s meta.Store, repoID int64, digest string) []meta.ReplicationStatus {
	t.Helper()
	got, err := s.ReplicationStatuses(t.Context(), repoID, digest)
	if err != nil {
		t.Fatalf("ReplicationStatuses: %v", err)
	}
	return got
}

func checkStatuses(t *testing.T, got []meta.ReplicationStatus, want ...meta.ReplicationStatus) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("statuses = %+v, want %+v", got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.RepoID != w.RepoID || g.Digest != w.Digest || g.Destination != w.Destination || g.State != w.State || g.Failure != w.Failure {
			t.Errorf("status %d = %+v, want %+v", i, g, w)
		}
		checkTime(t, "UpdatedAt", g.UpdatedAt, w.UpdatedAt)
	}
}
