package awsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/registry"
)

func init() {
	registerECR("ListImages", listImages)
	registerECR("DescribeImages", describeImages)
	registerECR("BatchGetImage", batchGetImage)
	registerECR("BatchDeleteImage", batchDeleteImage)
	registerECR("PutImage", putImage)
	registerECR("ListImageReferrers", listImageReferrers)
}

// Page sizes when a request gives no maxResults, as ECR documents them.
const (
	defaultImagePage    = 100
	defaultReferrerPage = 20
	// nextTokenLifetime bounds how long a listing can be resumed.
	nextTokenLifetime = 24 * time.Hour
)

type imageIdentifier struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

func (id imageIdentifier) domain() registry.ImageID {
	return registry.ImageID{Digest: id.ImageDigest, Tag: id.ImageTag}
}

func imageIDOut(id registry.ImageID) imageIdentifier {
	return imageIdentifier{ImageDigest: id.Digest, ImageTag: id.Tag}
}

type imageFailure struct {
	ImageID       imageIdentifier `json:"imageId"`
	FailureCode   string          `json:"failureCode"`
	FailureReason string          `json:"failureReason"`
}

func imageFailuresOut(fs []registry.ImageFailure) []imageFailure {
	out := make([]imageFailure, 0, len(fs))
	for _, f := range fs {
		out = append(out, imageFailure{ImageID: imageIDOut(f.ID), FailureCode: f.Code, FailureReason: f.Reason})
	}
	return out
}

type imageOut struct {
	RegistryID             string          `json:"registryId"`
	RepositoryName         string          `json:"repositoryName"`
	ImageID                imageIdentifier `json:"imageId"`
	ImageManifest          string          `json:"imageManifest"`
	ImageManifestMediaType string          `json:"imageManifestMediaType"`
}

type imageFilter struct {
	TagStatus   string `json:"tagStatus"`
	ImageStatus string `json:"imageStatus"`
}

// tagStatus reads a filter; none means ANY. Berth never archives images,
// so asking for archived (or activating) ones lists nothing.
func (f *imageFilter) tagStatus() (status meta.TagStatus, none bool, err error) {
	if f == nil {
		return meta.TagStatusAny, false, nil
	}
	switch f.ImageStatus {
	case "", "ACTIVE", "ANY":
	case "ARCHIVED", "ACTIVATING":
		none = true
	default:
		return "", false, errorf("InvalidParameterException", fmt.Sprintf("Invalid parameter at 'filter.imageStatus': %q is not one of ACTIVE, ARCHIVED, ACTIVATING, ANY", truncate(f.ImageStatus, 100)))
	}
	switch f.TagStatus {
	case "":
		return meta.TagStatusAny, none, nil
	case "TAGGED", "UNTAGGED", "ANY":
		return meta.TagStatus(f.TagStatus), none, nil
	}
	return "", false, errorf("InvalidParameterException", fmt.Sprintf("Invalid parameter at 'filter.tagStatus': %q is not one of TAGGED, UNTAGGED, ANY", truncate(f.TagStatus, 100)))
}

// pageToken is what a nextToken carries: where the listing stopped, and the
// request it belongs to, so that it cannot resume another listing.
type pageToken struct {
	Op       string `json:"o"`
	Registry string `json:"g"`
	Repo     string `json:"r"`
	Filter   string `json:"f,omitempty"`
	After    string `json:"a"`
	Tag      string `json:"t,omitempty"`
}

func (p pageToken) scope() string {
	b, _ := json.Marshal(pageToken{Op: p.Op, Registry: p.Registry, Repo: p.Repo, Filter: p.Filter})
	return string(b)
}

// sealPage turns a position into an opaque, tamper-proof nextToken.
func (e *ecrAPI) sealPage(p pageToken) *string {
	b, _ := json.Marshal(p)
	tok := e.s.opts.Tokens.Seal(authn.PurposeNextToken, string(b), e.s.opts.Now().Add(nextTokenLifetime))
	return &tok
}

// openPage reads a nextToken issued for the same request (scope).
func (e *ecrAPI) openPage(token string, scope pageToken) (pageToken, error) {
	invalid := errorf("InvalidParameterException", "Invalid parameter at 'nextToken': the token was not issued for this request, was altered, or has expired; list again from the start")
	payload, err := e.s.opts.Tokens.Open(authn.PurposeNextToken, token)
	if err != nil {
		return pageToken{}, invalid
	}
	var p pageToken
	if json.Unmarshal([]byte(payload), &p) != nil || p.scope() != scope.scope() {
		return pageToken{}, invalid
	}
	return p, nil
}

func registryScope(reg meta.RegistryKey) string { return reg.Account + "/" + reg.Region }

func pageSize(maxResults *int, def int) int {
	if maxResults == nil {
		return def
	}
	return *maxResults
}

func checkMaxResults(maxResults *int, limit int) error {
	if maxResults != nil && (*maxResults < 1 || *maxResults > limit) {
		return errorf("InvalidParameterException", fmt.Sprintf("Invalid parameter at 'maxResults': %d is not between 1 and %d", *maxResults, limit))
	}
	return nil
}

func listImages(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID     *string      `json:"registryId"`
		RepositoryName string       `json:"repositoryName"`
		NextToken      *string      `json:"nextToken"`
		MaxResults     *int         `json:"maxResults"`
		Filter         *imageFilter `json:"filter"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:ListImages", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	if err := checkMaxResults(in.MaxResults, registry.MaxPageSize); err != nil {
		return nil, err
	}
	status, none, err := in.Filter.tagStatus()
	if err != nil {
		return nil, err
	}
	scope := pageToken{Op: c.Operation, Registry: registryScope(reg), Repo: in.RepositoryName, Filter: string(status)}
	var after registry.ImageID
	if in.NextToken != nil {
		p, err := e.openPage(*in.NextToken, scope)
		if err != nil {
			return nil, err
		}
		after = registry.ImageID{Digest: p.After, Tag: p.Tag}
	}
	var out struct {
		ImageIDs  []imageIdentifier `json:"imageIds"`
		NextToken *string           `json:"nextToken,omitempty"`
	}
	out.ImageIDs = []imageIdentifier{}
	if none {
		if _, err := e.reg.Repository(ctx, reg, in.RepositoryName, false); err != nil {
			return nil, ecrError(err, nil)
		}
		return out, nil
	}
	ids, next, err := e.reg.ListImageIDs(ctx, reg, in.RepositoryName, status, after, pageSize(in.MaxResults, defaultImagePage))
	if err != nil {
		return nil, ecrError(err, nil)
	}
	for _, id := range ids {
		out.ImageIDs = append(out.ImageIDs, imageIDOut(id))
	}
	if next != nil {
		p := scope
		p.After, p.Tag = next.Digest, next.Tag
		out.NextToken = e.sealPage(p)
	}
	return out, nil
}

type imageDetail struct {
	RegistryID             string     `json:"registryId"`
	RepositoryName         string     `json:"repositoryName"`
	ImageDigest            string     `json:"imageDigest"`
	ImageTags              []string   `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64      `json:"imageSizeInBytes"`
	ImagePushedAt          *epochTime `json:"imagePushedAt,omitempty"`
	ImageManifestMediaType string     `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string     `json:"artifactMediaType,omitempty"`
	LastRecordedPullTime   *epochTime `json:"lastRecordedPullTime,omitempty"`
	SubjectManifestDigest  string     `json:"subjectManifestDigest,omitempty"`
	ImageStatus            string     `json:"imageStatus"`
}

func imageDetailOut(reg meta.RegistryKey, repo string, m *meta.Manifest) imageDetail {
	return imageDetail{
		RegistryID:             reg.Account,
		RepositoryName:         repo,
		ImageDigest:            m.Digest,
		ImageTags:              m.Tags,
		ImageSizeInBytes:       m.ImageSize,
		ImagePushedAt:          newEpoch(m.PushedAt),
		ImageManifestMediaType: m.MediaType,
		ArtifactMediaType:      m.ArtifactType,
		LastRecordedPullTime:   newEpoch(m.LastPulledAt),
		SubjectManifestDigest:  m.Subject,
		ImageStatus:            "ACTIVE",
	}
}

func describeImages(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID     *string           `json:"registryId"`
		RepositoryName string            `json:"repositoryName"`
		ImageIDs       []imageIdentifier `json:"imageIds"`
		NextToken      *string           `json:"nextToken"`
		MaxResults     *int              `json:"maxResults"`
		Filter         *imageFilter      `json:"filter"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:DescribeImages", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	var out struct {
		ImageDetails []imageDetail `json:"imageDetails"`
		NextToken    *string       `json:"nextToken,omitempty"`
	}
	out.ImageDetails = []imageDetail{}
	if len(in.ImageIDs) > 0 {
		switch {
		case in.MaxResults != nil:
			return nil, errorf("InvalidParameterException", "Invalid parameter at 'maxResults': it cannot be used when imageIds are given")
		case in.NextToken != nil:
			return nil, errorf("InvalidParameterException", "Invalid parameter at 'nextToken': it cannot be used when imageIds are given")
		}
		ids := make([]registry.ImageID, len(in.ImageIDs))
		for i, id := range in.ImageIDs {
			ids[i] = id.domain()
		}
		ms, err := e.reg.DescribeImagesByID(ctx, reg, in.RepositoryName, ids)
		if err != nil {
			return nil, ecrError(err, map[error]string{registry.ErrImageIDInvalid: "InvalidParameterException"})
		}
		for _, m := range ms {
			out.ImageDetails = append(out.ImageDetails, imageDetailOut(reg, in.RepositoryName, m))
		}
		return out, nil
	}
	if err := checkMaxResults(in.MaxResults, registry.MaxPageSize); err != nil {
		return nil, err
	}
	status, none, err := in.Filter.tagStatus()
	if err != nil {
		return nil, err
	}
	scope := pageToken{Op: c.Operation, Registry: registryScope(reg), Repo: in.RepositoryName, Filter: string(status)}
	after := ""
	if in.NextToken != nil {
		p, err := e.openPage(*in.NextToken, scope)
		if err != nil {
			return nil, err
		}
		after = p.After
	}
	if none {
		if _, err := e.reg.Repository(ctx, reg, in.RepositoryName, false); err != nil {
			return nil, ecrError(err, nil)
		}
		return out, nil
	}
	ms, more, err := e.reg.DescribeImages(ctx, reg, in.RepositoryName, status, after, pageSize(in.MaxResults, defaultImagePage))
	if err != nil {
		return nil, ecrError(err, nil)
	}
	for _, m := range ms {
		out.ImageDetails = append(out.ImageDetails, imageDetailOut(reg, in.RepositoryName, m))
	}
	if more {
		p := scope
		p.After = ms[len(ms)-1].Digest
		out.NextToken = e.sealPage(p)
	}
	return out, nil
}

// checkImageIDs applies the model's bounds on an imageIds list, which the
// operations rely on (one call never does unbounded work).
func checkImageIDs(ids []imageIdentifier) error {
	if len(ids) < 1 || len(ids) > 100 {
		return errorf("InvalidParameterException", fmt.Sprintf("Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and 100' (it has %d)", len(ids)))
	}
	return nil
}

func batchGetImage(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID         *string           `json:"registryId"`
		RepositoryName     string            `json:"repositoryName"`
		ImageIDs           []imageIdentifier `json:"imageIds"`
		AcceptedMediaTypes []string          `json:"acceptedMediaTypes"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:BatchGetImage", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	if err := checkImageIDs(in.ImageIDs); err != nil {
		return nil, err
	}
	ids := domainImageIDs(in.ImageIDs)
	images, failures, err := e.reg.BatchGetImage(ctx, reg, in.RepositoryName, ids, in.AcceptedMediaTypes)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	var out struct {
		Images   []imageOut     `json:"images"`
		Failures []imageFailure `json:"failures"`
	}
	out.Images = make([]imageOut, 0, len(images))
	for _, im := range images {
		out.Images = append(out.Images, imageOut{
			RegistryID:             reg.Account,
			RepositoryName:         in.RepositoryName,
			ImageID:                imageIDOut(im.ID),
			ImageManifest:          string(im.Manifest.Content),
			ImageManifestMediaType: im.Manifest.MediaType,
		})
	}
	out.Failures = imageFailuresOut(failures)
	return out, nil
}

func batchDeleteImage(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID     *string           `json:"registryId"`
		RepositoryName string            `json:"repositoryName"`
		ImageIDs       []imageIdentifier `json:"imageIds"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:BatchDeleteImage", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	if err := checkImageIDs(in.ImageIDs); err != nil {
		return nil, err
	}
	ids := domainImageIDs(in.ImageIDs)
	deleted, failures, err := e.reg.BatchDeleteImage(ctx, reg, in.RepositoryName, ids)
	if err != nil {
		return nil, ecrError(err, nil)
	}
	var out struct {
		ImageIDs []imageIdentifier `json:"imageIds"`
		Failures []imageFailure    `json:"failures"`
	}
	out.ImageIDs = make([]imageIdentifier, 0, len(deleted))
	for _, id := range deleted {
		out.ImageIDs = append(out.ImageIDs, imageIDOut(id))
	}
	out.Failures = imageFailuresOut(failures)
	return out, nil
}

func putImage(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID             *string `json:"registryId"`
		RepositoryName         string  `json:"repositoryName"`
		ImageManifest          string  `json:"imageManifest"`
		ImageManifestMediaType string  `json:"imageManifestMediaType"`
		ImageTag               string  `json:"imageTag"`
		ImageDigest            string  `json:"imageDigest"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	if err := e.authorize(ctx, c, "ecr:PutImage", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	if in.ImageManifest == "" {
		return nil, errorf("InvalidParameterException", "Invalid parameter at 'imageManifest': the manifest is empty")
	}
	m, err := e.reg.PutImage(ctx, reg, in.RepositoryName, registry.PutImageInput{
		Manifest:  []byte(in.ImageManifest),
		MediaType: in.ImageManifestMediaType,
		Tag:       in.ImageTag,
		Digest:    in.ImageDigest,
	})
	if err != nil {
		return nil, ecrError(err, nil)
	}
	var out struct {
		Image imageOut `json:"image"`
	}
	out.Image = imageOut{
		RegistryID:             reg.Account,
		RepositoryName:         in.RepositoryName,
		ImageID:                imageIdentifier{ImageDigest: m.Digest, ImageTag: in.ImageTag},
		ImageManifest:          in.ImageManifest,
		ImageManifestMediaType: m.MediaType,
	}
	return out, nil
}

type imageReferrer struct {
	Digest         string            `json:"digest"`
	MediaType      string            `json:"mediaType"`
	ArtifactType   string            `json:"artifactType,omitempty"`
	Size           int64             `json:"size"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	ArtifactStatus string            `json:"artifactStatus"`
}

func listImageReferrers(ctx context.Context, e *ecrAPI, c *Call) (any, error) {
	var in struct {
		RegistryID     *string `json:"registryId"`
		RepositoryName string  `json:"repositoryName"`
		SubjectID      *struct {
			ImageDigest string `json:"imageDigest"`
		} `json:"subjectId"`
		Filter *struct {
			ArtifactTypes  []string `json:"artifactTypes"`
			ArtifactStatus string   `json:"artifactStatus"`
		} `json:"filter"`
		NextToken  *string `json:"nextToken"`
		MaxResults *int    `json:"maxResults"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	reg := e.registryFor(c, in.RegistryID)
	// ECR documents that listing referrers takes ecr:BatchGetImage: it
	// reveals what pulling the referrers would.
	if err := e.authorize(ctx, c, "ecr:BatchGetImage", reg, in.RepositoryName); err != nil {
		return nil, err
	}
	if in.SubjectID == nil || in.SubjectID.ImageDigest == "" {
		return nil, errorf("InvalidParameterException", "Invalid parameter at 'subjectId.imageDigest': the subject's digest is required")
	}
	if err := checkMaxResults(in.MaxResults, 50); err != nil {
		return nil, err
	}
	var types []string
	none := false
	if in.Filter != nil {
		types = in.Filter.ArtifactTypes
		if len(types) > 5 {
			return nil, errorf("InvalidParameterException", fmt.Sprintf("Invalid parameter at 'filter.artifactTypes': at most 5 artifact types, not %d", len(types)))
		}
		switch in.Filter.ArtifactStatus {
		case "", "ACTIVE", "ANY":
		case "ARCHIVED", "ACTIVATING":
			none = true
		default:
			return nil, errorf("InvalidParameterException", fmt.Sprintf("Invalid parameter at 'filter.artifactStatus': %q is not one of ACTIVE, ARCHIVED, ACTIVATING, ANY", truncate(in.Filter.ArtifactStatus, 100)))
		}
	}
	filter, _ := json.Marshal(types)
	scope := pageToken{Op: c.Operation, Registry: registryScope(reg), Repo: in.RepositoryName, Filter: in.SubjectID.ImageDigest + " " + string(filter)}
	after := ""
	if in.NextToken != nil {
		p, err := e.openPage(*in.NextToken, scope)
		if err != nil {
			return nil, err
		}
		after = p.After
	}
	refs, more, err := e.reg.ImageReferrers(ctx, reg, in.RepositoryName, in.SubjectID.ImageDigest, types, after, pageSize(in.MaxResults, defaultReferrerPage))
	if err != nil {
		return nil, ecrError(err, nil)
	}
	var out struct {
		Referrers []imageReferrer `json:"referrers"`
		NextToken *string         `json:"nextToken,omitempty"`
	}
	out.Referrers = []imageReferrer{}
	if none {
		return out, nil
	}
	for _, r := range refs {
		out.Referrers = append(out.Referrers, imageReferrer{
			Digest: r.Digest, MediaType: r.MediaType, ArtifactType: r.ArtifactType,
			Size: r.Size, Annotations: r.Annotations, ArtifactStatus: "ACTIVE",
		})
	}
	if more {
		p := scope
		p.After = refs[len(refs)-1].Digest
		out.NextToken = e.sealPage(p)
	}
	return out, nil
}

func domainImageIDs(in []imageIdentifier) []registry.ImageID {
	ids := make([]registry.ImageID, len(in))
	for i, id := range in {
		ids[i] = id.domain()
	}
	return ids
}
