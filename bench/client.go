package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

const (
	mtManifest = "application/vnd.oci.image.manifest.v1+json"
	mtConfig   = "application/vnd.oci.image.config.v1+json"
	mtLayer    = "application/vnd.oci.image.layer.v1.tar"
	acceptMfst = mtManifest + ", application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"
)

// reg is one registry under test, reached over one keep-alive transport.
type reg struct {
	Name string // "Berth" or "Distribution"
	Base *url.URL
	Auth string // Authorization header value, "" for none
	PID  int
	hc   *http.Client
	ecr  *ecr.Client // Berth only
}

func newTransport(maxConns int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        maxConns * 2,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     5 * time.Minute,
		DisableCompression:  true,
		WriteBufferSize:     256 << 10,
		ReadBufferSize:      256 << 10,
	}
}

func newReg(name, rawURL string, pid, maxConns int) (*reg, error) {
	u, err := url.Parse(strings.TrimRight(rawURL, "/"))
	if err != nil {
		return nil, err
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%s URL %q needs a scheme and a host", name, rawURL)
	}
	return &reg{Name: name, Base: u, PID: pid, hc: &http.Client{Transport: newTransport(maxConns)}}, nil
}

// loginBerth signs in to Berth's ECR API with SigV4 and turns an ECR
// authorization token into the Basic AWS:<password> header of the data plane.
func (r *reg) loginBerth(ctx context.Context, region, akid, secret string) error {
	r.ecr = ecr.NewFromConfig(aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, ""),
		BaseEndpoint: aws.String(r.Base.String()),
		HTTPClient:   &http.Client{Transport: newTransport(16)},
	})
	out, err := r.ecr.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return fmt.Errorf("GetAuthorizationToken: %w", err)
	}
	if len(out.AuthorizationData) == 0 {
		return errors.New("GetAuthorizationToken returned no authorization data")
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		return fmt.Errorf("decoding the authorization token: %w", err)
	}
	user, pw, ok := strings.Cut(string(raw), ":")
	if !ok || user != "AWS" {
		return fmt.Errorf("authorization token is not AWS:<password> (user %q)", user)
	}
	r.Auth = "Basic " + base64.StdEncoding.EncodeToString([]byte("AWS:"+pw))
	return nil
}

// ensureRepo creates a repository where one must exist before a push.
func (r *reg) ensureRepo(ctx context.Context, name string) error {
	if r.ecr == nil {
		return nil // Distribution creates repositories on push.
	}
	_, err := r.ecr.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
	if err != nil && !strings.Contains(err.Error(), "RepositoryAlreadyExists") {
		return fmt.Errorf("CreateRepository %s: %w", name, err)
	}
	return nil
}

// httpError is an unexpected answer.
type httpError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *httpError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("%s %s: %s", e.Method, e.Path, e.Message)
	}
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

func (r *reg) resolve(loc string) (*url.URL, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return nil, err
	}
	return r.Base.ResolveReference(u), nil
}

// do sends one request and checks its status; the answer's body is read
// to the end (into sink when not nil) so the connection is kept.
func (r *reg) do(ctx context.Context, method string, u *url.URL, hdr http.Header, body io.Reader, size int64, want int, sink io.Writer) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if r.Auth != "" {
		req.Header.Set("Authorization", r.Auth)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, &httpError{Method: method, Path: u.Path, Message: err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		io.Copy(io.Discard, resp.Body)
		return resp, &httpError{Method: method, Path: u.Path, Status: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
	}
	if sink == nil {
		sink = io.Discard
	}
	if _, err := io.Copy(sink, resp.Body); err != nil {
		return resp, &httpError{Method: method, Path: u.Path, Status: resp.StatusCode, Message: "reading the body: " + err.Error()}
	}
	return resp, nil
}

func (r *reg) path(p string) *url.URL {
	return r.Base.ResolveReference(&url.URL{Path: p})
}

// startUpload opens an upload session and returns its location.
func (r *reg) startUpload(ctx context.Context, repo string) (*url.URL, error) {
	resp, err := r.do(ctx, http.MethodPost, r.path("/v2/"+repo+"/blobs/uploads/"), nil, http.NoBody, 0, http.StatusAccepted, nil)
	if err != nil {
		return nil, err
	}
	return r.resolve(resp.Header.Get("Location"))
}

func withDigest(u *url.URL, dg string) *url.URL {
	c := *u
	q := c.Query()
	q.Set("digest", dg)
	c.RawQuery = q.Encode()
	return &c
}

var octet = http.Header{"Content-Type": {"application/octet-stream"}}

// pushMonolithic uploads a blob in one body: POST, then PUT ?digest= with
// the data (Distribution ignores POST ?digest=, so both get the same two
// requests).
func (r *reg) pushMonolithic(ctx context.Context, repo, dg string, body io.Reader, size int64) error {
	loc, err := r.startUpload(ctx, repo)
	if err != nil {
		return err
	}
	_, err = r.do(ctx, http.MethodPut, withDigest(loc, dg), octet, body, size, http.StatusCreated, nil)
	return err
}

// pushChunked uploads stream seed in chunks: POST, PATCH with
// Content-Range per chunk, PUT ?digest= with no body.
func (r *reg) pushChunked(ctx context.Context, repo, dg string, seed uint64, size, chunk int64) error {
	loc, err := r.startUpload(ctx, repo)
	if err != nil {
		return err
	}
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		h := http.Header{
			"Content-Type":  {"application/octet-stream"},
			"Content-Range": {strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+n-1, 10)},
		}
		resp, err := r.do(ctx, http.MethodPatch, loc, h, newGen(seed, off, n), n, http.StatusAccepted, nil)
		if err != nil {
			return err
		}
		if loc, err = r.resolve(resp.Header.Get("Location")); err != nil {
			return err
		}
	}
	_, err = r.do(ctx, http.MethodPut, withDigest(loc, dg), nil, http.NoBody, 0, http.StatusCreated, nil)
	return err
}

// pushBlobLikeAClient does what docker and crane do for one layer: HEAD to
// see whether the registry has it, then POST and PUT.
func (r *reg) pushBlobLikeAClient(ctx context.Context, repo, dg string, body io.Reader, size int64) error {
	resp, err := r.do(ctx, http.MethodHead, r.path("/v2/"+repo+"/blobs/"+dg), nil, nil, 0, http.StatusOK, nil)
	if err == nil {
		return nil
	}
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		return err
	}
	return r.pushMonolithic(ctx, repo, dg, body, size)
}

func (r *reg) pullBlob(ctx context.Context, repo, dg string) (int64, error) {
	var c countWriter
	_, err := r.do(ctx, http.MethodGet, r.path("/v2/"+repo+"/blobs/"+dg), nil, nil, 0, http.StatusOK, &c)
	return int64(c), err
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func (r *reg) putManifest(ctx context.Context, repo, ref string, body []byte) error {
	h := http.Header{"Content-Type": {mtManifest}}
	_, err := r.do(ctx, http.MethodPut, r.path("/v2/"+repo+"/manifests/"+ref), h, strings.NewReader(string(body)), int64(len(body)), http.StatusCreated, nil)
	return err
}

// listTags reads every page of tags/list, following Link headers.
func (r *reg) listTags(ctx context.Context, repo string, n int) ([]string, int, error) {
	u := r.path("/v2/" + repo + "/tags/list")
	if n > 0 {
		u.RawQuery = "n=" + strconv.Itoa(n)
	}
	var all []string
	pages := 0
	for {
		var buf strings.Builder
		resp, err := r.do(ctx, http.MethodGet, u, nil, nil, 0, http.StatusOK, &buf)
		if err != nil {
			return all, pages, err
		}
		pages++
		var page struct {
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal([]byte(buf.String()), &page); err != nil {
			return all, pages, fmt.Errorf("tags/list page %d: %w", pages, err)
		}
		all = append(all, page.Tags...)
		next := linkNext(resp.Header.Get("Link"))
		if next == "" {
			return all, pages, nil
		}
		if u, err = r.resolve(next); err != nil {
			return all, pages, err
		}
		if pages > 100000 {
			return all, pages, errors.New("tags/list: too many pages")
		}
	}
}

// linkNext reads the target of a Link: <...>; rel="next" header.
func linkNext(h string) string {
	for _, part := range strings.Split(h, ",") {
		part = strings.TrimSpace(part)
		if !strings.Contains(part, `rel="next"`) {
			continue
		}
		if i, j := strings.Index(part, "<"), strings.Index(part, ">"); i >= 0 && j > i {
			return part[i+1 : j]
		}
	}
	return ""
}

// image builds the config and manifest of a small image.
type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

func configBlob(tag string, layers []descriptor) []byte {
	diff := make([]string, len(layers))
	for i, l := range layers {
		diff[i] = l.Digest
	}
	b, _ := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Labels": map[string]string{"bench": tag}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diff},
	})
	return b
}

func manifestBlob(config descriptor, layers []descriptor, annotations map[string]string) []byte {
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     mtManifest,
		"config":        config,
		"layers":        layers,
	}
	if len(annotations) > 0 {
		m["annotations"] = annotations
	}
	b, _ := json.Marshal(m)
	return b
}
