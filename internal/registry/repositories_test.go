package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/opencontainers/go-digest"
)

func TestMatchWildcard(t *testing.T) {
	for _, tc := range []struct {
		pattern, tag string
		want         bool
	}{
		{"latest", "latest", true},
		{"latest", "latest2", false},
		{"latest", "xlatest", false},
		{"latest", "LATEST", false}, // case-sensitive
		{"*", "", true},
		{"*", "anything", true},
		{"dev-*", "dev-", true},
		{"dev-*", "dev-123", true},
		{"dev-*", "dev", false},
		{"dev-*", "prod-dev-1", false},
		{"*-rc", "1.0-rc", true},
		{"*-rc", "1.0-rc1", false},
		{"v*.*", "v1.2", true},
		{"v*.*", "v1.2.3", true},
		{"v*.*", "v12", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXcYYb", false},
		{"a*b*c", "abcabc", true},
		{"**", "x", true},
		{"*a", "aaaa", true},
		{"*ab", "aaab", true},
		{"*ab", "aaba", false},
		{".", "a", false}, // '.' is literal, not a regexp
		{"1.0", "1x0", false},
	} {
		if got := MatchWildcard(tc.pattern, tc.tag); got != tc.want {
			t.Errorf("MatchWildcard(%q, %q) = %v, want %v", tc.pattern, tc.tag, got, tc.want)
		}
	}
}

// FuzzMatchWildcard compares MatchWildcard with the same pattern compiled
// to a regular expression.
func FuzzMatchWildcard(f *testing.F) {
	for _, s := range [][2]string{{"dev-*", "dev-1"}, {"a*b*c", "aXbXc"}, {"*", ""}, {"*ab", "aaab"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, tag string) {
		if len(pattern) > 64 || len(tag) > 256 {
			return
		}
		parts := strings.Split(pattern, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re, err := regexp.Compile(`^(?s:` + strings.Join(parts, ".*") + `)$`)
		if err != nil {
			return
		}
		// Byte-wise, as tags are ASCII: match the regexp on bytes too.
		want := re.Match([]byte(tag))
		if !utf8Clean(pattern) || !utf8Clean(tag) {
			return
		}
		if got := MatchWildcard(pattern, tag); got != want {
			t.Fatalf("MatchWildcard(%q, %q) = %v, regexp says %v", pattern, tag, got, want)
		}
	})
}

func utf8Clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestTagImmutableUnder(t *testing.T) {
	filters := []TagFilter{{FilterWildcard, "latest"}, {FilterWildcard, "dev-*"}}
	for _, tc := range []struct {
		mutability string
		filters    []TagFilter
		tag        string
		want       bool
	}{
		{TagMutable, nil, "v1", false},
		{"", nil, "v1", false}, // repositories from before the setting existed
		{TagImmutable, nil, "v1", true},
		{TagImmutable, nil, "latest", true},
		{TagImmutableWithExclusion, filters, "v1", true},
		{TagImmutableWithExclusion, filters, "latest", false},
		{TagImmutableWithExclusion, filters, "dev-42", false},
		{TagImmutableWithExclusion, filters, "latest-2", true},
		{TagMutableWithExclusion, filters, "v1", false},
		{TagMutableWithExclusion, filters, "latest", true},
		{TagMutableWithExclusion, filters, "dev-42", true},
		{TagImmutableWithExclusion, nil, "latest", true},
		{TagMutableWithExclusion, nil, "latest", false},
		{TagImmutableWithExclusion, []TagFilter{{"REGEX", "latest"}}, "latest", true}, // unknown filter types match nothing
	} {
		if got := tagImmutableUnder(tc.mutability, tc.filters, tc.tag); got != tc.want {
			t.Errorf("tagImmutableUnder(%s, %v, %s) = %v, want %v", tc.mutability, tc.filters, tc.tag, got, tc.want)
		}
	}
}

func TestCheckTagMutability(t *testing.T) {
	f := []TagFilter{{FilterWildcard, "latest"}}
	for _, tc := range []struct {
		mutability string
		filters    []TagFilter
		want       string
		member     string // named in the error; "" for success
	}{
		{"", nil, TagMutable, ""},
		{TagMutable, nil, TagMutable, ""},
		{TagImmutable, nil, TagImmutable, ""},
		{TagMutableWithExclusion, f, TagMutableWithExclusion, ""},
		{TagImmutableWithExclusion, f, TagImmutableWithExclusion, ""},
		{TagImmutableWithExclusion, nil, "", "imageTagMutabilityExclusionFilters"},
		{TagMutableWithExclusion, []TagFilter{}, "", "imageTagMutabilityExclusionFilters"},
		{TagImmutable, f, "", "imageTagMutabilityExclusionFilters"},
		{TagMutable, f, "", "imageTagMutabilityExclusionFilters"},
		{"SOMETIMES", nil, "", "imageTagMutability"},
		{TagImmutableWithExclusion, []TagFilter{{"REGEX", "x"}}, "", "imageTagMutabilityExclusionFilters.1.member.filterType"},
	} {
		got, err := checkTagMutability(tc.mutability, tc.filters)
		if tc.member == "" {
			if err != nil || got != tc.want {
				t.Errorf("checkTagMutability(%q, %v) = %q, %v; want %q", tc.mutability, tc.filters, got, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, ErrParameterInvalid) || !strings.Contains(err.Error(), "'"+tc.member+"'") {
			t.Errorf("checkTagMutability(%q, %v) error %v; want ErrParameterInvalid naming %s", tc.mutability, tc.filters, err, tc.member)
		}
	}
}

func TestCheckEncryption(t *testing.T) {
	reg := meta.RegistryKey{Account: "123456789012", Region: "eu-west-1"}
	defaultKey := "arn:aws:kms:eu-west-1:123456789012:alias/aws/ecr"
	for _, tc := range []struct {
		in      *Encryption
		want    Encryption
		wantErr bool
	}{
		{nil, Encryption{Type: EncryptionAES256}, false},
		{&Encryption{Type: EncryptionAES256}, Encryption{Type: EncryptionAES256}, false},
		{&Encryption{Type: EncryptionKMS}, Encryption{Type: EncryptionKMS, KMSKey: defaultKey}, false},
		{&Encryption{Type: EncryptionKMSDSSE, KMSKey: "alias/mine"}, Encryption{Type: EncryptionKMSDSSE, KMSKey: "alias/mine"}, false},
		{&Encryption{Type: EncryptionAES256, KMSKey: "alias/mine"}, Encryption{}, true},
		{&Encryption{Type: "ROT13"}, Encryption{}, true},
	} {
		got, err := checkEncryption(reg, tc.in)
		if tc.wantErr {
			if !errors.Is(err, ErrParameterInvalid) {
				t.Errorf("checkEncryption(%+v) error %v, want ErrParameterInvalid", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("checkEncryption(%+v) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckResourceTags(t *testing.T) {
	long := func(n int) string { return strings.Repeat("k", n) }
	for _, tc := range []struct {
		name string
		tags []ResourceTag
		ok   bool
	}{
		{"none", nil, true},
		{"plain", []ResourceTag{{"team", "a"}, {"env", ""}}, true},
		{"longest key and value", []ResourceTag{{long(128), long(256)}}, true},
		{"multibyte within limit", []ResourceTag{{strings.Repeat("é", 128), "x"}}, true},
		{"duplicate key", []ResourceTag{{"team", "a"}, {"team", "b"}}, false},
		{"empty key", []ResourceTag{{"", "a"}}, false},
		{"key too long", []ResourceTag{{long(129), "a"}}, false},
		{"value too long", []ResourceTag{{"k", long(257)}}, false},
		{"reserved prefix", []ResourceTag{{"aws:cloudformation:stack", "x"}}, false},
		{"reserved prefix any case", []ResourceTag{{"AWS:x", "x"}}, false},
	} {
		err := checkResourceTags(tc.tags)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrResourceTagInvalid)) {
			t.Errorf("%s: checkResourceTags = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestRepositoryConfiguration(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestService(t, false)

	ri, err := s.CreateRepositoryWith(ctx, testReg, RepositorySpec{
		Name:       "team/app",
		ScanOnPush: true,
		Encryption: &Encryption{Type: EncryptionKMS, KMSKey: "alias/app"},
		Tags:       []ResourceTag{{"team", "a"}, {"cost", "1"}},
	})
	if err != nil {
		t.Fatalf("CreateRepositoryWith: %v", err)
	}
	if ri.TagMutability != TagMutable || !ri.Config.ScanOnPush || ri.Config.Encryption.KMSKey != "alias/app" {
		t.Errorf("created %+v %+v", ri.Repository, ri.Config)
	}
	_, err = s.CreateRepositoryWith(ctx, testReg, RepositorySpec{Name: "team/app"})
	var de *Error
	if !errors.As(err, &de) || !errors.Is(err, ErrRepositoryExists) ||
		de.Message != "The repository with name 'team/app' already exists in the registry with id '000000000000'" {
		t.Fatalf("second CreateRepositoryWith: %v", err)
	}

	if err := s.TagRepository(ctx, testReg, "team/app", []ResourceTag{{"team", "b"}, {"env", "prod"}}); err != nil {
		t.Fatalf("TagRepository: %v", err)
	}
	if err := s.UntagRepository(ctx, testReg, "team/app", []string{"cost", "never-set"}); err != nil {
		t.Fatalf("UntagRepository: %v", err)
	}
	ri, err = s.DescribeRepository(ctx, testReg, "team/app")
	if err != nil {
		t.Fatal(err)
	}
	if want := []ResourceTag{{"env", "prod"}, {"team", "b"}}; !slices.Equal(ri.Config.Tags, want) {
		t.Errorf("tags = %v, want %v", ri.Config.Tags, want)
	}

	// Up to 50 tags in all; the 51st is refused and changes nothing.
	var many []ResourceTag
	for i := range MaxResourceTags - 2 {
		many = append(many, ResourceTag{fmt.Sprintf("k%02d", i), "v"})
	}
	if err := s.TagRepository(ctx, testReg, "team/app", many); err != nil {
		t.Fatalf("TagRepository up to the limit: %v", err)
	}
	if err := s.TagRepository(ctx, testReg, "team/app", []ResourceTag{{"team", "c"}}); err != nil {
		t.Fatalf("retagging an existing key at the limit: %v", err)
	}
	if err := s.TagRepository(ctx, testReg, "team/app", []ResourceTag{{"one-more", "v"}}); !errors.Is(err, ErrTooManyResourceTags) {
		t.Fatalf("51st tag: %v, want ErrTooManyResourceTags", err)
	}
	ri, _ = s.DescribeRepository(ctx, testReg, "team/app")
	if len(ri.Config.Tags) != MaxResourceTags {
		t.Errorf("%d tags after the refused call, want %d", len(ri.Config.Tags), MaxResourceTags)
	}

	// Changing one setting keeps the others.
	if _, err := s.SetTagMutability(ctx, testReg, "team/app", TagImmutableWithExclusion, []TagFilter{{FilterWildcard, "latest"}}); err != nil {
		t.Fatalf("SetTagMutability: %v", err)
	}
	if _, err := s.SetScanOnPush(ctx, testReg, "team/app", false); err != nil {
		t.Fatalf("SetScanOnPush: %v", err)
	}
	ri, _ = s.DescribeRepository(ctx, testReg, "team/app")
	if ri.TagMutability != TagImmutableWithExclusion || len(ri.Config.TagMutabilityExclusions) != 1 ||
		ri.Config.ScanOnPush || ri.Config.Encryption.Type != EncryptionKMS || len(ri.Config.Tags) != MaxResourceTags {
		t.Errorf("after updates: %+v %+v", ri.Repository, ri.Config)
	}

	for _, op := range []func() error{
		func() error { _, err := s.SetScanOnPush(ctx, testReg, "missing", true); return err },
		func() error { return s.TagRepository(ctx, testReg, "missing", nil) },
		func() error { _, err := s.DeleteRepository(ctx, testReg, "missing", true); return err },
	} {
		if err := op(); !errors.Is(err, ErrNameUnknown) {
			t.Errorf("operation on a missing repository: %v, want ErrNameUnknown", err)
		}
	}

	pushConfigImage(t, s, "team/app", "v1", "one")
	_, err = s.DeleteRepository(ctx, testReg, "team/app", false)
	if !errors.As(err, &de) || !errors.Is(err, ErrRepositoryNotEmpty) ||
		de.Message != "The repository with name 'team/app' in registry with id '000000000000' cannot be deleted because it still contains images" {
		t.Fatalf("DeleteRepository without force: %v", err)
	}
	gone, err := s.DeleteRepository(ctx, testReg, "team/app", true)
	if err != nil || gone.Name != "team/app" {
		t.Fatalf("DeleteRepository with force = %+v, %v", gone, err)
	}
	if _, err := s.DescribeRepository(ctx, testReg, "team/app"); !errors.Is(err, ErrNameUnknown) {
		t.Fatalf("repository still there: %v", err)
	}
}

// pushConfigImage pushes a one-blob image under tag and returns its digest.
func pushConfigImage(t *testing.T, s *Service, repo, tag, seed string) digest.Digest {
	t.Helper()
	ctx := context.Background()
	config := []byte(`{"seed":"` + seed + `"}`)
	cd := digest.FromBytes(config)
	if err := s.PutBlob(ctx, testReg, repo, cd, strings.NewReader(string(config))); err != nil {
		t.Fatalf("PutBlob: %v", err)
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`,
		MediaTypeOCIManifest, cd, len(config))
	pm, err := s.PutManifest(ctx, testReg, repo, tag, MediaTypeOCIManifest, []byte(m), nil)
	if err != nil {
		t.Fatalf("PutManifest(%s): %v", tag, err)
	}
	return pm.Digest
}

// TestPushHonoursExclusions moves tags through the push path under each
// mutability setting.
func TestPushHonoursExclusions(t *testing.T) {
	ctx := context.Background()
	filters := []TagFilter{{FilterWildcard, "latest"}, {FilterWildcard, "dev-*"}}
	for _, tc := range []struct {
		mutability string
		filters    []TagFilter
		movable    map[string]bool
	}{
		{TagMutable, nil, map[string]bool{"v1": true, "latest": true, "dev-1": true}},
		{TagImmutable, nil, map[string]bool{"v1": false, "latest": false, "dev-1": false}},
		{TagImmutableWithExclusion, filters, map[string]bool{"v1": false, "latest": true, "dev-1": true}},
		{TagMutableWithExclusion, filters, map[string]bool{"v1": true, "latest": false, "dev-1": false}},
	} {
		t.Run(tc.mutability, func(t *testing.T) {
			s, _ := newTestService(t, false)
			if _, err := s.CreateRepositoryWith(ctx, testReg, RepositorySpec{Name: "app", TagMutability: tc.mutability, TagMutabilityExclusions: tc.filters}); err != nil {
				t.Fatal(err)
			}
			for tag, movable := range tc.movable {
				first := pushConfigImage(t, s, "app", tag, "first-"+tag)
				// Pushing the same manifest again is never refused.
				pushConfigImage(t, s, "app", tag, "first-"+tag)

				config := []byte(`{"seed":"second-` + tag + `"}`)
				cd := digest.FromBytes(config)
				if err := s.PutBlob(ctx, testReg, "app", cd, strings.NewReader(string(config))); err != nil {
					t.Fatal(err)
				}
				m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`,
					MediaTypeOCIManifest, cd, len(config))
				_, err := s.PutManifest(ctx, testReg, "app", tag, MediaTypeOCIManifest, []byte(m), nil)
				if movable {
					if err != nil {
						t.Errorf("moving tag %s: %v", tag, err)
					}
					continue
				}
				var de *Error
				want := fmt.Sprintf("The image tag '%s' already exists in the 'app' repository and cannot be overwritten because the repository is immutable.", tag)
				if !errors.As(err, &de) || !errors.Is(err, ErrTagImmutable) || de.Message != want {
					t.Errorf("moving immutable tag %s: %v", tag, err)
				}
				got, err := s.GetManifest(ctx, testReg, "app", tag)
				if err != nil || got.Digest != first.String() {
					t.Errorf("tag %s now points at %v (%v), want %s", tag, got, err, first)
				}
			}
		})
	}
}

func TestAccountSettings(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestService(t, false)
	other := meta.RegistryKey{Account: testReg.Account, Region: "eu-west-1"}
	for _, d := range AccountSettings {
		v, err := s.AccountSetting(ctx, testReg, d.Name)
		if err != nil || v != d.Default {
			t.Errorf("AccountSetting(%s) = %q, %v; want the default %q", d.Name, v, err, d.Default)
		}
	}
	if err := s.PutAccountSetting(ctx, testReg, "BLOB_MOUNTING", "ENABLED"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.AccountSetting(ctx, testReg, "BLOB_MOUNTING"); v != "ENABLED" {
		t.Errorf("BLOB_MOUNTING = %q after putting ENABLED", v)
	}
	if v, _ := s.AccountSetting(ctx, other, "BLOB_MOUNTING"); v != "DISABLED" {
		t.Errorf("BLOB_MOUNTING in another region = %q, want the default", v)
	}
	for _, v := range []string{ScanSBOMCycloneDX, ScanSBOMSPDX} {
		if err := s.PutAccountSetting(ctx, testReg, SettingScanSBOM, v); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.AccountSetting(ctx, testReg, SettingScanSBOM); got != v {
			t.Errorf("%s = %q after putting %s", SettingScanSBOM, got, v)
		}
	}
	if err := s.PutAccountSetting(ctx, testReg, SettingReplicationTagFilter, "release-*,latest"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AccountSetting(ctx, testReg, SettingReplicationTagFilter); got != "release-*,latest" {
		t.Errorf("%s = %q after putting release-*,latest", SettingReplicationTagFilter, got)
	}
	for _, tc := range []struct{ name, value, member string }{
		{"NO_SUCH_SETTING", "X", "name"},
		{SettingReplicationTagFilter, "release/*", "value"},
		{SettingReplicationTagFilter, "", "value"},
		{"BLOB_MOUNTING", "MAYBE", "value"},
		{"BASIC_SCAN_TYPE_VERSION", "CLAIR", "value"}, // retired: the model lists AWS_NATIVE only
		{"blob_mounting", "ENABLED", "name"},
		{SettingScanSBOM, "SWID", "value"},
		{SettingScanSBOM, "spdx", "value"},
	} {
		err := s.PutAccountSetting(ctx, testReg, tc.name, tc.value)
		if !errors.Is(err, ErrParameterInvalid) || !strings.Contains(err.Error(), "'"+tc.member+"'") {
			t.Errorf("PutAccountSetting(%s, %s) = %v, want ErrParameterInvalid naming %s", tc.name, tc.value, err, tc.member)
		}
	}
	if _, err := s.AccountSetting(ctx, testReg, "NO_SUCH_SETTING"); !errors.Is(err, ErrParameterInvalid) {
		t.Errorf("AccountSetting(unknown) = %v", err)
	}
}
