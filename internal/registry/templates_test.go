package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/opencontainers/go-digest"
)

const (
	tmplLifecycle = `{"rules":[{"rulePriority":1,"description":"keep 5","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}`
	tmplPolicy    = `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["ecr:BatchGetImage"]}]}`
)

func onPush(prefix string) TemplateSpec {
	return TemplateSpec{Prefix: prefix, AppliedFor: []string{AppliedForCreateOnPush}}
}

func mustCreateTemplate(t *testing.T, s *Service, spec TemplateSpec) *Template {
	t.Helper()
	tm, err := s.CreateTemplate(t.Context(), testReg, spec)
	if err != nil {
		t.Fatalf("CreateTemplate(%s): %v", spec.Prefix, err)
	}
	return tm
}

func TestTemplateLifecycle(t *testing.T) {
	s, _ := newTestService(t, false)
	ctx := t.Context()
	spec := TemplateSpec{
		Prefix:                  "team/",
		Description:             "the team's repositories",
		AppliedFor:              []string{AppliedForCreateOnPush, AppliedForReplication, AppliedForCreateOnPush},
		TagMutability:           TagImmutableWithExclusion,
		TagMutabilityExclusions: []TagFilter{{Type: FilterWildcard, Filter: "dev-*"}},
		RepositoryPolicy:        tmplPolicy,
		LifecyclePolicy:         tmplLifecycle,
		ResourceTags:            []ResourceTag{{"team", "a"}, {"cost", "1"}},
		Encryption:              &Encryption{Type: EncryptionKMS},
		CustomRoleARN:           "arn:aws:iam::000000000000:role/ecr-templates",
	}
	created := mustCreateTemplate(t, s, spec)
	if created.Prefix != "team/" || !slices.Equal(created.AppliedFor, []string{AppliedForCreateOnPush, AppliedForReplication}) ||
		created.Encryption != (Encryption{Type: EncryptionKMS}) || created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Errorf("created %+v", created)
	}
	if !slices.Equal(created.ResourceTags, []ResourceTag{{"cost", "1"}, {"team", "a"}}) {
		t.Errorf("resource tags %v, want them sorted by key", created.ResourceTags)
	}

	// "team" and "team/" are one namespace, so one template.
	_, err := s.CreateTemplate(ctx, testReg, onPush("team"))
	if !errors.Is(err, ErrTemplateExists) || !strings.Contains(err.Error(), "'team'") {
		t.Errorf("CreateTemplate(team) over team/: %v, want ErrTemplateExists naming the prefix", err)
	}
	got, more, err := s.DescribeTemplates(ctx, testReg, []string{"team"}, "", 10)
	if err != nil || more || len(got) != 1 || got[0].Prefix != "team/" || got[0].LifecyclePolicy != tmplLifecycle {
		t.Fatalf("DescribeTemplates(team) = %+v, %v, %v", got, more, err)
	}

	// An update replaces what it names and keeps the rest.
	desc, mutable := "", TagMutable
	up, err := s.UpdateTemplate(ctx, testReg, TemplateUpdate{Prefix: "team", Description: &desc, TagMutability: &mutable})
	if err != nil {
		t.Fatalf("UpdateTemplate: %v", err)
	}
	if up.Description != "" || up.TagMutability != TagMutable || up.TagMutabilityExclusions != nil ||
		up.LifecyclePolicy != tmplLifecycle || up.RepositoryPolicy != tmplPolicy || len(up.ResourceTags) != 2 ||
		!up.CreatedAt.Equal(created.CreatedAt) || up.UpdatedAt.Before(created.UpdatedAt) || up.Prefix != "team/" {
		t.Errorf("updated %+v", up)
	}
	empty := ""
	noTags := []ResourceTag{}
	up, err = s.UpdateTemplate(ctx, testReg, TemplateUpdate{Prefix: "team/", LifecyclePolicy: &empty, ResourceTags: &noTags})
	if err != nil || up.LifecyclePolicy != "" || len(up.ResourceTags) != 0 || up.RepositoryPolicy != tmplPolicy {
		t.Errorf("UpdateTemplate clearing the lifecycle policy and tags = %+v, %v", up, err)
	}
	// An update that breaks a rule changes nothing.
	bad := []TagFilter{{Type: FilterWildcard, Filter: "x"}}
	if _, err := s.UpdateTemplate(ctx, testReg, TemplateUpdate{Prefix: "team", TagMutabilityExclusions: &bad}); !errors.Is(err, ErrParameterInvalid) {
		t.Errorf("UpdateTemplate with filters under MUTABLE: %v, want ErrParameterInvalid", err)
	}
	if _, err := s.UpdateTemplate(ctx, testReg, TemplateUpdate{Prefix: "other"}); !errors.Is(err, ErrTemplateNotFound) {
		t.Errorf("UpdateTemplate(other): %v, want ErrTemplateNotFound", err)
	}

	gone, err := s.DeleteTemplate(ctx, testReg, "team/")
	if err != nil || gone.Prefix != "team/" || gone.RepositoryPolicy != tmplPolicy {
		t.Fatalf("DeleteTemplate = %+v, %v", gone, err)
	}
	if _, err := s.DeleteTemplate(ctx, testReg, "team"); !errors.Is(err, ErrTemplateNotFound) {
		t.Errorf("DeleteTemplate again: %v, want ErrTemplateNotFound", err)
	}
}

func TestTemplateBadInput(t *testing.T) {
	s, _ := newTestService(t, false)
	for _, tc := range []struct {
		name string
		spec TemplateSpec
		kind error
		msg  string
	}{
		{"invalid prefix", onPush("Team/"), ErrParameterInvalid, "'prefix'"},
		{"prefix with //", onPush("a//b"), ErrParameterInvalid, "'prefix'"},
		{"no appliedFor", TemplateSpec{Prefix: "a"}, ErrParameterInvalid, "at least one of [REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH]"},
		{"unknown appliedFor", TemplateSpec{Prefix: "a", AppliedFor: []string{"CREATE_ON_PUSH", "ON_PULL"}}, ErrParameterInvalid, "appliedFor.2.member"},
		{"filters under MUTABLE", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush},
			TagMutabilityExclusions: []TagFilter{{FilterWildcard, "x"}}}, ErrParameterInvalid, "imageTagMutabilityExclusionFilters"},
		{"WITH_EXCLUSION without filters", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush},
			TagMutability: TagImmutableWithExclusion}, ErrParameterInvalid, "can't be null"},
		{"unknown mutability", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush}, TagMutability: "SOMETIMES"}, ErrParameterInvalid, "imageTagMutability"},
		{"repository policy not JSON", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush}, RepositoryPolicy: "{"},
			ErrPolicyInvalid, "'repositoryPolicy'"},
		{"repository policy without principal", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush},
			RepositoryPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*"}]}`}, ErrPolicyInvalid, "'repositoryPolicy'"},
		{"lifecycle policy not JSON", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush}, LifecyclePolicy: "rules"},
			ErrLifecyclePolicyInvalid, "'lifecyclePolicy'"},
		{"lifecycle rule without action", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush},
			LifecyclePolicy: `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1}}]}`},
			ErrLifecyclePolicyInvalid, "'lifecyclePolicy'"},
		{"reserved tag key", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush}, ResourceTags: []ResourceTag{{"aws:x", "1"}}},
			ErrResourceTagInvalid, "reserved"},
		{"too many tags", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush}, ResourceTags: manyTags(MaxResourceTags + 1)},
			ErrTooManyResourceTags, "at most 50"},
		{"KMS key with AES256", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush},
			Encryption: &Encryption{Type: EncryptionAES256, KMSKey: "arn:aws:kms:us-east-1:000000000000:key/k"}}, ErrParameterInvalid, "kmsKey"},
		{"role of another account", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush},
			CustomRoleARN: "arn:aws:iam::111122223333:role/r"}, ErrParameterInvalid, "same account"},
		{"not a role", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush},
			CustomRoleARN: "arn:aws:iam::000000000000:user/u"}, ErrParameterInvalid, "customRoleArn"},
		{"description too long", TemplateSpec{Prefix: "a", AppliedFor: []string{AppliedForCreateOnPush},
			Description: strings.Repeat("d", 257)}, ErrParameterInvalid, "description"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateTemplate(t.Context(), testReg, tc.spec)
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("CreateTemplate: %v, want %v saying %q", err, tc.kind, tc.msg)
			}
		})
	}
	if got, _, err := s.DescribeTemplates(t.Context(), testReg, nil, "", 100); err != nil || len(got) != 0 {
		t.Errorf("refused templates were stored: %+v, %v", got, err)
	}
}

func manyTags(n int) []ResourceTag {
	var tags []ResourceTag
	for i := range n {
		tags = append(tags, ResourceTag{Key: fmt.Sprintf("k%02d", i), Value: "v"})
	}
	return tags
}

func TestTemplateLimitAndPages(t *testing.T) {
	s, _ := newTestService(t, false)
	ctx := t.Context()
	for i := range MaxTemplates {
		mustCreateTemplate(t, s, onPush(fmt.Sprintf("ns%03d", i)))
	}
	_, err := s.CreateTemplate(ctx, testReg, onPush("one-more"))
	if !errors.Is(err, ErrLimitExceeded) || !strings.Contains(err.Error(), "100") {
		t.Errorf("CreateTemplate past the limit: %v, want ErrLimitExceeded", err)
	}
	// Another registry has a limit of its own.
	if _, err := s.CreateTemplate(ctx, meta.RegistryKey{Account: "000000000000", Region: "eu-west-1"}, onPush("one-more")); err != nil {
		t.Errorf("CreateTemplate in another region: %v", err)
	}

	// Pages walk every template once, in key order.
	var seen []string
	after := ""
	for {
		page, more, err := s.DescribeTemplates(ctx, testReg, nil, after, 30)
		if err != nil {
			t.Fatalf("DescribeTemplates: %v", err)
		}
		for _, tm := range page {
			seen = append(seen, tm.Prefix)
		}
		if !more {
			break
		}
		after = TemplateKey(page[len(page)-1])
	}
	if len(seen) != MaxTemplates || !slices.IsSorted(seen) || seen[0] != "ns000" {
		t.Errorf("pages gave %d templates (%q…), want %d in order", len(seen), seen[:min(3, len(seen))], MaxTemplates)
	}
	// Named prefixes: those that exist, in order, paged too.
	page, more, err := s.DescribeTemplates(ctx, testReg, []string{"ns050", "nope", "ns002/", "ns010"}, "", 2)
	if err != nil || !more || len(page) != 2 || page[0].Prefix != "ns002" || page[1].Prefix != "ns010" {
		t.Fatalf("DescribeTemplates(named) = %+v, %v, %v", page, more, err)
	}
	page, more, err = s.DescribeTemplates(ctx, testReg, []string{"ns050", "nope", "ns002/", "ns010"}, "ns010", 2)
	if err != nil || more || len(page) != 1 || page[0].Prefix != "ns050" {
		t.Fatalf("DescribeTemplates(named, second page) = %+v, %v, %v", page, more, err)
	}
	if _, _, err := s.DescribeTemplates(ctx, testReg, nil, "", 1001); !errors.Is(err, ErrPaginationInvalid) {
		t.Errorf("DescribeTemplates(1001): %v, want ErrPaginationInvalid", err)
	}
}

func TestTemplateFor(t *testing.T) {
	s, _ := newTestService(t, false)
	ctx := t.Context()
	mustCreateTemplate(t, s, TemplateSpec{Prefix: "ROOT", AppliedFor: []string{AppliedForCreateOnPush, AppliedForPullThroughCache}})
	mustCreateTemplate(t, s, onPush("prod"))
	mustCreateTemplate(t, s, onPush("prod/team/"))
	mustCreateTemplate(t, s, TemplateSpec{Prefix: "prod/cache", AppliedFor: []string{AppliedForPullThroughCache}})
	mustCreateTemplate(t, s, TemplateSpec{Prefix: "mirror", AppliedFor: []string{AppliedForReplication}})
	for _, tc := range []struct {
		name, appliedFor, want string
	}{
		{"prod/app", AppliedForCreateOnPush, "prod"},
		{"prod/team/app", AppliedForCreateOnPush, "prod/team/"},
		{"prod/teams/app", AppliedForCreateOnPush, "prod"},
		{"production/app", AppliedForCreateOnPush, "ROOT"},
		{"prod", AppliedForCreateOnPush, "ROOT"},
		// Only templates for the scenario count.
		{"prod/cache/nginx", AppliedForCreateOnPush, "prod"},
		{"prod/cache/nginx", AppliedForPullThroughCache, "prod/cache"},
		{"prod/app", AppliedForPullThroughCache, "ROOT"},
		{"mirror/app", AppliedForReplication, "mirror"},
		{"prod/app", AppliedForReplication, ""},
	} {
		tm, err := s.TemplateFor(ctx, testReg, tc.name, tc.appliedFor)
		got := ""
		if tm != nil {
			got = tm.Prefix
		}
		if err != nil || got != tc.want {
			t.Errorf("TemplateFor(%s, %s) = %q, %v; want %q", tc.name, tc.appliedFor, got, err, tc.want)
		}
	}
}

func TestCreateRepositoryFromTemplate(t *testing.T) {
	s, _ := newTestService(t, false)
	ctx := t.Context()
	mustCreateTemplate(t, s, TemplateSpec{
		Prefix:                  "team",
		AppliedFor:              []string{AppliedForReplication},
		TagMutability:           TagImmutableWithExclusion,
		TagMutabilityExclusions: []TagFilter{{Type: FilterWildcard, Filter: "latest"}},
		RepositoryPolicy:        tmplPolicy,
		LifecyclePolicy:         tmplLifecycle,
		ResourceTags:            []ResourceTag{{"team", "a"}},
		Encryption:              &Encryption{Type: EncryptionKMS},
	})
	r, err := s.CreateRepositoryFromTemplate(ctx, testReg, "team/app", AppliedForReplication)
	if err != nil {
		t.Fatalf("CreateRepositoryFromTemplate: %v", err)
	}
	ri, err := s.DescribeRepository(ctx, testReg, "team/app")
	if err != nil || ri.ID != r.ID {
		t.Fatalf("DescribeRepository = %+v, %v", ri, err)
	}
	if ri.TagMutability != TagImmutableWithExclusion || !slices.Equal(ri.Config.TagMutabilityExclusions, []TagFilter{{FilterWildcard, "latest"}}) ||
		ri.Config.Policy != tmplPolicy || !slices.Equal(ri.Config.Tags, []ResourceTag{{"team", "a"}}) ||
		ri.Config.Encryption != (Encryption{Type: EncryptionKMS, KMSKey: "arn:aws:kms:us-east-1:000000000000:alias/aws/ecr"}) {
		t.Errorf("repository from the template: %+v %+v", ri.Repository, ri.Config)
	}
	lp, err := s.GetLifecyclePolicy(ctx, testReg, "team/app")
	if err != nil || lp.Text != tmplLifecycle {
		t.Errorf("lifecycle policy = %+v, %v", lp, err)
	}
	// The template's mutability holds on push: an immutable tag does not move.
	pushTestImage(t, s, "team/app", "one", "v1")
	if err := pushTagged(s, "team/app", "two", "v1"); !errors.Is(err, ErrTagImmutable) {
		t.Errorf("moving v1: %v, want ErrTagImmutable", err)
	}
	pushTestImage(t, s, "team/app", "one", "latest")
	pushTestImage(t, s, "team/app", "two", "latest")

	// An existing repository is returned as it is.
	if _, err := s.SetTagMutability(ctx, testReg, "team/app", TagMutable, nil); err != nil {
		t.Fatal(err)
	}
	again, err := s.CreateRepositoryFromTemplate(ctx, testReg, "team/app", AppliedForReplication)
	if err != nil || again.ID != r.ID || again.TagMutability != TagMutable {
		t.Errorf("CreateRepositoryFromTemplate of an existing repository = %+v, %v", again, err)
	}

	// No template for the scenario: ECR's defaults.
	r, err = s.CreateRepositoryFromTemplate(ctx, testReg, "team/other", AppliedForPullThroughCache)
	if err != nil {
		t.Fatalf("CreateRepositoryFromTemplate without a template: %v", err)
	}
	ri, _ = s.DescribeRepository(ctx, testReg, "team/other")
	if ri.TagMutability != TagMutable || ri.Config.Policy != "" || len(ri.Config.Tags) != 0 || ri.Config.Encryption.Type != EncryptionAES256 {
		t.Errorf("repository with the defaults: %+v %+v", ri.Repository, ri.Config)
	}
	if _, err := s.GetLifecyclePolicy(ctx, testReg, "team/other"); !errors.Is(err, ErrLifecyclePolicyNotFound) {
		t.Errorf("lifecycle policy of a default repository: %v", err)
	}

	if _, err := s.CreateRepositoryFromTemplate(ctx, testReg, "Bad Name", AppliedForReplication); !errors.Is(err, ErrNameInvalid) {
		t.Errorf("bad name: %v", err)
	}
	if _, err := s.CreateRepositoryFromTemplate(ctx, testReg, "x/y", "ON_PULL"); err == nil {
		t.Error("an unknown scenario was accepted")
	}
}

// TestCreateRepositoryFromTemplateRace: creators of one name at once all
// succeed with the one repository.
func TestCreateRepositoryFromTemplateRace(t *testing.T) {
	s, _ := newTestService(t, false)
	mustCreateTemplate(t, s, TemplateSpec{Prefix: "ROOT", AppliedFor: []string{AppliedForPullThroughCache}, LifecyclePolicy: tmplLifecycle})
	const n = 12
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := s.CreateRepositoryFromTemplate(context.Background(), testReg, "cache/nginx", AppliedForPullThroughCache)
			if err != nil {
				t.Errorf("CreateRepositoryFromTemplate: %v", err)
				return
			}
			ids[i] = r.ID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == 0 {
			t.Fatalf("creators got repositories %v, want one", ids)
		}
	}
	if lp, err := s.GetLifecyclePolicy(t.Context(), testReg, "cache/nginx"); err != nil || lp.Text != tmplLifecycle {
		t.Errorf("lifecycle policy = %+v, %v", lp, err)
	}
}

func TestCreateOnPush(t *testing.T) {
	s, _ := newTestService(t, false)
	ctx := t.Context()
	mustCreateTemplate(t, s, TemplateSpec{Prefix: "ci", AppliedFor: []string{AppliedForCreateOnPush}, TagMutability: TagImmutable,
		ResourceTags: []ResourceTag{{"owner", "ci"}}})
	mustCreateTemplate(t, s, TemplateSpec{Prefix: "mirror", AppliedFor: []string{AppliedForReplication}})

	var asked [][]ResourceTag
	allow := func(tags []ResourceTag) error { asked = append(asked, tags); return nil }

	// No CREATE_ON_PUSH template governs these: nothing is created and the
	// push finds no repository, as before.
	for _, name := range []string{"other/app", "mirror/app", "ci"} {
		created, err := s.CreateOnPush(ctx, testReg, name, allow)
		if err != nil || created {
			t.Errorf("CreateOnPush(%s) = %v, %v; want nothing done", name, created, err)
		}
		if _, err := s.StartUpload(ctx, testReg, name); !errors.Is(err, ErrNameUnknown) {
			t.Errorf("StartUpload(%s): %v, want ErrNameUnknown", name, err)
		}
	}
	if len(asked) != 0 {
		t.Errorf("allow asked %v without a template", asked)
	}

	// The caller's refusal stops the creation.
	denied := errors.New("denied")
	if _, err := s.CreateOnPush(ctx, testReg, "ci/app", func([]ResourceTag) error { return denied }); !errors.Is(err, denied) {
		t.Errorf("CreateOnPush refused: %v", err)
	}
	if _, err := s.Repository(ctx, testReg, "ci/app", false); !errors.Is(err, ErrNameUnknown) {
		t.Errorf("a refused creation left a repository: %v", err)
	}

	created, err := s.CreateOnPush(ctx, testReg, "ci/app", allow)
	if err != nil || !created {
		t.Fatalf("CreateOnPush(ci/app) = %v, %v", created, err)
	}
	if len(asked) != 1 || !slices.Equal(asked[0], []ResourceTag{{"owner", "ci"}}) {
		t.Errorf("allow asked with %v, want the template's tags", asked)
	}
	ri, err := s.DescribeRepository(ctx, testReg, "ci/app")
	if err != nil || ri.TagMutability != TagImmutable || !slices.Equal(ri.Config.Tags, []ResourceTag{{"owner", "ci"}}) {
		t.Errorf("created %+v, %v", ri, err)
	}
	// Once it exists, nothing more is asked.
	created, err = s.CreateOnPush(ctx, testReg, "ci/app", allow)
	if err != nil || created || len(asked) != 1 {
		t.Errorf("CreateOnPush of an existing repository = %v, %v (asked %d times)", created, err, len(asked))
	}
}

// pushTagged is pushTestImage's push of one tag, whose error is the test's.
func pushTagged(s *Service, name, note, tag string) error {
	ctx := context.Background()
	config := []byte(`{"os":"linux"}`)
	m := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[],"annotations":{"note":%q}}`,
		MediaTypeOCIManifest, digest.FromBytes(config), len(config), note)
	_, err := s.PutManifest(ctx, testReg, name, tag, MediaTypeOCIManifest, m, []string{tag})
	return err
}
