package migrate_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/migrate"
)

// dump reads everything a migration copies out of a deployment, through
// the stores' interfaces, into one value that compares with ==: ids that
// are a store's own (repository ids) left out, times at microseconds in
// UTC, blob bytes as the digest they hash to.
func dump(t *testing.T, s migrate.Stores) string {
	t.Helper()
	ctx := t.Context()
	x := s.Meta.(meta.ExportStore)
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("dump: %v", err)
		}
	}
	regs, err := x.Registries(ctx)
	must(err)
	for _, reg := range regs {
		settings, err := x.RegistrySettings(ctx, reg)
		must(err)
		line("registry %s/%s settings %s", reg.Account, reg.Region, js(settings))
		templates, err := s.Meta.ListTemplates(ctx, reg, "", 0)
		must(err)
		for _, tmpl := range templates {
			line("template %s created %s updated %s settings %s", tmpl.Key, tm(tmpl.CreatedAt), tm(tmpl.UpdatedAt), canon(tmpl.Settings))
		}
		secrets, err := s.Meta.Secrets(ctx, reg)
		must(err)
		for _, sec := range secrets {
			line("secret %s %s description %q kms %q created %s changed %s accessed %s deleted %s deletion %s tags %v",
				sec.Name, sec.ARN, sec.Description, sec.KMSKeyID, tm(sec.CreatedAt), tm(sec.ChangedAt), tm(sec.AccessedAt),
				tm(sec.DeletedAt), tm(sec.DeletionDate), sec.Tags)
			for _, v := range sec.Versions {
				full, err := s.Meta.SecretVersionValue(ctx, sec.ID, v.ID, "")
				must(err)
				line("  version %s stages %v created %s value %q", v.ID, v.Stages, tm(v.CreatedAt), full.Value)
			}
		}
		rules, err := s.Meta.ListPullThroughRules(ctx, reg)
		must(err)
		for _, ru := range rules {
			line("pull through %s upstream %s %q prefix %s credential %q role %q created %s updated %s",
				ru.Prefix, ru.UpstreamURL, ru.Upstream, ru.UpstreamPrefix, ru.CredentialARN, ru.CustomRoleARN, tm(ru.CreatedAt), tm(ru.UpdatedAt))
		}
		repos, err := s.Meta.ListRepositories(ctx, reg, "", 0)
		must(err)
		for _, r := range repos {
			line("repository %s created %s mutability %s settings %s", r.Name, tm(r.CreatedAt), r.TagMutability, canon(r.Settings))
			links, err := x.BlobLinks(ctx, r.ID, "", 0)
			must(err)
			for _, l := range links {
				line("  link %s %d bytes %s", l.Digest, l.Size, blobHash(t, s, l.Digest))
			}
			images, err := s.Meta.ListImages(ctx, r.ID, meta.ImageQuery{})
			must(err)
			for _, im := range images {
				m, err := s.Meta.GetManifest(ctx, r.ID, im.Digest)
				must(err)
				refs, err := x.ManifestRefs(ctx, r.ID, im.Digest)
				must(err)
				line("  manifest %s %s artifact %q subject %q annotations %s size %d pushed %s pulled %s tags %v refs %v content %q",
					im.Digest, m.MediaType, m.ArtifactType, m.Subject, js(m.Annotations), m.ImageSize,
					tm(m.PushedAt), tm(m.LastPulledAt), m.Tags, refs, m.Content)
				refsOf, err := s.Meta.ListReferrers(ctx, r.ID, im.Digest, "")
				must(err)
				for _, rf := range refsOf {
					line("    referrer %s %s", rf.Digest, rf.ArtifactType)
				}
			}
			tags, err := s.Meta.ListTags(ctx, r.ID, "", 0)
			must(err)
			line("  tags %v", tags)
			p, err := s.Meta.GetLifecyclePolicy(ctx, r.ID)
			if !errors.Is(err, meta.ErrNotFound) {
				must(err)
				line("  lifecycle %q updated %s evaluated %s", p.Text, tm(p.UpdatedAt), tm(p.LastEvaluatedAt))
			}
		}
	}
	accounts, err := s.Meta.ListAccounts(ctx)
	must(err)
	for _, a := range accounts {
		line("account %s created %s", a.ID, tm(a.CreatedAt))
	}
	ids, err := x.IAMAccounts(ctx)
	must(err)
	for _, acct := range ids {
		line("iam %s", acct)
		providers, err := s.Meta.ListOIDCProviders(ctx, acct)
		must(err)
		for _, p := range providers {
			line("  oidc provider %s url %s client ids %q thumbprints %q created %s", p.ARN, p.URL, p.ClientIDs, p.Thumbprints, tm(p.CreatedAt))
		}
		for _, kind := range []meta.IAMKind{meta.IAMUser, meta.IAMGroup, meta.IAMRole} {
			es, err := s.Meta.ListIAMEntities(ctx, acct, kind, meta.IAMListQuery{})
			must(err)
			for _, e := range es {
				line("  %s %s path %s id %s created %s trust %q description %q max %d",
					kind, e.Name, e.Path, e.ID, tm(e.CreatedAt), e.AssumeRolePolicy, e.Description, e.MaxSessionDuration)
				names, err := s.Meta.ListInlinePolicies(ctx, acct, kind, e.Name)
				must(err)
				for _, n := range names {
					p, err := s.Meta.GetInlinePolicy(ctx, acct, kind, e.Name, n)
					must(err)
					line("    inline %s %q", p.Name, p.Document)
				}
				arns, err := s.Meta.ListAttachedPolicies(ctx, acct, kind, e.Name)
				must(err)
				line("    attached %v", arns)
				if kind == meta.IAMUser {
					groups, err := s.Meta.ListUserGroups(ctx, acct, e.Name)
					must(err)
					for _, g := range groups {
						line("    member of %s", g.Name)
					}
					keys, err := s.Meta.ListAccessKeys(ctx, acct, e.Name)
					must(err)
					for _, k := range keys {
						line("    key %s %s %s created %s", k.ID, k.SecretAccessKey, k.Status, tm(k.CreatedAt))
					}
				}
			}
		}
		keys, err := s.Meta.ListAccessKeys(ctx, acct, "")
		must(err)
		for _, k := range keys {
			line("  root key %s %s %s created %s", k.ID, k.SecretAccessKey, k.Status, tm(k.CreatedAt))
		}
		ps, err := s.Meta.ListManagedPolicies(ctx, acct, meta.IAMListQuery{})
		must(err)
		for _, p := range ps {
			line("  policy %s %s path %s id %s %q created %s updated %s doc %q",
				p.ARN, p.Name, p.Path, p.ID, p.Description, tm(p.CreatedAt), tm(p.UpdatedAt), p.Document)
		}
		counts, err := s.Meta.PolicyAttachmentCounts(ctx, acct)
		must(err)
		line("  attachment counts %s", js(counts))
	}
	if inst, err := x.SSOInstance(ctx); err != nil || inst != nil {
		must(err)
		line("sso instance %s store %s account %s created %s", inst.ARN, inst.IdentityStoreID, inst.Account, tm(inst.CreatedAt))
		users, err := s.Meta.ListSSOUsers(ctx, inst.IdentityStoreID)
		must(err)
		for _, u := range users {
			line("  sso user %s %s display %q given %q family %q emails %v password %q created %s",
				u.UserID, u.UserName, u.DisplayName, u.GivenName, u.FamilyName, u.Emails, u.PasswordHash, tm(u.CreatedAt))
		}
		sets, err := s.Meta.ListPermissionSets(ctx, inst.ARN)
		must(err)
		for _, ps := range sets {
			line("  permission set %s %s %q %s managed %v inline %q created %s",
				ps.ARN, ps.Name, ps.Description, ps.SessionDuration, ps.ManagedPolicies, ps.InlinePolicy, tm(ps.CreatedAt))
		}
		as, err := s.Meta.ListSSOAssignments(ctx, meta.SSOAssignmentQuery{InstanceARN: inst.ARN})
		must(err)
		for _, a := range as {
			line("  assignment %s account %s %s %s created %s", a.PermissionSetARN, a.Account, a.PrincipalType, a.PrincipalID, tm(a.CreatedAt))
		}
	}
	aliases, err := s.Meta.ListPublicAliases(ctx)
	must(err)
	for _, a := range aliases {
		line("public alias %s account %s set %s", a.Alias, a.Account, tm(a.CreatedAt))
	}
	return b.String()
}

func tm(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Truncate(time.Microsecond).UTC().Format(time.RFC3339Nano)
}

func js(v any) string {
	b, _ := json.Marshal(v) // maps marshal in key order
	return string(b)
}

// canon re-encodes JSON, so that two encodings of one value read alike.
func canon(b json.RawMessage) string {
	if len(b) == 0 {
		return "-"
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(b)
	}
	return js(v)
}

// blobHash reads a blob back from the blob store and says what its bytes
// hash to.
func blobHash(t *testing.T, s migrate.Stores, d string) string {
	t.Helper()
	rc, _, err := s.Blobs.Open(t.Context(), digest.Digest(d))
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer rc.Close()
	v := digest.Digest(d).Algorithm().Digester()
	if _, err := io.Copy(v.Hash(), rc); err != nil {
		return "unreadable: " + err.Error()
	}
	return v.Digest().String()
}

// sameDump fails t, showing the first difference, unless got is want.
func sameDump(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("%s: line %d differs:\n got: %s\nwant: %s", what, i+1, gl, wl)
		}
	}
}
