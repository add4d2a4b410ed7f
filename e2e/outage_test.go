package e2e

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/berth-registry/berth/internal/meta/postgres/pgtest"
)

// TestDatabaseOutage stops PostgreSQL for ten seconds under traffic: the
// node answers 503 with a message that says why, on the API, the data
// plane and its readiness probe; it recovers by itself when the database
// is back; nothing it acknowledged is lost.
func TestDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("the outage test runs without -short")
	}
	cluster := pgtest.NewCluster(t)
	b := startBerth(t, "", "--meta", cluster.NewDatabase(t), "--auto-create-repositories")
	ctx := withTimeout(t, 3*time.Minute)
	password := b.Password(t)

	var (
		mu   sync.Mutex
		acks []pushed
	)
	stop := make(chan struct{})
	var pusher sync.WaitGroup
	pusher.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			img, _ := random.Image(32*1024, 1)
			tag := fmt.Sprintf("v%d", i)
			if err := remote.Write(ggcrRepo(t, b, "outage/app").Tag(tag), img, remote.WithContext(ctx), azAuth(password)); err == nil {
				d, _ := img.Digest()
				mu.Lock()
				acks = append(acks, pushed{"outage/app", tag, d})
				mu.Unlock()
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	time.Sleep(2 * time.Second)

	cluster.StopServer(t)
	down := time.Now()
	// While it is down: 503s, with the reason.
	within(t, 10*time.Second, "the API answers 503", func() error {
		_, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "ServiceUnavailableException" && apiErrorStatus(err) == 503 &&
			strings.Contains(ae.ErrorMessage(), "cannot reach its metadata or blob store") {
			return nil
		}
		return fmt.Errorf("answered %v", err)
	})
	_, err := remote.Image(ggcrRepo(t, b, "outage/app").Tag("v0"), remote.WithContext(ctx), azAuth(password))
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusServiceUnavailable || len(te.Errors) == 0 || te.Errors[0].Code != "UNAVAILABLE" {
		t.Errorf("a pull while the database is down: %v", err)
	}
	resp, err := http.Get(b.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "metadata store") {
		t.Errorf("/healthz while the database is down: %d %s", resp.StatusCode, body)
	}
	if resp, err := http.Get(b.URL + "/livez"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("/livez while the database is down: %v %v", resp, err)
	}
	time.Sleep(time.Until(down.Add(10 * time.Second)))

	cluster.StartServer(t)
	took := within(t, 30*time.Second, "the node serves again", func() error {
		_, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"outage/app"}})
		return err
	})
	t.Logf("the node served again %v after the database came back", took)
	n := len(acks)
	within(t, 30*time.Second, "pushes go through again", func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acks) <= n {
			return errors.New("no push acknowledged since")
		}
		return nil
	})
	close(stop)
	pusher.Wait()

	// Nothing acknowledged was lost.
	for _, a := range acks {
		img, err := remote.Image(ggcrRepo(t, b, a.repo).Tag(a.tag), remote.WithContext(ctx), azAuth(password))
		if err == nil {
			if d, _ := img.Digest(); d != a.digest {
				err = fmt.Errorf("digest %v, want %v", d, a.digest)
			} else {
				err = validate.Image(img)
			}
		}
		if err != nil {
			t.Fatalf("acknowledged %s:%s: %v", a.repo, a.tag, err)
		}
	}
	out, err := b.ECR().DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("outage/app")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d pushes acknowledged; the repository holds %d images", len(acks), len(out.ImageDetails))
	if len(out.ImageDetails) < len(acks) {
		t.Errorf("the repository holds %d images, fewer than the %d acknowledged", len(out.ImageDetails), len(acks))
	}
}
