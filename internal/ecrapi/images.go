package ecrapi

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/berth-registry/berth/internal/authn"
	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/registry"
)

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

func domainImageIDs(in []imageIdentifier) []registry.ImageID {
	ids := make([]registry.ImageID, len(in))
	for i, id := range in {
		ids[i] = id.domain()
	}
	return ids
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
func (f *imageFilter) tagStatus() (status registry.TagStatus, none bool, err error) {
	if f == nil {
		return registry.TagStatusAny, false, nil
	}
	switch f.ImageStatus {
	case "", "ACTIVE", "ANY":
	case "ARCHIVED", "ACTIVATING":
		none = true
	default:
		return "", false, invalidParameter(fmt.Sprintf("Invalid parameter at 'filter.imageStatus': %q is not one of ACTIVE, ARCHIVED, ACTIVATING, ANY", awsapi.Truncate(f.ImageStatus, 100)))
	}
	switch f.TagStatus {
	case "":
		return registry.TagStatusAny, none, nil
	case "TAGGED", "UNTAGGED", "ANY":
		return registry.TagStatus(f.TagStatus), none, nil
	}
	return "", false, invalidParameter(fmt.Sprintf("Invalid parameter at 'filter.tagStatus': %q is not one of TAGGED, UNTAGGED, ANY", awsapi.Truncate(f.TagStatus, 100)))
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

// pageScope is the listing a call makes, for its nextTokens.
func pageScope(c *awsapi.Call, reg registry.Key, repo, filter string) pageToken {
	return pageToken{Op: c.Operation, Registry: reg.Account + "/" + reg.Region, Repo: repo, Filter: filter}
}

func (p pageToken) scope() string {
	b, _ := json.Marshal(pageToken{Op: p.Op, Registry: p.Registry, Repo: p.Repo, Filter: p.Filter})
	return string(b)
}

// sealPage turns a position into an opaque, tamper-proof nextToken.
func (a *API) sealPage(p pageToken) *string {
	b, _ := json.Marshal(p)
	tok := a.tokens.Seal(authn.PurposeNextToken, string(b), a.now().Add(nextTokenLifetime))
	return &tok
}

// openPage reads a nextToken issued for the same listing (scope); a nil
// token starts at the beginning.
func (a *API) openPage(token *string, scope pageToken) (pageToken, error) {
	if token == nil {
		return pageToken{}, nil
	}
	invalid := invalidParameter("Invalid parameter at 'nextToken': the token was not issued for this request, was altered, or has expired; list again from the start")
	payload, err := a.tokens.Open(authn.PurposeNextToken, *token)
	if err != nil {
		return pageToken{}, invalid
	}
	var p pageToken
	if json.Unmarshal([]byte(payload), &p) != nil || p.scope() != scope.scope() {
		return pageToken{}, invalid
	}
	return p, nil
}

func pageSize(maxResults *int, def int) int {
	if maxResults == nil {
		return def
	}
	return *maxResults
}

func checkMaxResults(maxResults *int, limit int) error {
	if maxResults != nil && (*maxResults < 1 || *maxResults > limit) {
		return invalidParameter(fmt.Sprintf("Invalid parameter at 'maxResults': %d is not between 1 and %d", *maxResults, limit))
	}
	return nil
}

// notWithImageIDs refuses paging parameters beside imageIds, which select
// their images one by one.
func notWithImageIDs(ids []imageIdentifier, maxResults *int, nextToken *string) error {
	switch {
	case len(ids) == 0:
		return nil
	case maxResults != nil:
		return invalidParameter("Invalid parameter at 'maxResults': it cannot be used when imageIds are given")
	case nextToken != nil:
		return invalidParameter("Invalid parameter at 'nextToken': it cannot be used when imageIds are given")
	}
	return nil
}

type listImagesIn struct {
	repoRef
	NextToken  *string      `json:"nextToken"`
	MaxResults *int         `json:"maxResults"`
	Filter     *imageFilter `json:"filter"`
}

type listImagesOut struct {
	ImageIDs  []imageIdentifier `json:"imageIds"`
	NextToken *string           `json:"nextToken,omitempty"`
}

// imageListing is where a ListImages or DescribeImages call starts: the
// tag status its filter asks for, the scope and position of its page, and
// whether the filter selects nothing Berth keeps (archived images), in
// which case the repository has been checked and the answer is empty.
type imageListing struct {
	status    registry.TagStatus
	scope, at pageToken
	empty     bool
}

func (a *API) startImageListing(ctx context.Context, c *awsapi.Call, repo repoRef, maxResults *int, filter *imageFilter, nextToken *string) (*imageListing, error) {
	if err := checkMaxResults(maxResults, registry.MaxPageSize); err != nil {
		return nil, err
	}
	status, none, err := filter.tagStatus()
	if err != nil {
		return nil, err
	}
	reg := repo.registry(c)
	l := &imageListing{status: status, scope: pageScope(c, reg, repo.RepositoryName, string(status)), empty: none}
	if l.at, err = a.openPage(nextToken, l.scope); err != nil {
		return nil, err
	}
	if none {
		if _, err := a.reg.Repository(ctx, reg, repo.RepositoryName, false); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (a *API) listImages(ctx context.Context, c *awsapi.Call, in *listImagesIn) (*listImagesOut, error) {
	l, err := a.startImageListing(ctx, c, in.repoRef, in.MaxResults, in.Filter, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &listImagesOut{ImageIDs: []imageIdentifier{}}
	if l.empty {
		return out, nil
	}
	ids, next, err := a.reg.ListImageIDs(ctx, in.registry(c), in.RepositoryName, l.status, registry.ImageID{Digest: l.at.After, Tag: l.at.Tag}, pageSize(in.MaxResults, defaultImagePage))
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		out.ImageIDs = append(out.ImageIDs, imageIDOut(id))
	}
	if next != nil {
		p := l.scope
		p.After, p.Tag = next.Digest, next.Tag
		out.NextToken = a.sealPage(p)
	}
	return out, nil
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
	LastRecordedPullTime   *awsapi.EpochTime `json:"lastRecordedPullTime,omitempty"`
	SubjectManifestDigest  string            `json:"subjectManifestDigest,omitempty"`
	ImageStatus            string            `json:"imageStatus"`
	// The scan of an image that had one requested (scanning.go).
	ImageScanStatus          *imageScanStatus          `json:"imageScanStatus,omitempty"`
	ImageScanFindingsSummary *imageScanFindingsSummary `json:"imageScanFindingsSummary,omitempty"`
}

func imageDetailOut(reg registry.Key, repo string, m *registry.Manifest) imageDetail {
	return imageDetail{
		RegistryID:             reg.Account,
		RepositoryName:         repo,
		ImageDigest:            m.Digest,
		ImageTags:              m.Tags,
		ImageSizeInBytes:       m.ImageSize,
		ImagePushedAt:          awsapi.NewEpochTime(m.PushedAt),
		ImageManifestMediaType: m.MediaType,
		ArtifactMediaType:      m.ArtifactType,
		LastRecordedPullTime:   awsapi.NewEpochTime(m.LastPulledAt),
		SubjectManifestDigest:  m.Subject,
		ImageStatus:            "ACTIVE",
	}
}

type describeImagesIn struct {
	repoRef
	ImageIDs   []imageIdentifier `json:"imageIds"`
	NextToken  *string           `json:"nextToken"`
	MaxResults *int              `json:"maxResults"`
	Filter     *imageFilter      `json:"filter"`
}

type describeImagesOut struct {
	ImageDetails []imageDetail `json:"imageDetails"`
	NextToken    *string       `json:"nextToken,omitempty"`
}

func (a *API) describeImages(ctx context.Context, c *awsapi.Call, in *describeImagesIn) (*describeImagesOut, error) {
	reg := in.registry(c)
	out := &describeImagesOut{ImageDetails: []imageDetail{}}
	if err := notWithImageIDs(in.ImageIDs, in.MaxResults, in.NextToken); err != nil {
		return nil, err
	}
	if len(in.ImageIDs) > 0 {
		ms, err := a.reg.DescribeImagesByID(ctx, reg, in.RepositoryName, domainImageIDs(in.ImageIDs))
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			out.ImageDetails = append(out.ImageDetails, imageDetailOut(reg, in.RepositoryName, m))
		}
		return out, a.addScanStatus(ctx, reg, in.RepositoryName, out.ImageDetails)
	}
	l, err := a.startImageListing(ctx, c, in.repoRef, in.MaxResults, in.Filter, in.NextToken)
	if err != nil {
		return nil, err
	}
	if l.empty {
		return out, nil
	}
	ms, more, err := a.reg.DescribeImages(ctx, reg, in.RepositoryName, l.status, l.at.After, pageSize(in.MaxResults, defaultImagePage))
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		out.ImageDetails = append(out.ImageDetails, imageDetailOut(reg, in.RepositoryName, m))
	}
	if err := a.addScanStatus(ctx, reg, in.RepositoryName, out.ImageDetails); err != nil {
		return nil, err
	}
	if more {
		p := l.scope
		p.After = ms[len(ms)-1].Digest
		out.NextToken = a.sealPage(p)
	}
	return out, nil
}

// checkImageIDs applies the model's bounds on an imageIds list, which the
// operations rely on (one call never does unbounded work).
func checkImageIDs(ids []imageIdentifier) error {
	if len(ids) < 1 || len(ids) > 100 {
		return invalidParameter(fmt.Sprintf("Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length between 1 and 100' (it has %d)", len(ids)))
	}
	return nil
}

type batchGetImageIn struct {
	repoRef
	ImageIDs           []imageIdentifier `json:"imageIds"`
	AcceptedMediaTypes []string          `json:"acceptedMediaTypes"`
}

type batchGetImageOut struct {
	Images   []imageOut     `json:"images"`
	Failures []imageFailure `json:"failures"`
}

func (a *API) batchGetImage(ctx context.Context, c *awsapi.Call, in *batchGetImageIn) (*batchGetImageOut, error) {
	reg := in.registry(c)
	if err := checkImageIDs(in.ImageIDs); err != nil {
		return nil, err
	}
	images, failures, err := a.reg.BatchGetImage(ctx, reg, in.RepositoryName, domainImageIDs(in.ImageIDs), in.AcceptedMediaTypes)
	if err != nil {
		return nil, err
	}
	out := &batchGetImageOut{Images: make([]imageOut, 0, len(images)), Failures: imageFailuresOut(failures)}
	for _, im := range images {
		out.Images = append(out.Images, imageOut{
			RegistryID:             reg.Account,
			RepositoryName:         in.RepositoryName,
			ImageID:                imageIDOut(im.ID),
			ImageManifest:          string(im.Manifest.Content),
			ImageManifestMediaType: im.Manifest.MediaType,
		})
	}
	return out, nil
}

type batchDeleteImageIn struct {
	repoRef
	ImageIDs []imageIdentifier `json:"imageIds"`
}

type batchDeleteImageOut struct {
	ImageIDs []imageIdentifier `json:"imageIds"`
	Failures []imageFailure    `json:"failures"`
}

func (a *API) batchDeleteImage(ctx context.Context, c *awsapi.Call, in *batchDeleteImageIn) (*batchDeleteImageOut, error) {
	if err := checkImageIDs(in.ImageIDs); err != nil {
		return nil, err
	}
	deleted, failures, err := a.reg.BatchDeleteImage(ctx, in.registry(c), in.RepositoryName, domainImageIDs(in.ImageIDs))
	if err != nil {
		return nil, err
	}
	out := &batchDeleteImageOut{ImageIDs: make([]imageIdentifier, 0, len(deleted)), Failures: imageFailuresOut(failures)}
	for _, id := range deleted {
		out.ImageIDs = append(out.ImageIDs, imageIDOut(id))
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

type putImageOut struct {
	Image imageOut `json:"image"`
}

func (a *API) putImage(ctx context.Context, c *awsapi.Call, in *putImageIn) (*putImageOut, error) {
	reg := in.registry(c)
	if in.ImageManifest == "" {
		return nil, invalidParameter("Invalid parameter at 'imageManifest': the manifest is empty")
	}
	if err := a.createOnPush(ctx, c, reg, in.RepositoryName); err != nil {
		return nil, err
	}
	m, err := a.reg.PutImage(ctx, reg, in.RepositoryName, registry.PutImageInput{
		Manifest:  []byte(in.ImageManifest),
		MediaType: in.ImageManifestMediaType,
		Tag:       in.ImageTag,
		Digest:    in.ImageDigest,
	})
	if err != nil {
		return nil, err
	}
	return &putImageOut{imageOut{
		RegistryID:             reg.Account,
		RepositoryName:         in.RepositoryName,
		ImageID:                imageIdentifier{ImageDigest: m.Digest, ImageTag: in.ImageTag},
		ImageManifest:          in.ImageManifest,
		ImageManifestMediaType: m.MediaType,
	}}, nil
}

type imageReferrer struct {
	Digest         string            `json:"digest"`
	MediaType      string            `json:"mediaType"`
	ArtifactType   string            `json:"artifactType,omitempty"`
	Size           int64             `json:"size"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	ArtifactStatus string            `json:"artifactStatus"`
}

type listImageReferrersIn struct {
	repoRef
	SubjectID *struct {
		ImageDigest string `json:"imageDigest"`
	} `json:"subjectId"`
	Filter *struct {
		ArtifactTypes  []string `json:"artifactTypes"`
		ArtifactStatus string   `json:"artifactStatus"`
	} `json:"filter"`
	NextToken  *string `json:"nextToken"`
	MaxResults *int    `json:"maxResults"`
}

type listImageReferrersOut struct {
	Referrers []imageReferrer `json:"referrers"`
	NextToken *string         `json:"nextToken,omitempty"`
}

func (a *API) listImageReferrers(ctx context.Context, c *awsapi.Call, in *listImageReferrersIn) (*listImageReferrersOut, error) {
	reg := in.registry(c)
	if in.SubjectID == nil || in.SubjectID.ImageDigest == "" {
		return nil, invalidParameter("Invalid parameter at 'subjectId.imageDigest': the subject's digest is required")
	}
	if err := checkMaxResults(in.MaxResults, 50); err != nil {
		return nil, err
	}
	var types []string
	none := false
	if in.Filter != nil {
		types = in.Filter.ArtifactTypes
		if len(types) > 5 {
			return nil, invalidParameter(fmt.Sprintf("Invalid parameter at 'filter.artifactTypes': at most 5 artifact types, not %d", len(types)))
		}
		switch in.Filter.ArtifactStatus {
		case "", "ACTIVE", "ANY":
		case "ARCHIVED", "ACTIVATING":
			none = true
		default:
			return nil, invalidParameter(fmt.Sprintf("Invalid parameter at 'filter.artifactStatus': %q is not one of ACTIVE, ARCHIVED, ACTIVATING, ANY", awsapi.Truncate(in.Filter.ArtifactStatus, 100)))
		}
	}
	filter, _ := json.Marshal(types)
	scope := pageScope(c, reg, in.RepositoryName, in.SubjectID.ImageDigest+" "+string(filter))
	p, err := a.openPage(in.NextToken, scope)
	if err != nil {
		return nil, err
	}
	refs, more, err := a.reg.ImageReferrers(ctx, reg, in.RepositoryName, in.SubjectID.ImageDigest, types, p.After, pageSize(in.MaxResults, defaultReferrerPage))
	if err != nil {
		return nil, err
	}
	out := &listImageReferrersOut{Referrers: []imageReferrer{}}
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
		out.NextToken = a.sealPage(p)
	}
	return out, nil
}
