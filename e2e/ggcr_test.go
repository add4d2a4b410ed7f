package e2e

// Black-box tests that push and pull through go-containerregistry's remote
// package (the library behind crane, ko and many CI tools), plus a few plain
// net/http requests where the library hides what is on the wire.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ---------------------------------------------------------------------------
// helpers

func ggcrRepo(t *testing.T, b *berth, repo string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(b.Host+"/"+repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ggcrOpts are the options of a client logged in to b, as after `docker
// login --username AWS`.
func ggcrOpts(t testing.TB, b *berth, ctx context.Context) []remote.Option {
	t.Helper()
	return []remote.Option{remote.WithContext(ctx), ggcrAuth(t, b)}
}

// ggcrAuth is b's ECR login for go-containerregistry.
func ggcrAuth(t testing.TB, b *berth) remote.Option {
	t.Helper()
	return remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: b.Password(t)})
}

// sha256Stream hashes everything r yields.
func sha256Stream(t *testing.T, open func() (io.ReadCloser, error)) (v1.Hash, int64) {
	t.Helper()
	rc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	h, n, err := v1.SHA256(rc)
	if err != nil {
		t.Fatal(err)
	}
	return h, n
}

// asTransportError unwraps err into go-containerregistry's transport.Error.
func asTransportError(t *testing.T, err error) *transport.Error {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got success")
	}
	var te *transport.Error
	if !errors.As(err, &te) {
		t.Fatalf("error is not a *transport.Error: %T %v", err, err)
	}
	return te
}

// wantRegistryError asserts a transport error's status and first OCI error code.
func wantRegistryError(t *testing.T, err error, status int, code string) *transport.Error {
	t.Helper()
	te := asTransportError(t, err)
	if te.StatusCode != status {
		t.Errorf("status = %d, want %d (error: %v)", te.StatusCode, status, err)
	}
	if len(te.Errors) == 0 {
		t.Errorf("error body carries no OCI errors (error: %v)", err)
		return te
	}
	if string(te.Errors[0].Code) != code {
		t.Errorf("error code = %q, want %q (error: %v)", te.Errors[0].Code, code, err)
	}
	return te
}

// rawManifest is a hand-written manifest remote.Put can push.
type rawManifest struct {
	body      []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.body, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }
func (m rawManifest) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(m.body))
	return h, err
}
func (m rawManifest) mustDigest(t *testing.T) v1.Hash {
	t.Helper()
	h, err := m.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var httpClient = &http.Client{Timeout: 2 * time.Minute}

// ociErrorBody is the distribution spec's error body.
type ociErrorBody struct {
	Errors []struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	} `json:"errors"`
}

// doHTTP sends one request and reads the whole answer. With b set, the
// request carries b's login unless hdr has an Authorization of its own.
func doHTTP(t *testing.T, ctx context.Context, b *berth, method, u string, hdr map[string]string, body []byte) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if b != nil {
		req.Header.Set("Authorization", b.AuthHeader(t))
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, u, err)
	}
	return resp, rb
}

// ---------------------------------------------------------------------------
// 1. image round trip

func TestGGCRImageRoundTrip(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "", "--auto-create-repositories")
	ctx := withTimeout(t, 2*time.Minute)
	opts := ggcrOpts(t, b, ctx)

	repo := ggcrRepo(t, b, "ggcr/round-trip")
	other := ggcrRepo(t, b, "ggcr/other")

	img, err := random.Image(300*1024, 5)
	if err != nil {
		t.Fatal(err)
	}
	imgDigest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	tags := []string{"v1", "v2", "latest", "1.0.0-rc.1"}
	if err := remote.Write(repo.Tag(tags[0]), img, opts...); err != nil {
		t.Fatalf("remote.Write: %v\nserver log:\n%s", err, b.Log())
	}
	for _, tag := range tags[1:] {
		if err := remote.Tag(repo.Tag(tag), img, opts...); err != nil {
			t.Fatalf("remote.Tag %s: %v", tag, err)
		}
	}
	otherImg, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(other.Tag("x"), otherImg, opts...); err != nil {
		t.Fatalf("remote.Write other: %v", err)
	}

	wantManifest, _ := img.RawManifest()
	wantConfig, _ := img.RawConfigFile()
	wantConfigName, _ := img.ConfigName()
	wantLayers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		ref  name.Reference
	}{
		{"by tag", repo.Tag("v1")},
		{"by other tag", repo.Tag("1.0.0-rc.1")},
		{"by digest", repo.Digest(imgDigest.String())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := remote.Image(tc.ref, opts...)
			if err != nil {
				t.Fatalf("remote.Image(%s): %v", tc.ref, err)
			}
			if d, err := got.Digest(); err != nil || d != imgDigest {
				t.Fatalf("digest = %v (%v), want %v", d, err, imgDigest)
			}
			if m, err := got.RawManifest(); err != nil || !bytes.Equal(m, wantManifest) {
				t.Errorf("manifest differs (%v):\n got %s\nwant %s", err, m, wantManifest)
			}
			if mt, err := got.MediaType(); err != nil || mt != types.DockerManifestSchema2 {
				t.Errorf("media type = %q (%v), want %q", mt, err, types.DockerManifestSchema2)
			}
			if c, err := got.RawConfigFile(); err != nil || !bytes.Equal(c, wantConfig) {
				t.Errorf("config differs (%v)", err)
			}
			if cn, err := got.ConfigName(); err != nil || cn != wantConfigName {
				t.Errorf("config name = %v (%v), want %v", cn, err, wantConfigName)
			}
			gotLayers, err := got.Layers()
			if err != nil {
				t.Fatal(err)
			}
			if len(gotLayers) != len(wantLayers) {
				t.Fatalf("%d layers, want %d", len(gotLayers), len(wantLayers))
			}
			for i, gl := range gotLayers {
				wl := wantLayers[i]
				wd, _ := wl.Digest()
				wdiff, _ := wl.DiffID()
				wsize, _ := wl.Size()
				gd, err := gl.Digest()
				if err != nil || gd != wd {
					t.Errorf("layer %d digest = %v (%v), want %v", i, gd, err, wd)
				}
				// The bytes the registry serves hash to the digest in the
				// manifest, and decompress to the original content.
				ch, cn := sha256Stream(t, gl.Compressed)
				if ch != wd || cn != wsize {
					t.Errorf("layer %d compressed bytes hash to %v (%d bytes), want %v (%d bytes)", i, ch, cn, wd, wsize)
				}
				uh, _ := sha256Stream(t, gl.Uncompressed)
				wuh, _ := sha256Stream(t, wl.Uncompressed)
				if uh != wdiff || wuh != wdiff {
					t.Errorf("layer %d uncompressed bytes hash to %v (original %v), want diffID %v", i, uh, wuh, wdiff)
				}
			}
		})
	}

	t.Run("head", func(t *testing.T) {
		for _, tag := range tags {
			desc, err := remote.Head(repo.Tag(tag), opts...)
			if err != nil {
				t.Fatalf("remote.Head(%s): %v", tag, err)
			}
			if desc.Digest != imgDigest || desc.Size != int64(len(wantManifest)) || desc.MediaType != types.DockerManifestSchema2 {
				t.Errorf("remote.Head(%s) = %+v, want digest %v size %d type %s", tag, desc, imgDigest, len(wantManifest), types.DockerManifestSchema2)
			}
		}
		_, err := remote.Head(repo.Tag("nope"), opts...)
		te := asTransportError(t, err)
		if te.StatusCode != http.StatusNotFound {
			t.Errorf("remote.Head of a missing tag: status %d, want 404", te.StatusCode)
		}
	})

	t.Run("get descriptor", func(t *testing.T) {
		desc, err := remote.Get(repo.Tag("latest"), opts...)
		if err != nil {
			t.Fatal(err)
		}
		if desc.Digest != imgDigest || !bytes.Equal(desc.Manifest, wantManifest) {
			t.Errorf("remote.Get: digest %v, manifest equal %v", desc.Digest, bytes.Equal(desc.Manifest, wantManifest))
		}
	})

	t.Run("list tags", func(t *testing.T) {
		want := slices.Sorted(slices.Values(tags))
		for _, pageSize := range []int{0, 1, 3} {
			o := opts
			if pageSize > 0 {
				o = append(slices.Clone(opts), remote.WithPageSize(pageSize))
			}
			got, err := remote.List(repo, o...)
			if err != nil {
				t.Fatalf("remote.List (page size %d): %v", pageSize, err)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("remote.List (page size %d) = %q, want %q", pageSize, got, want)
			}
		}
	})

	t.Run("catalog", func(t *testing.T) {
		reg, err := name.NewRegistry(b.Host, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"ggcr/other", "ggcr/round-trip"}
		for _, pageSize := range []int{0, 1} {
			// remote.Catalog follows Link headers until there is none; a
			// server whose pages never end would loop until the deadline,
			// so give it a short one of its own (remote.WithContext
			// overrides Catalog's ctx argument, so set both).
			cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			o := []remote.Option{remote.WithContext(cctx), ggcrAuth(t, b)}
			if pageSize > 0 {
				o = append(o, remote.WithPageSize(pageSize))
			}
			got, err := remote.Catalog(cctx, reg, o...)
			cancel()
			if err != nil {
				t.Errorf("remote.Catalog (page size %d): %v", pageSize, err)
				continue
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("remote.Catalog (page size %d) = %q, want %q", pageSize, got, want)
			}
		}
		// Page by page: each page starts after the previous page's last.
		var paged []string
		last := ""
		for range len(want) + 2 {
			page, err := remote.CatalogPage(reg, last, 1, opts...)
			if err != nil {
				t.Fatalf("remote.CatalogPage(last=%q, n=1): %v", last, err)
			}
			if len(page) == 0 {
				break
			}
			if last != "" && page[0] <= last {
				t.Errorf("remote.CatalogPage(last=%q, n=1) = %q: the page must start after %q", last, page, last)
				break
			}
			paged = append(paged, page...)
			last = page[len(page)-1]
		}
		if !slices.Equal(paged, want) {
			t.Errorf("catalog paged one by one = %q, want %q", paged, want)
		}
	})
}

// ---------------------------------------------------------------------------
// 2. multi-arch index

// ociImage builds a small OCI image (OCI manifest, config and layer media
// types) for one platform.
func ociImage(t *testing.T, p v1.Platform, layers int) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	for range layers {
		l, err := random.Layer(64*1024, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func TestGGCRMultiArchIndex(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "", "--auto-create-repositories")
	ctx := withTimeout(t, 2*time.Minute)
	opts := ggcrOpts(t, b, ctx)
	repo := ggcrRepo(t, b, "ggcr/multi-arch")

	platforms := []v1.Platform{
		{OS: "linux", Architecture: "amd64"},
		{OS: "linux", Architecture: "arm64", Variant: "v8"},
		{OS: "linux", Architecture: "arm", Variant: "v7"},
	}
	var adds []mutate.IndexAddendum
	children := map[string]v1.Image{} // platform string -> image
	for _, p := range platforms {
		img := ociImage(t, p, 2)
		children[p.String()] = img
		adds = append(adds, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &p},
		})
	}
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex)
	idxDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	idxRaw, _ := idx.RawManifest()

	tag := repo.Tag("multi")
	if err := remote.WriteIndex(tag, idx, opts...); err != nil {
		t.Fatalf("remote.WriteIndex: %v\nserver log:\n%s", err, b.Log())
	}

	t.Run("pull index", func(t *testing.T) {
		for _, ref := range []name.Reference{tag, repo.Digest(idxDigest.String())} {
			desc, err := remote.Get(ref, opts...)
			if err != nil {
				t.Fatalf("remote.Get(%s): %v", ref, err)
			}
			if desc.MediaType != types.OCIImageIndex {
				t.Errorf("%s: media type %q, want %q", ref, desc.MediaType, types.OCIImageIndex)
			}
			got, err := desc.ImageIndex()
			if err != nil {
				t.Fatal(err)
			}
			if d, _ := got.Digest(); d != idxDigest {
				t.Errorf("%s: index digest %v, want %v", ref, d, idxDigest)
			}
			if raw, _ := got.RawManifest(); !bytes.Equal(raw, idxRaw) {
				t.Errorf("%s: index manifest differs:\n got %s\nwant %s", ref, raw, idxRaw)
			}
			im, err := got.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			if len(im.Manifests) != len(platforms) {
				t.Fatalf("%s: %d manifests in index, want %d", ref, len(im.Manifests), len(platforms))
			}
			for i, m := range im.Manifests {
				if m.Platform == nil || !m.Platform.Equals(platforms[i]) {
					t.Errorf("%s: manifest %d platform %v, want %v", ref, i, m.Platform, platforms[i])
				}
			}
		}
	})

	t.Run("children by digest", func(t *testing.T) {
		for _, p := range platforms {
			want := children[p.String()]
			wd, _ := want.Digest()
			got, err := remote.Image(repo.Digest(wd.String()), opts...)
			if err != nil {
				t.Fatalf("remote.Image(%s child %v): %v", p.String(), wd, err)
			}
			if d, _ := got.Digest(); d != wd {
				t.Errorf("%s: child digest %v, want %v", p.String(), d, wd)
			}
			cf, err := got.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cf.Architecture != p.Architecture || cf.Variant != p.Variant {
				t.Errorf("%s: config says %s/%s", p.String(), cf.Architecture, cf.Variant)
			}
			wl, _ := want.Layers()
			gl, err := got.Layers()
			if err != nil || len(gl) != len(wl) {
				t.Fatalf("%s: %d layers (%v), want %d", p.String(), len(gl), err, len(wl))
			}
			for i := range gl {
				wd, _ := wl[i].Digest()
				if h, _ := sha256Stream(t, gl[i].Compressed); h != wd {
					t.Errorf("%s: layer %d hashes to %v, want %v", p.String(), i, h, wd)
				}
			}
		}
	})

	t.Run("platform resolution through the tag", func(t *testing.T) {
		p := platforms[1]
		got, err := remote.Image(tag, append(slices.Clone(opts), remote.WithPlatform(p))...)
		if err != nil {
			t.Fatal(err)
		}
		wd, _ := children[p.String()].Digest()
		if d, _ := got.Digest(); d != wd {
			t.Errorf("image for %s resolved to %v, want %v", p.String(), d, wd)
		}
	})

	t.Run("delete order", func(t *testing.T) {
		child, _ := children[platforms[0].String()].Digest()
		childRef := repo.Digest(child.String())
		idxRef := repo.Digest(idxDigest.String())

		// A manifest an index lists cannot be deleted while the index is there.
		err := remote.Delete(childRef, opts...)
		wantRegistryError(t, err, http.StatusConflict, "DENIED")
		if _, err := remote.Head(childRef, opts...); err != nil {
			t.Fatalf("child is gone after a refused delete: %v", err)
		}

		if err := remote.Delete(idxRef, opts...); err != nil {
			t.Fatalf("deleting the index: %v", err)
		}
		_, err = remote.Head(idxRef, opts...)
		if te := asTransportError(t, err); te.StatusCode != http.StatusNotFound {
			t.Errorf("HEAD of the deleted index: status %d, want 404", te.StatusCode)
		}
		_, err = remote.Head(tag, opts...)
		if te := asTransportError(t, err); te.StatusCode != http.StatusNotFound {
			t.Errorf("HEAD of the deleted index's tag: status %d, want 404", te.StatusCode)
		}

		if err := remote.Delete(childRef, opts...); err != nil {
			t.Fatalf("deleting the child after its index: %v", err)
		}
		_, err = remote.Image(childRef, opts...)
		wantRegistryError(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN")

		// The other children were not touched.
		for _, p := range platforms[1:] {
			d, _ := children[p.String()].Digest()
			if _, err := remote.Head(repo.Digest(d.String()), opts...); err != nil {
				t.Errorf("child %s: %v", p.String(), err)
			}
		}
	})
}

// ---------------------------------------------------------------------------
// 3. artifacts with a subject, found through the referrers API

const (
	emptyConfigMediaType = "application/vnd.oci.empty.v1+json"
	sbomType             = "application/vnd.example.sbom.v1"
	sigType              = "application/vnd.example.signature.v1"
	customConfigType     = "application/vnd.example.config.v1+json"
)

type ociDescriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

type ociManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        ociDescriptor     `json:"config"`
	Layers        []ociDescriptor   `json:"layers"`
	Subject       *ociDescriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// pushBlob uploads content with go-containerregistry and returns its
// descriptor.
func pushBlob(t *testing.T, ctx context.Context, b *berth, repo name.Repository, content []byte, mt string) ociDescriptor {
	t.Helper()
	l := static.NewLayer(content, types.MediaType(mt))
	if err := remote.WriteLayer(repo, l, ggcrOpts(t, b, ctx)...); err != nil {
		t.Fatalf("remote.WriteLayer: %v", err)
	}
	d, _ := l.Digest()
	return ociDescriptor{MediaType: mt, Digest: d.String(), Size: int64(len(content))}
}

func marshalManifest(t *testing.T, m ociManifest) rawManifest {
	t.Helper()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return rawManifest{body: body, mediaType: types.OCIManifestSchema1}
}

func TestGGCRReferrers(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "", "--auto-create-repositories")
	ctx := withTimeout(t, 2*time.Minute)
	opts := ggcrOpts(t, b, ctx)
	repo := ggcrRepo(t, b, "ggcr/referrers")

	// The subject: an ordinary image.
	img, err := random.Image(4096, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(repo.Tag("app"), img, opts...); err != nil {
		t.Fatalf("remote.Write: %v", err)
	}
	subj, err := remote.Head(repo.Tag("app"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	subject := &ociDescriptor{MediaType: string(subj.MediaType), Digest: subj.Digest.String(), Size: subj.Size}
	subjectRef := repo.Digest(subj.Digest.String())

	emptyCfg := pushBlob(t, ctx, b, repo, []byte("{}"), emptyConfigMediaType)
	if emptyCfg.Digest != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" {
		t.Fatalf("empty config digest %s", emptyCfg.Digest)
	}

	// Referrer 1: an SBOM, pushed by digest with remote.Put.
	sbom := marshalManifest(t, ociManifest{
		SchemaVersion: 2,
		MediaType:     string(types.OCIManifestSchema1),
		ArtifactType:  sbomType,
		Config:        emptyCfg,
		Layers:        []ociDescriptor{pushBlob(t, ctx, b, repo, []byte(`{"spdxVersion":"SPDX-2.3","name":"app"}`), "application/spdx+json")},
		Subject:       subject,
		Annotations:   map[string]string{"org.opencontainers.image.created": "2024-01-02T03:04:05Z"},
	})
	sbomDigest := sbom.mustDigest(t)
	if err := remote.Put(repo.Digest(sbomDigest.String()), sbom, opts...); err != nil {
		t.Fatalf("remote.Put sbom: %v\nserver log:\n%s", err, b.Log())
	}

	// Referrer 2: a signature, pushed with plain net/http to see the
	// OCI-Subject response header.
	sig := marshalManifest(t, ociManifest{
		SchemaVersion: 2,
		MediaType:     string(types.OCIManifestSchema1),
		ArtifactType:  sigType,
		Config:        emptyCfg,
		Layers:        []ociDescriptor{pushBlob(t, ctx, b, repo, []byte("signature bytes"), "application/octet-stream")},
		Subject:       subject,
		Annotations:   map[string]string{"com.example.signer": "alice"},
	})
	sigDigest := sig.mustDigest(t)
	t.Run("PUT answers with OCI-Subject", func(t *testing.T) {
		u := b.URL + "/v2/ggcr/referrers/manifests/" + sigDigest.String()
		resp, body := doHTTP(t, ctx, b, http.MethodPut, u, map[string]string{"Content-Type": string(types.OCIManifestSchema1)}, sig.body)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: status %d, body %s", u, resp.StatusCode, body)
		}
		if got := resp.Header.Get("OCI-Subject"); got != subj.Digest.String() {
			t.Errorf("OCI-Subject = %q, want %q", got, subj.Digest.String())
		}
		if got := resp.Header.Get("Docker-Content-Digest"); got != sigDigest.String() {
			t.Errorf("Docker-Content-Digest = %q, want %q", got, sigDigest.String())
		}
	})

	// Referrer 3: no artifactType, so the referrers API reports the
	// config's media type as its artifactType.
	custom := marshalManifest(t, ociManifest{
		SchemaVersion: 2,
		MediaType:     string(types.OCIManifestSchema1),
		Config:        pushBlob(t, ctx, b, repo, []byte(`{"kind":"custom"}`), customConfigType),
		Layers:        []ociDescriptor{pushBlob(t, ctx, b, repo, []byte("custom payload"), "application/octet-stream")},
		Subject:       subject,
	})
	customDigest := custom.mustDigest(t)
	if err := remote.Put(repo.Digest(customDigest.String()), custom, opts...); err != nil {
		t.Fatalf("remote.Put custom: %v", err)
	}

	want := map[v1.Hash]struct {
		artifactType string
		size         int64
		annotations  map[string]string
	}{
		sbomDigest:   {sbomType, int64(len(sbom.body)), map[string]string{"org.opencontainers.image.created": "2024-01-02T03:04:05Z"}},
		sigDigest:    {sigType, int64(len(sig.body)), map[string]string{"com.example.signer": "alice"}},
		customDigest: {customConfigType, int64(len(custom.body)), nil},
	}

	t.Run("pull the artifacts back", func(t *testing.T) {
		for _, m := range []rawManifest{sbom, sig, custom} {
			d := m.mustDigest(t)
			desc, err := remote.Get(repo.Digest(d.String()), opts...)
			if err != nil {
				t.Fatalf("remote.Get(%v): %v", d, err)
			}
			if !bytes.Equal(desc.Manifest, m.body) || desc.MediaType != types.OCIManifestSchema1 {
				t.Errorf("%v: got %s (%s), want %s", d, desc.Manifest, desc.MediaType, m.body)
			}
		}
	})

	t.Run("remote.Referrers lists all", func(t *testing.T) {
		idx, err := remote.Referrers(subjectRef, opts...)
		if err != nil {
			t.Fatalf("remote.Referrers: %v", err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Manifests) != len(want) {
			t.Fatalf("%d referrers, want %d: %+v", len(im.Manifests), len(want), im.Manifests)
		}
		for _, m := range im.Manifests {
			w, ok := want[m.Digest]
			if !ok {
				t.Errorf("unexpected referrer %v", m.Digest)
				continue
			}
			if m.ArtifactType != w.artifactType {
				t.Errorf("referrer %v: artifactType %q, want %q", m.Digest, m.ArtifactType, w.artifactType)
			}
			if m.Size != w.size || m.MediaType != types.OCIManifestSchema1 {
				t.Errorf("referrer %v: size %d type %q, want %d %q", m.Digest, m.Size, m.MediaType, w.size, types.OCIManifestSchema1)
			}
			for k, v := range w.annotations {
				if m.Annotations[k] != v {
					t.Errorf("referrer %v: annotation %s = %q, want %q", m.Digest, k, m.Annotations[k], v)
				}
			}
		}
	})

	for _, tc := range []struct {
		artifactType string
		want         v1.Hash
	}{
		{sbomType, sbomDigest},
		{sigType, sigDigest},
		{customConfigType, customDigest},
	} {
		t.Run("filter "+tc.artifactType, func(t *testing.T) {
			// go-containerregistry filters on the client side...
			idx, err := remote.Referrers(subjectRef, append(slices.Clone(opts), remote.WithFilter("artifactType", tc.artifactType))...)
			if err != nil {
				t.Fatalf("remote.Referrers: %v", err)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			if len(im.Manifests) != 1 || im.Manifests[0].Digest != tc.want || im.Manifests[0].ArtifactType != tc.artifactType {
				t.Errorf("remote.Referrers filtered by %s = %+v, want only %v", tc.artifactType, im.Manifests, tc.want)
			}

			// ...so ask the server to filter, too.
			u := b.URL + "/v2/ggcr/referrers/referrers/" + subj.Digest.String() + "?artifactType=" + url.QueryEscape(tc.artifactType)
			resp, body := doHTTP(t, ctx, b, http.MethodGet, u, nil, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d, body %s", u, resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != string(types.OCIImageIndex) {
				t.Errorf("Content-Type = %q, want %q", ct, types.OCIImageIndex)
			}
			if got := resp.Header.Get("OCI-Filters-Applied"); got != "artifactType" {
				t.Errorf("OCI-Filters-Applied = %q, want artifactType", got)
			}
			var got v1.IndexManifest
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Manifests) != 1 || got.Manifests[0].Digest != tc.want {
				t.Errorf("server-filtered referrers = %s, want only %v", body, tc.want)
			}
		})
	}

	t.Run("no referrers is an empty index", func(t *testing.T) {
		idx, err := remote.Referrers(repo.Digest(sbomDigest.String()), opts...)
		if err != nil {
			t.Fatalf("remote.Referrers: %v", err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Manifests) != 0 {
			t.Errorf("referrers of an unreferenced manifest: %+v", im.Manifests)
		}
	})

	t.Run("deleting a referrer removes it from the list", func(t *testing.T) {
		if err := remote.Delete(repo.Digest(sigDigest.String()), opts...); err != nil {
			t.Fatalf("remote.Delete: %v", err)
		}
		idx, err := remote.Referrers(subjectRef, opts...)
		if err != nil {
			t.Fatal(err)
		}
		im, _ := idx.IndexManifest()
		var got []string
		for _, m := range im.Manifests {
			got = append(got, m.Digest.String())
		}
		slices.Sort(got)
		wantList := []string{sbomDigest.String(), customDigest.String()}
		slices.Sort(wantList)
		if !slices.Equal(got, wantList) {
			t.Errorf("referrers after delete = %q, want %q", got, wantList)
		}
	})
}

// ---------------------------------------------------------------------------
// 4. 1 GiB chunked upload with flat server memory

// vmStatus reads VmRSS and VmHWM (bytes) of a process.
func vmStatus(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		fields := strings.Fields(v) // "12345 kB"
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return rss, hwm, sc.Err()
}

// rssSampler polls a process's VmRSS until stopped.
type rssSampler struct {
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	peak    int64
	samples int
	err     error
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			rss, _, err := vmStatus(pid)
			s.mu.Lock()
			if err != nil {
				s.err = err
			} else {
				s.peak = max(s.peak, rss)
				s.samples++
			}
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-tk.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) Stop() (peak int64, samples int, err error) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak, s.samples, s.err
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func TestGGCRChunkedUpload1GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB upload skipped with -short")
	}
	t.Parallel()
	const (
		blobSize  = int64(1 << 30)
		chunkSize = int64(16 << 20)
		rssBound  = int64(150 << 20)
	)
	b := startBerth(t, "", "--auto-create-repositories")
	ctx := withTimeout(t, 3*time.Minute)
	auth := b.AuthHeader(t) // log in before measuring the server's memory
	base, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	const repo = "ggcr/big"

	// Byte windows to check later with Range requests, captured while the
	// data is generated: the last 4 KiB and a window across a chunk border.
	type window struct{ start, end int64 } // inclusive
	windows := []window{
		{blobSize - 4096, blobSize - 1},
		{chunkSize - 100, chunkSize + 99},
	}
	windowData := make([][]byte, len(windows))
	for i, w := range windows {
		windowData[i] = make([]byte, w.end-w.start+1)
	}

	startRSS, _, err := vmStatus(b.PID())
	if err != nil {
		t.Fatal(err)
	}
	sampler := sampleRSS(b.PID(), 20*time.Millisecond)
	sampling := true
	defer func() {
		if sampling {
			sampler.Stop()
		}
	}()
	began := time.Now()

	resolve := func(loc string) string {
		t.Helper()
		if loc == "" {
			t.Fatal("response carries no Location header")
		}
		u, err := base.Parse(loc)
		if err != nil {
			t.Fatalf("bad Location %q: %v", loc, err)
		}
		return u.String()
	}

	resp, body := doHTTP(t, ctx, b, http.MethodPost, b.URL+"/v2/"+repo+"/blobs/uploads/", nil, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST upload: status %d, body %s", resp.StatusCode, body)
	}
	loc := resolve(resp.Header.Get("Location"))

	// A deterministic pseudo-random stream, generated chunk by chunk and
	// hashed as it is sent; at most one chunk is in memory.
	gen := rand.NewChaCha8([32]byte{'b', 'e', 'r', 't', 'h'})
	var sum hash.Hash = sha256.New()
	buf := make([]byte, chunkSize)
	for off := int64(0); off < blobSize; off += chunkSize {
		n := min(chunkSize, blobSize-off)
		chunk := buf[:n]
		gen.Read(chunk)
		sum.Write(chunk)
		for i, w := range windows {
			lo, hi := max(w.start, off), min(w.end, off+n-1)
			if lo <= hi {
				copy(windowData[i][lo-w.start:], chunk[lo-off:hi-off+1])
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPatch, loc, bytes.NewReader(chunk))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", off, off+n-1))
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatalf("PATCH at offset %d: %v", off, err)
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("PATCH %d-%d: status %d, body %s", off, off+n-1, resp.StatusCode, rb)
		}
		if got, want := resp.Header.Get("Range"), fmt.Sprintf("0-%d", off+n-1); got != want {
			t.Fatalf("PATCH %d-%d: Range = %q, want %q", off, off+n-1, got, want)
		}
		loc = resolve(resp.Header.Get("Location"))
	}
	dgst := "sha256:" + hex.EncodeToString(sum.Sum(nil))

	put, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q := put.Query()
	q.Set("digest", dgst)
	put.RawQuery = q.Encode()
	resp, body = doHTTP(t, ctx, b, http.MethodPut, put.String(), nil, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT ?digest=: status %d, body %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != dgst {
		t.Errorf("Docker-Content-Digest = %q, want %q", got, dgst)
	}
	uploadTime := time.Since(began)

	peak, samples, serr := sampler.Stop()
	sampling = false
	endRSS, hwm, err := vmStatus(b.PID())
	if err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Logf("RSS sampling error: %v", serr)
	}
	peak = max(peak, endRSS)
	t.Logf("server RSS during 1 GiB chunked push: start %.1f MiB, peak %.1f MiB (%d samples every 20ms), end %.1f MiB, VmHWM %.1f MiB; upload took %v (%.0f MiB/s, %d chunks of %d MiB)",
		mib(startRSS), mib(peak), samples, mib(endRSS), mib(hwm), uploadTime.Round(time.Millisecond),
		mib(blobSize)/uploadTime.Seconds(), (blobSize+chunkSize-1)/chunkSize, chunkSize>>20)
	if peak > rssBound {
		t.Errorf("server peak RSS %.1f MiB during the upload exceeds %.0f MiB", mib(peak), mib(rssBound))
	}
	if hwm > rssBound {
		t.Errorf("server VmHWM %.1f MiB exceeds %.0f MiB", mib(hwm), mib(rssBound))
	}

	blobURL := b.URL + "/v2/" + repo + "/blobs/" + dgst

	t.Run("HEAD", func(t *testing.T) {
		resp, _ := doHTTP(t, ctx, b, http.MethodHead, blobURL, nil, nil)
		if resp.StatusCode != http.StatusOK || resp.ContentLength != blobSize || resp.Header.Get("Docker-Content-Digest") != dgst {
			t.Errorf("HEAD: status %d, Content-Length %d, digest %q", resp.StatusCode, resp.ContentLength, resp.Header.Get("Docker-Content-Digest"))
		}
	})

	t.Run("GET stream-hashed", func(t *testing.T) {
		began := time.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, blobURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", auth)
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			rb, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			t.Fatalf("GET: status %d, body %s", resp.StatusCode, rb)
		}
		if resp.ContentLength != blobSize {
			t.Errorf("Content-Length %d, want %d", resp.ContentLength, blobSize)
		}
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		if err != nil {
			t.Fatalf("reading the blob after %d bytes: %v", n, err)
		}
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); n != blobSize || got != dgst {
			t.Errorf("GET returned %d bytes hashing to %s, want %d bytes %s", n, got, blobSize, dgst)
		}
		t.Logf("GET of 1 GiB took %v", time.Since(began).Round(time.Millisecond))
	})

	for i, w := range windows {
		t.Run(fmt.Sprintf("Range %d-%d", w.start, w.end), func(t *testing.T) {
			resp, body := doHTTP(t, ctx, b, http.MethodGet, blobURL, map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", w.start, w.end)}, nil)
			if resp.StatusCode != http.StatusPartialContent {
				t.Fatalf("status %d, want 206", resp.StatusCode)
			}
			if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-%d/%d", w.start, w.end, blobSize); got != want {
				t.Errorf("Content-Range = %q, want %q", got, want)
			}
			if !bytes.Equal(body, windowData[i]) {
				t.Errorf("range content differs (%d bytes, want %d)", len(body), len(windowData[i]))
			}
		})
	}
	t.Run("suffix Range", func(t *testing.T) {
		resp, body := doHTTP(t, ctx, b, http.MethodGet, blobURL, map[string]string{"Range": "bytes=-4096"}, nil)
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, windowData[0]) {
			t.Errorf("suffix range: status %d, %d bytes, equal %v", resp.StatusCode, len(body), bytes.Equal(body, windowData[0]))
		}
	})
}

// ---------------------------------------------------------------------------
// 5. pushing to a repository that does not exist

func TestGGCRMissingRepository(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "") // no --auto-create-repositories: like ECR
	ctx := withTimeout(t, time.Minute)
	opts := ggcrOpts(t, b, ctx)
	const repoName = "team/missing-app"
	wantMsg := fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '000000000000'", repoName)
	repo := ggcrRepo(t, b, repoName)

	t.Run("remote.Write", func(t *testing.T) {
		img, err := random.Image(1024, 1)
		if err != nil {
			t.Fatal(err)
		}
		err = remote.Write(repo.Tag("v1"), img, opts...)
		te := wantRegistryError(t, err, http.StatusNotFound, "NAME_UNKNOWN")
		if len(te.Errors) > 0 && te.Errors[0].Message != wantMsg {
			t.Errorf("message = %q, want %q", te.Errors[0].Message, wantMsg)
		}
		// go-containerregistry's first request that can carry a body is
		// the upload POST; its HEAD existence check before it only sees a 404.
		if te.Request != nil && (te.Request.Method != http.MethodPost || !strings.HasSuffix(te.Request.URL.Path, "/blobs/uploads/")) {
			t.Logf("note: the failing request was %s %s", te.Request.Method, te.Request.URL.Path)
		}
	})

	t.Run("remote.List", func(t *testing.T) {
		_, err := remote.List(repo, opts...)
		te := wantRegistryError(t, err, http.StatusNotFound, "NAME_UNKNOWN")
		if len(te.Errors) > 0 && te.Errors[0].Message != wantMsg {
			t.Errorf("message = %q, want %q", te.Errors[0].Message, wantMsg)
		}
	})

	// The same on the wire, for each way a push can begin.
	for _, tc := range []struct {
		method, path string
		body         []byte
		hdr          map[string]string
	}{
		{http.MethodHead, "/blobs/sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", nil, nil},
		{http.MethodPost, "/blobs/uploads/", nil, nil},
		{http.MethodPost, "/blobs/uploads/?digest=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", []byte("{}"), map[string]string{"Content-Type": "application/octet-stream"}},
		{http.MethodPut, "/manifests/v1", []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`), map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}},
		{http.MethodGet, "/manifests/v1", nil, nil},
		{http.MethodGet, "/tags/list", nil, nil},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, body := doHTTP(t, ctx, b, tc.method, b.URL+"/v2/"+repoName+tc.path, tc.hdr, tc.body)
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("status %d, want 404; body %s", resp.StatusCode, body)
			}
			if tc.method == http.MethodHead {
				return // no body to read the error from
			}
			var eb ociErrorBody
			if err := json.Unmarshal(body, &eb); err != nil || len(eb.Errors) == 0 {
				t.Fatalf("error body %q: %v", body, err)
			}
			if eb.Errors[0].Code != "NAME_UNKNOWN" || eb.Errors[0].Message != wantMsg {
				t.Errorf("error = %s: %q, want NAME_UNKNOWN: %q", eb.Errors[0].Code, eb.Errors[0].Message, wantMsg)
			}
		})
	}

	t.Run("nothing was created", func(t *testing.T) {
		reg, _ := name.NewRegistry(b.Host, name.Insecure)
		repos, err := remote.Catalog(ctx, reg, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if len(repos) != 0 {
			t.Errorf("catalog after refused pushes = %q, want empty", repos)
		}
	})
}
