package ecrpublicapi

// The layer uploads of ECR Public's API: the same upload sessions as the
// public host's POST /v2/<alias>/<name>/blobs/uploads/, so either front
// door can continue what the other began, as in package ecrapi.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/opencontainers/go-digest"
)

// layerPartSize is the part size InitiateLayerUpload suggests, as ECR
// answers it; parts of any size up to the model's 20 MiB are taken.
const layerPartSize = 10 << 20

var accountIDRE = regexp.MustCompile(`^[0-9]{12}$`)

// registryOrAlias is the public registry a layer operation's registryId
// names: an account id, an alias (the model's RegistryIdOrAlias), or the
// caller's own when it is absent. An alias nobody holds is
// RegistryNotFoundException.
func (a *API) registryOrAlias(ctx context.Context, c *awsapi.Call, registryID *string) (registry.Key, error) {
	if registryID == nil || *registryID == "" || accountIDRE.MatchString(*registryID) {
		return registryOf(c, registryID), nil
	}
	acct, err := a.reg.PublicAccount(ctx, *registryID)
	if errors.Is(err, registry.ErrNameUnknown) {
		return registry.Key{}, awsapi.Errorf("RegistryNotFoundException", fmt.Sprintf("The registry with id or alias '%s' does not exist", *registryID))
	}
	if err != nil {
		return registry.Key{}, err
	}
	return registry.PublicRegistry(acct), nil
}

// onLayerRepository authorizes an operation whose registryId may be an
// alias (the layer operations, PutImage, BatchDeleteImage) on its
// repository, in the registry its registryId names.
func onLayerRepository[In namesRepository](a *API) func(context.Context, *awsapi.Call, *In) ([]awsapi.Check, error) {
	return func(ctx context.Context, c *awsapi.Call, in *In) ([]awsapi.Check, error) {
		if err := inRegion(c); err != nil {
			return nil, err
		}
		r := (*in).ref()
		reg, err := a.registryOrAlias(ctx, c, r.RegistryID)
		if err != nil {
			return nil, err
		}
		return []awsapi.Check{onRepositoryOf(reg, r.RepositoryName)}, nil
	}
}

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
	if len(in.LayerDigests) < 1 || len(in.LayerDigests) > 100 {
		return nil, invalidParameter("Invalid parameter at 'layerDigests' failed to satisfy constraint: 'Member must have length between 1 and 100' (it has %d)", len(in.LayerDigests))
	}
	reg, err := a.registryOrAlias(ctx, c, in.RegistryID)
	if err != nil {
		return nil, err
	}
	layers, failures, err := a.reg.CheckLayers(ctx, reg, in.RepositoryName, in.LayerDigests)
	if err != nil {
		return nil, err
	}
	out := &batchCheckLayerAvailabilityOut{Layers: make([]layerOut, 0, len(layers)), Failures: make([]layerFailure, 0, len(failures))}
	for _, l := range layers {
		lo := layerOut{LayerDigest: l.Digest, LayerAvailability: "UNAVAILABLE"}
		if l.Available {
			size := l.Size
			lo.LayerAvailability, lo.LayerSize, lo.MediaType = "AVAILABLE", &size, l.MediaType
		}
		out.Layers = append(out.Layers, lo)
	}
	for _, f := range failures {
		out.Failures = append(out.Failures, layerFailure{LayerDigest: f.Digest, FailureCode: f.Code, FailureReason: f.Reason})
	}
	return out, nil
}

type initiateLayerUploadOut struct {
	UploadID string `json:"uploadId"`
	PartSize int64  `json:"partSize"`
}

// initiateLayerUpload opens an upload session. A public registry has no
// creation templates: the repository must exist, as in ECR Public.
func (a *API) initiateLayerUpload(ctx context.Context, c *awsapi.Call, in *repoRef) (*initiateLayerUploadOut, error) {
	reg, err := a.registryOrAlias(ctx, c, in.RegistryID)
	if err != nil {
		return nil, err
	}
	u, err := a.reg.StartUpload(ctx, reg, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	return &initiateLayerUploadOut{u.ID, layerPartSize}, nil
}

// invalidLayerPart is ECR Public's answer to a part that does not continue
// the upload: it says where the upload stands.
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
	reg, err := a.registryOrAlias(ctx, c, in.RegistryID)
	if err != nil {
		return nil, err
	}
	// The front door has checked the model's rules (both positions given,
	// 0 or more); a nil here would be a fault of that check, not a panic.
	if in.PartFirstByte == nil || in.PartLastByte == nil {
		return nil, invalidParameter("Invalid parameter: partFirstByte and partLastByte are required")
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
	reg, err := a.registryOrAlias(ctx, c, in.RegistryID)
	if err != nil {
		return nil, err
	}
	// The API takes a list; the layer has one digest, which every entry
	// must name.
	var d digest.Digest
	for i, s := range in.LayerDigests {
		di, err := registry.ParseDigest(s)
		if err != nil {
			return nil, invalidParameter("Invalid parameter at 'layerDigests[%d]': %s", i, domainMessage(err))
		}
		if d != "" && di != d {
			return nil, invalidParameter("Invalid parameter at 'layerDigests': %s and %s name different layers; an upload is one layer", d, di)
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

// domainMessage is a domain error's message for the client.
func domainMessage(err error) string {
	var de *registry.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}
