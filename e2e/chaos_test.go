package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// pushed is an image a push acknowledged.
type pushed struct {
	repo, tag string
	digest    v1.Hash
}

// TestChaosThreeNodes: eight clients push through a round-robin proxy over
// three nodes while one node after another is SIGKILLed and started again.
// Afterwards every acknowledged image pulls whole, by tag and by digest,
// from every node; every object at a content address in the bucket hashes
// to its name; and once garbage collection and upload expiry have run, no
// upload's staging is left behind.
func TestChaosThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos test runs without -short")
	}
	nodes, bucket := startNodesBucket(t, 3, "--auto-create-repositories")
	p := startProxy(t, nodes...)
	password := nodes[0].Password(t)
	ctx := withTimeout(t, 5*time.Minute)

	var (
		mu   sync.Mutex
		acks []pushed
		errs int
	)
	stop := make(chan struct{})
	var pushers sync.WaitGroup
	for c := range 8 {
		pushers.Go(func() {
			repo := fmt.Sprintf("chaos/client%d", c)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				img, err := random.Image(96*1024, 2)
				if err != nil {
					t.Error(err)
					return
				}
				tag := fmt.Sprintf("v%d", i)
				pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err = remote.Write(proxyRepo(t, p, repo).Tag(tag), img, remote.WithContext(pctx), azAuth(password))
				cancel()
				mu.Lock()
				if err == nil {
					d, _ := img.Digest()
					acks = append(acks, pushed{repo, tag, d})
				} else {
					errs++
				}
				mu.Unlock()
			}
		})
	}

	const rounds = 4
	for round := range rounds {
		time.Sleep(2 * time.Second)
		n := nodes[round%len(nodes)]
		n.Kill()
		time.Sleep(time.Second)
		n.Restart()
	}
	time.Sleep(2 * time.Second)
	close(stop)
	pushers.Wait()
	t.Logf("%d pushes acknowledged, %d failed while nodes were killed", len(acks), errs)
	if len(acks) < 8 {
		t.Fatalf("only %d pushes were acknowledged", len(acks))
	}

	// Every acknowledged image, from every node, by tag and by digest,
	// every layer read and its digest checked.
	for _, a := range acks {
		for i, n := range nodes {
			for _, ref := range []string{a.tag, a.digest.String()} {
				r := ggcrRepo(t, n, a.repo)
				var img v1.Image
				var err error
				if strings.HasPrefix(ref, "sha256:") {
					img, err = remote.Image(r.Digest(ref), remote.WithContext(ctx), azAuth(password))
				} else {
					img, err = remote.Image(r.Tag(ref), remote.WithContext(ctx), azAuth(password))
				}
				if err != nil {
					t.Fatalf("node %d: %s:%s: %v", i, a.repo, ref, err)
				}
				if d, _ := img.Digest(); d != a.digest {
					t.Fatalf("node %d: %s:%s is %v, want %v", i, a.repo, ref, d, a.digest)
				}
				if err := validate.Image(img); err != nil {
					t.Fatalf("node %d: %s:%s does not pull whole: %v", i, a.repo, ref, err)
				}
			}
		}
	}

	// Nothing partial at a content address.
	client, name := bucket()
	objects := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &name, Prefix: strPtr("berth/blobs/sha256/")})
	checked := 0
	for objects.HasMorePages() {
		page, err := objects.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			key := *o.Key
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &name, Key: &key})
			if err != nil {
				t.Fatal(err)
			}
			h := sha256.New()
			_, err = io.Copy(h, out.Body)
			out.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(h.Sum(nil)); !strings.HasSuffix(key, "/"+got) {
				t.Errorf("object %s holds bytes that hash to %s", key, got)
			}
			checked++
		}
	}
	t.Logf("%d blob objects hash to their names", checked)

	// Debris: stop the nodes, then let one node with short limits expire
	// the abandoned uploads and collect what nothing references.
	for _, n := range nodes {
		n.Stop()
	}
	cleaner := nodes[0]
	cleaner.Args = append(cleaner.Args, "--upload-ttl", "1s", "--gc-interval", "1s", "--gc-grace", "1s")
	cleaner.Restart()
	within(t, time.Minute, "no upload staging left in the bucket", func() error {
		out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &name, Prefix: strPtr("berth/uploads/")})
		if err != nil {
			return err
		}
		if n := len(out.Contents); n > 0 {
			return fmt.Errorf("%d staging objects, e.g. %s", n, *out.Contents[0].Key)
		}
		return nil
	})
	// and what was acknowledged is still whole after the collection.
	for _, a := range acks {
		img, err := remote.Image(ggcrRepo(t, cleaner, a.repo).Digest(a.digest.String()), remote.WithContext(ctx), azAuth(password))
		if err == nil {
			err = validate.Image(img)
		}
		if err != nil {
			t.Fatalf("after garbage collection, %s@%s: %v", a.repo, a.digest, err)
		}
	}
}
