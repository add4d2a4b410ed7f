package replicate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ggcrauthn "github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/blob/fs"
	"github.com/berth-registry/berth/internal/jobs"
	"github.com/berth-registry/berth/internal/meta"
	"github.com/berth-registry/berth/internal/meta/sqlite"
	"github.com/berth-registry/berth/internal/registry"
	"github.com/berth-registry/berth/internal/replicate/rules"
)

var srcReg = meta.RegistryKey{Account: "111111111111", Region: "us-east-1"}

// testRegistry is the registry domain with the creation of destination
// repositories that the server wires.
type testRegistry struct{ *registry.Service }

func (r testRegistry) CreateRepositoryFromTemplate(ctx context.Context, reg meta.RegistryKey, name, _ string) (*meta.Repository, error) {
	info, err := r.CreateRepositoryWith(ctx, reg, registry.RepositorySpec{Name: name})
	if errors.Is(err, registry.ErrRepositoryExists) {
		return r.Repository(ctx, reg, name, false)
	}
	if err != nil {
		return nil, err
	}
	return info.Repository, nil
}

type fakeSecrets map[string]string

func (f fakeSecrets) SecretString(_ context.Context, account, region, id string) (string, error) {
	v, ok := f[account+"/"+region+"/"+id]
	if !ok {
		return "", ErrSecretNotFound
	}
	return v, nil
}

// flaky is a registry that answers 503 while down, and asks for Basic
// credentials.
type flaky struct {
	down     atomic.Bool
	user, pw string
	next     http.Handler
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.down.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.pw {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"log in"}]}`, http.StatusUnauthorized)
		return
	}
	f.next.ServeHTTP(w, r)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// TestRemoteDestination replicates to a registry over HTTPS with the
// credentials of a secret, while the destination is down and after.
func TestRemoteDestination(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	blobs, err := fs.New(dir + "/blobs")
	if err != nil {
		t.Fatal(err)
	}
	m, err := sqlite.Open(dir + "/berth.db")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	reg := registry.New(m, blobs, registry.Options{ImageEventQueues: []string{QueueImageEvents}})

	dest := &flaky{user: "replicator", pw: "s3cret", next: ggcrregistry.New()}
	dest.down.Store(true)
	srv := httptest.NewTLSServer(dest)
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	d := rules.Destination{Region: "eu-central-1", RegistryID: "999999999999"}
	secret, _ := json.Marshal(Remote{URL: srv.URL, Username: dest.user, Password: dest.pw, CACertificate: string(ca)})
	secrets := fakeSecrets{srcReg.Account + "/" + srcReg.Region + "/" + SecretName(d): string(secret)}

	svc := New(m, testRegistry{reg}, Options{Secrets: secrets,
		Retry: jobs.QueueOptions{BackoffBase: 50 * time.Millisecond, BackoffMax: 200 * time.Millisecond}})
	runner := jobs.New(m, jobs.Options{PollInterval: 20 * time.Millisecond})
	svc.RegisterJobs(runner)
	reg.RegisterJobs(runner)
	go runner.Run(ctx)
	defer cancel() // the runner stops before the stores close

	if _, err := svc.PutConfiguration(ctx, srcReg, rules.Config{Rules: []rules.Rule{{Destinations: []rules.Destination{d}}}}); err != nil {
		t.Fatal(err)
	}
	const repo = "team/app"
	if _, err := reg.CreateRepositoryWith(ctx, srcReg, registry.RepositorySpec{Name: repo}); err != nil {
		t.Fatal(err)
	}
	// An image of a config and a 3 MiB layer, then a signature of it.
	put := func(b []byte) string {
		dg := sha(b)
		if err := reg.PutBlob(ctx, srcReg, repo, digest.Digest(dg), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		return dg
	}
	cfg, layer := []byte(`{"architecture":"amd64","os":"linux"}`), bytes.Repeat([]byte("layer "), 512*1024)
	manifest := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
		"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},
		"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`, put(cfg), len(cfg), put(layer), len(layer))
	pushed, err := reg.PutManifest(ctx, srcReg, repo, "v1", "application/vnd.oci.image.manifest.v1+json", manifest, nil)
	if err != nil {
		t.Fatal(err)
	}
	sig := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sig",
		"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},
		"layers":[{"mediaType":"application/octet-stream","digest":%q,"size":9}],
		"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d}}`,
		put([]byte("{}")), put([]byte("signature")), pushed.Digest, len(manifest))
	sigPushed, err := reg.PutManifest(ctx, srcReg, repo, sha(sig), "application/vnd.oci.image.manifest.v1+json", sig, nil)
	if err != nil {
		t.Fatal(err)
	}

	wait := func(dg string, want meta.ReplicationState) meta.ReplicationStatus {
		t.Helper()
		for {
			_, sts, err := svc.Statuses(ctx, srcReg, repo, registry.ImageID{Digest: dg})
			if err != nil {
				t.Fatal(err)
			}
			if len(sts) == 1 && sts[0].State == want {
				return sts[0]
			}
			select {
			case <-ctx.Done():
				t.Fatalf("status of %s: %+v, want %s", dg, sts, want)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	failed := wait(pushed.Digest.String(), meta.ReplicationFailed)
	if !strings.HasPrefix(failed.Failure, FailureDestinationUnreachable+": ") {
		t.Errorf("failure while the destination is down = %q", failed.Failure)
	}
	if failed.Destination != (meta.RegistryKey{Account: d.RegistryID, Region: d.Region}) {
		t.Errorf("destination = %+v", failed.Destination)
	}

	dest.down.Store(false)
	wait(pushed.Digest.String(), meta.ReplicationComplete)
	wait(sigPushed.Digest.String(), meta.ReplicationComplete)

	// The destination serves the image by tag, its blobs and its
	// signature, as any client reads them.
	host := strings.TrimPrefix(srv.URL, "https://")
	ref, err := name.ParseReference(host + "/" + repo + ":v1")
	if err != nil {
		t.Fatal(err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithTransport(&schemeTransport{scheme: "https", host: host, base: srv.Client().Transport}),
		remote.WithAuth(&ggcrauthn.Basic{Username: dest.user, Password: dest.pw})}
	img, err := remote.Image(ref, opts...)
	if err != nil {
		t.Fatalf("pull the replica: %v", err)
	}
	if dg, _ := img.Digest(); dg.String() != pushed.Digest.String() {
		t.Errorf("the replica's digest is %s, want %s", dg, pushed.Digest)
	}
	ls, err := img.Layers()
	if err != nil || len(ls) != 1 {
		t.Fatalf("layers: %v, %v", ls, err)
	}
	if sz, _ := ls[0].Size(); sz != int64(len(layer)) {
		t.Errorf("layer size %d", sz)
	}
	if _, err := remote.Head(ref.Context().Digest(sigPushed.Digest.String()), opts...); err != nil {
		t.Errorf("the signature was not replicated: %v", err)
	}
}
