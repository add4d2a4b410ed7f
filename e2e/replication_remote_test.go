package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// testCA makes a certificate authority and a server certificate for
// 127.0.0.1 that it signs, writes the server's certificate and key to dir,
// and returns their files and the authority's certificate (PEM): what a
// deployment behind a private CA gives its clients.
func testCA(t *testing.T, dir string) (certFile, keyFile string, caPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "berth test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(2 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "berth destination"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(2 * time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

// putReplication puts a configuration of one rule to the destinations.
func putReplication(t *testing.T, ctx context.Context, c *ecr.Client, dests ...ecrtypes.ReplicationDestination) {
	t.Helper()
	if _, err := c.PutReplicationConfiguration(ctx, &ecr.PutReplicationConfigurationInput{
		ReplicationConfiguration: &ecrtypes.ReplicationConfiguration{Rules: []ecrtypes.ReplicationRule{{Destinations: dests}}},
	}); err != nil {
		t.Fatalf("PutReplicationConfiguration: %v", err)
	}
}

// TestReplicationRemoteBerth replicates to a second Berth deployment over
// HTTPS, behind a private CA, logging in with its access keys; then keeps
// replicating while that deployment is down, and catches up when it is
// back.
func TestReplicationRemoteBerth(t *testing.T) {
	t.Parallel()
	// The destination deployment's registry is in another region: the
	// rule's destination and the secret's name say which, and at its
	// plain address it serves its default registry.
	const region = "eu-west-1"
	certFile, keyFile, caPEM := testCA(t, t.TempDir())
	dst := startBerth(t, "", "--tls-cert", certFile, "--tls-key", keyFile, "--default-region", region)
	if !strings.HasPrefix(dst.URL, "https://") {
		t.Fatalf("the destination serves %s, want https", dst.URL)
	}
	src := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("destination log:\n%s\nsource log:\n%s", dst.Log(), src.Log())
		}
	})

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	dcfg := dst.awsConfig(region, testAccessKeyID, testSecretAccessKey)
	dcfg.HTTPClient = &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	dc := ecr.NewFromConfig(dcfg)
	// The destination creates what replication pushes, the ECR way.
	if _, err := dc.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("team/"), AppliedFor: []ecrtypes.RCTAppliedFor{ecrtypes.RCTAppliedForCreateOnPush},
	}); err != nil {
		t.Fatalf("CreateRepositoryCreationTemplate on the destination: %v", err)
	}

	// The source holds where the destination is, its CA and the keys
	// replication logs in with (GetAuthorizationToken, as `aws ecr
	// get-login-password` does).
	secret, _ := json.Marshal(map[string]string{"url": dst.URL, "accessKeyId": testAccessKeyID,
		"secretAccessKey": testSecretAccessKey, "caCertificate": string(caPEM)})
	if _, err := src.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("berth-replication/" + testAccount + "/" + region), SecretString: aws.String(string(secret)),
	}); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	sc := src.ECR()
	putReplication(t, ctx, sc, ecrtypes.ReplicationDestination{Region: aws.String(region), RegistryId: aws.String(testAccount)})
	const repo = "team/app"
	if _, err := sc.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatal(err)
	}

	index, children, sig := pushReplicable(t, ctx, src, repo, "v1")
	waitReplication(t, ctx, sc, repo, index, region, testAccount, ecrtypes.ReplicationStatusComplete)
	waitReplication(t, ctx, sc, repo, sig, region, testAccount, ecrtypes.ReplicationStatusComplete)
	checkReplica(t, ctx, dc, repo, "v1", index, children, sig)

	// The destination goes down; a push made meanwhile reads FAILED,
	// unreachable, and is caught up by a retry once it is back.
	dst.Stop()
	img := ociImage(t, v1.Platform{OS: "linux", Architecture: "amd64"}, 1)
	if err := remote.Write(ggcrRepo(t, src, repo).Tag("v2"), img, ggcrOpts(t, src, ctx)...); err != nil {
		t.Fatalf("push v2: %v", err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	failed := waitReplication(t, ctx, sc, repo, d.String(), region, testAccount, ecrtypes.ReplicationStatusFailed)
	if fc := aws.ToString(failed.FailureCode); !strings.HasPrefix(fc, "DESTINATION_UNREACHABLE: ") {
		t.Errorf("failureCode while the destination is down = %q, want DESTINATION_UNREACHABLE", fc)
	}
	dst.Restart()
	start := time.Now()
	waitReplication(t, ctx, sc, repo, d.String(), region, testAccount, ecrtypes.ReplicationStatusComplete)
	t.Logf("caught up %v after the destination came back", time.Since(start).Round(time.Second))
	if tags, ok := imageDigests(t, ctx, dc, repo)[d.String()]; !ok || !slices.Equal(tags, []string{"v2"}) {
		t.Errorf("v2 on the destination after the retry: %v, %v", tags, ok)
	}
}

// TestReplicationCreationTemplate: the repository replication creates in
// the destination gets the destination's REPLICATION template.
func TestReplicationCreationTemplate(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	src := b.ECR()
	west := ecr.NewFromConfig(b.awsConfig(replicationRegion, testAccessKeyID, testSecretAccessKey))
	if _, err := west.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix:             aws.String("team/"),
		AppliedFor:         []ecrtypes.RCTAppliedFor{ecrtypes.RCTAppliedForReplication},
		ImageTagMutability: ecrtypes.ImageTagMutabilityImmutable,
		LifecyclePolicy:    aws.String(rctLifecycle),
		ResourceTags:       []ecrtypes.Tag{{Key: aws.String("replica"), Value: aws.String("yes")}},
	}); err != nil {
		t.Fatalf("CreateRepositoryCreationTemplate: %v", err)
	}
	putReplication(t, ctx, src, ecrtypes.ReplicationDestination{Region: aws.String(replicationRegion), RegistryId: aws.String(testAccount)})
	const repo = "team/app"
	if _, err := src.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatal(err)
	}
	img := ociImage(t, v1.Platform{OS: "linux", Architecture: "amd64"}, 1)
	if err := remote.Write(ggcrRepo(t, b, repo).Tag("v1"), img, ggcrOpts(t, b, ctx)...); err != nil {
		t.Fatalf("push: %v", err)
	}
	d, _ := img.Digest()
	waitReplication(t, ctx, src, repo, d.String(), replicationRegion, testAccount, ecrtypes.ReplicationStatusComplete)

	repos, err := west.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{repo}})
	if err != nil {
		t.Fatalf("DescribeRepositories in the destination: %v", err)
	}
	r := repos.Repositories[0]
	if r.ImageTagMutability != ecrtypes.ImageTagMutabilityImmutable {
		t.Errorf("the replica's repository is %s, want the template's IMMUTABLE", r.ImageTagMutability)
	}
	tags, err := west.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: r.RepositoryArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "replica" || aws.ToString(tags.Tags[0].Value) != "yes" {
		t.Errorf("the replica's repository tags = %+v, %v; want the template's replica=yes", tags, err)
	}
	if _, err := west.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Errorf("the replica's repository has no lifecycle policy: %v", err)
	}
	// The source repository, made by hand, kept ECR's defaults.
	srcRepos, err := src.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{repo}})
	if err != nil || srcRepos.Repositories[0].ImageTagMutability != ecrtypes.ImageTagMutabilityMutable {
		t.Errorf("the source repository: %+v, %v", srcRepos, err)
	}
}

// TestReplicationTagFilter: Berth's BERTH_REPLICATION_TAG_FILTER replicates
// the images one of whose tags matches, with the matching tags only.
func TestReplicationTagFilter(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "")
	ctx := withTimeout(t, 2*time.Minute)
	src := b.ECR()
	west := ecr.NewFromConfig(b.awsConfig(replicationRegion, testAccessKeyID, testSecretAccessKey))
	if _, err := src.PutAccountSetting(ctx, &ecr.PutAccountSettingInput{
		Name: aws.String("BERTH_REPLICATION_TAG_FILTER"), Value: aws.String("release-*,latest")}); err != nil {
		t.Fatalf("PutAccountSetting: %v", err)
	}
	got, err := src.GetAccountSetting(ctx, &ecr.GetAccountSettingInput{Name: aws.String("BERTH_REPLICATION_TAG_FILTER")})
	if err != nil || aws.ToString(got.Value) != "release-*,latest" {
		t.Fatalf("GetAccountSetting = %+v, %v", got, err)
	}
	putReplication(t, ctx, src, ecrtypes.ReplicationDestination{Region: aws.String(replicationRegion), RegistryId: aws.String(testAccount)})
	const repo = "app"
	if _, err := src.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatal(err)
	}
	r, opts := ggcrRepo(t, b, repo), ggcrOpts(t, b, ctx)
	push := func(img v1.Image, tag string) string {
		t.Helper()
		if err := remote.Write(r.Tag(tag), img, opts...); err != nil {
			t.Fatalf("push %s: %v", tag, err)
		}
		d, _ := img.Digest()
		return d.String()
	}
	dev := ociImage(t, v1.Platform{OS: "linux", Architecture: "amd64"}, 1)
	devDigest := push(dev, "dev-1")
	rel := push(ociImage(t, v1.Platform{OS: "linux", Architecture: "arm64"}, 1), "release-1")
	// The release was pushed after dev-1 and its copy is done: dev-1's
	// push has long been through the replication queue.
	waitReplication(t, ctx, src, repo, rel, replicationRegion, testAccount, ecrtypes.ReplicationStatusComplete)
	st, err := src.DescribeImageReplicationStatus(ctx, &ecr.DescribeImageReplicationStatusInput{
		RepositoryName: aws.String(repo), ImageId: &ecrtypes.ImageIdentifier{ImageDigest: aws.String(devDigest)}})
	if err != nil || len(st.ReplicationStatuses) != 0 {
		t.Errorf("replication status of dev-1 = %+v, %v; want none", st, err)
	}
	replicas := imageDigests(t, ctx, west, repo)
	if _, ok := replicas[devDigest]; ok || !slices.Equal(replicas[rel], []string{"release-1"}) {
		t.Errorf("the destination holds %v; want release-1 alone", replicas)
	}

	// A matching tag pushed for the dev image replicates it, with that
	// tag only.
	push(dev, "release-2")
	waitReplication(t, ctx, src, repo, devDigest, replicationRegion, testAccount, ecrtypes.ReplicationStatusComplete)
	if tags := imageDigests(t, ctx, west, repo)[devDigest]; !slices.Equal(tags, []string{"release-2"}) {
		t.Errorf("the replica of the dev image is tagged %v, want [release-2]", tags)
	}
}
