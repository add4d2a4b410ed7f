package metatest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

func checkBlob(t *testing.T, s meta.Store, repoID int64, want meta.Blob, linked bool) {
	t.Helper()
	got, err := s.GetBlob(t.Context(), repoID, want.Digest)
	switch {
	case !linked:
		wantErr(t, "GetBlob("+want.Digest+")", err, meta.ErrBlobUnknown)
	case err != nil:
		t.Errorf("GetBlob(%s): %v", want.Digest, err)
	case got != want:
		t.Errorf("GetBlob = %+v, want %+v", got, want)
	}
}

func testLinkBlob(t *testing.T, s meta.Store) {
	a := newRepo(t, s, reg1, "a")
	b := newRepo(t, s, reg1, "b")
	other := newRepo(t, s, reg2, "a")
	blob := blobOf("layer bytes")
	empty := blobOf("")

	for _, step := range []struct {
		name   string
		repoID int64
		blob   meta.Blob
	}{
		{"link in a", a.ID, blob},
		{"link in a again", a.ID, blob},
		{"empty blob", a.ID, empty},
		{"link in b", b.ID, blob},
	} {
		wantErr(t, step.name, s.LinkBlob(t.Context(), step.repoID, step.blob), nil)
	}
	checkBlob(t, s, a.ID, blob, true)
	checkBlob(t, s, a.ID, empty, true)
	checkBlob(t, s, b.ID, blob, true)
	checkBlob(t, s, b.ID, empty, false)
	checkBlob(t, s, other.ID, blob, false)
	checkBlob(t, s, a.ID, blobOf("never linked"), false)

	wantErr(t, "LinkBlob(unknown repo)", s.LinkBlob(t.Context(), a.ID+b.ID+other.ID+1000, blob), meta.ErrRepositoryUnknown)
}

func testUnlinkBlob(t *testing.T, s meta.Store) {
	a := newRepo(t, s, reg1, "a")
	b := newRepo(t, s, reg1, "b")
	blobs := link(t, s, a.ID, "one", "two")
	link(t, s, b.ID, "one")

	wantErr(t, "UnlinkBlob(a, one)", s.UnlinkBlob(t.Context(), a.ID, blobs[0].Digest), nil)
	checkBlob(t, s, a.ID, blobs[0], false)
	checkBlob(t, s, a.ID, blobs[1], true)
	checkBlob(t, s, b.ID, blobs[0], true)

	wantErr(t, "UnlinkBlob(a, one) again", s.UnlinkBlob(t.Context(), a.ID, blobs[0].Digest), meta.ErrBlobUnknown)
	wantErr(t, "UnlinkBlob(b, two)", s.UnlinkBlob(t.Context(), b.ID, blobs[1].Digest), meta.ErrBlobUnknown)
	checkBlob(t, s, a.ID, blobs[1], true)

	// The blob is still recorded, so linking it again works as the first time.
	link(t, s, a.ID, "one")
	checkBlob(t, s, a.ID, blobs[0], true)
}

// hashState stands for a marshalled hash: arbitrary bytes, NULs included.
func hashState(n byte) []byte {
	return []byte{'s', 'h', 'a', 0, 0xff, n, 0, '\n', 0x80}
}

func checkUpload(t *testing.T, got, want *meta.Upload) {
	t.Helper()
	if got.ID != want.ID || got.RepoID != want.RepoID || got.Offset != want.Offset || !bytes.Equal(got.HashState, want.HashState) {
		t.Errorf("upload = %+v, want %+v", got, want)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func getUpload(t *testing.T, s meta.Store, repoID int64, id string) *meta.Upload {
	t.Helper()
	u, err := s.GetUpload(t.Context(), repoID, id)
	if err != nil {
		t.Fatalf("GetUpload(%s): %v", id, err)
	}
	return u
}

func testCreateGetUpload(t *testing.T, s meta.Store) {
	a := newRepo(t, s, reg1, "a")
	b := newRepo(t, s, reg1, "b")

	for _, u := range []*meta.Upload{
		{ID: "0b5c6c1e-7a6f-4e0e-9d51-3f7f4c8b9a10", RepoID: a.ID, HashState: hashState(0), CreatedAt: at(1), UpdatedAt: at(1)},
		{ID: "resumed", RepoID: a.ID, Offset: 1 << 33, HashState: hashState(1), CreatedAt: at(1), UpdatedAt: at(2)},
		{ID: "bare", RepoID: b.ID},
	} {
		if err := s.CreateUpload(t.Context(), u); err != nil {
			t.Fatalf("CreateUpload(%s): %v", u.ID, err)
		}
		checkUpload(t, getUpload(t, s, u.RepoID, u.ID), u)
	}

	dup := &meta.Upload{ID: "resumed", RepoID: b.ID}
	if err := s.CreateUpload(t.Context(), dup); err == nil {
		t.Error("CreateUpload with a used ID succeeded")
	}
	if u := getUpload(t, s, a.ID, "resumed"); u.Offset != 1<<33 {
		t.Errorf("CreateUpload with a used ID changed the session: %+v", u)
	}
	unknown := &meta.Upload{ID: "nowhere", RepoID: a.ID + b.ID + 1000}
	wantErr(t, "CreateUpload(unknown repo)", s.CreateUpload(t.Context(), unknown), meta.ErrRepositoryUnknown)

	for _, tc := range []struct {
		repoID int64
		id     string
	}{
		{b.ID, "resumed"}, // another repository's session
		{a.ID, "bare"},
		{a.ID, "missing"},
		{unknown.RepoID, "nowhere"},
	} {
		_, err := s.GetUpload(t.Context(), tc.repoID, tc.id)
		wantErr(t, "GetUpload("+tc.id+")", err, meta.ErrUploadUnknown)
	}
}

func testAdvanceUpload(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "a")
	u := &meta.Upload{ID: "u", RepoID: r.ID, HashState: hashState(0), CreatedAt: at(1), UpdatedAt: at(1)}
	wantErr(t, "CreateUpload", s.CreateUpload(t.Context(), u), nil)

	for _, step := range []struct {
		name    string
		from    int64
		to      int64
		wantErr error
	}{
		{"first chunk", 0, 100, nil},
		{"stale offset", 0, 50, meta.ErrOffsetMismatch},
		{"offset from the future", 200, 300, meta.ErrOffsetMismatch},
		{"second chunk", 100, 5 << 30, nil},
		{"replayed chunk", 100, 5 << 30, meta.ErrOffsetMismatch},
		{"empty chunk", 5 << 30, 5 << 30, nil},
	} {
		before := getUpload(t, s, r.ID, "u")
		next := &meta.Upload{ID: "u", RepoID: r.ID, Offset: step.to, HashState: hashState(byte(step.to)), UpdatedAt: at(int(step.to))}
		err := s.AdvanceUpload(t.Context(), "u", step.from, next)
		wantErr(t, step.name, err, step.wantErr)
		want := before
		if step.wantErr == nil {
			want = &meta.Upload{ID: "u", RepoID: r.ID, Offset: step.to, HashState: next.HashState, CreatedAt: u.CreatedAt, UpdatedAt: next.UpdatedAt}
		}
		checkUpload(t, getUpload(t, s, r.ID, "u"), want)
	}

	wantErr(t, "AdvanceUpload(missing)",
		s.AdvanceUpload(t.Context(), "missing", 0, &meta.Upload{ID: "missing", RepoID: r.ID, Offset: 1}), meta.ErrUploadUnknown)
}

func testCompleteUpload(t *testing.T, s meta.Store) {
	a := newRepo(t, s, reg1, "a")
	b := newRepo(t, s, reg1, "b")
	blob := blobOf("the uploaded bytes")
	for _, id := range []string{"u1", "u2"} {
		wantErr(t, "CreateUpload", s.CreateUpload(t.Context(), &meta.Upload{ID: id, RepoID: a.ID, HashState: hashState(1)}), nil)
	}

	// Completing into the wrong repository changes nothing.
	wantErr(t, "CompleteUpload(wrong repo)", s.CompleteUpload(t.Context(), "u1", b.ID, blob), meta.ErrUploadUnknown)
	getUpload(t, s, a.ID, "u1")
	checkBlob(t, s, a.ID, blob, false)
	checkBlob(t, s, b.ID, blob, false)

	wantErr(t, "CompleteUpload", s.CompleteUpload(t.Context(), "u1", a.ID, blob), nil)
	_, err := s.GetUpload(t.Context(), a.ID, "u1")
	wantErr(t, "GetUpload after complete", err, meta.ErrUploadUnknown)
	checkBlob(t, s, a.ID, blob, true)
	checkBlob(t, s, b.ID, blob, false)

	wantErr(t, "CompleteUpload twice", s.CompleteUpload(t.Context(), "u1", a.ID, blob), meta.ErrUploadUnknown)
	// A second upload of bytes the repository already has.
	wantErr(t, "CompleteUpload(same blob)", s.CompleteUpload(t.Context(), "u2", a.ID, blob), nil)
	checkBlob(t, s, a.ID, blob, true)

	ids, err := s.UploadIDs(t.Context())
	if err != nil || len(ids) != 0 {
		t.Errorf("UploadIDs = %q, %v; want none", ids, err)
	}
}

func testDeleteUpload(t *testing.T, s meta.Store) {
	a := newRepo(t, s, reg1, "a")
	b := newRepo(t, s, reg2, "b")
	ids, err := s.UploadIDs(t.Context())
	if err != nil || len(ids) != 0 {
		t.Fatalf("UploadIDs of an empty store = %q, %v", ids, err)
	}
	want := map[string]int64{"a1": a.ID, "a2": a.ID, "b1": b.ID, "b2": b.ID}
	for id, repoID := range want {
		wantErr(t, "CreateUpload", s.CreateUpload(t.Context(), &meta.Upload{ID: id, RepoID: repoID}), nil)
	}

	checkIDs := func(want ...string) {
		t.Helper()
		ids, err := s.UploadIDs(t.Context())
		if err != nil {
			t.Fatalf("UploadIDs: %v", err)
		}
		slices.Sort(ids)
		if !sameStrings(ids, want) {
			t.Errorf("UploadIDs = %q, want %q", ids, want)
		}
	}
	checkIDs("a1", "a2", "b1", "b2")

	wantErr(t, "DeleteUpload(a2)", s.DeleteUpload(t.Context(), "a2"), nil)
	wantErr(t, "DeleteUpload(b1)", s.DeleteUpload(t.Context(), "b1"), nil)
	checkIDs("a1", "b2")
	_, err = s.GetUpload(t.Context(), a.ID, "a2")
	wantErr(t, "GetUpload(a2)", err, meta.ErrUploadUnknown)
	getUpload(t, s, a.ID, "a1")

	wantErr(t, "DeleteUpload(a2) again", s.DeleteUpload(t.Context(), "a2"), meta.ErrUploadUnknown)
	wantErr(t, "DeleteUpload(missing)", s.DeleteUpload(t.Context(), "missing"), meta.ErrUploadUnknown)
	wantErr(t, "CompleteUpload(deleted)", s.CompleteUpload(t.Context(), "a2", a.ID, blobOf("x")), meta.ErrUploadUnknown)
	checkBlob(t, s, a.ID, blobOf("x"), false)
	wantErr(t, "AdvanceUpload(deleted)", s.AdvanceUpload(t.Context(), "a2", 0, &meta.Upload{ID: "a2", RepoID: a.ID, Offset: 1}), meta.ErrUploadUnknown)
}

func testBlobRepositories(t *testing.T, s meta.Store) {
	a := newRepo(t, s, reg1, "a")
	b := newRepo(t, s, reg1, "b")
	c := newRepo(t, s, reg1, "c")
	other := newRepo(t, s, reg2, "a")
	blobs := link(t, s, b.ID, "shared")
	link(t, s, a.ID, "shared")
	link(t, s, other.ID, "shared")
	link(t, s, c.ID, "elsewhere")
	for _, tc := range []struct {
		name   string
		reg    meta.RegistryKey
		digest string
		limit  int
		want   []string
	}{
		{"all in name order", reg1, blobs[0].Digest, 10, []string{"a", "b"}},
		{"limited", reg1, blobs[0].Digest, 1, []string{"a"}},
		{"other registry", reg2, blobs[0].Digest, 10, []string{"a"}},
		{"unknown digest", reg1, blobOf("nowhere").Digest, 10, nil},
	} {
		got, err := s.BlobRepositories(t.Context(), tc.reg, tc.digest, tc.limit)
		if err != nil {
			t.Errorf("%s: BlobRepositories: %v", tc.name, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: BlobRepositories = %q, want %q", tc.name, got, tc.want)
		}
	}
	wantErr(t, "UnlinkBlob(a)", s.UnlinkBlob(t.Context(), a.ID, blobs[0].Digest), nil)
	got, err := s.BlobRepositories(t.Context(), reg1, blobs[0].Digest, 10)
	if err != nil || !slices.Equal(got, []string{"b"}) {
		t.Errorf("after unlink: BlobRepositories = %q, %v; want [b]", got, err)
	}
}

func testStaleUploads(t *testing.T, s meta.Store) {
	a := newRepo(t, s, reg1, "a")
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, id := range []string{"old", "older", "fresh"} {
		at := base.Add(-time.Duration(2-i) * time.Hour)
		if id == "fresh" {
			at = base.Add(time.Hour)
		}
		wantErr(t, "CreateUpload("+id+")", s.CreateUpload(t.Context(), &meta.Upload{ID: id, RepoID: a.ID, CreatedAt: at, UpdatedAt: at}), nil)
	}
	got, err := s.StaleUploads(t.Context(), base)
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{"old", "older"}) {
		t.Errorf("StaleUploads = %q, %v; want [old older]", got, err)
	}
	// Progress makes a session fresh again.
	u := getUpload(t, s, a.ID, "old")
	next := *u
	next.Offset = 10
	next.UpdatedAt = base.Add(2 * time.Hour)
	wantErr(t, "AdvanceUpload(old)", s.AdvanceUpload(t.Context(), "old", 0, &next), nil)
	got, err = s.StaleUploads(t.Context(), base)
	if err != nil || !slices.Equal(got, []string{"older"}) {
		t.Errorf("after progress: StaleUploads = %q, %v; want [older]", got, err)
	}
}
