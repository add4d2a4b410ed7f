package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // logos may be JPEG
	_ "image/png"  // or PNG
	"slices"

	"github.com/berth-registry/berth/internal/meta"
)

// PublicRegion is the pseudo-region of an account's ECR Public registry
// (see meta.PublicRegion): the public registry of an account is
// Key{account, PublicRegion}, and everything the domain does for a private
// registry it does for it unchanged.
const PublicRegion = meta.PublicRegion

// PublicRegistry is an account's ECR Public registry.
func PublicRegistry(account string) Key { return Key{Account: account, Region: PublicRegion} }

// DefaultPublicAlias is an account's registry alias until it chooses
// another: "b" and the account id. It fits ECR Public's alias pattern
// ([a-z][a-z0-9]+…), and is unique across accounts without a row to write
// or nodes to agree.
func DefaultPublicAlias(account string) string { return "b" + account }

// PublicAccountOf is the account whose public registry an alias names.
func PublicAccountOf(alias string) (string, bool) {
	acct, ok := bytes.CutPrefix([]byte(alias), []byte("b"))
	if !ok || len(acct) != 12 {
		return "", false
	}
	for _, c := range acct {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return string(acct), true
}

// CatalogData is a public repository's entry in the gallery, as ECR
// Public's RepositoryCatalogData has it. The logo is kept apart (LogoDigest
// names it): the configuration is read on every pull, a logo weighs up to
// 500 KB.
type CatalogData struct {
	Description      string   `json:"description,omitempty"`
	AboutText        string   `json:"aboutText,omitempty"`
	UsageText        string   `json:"usageText,omitempty"`
	Architectures    []string `json:"architectures,omitempty"`
	OperatingSystems []string `json:"operatingSystems,omitempty"`
	LogoDigest       string   `json:"logoDigest,omitempty"`
}

// CatalogInput is catalog data as a caller puts it: the logo's bytes
// rather than its digest. A nil Logo leaves no logo.
type CatalogInput struct {
	CatalogData
	Logo []byte
}

// logoSetting is the registry setting that holds a logo's bytes: named by
// their digest, so a row outliving its repository is never taken for
// another's logo.
func logoSetting(digest string) string { return "public/logo/" + digest }

// registryDisplayName is the public registry's setting for its display name.
const registryDisplayName = "public/displayName"

// checkLogo accepts PNG and JPEG images, the formats ECR Public's gallery
// shows.
func checkLogo(b []byte) error {
	if _, format, err := image.DecodeConfig(bytes.NewReader(b)); err != nil || (format != "png" && format != "jpeg") {
		return invalidParameter("logoImageBlob", "the logo must be a PNG or JPEG image")
	}
	return nil
}

// catalogOf prepares catalog data for storing: the logo checked and
// stored (before the configuration that names it), its digest recorded.
func (s *Service) catalogOf(ctx context.Context, reg Key, in *CatalogInput) (*CatalogData, error) {
	if in == nil {
		return nil, nil
	}
	cd := in.CatalogData
	cd.Architectures = slices.Clone(cd.Architectures)
	cd.OperatingSystems = slices.Clone(cd.OperatingSystems)
	cd.LogoDigest = ""
	if len(in.Logo) > 0 {
		if err := checkLogo(in.Logo); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(in.Logo)
		cd.LogoDigest = "sha256:" + hex.EncodeToString(sum[:])
		if err := s.meta.PutRegistrySetting(ctx, reg, logoSetting(cd.LogoDigest), base64.StdEncoding.EncodeToString(in.Logo)); err != nil {
			return nil, fmt.Errorf("store logo: %w", err)
		}
	}
	return &cd, nil
}

// PutCatalogData replaces a public repository's catalog data.
func (s *Service) PutCatalogData(ctx context.Context, reg Key, name string, in CatalogInput) (*CatalogData, error) {
	if _, err := s.Repository(ctx, reg, name, false); err != nil {
		return nil, err
	}
	cd, err := s.catalogOf(ctx, reg, &in)
	if err != nil {
		return nil, err
	}
	if _, err := s.modify(ctx, reg, name, func(_ *meta.Repository, c *RepositoryConfig) error {
		c.Catalog = cd
		return nil
	}); err != nil {
		return nil, err
	}
	return cd, nil
}

// Logo returns a logo's bytes by its digest.
func (s *Service) Logo(ctx context.Context, reg Key, digest string) ([]byte, error) {
	v, err := s.meta.GetRegistrySetting(ctx, reg, logoSetting(digest))
	if errors.Is(err, meta.ErrNotFound) {
		return nil, errorf(ErrBlobUnknown, "no logo %s in the registry with id '%s'", digest, reg.Account)
	}
	if err != nil {
		return nil, fmt.Errorf("get logo: %w", err)
	}
	return base64.StdEncoding.DecodeString(v)
}

// RegistryDisplayName is the public registry's display name, "" if none was put.
func (s *Service) RegistryDisplayName(ctx context.Context, reg Key) (string, error) {
	v, err := s.meta.GetRegistrySetting(ctx, reg, registryDisplayName)
	if errors.Is(err, meta.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get registry display name: %w", err)
	}
	return v, nil
}

// PutRegistryDisplayName sets the public registry's display name.
func (s *Service) PutRegistryDisplayName(ctx context.Context, reg Key, name string) error {
	if err := s.meta.PutRegistrySetting(ctx, reg, registryDisplayName, name); err != nil {
		return fmt.Errorf("put registry display name: %w", err)
	}
	return nil
}
