package ecrapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/blobsend"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/opencontainers/go-digest"
)

const (
	// layerPartSize is the part size InitiateLayerUpload suggests, as ECR
	// answers it. Parts of any size up to the model's 20 MiB are taken.
	layerPartSize = 10 << 20
	// downloadURLLifetime is how long a GetDownloadUrlForLayer link works.
	downloadURLLifetime = time.Hour
	// LayerDownloadPath prefixes the download links GetDownloadUrlForLayer
	// hands out; the server routes it to LayerDownloadHandler.
	LayerDownloadPath = "/_berth/layer/"
)

type layerOut struct {
	LayerDigest       string `json:"layerDigest"`
	LayerAvailability string `json:"layerAvailability"`
	LayerSize         *int64 `json:"layerSize,omitempty"`
	MediaType         string `json:"mediaType,omitempty"`
}

type layerFailure struct {
	LayerDigest   string `json:"layerDigest"`
	FailureCode   string `json:"failureCode"`
	FailureReason string `json:"failureReason"`
}

type batchCheckLayerAvailabilityIn struct {
	repoRef
	LayerDigests []string `json:"layerDigests"`
}

type batchCheckLayerAvailabilityOut struct {
	Layers   []layerOut     `json:"layers"`
	Failures []layerFailure `json:"failures"`
}

func (a *API) batchCheckLayerAvailability(ctx context.Context, c *awsapi.Call, in *batchCheckLayerAvailabilityIn) (*batchCheckLayerAvailabilityOut, error) {
	reg := in.registry(c)
	if len(in.LayerDigests) < 1 || len(in.LayerDigests) > 100 {
		return nil, invalidParameter(fmt.Sprintf("Invalid parameter at 'layerDigests' failed to satisfy constraint: 'Member must have length between 1 and 100' (it has %d)", len(in.LayerDigests)))
	}
	layers, failures, err := a.reg.CheckLayers(ctx, reg, in.RepositoryName, in.LayerDigests)
	if err != nil {
		return nil, err
	}
	out := &batchCheckLayerAvailabilityOut{}
	out.Layers = make([]layerOut, 0, len(layers))
	for _, l := range layers {
		lo := layerOut{LayerDigest: l.Digest, LayerAvailability: "UNAVAILABLE"}
		if l.Available {
			size := l.Size
			lo.LayerAvailability, lo.LayerSize, lo.MediaType = "AVAILABLE", &size, l.MediaType
		}
		out.Layers = append(out.Layers, lo)
	}
	out.Failures = make([]layerFailure, 0, len(failures))
	for _, f := range failures {
		out.Failures = append(out.Failures, layerFailure{LayerDigest: f.Digest, FailureCode: f.Code, FailureReason: f.Reason})
	}
	return out, nil
}

// initiateLayerUpload opens the same upload session as POST
// /v2/<name>/blobs/uploads/: either front door can continue it.
type initiateLayerUploadOut struct {
	UploadID string `json:"uploadId"`
	PartSize int64  `json:"partSize"`
}

func (a *API) initiateLayerUpload(ctx context.Context, c *awsapi.Call, in *repoRef) (*initiateLayerUploadOut, error) {
	if err := a.createOnPush(ctx, c, in.registry(c), in.RepositoryName); err != nil {
		return nil, err
	}
	u, err := a.reg.StartUpload(ctx, in.registry(c), in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return &initiateLayerUploadOut{u.ID, layerPartSize}, nil
}

// invalidLayerPart is ECR's answer to a part that does not continue the
// upload: it says where the upload stands.
func invalidLayerPart(reg registry.Key, repo, uploadID string, offset int64, msg string) *awsapi.Error {
	e := awsapi.Errorf("InvalidLayerPartException", msg)
	e.Members = map[string]any{"registryId": reg.Account, "repositoryName": repo, "uploadId": uploadID}
	if offset > 0 {
		e.Members["lastValidByteReceived"] = offset - 1
	}
	return e
}

type uploadLayerPartIn struct {
	repoRef
	UploadID      string `json:"uploadId"`
	PartFirstByte *int64 `json:"partFirstByte"`
	PartLastByte  *int64 `json:"partLastByte"`
	LayerPartBlob []byte `json:"layerPartBlob"`
}

type uploadRef struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	UploadID       string `json:"uploadId"`
}

type uploadLayerPartOut struct {
	uploadRef
	LastByteReceived int64 `json:"lastByteReceived"`
}

func (a *API) uploadLayerPart(ctx context.Context, c *awsapi.Call, in *uploadLayerPartIn) (*uploadLayerPartOut, error) {
	reg := in.registry(c)
	switch {
	case in.PartFirstByte == nil || *in.PartFirstByte < 0:
		return nil, invalidParameter("Invalid parameter at 'partFirstByte': a position of 0 or more is required")
	case in.PartLastByte == nil || *in.PartLastByte < 0:
		return nil, invalidParameter("Invalid parameter at 'partLastByte': a position of 0 or more is required")
	}
	first, last := *in.PartFirstByte, *in.PartLastByte
	if last-first+1 != int64(len(in.LayerPartBlob)) {
		st, err := a.reg.UploadStatus(ctx, reg, in.RepositoryName, in.UploadID)
		if err != nil {
			return nil, err
		}
		return nil, invalidLayerPart(reg, in.RepositoryName, in.UploadID, st.Offset, fmt.Sprintf(
			"The layer part size is not valid: bytes %d to %d are %d bytes, but layerPartBlob holds %d", first, last, last-first+1, len(in.LayerPartBlob)))
	}
	u, err := a.reg.AppendUpload(ctx, reg, in.RepositoryName, in.UploadID, first, bytes.NewReader(in.LayerPartBlob))
	if errors.Is(err, registry.ErrRangeInvalid) && u != nil {
		return nil, invalidLayerPart(reg, in.RepositoryName, in.UploadID, u.Offset, fmt.Sprintf(
			"The layer part is not consecutive to the last byte of a previous layer part upload: it starts at byte %d, but the upload holds %d bytes, so the next part starts at byte %d",
			first, u.Offset, u.Offset))
	}
	if err != nil {
		return nil, err
	}
	return &uploadLayerPartOut{uploadRef{reg.Account, in.RepositoryName, in.UploadID}, u.Offset - 1}, nil
}

type completeLayerUploadIn struct {
	repoRef
	UploadID     string   `json:"uploadId"`
	LayerDigests []string `json:"layerDigests"`
}

type completeLayerUploadOut struct {
	uploadRef
	LayerDigest string `json:"layerDigest"`
}

func (a *API) completeLayerUpload(ctx context.Context, c *awsapi.Call, in *completeLayerUploadIn) (*completeLayerUploadOut, error) {
	reg := in.registry(c)
	// ECR takes a list; the layer has one digest, which every entry must name.
	var d digest.Digest
	for i, s := range in.LayerDigests {
		di, err := registry.ParseDigest(s)
		if err != nil {
			return nil, invalidParameter(fmt.Sprintf("Invalid parameter at 'layerDigests[%d]': %s", i, domainMessage(err)))
		}
		if d != "" && di != d {
			return nil, invalidParameter(fmt.Sprintf("Invalid parameter at 'layerDigests': %s and %s name different layers; an upload is one layer", d, di))
		}
		d = di
	}
	if d == "" {
		return nil, invalidParameter("Invalid parameter at 'layerDigests': the layer's digest is required")
	}
	st, err := a.reg.UploadStatus(ctx, reg, in.RepositoryName, in.UploadID)
	if err != nil {
		return nil, err
	}
	if st.Offset == 0 {
		return nil, awsapi.Errorf("EmptyUploadException", fmt.Sprintf("The upload with id '%s' contains no layer parts: send them with UploadLayerPart before completing the upload", in.UploadID))
	}
	if _, err := a.reg.StatBlob(ctx, reg, in.RepositoryName, d); err == nil {
		// The layer is already there: the upload has nothing to add.
		if err := a.reg.CancelUpload(ctx, reg, in.RepositoryName, in.UploadID); err != nil && !errors.Is(err, registry.ErrBlobUploadUnknown) {
			return nil, err
		}
		return nil, awsapi.Errorf("LayerAlreadyExistsException", fmt.Sprintf("Layer with digest '%s' already exists in the repository with name '%s' in registry with id '%s'", d, in.RepositoryName, reg.Account))
	} else if !errors.Is(err, registry.ErrBlobUnknown) {
		return nil, err
	}
	if err := a.reg.CompleteUpload(ctx, reg, in.RepositoryName, in.UploadID, -1, bytes.NewReader(nil), d); err != nil {
		return nil, err
	}
	return &completeLayerUploadOut{uploadRef{reg.Account, in.RepositoryName, in.UploadID}, d.String()}, nil
}

// downloadGrant is what a download link carries.
type downloadGrant struct {
	Account string `json:"a"`
	Region  string `json:"g"`
	Repo    string `json:"r"`
	Digest  string `json:"d"`
}

// getDownloadURLForLayer hands out a link that downloads the layer with no
// other credential until it expires: Berth's stand-in for ECR's pre-signed
// S3 URL, served by LayerDownloadHandler.
type getDownloadURLForLayerIn struct {
	repoRef
	LayerDigest string `json:"layerDigest"`
}

type getDownloadURLForLayerOut struct {
	DownloadURL string `json:"downloadUrl"`
	LayerDigest string `json:"layerDigest"`
}

func (a *API) getDownloadURLForLayer(ctx context.Context, c *awsapi.Call, in *getDownloadURLForLayerIn) (*getDownloadURLForLayerOut, error) {
	reg := in.registry(c)
	if _, err := a.reg.DownloadableLayer(ctx, reg, in.RepositoryName, in.LayerDigest); err != nil {
		return nil, err
	}
	d, _ := registry.ParseDigest(in.LayerDigest) // checked above
	grant, _ := json.Marshal(downloadGrant{Account: reg.Account, Region: reg.Region, Repo: in.RepositoryName, Digest: d.String()})
	token := a.tokens.SignURL(string(grant), a.now().Add(downloadURLLifetime))
	return &getDownloadURLForLayerOut{a.endpoint(reg.Account, reg.Region) + LayerDownloadPath + token, d.String()}, nil
}

// LayerDownloadHandler serves the links of GetDownloadUrlForLayer at
// LayerDownloadPath + "{token}": the layer's bytes, with Range support,
// to anyone holding an unexpired link.
func (a *API) LayerDownloadHandler() http.Handler {
	return http.HandlerFunc(a.serveLayerDownload)
}

func (a *API) serveLayerDownload(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			fmt.Fprintln(w, msg)
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		fail(http.StatusMethodNotAllowed, "a layer download link answers GET and HEAD only")
		return
	}
	payload, err := a.tokens.VerifyURL(r.PathValue("token"))
	switch {
	case errors.Is(err, authn.ErrSignatureExpired):
		fail(http.StatusForbidden, "this layer download link has expired: ask GetDownloadUrlForLayer for a new one")
		return
	case err != nil:
		fail(http.StatusForbidden, "this layer download link is not valid: it was altered or cut short, or another server issued it")
		return
	}
	var g downloadGrant
	if json.Unmarshal([]byte(payload), &g) != nil {
		fail(http.StatusForbidden, "this layer download link is not valid")
		return
	}
	d, err := digest.Parse(g.Digest)
	if err != nil {
		fail(http.StatusForbidden, "this layer download link is not valid")
		return
	}
	ctx := r.Context()
	rc, _, err := a.reg.OpenBlob(ctx, registry.Key{Account: g.Account, Region: g.Region}, g.Repo, d)
	if err != nil {
		var de *registry.Error
		if errors.As(err, &de) && (errors.Is(err, registry.ErrBlobUnknown) || errors.Is(err, registry.ErrNameUnknown)) {
			fail(http.StatusNotFound, de.Message)
			return
		}
		a.log.ErrorContext(ctx, "open layer for download", "repository", g.Repo, "digest", d, "err", err)
		fail(http.StatusInternalServerError, "internal server error; the server log has the cause")
		return
	}
	defer rc.Close()
	hd := w.Header()
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("ETag", `"`+d.String()+`"`)
	hd.Set("Docker-Content-Digest", d.String())
	hd.Set("Cache-Control", "private, max-age=3600")
	// ServeContent answers Range and conditional requests; blobsend
	// picks sendfile or a copy for the filesystem store's *os.File.
	http.ServeContent(blobsend.Writer(w, r), r, "", time.Time{}, rc)
}
