package secretsapi

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/internal/awsapi"
	"github.com/berth-registry/berth/internal/secrets"
)

func isNotFound(err error) bool { return errors.Is(err, secrets.ErrNotFound) }

type createSecretIn struct {
	Name               string  `json:"Name"`
	ClientRequestToken string  `json:"ClientRequestToken"`
	Description        string  `json:"Description"`
	KmsKeyID           string  `json:"KmsKeyId"`
	SecretBinary       []byte  `json:"SecretBinary"`
	SecretString       *string `json:"SecretString"`
	Tags               []tag   `json:"Tags"`
	AddReplicaRegions  []any   `json:"AddReplicaRegions"`
	ForceOverwrite     bool    `json:"ForceOverwriteReplicaSecret"`
	Type               string  `json:"Type"`
	// arn is made by newSecret, authorized, then created.
	arn string
}

type writtenOut struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     *string  `json:"VersionId,omitempty"`
	VersionStages []string `json:"VersionStages,omitempty"`
}

func written(w *secrets.Written, stages bool) *writtenOut {
	out := &writtenOut{ARN: w.ARN, Name: w.Name, VersionID: omitEmpty(w.VersionID)}
	if stages {
		out.VersionStages = w.Stages
	}
	return out
}

// newSecret checks CreateSecret on the ARN the secret will have: the
// random suffix is chosen here, so that the ARN authorized is the ARN
// created (a policy on "secret:ecr-pullthroughcache/*" matches it).
func (a *API) newSecret(_ context.Context, c *awsapi.Call, in *createSecretIn) ([]awsapi.Check, error) {
	if len(in.AddReplicaRegions) > 0 {
		return nil, awsapi.Errorf("InvalidParameterException", "Berth does not replicate secrets to other Regions: leave out AddReplicaRegions.")
	}
	in.arn = secrets.NewARN(registry(c), in.Name)
	return []awsapi.Check{{Resource: in.arn, Account: c.Principal.Account, Tags: tagMap(in.Tags)}}, nil
}

func (a *API) createSecret(ctx context.Context, c *awsapi.Call, in *createSecretIn) (*writtenOut, error) {
	v, err := secrets.NewValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	w, err := a.sec.Create(ctx, registry(c), secrets.CreateInput{Name: in.Name, Description: in.Description, KMSKeyID: in.KmsKeyID,
		ClientRequestToken: in.ClientRequestToken, Value: v, Tags: tagsIn(in.Tags), ARN: in.arn})
	if err != nil {
		return nil, err
	}
	return written(w, false), nil
}

type getSecretValueIn struct {
	secretIn
	VersionID    string `json:"VersionId"`
	VersionStage string `json:"VersionStage"`
}

type getSecretValueOut struct {
	ARN           string            `json:"ARN"`
	Name          string            `json:"Name"`
	VersionID     string            `json:"VersionId"`
	SecretBinary  []byte            `json:"SecretBinary,omitempty"`
	SecretString  *string           `json:"SecretString,omitempty"`
	VersionStages []string          `json:"VersionStages,omitempty"`
	CreatedDate   *awsapi.EpochTime `json:"CreatedDate,omitempty"`
}

func (a *API) getSecretValue(ctx context.Context, c *awsapi.Call, in *getSecretValueIn) (*getSecretValueOut, error) {
	sec, v, err := a.sec.GetValue(ctx, registry(c), in.SecretID, in.VersionID, in.VersionStage)
	if err != nil {
		return nil, err
	}
	out := &getSecretValueOut{ARN: sec.ARN, Name: sec.Name, VersionID: v.VersionID, VersionStages: v.Stages,
		CreatedDate: awsapi.NewEpochTime(v.CreatedAt)}
	if v.IsBinary() {
		out.SecretBinary = v.Binary
	} else {
		out.SecretString = &v.String
	}
	return out, nil
}

type putSecretValueIn struct {
	secretIn
	ClientRequestToken string   `json:"ClientRequestToken"`
	SecretBinary       []byte   `json:"SecretBinary"`
	SecretString       *string  `json:"SecretString"`
	VersionStages      []string `json:"VersionStages"`
}

func (a *API) putSecretValue(ctx context.Context, c *awsapi.Call, in *putSecretValueIn) (*writtenOut, error) {
	v, err := secrets.NewValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	w, err := a.sec.PutValue(ctx, registry(c), in.SecretID, in.ClientRequestToken, v, in.VersionStages)
	if err != nil {
		return nil, err
	}
	return written(w, true), nil
}

// secretOut is a secret as DescribeSecret describes it, and ListSecrets
// lists it (whose map of versions is named differently).
type secretOut struct {
	ARN                    string              `json:"ARN"`
	Name                   string              `json:"Name"`
	Description            *string             `json:"Description,omitempty"`
	KmsKeyID               *string             `json:"KmsKeyId,omitempty"`
	LastChangedDate        *awsapi.EpochTime   `json:"LastChangedDate,omitempty"`
	LastAccessedDate       *awsapi.EpochTime   `json:"LastAccessedDate,omitempty"`
	DeletedDate            *awsapi.EpochTime   `json:"DeletedDate,omitempty"`
	Tags                   []tag               `json:"Tags,omitempty"`
	VersionIdsToStages     map[string][]string `json:"VersionIdsToStages,omitempty"`
	SecretVersionsToStages map[string][]string `json:"SecretVersionsToStages,omitempty"`
	CreatedDate            *awsapi.EpochTime   `json:"CreatedDate,omitempty"`
}

func describe(sec *secrets.Secret) *secretOut {
	out := &secretOut{ARN: sec.ARN, Name: sec.Name, Description: omitEmpty(sec.Description), KmsKeyID: omitEmpty(sec.KMSKeyID),
		LastChangedDate: awsapi.NewEpochTime(sec.ChangedAt), LastAccessedDate: awsapi.NewEpochTime(sec.AccessedAt),
		DeletedDate: awsapi.NewEpochTime(sec.DeletedAt), Tags: tagsOut(sec.Tags), CreatedDate: awsapi.NewEpochTime(sec.CreatedAt)}
	for _, v := range sec.Versions {
		if len(v.Stages) == 0 {
			continue // deprecated: not listed
		}
		if out.VersionIdsToStages == nil {
			out.VersionIdsToStages = map[string][]string{}
		}
		out.VersionIdsToStages[v.ID] = v.Stages
	}
	return out
}

func (a *API) describeSecret(ctx context.Context, c *awsapi.Call, in *secretIn) (*secretOut, error) {
	sec, err := a.sec.Describe(ctx, registry(c), in.SecretID)
	if err != nil {
		return nil, err
	}
	return describe(sec), nil
}

type filter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

type listSecretsIn struct {
	IncludePlannedDeletion bool     `json:"IncludePlannedDeletion"`
	MaxResults             int      `json:"MaxResults"`
	NextToken              string   `json:"NextToken"`
	Filters                []filter `json:"Filters"`
	SortOrder              string   `json:"SortOrder"`
	SortBy                 string   `json:"SortBy"`
}

type listSecretsOut struct {
	SecretList []*secretOut `json:"SecretList"`
	NextToken  *string      `json:"NextToken,omitempty"`
}

func (a *API) listSecrets(ctx context.Context, c *awsapi.Call, in *listSecretsIn) (*listSecretsOut, error) {
	q := secrets.ListQuery{IncludePlannedDeletion: in.IncludePlannedDeletion, SortBy: in.SortBy, SortOrder: in.SortOrder,
		MaxResults: in.MaxResults, NextToken: in.NextToken}
	for _, f := range in.Filters {
		q.Filters = append(q.Filters, secrets.Filter{Key: f.Key, Values: f.Values})
	}
	list, next, err := a.sec.List(ctx, registry(c), q)
	if err != nil {
		return nil, err
	}
	out := &listSecretsOut{SecretList: []*secretOut{}, NextToken: omitEmpty(next)}
	for i := range list {
		d := describe(&list[i])
		d.SecretVersionsToStages, d.VersionIdsToStages = d.VersionIdsToStages, nil
		out.SecretList = append(out.SecretList, d)
	}
	return out, nil
}

type listSecretVersionIdsIn struct {
	secretIn
	MaxResults        int    `json:"MaxResults"`
	NextToken         string `json:"NextToken"`
	IncludeDeprecated bool   `json:"IncludeDeprecated"`
}

type versionOut struct {
	VersionID     string            `json:"VersionId"`
	VersionStages []string          `json:"VersionStages,omitempty"`
	CreatedDate   *awsapi.EpochTime `json:"CreatedDate,omitempty"`
}

type listSecretVersionIdsOut struct {
	Versions  []versionOut `json:"Versions"`
	NextToken *string      `json:"NextToken,omitempty"`
	ARN       string       `json:"ARN"`
	Name      string       `json:"Name"`
}

func (a *API) listSecretVersionIds(ctx context.Context, c *awsapi.Call, in *listSecretVersionIdsIn) (*listSecretVersionIdsOut, error) {
	sec, vs, next, err := a.sec.Versions(ctx, registry(c), in.SecretID,
		secrets.VersionsQuery{IncludeDeprecated: in.IncludeDeprecated, MaxResults: in.MaxResults, NextToken: in.NextToken})
	if err != nil {
		return nil, err
	}
	out := &listSecretVersionIdsOut{Versions: []versionOut{}, NextToken: omitEmpty(next), ARN: sec.ARN, Name: sec.Name}
	for _, v := range vs {
		out.Versions = append(out.Versions, versionOut{VersionID: v.ID, VersionStages: v.Stages, CreatedDate: awsapi.NewEpochTime(v.CreatedAt)})
	}
	return out, nil
}

type updateSecretIn struct {
	secretIn
	ClientRequestToken string  `json:"ClientRequestToken"`
	Description        *string `json:"Description"`
	KmsKeyID           *string `json:"KmsKeyId"`
	SecretBinary       []byte  `json:"SecretBinary"`
	SecretString       *string `json:"SecretString"`
	Type               string  `json:"Type"`
}

func (a *API) updateSecret(ctx context.Context, c *awsapi.Call, in *updateSecretIn) (*writtenOut, error) {
	v, err := secrets.NewValue(in.SecretString, in.SecretBinary)
	if err != nil {
		return nil, err
	}
	w, err := a.sec.Update(ctx, registry(c), in.SecretID, secrets.UpdateInput{Description: in.Description, KMSKeyID: in.KmsKeyID,
		Value: v, ClientRequestToken: in.ClientRequestToken})
	if err != nil {
		return nil, err
	}
	return written(w, false), nil
}

type deleteSecretIn struct {
	secretIn
	RecoveryWindowInDays *int64 `json:"RecoveryWindowInDays"`
	Force                bool   `json:"ForceDeleteWithoutRecovery"`
}

type deleteSecretOut struct {
	ARN          string            `json:"ARN"`
	Name         string            `json:"Name"`
	DeletionDate *awsapi.EpochTime `json:"DeletionDate,omitempty"`
}

func (a *API) deleteSecret(ctx context.Context, c *awsapi.Call, in *deleteSecretIn) (*deleteSecretOut, error) {
	d := secrets.DeleteInput{Force: in.Force}
	if in.RecoveryWindowInDays != nil {
		d.WindowGiven, d.RecoveryWindowInDays = true, *in.RecoveryWindowInDays
	}
	del, err := a.sec.Delete(ctx, registry(c), in.SecretID, d)
	if err != nil {
		return nil, err
	}
	return &deleteSecretOut{ARN: del.ARN, Name: del.Name, DeletionDate: awsapi.NewEpochTime(del.DeletionDate)}, nil
}

type restoreSecretOut struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

func (a *API) restoreSecret(ctx context.Context, c *awsapi.Call, in *secretIn) (*restoreSecretOut, error) {
	sec, err := a.sec.Restore(ctx, registry(c), in.SecretID)
	if err != nil {
		return nil, err
	}
	return &restoreSecretOut{ARN: sec.ARN, Name: sec.Name}, nil
}

type tagResourceIn struct {
	secretIn
	Tags []tag `json:"Tags"`
}

// onTagging checks TagResource on the secret, with the tags it sets.
func (a *API) onTagging(ctx context.Context, c *awsapi.Call, in *tagResourceIn) ([]awsapi.Check, error) {
	arn, err := a.secretARN(ctx, c, in.SecretID)
	if err != nil {
		return nil, err
	}
	return []awsapi.Check{{Resource: arn, Account: c.Principal.Account, Tags: tagMap(in.Tags)}}, nil
}

func (a *API) tagResource(ctx context.Context, c *awsapi.Call, in *tagResourceIn) (*none, error) {
	return &none{}, a.sec.Tag(ctx, registry(c), in.SecretID, tagsIn(in.Tags))
}

type untagResourceIn struct {
	secretIn
	TagKeys []string `json:"TagKeys"`
}

func (a *API) untagResource(ctx context.Context, c *awsapi.Call, in *untagResourceIn) (*none, error) {
	return &none{}, a.sec.Untag(ctx, registry(c), in.SecretID, in.TagKeys)
}

type getRandomPasswordIn struct {
	PasswordLength          *int64 `json:"PasswordLength"`
	ExcludeCharacters       string `json:"ExcludeCharacters"`
	ExcludeNumbers          bool   `json:"ExcludeNumbers"`
	ExcludePunctuation      bool   `json:"ExcludePunctuation"`
	ExcludeUppercase        bool   `json:"ExcludeUppercase"`
	ExcludeLowercase        bool   `json:"ExcludeLowercase"`
	IncludeSpace            bool   `json:"IncludeSpace"`
	RequireEachIncludedType *bool  `json:"RequireEachIncludedType"`
}

type getRandomPasswordOut struct {
	RandomPassword string `json:"RandomPassword"`
}

func getRandomPassword(_ context.Context, _ *awsapi.Call, in *getRandomPasswordIn) (*getRandomPasswordOut, error) {
	spec := secrets.PasswordSpec{ExcludeCharacters: in.ExcludeCharacters, ExcludeNumbers: in.ExcludeNumbers,
		ExcludePunctuation: in.ExcludePunctuation, ExcludeUppercase: in.ExcludeUppercase, ExcludeLowercase: in.ExcludeLowercase,
		IncludeSpace: in.IncludeSpace, RequireEachIncludedType: in.RequireEachIncludedType == nil || *in.RequireEachIncludedType}
	if in.PasswordLength != nil {
		spec.Length = int(*in.PasswordLength)
	}
	pw, err := secrets.RandomPassword(spec)
	if err != nil {
		return nil, err
	}
	return &getRandomPasswordOut{RandomPassword: pw}, nil
}
