package e2e

// The ECR API's image and layer operations, driven with aws-sdk-go-v2 against
// a real server, and crossed with the data plane (go-containerregistry):
// what one front door pushes, the other pulls.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/opencontainers/go-digest"
)

// ---------------------------------------------------------------------------
// helpers

// imgServer starts a server whose repositories the test creates through
// CreateRepository. Should that operation be missing, it falls back to a
// server that creates repositories on first push (autoCreate reports it).
func imgServer(t *testing.T) (b *berth, autoCreate bool) {
	t.Helper()
	b = startBerth(t, "")
	_, err := b.ECR().CreateRepository(withTimeout(t, time.Minute), &ecr.CreateRepositoryInput{RepositoryName: aws.String("probe/create")})
	if imgErrCode(err) == "UnsupportedOperationException" {
		b.Stop()
		return startBerth(t, "", "--auto-create-repositories"), true
	}
	if err != nil {
		t.Fatalf("CreateRepository: %v", err)
	}
	return b, false
}

// imgCreateRepo creates a repository (a no-op on an auto-creating server,
// where the first InitiateLayerUpload or PutImage creates it).
func imgCreateRepo(t *testing.T, b *berth, autoCreate bool, name string, immutable bool) {
	t.Helper()
	if autoCreate {
		return
	}
	in := &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}
	if immutable {
		in.ImageTagMutability = ecrtypes.ImageTagMutabilityImmutable
	}
	if _, err := b.ECR().CreateRepository(withTimeout(t, time.Minute), in); err != nil {
		t.Fatalf("CreateRepository(%s): %v", name, err)
	}
}

func imgErrCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func imgErrMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// wantImgAPIError asserts an API error's code and that its message holds each
// of words.
func wantImgAPIError(t *testing.T, err error, code string, words ...string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	for _, w := range words {
		if !strings.Contains(ae.ErrorMessage(), w) {
			t.Errorf("%s message %q does not mention %q", code, ae.ErrorMessage(), w)
		}
	}
}

func imgRandom(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

var imgUUIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// imgPushLayer uploads a blob as ECR's proxy does: InitiateLayerUpload, then
// UploadLayerPart in parts of partSize, then CompleteLayerUpload.
func imgPushLayer(t *testing.T, ctx context.Context, c *ecr.Client, repo string, data []byte, partSize int) digest.Digest {
	t.Helper()
	d := digest.FromBytes(data)
	up, err := c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatalf("InitiateLayerUpload: %v", err)
	}
	if !imgUUIDRE.MatchString(aws.ToString(up.UploadId)) {
		t.Errorf("uploadId %q is not a UUID, as the model's pattern asks", aws.ToString(up.UploadId))
	}
	if aws.ToInt64(up.PartSize) <= 0 {
		t.Errorf("partSize = %d", aws.ToInt64(up.PartSize))
	}
	for off := 0; off < len(data); off += partSize {
		end := min(off+partSize, len(data))
		out, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{
			RepositoryName: aws.String(repo), UploadId: up.UploadId,
			PartFirstByte: aws.Int64(int64(off)), PartLastByte: aws.Int64(int64(end - 1)),
			LayerPartBlob: data[off:end],
		})
		if err != nil {
			t.Fatalf("UploadLayerPart(%d-%d): %v", off, end-1, err)
		}
		if got := aws.ToInt64(out.LastByteReceived); got != int64(end-1) {
			t.Errorf("lastByteReceived = %d, want %d", got, end-1)
		}
	}
	out, err := c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{
		RepositoryName: aws.String(repo), UploadId: up.UploadId, LayerDigests: []string{d.String()},
	})
	if err != nil {
		t.Fatalf("CompleteLayerUpload: %v", err)
	}
	if aws.ToString(out.LayerDigest) != d.String() || aws.ToString(out.UploadId) != aws.ToString(up.UploadId) {
		t.Errorf("CompleteLayerUpload = %+v, want digest %s", out, d)
	}
	return d
}

type imgDesc struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

const (
	imgMTManifest = "application/vnd.oci.image.manifest.v1+json"
	imgMTIndex    = "application/vnd.oci.image.index.v1+json"
	imgMTConfig   = "application/vnd.oci.image.config.v1+json"
	imgMTLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// imgManifest writes an OCI image manifest over the given config and
// layers; note makes otherwise equal manifests differ.
func imgManifest(config []byte, note string, layers ...[]byte) []byte {
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     imgMTManifest,
		"config":        imgDesc{imgMTConfig, digest.FromBytes(config).String(), int64(len(config))},
		"layers":        []imgDesc{},
	}
	var ls []imgDesc
	for _, l := range layers {
		ls = append(ls, imgDesc{imgMTLayer, digest.FromBytes(l).String(), int64(len(l))})
	}
	if ls != nil {
		m["layers"] = ls
	}
	if note != "" {
		m["annotations"] = map[string]string{"note": note}
	}
	b, _ := json.Marshal(m)
	return b
}

func imgIndex(children ...[]byte) []byte {
	var ms []imgDesc
	for _, c := range children {
		ms = append(ms, imgDesc{imgMTManifest, digest.FromBytes(c).String(), int64(len(c))})
	}
	b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": imgMTIndex, "manifests": ms})
	return b
}

func imgPut(t *testing.T, ctx context.Context, c *ecr.Client, repo string, manifest []byte, tag string) *ecr.PutImageOutput {
	t.Helper()
	in := &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(manifest))}
	if tag != "" {
		in.ImageTag = aws.String(tag)
	}
	out, err := c.PutImage(ctx, in)
	if err != nil {
		t.Fatalf("PutImage(%s): %v", tag, err)
	}
	return out
}

// imgBaseLayers uploads a config and a layer every test image can share.
func imgBaseLayers(t *testing.T, ctx context.Context, c *ecr.Client, repo string) (config, layer []byte) {
	t.Helper()
	config = []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer = imgRandom(t, 3000)
	imgPushLayer(t, ctx, c, repo, config, 1<<20)
	imgPushLayer(t, ctx, c, repo, layer, 1<<20)
	return config, layer
}

func imgIDs(ids []ecrtypes.ImageIdentifier) []string {
	var out []string
	for _, id := range ids {
		out = append(out, aws.ToString(id.ImageDigest)+"@"+aws.ToString(id.ImageTag))
	}
	sort.Strings(out)
	return out
}

func imgFailureCodes(fs []ecrtypes.ImageFailure) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.FailureCode))
	}
	return out
}

// ---------------------------------------------------------------------------
// tests

// TestECRImagePushAPIPullDataPlane pushes an image through the ECR API only
// and pulls it with go-containerregistry over /v2/.
func TestECRImagePushAPIPullDataPlane(t *testing.T) {
	b, auto := imgServer(t)
	ctx := withTimeout(t, 3*time.Minute)
	c := b.ECR()
	repo := "api/pushed"
	imgCreateRepo(t, b, auto, repo, false)

	img, err := random.Image(200000, 3)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	mt, _ := img.MediaType()
	layers, _ := img.Layers()
	cfgName, _ := img.ConfigName()
	cfg, _ := img.RawConfigFile()

	var digests []string
	for _, l := range layers {
		d, _ := l.Digest()
		digests = append(digests, d.String())
	}
	check, err := c.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: digests})
	if err != nil {
		t.Fatalf("BatchCheckLayerAvailability: %v", err)
	}
	for _, l := range check.Layers {
		if l.LayerAvailability != ecrtypes.LayerAvailabilityUnavailable {
			t.Errorf("before the push, layer %s is %s", aws.ToString(l.LayerDigest), l.LayerAvailability)
		}
	}

	imgPushLayer(t, ctx, c, repo, cfg, 1<<20)
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		imgPushLayer(t, ctx, c, repo, data, 64<<10) // several parts
	}
	check, err = c.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: append(digests, cfgName.String())})
	if err != nil {
		t.Fatalf("BatchCheckLayerAvailability: %v", err)
	}
	for i, l := range check.Layers {
		if l.LayerAvailability != ecrtypes.LayerAvailabilityAvailable || aws.ToInt64(l.LayerSize) <= 0 {
			t.Errorf("after the push, layer %d = %+v", i, l)
		}
	}

	out, err := c.PutImage(ctx, &ecr.PutImageInput{
		RepositoryName: aws.String(repo), ImageManifest: aws.String(string(raw)),
		ImageManifestMediaType: aws.String(string(mt)), ImageTag: aws.String("v1"),
	})
	if err != nil {
		t.Fatalf("PutImage: %v", err)
	}
	want, _ := img.Digest()
	if got := aws.ToString(out.Image.ImageId.ImageDigest); got != want.String() {
		t.Errorf("PutImage digest = %s, want %s", got, want)
	}
	if aws.ToString(out.Image.ImageManifest) != string(raw) || aws.ToString(out.Image.ImageManifestMediaType) != string(mt) {
		t.Errorf("PutImage image = %+v", out.Image)
	}

	// Now the layers are in an image, their media type is known.
	check, err = c.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: digests[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if lmt, _ := layers[0].MediaType(); aws.ToString(check.Layers[0].MediaType) != string(lmt) {
		t.Errorf("layer media type = %q, want %q", aws.ToString(check.Layers[0].MediaType), lmt)
	}

	pulled, err := remote.Image(ggcrRepo(t, b, repo).Tag("v1"), ggcrOpts(t, b, ctx)...)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if err := validate.Image(pulled); err != nil {
		t.Fatalf("pulled image does not validate: %v", err)
	}
	if got, _ := pulled.Digest(); got != want {
		t.Errorf("pulled digest = %s, want %s", got, want)
	}
}

// TestECRImagePushDataPlaneReadAPI pushes with go-containerregistry and
// reads back through BatchGetImage and GetDownloadUrlForLayer.
func TestECRImagePushDataPlaneReadAPI(t *testing.T) {
	b, auto := imgServer(t)
	ctx := withTimeout(t, 3*time.Minute)
	c := b.ECR()
	repo := "oci/pushed"
	imgCreateRepo(t, b, auto, repo, false)

	img, err := random.Image(100000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ggcrRepo(t, b, repo).Tag("v1"), img, ggcrOpts(t, b, ctx)...); err != nil {
		t.Fatalf("push: %v", err)
	}
	raw, _ := img.RawManifest()
	mt, _ := img.MediaType()
	dg, _ := img.Digest()

	got, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil {
		t.Fatalf("BatchGetImage: %v", err)
	}
	if len(got.Images) != 1 || len(got.Failures) != 0 {
		t.Fatalf("BatchGetImage = %d images, failures %+v", len(got.Images), got.Failures)
	}
	im := got.Images[0]
	if aws.ToString(im.ImageManifest) != string(raw) {
		t.Errorf("imageManifest differs from the pushed bytes:\n%s\n%s", aws.ToString(im.ImageManifest), raw)
	}
	if aws.ToString(im.ImageManifestMediaType) != string(mt) || aws.ToString(im.ImageId.ImageDigest) != dg.String() ||
		aws.ToString(im.ImageId.ImageTag) != "v1" || aws.ToString(im.RegistryId) != testAccount || aws.ToString(im.RepositoryName) != repo {
		t.Errorf("image = %+v", im)
	}

	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	rc, _ := layers[0].Compressed()
	layerBytes, _ := io.ReadAll(rc)
	rc.Close()
	u, err := c.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(ld.String())})
	if err != nil {
		t.Fatalf("GetDownloadUrlForLayer: %v", err)
	}
	if aws.ToString(u.LayerDigest) != ld.String() {
		t.Errorf("layerDigest = %s, want %s", aws.ToString(u.LayerDigest), ld)
	}
	link := aws.ToString(u.DownloadUrl)
	if !strings.HasPrefix(link, b.URL+"/") {
		t.Errorf("downloadUrl %s is not served by %s", link, b.URL)
	}
	resp, err := http.Get(link) // no credentials at all
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, layerBytes) {
		t.Fatalf("GET downloadUrl: %d, %d bytes (want %d): %.200s", resp.StatusCode, len(body), len(layerBytes), body)
	}

	req, _ := http.NewRequest(http.MethodGet, link, nil)
	req.Header.Set("Range", "bytes=10-19")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, layerBytes[10:20]) {
		t.Errorf("ranged GET: %d %q, want 206 %q", resp.StatusCode, body, layerBytes[10:20])
	}

	i := strings.LastIndex(link, "/") + 5
	flip := byte('A')
	if link[i] == 'A' {
		flip = 'B'
	}
	for _, bad := range []string{link[:i] + string(flip) + link[i+1:], link[:len(link)-3], link + "x"} {
		resp, err := http.Get(bad)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "not valid") {
			t.Errorf("tampered link %s: %d %q, want 403 saying it is not valid", bad, resp.StatusCode, body)
		}
	}

	_, err = c.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(digest.FromString("absent").String())})
	wantImgAPIError(t, err, "LayersNotFoundException", repo)
	// Uploaded but in no image: ECR hands out no link.
	loose := imgPushLayer(t, ctx, c, repo, []byte("a layer no image references"), 1<<20)
	_, err = c.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(loose.String())})
	wantImgAPIError(t, err, "LayerInaccessibleException", loose.String())
	_, err = c.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String("oci/absent"), LayerDigest: aws.String(ld.String())})
	wantImgAPIError(t, err, "RepositoryNotFoundException", "oci/absent")

}

// TestLayerUploadSharedSessions continues an upload on the other front door.
func TestLayerUploadSharedSessions(t *testing.T) {
	b, auto := imgServer(t)
	ctx := withTimeout(t, 2*time.Minute)
	c := b.ECR()
	repo := "shared/uploads"
	imgCreateRepo(t, b, auto, repo, false)

	// Started with the API, a chunk over /v2/, finished with the API.
	data := imgRandom(t, 5000)
	d := digest.FromBytes(data)
	up, err := c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(up.UploadId)
	if _, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(999), LayerPartBlob: data[:1000]}); err != nil {
		t.Fatal(err)
	}
	resp, body := doHTTP(t, ctx, b, http.MethodPatch, b.URL+"/v2/"+repo+"/blobs/uploads/"+id,
		map[string]string{"Content-Type": "application/octet-stream", "Content-Range": "1000-2999"}, data[1000:3000])
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("PATCH into an API upload: %d %s", resp.StatusCode, body)
	}
	if _, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
		PartFirstByte: aws.Int64(3000), PartLastByte: aws.Int64(4999), LayerPartBlob: data[3000:]}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo), UploadId: up.UploadId, LayerDigests: []string{d.String()}}); err != nil {
		t.Fatal(err)
	}
	resp, body = doHTTP(t, ctx, b, http.MethodGet, b.URL+"/v2/"+repo+"/blobs/"+d.String(), nil, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("GET blob: %d, %d bytes", resp.StatusCode, len(body))
	}

	// Started over /v2/, a part through the API, finished over /v2/.
	data = imgRandom(t, 4000)
	d = digest.FromBytes(data)
	resp, body = doHTTP(t, ctx, b, http.MethodPost, b.URL+"/v2/"+repo+"/blobs/uploads/", nil, nil)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST upload: %d %s", resp.StatusCode, body)
	}
	id = resp.Header.Get("Docker-Upload-UUID")
	loc := resp.Header.Get("Location")
	if _, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: aws.String(id),
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(3999), LayerPartBlob: data}); err != nil {
		t.Fatalf("UploadLayerPart into a /v2/ upload %s: %v", id, err)
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	if !strings.HasPrefix(loc, "http") {
		loc = b.URL + loc
	}
	resp, body = doHTTP(t, ctx, b, http.MethodPut, loc+sep+"digest="+d.String(), nil, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT to complete: %d %s", resp.StatusCode, body)
	}
	check, err := c.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: []string{d.String()}})
	if err != nil || check.Layers[0].LayerAvailability != ecrtypes.LayerAvailabilityAvailable || aws.ToInt64(check.Layers[0].LayerSize) != 4000 {
		t.Fatalf("BatchCheckLayerAvailability = %+v, %v", check, err)
	}
}

func TestLayerUploadErrors(t *testing.T) {
	b, auto := imgServer(t)
	ctx := withTimeout(t, 2*time.Minute)
	c := b.ECR()
	repo := "errors/layers"
	imgCreateRepo(t, b, auto, repo, false)

	up, err := c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	part := func(first, last int64, blob []byte) error {
		_, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
			PartFirstByte: aws.Int64(first), PartLastByte: aws.Int64(last), LayerPartBlob: blob})
		return err
	}
	complete := func(ds ...string) error {
		_, err := c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo), UploadId: up.UploadId, LayerDigests: ds})
		return err
	}
	data := imgRandom(t, 100)

	wantImgAPIError(t, complete(digest.FromBytes(nil).String()), "EmptyUploadException", aws.ToString(up.UploadId))
	if err := part(0, 49, data[:50]); err != nil {
		t.Fatal(err)
	}
	err = part(60, 109, data[50:])
	wantImgAPIError(t, err, "InvalidLayerPartException", "50")
	var lpe *ecrtypes.InvalidLayerPartException
	if !errors.As(err, &lpe) || aws.ToInt64(lpe.LastValidByteReceived) != 49 || aws.ToString(lpe.UploadId) != aws.ToString(up.UploadId) ||
		aws.ToString(lpe.RepositoryName) != repo || aws.ToString(lpe.RegistryId) != testAccount {
		t.Errorf("InvalidLayerPartException = %+v, want lastValidByteReceived 49 and the upload named", lpe)
	}
	wantImgAPIError(t, part(50, 60, data[50:]), "InvalidLayerPartException", "layerPartBlob holds 50")
	if err := part(50, 99, data[50:]); err != nil {
		t.Fatal(err)
	}
	wantImgAPIError(t, complete(digest.FromBytes(data).String(), digest.FromString("other").String()), "InvalidParameterException")

	// The layer is already in the repository: ECR says so and the upload ends.
	imgPushLayer(t, ctx, c, repo, data, 1<<20)
	wantImgAPIError(t, complete(digest.FromBytes(data).String()), "LayerAlreadyExistsException", digest.FromBytes(data).String(), repo, testAccount)
	wantImgAPIError(t, part(100, 100, []byte{1}), "UploadNotFoundException")

	// A digest that does not match the bytes ends the upload.
	up, err = c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	if err := part(0, 9, data[:10]); err != nil {
		t.Fatal(err)
	}
	wantImgAPIError(t, complete(digest.FromString("something else").String()), "InvalidLayerException")
	wantImgAPIError(t, complete(digest.FromBytes(data[:10]).String()), "UploadNotFoundException")

	_, err = c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: aws.String("00000000-0000-4000-8000-000000000000"),
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte{1}})
	wantImgAPIError(t, err, "UploadNotFoundException")

	check, err := c.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo),
		LayerDigests: []string{"nope", "", digest.FromBytes(data).String()}})
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, f := range check.Failures {
		codes = append(codes, string(f.FailureCode))
	}
	if !slices.Equal(codes, []string{"InvalidLayerDigest", "MissingLayerDigest"}) || len(check.Layers) != 1 ||
		check.Layers[0].LayerAvailability != ecrtypes.LayerAvailabilityAvailable {
		t.Errorf("BatchCheckLayerAvailability = layers %+v, failures %v", check.Layers, codes)
	}
	if !auto {
		_, err = c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("errors/absent")})
		wantImgAPIError(t, err, "RepositoryNotFoundException", "errors/absent")
		_, err = c.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("errors/absent"), LayerDigests: []string{digest.FromBytes(data).String()}})
		wantImgAPIError(t, err, "RepositoryNotFoundException", "errors/absent")
	}
}

func TestECRImagePutImageErrors(t *testing.T) {
	b, auto := imgServer(t)
	ctx := withTimeout(t, 2*time.Minute)
	c := b.ECR()
	repo := "errors/images"
	imgCreateRepo(t, b, auto, repo, false)
	config, layer := imgBaseLayers(t, ctx, c, repo)

	m := imgManifest(config, "one", layer)
	d := digest.FromBytes(m).String()
	out := imgPut(t, ctx, c, repo, m, "v1")
	if aws.ToString(out.Image.ImageId.ImageDigest) != d || aws.ToString(out.Image.ImageId.ImageTag) != "v1" ||
		aws.ToString(out.Image.RegistryId) != testAccount || aws.ToString(out.Image.ImageManifestMediaType) != imgMTManifest {
		t.Errorf("PutImage = %+v", out.Image)
	}

	_, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(m)), ImageTag: aws.String("v1")})
	wantImgAPIError(t, err, "ImageAlreadyExistsException")
	if msg := imgErrMessage(err); msg != fmt.Sprintf("Image with digest '%s' and tag 'v1' already exists in the repository with name '%s' in registry with id '%s'", d, repo, testAccount) {
		t.Errorf("ImageAlreadyExistsException message = %q", msg)
	}
	// The same manifest under a new tag is a change.
	imgPut(t, ctx, c, repo, m, "v1-again")

	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(m)), ImageTag: aws.String("v2"),
		ImageDigest: aws.String(digest.FromString("x").String())})
	wantImgAPIError(t, err, "ImageDigestDoesNotMatchException", d)
	out, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(m)), ImageTag: aws.String("v2"), ImageDigest: aws.String(d)})
	if err != nil || aws.ToString(out.Image.ImageId.ImageDigest) != d {
		t.Errorf("PutImage with the right imageDigest: %+v, %v", out, err)
	}

	missing := imgRandom(t, 10)
	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(imgManifest(config, "two", missing))), ImageTag: aws.String("v3")})
	wantImgAPIError(t, err, "LayersNotFoundException", digest.FromBytes(missing).String(), repo)

	child := imgManifest(config, "never pushed", layer)
	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(imgIndex(m, child))), ImageTag: aws.String("multi")})
	wantImgAPIError(t, err, "ReferencedImagesNotFoundException", digest.FromBytes(child).String(), repo)

	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String("this is not a manifest"), ImageTag: aws.String("bad")})
	wantImgAPIError(t, err, "InvalidParameterException", "JSON")
	noType := []byte(strings.Replace(string(imgManifest(config, "no type", layer)), `"mediaType":"`+imgMTManifest+`",`, "", 1))
	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(noType)), ImageTag: aws.String("nt")})
	wantImgAPIError(t, err, "InvalidParameterException", "imageManifestMediaType")
	if _, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(noType)), ImageTag: aws.String("nt"),
		ImageManifestMediaType: aws.String(imgMTManifest)}); err != nil {
		t.Errorf("PutImage with imageManifestMediaType for a manifest without mediaType: %v", err)
	}
	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(m)), ImageTag: aws.String("mt"),
		ImageManifestMediaType: aws.String("application/vnd.docker.distribution.manifest.v2+json")})
	wantImgAPIError(t, err, "InvalidParameterException", "imageManifestMediaType")

	// By digest alone: an untagged image.
	untagged := imgManifest(config, "untagged", layer)
	out = imgPut(t, ctx, c, repo, untagged, "")
	if out.Image.ImageId.ImageTag != nil {
		t.Errorf("untagged PutImage answered tag %q", aws.ToString(out.Image.ImageId.ImageTag))
	}

	if !auto {
		_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("errors/absent"), ImageManifest: aws.String(string(m)), ImageTag: aws.String("v1")})
		wantImgAPIError(t, err, "RepositoryNotFoundException", "errors/absent")

		frozen := "errors/immutable"
		imgCreateRepo(t, b, auto, frozen, true)
		imgBaseLayers(t, ctx, c, frozen)
		imgPushLayer(t, ctx, c, frozen, layer, 1<<20)
		imgPut(t, ctx, c, frozen, m, "v1")
		_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(frozen), ImageManifest: aws.String(string(untagged)), ImageTag: aws.String("v1")})
		wantImgAPIError(t, err, "ImageTagAlreadyExistsException", "v1")
		_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(frozen), ImageManifest: aws.String(string(m)), ImageTag: aws.String("v1")})
		wantImgAPIError(t, err, "ImageAlreadyExistsException")
	}
}

func TestECRImageDescribe(t *testing.T) {
	b, auto := imgServer(t)
	ctx := withTimeout(t, 2*time.Minute)
	c := b.ECR()
	repo := "describe/app"
	imgCreateRepo(t, b, auto, repo, false)
	config, layer := imgBaseLayers(t, ctx, c, repo)
	before := time.Now().Add(-time.Second)

	m := imgManifest(config, "described", layer)
	d := digest.FromBytes(m).String()
	imgPut(t, ctx, c, repo, m, "v1")
	imgPut(t, ctx, c, repo, m, "latest")
	bigLayer := imgRandom(t, 9000)
	imgPushLayer(t, ctx, c, repo, bigLayer, 1<<20)
	big := imgManifest(config, "big", bigLayer)
	imgPut(t, ctx, c, repo, big, "")
	idx := imgIndex(m, big)
	imgPut(t, ctx, c, repo, idx, "multi")

	describe := func(in *ecr.DescribeImagesInput) map[string]ecrtypes.ImageDetail {
		t.Helper()
		in.RepositoryName = aws.String(repo)
		out, err := c.DescribeImages(ctx, in)
		if err != nil {
			t.Fatalf("DescribeImages: %v", err)
		}
		got := map[string]ecrtypes.ImageDetail{}
		for _, dt := range out.ImageDetails {
			got[aws.ToString(dt.ImageDigest)] = dt
		}
		return got
	}
	all := describe(&ecr.DescribeImagesInput{})
	if len(all) != 3 {
		t.Fatalf("DescribeImages = %d images, want 3", len(all))
	}
	dt := all[d]
	if aws.ToString(dt.RegistryId) != testAccount || aws.ToString(dt.RepositoryName) != repo ||
		!slices.Equal(dt.ImageTags, []string{"latest", "v1"}) ||
		aws.ToString(dt.ImageManifestMediaType) != imgMTManifest || aws.ToString(dt.ArtifactMediaType) != imgMTConfig {
		t.Errorf("image detail = %+v", dt)
	}
	if want := int64(len(m) + len(config) + len(layer)); aws.ToInt64(dt.ImageSizeInBytes) != want {
		t.Errorf("imageSizeInBytes = %d, want %d", aws.ToInt64(dt.ImageSizeInBytes), want)
	}
	if p := aws.ToTime(dt.ImagePushedAt); p.Before(before) || p.After(time.Now().Add(time.Second)) {
		t.Errorf("imagePushedAt = %v, want about now", p)
	}
	if dt.LastRecordedPullTime != nil {
		t.Errorf("lastRecordedPullTime = %v before any pull", dt.LastRecordedPullTime)
	}
	bigSize := int64(len(big) + len(config) + len(bigLayer))
	if got := aws.ToInt64(all[digest.FromBytes(idx).String()].ImageSizeInBytes); got != bigSize {
		t.Errorf("index imageSizeInBytes = %d, want its largest image's %d", got, bigSize)
	}
	if len(all[digest.FromBytes(big).String()].ImageTags) != 0 {
		t.Errorf("untagged image has tags %q", all[digest.FromBytes(big).String()].ImageTags)
	}

	tagged := describe(&ecr.DescribeImagesInput{Filter: &ecrtypes.DescribeImagesFilter{TagStatus: ecrtypes.TagStatusTagged}})
	untagged := describe(&ecr.DescribeImagesInput{Filter: &ecrtypes.DescribeImagesFilter{TagStatus: ecrtypes.TagStatusUntagged}})
	if len(tagged) != 2 || len(untagged) != 1 {
		t.Errorf("TAGGED %d, UNTAGGED %d images; want 2 and 1", len(tagged), len(untagged))
	}
	byID := describe(&ecr.DescribeImagesInput{ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}, {ImageDigest: aws.String(d)}, {ImageTag: aws.String("latest"), ImageDigest: aws.String(d)}}})
	if len(byID) != 1 || !slices.Equal(byID[d].ImageTags, []string{"latest", "v1"}) {
		t.Errorf("DescribeImages by id = %+v", byID)
	}

	_, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("nope")}}})
	wantImgAPIError(t, err, "ImageNotFoundException")
	if msg := imgErrMessage(err); msg != fmt.Sprintf("The image with imageId {imageDigest:'null', imageTag:'nope'} does not exist within the repository with name '%s' in the registry with id '%s'", repo, testAccount) {
		t.Errorf("ImageNotFoundException message = %q", msg)
	}
	_, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(5), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	wantImgAPIError(t, err, "InvalidParameterException", "maxResults")
	_, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("describe/absent")})
	wantImgAPIError(t, err, "RepositoryNotFoundException", "describe/absent")

	// A pull over /v2/ shows as lastRecordedPullTime, shortly.
	pulledAt := time.Now()
	if _, err := remote.Get(ggcrRepo(t, b, repo).Tag("v1"), ggcrOpts(t, b, ctx)...); err != nil {
		t.Fatalf("pull: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		dt := describe(&ecr.DescribeImagesInput{ImageIds: []ecrtypes.ImageIdentifier{{ImageDigest: aws.String(d)}}})[d]
		if p := dt.LastRecordedPullTime; p != nil {
			if p.Before(pulledAt.Add(-time.Second)) || p.After(time.Now().Add(time.Second)) {
				t.Errorf("lastRecordedPullTime = %v, want about %v", p, pulledAt)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("lastRecordedPullTime not recorded 10s after a pull")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if dt := describe(&ecr.DescribeImagesInput{ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("multi")}}}); dt[digest.FromBytes(idx).String()].LastRecordedPullTime != nil {
		t.Error("an image that was not pulled has a lastRecordedPullTime")
	}
}

func TestECRImageBatchGet(t *testing.T) {
	b, auto := imgServer(t)
	ctx := withTimeout(t, 2*time.Minute)
	c := b.ECR()
	repo := "batch/get"
	imgCreateRepo(t, b, auto, repo, false)
	config, layer := imgBaseLayers(t, ctx, c, repo)
	// Odd spacing and key order: the answer must be these exact bytes.
	m := append([]byte("{ \n\t\"zzz\" :  1,"), imgManifest(config, "exact", layer)[1:]...)
	d := digest.FromBytes(m).String()
	imgPut(t, ctx, c, repo, m, "a")
	imgPut(t, ctx, c, repo, m, "b")

	get := func(accepted []string, ids ...ecrtypes.ImageIdentifier) *ecr.BatchGetImageOutput {
		t.Helper()
		out, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: ids, AcceptedMediaTypes: accepted})
		if err != nil {
			t.Fatalf("BatchGetImage: %v", err)
		}
		return out
	}
	out := get(nil, ecrtypes.ImageIdentifier{ImageDigest: aws.String(d)})
	var ids []ecrtypes.ImageIdentifier
	for _, im := range out.Images {
		ids = append(ids, *im.ImageId)
		if aws.ToString(im.ImageManifest) != string(m) {
			t.Errorf("imageManifest = %q, want the exact pushed bytes %q", aws.ToString(im.ImageManifest), m)
		}
	}
	if got := imgIDs(ids); !slices.Equal(got, []string{d + "@a", d + "@b"}) {
		t.Errorf("by digest: images %q, want one per tag", got)
	}

	out = get([]string{imgMTManifest}, ecrtypes.ImageIdentifier{ImageTag: aws.String("a")})
	if len(out.Images) != 1 || aws.ToString(out.Images[0].ImageId.ImageDigest) != d {
		t.Errorf("by tag with the type accepted: %+v", out)
	}
	out = get([]string{"application/vnd.docker.distribution.manifest.v2+json"}, ecrtypes.ImageIdentifier{ImageTag: aws.String("a")})
	if len(out.Images) != 0 || !slices.Equal(imgFailureCodes(out.Failures), []string{"UnsupportedImageType"}) {
		t.Errorf("by tag with the type not accepted: images %d, failures %v", len(out.Images), imgFailureCodes(out.Failures))
	}

	out = get(nil,
		ecrtypes.ImageIdentifier{ImageTag: aws.String("missing")},
		ecrtypes.ImageIdentifier{ImageDigest: aws.String("not-a-digest")},
		ecrtypes.ImageIdentifier{},
		ecrtypes.ImageIdentifier{ImageTag: aws.String("a"), ImageDigest: aws.String(digest.FromString("x").String())},
		ecrtypes.ImageIdentifier{ImageTag: aws.String("b"), ImageDigest: aws.String(d)},
	)
	if got := imgFailureCodes(out.Failures); !slices.Equal(got, []string{"ImageNotFound", "InvalidImageDigest", "MissingDigestAndTag", "ImageTagDoesNotMatchDigest"}) {
		t.Errorf("failure codes = %v", got)
	}
	if len(out.Images) != 1 || aws.ToString(out.Images[0].ImageId.ImageTag) != "b" {
		t.Errorf("images = %+v, want b", out.Images)
	}
	if r := aws.ToString(out.Failures[0].FailureReason); r != "Requested image not found" {
		t.Errorf("ImageNotFound reason = %q", r)
	}
	if id := out.Failures[0].ImageId; aws.ToString(id.ImageTag) != "missing" || id.ImageDigest != nil {
		t.Errorf("failure imageId = %+v, want the id as asked", id)
	}

	_, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String("batch/absent"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("a")}}})
	wantImgAPIError(t, err, "RepositoryNotFoundException", "batch/absent")
}

func TestECRImageBatchDelete(t *testing.T) {
	b, auto := imgServer(t)
	ctx := withTimeout(t, 2*time.Minute)
	c := b.ECR()
	repo := "batch/delete"
	imgCreateRepo(t, b, auto, repo, false)
	config, layer := imgBaseLayers(t, ctx, c, repo)

	del := func(ids ...ecrtypes.ImageIdentifier) *ecr.BatchDeleteImageOutput {
		t.Helper()
		out, err := c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo), ImageIds: ids})
		if err != nil {
			t.Fatalf("BatchDeleteImage: %v", err)
		}
		return out
	}
	list := func() []string {
		t.Helper()
		out, err := c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(repo)})
		if err != nil {
			t.Fatal(err)
		}
		return imgIDs(out.ImageIds)
	}

	m := imgManifest(config, "tags", layer)
	d := digest.FromBytes(m).String()
	imgPut(t, ctx, c, repo, m, "a")
	imgPut(t, ctx, c, repo, m, "b")
	imgPut(t, ctx, c, repo, m, "c")

	out := del(ecrtypes.ImageIdentifier{ImageTag: aws.String("a")})
	if got := imgIDs(out.ImageIds); !slices.Equal(got, []string{d + "@a"}) || len(out.Failures) != 0 {
		t.Errorf("delete by tag = %q, failures %v", got, imgFailureCodes(out.Failures))
	}
	if got := list(); !slices.Equal(got, []string{d + "@b", d + "@c"}) {
		t.Errorf("after deleting a tag: %q", got)
	}
	out = del(ecrtypes.ImageIdentifier{ImageTag: aws.String("b"), ImageDigest: aws.String(d)})
	if got := imgIDs(out.ImageIds); !slices.Equal(got, []string{d + "@b"}) {
		t.Errorf("delete by tag and digest = %q", got)
	}
	// Deleting the last tag deletes the image.
	out = del(ecrtypes.ImageIdentifier{ImageTag: aws.String("c")})
	if got := list(); len(got) != 0 || len(out.ImageIds) != 1 {
		t.Errorf("after deleting the last tag: list %q, deleted %q", got, imgIDs(out.ImageIds))
	}

	imgPut(t, ctx, c, repo, m, "x")
	imgPut(t, ctx, c, repo, m, "y")
	out = del(ecrtypes.ImageIdentifier{ImageDigest: aws.String(d)}, ecrtypes.ImageIdentifier{ImageTag: aws.String("y")})
	if got := imgIDs(out.ImageIds); !slices.Equal(got, []string{d + "@x", d + "@y"}) || len(out.Failures) != 0 {
		t.Errorf("delete by digest = %q, failures %v", got, imgFailureCodes(out.Failures))
	}
	out = del(ecrtypes.ImageIdentifier{ImageDigest: aws.String(d)}, ecrtypes.ImageIdentifier{ImageTag: aws.String("x")}, ecrtypes.ImageIdentifier{ImageDigest: aws.String("bad")}, ecrtypes.ImageIdentifier{})
	if got := imgFailureCodes(out.Failures); !slices.Equal(got, []string{"ImageNotFound", "ImageNotFound", "InvalidImageDigest", "MissingDigestAndTag"}) || len(out.ImageIds) != 0 {
		t.Errorf("deleting what is gone: deleted %q, failures %v", imgIDs(out.ImageIds), got)
	}

	// An image listed by an index stays while the index does.
	child := imgManifest(config, "child", layer)
	cd := digest.FromBytes(child).String()
	imgPut(t, ctx, c, repo, child, "")
	idx := imgIndex(child)
	id := digest.FromBytes(idx).String()
	imgPut(t, ctx, c, repo, idx, "multi")
	out = del(ecrtypes.ImageIdentifier{ImageDigest: aws.String(cd)})
	if got := imgFailureCodes(out.Failures); !slices.Equal(got, []string{"ImageReferencedByManifestList"}) || len(out.ImageIds) != 0 {
		t.Errorf("delete a listed image: deleted %q, failures %v", imgIDs(out.ImageIds), got)
	} else if r := aws.ToString(out.Failures[0].FailureReason); !strings.Contains(r, id) {
		t.Errorf("failure reason %q does not name the index %s", r, id)
	}
	out = del(ecrtypes.ImageIdentifier{ImageDigest: aws.String(cd)}, ecrtypes.ImageIdentifier{ImageDigest: aws.String(id)})
	if got := imgIDs(out.ImageIds); !slices.Equal(got, slices.Sorted(slices.Values([]string{cd + "@", id + "@multi"}))) || len(out.Failures) != 0 {
		t.Errorf("delete index and child together = %q, failures %v", got, imgFailureCodes(out.Failures))
	}
	if got := list(); len(got) != 0 {
		t.Errorf("left after deleting everything: %q", got)
	}
}

// TestECRImageList pages through 30 images.
func TestECRImageList(t *testing.T) {
	b, auto := imgServer(t)
	ctx := withTimeout(t, 3*time.Minute)
	c := b.ECR()
	repo := "list/many"
	imgCreateRepo(t, b, auto, repo, false)
	config, layer := imgBaseLayers(t, ctx, c, repo)

	var wantAll, wantTagged, wantUntagged []string
	for i := range 30 {
		m := imgManifest(config, fmt.Sprintf("image %d", i), layer)
		d := digest.FromBytes(m).String()
		switch i % 3 {
		case 0: // untagged
			imgPut(t, ctx, c, repo, m, "")
			wantUntagged = append(wantUntagged, d+"@")
		case 1:
			imgPut(t, ctx, c, repo, m, fmt.Sprintf("t%02d", i))
			wantTagged = append(wantTagged, fmt.Sprintf("%s@t%02d", d, i))
		case 2: // two tags: listed twice
			imgPut(t, ctx, c, repo, m, fmt.Sprintf("t%02d", i))
			imgPut(t, ctx, c, repo, m, fmt.Sprintf("u%02d", i))
			wantTagged = append(wantTagged, fmt.Sprintf("%s@t%02d", d, i), fmt.Sprintf("%s@u%02d", d, i))
		}
	}
	wantAll = append(append(wantAll, wantTagged...), wantUntagged...)
	sort.Strings(wantAll)
	sort.Strings(wantTagged)
	sort.Strings(wantUntagged)

	listAll := func(status ecrtypes.TagStatus, max int32) ([]string, int) {
		t.Helper()
		var ids []ecrtypes.ImageIdentifier
		pages := 0
		in := &ecr.ListImagesInput{RepositoryName: aws.String(repo)}
		if status != "" {
			in.Filter = &ecrtypes.ListImagesFilter{TagStatus: status}
		}
		if max > 0 {
			in.MaxResults = aws.Int32(max)
		}
		for {
			out, err := c.ListImages(ctx, in)
			if err != nil {
				t.Fatalf("ListImages: %v", err)
			}
			pages++
			if max > 0 && len(out.ImageIds) > int(max) {
				t.Fatalf("page of %d with maxResults %d", len(out.ImageIds), max)
			}
			ids = append(ids, out.ImageIds...)
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
			if pages > 100 {
				t.Fatal("ListImages does not end")
			}
		}
		got := imgIDs(ids)
		if len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Errorf("ListImages repeated ids: %q", got)
		}
		return got, pages
	}
	if got, pages := listAll("", 0); !slices.Equal(got, wantAll) || pages != 1 {
		t.Errorf("ListImages = %d ids in %d pages, want %d in 1", len(got), pages, len(wantAll))
	}
	if got, pages := listAll(ecrtypes.TagStatusAny, 7); !slices.Equal(got, wantAll) || pages != (len(wantAll)+6)/7 {
		t.Errorf("ListImages ANY by 7 = %d ids in %d pages, want %d", len(got), pages, len(wantAll))
	}
	if got, _ := listAll(ecrtypes.TagStatusTagged, 4); !slices.Equal(got, wantTagged) {
		t.Errorf("ListImages TAGGED = %q, want %q", got, wantTagged)
	}
	if got, _ := listAll(ecrtypes.TagStatusUntagged, 3); !slices.Equal(got, wantUntagged) {
		t.Errorf("ListImages UNTAGGED = %q, want %q", got, wantUntagged)
	}

	first, err := c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(5)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("ListImages: %v", err)
	}
	tok := aws.ToString(first.NextToken)
	for name, bad := range map[string]string{
		"tampered":  tok[:5] + string(rune('a'+(tok[5]-'a'+1)%26)) + tok[6:],
		"truncated": tok[:len(tok)-2],
		"garbage":   "not-a-token",
	} {
		_, err := c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(repo), NextToken: aws.String(bad)})
		if imgErrCode(err) != "InvalidParameterException" {
			t.Errorf("%s nextToken: %v, want InvalidParameterException", name, err)
		}
	}
	_, err = c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(repo), NextToken: first.NextToken, Filter: &ecrtypes.ListImagesFilter{TagStatus: ecrtypes.TagStatusUntagged}})
	wantImgAPIError(t, err, "InvalidParameterException", "nextToken")
	_, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), NextToken: first.NextToken})
	wantImgAPIError(t, err, "InvalidParameterException", "nextToken")

	// DescribeImages pages over images, not ids.
	var described []string
	din := &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(8)}
	for {
		out, err := c.DescribeImages(ctx, din)
		if err != nil {
			t.Fatal(err)
		}
		for _, dt := range out.ImageDetails {
			described = append(described, aws.ToString(dt.ImageDigest))
		}
		if out.NextToken == nil {
			break
		}
		din.NextToken = out.NextToken
	}
	if len(described) != 30 || len(slices.Compact(slices.Sorted(slices.Values(described)))) != 30 {
		t.Errorf("DescribeImages paged %d images, want 30 distinct", len(described))
	}

	_, err = c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("list/absent")})
	wantImgAPIError(t, err, "RepositoryNotFoundException", "list/absent")
}

func TestECRImageReferrers(t *testing.T) {
	b, auto := imgServer(t)
	ctx := withTimeout(t, 2*time.Minute)
	c := b.ECR()
	repo := "referrers/app"
	imgCreateRepo(t, b, auto, repo, false)
	config, layer := imgBaseLayers(t, ctx, c, repo)
	subject := imgManifest(config, "subject", layer)
	sd := digest.FromBytes(subject).String()
	imgPut(t, ctx, c, repo, subject, "v1")

	var want []string
	for i, at := range []string{"application/vnd.example.sbom", "application/vnd.example.sig", "application/vnd.example.sbom"} {
		var doc map[string]any
		json.Unmarshal(imgManifest(config, fmt.Sprintf("referrer %d", i), layer), &doc)
		doc["artifactType"] = at
		doc["subject"] = imgDesc{imgMTManifest, sd, int64(len(subject))}
		m, _ := json.Marshal(doc)
		imgPut(t, ctx, c, repo, m, "")
		want = append(want, digest.FromBytes(m).String())
	}
	sort.Strings(want)

	var got []string
	in := &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo), SubjectId: &ecrtypes.SubjectIdentifier{ImageDigest: aws.String(sd)}, MaxResults: aws.Int32(2)}
	for pages := 0; ; pages++ {
		out, err := c.ListImageReferrers(ctx, in)
		if err != nil {
			t.Fatalf("ListImageReferrers: %v", err)
		}
		for _, r := range out.Referrers {
			got = append(got, aws.ToString(r.Digest))
			if aws.ToString(r.MediaType) != imgMTManifest || aws.ToInt64(r.Size) <= 0 || r.ArtifactStatus != ecrtypes.ArtifactStatusActive {
				t.Errorf("referrer = %+v", r)
			}
		}
		if out.NextToken == nil || pages > 5 {
			break
		}
		in.NextToken = out.NextToken
	}
	if !slices.Equal(got, want) {
		t.Errorf("referrers = %q, want %q", got, want)
	}
	out, err := c.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo), SubjectId: &ecrtypes.SubjectIdentifier{ImageDigest: aws.String(sd)},
		Filter: &ecrtypes.ListImageReferrersFilter{ArtifactTypes: []string{"application/vnd.example.sig"}}})
	if err != nil || len(out.Referrers) != 1 || aws.ToString(out.Referrers[0].ArtifactType) != "application/vnd.example.sig" {
		t.Errorf("filtered referrers = %+v, %v", out, err)
	}
	_, err = c.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String("referrers/absent"), SubjectId: &ecrtypes.SubjectIdentifier{ImageDigest: aws.String(sd)}})
	wantImgAPIError(t, err, "RepositoryNotFoundException")
}
