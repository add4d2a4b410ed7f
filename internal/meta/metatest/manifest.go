package metatest

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

func checkManifest(t *testing.T, got *meta.Manifest, want meta.Manifest, wantTags ...string) {
	t.Helper()
	if got.Digest != want.Digest || got.MediaType != want.MediaType || got.ArtifactType != want.ArtifactType ||
		got.Subject != want.Subject || got.ImageSize != want.ImageSize {
		t.Errorf("manifest = %+v, want %+v", got, want)
	}
	if !bytes.Equal(got.Content, want.Content) {
		t.Errorf("manifest %s content = %q, want %q", want.Digest, got.Content, want.Content)
	}
	if !sameMap(got.Annotations, want.Annotations) {
		t.Errorf("manifest %s annotations = %v, want %v", want.Digest, got.Annotations, want.Annotations)
	}
	if !sameStrings(got.Tags, wantTags) {
		t.Errorf("manifest %s tags = %q, want %q", want.Digest, got.Tags, wantTags)
	}
	checkTime(t, "PushedAt", got.PushedAt, want.PushedAt)
	checkTime(t, "LastPulledAt", got.LastPulledAt, want.LastPulledAt)
}

func testPutGetManifest(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")
	bs := link(t, s, r.ID, "config", "layer 1", "layer 2")

	full := image("full", bs...)
	full.ArtifactType = "application/vnd.example.thing.v1+json"
	full.Subject = digestOf([]byte("a subject the repository does not hold"))
	full.Annotations = map[string]string{"org.opencontainers.image.title": "full", "empty": "", "unicode": "ünïcode ✓"}
	full.ImageSize = int64(len(full.Content)) + 6 + 7 + 7
	full.PushedAt = at(5)
	full.Tags = []string{"ignored: tags come from PutManifest.Tags"}
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: full, Refs: blobRefs(bs...), Tags: tags("v1", "latest", "1.0", "Zeta")})

	pulled := image("pulled", bs[0])
	pulled.LastPulledAt = at(10)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: pulled, Refs: blobRefs(bs[0])})

	// A manifest whose bytes are not JSON at all is stored as well: the store
	// keeps bytes, the domain judges them.
	odd := meta.Manifest{Digest: digestOf([]byte{0, 1, 2, 0xff}), MediaType: "application/octet-stream", Content: []byte{0, 1, 2, 0xff}, ImageSize: 4}
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: odd})

	for _, tc := range []struct {
		m    meta.Manifest
		tags []string
	}{
		{full, []string{"1.0", "Zeta", "latest", "v1"}},
		{pulled, nil},
		{odd, nil},
	} {
		checkManifest(t, getManifest(t, s, r.ID, tc.m.Digest), tc.m, tc.tags...)
	}
	checkTags(t, s, r.ID, map[string]string{"v1": full.Digest, "latest": full.Digest, "1.0": full.Digest, "Zeta": full.Digest, "zeta": "", "missing": ""})

	checkManifestUnknown(t, s, r.ID, digestOf([]byte("missing")))
	checkManifestUnknown(t, s, other.ID, full.Digest)
	checkTags(t, s, other.ID, map[string]string{"latest": ""})

	// The same manifest in another repository is another, independent row.
	link(t, s, other.ID, "config", "layer 1", "layer 2")
	again := full
	again.PushedAt, again.Annotations = at(20), nil
	put(t, s, &meta.PutManifest{RepoID: other.ID, Manifest: again, Refs: blobRefs(bs...), Tags: tags("prod")})
	checkManifest(t, getManifest(t, s, other.ID, full.Digest), again, "prod")
	checkManifest(t, getManifest(t, s, r.ID, full.Digest), full, "1.0", "Zeta", "latest", "v1")
}

func testPutManifestMissingRefs(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")
	bs := link(t, s, r.ID, "config", "layer")
	child := pushImage(t, s, r.ID, "child")
	elsewhere := link(t, s, other.ID, "only in other")
	otherChild := pushImage(t, s, other.ID, "other child")
	previous := pushImage(t, s, r.ID, "previous", "latest")
	missingBlob := blobOf("never uploaded")

	for _, tc := range []struct {
		name    string
		refs    []meta.Ref
		missing meta.Ref
	}{
		{"missing blob", blobRefs(bs[0], missingBlob, bs[1]), meta.Ref{Digest: missingBlob.Digest, Kind: meta.RefBlob}},
		{"blob of another repository", blobRefs(bs[0], elsewhere[0]), meta.Ref{Digest: elsewhere[0].Digest, Kind: meta.RefBlob}},
		{"unlinked blob", blobRefs(bs[0], blobOf("unlinked")), meta.Ref{Digest: blobOf("unlinked").Digest, Kind: meta.RefBlob}},
		{"missing manifest", manifestRefs(child, image("never pushed")), meta.Ref{Digest: image("never pushed").Digest, Kind: meta.RefManifest}},
		{"manifest of another repository", manifestRefs(otherChild), meta.Ref{Digest: otherChild.Digest, Kind: meta.RefManifest}},
		// Kinds do not mix: a blob is no manifest, a manifest no blob.
		{"blob named as manifest", []meta.Ref{{Digest: bs[0].Digest, Kind: meta.RefManifest}}, meta.Ref{Digest: bs[0].Digest, Kind: meta.RefManifest}},
		{"manifest named as blob", []meta.Ref{{Digest: child.Digest, Kind: meta.RefBlob}}, meta.Ref{Digest: child.Digest, Kind: meta.RefBlob}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "unlinked blob" {
				link(t, s, r.ID, "unlinked")
				wantErr(t, "UnlinkBlob", s.UnlinkBlob(t.Context(), r.ID, blobOf("unlinked").Digest), nil)
			}
			m := image("new " + tc.name)
			err := s.PutManifest(t.Context(), &meta.PutManifest{RepoID: r.ID, Manifest: m, Refs: tc.refs, Tags: tags("latest", "fresh")})
			sentinel := meta.ErrBlobUnknown
			if tc.missing.Kind == meta.RefManifest {
				sentinel = meta.ErrManifestUnknown
			}
			wantErr(t, "PutManifest", err, sentinel)
			var missing *meta.MissingRefError
			if !errors.As(err, &missing) {
				t.Fatalf("PutManifest: error %v is no *MissingRefError", err)
			}
			if missing.Ref != tc.missing {
				t.Errorf("MissingRefError.Ref = %+v, want %+v", missing.Ref, tc.missing)
			}

			// Nothing was written.
			checkManifestUnknown(t, s, r.ID, m.Digest)
			checkTags(t, s, r.ID, map[string]string{"latest": previous.Digest, "fresh": ""})
			if refs, err := s.ListReferrers(t.Context(), r.ID, child.Digest, ""); err != nil || len(refs) != 0 {
				t.Errorf("ListReferrers = %v, %v; want none", refs, err)
			}
			// Nor a ref: deleting child would fail if the push had recorded one.
			wantErr(t, "DeleteManifest(child)", s.DeleteManifest(t.Context(), r.ID, child.Digest, nil), nil)
			put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: child, Refs: blobRefs(link(t, s, r.ID, "config child", "layer child")...)})
		})
	}

	// With every reference in place the same push works.
	idx := index("complete", child)
	refs := append(manifestRefs(child), blobRefs(bs...)...)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: idx, Refs: refs, Tags: tags("latest")})
	checkTags(t, s, r.ID, map[string]string{"latest": idx.Digest})

	unknown := &meta.PutManifest{RepoID: r.ID + other.ID + 1000, Manifest: image("lost"), Tags: tags("latest")}
	wantErr(t, "PutManifest(unknown repo)", s.PutManifest(t.Context(), unknown), meta.ErrRepositoryUnknown)
}

func testPutManifestIdempotent(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	bs := link(t, s, r.ID, "config", "layer")
	m := image("img", bs...)
	m.PushedAt = at(1)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: m, Refs: blobRefs(bs...), Tags: tags("a")})

	// A second push of the same bytes, later, with another tag.
	later := m
	later.PushedAt = at(100)
	for _, tc := range []struct {
		tags []meta.TagWrite
		want []string
	}{
		{tags("b"), []string{"a", "b"}},
		{nil, []string{"a", "b"}},
		{[]meta.TagWrite{{Name: "a", Immutable: true}, {Name: "c", Immutable: true}}, []string{"a", "b", "c"}},
	} {
		put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: later, Refs: blobRefs(bs...), Tags: tc.tags})
		checkManifest(t, getManifest(t, s, r.ID, m.Digest), m, tc.want...)
	}
}

func testDeleteManifest(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")
	m := pushImage(t, s, r.ID, "doomed", "a", "b")
	kept := pushImage(t, s, r.ID, "kept", "c")
	pushImage(t, s, other.ID, "doomed", "a")

	wantErr(t, "DeleteManifest", s.DeleteManifest(t.Context(), r.ID, m.Digest, nil), nil)
	checkManifestUnknown(t, s, r.ID, m.Digest)
	checkTags(t, s, r.ID, map[string]string{"a": "", "b": "", "c": kept.Digest})
	if got, err := s.ListTags(t.Context(), r.ID, "", 0); err != nil || !sameStrings(got, []string{"c"}) {
		t.Errorf("ListTags = %q, %v; want [c]", got, err)
	}
	// The blobs stay linked; only garbage collection removes them.
	checkBlob(t, s, r.ID, blobOf("layer doomed"), true)
	// The same manifest in another repository stays.
	checkManifest(t, getManifest(t, s, other.ID, m.Digest), m, "a")

	wantErr(t, "DeleteManifest again", s.DeleteManifest(t.Context(), r.ID, m.Digest, nil), meta.ErrManifestUnknown)
	wantErr(t, "DeleteManifest(never pushed)", s.DeleteManifest(t.Context(), r.ID, digestOf([]byte("x")), nil), meta.ErrManifestUnknown)

	// Pushed again after deletion, it is new.
	again := m
	again.PushedAt = at(50)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: again, Refs: blobRefs(blobOf("config doomed"), blobOf("layer doomed"))})
	checkManifest(t, getManifest(t, s, r.ID, m.Digest), again)
}

func testDeleteReferencedManifest(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")
	amd64 := pushImage(t, s, r.ID, "amd64")
	arm64 := pushImage(t, s, r.ID, "arm64")
	idx1 := index("idx1", amd64, arm64)
	idx2 := index("idx2", amd64)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: idx1, Refs: manifestRefs(amd64, arm64), Tags: tags("latest")})
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: idx2, Refs: manifestRefs(amd64)})
	// An index of indexes.
	top := index("top", idx2)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: top, Refs: manifestRefs(idx2)})
	// The subject of a referrer is not held by it.
	sig := referrer("sig", atSig, arm64.Digest)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: sig})
	// In the other repository nothing lists amd64.
	pushImage(t, s, other.ID, "amd64")
	// A manifest's bytes pushed as a blob too, and used as a layer: an image
	// using a blob is no index listing a manifest.
	lone := pushImage(t, s, r.ID, "lone")
	asBlob := meta.Blob{Digest: lone.Digest, Size: int64(len(lone.Content))}
	wantErr(t, "LinkBlob(lone)", s.LinkBlob(t.Context(), r.ID, asBlob), nil)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: image("uses lone", asBlob), Refs: blobRefs(asBlob)})
	wantErr(t, "DeleteManifest(lone)", s.DeleteManifest(t.Context(), r.ID, lone.Digest, nil), nil)

	referenced := func(digest string, by ...string) {
		t.Helper()
		err := s.DeleteManifest(t.Context(), r.ID, digest, nil)
		wantErr(t, "DeleteManifest", err, meta.ErrManifestReferenced)
		var ref *meta.ReferencedError
		if !errors.As(err, &ref) {
			t.Fatalf("DeleteManifest: error %v is no *ReferencedError", err)
		}
		if !slices.Contains(by, ref.By) {
			t.Errorf("ReferencedError.By = %s, want one of %q", ref.By, by)
		}
		getManifest(t, s, r.ID, digest)
	}

	referenced(amd64.Digest, idx1.Digest, idx2.Digest)
	referenced(arm64.Digest, idx1.Digest)
	referenced(idx2.Digest, top.Digest)
	wantErr(t, "DeleteManifest(amd64 in other)", s.DeleteManifest(t.Context(), other.ID, amd64.Digest, nil), nil)

	wantErr(t, "DeleteManifest(idx1)", s.DeleteManifest(t.Context(), r.ID, idx1.Digest, nil), nil)
	checkTags(t, s, r.ID, map[string]string{"latest": ""})
	wantErr(t, "DeleteManifest(arm64)", s.DeleteManifest(t.Context(), r.ID, arm64.Digest, nil), nil)
	referenced(amd64.Digest, idx2.Digest)
	wantErr(t, "DeleteManifest(top)", s.DeleteManifest(t.Context(), r.ID, top.Digest, nil), nil)
	wantErr(t, "DeleteManifest(idx2)", s.DeleteManifest(t.Context(), r.ID, idx2.Digest, nil), nil)
	wantErr(t, "DeleteManifest(amd64)", s.DeleteManifest(t.Context(), r.ID, amd64.Digest, nil), nil)

	// The referrer outlives its subject.
	refs, err := s.ListReferrers(t.Context(), r.ID, arm64.Digest, "")
	if err != nil || len(refs) != 1 || refs[0].Digest != sig.Digest {
		t.Errorf("ListReferrers of a deleted subject = %v, %v; want the signature", refs, err)
	}
}

func testTagWrites(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	m1 := pushImage(t, s, r.ID, "m1")
	m2 := pushImage(t, s, r.ID, "m2")
	bs := link(t, s, r.ID, "config m3", "layer m3")
	m3 := image("m3", bs...) // not yet stored
	mutable := func(name string) meta.TagWrite { return meta.TagWrite{Name: name} }
	immutable := func(name string) meta.TagWrite { return meta.TagWrite{Name: name, Immutable: true} }

	// Each step pushes a manifest with tags; want is every tag afterwards
	// ("" for none), manifests which manifests exist.
	for _, step := range []struct {
		name      string
		m         meta.Manifest
		tags      []meta.TagWrite
		wantErr   error
		want      map[string]string
		manifests []meta.Manifest
	}{
		{"tag m1", m1, []meta.TagWrite{mutable("latest"), mutable("v1")}, nil,
			map[string]string{"latest": m1.Digest, "v1": m1.Digest}, nil},
		{"move latest to m2", m2, []meta.TagWrite{mutable("latest")}, nil,
			map[string]string{"latest": m2.Digest, "v1": m1.Digest}, nil},
		{"immutable latest to m1", m1, []meta.TagWrite{mutable("v1.0"), immutable("latest")}, meta.ErrTagImmutable,
			map[string]string{"latest": m2.Digest, "v1": m1.Digest, "v1.0": ""}, nil},
		{"immutable latest with a new manifest", m3, []meta.TagWrite{mutable("v3"), immutable("latest"), mutable("edge")}, meta.ErrTagImmutable,
			map[string]string{"latest": m2.Digest, "v3": "", "edge": ""}, nil},
		{"immutable latest to where it is", m2, []meta.TagWrite{immutable("latest"), immutable("v2")}, nil,
			map[string]string{"latest": m2.Digest, "v2": m2.Digest}, nil},
		{"immutable v2 elsewhere", m1, []meta.TagWrite{immutable("v2")}, meta.ErrTagImmutable,
			map[string]string{"v2": m2.Digest}, nil},
		{"mutable write moves any tag", m1, []meta.TagWrite{mutable("v2")}, nil,
			map[string]string{"v2": m1.Digest, "latest": m2.Digest}, nil},
		{"new manifest, new immutable tag", m3, []meta.TagWrite{immutable("v3"), mutable("latest")}, nil,
			map[string]string{"v3": m3.Digest, "latest": m3.Digest, "v2": m1.Digest, "v1": m1.Digest}, []meta.Manifest{m3}},
		{"same tag twice in one push", m2, []meta.TagWrite{mutable("dup"), mutable("dup")}, nil,
			map[string]string{"dup": m2.Digest}, nil},
	} {
		// m1 and m2 are stored already; tagging them needs no refs.
		var refs []meta.Ref
		if step.m.Digest == m3.Digest {
			refs = blobRefs(bs...)
		}
		err := s.PutManifest(t.Context(), &meta.PutManifest{RepoID: r.ID, Manifest: step.m, Refs: refs, Tags: step.tags})
		wantErr(t, step.name, err, step.wantErr)
		checkTags(t, s, r.ID, step.want)
		for _, m := range step.manifests {
			getManifest(t, s, r.ID, m.Digest)
		}
		if step.m.Digest == m3.Digest && step.wantErr != nil {
			checkManifestUnknown(t, s, r.ID, m3.Digest)
		}
	}

	checkManifest(t, getManifest(t, s, r.ID, m1.Digest), m1, "v1", "v2")
	checkManifest(t, getManifest(t, s, r.ID, m2.Digest), m2, "dup")
	checkManifest(t, getManifest(t, s, r.ID, m3.Digest), m3, "latest", "v3")
}

// tagNames sort differently bytewise than in most locales.
var tagNames = []string{"v1_0", "v1.0", "v1-0", "latest", "Latest", "_x", "2", "10", "1.0-rc", "1.0", "a", "B"}

func testListTags(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")
	m1 := pushImage(t, s, r.ID, "m1", tagNames[:6]...)
	pushImage(t, s, r.ID, "m2", tagNames[6:]...)
	pushImage(t, s, other.ID, "m1", "zz-other", "0-other")
	sorted := slices.Sorted(slices.Values(tagNames))
	// 1.0 1.0-rc 10 2 B Latest _x a latest v1-0 v1.0 v1_0

	for _, tc := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 0, sorted},
		{"", -5, sorted},
		{"", 1000, sorted},
		{"", 3, []string{"1.0", "1.0-rc", "10"}},
		{"10", 3, []string{"2", "B", "Latest"}},
		{"Latest", 2, []string{"_x", "a"}},
		{"a", 0, []string{"latest", "v1-0", "v1.0", "v1_0"}},
		{"b", 2, []string{"latest", "v1-0"}},
		{"v1_0", 5, nil},
		{"~", 5, nil},
	} {
		got, err := s.ListTags(t.Context(), r.ID, tc.after, tc.limit)
		if err != nil {
			t.Fatalf("ListTags(%q, %d): %v", tc.after, tc.limit, err)
		}
		if !sameStrings(got, tc.want) {
			t.Errorf("ListTags(%q, %d) = %q, want %q", tc.after, tc.limit, got, tc.want)
		}
	}

	checkManifest(t, getManifest(t, s, r.ID, m1.Digest), m1, slices.Sorted(slices.Values(tagNames[:6]))...)

	if got, err := s.ListTags(t.Context(), newRepo(t, s, reg1, "empty").ID, "", 0); err != nil || len(got) != 0 {
		t.Errorf("ListTags(empty repository) = %q, %v", got, err)
	}
}

func testDeleteTag(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")
	m := pushImage(t, s, r.ID, "m", "a", "b")
	pushImage(t, s, other.ID, "m", "a")

	wantErr(t, "DeleteTag(a)", s.DeleteTag(t.Context(), r.ID, "a", nil), nil)
	checkTags(t, s, r.ID, map[string]string{"a": "", "b": m.Digest})
	checkTags(t, s, other.ID, map[string]string{"a": m.Digest})
	checkManifest(t, getManifest(t, s, r.ID, m.Digest), m, "b")

	wantErr(t, "DeleteTag(a) again", s.DeleteTag(t.Context(), r.ID, "a", nil), meta.ErrTagUnknown)
	wantErr(t, "DeleteTag(b) in other", s.DeleteTag(t.Context(), other.ID, "b", nil), meta.ErrTagUnknown)
	wantErr(t, "DeleteTag(b)", s.DeleteTag(t.Context(), r.ID, "b", nil), nil)
	// The untagged manifest stays.
	checkManifest(t, getManifest(t, s, r.ID, m.Digest), m)
	_, err := s.ResolveTag(t.Context(), r.ID, "b")
	wantErr(t, "ResolveTag(b)", err, meta.ErrTagUnknown)
	_, err = s.GetTaggedManifest(t.Context(), r.ID, "b")
	wantErr(t, "GetTaggedManifest(b)", err, meta.ErrTagUnknown)
	// The pull path's one-lookup read agrees with GetManifest, less the tags.
	got, err := s.GetTaggedManifest(t.Context(), other.ID, "a")
	wantErr(t, "GetTaggedManifest(other, a)", err, nil)
	if err == nil {
		checkManifest(t, got, m)
	}
}

func testListReferrers(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")
	subject := pushImage(t, s, r.ID, "subject", "latest")
	absent := digestOf([]byte("a subject pushed later, or never"))

	sbom1 := referrer("sbom1", atSBOM, subject.Digest)
	sbom2 := referrer("sbom2", atSBOM, subject.Digest)
	sbom2.Annotations = nil
	sig := referrer("sig", atSig, subject.Digest)
	sig.MediaType = "application/vnd.oci.artifact.manifest.v1+json"
	untyped := referrer("untyped", "", subject.Digest)
	dangling := referrer("dangling", atSig, absent)
	// A signature of the signature.
	sigsig := referrer("sigsig", atSig, sig.Digest)
	for _, m := range []meta.Manifest{sbom1, sbom2, sig, untyped, dangling, sigsig} {
		put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: m})
	}
	put(t, s, &meta.PutManifest{RepoID: other.ID, Manifest: referrer("elsewhere", atSBOM, subject.Digest)})

	for _, tc := range []struct {
		name         string
		repoID       int64
		subject      string
		artifactType string
		want         []meta.Manifest
	}{
		{"all", r.ID, subject.Digest, "", []meta.Manifest{sbom1, sbom2, sig, untyped}},
		{"sboms", r.ID, subject.Digest, atSBOM, []meta.Manifest{sbom1, sbom2}},
		{"signatures", r.ID, subject.Digest, atSig, []meta.Manifest{sig}},
		{"unknown type", r.ID, subject.Digest, "application/vnd.example.none", nil},
		{"dangling", r.ID, absent, "", []meta.Manifest{dangling}},
		{"of a referrer", r.ID, sig.Digest, "", []meta.Manifest{sigsig}},
		{"without referrers", r.ID, sbom1.Digest, "", nil},
		{"other repository", other.ID, subject.Digest, atSig, nil},
	} {
		got, err := s.ListReferrers(t.Context(), tc.repoID, tc.subject, tc.artifactType)
		if err != nil {
			t.Fatalf("ListReferrers(%s): %v", tc.name, err)
		}
		slices.SortFunc(got, func(a, b meta.Referrer) int { return strings.Compare(a.Digest, b.Digest) })
		want := make([]meta.Referrer, 0, len(tc.want))
		for _, m := range tc.want {
			want = append(want, meta.Referrer{Digest: m.Digest, MediaType: m.MediaType, ArtifactType: m.ArtifactType, Size: int64(len(m.Content)), Annotations: m.Annotations})
		}
		slices.SortFunc(want, func(a, b meta.Referrer) int { return strings.Compare(a.Digest, b.Digest) })
		if !sameReferrers(got, want) {
			t.Errorf("ListReferrers(%s) = %+v, want %+v", tc.name, got, want)
		}
	}

	wantErr(t, "DeleteManifest(sbom1)", s.DeleteManifest(t.Context(), r.ID, sbom1.Digest, nil), nil)
	got, err := s.ListReferrers(t.Context(), r.ID, subject.Digest, atSBOM)
	if err != nil || len(got) != 1 || got[0].Digest != sbom2.Digest {
		t.Errorf("ListReferrers after deleting sbom1 = %+v, %v; want sbom2", got, err)
	}
}

func sameReferrers(a, b []meta.Referrer) bool {
	return slices.EqualFunc(a, b, func(x, y meta.Referrer) bool {
		return x.Digest == y.Digest && x.MediaType == y.MediaType && x.ArtifactType == y.ArtifactType &&
			x.Size == y.Size && sameMap(x.Annotations, y.Annotations)
	})
}

// testPutManifestRepositoryChanged: a push decided on a reading of the
// repository that is no longer current (its mutability changed meanwhile,
// on another node) is refused whole, and goes through once decided on a
// fresh reading.
func testPutManifestRepositoryChanged(t *testing.T, s meta.Store) {
	ctx := t.Context()
	r := newRepo(t, s, reg1, "app")
	read, err := s.GetRepository(ctx, reg1, "app")
	wantErr(t, "GetRepository", err, nil)

	changed := *read
	changed.TagMutability = "IMMUTABLE"
	changed.Settings = []byte(`{"changed":true}`)
	wantErr(t, "UpdateRepository", s.UpdateRepository(ctx, &changed), nil)

	bs := link(t, s, r.ID, "config", "layer")
	m := image("decided on a stale reading", bs...)
	push := &meta.PutManifest{RepoID: r.ID, Repository: read, Manifest: m, Refs: blobRefs(bs...), Tags: tags("latest"),
		Jobs: []meta.NewJob{{Queue: "stale", Payload: []byte("x")}}}
	wantErr(t, "PutManifest on a stale reading", s.PutManifest(ctx, push), meta.ErrRepositoryChanged)
	if _, err := s.GetManifest(ctx, r.ID, m.Digest); !errors.Is(err, meta.ErrManifestUnknown) {
		t.Errorf("the refused push stored its manifest: %v", err)
	}
	if _, err := s.ResolveTag(ctx, r.ID, "latest"); !errors.Is(err, meta.ErrTagUnknown) {
		t.Errorf("the refused push wrote its tag: %v", err)
	}
	if js := listJobs(t, s, meta.JobQuery{Queue: "stale"}); len(js) != 0 {
		t.Errorf("the refused push wrote its jobs: %+v", js)
	}

	fresh, err := s.GetRepository(ctx, reg1, "app")
	wantErr(t, "GetRepository again", err, nil)
	push.Repository = fresh
	wantErr(t, "PutManifest on a fresh reading", s.PutManifest(ctx, push), nil)
	if got, err := s.ResolveTag(ctx, r.ID, "latest"); err != nil || got != m.Digest {
		t.Errorf("latest = %s, %v; want %s", got, err, m.Digest)
	}

	wantErr(t, "DeleteRepository", s.DeleteRepository(ctx, r.ID, true), nil)
	push.Manifest = image("after the repository went", bs...)
	wantErr(t, "PutManifest into a deleted repository", s.PutManifest(ctx, push), meta.ErrRepositoryUnknown)
}
