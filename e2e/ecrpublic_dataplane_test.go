package e2e

// ECR Public's data plane on --public-registry-host through
// go-containerregistry (crane's library): a push with the ecr-public
// login, anonymous pulls through the bearer-token flow, the refusals
// (no login, a private login, no ecr-public permission), the isolation of
// public and private registries, and the per-source limit of anonymous
// pulls (docs/ecr-public.md).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const publicHost = "public.ecr.localhost"

// publicTransport reaches b for the public host's name: the machine's
// resolver need not know *.localhost.
func publicTransport(b *berth) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h, _, _ := net.SplitHostPort(addr); h == publicHost {
			addr = b.Host
		}
		return d.DialContext(ctx, network, addr)
	}
	return tr
}

// publicAddr is the public host with b's port, as clients address it.
func publicAddr(b *berth) string {
	_, port, _ := net.SplitHostPort(b.Host)
	return publicHost + ":" + port
}

func publicRepo(t *testing.T, b *berth, aliasAndName string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(publicAddr(b)+"/"+aliasAndName, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// publicPassword is the ecr-public login of cfg's identity, as `aws
// ecr-public get-login-password` prints it.
func publicPassword(t *testing.T, cfg aws.Config) string {
	t.Helper()
	out, err := ecrpublic.NewFromConfig(cfg).GetAuthorizationToken(t.Context(), &ecrpublic.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("ecr-public GetAuthorizationToken: %v", err)
	}
	raw, _ := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData.AuthorizationToken))
	_, pw, _ := strings.Cut(string(raw), ":")
	return pw
}

func publicHowToLogIn(b *berth) string {
	return "aws ecr-public get-login-password --region us-east-1 | docker login --username AWS --password-stdin " + publicAddr(b)
}

func TestECRPublicDataPlane(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, 2*time.Minute)
	tr := publicTransport(b)
	t.Cleanup(tr.CloseIdleConnections)
	alias := "b" + testAccount
	if _, err := b.ECRPublic("us-east-1").CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("gallery")}); err != nil {
		t.Fatal(err)
	}
	// A private repository of the same name, and a private image.
	if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("gallery")}); err != nil {
		t.Fatal(err)
	}
	_, privateDigest := azRepoWithImage(t, ctx, b, "private-only")

	ref := publicRepo(t, b, alias+"/gallery")
	img, _ := random.Image(4096, 2)
	login := publicPassword(t, b.awsConfig("us-east-1", testAccessKeyID, testSecretAccessKey))
	// go-containerregistry trades the Basic login for a bearer token at
	// /token, as docker does after docker login.
	if err := remote.Write(ref.Tag("latest"), img, remote.WithContext(ctx), remote.WithTransport(tr),
		remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: login})); err != nil {
		t.Fatalf("push with the ecr-public login: %v", err)
	}
	want, _ := img.Digest()

	// Anyone pulls: no credentials at all (an empty config).
	got, err := remote.Image(ref.Tag("latest"), remote.WithContext(ctx), remote.WithTransport(tr))
	if err != nil {
		t.Fatalf("anonymous pull: %v", err)
	}
	if d, _ := got.Digest(); d != want {
		t.Errorf("anonymous pull: digest %s, want %s", d, want)
	}
	layers, _ := got.Layers()
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatalf("anonymous layer pull: %v", err)
		}
		io.Copy(io.Discard, rc)
		rc.Close()
	}
	out, err := b.ECRPublic("us-east-1").DescribeImages(ctx, &ecrpublic.DescribeImagesInput{RepositoryName: aws.String("gallery")})
	if err != nil || len(out.ImageDetails) != 1 || aws.ToString(out.ImageDetails[0].ImageDigest) != want.String() {
		t.Errorf("DescribeImages after the push: %+v, %v", out, err)
	}

	other, _ := random.Image(1024, 1)
	err = remote.Write(ref.Tag("anon"), other, remote.WithContext(ctx), remote.WithTransport(tr))
	azWantRefusal(t, "an anonymous push", err, http.StatusUnauthorized, "UNAUTHORIZED",
		"Pushing to a public repository requires a login: "+publicHowToLogIn(b))

	err = remote.Write(ref.Tag("private-login"), other, remote.WithContext(ctx), remote.WithTransport(tr),
		remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: b.Password(t)}))
	if err == nil || !strings.Contains(err.Error(), "login to the private registries of region us-east-1") {
		t.Errorf("a push with a private registry's login: %v, want a refusal that says it is a private login", err)
	}

	// Isolation: the public host serves no private repository, a
	// private host no public one.
	_, err = remote.Image(publicRepo(t, b, alias+"/private-only").Tag("v1"), remote.WithContext(ctx), remote.WithTransport(tr))
	wantRegistryError(t, err, http.StatusNotFound, "NAME_UNKNOWN")
	_, err = remote.Image(ggcrRepo(t, b, "gallery").Tag("latest"), ggcrOpts(t, b, ctx)...)
	wantRegistryError(t, err, http.StatusNotFound, "MANIFEST_UNKNOWN")
	if _, err := remote.Image(ggcrRepo(t, b, "private-only").Digest(want.String()), ggcrOpts(t, b, ctx)...); err == nil {
		t.Error("the public image's digest is readable through the private host")
	}
	if _, err := remote.Image(ggcrRepo(t, b, "private-only").Digest(privateDigest.String()), ggcrOpts(t, b, ctx)...); err != nil {
		t.Errorf("the private image through the private host: %v", err)
	}
	// A public login opens no private registry.
	_, err = remote.Image(ggcrRepo(t, b, "private-only").Tag("v1"), remote.WithContext(ctx),
		remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: login}))
	if err == nil {
		t.Error("the ecr-public login pulls a private image")
	}
	_, err = remote.Image(publicRepo(t, b, "nosuchalias/gallery").Tag("latest"), remote.WithContext(ctx), remote.WithTransport(tr))
	wantRegistryError(t, err, http.StatusNotFound, "NAME_UNKNOWN")
}

// publicGet sends a GET to the public host of b.
func publicGet(t *testing.T, ctx context.Context, b *berth, path, auth string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.Host+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = publicAddr(b)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestECRPublicTokenFlow(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "", "--public-pull-rate", "1", "--public-pull-burst", "2")
	ctx := withTimeout(t, time.Minute)
	realm := `Bearer realm="http://` + publicAddr(b) + `/token",service="public.ecr.aws"`
	repo := "b" + testAccount + "/app"
	for _, tc := range []struct {
		what, path, auth string
		status           int
		challenge        string
		code             string
	}{
		{"GET /v2/ without a token", "/v2/", "", 401, realm + `,scope="aws"`, "UNAUTHORIZED"},
		{"a manifest without a token", "/v2/" + repo + "/manifests/latest", "", 401, realm + `,scope="repository:` + repo + `:pull"`, "UNAUTHORIZED"},
		{"a forged token", "/v2/" + repo + "/manifests/latest", "Bearer abc.123.def", 401, realm + `,scope="repository:` + repo + `:pull",error="invalid_token"`, "UNAUTHORIZED"},
		{"a bad Basic login", "/v2/", "Basic " + base64.StdEncoding.EncodeToString([]byte("AWS:nope")), 401, realm + `,scope="aws",error="invalid_token"`, "UNAUTHORIZED"},
		{"the catalog", "/v2/_catalog", "", 404, "", "UNSUPPORTED"},
	} {
		resp, body := publicGet(t, ctx, b, tc.path, tc.auth)
		var eb ociErrorBody
		json.Unmarshal(body, &eb)
		// A refused token's challenge goes on with error_description,
		// which docker prints: the error body's message.
		challenge := tc.challenge
		if strings.Contains(challenge, "error=") && len(eb.Errors) > 0 {
			challenge += `,error_description="` + eb.Errors[0].Message + `"`
		}
		if resp.StatusCode != tc.status || resp.Header.Get("WWW-Authenticate") != challenge || len(eb.Errors) == 0 || eb.Errors[0].Code != tc.code {
			t.Errorf("%s: %d %q %s\nwant %d %q %s", tc.what, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body, tc.status, tc.challenge, tc.code)
		}
	}

	resp, body := publicGet(t, ctx, b, "/token?service=public.ecr.aws&scope=repository:"+repo+":pull,push", "")
	var tok struct {
		Token     string `json:"token"`
		ExpiresIn int    `json:"expires_in"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &tok) != nil || tok.Token == "" || tok.ExpiresIn <= 0 || tok.ExpiresIn > 900 {
		t.Fatalf("GET /token: %d %s", resp.StatusCode, body)
	}
	if resp, body := publicGet(t, ctx, b, "/v2/", "Bearer "+tok.Token); resp.StatusCode != 200 {
		t.Errorf("GET /v2/ with an anonymous token: %d %s", resp.StatusCode, body)
	}
	// The anonymous token does not open the private host.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.Host+"/v2/", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("the private host with a public token: %v, %v; want 401", resp, err)
	} else {
		resp.Body.Close()
	}

	// Two pulls at once, then the limit: 429 TOOMANYREQUESTS with when to
	// come back.
	for i, want := range []int{404, 404, 429} {
		resp, body := publicGet(t, ctx, b, "/v2/"+repo+"/manifests/latest", "Bearer "+tok.Token)
		if resp.StatusCode != want {
			t.Errorf("pull %d: %d %s, want %d", i, resp.StatusCode, body, want)
		}
		if want == 429 && (!strings.Contains(string(body), `"TOOMANYREQUESTS"`) || resp.Header.Get("Retry-After") == "") {
			t.Errorf("pull %d: %s, Retry-After %q; want TOOMANYREQUESTS and a Retry-After", i, body, resp.Header.Get("Retry-After"))
		}
	}
	// A logged-in pull is not anonymous, and not limited.
	login := "Basic " + base64.StdEncoding.EncodeToString([]byte("AWS:"+publicPassword(t, b.awsConfig("us-east-1", testAccessKeyID, testSecretAccessKey))))
	if resp, body := publicGet(t, ctx, b, "/v2/"+repo+"/manifests/latest", login); resp.StatusCode != 404 {
		t.Errorf("a logged-in pull past the anonymous limit: %d %s, want 404 (no such repository)", resp.StatusCode, body)
	}
}

func TestECRPublicDeniedIdentity(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, time.Minute)
	tr := publicTransport(b)
	t.Cleanup(tr.CloseIdleConnections)
	if _, err := b.ECRPublic("us-east-1").CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("gallery")}); err != nil {
		t.Fatal(err)
	}
	// A user who may log in to ECR Public and nothing more.
	cfg := azUser(t, b, b.IAM(), "pub-user")
	cfg.Region = "us-east-1"
	if _, err := b.IAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("pub-user"), PolicyName: aws.String("login"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr-public:GetAuthorizationToken","sts:GetServiceBearerToken"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	user := "arn:aws:iam::" + testAccount + ":user/pub-user"
	_, err := ecrpublic.NewFromConfig(cfg).CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("denied")})
	azWantAPIDenied(t, "CreateRepository without ecr-public:CreateRepository", err, azDeniedMsg(user, "ecr-public:CreateRepository",
		"arn:aws:ecr-public::"+testAccount+":repository/denied", azNoIdentityPolicy("ecr-public:CreateRepository")))

	img, _ := random.Image(1024, 1)
	err = remote.Write(publicRepo(t, b, "b"+testAccount+"/gallery").Tag("v1"), img, remote.WithContext(ctx), remote.WithTransport(tr),
		remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: publicPassword(t, cfg)}))
	azWantDenied(t, "a push without ecr-public:InitiateLayerUpload", err, azDeniedMsg(user, "ecr-public:InitiateLayerUpload",
		"arn:aws:ecr-public::"+testAccount+":repository/gallery", azNoIdentityPolicy("ecr-public:InitiateLayerUpload")))
}

// TestECRPublicLayerUploads pushes an image with ECR Public's layer API
// (as the ecr-public SDKs do) and pulls it anonymously from the public
// host.
func TestECRPublicLayerUploads(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, time.Minute)
	c := b.ECRPublic("us-east-1")
	if _, err := c.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("layers")}); err != nil {
		t.Fatal(err)
	}
	upload := func(content []byte) string {
		t.Helper()
		up, err := c.InitiateLayerUpload(ctx, &ecrpublic.InitiateLayerUploadInput{RepositoryName: aws.String("layers")})
		if err != nil || aws.ToInt64(up.PartSize) <= 0 {
			t.Fatalf("InitiateLayerUpload: %+v, %v", up, err)
		}
		half := len(content) / 2
		for _, part := range [][2]int{{0, half}, {half, len(content)}} {
			out, err := c.UploadLayerPart(ctx, &ecrpublic.UploadLayerPartInput{RepositoryName: aws.String("layers"), UploadId: up.UploadId,
				PartFirstByte: aws.Int64(int64(part[0])), PartLastByte: aws.Int64(int64(part[1] - 1)), LayerPartBlob: content[part[0]:part[1]]})
			if err != nil || aws.ToInt64(out.LastByteReceived) != int64(part[1]-1) {
				t.Fatalf("UploadLayerPart %v: %+v, %v", part, out, err)
			}
		}
		d := digestOf(content)
		done, err := c.CompleteLayerUpload(ctx, &ecrpublic.CompleteLayerUploadInput{RepositoryName: aws.String("layers"), UploadId: up.UploadId, LayerDigests: []string{d}})
		if err != nil || aws.ToString(done.LayerDigest) != d {
			t.Fatalf("CompleteLayerUpload: %+v, %v", done, err)
		}
		return d
	}
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := []byte(strings.Repeat("a layer of bytes ", 100))
	cd, ld := upload(config), upload(layer)
	avail, err := c.BatchCheckLayerAvailability(ctx, &ecrpublic.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String("layers"),
		LayerDigests: []string{ld, "sha256:" + strings.Repeat("0", 64)}})
	if err != nil || len(avail.Layers) != 2 || string(avail.Layers[0].LayerAvailability) != "AVAILABLE" || string(avail.Layers[1].LayerAvailability) != "UNAVAILABLE" {
		t.Fatalf("BatchCheckLayerAvailability: %+v, %v", avail, err)
	}
	manifest := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + cd + `","size":` + itoa(len(config)) + `},` +
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"` + ld + `","size":` + itoa(len(layer)) + `}]}`
	if _, err := c.PutImage(ctx, &ecrpublic.PutImageInput{RepositoryName: aws.String("layers"), ImageManifest: aws.String(manifest), ImageTag: aws.String("v1")}); err != nil {
		t.Fatalf("PutImage: %v", err)
	}
	tr := publicTransport(b)
	t.Cleanup(tr.CloseIdleConnections)
	img, err := remote.Image(publicRepo(t, b, "b"+testAccount+"/layers").Tag("v1"), remote.WithContext(ctx), remote.WithTransport(tr))
	if err != nil {
		t.Fatalf("anonymous pull of the API's push: %v", err)
	}
	if d, _ := img.Digest(); d.String() != digestOf([]byte(manifest)) {
		t.Errorf("pulled %s, want %s", d, digestOf([]byte(manifest)))
	}

	// The refusals, in ECR Public's exceptions.
	up, err := c.InitiateLayerUpload(ctx, &ecrpublic.InitiateLayerUploadInput{RepositoryName: aws.String("layers")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadLayerPart(ctx, &ecrpublic.UploadLayerPartInput{RepositoryName: aws.String("layers"), UploadId: up.UploadId,
		PartFirstByte: aws.Int64(5), PartLastByte: aws.Int64(6), LayerPartBlob: []byte("ab")})
	ecrRepoErrorMentions(t, err, "InvalidLayerPartException", "not consecutive")
	_, err = c.CompleteLayerUpload(ctx, &ecrpublic.CompleteLayerUploadInput{RepositoryName: aws.String("layers"), UploadId: up.UploadId, LayerDigests: []string{ld}})
	ecrRepoErrorMentions(t, err, "EmptyUploadException", "contains no layer parts")
	_, err = c.InitiateLayerUpload(ctx, &ecrpublic.InitiateLayerUploadInput{RepositoryName: aws.String("nope")})
	ecrRepoErrorMentions(t, err, "RepositoryNotFoundException", "nope")
	_, err = c.InitiateLayerUpload(ctx, &ecrpublic.InitiateLayerUploadInput{RegistryId: aws.String("nosuchalias"), RepositoryName: aws.String("layers")})
	ecrRepoErrorMentions(t, err, "RegistryNotFoundException", "nosuchalias")
	// The default alias names the registry as well as its account id.
	if _, err := c.InitiateLayerUpload(ctx, &ecrpublic.InitiateLayerUploadInput{RegistryId: aws.String("b" + testAccount), RepositoryName: aws.String("layers")}); err != nil {
		t.Errorf("InitiateLayerUpload by the default alias: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestECRPublicAliasesAndLogo: a custom alias set with berth admin is the
// registry's primary alias in DescribeRegistries and the URIs, and the
// public host resolves it and the default one alike; a logo is served at
// its logoUrl.
func TestECRPublicAliasesAndLogo(t *testing.T) {
	t.Parallel()
	b := startAuthzBerth(t)
	ctx := withTimeout(t, time.Minute)
	c := b.ECRPublic("us-east-1")
	if _, err := runAdmin(t, "public-alias", "set", "--data", b.DataDir, "--account", testAccount, "--alias", "berth-test"); err != nil {
		t.Fatalf("public-alias set: %v", err)
	}
	for _, tc := range []struct {
		account, alias, want string
	}{
		{azAccountB, "berth-test", "belongs to the public registry of account " + testAccount},
		{azAccountB, "Berth", "failed to satisfy constraint"},
		{azAccountB, "a", "failed to satisfy constraint"},
		{azAccountB, "b" + testAccount, "shape of a default alias"},
		{"123", "fine-alias", "an account id is 12 digits"},
	} {
		if _, err := runAdmin(t, "public-alias", "set", "--data", b.DataDir, "--account", tc.account, "--alias", tc.alias); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("public-alias set --account %s --alias %s: %v, want %q", tc.account, tc.alias, err, tc.want)
		}
	}
	if out, err := runAdmin(t, "public-alias", "list", "--data", b.DataDir); err != nil || !strings.Contains(out, "berth-test") || !strings.Contains(out, testAccount) {
		t.Errorf("public-alias list: %q, %v", out, err)
	}

	regs, err := c.DescribeRegistries(ctx, &ecrpublic.DescribeRegistriesInput{})
	if err != nil || len(regs.Registries) != 1 {
		t.Fatalf("DescribeRegistries: %+v, %v", regs, err)
	}
	r := regs.Registries[0]
	if got, want := aws.ToString(r.RegistryUri), publicHost+"/berth-test"; got != want {
		t.Errorf("registryUri %s, want %s", got, want)
	}
	type alias struct {
		name           string
		primary, deflt bool
		status         string
	}
	var got []alias
	for _, a := range r.Aliases {
		got = append(got, alias{aws.ToString(a.Name), a.PrimaryRegistryAlias, a.DefaultRegistryAlias, string(a.Status)})
	}
	want := []alias{{"berth-test", true, false, "ACTIVE"}, {"b" + testAccount, false, true, "ACTIVE"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("aliases %+v, want %+v", got, want)
	}

	var logo bytes.Buffer
	png.Encode(&logo, image.NewRGBA(image.Rect(0, 0, 8, 8)))
	created, err := c.CreateRepository(ctx, &ecrpublic.CreateRepositoryInput{RepositoryName: aws.String("logo-app"),
		CatalogData: &types.RepositoryCatalogDataInput{Description: aws.String("with a logo"), LogoImageBlob: logo.Bytes()}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(created.Repository.RepositoryUri), publicHost+"/berth-test/logo-app"; got != want {
		t.Errorf("repositoryUri %s, want %s", got, want)
	}
	cd, err := c.GetRepositoryCatalogData(ctx, &ecrpublic.GetRepositoryCatalogDataInput{RepositoryName: aws.String("logo-app")})
	if err != nil {
		t.Fatal(err)
	}
	logoURL := aws.ToString(cd.CatalogData.LogoUrl)
	if !strings.HasPrefix(logoURL, "http://"+b.Host+"/") || aws.ToString(created.CatalogData.LogoUrl) != logoURL {
		t.Fatalf("logoUrl %q (at creation %q), want one on %s", logoURL, aws.ToString(created.CatalogData.LogoUrl), b.Host)
	}
	resp, body := doHTTP(t, ctx, nil, http.MethodGet, logoURL, nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(body, logo.Bytes()) {
		t.Errorf("GET logoUrl: %d %s, %d bytes; want the PNG", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	if resp, _ := doHTTP(t, ctx, nil, http.MethodGet, strings.Replace(logoURL, testAccount, azAccountB, 1), nil, nil); resp.StatusCode != 404 {
		t.Errorf("another account's logo URL for the digest: %d, want 404", resp.StatusCode)
	}

	// Pushed under the custom alias, pulled under the default one.
	tr := publicTransport(b)
	t.Cleanup(tr.CloseIdleConnections)
	img, _ := random.Image(1024, 1)
	if err := remote.Write(publicRepo(t, b, "berth-test/logo-app").Tag("v1"), img, remote.WithContext(ctx), remote.WithTransport(tr),
		remote.WithAuth(&ggcrauthn.Basic{Username: "AWS", Password: publicPassword(t, b.awsConfig("us-east-1", testAccessKeyID, testSecretAccessKey))})); err != nil {
		t.Fatalf("push under the custom alias: %v", err)
	}
	pulled, err := remote.Image(publicRepo(t, b, "b"+testAccount+"/logo-app").Tag("v1"), remote.WithContext(ctx), remote.WithTransport(tr))
	if err != nil {
		t.Fatalf("pull under the default alias: %v", err)
	}
	if d1, _ := img.Digest(); func() bool { d2, _ := pulled.Digest(); return d1 != d2 }() {
		t.Error("the default alias pulls another image than the custom one pushed")
	}
	// BatchDeleteImage takes the alias as registryId, as the model allows.
	del, err := c.BatchDeleteImage(ctx, &ecrpublic.BatchDeleteImageInput{RegistryId: aws.String("berth-test"), RepositoryName: aws.String("logo-app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil || len(del.ImageIds) != 1 {
		t.Errorf("BatchDeleteImage by the custom alias: %+v, %v", del, err)
	}
}
