package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// osvZip is an osv.dev-style all.zip of the named records of package
// vulndb's hand-written test data.
func osvZip(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("../internal/vulndb/testdata/osv/handwritten", n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(n + ".json")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestContinuousScanning keeps the vulnerability data fresh from a URL
// (berth serve --vulndb-sync) and checks that, when the data changes, the
// images of a repository a CONTINUOUS_SCAN rule picks are scanned again
// and find what the new data names, while an image scanned on push keeps
// its scan; and that each finished scan is reported as ECR's "ECR Image
// Scan" event.
func TestContinuousScanning(t *testing.T) {
	var (
		mu      sync.Mutex
		served  = osvZip(t, "PYSEC-2023-74")
		fetches int
	)
	osv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body := served
		fetches++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/zip")
		w.Write(body)
	}))
	defer osv.Close()
	b := startBerth(t, "", "--vulndb-sync", osv.URL+"/all.zip", "--vulndb-sync-interval", "2s", "--vulndb-check-interval", "200ms")
	ctx := withTimeout(t, 3*time.Minute)
	api := b.ECR()
	opts := ggcrOpts(t, b, ctx)
	waitLog(t, ctx, b, "vulnerability data synced", 1)

	if _, err := api.PutRegistryScanningConfiguration(ctx, &ecr.PutRegistryScanningConfigurationInput{
		ScanType: ecrtypes.ScanTypeBasic,
		Rules: []ecrtypes.RegistryScanningRule{{ScanFrequency: ecrtypes.ScanFrequencyContinuousScan,
			RepositoryFilters: []ecrtypes.ScanningRepositoryFilter{{Filter: aws.String("live/*"), FilterType: ecrtypes.ScanningRepositoryFilterTypeWildcard}}}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"live/app", "pushed/app"} {
		if _, err := api.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name),
			ImageScanningConfiguration: &ecrtypes.ImageScanningConfiguration{ScanOnPush: name == "pushed/app"}}); err != nil {
			t.Fatal(err)
		}
	}
	bc, err := api.BatchGetRepositoryScanningConfiguration(ctx, &ecr.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: []string{"live/app"}})
	if err != nil || len(bc.ScanningConfigurations) != 1 || bc.ScanningConfigurations[0].ScanFrequency != ecrtypes.ScanFrequencyContinuousScan {
		t.Fatalf("BatchGetRepositoryScanningConfiguration(live/app) = %+v, %v", bc, err)
	}
	// Two images (the second has one more file), so that each has a scan
	// of its own.
	if err := remote.Write(ggcrRepo(t, b, "live/app").Tag("v1"), appImage(t), opts...); err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ggcrRepo(t, b, "pushed/app").Tag("v1"), appImage(t, map[string]string{"etc/motd": "hello"}), opts...); err != nil {
		t.Fatal(err)
	}
	v1 := &ecrtypes.ImageIdentifier{ImageTag: aws.String("v1")}
	names := func(repo string) []string {
		t.Helper()
		if st := waitScan(t, ctx, api, repo, v1); st.Status != ecrtypes.ScanStatusComplete {
			t.Fatalf("scan of %s: %s (%s)", repo, st.Status, aws.ToString(st.Description))
		}
		out, err := api.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{RepositoryName: aws.String(repo), ImageId: v1})
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, f := range out.ImageScanFindings.Findings {
			ns = append(ns, aws.ToString(f.Name))
		}
		slices.Sort(ns)
		return ns
	}
	for _, repo := range []string{"live/app", "pushed/app"} {
		if got := names(repo); !slices.Equal(got, []string{"CVE-2023-32681"}) {
			t.Fatalf("findings of %s with the first data: %q, want requests' only", repo, got)
		}
	}

	// The source now names lodash and minimist too. The next sync loads
	// it; continuous scanning scans live/app again.
	mu.Lock()
	served = osvZip(t, "PYSEC-2023-74", "GHSA-35jh-r3h4-6jhm", "TEST-LAST-AFFECTED")
	mu.Unlock()
	want := []string{"CVE-2021-23337", "CVE-2023-32681", "TEST-LAST-AFFECTED"}
	for {
		got := names("live/app")
		if slices.Equal(got, want) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("live/app's findings are still %q, want %q after the data changed\n%s", got, want, b.Log())
		case <-time.After(300 * time.Millisecond):
		}
	}
	// The repository scanned on push keeps the scan it had.
	if got := names("pushed/app"); !slices.Equal(got, []string{"CVE-2023-32681"}) {
		t.Errorf("findings of pushed/app after the data changed: %q, want the scan on push's", got)
	}

	// Each finished scan was reported, with the repository's tags.
	type scanEvent struct {
		DetailType string   `json:"detail-type"`
		Source     string   `json:"source"`
		Resources  []string `json:"resources"`
		Detail     struct {
			ScanStatus     string         `json:"scan-status"`
			RepositoryName string         `json:"repository-name"`
			Counts         map[string]int `json:"finding-severity-counts"`
			ImageDigest    string         `json:"image-digest"`
			ImageTags      []string       `json:"image-tags"`
		} `json:"detail"`
	}
	var live, pushed []scanEvent
	for _, line := range strings.Split(b.Log(), "\n") {
		i := strings.Index(line, "event=")
		if !strings.Contains(line, `msg="ECR Image Scan"`) || i < 0 {
			continue
		}
		// The text log quotes the event's JSON.
		text, err := strconv.Unquote(line[i+len("event="):])
		if err != nil {
			t.Fatalf("event %q: %v", line[i:], err)
		}
		var e scanEvent
		if err := json.Unmarshal([]byte(text), &e); err != nil {
			t.Fatalf("event %s: %v", text, err)
		}
		if e.DetailType != "ECR Image Scan" || e.Source != "aws.ecr" || e.Detail.ScanStatus != "COMPLETE" ||
			!slices.Equal(e.Detail.ImageTags, []string{"v1"}) || len(e.Resources) != 1 || !strings.HasSuffix(e.Resources[0], ":repository/"+e.Detail.RepositoryName) {
			t.Errorf("scan event %+v", e)
		}
		switch e.Detail.RepositoryName {
		case "live/app":
			live = append(live, e)
		case "pushed/app":
			pushed = append(pushed, e)
		}
	}
	if len(pushed) != 1 || len(live) < 2 {
		t.Fatalf("%d scan events for pushed/app (want 1) and %d for live/app (want 2 or more)", len(pushed), len(live))
	}
	if last := live[len(live)-1]; last.Detail.Counts["HIGH"] < 1 || last.Detail.Counts["MEDIUM"] < 1 {
		t.Errorf("the rescan's event counts %v, want lodash's HIGH and requests' MEDIUM", last.Detail.Counts)
	}
	mu.Lock()
	if fetches < 2 {
		t.Errorf("the source was fetched %d times, want a sync after the first", fetches)
	}
	mu.Unlock()
}

// waitLog waits until the server's log holds text n times.
func waitLog(t *testing.T, ctx context.Context, b *berth, text string, n int) {
	t.Helper()
	for strings.Count(b.Log(), text) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%q not logged %d times:\n%s", text, n, b.Log())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
