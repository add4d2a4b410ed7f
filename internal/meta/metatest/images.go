package metatest

import (
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/meta"
)

func listImages(t *testing.T, s meta.Store, repoID int64, q meta.ImageQuery) []*meta.Manifest {
	t.Helper()
	ms, err := s.ListImages(t.Context(), repoID, q)
	if err != nil {
		t.Fatalf("ListImages(%+v): %v", q, err)
	}
	return ms
}

func digestsOf(ms []*meta.Manifest) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Digest)
	}
	return out
}

func sortedDigests(ms ...meta.Manifest) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Digest)
	}
	sort.Strings(out)
	return out
}

func testListImages(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")
	bs := link(t, s, r.ID, "config", "layer")

	tagged := image("tagged", bs...)
	tagged.ArtifactType = "application/vnd.example.thing.v1+json"
	tagged.Subject = digestOf([]byte("a subject"))
	tagged.ImageSize = 1234
	tagged.PushedAt = at(3)
	tagged.LastPulledAt = at(9)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: tagged, Refs: blobRefs(bs...), Tags: tags("v2", "latest", "v1")})
	untagged := image("untagged", bs[0])
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: untagged, Refs: blobRefs(bs[0])})
	child := image("child", bs[1])
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: child, Refs: blobRefs(bs[1]), Tags: tags("child")})
	idx := index("index", child)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: idx, Refs: manifestRefs(child)})
	pushImage(t, s, other.ID, "elsewhere", "latest")

	all := listImages(t, s, r.ID, meta.ImageQuery{})
	if got, want := digestsOf(all), sortedDigests(tagged, untagged, child, idx); !slices.Equal(got, want) {
		t.Fatalf("ListImages(all) = %q, want %q", got, want)
	}
	for _, m := range all {
		if len(m.Content) != 0 {
			t.Errorf("ListImages returned the Content of %s", m.Digest)
		}
		switch m.Digest {
		case tagged.Digest:
			want := tagged
			want.Content = m.Content
			checkManifest(t, m, want, "latest", "v1", "v2")
		case untagged.Digest:
			want := untagged
			want.Content = m.Content
			checkManifest(t, m, want)
		case idx.Digest:
			if m.MediaType != mtIndex {
				t.Errorf("index media type = %q, want %q", m.MediaType, mtIndex)
			}
		}
	}
	if got := digestsOf(listImages(t, s, r.ID, meta.ImageQuery{TagStatus: meta.TagStatusAny})); !slices.Equal(got, digestsOf(all)) {
		t.Errorf("ListImages(ANY) = %q, want %q", got, digestsOf(all))
	}
	if got, want := digestsOf(listImages(t, s, r.ID, meta.ImageQuery{TagStatus: meta.TagStatusTagged})), sortedDigests(tagged, child); !slices.Equal(got, want) {
		t.Errorf("ListImages(TAGGED) = %q, want %q", got, want)
	}
	if got, want := digestsOf(listImages(t, s, r.ID, meta.ImageQuery{TagStatus: meta.TagStatusUntagged})), sortedDigests(untagged, idx); !slices.Equal(got, want) {
		t.Errorf("ListImages(UNTAGGED) = %q, want %q", got, want)
	}

	// Pages: After is exclusive, Limit bounds the page.
	var paged []string
	after := ""
	for range 10 {
		page := listImages(t, s, r.ID, meta.ImageQuery{After: after, Limit: 3})
		if len(page) > 3 {
			t.Fatalf("page of %d with Limit 3", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, digestsOf(page)...)
		after = page[len(page)-1].Digest
	}
	if !slices.Equal(paged, digestsOf(all)) {
		t.Errorf("paged ListImages = %q, want %q", paged, digestsOf(all))
	}
	if got := listImages(t, s, r.ID, meta.ImageQuery{After: all[len(all)-1].Digest}); len(got) != 0 {
		t.Errorf("ListImages after the last digest = %q, want none", digestsOf(got))
	}

	// Deleting the last tag makes an image untagged.
	if err := s.DeleteTag(t.Context(), r.ID, "child", nil); err != nil {
		t.Fatal(err)
	}
	if got, want := digestsOf(listImages(t, s, r.ID, meta.ImageQuery{TagStatus: meta.TagStatusTagged})), []string{tagged.Digest}; !slices.Equal(got, want) {
		t.Errorf("ListImages(TAGGED) after deleting a tag = %q, want %q", got, want)
	}

	if got := listImages(t, s, newRepo(t, s, reg1, "empty").ID, meta.ImageQuery{}); len(got) != 0 {
		t.Errorf("ListImages(empty repository) = %q", digestsOf(got))
	}
	if got := listImages(t, s, other.ID, meta.ImageQuery{}); len(got) != 1 {
		t.Errorf("ListImages(other) = %q, want one image", digestsOf(got))
	}
}

func testRecordPulls(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")
	a := pushImage(t, s, r.ID, "a", "a")
	b := pushImage(t, s, r.ID, "b")
	c := pushImage(t, s, other.ID, "a")

	if err := s.RecordPulls(t.Context(), nil); err != nil {
		t.Fatalf("RecordPulls(nil): %v", err)
	}
	err := s.RecordPulls(t.Context(), []meta.Pull{
		{RepoID: r.ID, Digest: a.Digest, At: at(10)},
		{RepoID: r.ID, Digest: a.Digest, At: at(5)}, // older: ignored
		{RepoID: r.ID, Digest: digestOf([]byte("gone")), At: at(10)},
		{RepoID: 987654, Digest: a.Digest, At: at(10)},
	})
	if err != nil {
		t.Fatalf("RecordPulls: %v", err)
	}
	checkTime(t, "LastPulledAt of a", getManifest(t, s, r.ID, a.Digest).LastPulledAt, at(10))
	checkTime(t, "LastPulledAt of b", getManifest(t, s, r.ID, b.Digest).LastPulledAt, time.Time{})
	checkTime(t, "LastPulledAt in another repository", getManifest(t, s, other.ID, c.Digest).LastPulledAt, time.Time{})

	// Never backwards.
	if err := s.RecordPulls(t.Context(), []meta.Pull{{RepoID: r.ID, Digest: a.Digest, At: at(7)}}); err != nil {
		t.Fatal(err)
	}
	checkTime(t, "LastPulledAt after an older pull", getManifest(t, s, r.ID, a.Digest).LastPulledAt, at(10))
	if err := s.RecordPulls(t.Context(), []meta.Pull{{RepoID: r.ID, Digest: a.Digest, At: at(20)}, {RepoID: r.ID, Digest: b.Digest, At: at(21)}}); err != nil {
		t.Fatal(err)
	}
	checkTime(t, "LastPulledAt after a newer pull", getManifest(t, s, r.ID, a.Digest).LastPulledAt, at(20))
	checkTime(t, "LastPulledAt of b", getManifest(t, s, r.ID, b.Digest).LastPulledAt, at(21))
	for _, m := range listImages(t, s, r.ID, meta.ImageQuery{}) {
		if m.Digest == b.Digest {
			checkTime(t, "ListImages LastPulledAt of b", m.LastPulledAt, at(21))
		}
	}

	// Re-putting a pulled manifest keeps its pull time.
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: a, Refs: nil, Tags: tags("again")})
	checkTime(t, "LastPulledAt after a re-put", getManifest(t, s, r.ID, a.Digest).LastPulledAt, at(20))
}

func testManifestsReferencing(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	other := newRepo(t, s, reg1, "other")
	bs := link(t, s, r.ID, "config", "layer", "unused")
	link(t, s, other.ID, "config", "layer")
	m1 := image("one", bs[0], bs[1])
	m2 := image("two", bs[1])
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: m1, Refs: blobRefs(bs[0], bs[1])})
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: m2, Refs: blobRefs(bs[1])})
	idx := index("idx", m1)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: idx, Refs: manifestRefs(m1)})

	check := func(repoID int64, d string, limit int, want []string) {
		t.Helper()
		got, err := s.ManifestsReferencing(t.Context(), repoID, d, limit)
		if err != nil {
			t.Fatalf("ManifestsReferencing(%s): %v", d, err)
		}
		if !sameStrings(got, want) {
			t.Errorf("ManifestsReferencing(%s, %d) = %q, want %q", d, limit, got, want)
		}
	}
	check(r.ID, bs[0].Digest, 0, []string{m1.Digest})
	check(r.ID, bs[1].Digest, 0, sortedDigests(m1, m2))
	check(r.ID, bs[1].Digest, 1, sortedDigests(m1, m2)[:1])
	check(r.ID, bs[2].Digest, 0, nil)
	// A child manifest is not a blob: the index does not count.
	check(r.ID, m1.Digest, 0, nil)
	check(other.ID, bs[0].Digest, 0, nil)

	if err := s.DeleteManifest(t.Context(), r.ID, m2.Digest, nil); err != nil {
		t.Fatal(err)
	}
	check(r.ID, bs[1].Digest, 0, []string{m1.Digest})
}

func testDeleteUntaggedManifest(t *testing.T, s meta.Store) {
	r := newRepo(t, s, reg1, "app")
	tagged := pushImage(t, s, r.ID, "tagged", "v1")
	untagged := pushImage(t, s, r.ID, "untagged")
	child := pushImage(t, s, r.ID, "child")
	idx := index("idx", child)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: idx, Refs: manifestRefs(child)})

	check := func(d string, want bool) {
		t.Helper()
		got, err := s.DeleteUntaggedManifest(t.Context(), r.ID, d, nil)
		if err != nil {
			t.Fatalf("DeleteUntaggedManifest(%s): %v", d, err)
		}
		if got != want {
			t.Errorf("DeleteUntaggedManifest(%s) = %v, want %v", d, got, want)
		}
	}
	check(tagged.Digest, false)
	getManifest(t, s, r.ID, tagged.Digest)
	check(child.Digest, false)
	getManifest(t, s, r.ID, child.Digest)
	check(untagged.Digest, true)
	checkManifestUnknown(t, s, r.ID, untagged.Digest)
	check(untagged.Digest, false)
	check(digestOf([]byte("never pushed")), false)

	if err := s.DeleteTag(t.Context(), r.ID, "v1", nil); err != nil {
		t.Fatal(err)
	}
	check(tagged.Digest, true)
	checkManifestUnknown(t, s, r.ID, tagged.Digest)
	check(idx.Digest, true)
	check(child.Digest, true)
}
