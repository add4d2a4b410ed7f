package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/replicate/rules"
)

// AccountSettingDef is one of ECR's account settings (which, ECR being
// regional, hold per registry): the values a caller may put and the value
// of a registry that never put one.
type AccountSettingDef struct {
	Name    string
	Values  []string
	Default string
	// Check, when set, judges a value instead of Values: for a setting
	// whose values are not a list.
	Check func(value string) error
}

// SettingScanSBOM is a Berth extension, not an ECR setting: whether image
// scanning attaches the inventory it takes to the scanned image as an SBOM
// (an OCI referrer), and in which format. The API model leaves account
// setting names and values free strings (a name of 1 to 64 characters),
// so the AWS CLI and SDKs put and get it like ECR's own. Its values other
// than ScanSBOMDisabled are the formats package scan/sbom writes.
const (
	SettingScanSBOM   = "BERTH_SCAN_SBOM"
	ScanSBOMDisabled  = "DISABLED"
	ScanSBOMSPDX      = "SPDX"
	ScanSBOMCycloneDX = "CYCLONEDX"
)

// SettingReplicationTagFilter is a Berth extension, not an ECR setting:
// the tag patterns an image needs a tag to match to be replicated
// (package replicate/rules, TagFilter), patterns separated by commas, '*'
// standing for any run of characters. ECR filters replication by
// repository only, and its API model has no place for a tag filter
// (RepositoryFilterType is PREFIX_MATCH alone); the default "*"
// replicates every image, as ECR does.
const SettingReplicationTagFilter = "BERTH_REPLICATION_TAG_FILTER"

// AccountSettings are the settings GetAccountSetting and PutAccountSetting
// know, with the values the API model documents as valid. The defaults are
// those of a new ECR account: the AWS-native basic scan, the V2 registry
// policy scope, blob mounting off; and Berth's SBOMs off, as an extension
// is opted into.
var AccountSettings = []AccountSettingDef{
	{Name: "BASIC_SCAN_TYPE_VERSION", Values: []string{"AWS_NATIVE"}, Default: "AWS_NATIVE"},
	{Name: "REGISTRY_POLICY_SCOPE", Values: []string{"V2"}, Default: "V2"},
	{Name: "BLOB_MOUNTING", Values: []string{"ENABLED", "DISABLED"}, Default: "DISABLED"},
	{Name: SettingScanSBOM, Values: []string{ScanSBOMDisabled, ScanSBOMSPDX, ScanSBOMCycloneDX}, Default: ScanSBOMDisabled},
	{Name: SettingReplicationTagFilter, Default: "*", Check: func(v string) error {
		_, err := rules.ParseTagFilter(v)
		return err
	}},
}

func accountSetting(name string) (AccountSettingDef, error) {
	for _, d := range AccountSettings {
		if d.Name == name {
			return d, nil
		}
	}
	names := make([]string, len(AccountSettings))
	for i, d := range AccountSettings {
		names[i] = d.Name
	}
	return AccountSettingDef{}, invalidParameter("name", "Account setting name must be one of [%s]", strings.Join(names, ", "))
}

// AccountSetting returns the value of a registry's setting.
func (s *Service) AccountSetting(ctx context.Context, reg meta.RegistryKey, name string) (string, error) {
	def, err := accountSetting(name)
	if err != nil {
		return "", err
	}
	v, err := s.meta.GetRegistrySetting(ctx, reg, name)
	if errors.Is(err, meta.ErrNotFound) {
		return def.Default, nil
	}
	if err != nil {
		return "", fmt.Errorf("get account setting %s: %w", name, err)
	}
	return v, nil
}

// PutAccountSetting sets a registry's setting.
func (s *Service) PutAccountSetting(ctx context.Context, reg meta.RegistryKey, name, value string) error {
	def, err := accountSetting(name)
	if err != nil {
		return err
	}
	if def.Check != nil {
		if err := def.Check(value); err != nil {
			return invalidParameter("value", "%s", err.Error())
		}
	} else if !slices.Contains(def.Values, value) {
		return invalidParameter("value", "Valid values for %s are [%s]", name, strings.Join(def.Values, ", "))
	}
	if err := s.meta.PutRegistrySetting(ctx, reg, name, value); err != nil {
		return fmt.Errorf("put account setting %s: %w", name, err)
	}
	return nil
}
