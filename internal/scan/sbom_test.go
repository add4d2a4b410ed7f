package scan

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-registry/berth/internal/blob/fs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/scan/inventory"
	"github.com/berth-registry/berth/internal/scan/sbom"
)

var sbomReg = meta.RegistryKey{Account: "000000000000", Region: "us-east-1"}

// newSBOMTest is a scanning service over a real registry domain on the
// embedded stores, without vulnerability data (attaching needs none).
func newSBOMTest(t *testing.T) (*Service, *registry.Service) {
	t.Helper()
	dir := t.TempDir()
	blobs, err := fs.New(dir + "/blobs")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sqlite.Open(dir + "/berth.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := registry.New(m, blobs, registry.Options{Logger: log})
	return New(m, reg, blobs, nil, Options{Logger: log, ScratchDir: dir + "/scratch"}), reg
}

// pushNPMImage pushes an image holding one npm package to repo and
// returns its manifest as the registry keeps it.
func pushNPMImage(t *testing.T, reg *registry.Service, repo, pkg string) *meta.Manifest {
	t.Helper()
	ctx := context.Background()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := `{"name": "` + pkg + `", "version": "1.2.3"}`
	tw.WriteHeader(&tar.Header{Name: "app/node_modules/" + pkg + "/package.json", Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
	tw.Write([]byte(body))
	tw.Close()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers"}})
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		t.Fatal(err)
	}
	put := func(b []byte) {
		t.Helper()
		if err := reg.PutBlob(ctx, sbomReg, repo, digest.FromBytes(b), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	cfg, _ := img.RawConfigFile()
	put(cfg)
	rc, _ := layer.Compressed()
	lb, _ := io.ReadAll(rc)
	put(lb)
	raw, _ := img.RawManifest()
	mt, _ := img.MediaType()
	if _, err := reg.PutManifest(ctx, sbomReg, repo, "v-"+pkg, string(mt), raw, nil); err != nil {
		t.Fatal(err)
	}
	m, err := reg.GetManifest(ctx, sbomReg, repo, digest.FromBytes(raw).String())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSBOMReferrer: the setting decides, the SBOM is an OCI artifact of
// the image (pushed into a tag-immutable repository), attached once per
// format whatever a client attached, never to an image that is gone, and
// not itself scannable.
func TestSBOMReferrer(t *testing.T) {
	ctx := context.Background()
	s, reg := newSBOMTest(t)
	if err := reg.CreateRepository(ctx, &meta.Repository{Registry: sbomReg, Name: "team/app", TagMutability: "IMMUTABLE"}); err != nil {
		t.Fatal(err)
	}
	img := pushNPMImage(t, reg, "team/app", "lodash")
	started := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	shared := &meta.ImageScan{Digest: img.Digest, Status: meta.ScanComplete, StartedAt: started}
	referrers := func(artifactType string) []meta.Referrer {
		t.Helper()
		refs, err := reg.Referrers(ctx, sbomReg, "team/app", digest.Digest(img.Digest), artifactType)
		if err != nil {
			t.Fatal(err)
		}
		return refs
	}

	// Off by default.
	if err := s.attachSharedSBOM(ctx, sbomReg, "team/app", img, shared); err != nil {
		t.Fatal(err)
	}
	if refs := referrers(""); len(refs) != 0 {
		t.Fatalf("referrers with the setting off: %+v", refs)
	}

	// A client's own SPDX document, pushed first, is not Berth's.
	if err := reg.PutAccountSetting(ctx, sbomReg, registry.SettingScanSBOM, registry.ScanSBOMSPDX); err != nil {
		t.Fatal(err)
	}
	client, err := sbomManifest(img, sbom.SPDX, []byte(`{"spdxVersion":"SPDX-2.3"}`), started)
	if err != nil {
		t.Fatal(err)
	}
	var cm ocispec.Manifest
	json.Unmarshal(client, &cm)
	delete(cm.Annotations, AnnotationSBOMCreator)
	client, _ = json.Marshal(cm)
	for _, b := range [][]byte{[]byte("{}"), []byte(`{"spdxVersion":"SPDX-2.3"}`)} {
		if err := reg.PutBlob(ctx, sbomReg, "team/app", digest.FromBytes(b), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := reg.PutManifest(ctx, sbomReg, "team/app", digest.FromBytes(client).String(), ocispec.MediaTypeImageManifest, client, nil); err != nil {
		t.Fatal(err)
	}

	// On: the shared scan's inventory is taken again and attached, once.
	for range 2 {
		if err := s.attachSharedSBOM(ctx, sbomReg, "team/app", img, shared); err != nil {
			t.Fatal(err)
		}
	}
	refs := referrers(sbom.MediaTypeSPDX)
	var berth []meta.Referrer
	for _, r := range refs {
		if r.Annotations[AnnotationSBOMCreator] == sbom.Creator {
			berth = append(berth, r)
		}
	}
	if len(refs) != 2 || len(berth) != 1 {
		t.Fatalf("SPDX referrers %+v: want the client's and one of Berth's", refs)
	}
	if got := berth[0].Annotations[ocispec.AnnotationCreated]; got != "2026-05-01T12:00:00Z" {
		t.Errorf("created annotation %q, want the scan's start", got)
	}
	doc := sbomOf(t, reg, "team/app", berth[0].Digest, img)
	if !bytes.Contains(doc, []byte(`"name": "lodash"`)) || !bytes.Contains(doc, []byte("pkg:npm/lodash@1.2.3")) ||
		!bytes.Contains(doc, []byte(`"SPDX-2.3"`)) {
		t.Errorf("the SPDX document does not list lodash:\n%s", doc)
	}

	// Another format is another SBOM; the main path hands its inventory.
	if err := reg.PutAccountSetting(ctx, sbomReg, registry.SettingScanSBOM, registry.ScanSBOMCycloneDX); err != nil {
		t.Fatal(err)
	}
	inv := &inventory.Result{Images: []inventory.Image{{Digest: digest.Digest(img.Digest), Platform: inventory.Platform{OS: "linux", Architecture: "amd64"},
		Packages: []inventory.Package{{Name: "handed", Version: "1.0", Ecosystem: "npm", PURL: "pkg:npm/handed@1.0"}}}}}
	if err := s.attachSBOM(ctx, sbomReg, "team/app", img, started, inv); err != nil {
		t.Fatal(err)
	}
	cdx := referrers(sbom.MediaTypeCycloneDX)
	if len(cdx) != 1 {
		t.Fatalf("CycloneDX referrers %+v", cdx)
	}
	if doc := sbomOf(t, reg, "team/app", cdx[0].Digest, img); !bytes.Contains(doc, []byte(`"bomFormat": "CycloneDX"`)) || !bytes.Contains(doc, []byte("pkg:npm/handed@1.0")) {
		t.Errorf("the CycloneDX document does not list the inventory it was handed:\n%s", doc)
	}
	if len(referrers("")) != 3 {
		t.Errorf("referrers: %+v", referrers(""))
	}

	// The SBOM is an artifact: scanning refuses it.
	m, err := reg.GetManifest(ctx, sbomReg, "team/app", cdx[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := scannable(m); !errors.Is(err, ErrUnsupportedImage) {
		t.Errorf("scannable(the SBOM) = %v, want ErrUnsupportedImage", err)
	}

	// An image deleted while it was scanned gets nothing.
	gone := pushNPMImage(t, reg, "team/app", "minimist")
	if err := reg.DeleteManifest(ctx, sbomReg, "team/app", gone.Digest); err != nil {
		t.Fatal(err)
	}
	if err := s.attachSBOM(ctx, sbomReg, "team/app", gone, started, inv); err != nil {
		t.Fatal(err)
	}
	if refs, _ := reg.Referrers(ctx, sbomReg, "team/app", digest.Digest(gone.Digest), ""); len(refs) != 0 {
		t.Errorf("an SBOM was attached to a deleted image: %+v", refs)
	}
}

// sbomOf checks an SBOM artifact's manifest and returns its document.
func sbomOf(t *testing.T, reg *registry.Service, repo, d string, subject *meta.Manifest) []byte {
	t.Helper()
	ctx := context.Background()
	m, err := reg.GetManifest(ctx, sbomReg, repo, d)
	if err != nil {
		t.Fatal(err)
	}
	var man ocispec.Manifest
	if err := json.Unmarshal(m.Content, &man); err != nil {
		t.Fatal(err)
	}
	if man.Config.MediaType != ocispec.MediaTypeEmptyJSON || man.Config.Digest != ocispec.DescriptorEmptyJSON.Digest || man.Config.Size != 2 {
		t.Errorf("config %+v, want the empty descriptor", man.Config)
	}
	if man.Subject == nil || man.Subject.Digest.String() != subject.Digest || man.Subject.MediaType != subject.MediaType || man.Subject.Size != int64(len(subject.Content)) {
		t.Errorf("subject %+v, want %s", man.Subject, subject.Digest)
	}
	if len(man.Layers) != 1 || man.Layers[0].MediaType != man.ArtifactType || !strings.HasPrefix(man.Layers[0].Annotations[ocispec.AnnotationTitle], "sbom.") {
		t.Fatalf("layers %+v of an artifact of type %s", man.Layers, man.ArtifactType)
	}
	rc, _, err := reg.OpenBlob(ctx, sbomReg, repo, man.Layers[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	doc, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSBOMFormatsMatchSetting: every value of the setting but DISABLED is
// a format the writers know.
func TestSBOMFormatsMatchSetting(t *testing.T) {
	for _, d := range registry.AccountSettings {
		if d.Name != registry.SettingScanSBOM {
			continue
		}
		for _, v := range d.Values {
			if v != registry.ScanSBOMDisabled && sbom.Format(v).MediaType() == "" {
				t.Errorf("setting value %s is no SBOM format", v)
			}
		}
		return
	}
	t.Errorf("no %s account setting", registry.SettingScanSBOM)
}
