package ecrpublicapi

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/registry"
)

type imageIdentifier struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

func domainImageIDs(in []imageIdentifier) []registry.ImageID {
	ids := make([]registry.ImageID, len(in))
	for i, id := range in {
		ids[i] = registry.ImageID{Digest: id.ImageDigest, Tag: id.ImageTag}
	}
	return ids
}

func imageIDsOut(in []registry.ImageID) []imageIdentifier {
	out := make([]imageIdentifier, 0, len(in))
	for _, id := range in {
		out = append(out, imageIdentifier{ImageDigest: id.Digest, ImageTag: id.Tag})
	}
	return out
}

type imageDetail struct {
	RegistryID             string            `json:"registryId"`
	RepositoryName         string            `json:"repositoryName"`
	ImageDigest            string            `json:"imageDigest"`
	ImageTags              []string          `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64             `json:"imageSizeInBytes"`
	ImagePushedAt          *awsapi.EpochTime `json:"imagePushedAt,omitempty"`
	ImageManifestMediaType string            `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string            `json:"artifactMediaType,omitempty"`
}

type describeImagesIn struct {
	repoRef
	ImageIDs   []imageIdentifier `json:"imageIds"`
	NextToken  *string           `json:"nextToken"`
	MaxResults *int              `json:"maxResults"`
}

type describeImagesOut struct {
	ImageDetails []imageDetail `json:"imageDetails"`
	NextToken    string        `json:"nextToken,omitempty"`
}

// The image listings page by digest: a token is the page's last digest,
// base64-encoded so that callers treat it as opaque.
func afterDigest(token *string) (string, error) {
	if token == nil {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil || !strings.HasPrefix(string(b), "sha256:") {
		return "", invalidParameter("Invalid parameter at 'nextToken': the token is not one this listing returned")
	}
	return string(b), nil
}

func pageSize(maxResults *int) int {
	if maxResults == nil {
		return defaultPage
	}
	return *maxResults
}

func (a *API) describeImages(ctx context.Context, c *awsapi.Call, in *describeImagesIn) (*describeImagesOut, error) {
	reg := in.registry(c)
	out := &describeImagesOut{ImageDetails: []imageDetail{}}
	add := func(m *registry.Manifest) {
		out.ImageDetails = append(out.ImageDetails, imageDetail{
			RegistryID: reg.Account, RepositoryName: in.RepositoryName, ImageDigest: m.Digest, ImageTags: m.Tags,
			ImageSizeInBytes: m.ImageSize, ImagePushedAt: awsapi.NewEpochTime(m.PushedAt),
			ImageManifestMediaType: m.MediaType, ArtifactMediaType: m.ArtifactType,
		})
	}
	if len(in.ImageIDs) > 0 {
		if in.MaxResults != nil || in.NextToken != nil {
			return nil, invalidParameter("Invalid parameter: maxResults and nextToken cannot be used when imageIds are given")
		}
		ms, err := a.reg.DescribeImagesByID(ctx, reg, in.RepositoryName, domainImageIDs(in.ImageIDs))
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			add(m)
		}
		return out, nil
	}
	after, err := afterDigest(in.NextToken)
	if err != nil {
		return nil, err
	}
	ms, more, err := a.reg.DescribeImages(ctx, reg, in.RepositoryName, registry.TagStatusAny, after, pageSize(in.MaxResults))
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		add(m)
	}
	if more && len(ms) > 0 {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(ms[len(ms)-1].Digest))
	}
	return out, nil
}

type describeImageTagsIn struct {
	repoRef
	NextToken  *string `json:"nextToken"`
	MaxResults *int    `json:"maxResults"`
}

type referencedImageDetail struct {
	ImageDigest            string            `json:"imageDigest"`
	ImageSizeInBytes       int64             `json:"imageSizeInBytes"`
	ImagePushedAt          *awsapi.EpochTime `json:"imagePushedAt,omitempty"`
	ImageManifestMediaType string            `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string            `json:"artifactMediaType,omitempty"`
}

type imageTagDetail struct {
	ImageTag    string                `json:"imageTag"`
	CreatedAt   *awsapi.EpochTime     `json:"createdAt,omitempty"`
	ImageDetail referencedImageDetail `json:"imageDetail"`
}

type describeImageTagsOut struct {
	ImageTagDetails []imageTagDetail `json:"imageTagDetails"`
	NextToken       string           `json:"nextToken,omitempty"`
}

// describeImageTags lists the tags of a page of tagged images: maxResults
// counts images, each bringing all its tags. Berth does not record when a
// tag moved, so createdAt is its image's push time.
func (a *API) describeImageTags(ctx context.Context, c *awsapi.Call, in *describeImageTagsIn) (*describeImageTagsOut, error) {
	after, err := afterDigest(in.NextToken)
	if err != nil {
		return nil, err
	}
	ms, more, err := a.reg.DescribeImages(ctx, in.registry(c), in.RepositoryName, registry.TagStatusTagged, after, pageSize(in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &describeImageTagsOut{ImageTagDetails: []imageTagDetail{}}
	for _, m := range ms {
		d := referencedImageDetail{ImageDigest: m.Digest, ImageSizeInBytes: m.ImageSize, ImagePushedAt: awsapi.NewEpochTime(m.PushedAt),
			ImageManifestMediaType: m.MediaType, ArtifactMediaType: m.ArtifactType}
		for _, tag := range m.Tags {
			out.ImageTagDetails = append(out.ImageTagDetails, imageTagDetail{ImageTag: tag, CreatedAt: d.ImagePushedAt, ImageDetail: d})
		}
	}
	if more && len(ms) > 0 {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(ms[len(ms)-1].Digest))
	}
	return out, nil
}

type batchDeleteImageIn struct {
	repoRef
	ImageIDs []imageIdentifier `json:"imageIds"`
}

type imageFailure struct {
	ImageID       imageIdentifier `json:"imageId"`
	FailureCode   string          `json:"failureCode"`
	FailureReason string          `json:"failureReason"`
}

type batchDeleteImageOut struct {
	ImageIDs []imageIdentifier `json:"imageIds"`
	Failures []imageFailure    `json:"failures"`
}

func (a *API) batchDeleteImage(ctx context.Context, c *awsapi.Call, in *batchDeleteImageIn) (*batchDeleteImageOut, error) {
	reg, err := a.registryOrAlias(ctx, c, in.RegistryID)
	if err != nil {
		return nil, err
	}
	deleted, failures, err := a.reg.BatchDeleteImage(ctx, reg, in.RepositoryName, domainImageIDs(in.ImageIDs))
	if err != nil {
		return nil, err
	}
	out := &batchDeleteImageOut{ImageIDs: imageIDsOut(deleted), Failures: []imageFailure{}}
	for _, f := range failures {
		out.Failures = append(out.Failures, imageFailure{
			ImageID:     imageIdentifier{ImageDigest: f.ID.Digest, ImageTag: f.ID.Tag},
			FailureCode: f.Code, FailureReason: f.Reason,
		})
	}
	return out, nil
}

type putImageIn struct {
	repoRef
	ImageManifest          string `json:"imageManifest"`
	ImageManifestMediaType string `json:"imageManifestMediaType"`
	ImageTag               string `json:"imageTag"`
	ImageDigest            string `json:"imageDigest"`
}

type imageOut struct {
	RegistryID             string          `json:"registryId"`
	RepositoryName         string          `json:"repositoryName"`
	ImageID                imageIdentifier `json:"imageId"`
	ImageManifest          string          `json:"imageManifest"`
	ImageManifestMediaType string          `json:"imageManifestMediaType"`
}

type putImageOut struct {
	Image imageOut `json:"image"`
}

func (a *API) putImage(ctx context.Context, c *awsapi.Call, in *putImageIn) (*putImageOut, error) {
	reg, err := a.registryOrAlias(ctx, c, in.RegistryID)
	if err != nil {
		return nil, err
	}
	m, err := a.reg.PutImage(ctx, reg, in.RepositoryName, registry.PutImageInput{
		Manifest: []byte(in.ImageManifest), MediaType: in.ImageManifestMediaType, Tag: in.ImageTag, Digest: in.ImageDigest,
	})
	if err != nil {
		return nil, err
	}
	return &putImageOut{imageOut{
		RegistryID: reg.Account, RepositoryName: in.RepositoryName,
		ImageID:       imageIdentifier{ImageDigest: m.Digest, ImageTag: in.ImageTag},
		ImageManifest: in.ImageManifest, ImageManifestMediaType: m.MediaType,
	}}, nil
}
