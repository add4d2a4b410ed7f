package inventory

import (
	"bytes"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob"
	"github.com/berth-registry/berth/internal/blob/fs"
)

// Any of Berth's blob stores is a Blobs as it is.
var _ Blobs = blob.Store(nil)

// The inventory of an image pushed into Berth's filesystem blob store, as
// a push leaves it: every blob staged, verified and committed under its
// digest.
func TestFileBlobStore(t *testing.T) {
	ctx := t.Context()
	store, err := fs.New(t.TempDir())
	must(t, err)
	mem := newMemSource()
	manifest, mt := mem.pushImage(t, imageOf(t, "linux/amd64",
		layerOf(t, debianRoot(t)...),
		layerOf(t, distInfo(site, "urllib3", "1.24.1"), npmPackage(nm, "minimist", "1.2.0")),
		layerOf(t, whiteout(nm, "minimist")),
	))
	n := 0
	for d, b := range mem.blobs {
		id := "push" + string(rune('a'+n))
		n++
		if _, err := store.Append(ctx, id, 0, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		if digest.FromBytes(b) != d {
			t.Fatalf("test blob %s does not hash to its digest", d)
		}
		must(t, store.Commit(ctx, id, int64(len(b)), d))
	}

	res, err := take(t, Source{Blobs: store}, manifest, mt)
	if err != nil {
		t.Fatal(err)
	}
	got := keys(res.Images[0].Packages)
	for _, w := range []string{"Debian:12 libssl3 3.0.17-1~deb12u2", "PyPI urllib3 1.24.1"} {
		if _, ok := got[w]; !ok {
			t.Errorf("missing %s", w)
		}
	}
	if _, ok := got["npm minimist 1.2.0"]; ok {
		t.Errorf("minimist listed; the top layer deleted it")
	}
}
