package metatest

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/berth-registry/berth/internal/meta"
)

// The export part of the suite (meta.ExportStore). A store that does not
// implement it skips these tests; both of Berth's implement it.

func exporter(t *testing.T, s meta.Store) meta.ExportStore {
	t.Helper()
	x, ok := s.(meta.ExportStore)
	if !ok {
		t.Skipf("%T does not implement meta.ExportStore", s)
	}
	return x
}

func testExportRegistries(t *testing.T, s meta.Store) {
	x, ctx := exporter(t, s), t.Context()
	got, err := x.Registries(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("Registries of an empty store = %v, %v; want none", got, err)
	}
	newRepo(t, s, reg2, "b")
	newRepo(t, s, reg1, "a")
	newRepo(t, s, reg1, "a2")
	// A registry with settings and no repository counts; one with both
	// is listed once.
	for _, reg := range []meta.RegistryKey{reg3, reg1} {
		if err := s.PutRegistrySetting(ctx, reg, "REGISTRY_POLICY_SCOPE", "V2"); err != nil {
			t.Fatalf("PutRegistrySetting: %v", err)
		}
	}
	got, err = x.Registries(ctx)
	// (Account, Region) order: 111…/eu-west-1, 111…/us-east-1, 222….
	if want := []meta.RegistryKey{reg1, reg3, reg2}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("Registries = %v, %v; want %v", got, err, want)
	}
	// So does a registry with only a repository creation template.
	reg4 := meta.RegistryKey{Account: "333333333333", Region: "eu-west-1"}
	createTemplate(t, s, newTemplate(reg4, "ROOT", 1))
	createTemplate(t, s, newTemplate(reg1, "ROOT", 1))
	got, err = x.Registries(ctx)
	if want := []meta.RegistryKey{reg1, reg3, reg2, reg4}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("Registries with templates = %v, %v; want %v", got, err, want)
	}
	// And one with only a secret, or only a pull through cache rule.
	reg5 := meta.RegistryKey{Account: "444444444444", Region: "us-east-1"}
	reg6 := meta.RegistryKey{Account: "555555555555", Region: "us-east-1"}
	if err := s.CreateSecret(ctx, &meta.Secret{Registry: reg5, Name: "s", ARN: "arn:aws:secretsmanager:us-east-1:444444444444:secret:s-AbCdEf",
		CreatedAt: at(0), ChangedAt: at(0)}, nil); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	if err := s.CreatePullThroughRule(ctx, &meta.PullThroughRule{Registry: reg6, Prefix: "hub", UpstreamURL: "registry-1.docker.io",
		UpstreamPrefix: "ROOT", CreatedAt: at(0)}, 10); err != nil {
		t.Fatalf("CreatePullThroughRule: %v", err)
	}
	got, err = x.Registries(ctx)
	if want := []meta.RegistryKey{reg1, reg3, reg2, reg4, reg5, reg6}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("Registries with a secret and a pull through rule = %v, %v; want %v", got, err, want)
	}
}

func testExportSSOInstance(t *testing.T, s meta.Store) {
	x, ctx := exporter(t, s), t.Context()
	got, err := x.SSOInstance(ctx)
	if err != nil || got != nil {
		t.Fatalf("SSOInstance of an empty store = %+v, %v; want nil", got, err)
	}
	want := meta.SSOInstance{ARN: "arn:aws:sso:::instance/ssoins-0123456789abcdef", IdentityStoreID: "d-0123456789",
		Account: "111111111111", CreatedAt: at(3)}
	if _, err := s.EnsureSSOInstance(ctx, &want); err != nil {
		t.Fatalf("EnsureSSOInstance: %v", err)
	}
	got, err = x.SSOInstance(ctx)
	if err != nil || got == nil || got.ARN != want.ARN || got.IdentityStoreID != want.IdentityStoreID || got.Account != want.Account || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("SSOInstance = %+v, %v; want %+v", got, err, want)
	}
}

func testExportRegistrySettings(t *testing.T, s meta.Store) {
	x, ctx := exporter(t, s), t.Context()
	got, err := x.RegistrySettings(ctx, reg1)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("RegistrySettings of a registry with none = %#v, %v; want an empty map", got, err)
	}
	put := func(reg meta.RegistryKey, name, value string) {
		t.Helper()
		if err := s.PutRegistrySetting(ctx, reg, name, value); err != nil {
			t.Fatalf("PutRegistrySetting(%s): %v", name, err)
		}
	}
	put(reg1, "BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE")
	put(reg1, "registry-policy", `{"Version":"2012-10-17"}`)
	put(reg1, "registry-policy", "") // deleted: an empty value is a value
	put(reg1, "REGISTRY_POLICY_SCOPE", "V1")
	put(reg2, "REGISTRY_POLICY_SCOPE", "V2")
	got, err = x.RegistrySettings(ctx, reg1)
	want := map[string]string{"BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE", "registry-policy": "", "REGISTRY_POLICY_SCOPE": "V1"}
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("RegistrySettings(reg1) = %v, %v; want %v", got, err, want)
	}
	got, err = x.RegistrySettings(ctx, reg2)
	if want := map[string]string{"REGISTRY_POLICY_SCOPE": "V2"}; err != nil || !maps.Equal(got, want) {
		t.Fatalf("RegistrySettings(reg2) = %v, %v; want %v", got, err, want)
	}
}

func testExportBlobLinks(t *testing.T, s meta.Store) {
	x, ctx := exporter(t, s), t.Context()
	a := newRepo(t, s, reg1, "links/a")
	b := newRepo(t, s, reg1, "links/b")
	got, err := x.BlobLinks(ctx, a.ID, "", 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("BlobLinks of a repository with none = %v, %v", got, err)
	}
	linked := link(t, s, a.ID, "one", "two", "three", "four")
	link(t, s, b.ID, "other", "one")
	if err := s.UnlinkBlob(ctx, a.ID, linked[3].Digest); err != nil {
		t.Fatalf("UnlinkBlob: %v", err)
	}
	want := slices.Clone(linked[:3])
	slices.SortFunc(want, func(p, q meta.Blob) int { return cmpString(p.Digest, q.Digest) })

	got, err = x.BlobLinks(ctx, a.ID, "", 0)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("BlobLinks(a) = %v, %v; want %v", got, err, want)
	}
	// Pages: after is exclusive, limit bounds.
	got, err = x.BlobLinks(ctx, a.ID, "", 2)
	if err != nil || !slices.Equal(got, want[:2]) {
		t.Fatalf("BlobLinks(a, limit 2) = %v, %v; want %v", got, err, want[:2])
	}
	got, err = x.BlobLinks(ctx, a.ID, want[1].Digest, 2)
	if err != nil || !slices.Equal(got, want[2:]) {
		t.Fatalf("BlobLinks(a, after the second) = %v, %v; want %v", got, err, want[2:])
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testExportManifestRefs(t *testing.T, s meta.Store) {
	x, ctx := exporter(t, s), t.Context()
	r := newRepo(t, s, reg1, "refs/app")
	other := newRepo(t, s, reg1, "refs/other")
	bs := link(t, s, r.ID, "config refs", "layer refs 1", "layer refs 2")
	img := image("refs", bs...)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: img, Refs: blobRefs(bs[2], bs[0], bs[1])})
	img2 := pushImage(t, s, r.ID, "refs second")
	idx := index("refs index", img2, img)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: idx, Refs: manifestRefs(img2, img)})
	ref := referrer("refs sbom", atSBOM, img.Digest)
	put(t, s, &meta.PutManifest{RepoID: r.ID, Manifest: ref})

	sorted := func(refs []meta.Ref) []meta.Ref {
		refs = slices.Clone(refs)
		slices.SortFunc(refs, func(p, q meta.Ref) int {
			if c := cmpString(string(p.Kind), string(q.Kind)); c != 0 {
				return c
			}
			return cmpString(p.Digest, q.Digest)
		})
		return refs
	}
	for _, tc := range []struct {
		what   string
		digest string
		want   []meta.Ref
	}{
		{"image", img.Digest, sorted(blobRefs(bs...))},
		{"index", idx.Digest, sorted(manifestRefs(img, img2))},
		{"referrer", ref.Digest, nil},
	} {
		got, err := x.ManifestRefs(ctx, r.ID, tc.digest)
		if err != nil || !(len(got) == 0 && len(tc.want) == 0 || reflect.DeepEqual(got, tc.want)) {
			t.Errorf("ManifestRefs(%s) = %v, %v; want %v", tc.what, got, err, tc.want)
		}
	}
	_, err := x.ManifestRefs(ctx, other.ID, img.Digest)
	if !errors.Is(err, meta.ErrManifestUnknown) {
		t.Errorf("ManifestRefs in another repository: error %v, want ErrManifestUnknown", err)
	}
}

func testExportIAMAccounts(t *testing.T, s meta.Store) {
	x, ctx := exporter(t, s), t.Context()
	got, err := x.IAMAccounts(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("IAMAccounts of an empty store = %v, %v; want none", got, err)
	}
	const (
		created   = "444444444444" // an account record and nothing else
		withUser  = "333333333333" // a default account: identities, no record
		withPol   = "555555555555"
		withRootK = "111111111111"
		withOIDC  = "666666666666"
	)
	if err := s.CreateAccount(ctx, &meta.IAMAccount{ID: created, CreatedAt: at(0)}, nil); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	newEntity(t, s, withUser, meta.IAMUser, "alice", "/")
	newEntity(t, s, withUser, meta.IAMRole, "deployer", "/")
	if err := s.CreateManagedPolicy(ctx, &meta.IAMPolicy{Account: withPol, Name: "p", Path: "/", ID: "ANPAEXPORT",
		ARN: "arn:aws:iam::" + withPol + ":policy/p", Document: "{}", CreatedAt: at(0), UpdatedAt: at(0)}); err != nil {
		t.Fatalf("CreateManagedPolicy: %v", err)
	}
	if err := s.CreateAccessKey(ctx, &meta.IAMAccessKey{ID: "AKIAEXPORTROOT000001", Account: withRootK,
		SecretAccessKey: "s", Status: "Active", CreatedAt: at(0)}); err != nil {
		t.Fatalf("CreateAccessKey(root): %v", err)
	}
	if err := s.CreateOIDCProvider(ctx, &meta.IAMOIDCProvider{ARN: "arn:aws:iam::" + withOIDC + ":oidc-provider/ci.example.com",
		Account: withOIDC, URL: "ci.example.com", ClientIDs: []string{"sts.amazonaws.com"}, CreatedAt: at(0)}); err != nil {
		t.Fatalf("CreateOIDCProvider: %v", err)
	}
	got, err = x.IAMAccounts(ctx)
	if want := []string{withRootK, withUser, created, withPol, withOIDC}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("IAMAccounts = %v, %v; want %v", got, err, want)
	}
}
