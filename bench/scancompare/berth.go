package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// berth is the running server, through the ECR API (SigV4, aws-sdk-go-v2)
// and the data plane (Basic AWS:<token>).
type berth struct {
	base *url.URL
	pid  int
	auth string
	ecr  *ecr.Client
	hc   *http.Client
}

func newBerth(ctx context.Context, o options) (*berth, error) {
	u, err := url.Parse(strings.TrimRight(o.berthURL, "/"))
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 4}}
	b := &berth{base: u, pid: o.berthPID, hc: hc, ecr: ecr.NewFromConfig(aws.Config{
		Region:       o.region,
		Credentials:  credentials.NewStaticCredentialsProvider(o.akid, o.secret, ""),
		BaseEndpoint: aws.String(u.String()),
		HTTPClient:   hc,
	})}
	out, err := b.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, fmt.Errorf("GetAuthorizationToken: %w", err)
	}
	if len(out.AuthorizationData) == 0 {
		return nil, errors.New("GetAuthorizationToken returned no authorization data")
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		return nil, err
	}
	b.auth = "Basic " + base64.StdEncoding.EncodeToString(raw)
	return b, nil
}

// scanOnPush sets the registry's scanning configuration: every repository
// is scanned on push.
func (b *berth) scanOnPush(ctx context.Context) error {
	_, err := b.ecr.PutRegistryScanningConfiguration(ctx, &ecr.PutRegistryScanningConfigurationInput{
		ScanType: types.ScanTypeBasic,
		Rules: []types.RegistryScanningRule{{ScanFrequency: types.ScanFrequencyScanOnPush,
			RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("*"), FilterType: types.ScanningRepositoryFilterTypeWildcard}}}},
	})
	if err != nil {
		return fmt.Errorf("PutRegistryScanningConfiguration: %w", err)
	}
	return nil
}

func (b *berth) do(ctx context.Context, method, rawURL string, hdr http.Header, body io.Reader, size int64, want int) (*http.Response, error) {
	u, err := b.base.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	if body == nil || size == 0 {
		req.Body = http.NoBody
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", b.auth)
	resp, err := b.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d %s", method, u.Path, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return resp, nil
}

func (b *berth) pushBlob(ctx context.Context, repo, digest string, body io.Reader, size int64) error {
	resp, err := b.do(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil, nil, 0, http.StatusAccepted)
	if err != nil {
		return err
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return err
	}
	q := loc.Query()
	q.Set("digest", digest)
	loc.RawQuery = q.Encode()
	_, err = b.do(ctx, http.MethodPut, loc.String(), http.Header{"Content-Type": {"application/octet-stream"}}, body, size, http.StatusCreated)
	return err
}

// push uploads the image's layers, a config with the labels given and the
// manifest, as a client pushes a new image, and returns the manifest's
// digest.
func (b *berth) push(ctx context.Context, img *image, repo, tag string, labels map[string]string) (string, error) {
	for _, l := range img.layers {
		f, err := os.Open(l.path)
		if err != nil {
			return "", err
		}
		err = b.pushBlob(ctx, repo, l.digest, f, l.size)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	config := img.config(labels)
	if err := b.pushBlob(ctx, repo, sha256Digest(config), strings.NewReader(string(config)), int64(len(config))); err != nil {
		return "", err
	}
	manifest := img.manifest(config)
	_, err := b.do(ctx, http.MethodPut, "/v2/"+repo+"/manifests/"+tag, http.Header{"Content-Type": {mtManifest}},
		strings.NewReader(string(manifest)), int64(len(manifest)), http.StatusCreated)
	return sha256Digest(manifest), err
}

// pushTimes are the moments of a push and its scan, from the push's start.
type pushTimes struct {
	pushed   time.Duration // the manifest PUT answered
	complete time.Duration // DescribeImageScanFindings first said COMPLETE
}

// pushAndWait creates the repository, pushes and polls the scan (every
// 50 ms, so that the time measured is the scan's and not a waiter's 5 s
// interval) until it is COMPLETE.
func (b *berth) pushAndWait(ctx context.Context, img *image, repo, tag string, labels map[string]string) (string, pushTimes, error) {
	var t pushTimes
	if _, err := b.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		return "", t, fmt.Errorf("CreateRepository %s: %w", repo, err)
	}
	start := time.Now()
	digest, err := b.push(ctx, img, repo, tag, labels)
	if err != nil {
		return "", t, fmt.Errorf("push %s: %w", repo, err)
	}
	t.pushed = time.Since(start)
	deadline := time.Now().Add(10 * time.Minute)
	for {
		out, err := b.ecr.DescribeImageScanFindings(ctx, &ecr.DescribeImageScanFindingsInput{
			RepositoryName: aws.String(repo), ImageId: &types.ImageIdentifier{ImageDigest: aws.String(digest)}, MaxResults: aws.Int32(1)})
		if err != nil {
			return "", t, fmt.Errorf("DescribeImageScanFindings: %w", err)
		}
		switch out.ImageScanStatus.Status {
		case types.ScanStatusComplete:
			t.complete = time.Since(start)
			return digest, t, nil
		case types.ScanStatusInProgress, types.ScanStatusPending:
		default:
			return "", t, fmt.Errorf("scan of %s@%s: %s (%s)", repo, digest, out.ImageScanStatus.Status, aws.ToString(out.ImageScanStatus.Description))
		}
		if time.Now().After(deadline) {
			return "", t, fmt.Errorf("scan of %s@%s not COMPLETE after 10 minutes", repo, digest)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// findingSet reads every page of an image's findings.
func (b *berth) findingSet(ctx context.Context, repo, digest string) (set, error) {
	s := set{}
	p := ecr.NewDescribeImageScanFindingsPaginator(b.ecr, &ecr.DescribeImageScanFindingsInput{
		RepositoryName: aws.String(repo), ImageId: &types.ImageIdentifier{ImageDigest: aws.String(digest)}, MaxResults: aws.Int32(1000)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("DescribeImageScanFindings: %w", err)
		}
		for _, f := range out.ImageScanFindings.Findings {
			attr := map[string]string{}
			for _, a := range f.Attributes {
				attr[aws.ToString(a.Key)] = aws.ToString(a.Value)
			}
			// name is the CVE where the record names one; the OSV id is
			// then in vulnerability_id.
			id := attr["vulnerability_id"]
			if id == "" {
				id = aws.ToString(f.Name)
			}
			s.add(finding{ecosystem: attr["ecosystem"], pkg: attr["package_name"], version: attr["package_version"], id: id},
				fmt.Sprintf("%s %s", f.Severity, aws.ToString(f.Name)))
		}
	}
	return s, nil
}
