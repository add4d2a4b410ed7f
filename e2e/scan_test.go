package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// tarLayer is a layer of the given files (path → content).
func tarLayer(t *testing.T, files map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		if err := tw.WriteHeader(&tar.Header{Name: p, Mode: 0o644, Size: int64(len(files[p])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[p]))
	}
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// appImage is an image with a Python site-packages and a node_modules tree
// whose packages the hand-written OSV records of package vulndb's tests
// name: requests 2.19.0 (PYSEC-2023-74, CVE-2023-32681), lodash 4.17.15
// (GHSA-35jh-r3h4-6jhm) and minimist 1.2.0 (TEST-LAST-AFFECTED).
func appImage(t *testing.T, upper ...map[string]string) v1.Image {
	t.Helper()
	layers := []v1.Layer{tarLayer(t, map[string]string{
		"usr/lib/python3/dist-packages/requests-2.19.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n",
		"app/node_modules/lodash/package.json":                             `{"name": "lodash", "version": "4.17.15"}`,
		"app/node_modules/minimist/package.json":                           `{"name": "minimist", "version": "1.2.0"}`,
		"app/package.json":                                                 `{"name": "app", "version": "1.0.0", "dependencies": {"lodash": "4.17.15"}}`,
	})}
	for _, files := range upper {
		layers = append(layers, tarLayer(t, files))
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestImageScanning is ECR's basic scanning workflow through the AWS SDK:
// vulnerability data loaded with berth vulndb import, a repository scanned
// on push, the SDK's image-scan-complete waiter, paginated findings, the
// summary in DescribeImages, the 24-hour limit of StartImageScan, an image
// with nothing to scan, a whiteout that removes a finding, and a registry
// rule that turns scanning on for repositories it picks.
func TestImageScanning(t *testing.T) {
	dataDir := t.TempDir()
	out, err := exec.Command(berthBin, "vulndb", "import", "--data", dataDir, "../internal/vulndb/testdata/osv/handwritten").CombinedOutput()
	if err != nil {
		t.Fatalf("berth vulndb import: %v\n%s", err, out)
	}
	b := startBerth(t, dataDir)
	ctx := withTimeout(t, 3*time.Minute)
	api := b.ECR()
	opts := ggcrOpts(t, b, ctx)

	if _, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("scanned/app"),
		ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: true}}); err != nil {
		t.Fatal(err)
	}
	repo := ggcrRepo(t, b, "scanned/app")
	if err := remote.Write(repo.Tag("v1"), appImage(t), opts...); err != nil {
		t.Fatal(err)
	}
	id := &ecrtypes.ImageIdentifier{ImageTag: aws.String("v1")}
	in := &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("scanned/app"), ImageId: id}
	if err := ecr.NewImageScanCompleteWaiter(api, func(o *ecr.ImageScanCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	}).Wait(ctx, in, 2*time.Minute); err != nil {
		t.Fatalf("image-scan-complete waiter: %v\n%s", err, b.Log())
	}

	// Every finding, one page at a time.
	type finding struct{ name, pkg, version, severity string }
	var got []finding
	pages := 0
	p := ecr.NewDescribeImageScanFindingsPaginator(api, &ecr.DescribeImageScanFindingsInput{
		RepositoryName: aws.String("scanned/app"), ImageId: id, MaxResults: aws.Int32(1)})
	var counts map[string]int32
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if page.ImageScanStatus.Status != ecrtypes.ScanStatusComplete {
			t.Fatalf("status %s (%s)", page.ImageScanStatus.Status, aws.ToString(page.ImageScanStatus.Description))
		}
		counts = page.ImageScanFindings.FindingSeverityCounts
		for _, f := range page.ImageScanFindings.Findings {
			fd := finding{name: aws.ToString(f.Name), severity: string(f.Severity)}
			for _, a := range f.Attributes {
				switch aws.ToString(a.Key) {
				case "package_name":
					fd.pkg = aws.ToString(a.Value)
				case "package_version":
					fd.version = aws.ToString(a.Value)
				}
			}
			got = append(got, fd)
		}
	}
	want := map[finding]bool{
		{"CVE-2023-32681", "requests", "2.19.0", "MEDIUM"}: true,
	}
	names := map[string]bool{}
	for _, f := range got {
		names[f.name] = true
		delete(want, f)
	}
	if len(want) != 0 || len(got) < 3 || pages != len(got) {
		t.Errorf("findings %+v in %d pages: missing %v, or fewer than 3, or not one per page", got, pages, want)
	}
	if !names["TEST-LAST-AFFECTED"] {
		t.Errorf("no finding for minimist 1.2.0 (TEST-LAST-AFFECTED): %+v", got)
	}
	total := int32(0)
	for _, n := range counts {
		total += n
	}
	if int(total) != len(got) {
		t.Errorf("severity counts %v add up to %d, %d findings listed", counts, total, len(got))
	}

	// DescribeImages carries the status and the summary.
	di, err := api.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("scanned/app"), ImageIds: []ecrtypes.ImageIdentifier{*id}})
	if err != nil {
		t.Fatal(err)
	}
	d := di.ImageDetails[0]
	if d.ImageScanStatus == nil || d.ImageScanStatus.Status != ecrtypes.ScanStatusComplete || d.ImageScanFindingsSummary == nil ||
		d.ImageScanFindingsSummary.FindingSeverityCounts["MEDIUM"] < 1 || d.ImageScanFindingsSummary.ImageScanCompletedAt == nil {
		t.Errorf("DescribeImages: scan status %+v, summary %+v", d.ImageScanStatus, d.ImageScanFindingsSummary)
	}

	// The scan on push counts toward the 24 hours.
	_, err = api.StartImageScan(ctx, &ecr.StartImageScanInput{RepositoryName: aws.String("scanned/app"), ImageId: id})
	if apiCode(err) != "LimitExceededException" {
		t.Errorf("StartImageScan within 24 hours of the scan on push: %v, want LimitExceededException", err)
	}

	// A later layer that deletes lodash's package.json takes its finding
	// away; a manual scan finds the rest.
	if _, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("manual/app")}); err != nil {
		t.Fatal(err)
	}
	manual := ggcrRepo(t, b, "manual/app")
	if err := remote.Write(manual.Tag("slim"), appImage(t, map[string]string{"app/node_modules/lodash/.wh.package.json": ""}), opts...); err != nil {
		t.Fatal(err)
	}
	slim := &ecrtypes.ImageIdentifier{ImageTag: aws.String("slim")}
	if _, err := api.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("manual/app"), ImageId: slim}); apiCode(err) != "ScanNotFoundException" {
		t.Errorf("findings before any scan of a repository not scanned on push: %v, want ScanNotFoundException", err)
	}
	started, err := api.StartImageScan(ctx, &ecr.StartImageScanInput{RepositoryName: aws.String("manual/app"), ImageId: slim})
	if err != nil {
		t.Fatal(err)
	}
	if started.ImageScanStatus.Status != ecrtypes.ScanStatusInProgress || aws.ToString(started.ImageId.ImageDigest) == "" {
		t.Errorf("StartImageScan: %+v", started)
	}
	if err := ecr.NewImageScanCompleteWaiter(api, func(o *ecr.ImageScanCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	}).Wait(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("manual/app"), ImageId: slim}, 2*time.Minute); err != nil {
		t.Fatalf("waiter after StartImageScan: %v", err)
	}
	sf, err := api.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("manual/app"), ImageId: slim})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sf.ImageScanFindings.Findings {
		for _, a := range f.Attributes {
			if aws.ToString(a.Key) == "package_name" && aws.ToString(a.Value) == "lodash" {
				t.Errorf("a finding for lodash, whose package.json a later layer deleted: %s", aws.ToString(f.Name))
			}
		}
	}
	if len(sf.ImageScanFindings.Findings) != len(got)-1 {
		t.Errorf("%d findings after the whiteout, want %d (all but lodash's)", len(sf.ImageScanFindings.Findings), len(got)-1)
	}

	// An image with no layers has nothing to scan.
	bare, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(manual.Tag("bare"), bare, opts...); err != nil {
		t.Fatal(err)
	}
	_, err = api.StartImageScan(ctx, &ecr.StartImageScanInput{RepositoryName: aws.String("manual/app"), ImageId: &ecrtypes.ImageIdentifier{ImageTag: aws.String("bare")}})
	if apiCode(err) != "UnsupportedImageTypeException" {
		t.Errorf("StartImageScan of an image without layers: %v, want UnsupportedImageTypeException", err)
	}

	// A registry rule scans on push the repositories it picks.
	if _, err := api.PutRegistryScanningConfiguration(ctx, &ecr.PutRegistryScanningConfigurationInput{
		ScanType: ecrtypes.ScanTypeBasic,
		Rules: []ecrtypes.RegistryScanningRule{{ScanFrequency: ecrtypes.ScanFrequencyScanOnPush,
			RepositoryFilters: []ecrtypes.ScanningRepositoryFilter{{Filter: aws.String("ruled-*"), FilterType: ecrtypes.ScanningRepositoryFilterTypeWildcard}}}},
	}); err != nil {
		t.Fatal(err)
	}
	gc, err := api.GetRegistryScanningConfiguration(ctx, &ecr.GetRegistryScanningConfigurationInput{})
	if err != nil || len(gc.ScanningConfiguration.Rules) != 1 || gc.ScanningConfiguration.ScanType != ecrtypes.ScanTypeBasic {
		t.Fatalf("GetRegistryScanningConfiguration: %+v, %v", gc, err)
	}
	if _, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("ruled-app")}); err != nil {
		t.Fatal(err)
	}
	bg, err := api.BatchGetRepositoryScanningConfiguration(ctx, &ecr.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: []string{"ruled-app", "manual/app", "missing"}})
	if err != nil {
		t.Fatal(err)
	}
	freq := map[string]ecrtypes.ScanFrequency{}
	for _, c := range bg.ScanningConfigurations {
		freq[aws.ToString(c.RepositoryName)] = c.ScanFrequency
	}
	if freq["ruled-app"] != ecrtypes.ScanFrequencyScanOnPush || freq["manual/app"] != ecrtypes.ScanFrequencyManual ||
		len(bg.Failures) != 1 || bg.Failures[0].FailureCode != ecrtypes.ScanningConfigurationFailureCodeRepositoryNotFound {
		t.Errorf("BatchGetRepositoryScanningConfiguration: %v, failures %+v", freq, bg.Failures)
	}
	if err := remote.Write(ggcrRepo(t, b, "ruled-app").Tag("v1"), appImage(t), opts...); err != nil {
		t.Fatal(err)
	}
	if err := ecr.NewImageScanCompleteWaiter(api, func(o *ecr.ImageScanCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	}).Wait(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("ruled-app"), ImageId: id}, 2*time.Minute); err != nil {
		t.Fatalf("waiter on a repository a registry rule scans on push: %v", err)
	}
	_, err = api.PutRegistryScanningConfiguration(ctx, &ecr.PutRegistryScanningConfigurationInput{ScanType: ecrtypes.ScanTypeEnhanced})
	if apiCode(err) != "InvalidParameterException" {
		t.Errorf("ENHANCED scanning: %v, want InvalidParameterException", err)
	}

	// A layer that is not a tar archive: FAILED, and the reason names it.
	junk := static.NewLayer([]byte("this is not a tar archive, nor gzip, nor zstd"), types.DockerLayer)
	broken, err := mutate.AppendLayers(empty.Image, junk)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(manual.Tag("broken"), broken, opts...); err != nil {
		t.Fatal(err)
	}
	brokenID := &ecrtypes.ImageIdentifier{ImageTag: aws.String("broken")}
	if _, err := api.StartImageScan(ctx, &ecr.StartImageScanInput{RepositoryName: aws.String("manual/app"), ImageId: brokenID}); err != nil {
		t.Fatal(err)
	}
	junkDigest, _ := junk.Digest()
	st := waitScan(t, ctx, api, "manual/app", brokenID)
	if st.Status != ecrtypes.ScanStatusFailed || !strings.Contains(aws.ToString(st.Description), junkDigest.String()) {
		t.Errorf("scan of an image whose layer is not a tar: %s %q, want FAILED naming %s", st.Status, aws.ToString(st.Description), junkDigest)
	}

	// An index is scanned per platform; a finding on both names both.
	arm, err := mutate.ConfigFile(appImage(t), &v1.ConfigFile{OS: "linux", Architecture: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	amd, err := mutate.ConfigFile(appImage(t, map[string]string{"app/node_modules/minimist/.wh.package.json": ""}), &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	if err := remote.WriteIndex(manual.Tag("multi"), idx, opts...); err != nil {
		t.Fatal(err)
	}
	multiID := &ecrtypes.ImageIdentifier{ImageTag: aws.String("multi")}
	if _, err := api.StartImageScan(ctx, &ecr.StartImageScanInput{RepositoryName: aws.String("manual/app"), ImageId: multiID}); err != nil {
		t.Fatal(err)
	}
	if st := waitScan(t, ctx, api, "manual/app", multiID); st.Status != ecrtypes.ScanStatusComplete {
		t.Fatalf("scan of an index: %s %q", st.Status, aws.ToString(st.Description))
	}
	mf, err := api.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String("manual/app"), ImageId: multiID})
	if err != nil {
		t.Fatal(err)
	}
	platforms := map[string]string{}
	for _, f := range mf.ImageScanFindings.Findings {
		var pkg string
		for _, a := range f.Attributes {
			switch aws.ToString(a.Key) {
			case "package_name":
				pkg = aws.ToString(a.Value)
			case "platforms":
				platforms[pkg] = aws.ToString(a.Value)
			}
		}
	}
	if platforms["requests"] != "linux/amd64,linux/arm64" || platforms["minimist"] != "linux/arm64" {
		t.Errorf("platforms of the index's findings: %v, want requests on both and minimist on arm64 only", platforms)
	}
}

// waitScan polls an image's scan until it is no longer in progress (the
// SDK's waiter stops with an error on FAILED).
func waitScan(t *testing.T, ctx context.Context, api *ecr.Client, repo string, id *ecrtypes.ImageIdentifier) *ecrtypes.ImageScanStatus {
	t.Helper()
	for {
		out, err := api.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String(repo), ImageId: id})
		if err != nil {
			t.Fatal(err)
		}
		if out.ImageScanStatus.Status != ecrtypes.ScanStatusInProgress {
			return out.ImageScanStatus
		}
		select {
		case <-ctx.Done():
			t.Fatalf("scan of %s still in progress: %v", repo, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
