package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	spdxType      = "application/spdx+json"
	cyclonedxType = "application/vnd.cyclonedx+json"
)

// TestSBOMReferrer is Berth's SBOM referrer through real clients: off by
// default (a scanned image has no referrer), turned on with the AWS SDK's
// PutAccountSetting, then an SPDX document attached to an image scanned
// on push in a tag-immutable repository (and to the same image pushed to
// another repository after its scan), listed by the OCI referrers API and
// pulled with go-containerregistry; and a CycloneDX document for an
// index, covering its platforms.
func TestSBOMReferrer(t *testing.T) {
	dataDir := t.TempDir()
	out, err := exec.Command(berthBin, "vulndb", "import", "--data", dataDir, "../internal/vulndb/testdata/osv/handwritten").CombinedOutput()
	if err != nil {
		t.Fatalf("berth vulndb import: %v\n%s", err, out)
	}
	b := startBerth(t, dataDir)
	ctx := withTimeout(t, 3*time.Minute)
	api := b.ECR()
	opts := ggcrOpts(t, b, ctx)
	create := func(name string) {
		t.Helper()
		if _, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name),
			ImageTagMutability:         ecrtypes.ImageTagMutabilityImmutable,
			ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: true}}); err != nil {
			t.Fatal(err)
		}
	}
	push := func(repo, tag string, img v1.Image) v1.Hash {
		t.Helper()
		if err := remote.Write(ggcrRepo(t, b, repo).Tag(tag), img, opts...); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		return d
	}
	wait := func(repo string, d v1.Hash) {
		t.Helper()
		st := waitScan(t, ctx, api, repo, &ecrtypes.ImageIdentifier{ImageDigest: aws.String(d.String())})
		if st.Status != ecrtypes.ScanStatusComplete {
			t.Fatalf("scan of %s@%s: %s %s", repo, d, st.Status, aws.ToString(st.Description))
		}
	}
	setting := func(value string) {
		t.Helper()
		if _, err := api.PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("BERTH_SCAN_SBOM"), Value: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
		got, err := api.GetAccountSetting(ctx, &ecr.GetAccountSettingInput{Name: aws.String("BERTH_SCAN_SBOM")})
		if err != nil || aws.ToString(got.Value) != value {
			t.Fatalf("GetAccountSetting(BERTH_SCAN_SBOM) = %+v, %v; want %s", got, err, value)
		}
	}

	// Off by default: a scanned image has no referrers.
	got, err := api.GetAccountSetting(ctx, &ecr.GetAccountSettingInput{Name: aws.String("BERTH_SCAN_SBOM")})
	if err != nil || aws.ToString(got.Value) != "DISABLED" {
		t.Fatalf("GetAccountSetting(BERTH_SCAN_SBOM) = %+v, %v; want DISABLED", got, err)
	}
	create("plain/app")
	app := appImage(t)
	appDigest := push("plain/app", "v1", app)
	wait("plain/app", appDigest)
	if refs := referrers(t, ctx, b, "plain/app", appDigest, ""); len(refs) != 0 {
		t.Fatalf("referrers with BERTH_SCAN_SBOM off: %+v", refs)
	}
	_, err = api.PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("BERTH_SCAN_SBOM"), Value: aws.String("SWID")})
	if apiCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), "CYCLONEDX") {
		t.Errorf("PutAccountSetting(BERTH_SCAN_SBOM, SWID): %v, want InvalidParameterException naming the values", err)
	}

	// SPDX: an image scanned now has its SBOM when its scan is COMPLETE.
	setting("SPDX")
	create("sbom/app")
	slim := appImage(t, map[string]string{"app/node_modules/minimist/.wh.package.json": ""})
	slimDigest := push("sbom/app", "slim", slim)
	wait("sbom/app", slimDigest)
	refs := referrers(t, ctx, b, "sbom/app", slimDigest, "")
	if len(refs) != 1 || refs[0].ArtifactType != spdxType || refs[0].Annotations["org.opencontainers.image.created"] == "" {
		t.Fatalf("referrers of an image whose scan is COMPLETE: %+v, want one SPDX SBOM", refs)
	}
	doc := sbomDocument(t, b, "sbom/app", refs[0], slimDigest)
	var spdx struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			Name        string `json:"name"`
			VersionInfo string `json:"versionInfo"`
			SourceInfo  string `json:"sourceInfo"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(doc, &spdx); err != nil || spdx.SPDXVersion != "SPDX-2.3" {
		t.Fatalf("SBOM is not SPDX 2.3 JSON: %v\n%s", err, doc)
	}
	listed := map[string]string{}
	for _, p := range spdx.Packages {
		listed[p.Name+"@"+p.VersionInfo] = p.SourceInfo
	}
	for _, want := range []string{"requests@2.19.0", "lodash@4.17.15", "app@1.0.0", "sbom/app@" + slimDigest.String()} {
		if _, ok := listed[want]; !ok {
			t.Errorf("SPDX document does not list %s: %v", want, listed)
		}
	}
	if _, ok := listed["minimist@1.2.0"]; ok {
		t.Errorf("SPDX document lists minimist, whose package.json a later layer deleted")
	}
	if src := listed["lodash@4.17.15"]; !strings.Contains(src, "/app/node_modules/lodash/package.json") {
		t.Errorf("lodash's sourceInfo %q does not say where it was found", src)
	}

	orasDiscoverAndPull(t, b, "sbom/app", slimDigest, refs[0])

	// The image scanned for plain/app, pushed to sbom/app: its scan is
	// shared, and its SBOM made for sbom/app alone.
	push("sbom/app", "v1", app)
	wait("sbom/app", appDigest)
	refs = waitReferrers(t, ctx, b, "sbom/app", appDigest)
	if len(refs) != 1 || refs[0].ArtifactType != spdxType {
		t.Fatalf("referrers of an image whose scan was shared: %+v", refs)
	}
	if doc := sbomDocument(t, b, "sbom/app", refs[0], appDigest); !strings.Contains(string(doc), `"minimist"`) {
		t.Errorf("the shared image's SBOM does not list minimist:\n%s", doc)
	}
	if refs := referrers(t, ctx, b, "plain/app", appDigest, ""); len(refs) != 0 {
		t.Errorf("an SBOM in plain/app, where no scan ran since the setting was turned on: %+v", refs)
	}

	// The SBOM is an artifact: no scan was asked for it.
	_, err = api.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("sbom/app"),
		ImageId: &ecrtypes.ImageIdentifier{ImageDigest: aws.String(refs[0].Digest.String())}})
	if apiCode(err) != "ScanNotFoundException" {
		t.Errorf("scan findings of the SBOM artifact: %v, want ScanNotFoundException", err)
	}

	// CycloneDX, for an index: one document, both platforms.
	setting("CYCLONEDX")
	arm, err := mutate.ConfigFile(appImage(t), &v1.ConfigFile{OS: "linux", Architecture: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	amd, err := mutate.ConfigFile(appImage(t, map[string]string{"app/node_modules/lodash/.wh.package.json": ""}), &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	if err := remote.WriteIndex(ggcrRepo(t, b, "sbom/app").Tag("multi"), idx, opts...); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	wait("sbom/app", idxDigest)
	refs = referrers(t, ctx, b, "sbom/app", idxDigest, cyclonedxType)
	if len(refs) != 1 {
		t.Fatalf("CycloneDX referrers of the index: %+v", refs)
	}
	var bom struct {
		BOMFormat  string `json:"bomFormat"`
		Components []struct {
			Type       string `json:"type"`
			Properties []struct{ Name, Value string }
			Components []struct{ Name, Version string }
		} `json:"components"`
	}
	doc = sbomDocument(t, b, "sbom/app", refs[0], idxDigest)
	if err := json.Unmarshal(doc, &bom); err != nil || bom.BOMFormat != "CycloneDX" {
		t.Fatalf("SBOM is not CycloneDX JSON: %v\n%s", err, doc)
	}
	platforms := map[string]map[string]bool{}
	for _, c := range bom.Components {
		if c.Type != "container" || len(c.Properties) == 0 {
			continue
		}
		pkgs := map[string]bool{}
		for _, p := range c.Components {
			pkgs[p.Name+"@"+p.Version] = true
		}
		platforms[c.Properties[0].Value] = pkgs
	}
	if len(platforms) != 2 || !platforms["linux/arm64"]["lodash@4.17.15"] || platforms["linux/amd64"]["lodash@4.17.15"] ||
		!platforms["linux/amd64"]["requests@2.19.0"] {
		t.Errorf("the index's SBOM by platform: %v, want lodash on arm64 only and requests on both", platforms)
	}
}

// referrers lists the referrers of d in repo through the OCI referrers
// API, filtered by artifactType unless it is empty.
func referrers(t *testing.T, ctx context.Context, b *berth, repo string, d v1.Hash, artifactType string) []v1.Descriptor {
	t.Helper()
	u := b.URL + "/v2/" + repo + "/referrers/" + d.String()
	if artifactType != "" {
		u += "?artifactType=" + url.QueryEscape(artifactType)
	}
	resp, body := doHTTP(t, ctx, b, http.MethodGet, u, nil, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != string(types.OCIImageIndex) {
		t.Fatalf("GET %s: %d %s\n%s", u, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(body, &idx); err != nil {
		t.Fatal(err)
	}
	return idx.Manifests
}

// waitReferrers polls for the referrers of an image whose scan was already
// COMPLETE when it was pushed, so that only the job says when its SBOM is
// attached.
func waitReferrers(t *testing.T, ctx context.Context, b *berth, repo string, d v1.Hash) []v1.Descriptor {
	t.Helper()
	for {
		if refs := referrers(t, ctx, b, repo, d, ""); len(refs) > 0 {
			return refs
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no SBOM attached to %s@%s:\n%s", repo, d, b.Log())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sbomDocument pulls an SBOM artifact with go-containerregistry, checks
// its shape (the empty config, one layer of the document's type, the
// subject) and returns the document.
func sbomDocument(t *testing.T, b *berth, repo string, ref v1.Descriptor, subject v1.Hash) []byte {
	t.Helper()
	img, err := remote.Image(ggcrRepo(t, b, repo).Digest(ref.Digest.String()), ggcrOpts(t, b, context.Background())...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.MediaType != "application/vnd.oci.empty.v1+json" || m.Config.Digest.String() != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" ||
		m.Subject == nil || m.Subject.Digest != subject || len(m.Layers) != 1 || string(m.Layers[0].MediaType) != ref.ArtifactType {
		t.Fatalf("SBOM manifest: config %+v, subject %+v, layers %+v", m.Config, m.Subject, m.Layers)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	doc, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// orasDiscoverAndPull runs the commands docs/scanning.md shows, when oras
// is installed: `oras discover` lists the SBOM under the image, and `oras
// pull` of the referrer writes the document under its file name.
func orasDiscoverAndPull(t *testing.T, b *berth, repo string, subject v1.Hash, ref v1.Descriptor) {
	t.Helper()
	oras, err := exec.LookPath("oras")
	if err != nil {
		t.Log("oras is not installed: oras discover and oras pull not run")
		return
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(oras, append(args, "--plain-http", "-u", "AWS", "--password-stdin")...)
		cmd.Stdin = strings.NewReader(b.Password(t))
		// Its own home, so that no credentials of the machine's are used.
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("oras %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := run("discover", "--distribution-spec", "v1.1-referrers-api", b.Host+"/"+repo+"@"+subject.String())
	t.Logf("oras discover:\n%s", out)
	if !strings.Contains(out, spdxType) || !strings.Contains(out, ref.Digest.String()) {
		t.Errorf("oras discover does not show the SBOM %s:\n%s", ref.Digest, out)
	}
	dir := t.TempDir()
	run("pull", "-o", dir, b.Host+"/"+repo+"@"+ref.Digest.String())
	doc, err := os.ReadFile(filepath.Join(dir, "sbom.spdx.json"))
	if err != nil || !strings.Contains(string(doc), `"SPDX-2.3"`) {
		t.Errorf("oras pull of the SBOM: %v\n%s", err, doc)
	}
}
