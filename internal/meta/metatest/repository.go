package metatest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

func checkRepo(t *testing.T, got, want *meta.Repository) {
	t.Helper()
	if got.ID != want.ID || got.Registry != want.Registry || got.Name != want.Name ||
		got.TagMutability != want.TagMutability || !sameJSON(got.Settings, want.Settings) {
		t.Errorf("repository = %+v (settings %s), want %+v (settings %s)", got, got.Settings, want, want.Settings)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
}

func testCreateGetRepository(t *testing.T, s meta.Store) {
	r := &meta.Repository{
		Registry:      reg1,
		Name:          "team/app",
		CreatedAt:     at(1),
		TagMutability: "IMMUTABLE_WITH_EXCLUSION",
		Settings:      json.RawMessage(`{"scanOnPush": true, "encryption": {"type": "AES256"}, "filters": ["latest", "dev-*"]}`),
	}
	if err := s.CreateRepository(t.Context(), r); err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	if r.ID == 0 {
		t.Fatal("CreateRepository left ID zero")
	}
	got, err := s.GetRepository(t.Context(), reg1, "team/app")
	if err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	checkRepo(t, got, r)

	// Zero time and no settings read back as such.
	bare := &meta.Repository{Registry: reg1, Name: "bare"}
	if err := s.CreateRepository(t.Context(), bare); err != nil {
		t.Fatalf("CreateRepository(bare): %v", err)
	}
	got, err = s.GetRepository(t.Context(), reg1, "bare")
	if err != nil {
		t.Fatalf("GetRepository(bare): %v", err)
	}
	checkRepo(t, got, bare)
	if got.ID == r.ID {
		t.Errorf("two repositories share ID %d", got.ID)
	}

	again := &meta.Repository{Registry: reg1, Name: "team/app", TagMutability: "MUTABLE"}
	wantErr(t, "CreateRepository twice", s.CreateRepository(t.Context(), again), meta.ErrRepositoryExists)
	got, err = s.GetRepository(t.Context(), reg1, "team/app")
	if err != nil {
		t.Fatalf("GetRepository: %v", err)
	}
	checkRepo(t, got, r)

	for _, tc := range []struct {
		reg  meta.RegistryKey
		name string
	}{
		{reg1, "missing"},
		{reg1, "team"},
		{reg1, "TEAM/APP"},
		{reg2, "team/app"},
		{reg3, "team/app"},
	} {
		_, err := s.GetRepository(t.Context(), tc.reg, tc.name)
		if !errors.Is(err, meta.ErrRepositoryUnknown) {
			t.Errorf("GetRepository(%v, %s): error %v, want ErrRepositoryUnknown", tc.reg, tc.name, err)
		}
	}
}

func testRepositoryPerRegistry(t *testing.T, s meta.Store) {
	repos := map[meta.RegistryKey]*meta.Repository{}
	for i, reg := range []meta.RegistryKey{reg1, reg2, reg3} {
		r := &meta.Repository{Registry: reg, Name: "app", CreatedAt: at(i), TagMutability: "MUTABLE"}
		if err := s.CreateRepository(t.Context(), r); err != nil {
			t.Fatalf("CreateRepository(%v): %v", reg, err)
		}
		repos[reg] = r
	}
	ids := map[int64]bool{}
	for reg, want := range repos {
		got, err := s.GetRepository(t.Context(), reg, "app")
		if err != nil {
			t.Fatalf("GetRepository(%v): %v", reg, err)
		}
		checkRepo(t, got, want)
		ids[got.ID] = true
	}
	if len(ids) != len(repos) {
		t.Fatalf("repositories of three registries share IDs: %v", ids)
	}

	// What happens in one repository stays there.
	m := pushImage(t, s, repos[reg1].ID, "one", "latest")
	checkManifestUnknown(t, s, repos[reg2].ID, m.Digest)
	checkTags(t, s, repos[reg2].ID, map[string]string{"latest": ""})
	wantErr(t, "DeleteRepository(reg2 app)", s.DeleteRepository(t.Context(), repos[reg2].ID, false), nil)
	getManifest(t, s, repos[reg1].ID, m.Digest)
}

func testListRepositories(t *testing.T, s meta.Store) {
	// Bytewise order: '-' < '.' < '/' < digits < letters.
	names := []string{"b/c/d", "a/b", "ab", "a.b", "a-b", "b", "a9"}
	for _, n := range names {
		newRepo(t, s, reg1, n)
	}
	newRepo(t, s, reg2, "a-b")
	newRepo(t, s, reg3, "zz")
	sorted := slices.Sorted(slices.Values(names))

	for _, tc := range []struct {
		reg   meta.RegistryKey
		after string
		limit int
		want  []string
	}{
		{reg1, "", 0, sorted},
		{reg1, "", -1, sorted},
		{reg1, "", 100, sorted},
		{reg1, "", 2, []string{"a-b", "a.b"}},
		{reg1, "a.b", 3, []string{"a/b", "a9", "ab"}},
		{reg1, "a", 1, []string{"a-b"}},
		{reg1, "ab", 0, []string{"b", "b/c/d"}},
		{reg1, "b/c/d", 10, nil},
		{reg1, "zzz", 10, nil},
		{reg2, "", 0, []string{"a-b"}},
		{reg3, "", 0, []string{"zz"}},
		{meta.RegistryKey{Account: "333333333333", Region: "eu-west-1"}, "", 0, nil},
	} {
		repos, err := s.ListRepositories(t.Context(), tc.reg, tc.after, tc.limit)
		if err != nil {
			t.Fatalf("ListRepositories(%v, %q, %d): %v", tc.reg, tc.after, tc.limit, err)
		}
		var got []string
		for _, r := range repos {
			if r.Registry != tc.reg || r.ID == 0 {
				t.Errorf("ListRepositories(%v) returned %+v", tc.reg, r)
			}
			got = append(got, r.Name)
		}
		if !sameStrings(got, tc.want) {
			t.Errorf("ListRepositories(%v, %q, %d) = %q, want %q", tc.reg, tc.after, tc.limit, got, tc.want)
		}
	}

	// Paging through with the last name as the cursor visits every one once.
	var got []string
	after := ""
	for range len(names) + 1 {
		page, err := s.ListRepositories(t.Context(), reg1, after, 3)
		if err != nil {
			t.Fatalf("ListRepositories: %v", err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			got = append(got, r.Name)
		}
		after = page[len(page)-1].Name
	}
	if !slices.Equal(got, sorted) {
		t.Errorf("paging gave %q, want %q", got, sorted)
	}

	// The listed repositories are whole.
	all, err := s.ListRepositories(t.Context(), reg1, "", 0)
	if err != nil {
		t.Fatalf("ListRepositories: %v", err)
	}
	for _, r := range all {
		want, err := s.GetRepository(t.Context(), reg1, r.Name)
		if err != nil {
			t.Fatalf("GetRepository(%s): %v", r.Name, err)
		}
		checkRepo(t, r, want)
	}
}

func testUpdateRepository(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")

	steps := []struct {
		mutability string
		settings   json.RawMessage
	}{
		{"IMMUTABLE", json.RawMessage(`{"scanOnPush":true}`)},
		{"MUTABLE_WITH_EXCLUSION", json.RawMessage(`{"scanOnPush":false,"exclusions":[{"filter":"release-*","filterType":"WILDCARD"}]}`)},
		{"MUTABLE", nil},
	}
	for _, step := range steps {
		u := *r
		u.TagMutability, u.Settings = step.mutability, step.settings
		// Only the configuration changes; the rest of u is ignored.
		u.Name, u.CreatedAt = "renamed", at(99)
		if err := s.UpdateRepository(t.Context(), &u); err != nil {
			t.Fatalf("UpdateRepository(%s): %v", step.mutability, err)
		}
		got, err := s.GetRepository(t.Context(), reg1, "app")
		if err != nil {
			t.Fatalf("GetRepository: %v", err)
		}
		want := *r
		want.TagMutability, want.Settings = step.mutability, step.settings
		checkRepo(t, got, &want)
	}

	got, err := s.GetRepository(t.Context(), reg1, "other")
	if err != nil {
		t.Fatalf("GetRepository(other): %v", err)
	}
	checkRepo(t, got, other)

	missing := *r
	missing.ID = r.ID + other.ID + 1000
	wantErr(t, "UpdateRepository(missing)", s.UpdateRepository(t.Context(), &missing), meta.ErrRepositoryUnknown)
}

func testDeleteRepository(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")

	// Blob links and uploads do not make a repository "not empty".
	link(t, s, r.ID, "a blob")
	up := &meta.Upload{ID: "upload-1", RepoID: r.ID, CreatedAt: at(0), UpdatedAt: at(0)}
	wantErr(t, "CreateUpload", s.CreateUpload(t.Context(), up), nil)
	m := pushImage(t, s, r.ID, "img", "latest")

	wantErr(t, "DeleteRepository with a manifest", s.DeleteRepository(t.Context(), r.ID, false), meta.ErrRepositoryNotEmpty)
	getManifest(t, s, r.ID, m.Digest)
	checkTags(t, s, r.ID, map[string]string{"latest": m.Digest})

	wantErr(t, "DeleteManifest", s.DeleteManifest(t.Context(), r.ID, m.Digest, nil), nil)
	wantErr(t, "DeleteRepository once empty", s.DeleteRepository(t.Context(), r.ID, false), nil)
	_, err := s.GetRepository(t.Context(), reg1, "app")
	wantErr(t, "GetRepository after delete", err, meta.ErrRepositoryUnknown)
	_, err = s.GetUpload(t.Context(), r.ID, up.ID)
	wantErr(t, "GetUpload after delete", err, meta.ErrUploadUnknown)

	for _, force := range []bool{false, true} {
		wantErr(t, "DeleteRepository(deleted)", s.DeleteRepository(t.Context(), r.ID, force), meta.ErrRepositoryUnknown)
	}

	// A new repository of the same name is new: empty, with another ID.
	r2 := newRepo(t, s, reg1, "app")
	if r2.ID == r.ID {
		t.Errorf("recreated repository reuses ID %d", r.ID)
	}
	_, err = s.GetBlob(t.Context(), r2.ID, blobOf("a blob").Digest)
	wantErr(t, "GetBlob in recreated repository", err, meta.ErrBlobUnknown)
	checkTags(t, s, r2.ID, map[string]string{"latest": ""})
	_, err = s.GetBlob(t.Context(), r.ID, blobOf("a blob").Digest)
	wantErr(t, "GetBlob in deleted repository", err, meta.ErrBlobUnknown)

	// Writes into a deleted repository do not resurrect it.
	wantErr(t, "LinkBlob(deleted)", s.LinkBlob(t.Context(), r.ID, blobOf("x")), meta.ErrRepositoryUnknown)
	wantErr(t, "CreateUpload(deleted)", s.CreateUpload(t.Context(), &meta.Upload{ID: "upload-2", RepoID: r.ID}), meta.ErrRepositoryUnknown)
	wantErr(t, "PutManifest(deleted)", s.PutManifest(t.Context(), &meta.PutManifest{RepoID: r.ID, Manifest: image("x"), Tags: tags("x")}), meta.ErrRepositoryUnknown)
}

func testDeleteRepositoryForce(t *testing.T, s meta.Store) {
	doomed := newRepo(t, s, reg1, "doomed")
	kept := newRepo(t, s, reg1, "kept")

	// The same blobs and manifests in both repositories.
	var images []meta.Manifest
	for _, r := range []*meta.Repository{doomed, kept} {
		images = []meta.Manifest{pushImage(t, s, r.ID, "a", "a", "latest"), pushImage(t, s, r.ID, "b", "b")}
		idx := index("idx", images...)
		put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: idx, Refs: manifestRefs(images...), Tags: tags("multi")})
		images = append(images, idx)
		sig := referrer("sig", atSig, images[0].Digest)
		put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: sig})
		images = append(images, sig)
		link(t, s, r.ID, "loose blob")
		wantErr(t, "CreateUpload", s.CreateUpload(t.Context(), &meta.Upload{ID: "up-" + r.Name, RepoID: r.ID}), nil)
	}

	wantErr(t, "DeleteRepository(force)", s.DeleteRepository(t.Context(), doomed.ID, true), nil)

	_, err := s.GetRepository(t.Context(), reg1, "doomed")
	wantErr(t, "GetRepository(doomed)", err, meta.ErrRepositoryUnknown)
	for _, m := range images {
		checkManifestUnknown(t, s, doomed.ID, m.Digest)
		getManifest(t, s, kept.ID, m.Digest)
	}
	checkTags(t, s, doomed.ID, map[string]string{"a": "", "latest": "", "b": "", "multi": ""})
	checkTags(t, s, kept.ID, map[string]string{"a": images[0].Digest, "latest": images[0].Digest, "b": images[1].Digest, "multi": images[2].Digest})
	if got, err := s.ListTags(t.Context(), doomed.ID, "", 0); err != nil || len(got) != 0 {
		t.Errorf("ListTags(doomed) = %q, %v; want none", got, err)
	}
	if got, err := s.ListReferrers(t.Context(), doomed.ID, images[0].Digest, ""); err != nil || len(got) != 0 {
		t.Errorf("ListReferrers(doomed) = %v, %v; want none", got, err)
	}
	if got, err := s.ListReferrers(t.Context(), kept.ID, images[0].Digest, ""); err != nil || len(got) != 1 {
		t.Errorf("ListReferrers(kept) = %v, %v; want the signature", got, err)
	}
	for _, c := range []string{"config a", "layer a", "loose blob"} {
		_, err := s.GetBlob(t.Context(), doomed.ID, blobOf(c).Digest)
		wantErr(t, "GetBlob(doomed, "+c+")", err, meta.ErrBlobUnknown)
		if _, err := s.GetBlob(t.Context(), kept.ID, blobOf(c).Digest); err != nil {
			t.Errorf("GetBlob(kept, %s): %v", c, err)
		}
	}
	_, err = s.GetUpload(t.Context(), doomed.ID, "up-doomed")
	wantErr(t, "GetUpload(doomed)", err, meta.ErrUploadUnknown)
	if _, err := s.GetUpload(t.Context(), kept.ID, "up-kept"); err != nil {
		t.Errorf("GetUpload(kept): %v", err)
	}
	ids, err := s.UploadIDs(t.Context())
	if err != nil || !sameStrings(ids, []string{"up-kept"}) {
		t.Errorf("UploadIDs = %q, %v; want [up-kept]", ids, err)
	}
}

// testPing: a store that is open answers Ping.
func testPing(t *testing.T, s meta.Store) {
	wantErr(t, "Ping", s.Ping(t.Context()), nil)
}
