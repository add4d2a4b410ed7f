package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The garbage collection scenario: push many blobs no manifest references,
// wait out the grace period, then collect them. Berth collects online
// (`berth admin gc`, beside the running server, which goes on taking
// pushes: the scenario pushes images all through the run and pulls every
// one back afterwards). Distribution collects offline (`registry
// garbage-collect`): its documentation requires the registry to be
// stopped or read-only meanwhile, so the scenario sends it nothing while
// it runs.

const (
	repoGC     = "bench/gc"
	repoGCLive = "bench/gc-live"
	// gcGrace is what `berth admin gc` is given: longer than any one
	// image push of the live pushers takes, so none of them loses a blob
	// between its layer and its manifest.
	gcGrace = 2 * time.Second
	// gcLivePushers push images while Berth collects.
	gcLivePushers = 4
	// gcLiveLayer is the layer size of the images pushed during collection.
	gcLiveLayer = 64 << 10
	// gcProbe is how many of the garbage blobs are asked for afterwards.
	gcProbe = 100
)

// garbageBlob is one unreferenced blob of the scenario: its bytes are
// small enough to hold.
type garbageBlob struct {
	digest string
	body   []byte
}

func garbage(rep, n int, size int64) []garbageBlob {
	out := make([]garbageBlob, n)
	for i := range out {
		body, _ := io.ReadAll(newGen(7<<40|uint64(rep)<<24|uint64(i), 0, size))
		sum := sha256.Sum256(body)
		out[i] = garbageBlob{digest: "sha256:" + hex.EncodeToString(sum[:]), body: body}
	}
	return out
}

func (b *bench) gcScenario(ctx context.Context, rep int) {
	c := b.cfg
	blobs := garbage(rep, c.gcBlobs, c.gcBlobSize)
	what := fmt.Sprintf("%d unreferenced %s blobs", c.gcBlobs, sizeString(c.gcBlobSize))
	fPush := b.res.fig(fmt.Sprintf("push of %s (POST+PUT), 16 clients", what), "blobs/s", "higher")
	fGC := b.res.fig("garbage collection of "+what+": time", "s", "lower")
	fGC.Note = "Distribution: offline (registry garbage-collect, registry idle)"
	fLive := b.res.fig(fmt.Sprintf("images pushed while collecting (%d clients, 1 × %s layer)", gcLivePushers, sizeString(gcLiveLayer)), "images", "higher")
	fLive.BerthOnly = true
	fLive.Note = "Distribution: none allowed"

	for _, r := range b.order(rep) {
		start := time.Now()
		if n := b.pushGarbage(ctx, r, fPush, blobs); n > 0 {
			b.res.add(fPush, r.Name, float64(n)/time.Since(start).Seconds())
		}
	}
	// Every garbage blob is now older than the grace period.
	time.Sleep(gcGrace + time.Second)
	for _, r := range b.order(rep) {
		var d time.Duration
		var err error
		if r == b.berth {
			var pushed int
			d, pushed, err = b.collectBerth(ctx, rep, fGC, fLive, len(blobs))
			if err == nil {
				b.res.add(fLive, r.Name, float64(pushed))
			}
		} else {
			d, err = b.collectDist(ctx, len(blobs))
		}
		if err != nil {
			b.fail(fGC, r, err)
			continue
		}
		b.res.add(fGC, r.Name, d.Seconds())
		b.progress("%s: collected %d unreferenced blobs in %s", r.Name, len(blobs), d.Round(time.Millisecond))
		if r == b.berth {
			// Distribution's in-memory blob descriptor cache goes on
			// answering for deleted blobs until it restarts; Berth's
			// answers are checked.
			b.probeGone(ctx, r, fGC, blobs)
		}
	}
}

// pushGarbage pushes blobs with 16 clients and returns how many it pushed.
func (b *bench) pushGarbage(ctx context.Context, r *reg, f *figure, blobs []garbageBlob) int {
	var next, ok atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(blobs) || ctx.Err() != nil {
					return
				}
				g := blobs[i]
				if err := r.pushMonolithic(ctx, repoGC, g.digest, bytes.NewReader(g.body), int64(len(g.body))); err != nil {
					b.fail(f, r, err)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(ok.Load())
}

// collectBerth runs `berth admin gc` beside the server while
// gcLivePushers push images, then pulls every image they pushed. It
// returns the collection's time and the number of images pushed meanwhile.
func (b *bench) collectBerth(ctx context.Context, rep int, fGC, fLive *figure, want int) (time.Duration, int, error) {
	c := b.cfg
	type pushed struct {
		tag      string
		manifest []byte
		layer    string
		seed     uint64
	}
	var mu sync.Mutex
	var images []pushed
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range gcLivePushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				seed := 9<<40 | uint64(rep)<<32 | uint64(w)<<24 | uint64(i)<<4
				tag := fmt.Sprintf("r%d-w%d-%05d", rep, w, i)
				m, err := pushSmallImage(ctx, b.berth, repoGCLive, tag, seed, 1, gcLiveLayer)
				if err != nil {
					b.fail(fLive, b.berth, err)
					continue
				}
				mu.Lock()
				images = append(images, pushed{tag: tag, manifest: m, layer: genDigest(seed, gcLiveLayer), seed: seed})
				mu.Unlock()
			}
		}()
	}
	var d time.Duration
	var err error
	for attempt := 0; attempt < 30; attempt++ {
		// The server's own periodic collection may hold the lease: then
		// this one reports busy, and is tried again.
		var out []byte
		start := time.Now()
		cmd := exec.CommandContext(ctx, c.berthBin, "admin", "gc", "--data", c.berthData, "--grace", gcGrace.String(), "--output", "json")
		out, err = cmd.Output()
		d = time.Since(start)
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = fmt.Errorf("berth admin gc: %w: %s", err, bytes.TrimSpace(ee.Stderr))
			}
			break
		}
		var report struct {
			Busy         bool
			LinksRemoved int
			BlobsDeleted int
		}
		if err = json.Unmarshal(out, &report); err != nil {
			err = fmt.Errorf("berth admin gc: reading its JSON report: %w", err)
			break
		}
		if report.Busy {
			time.Sleep(time.Second)
			continue
		}
		if report.BlobsDeleted < want {
			err = fmt.Errorf("berth admin gc deleted %d blobs (%d links), want at least %d", report.BlobsDeleted, report.LinksRemoved, want)
		}
		break
	}
	close(stop)
	wg.Wait()
	if err != nil {
		return 0, 0, err
	}
	// Every image pushed while collecting pulls whole.
	for _, img := range images {
		var got bytes.Buffer
		h := http.Header{"Accept": {acceptMfst}}
		if _, err := b.berth.do(ctx, http.MethodGet, b.berth.path("/v2/"+repoGCLive+"/manifests/"+img.tag), h, nil, 0, http.StatusOK, &got); err != nil {
			b.fail(fLive, b.berth, fmt.Errorf("pulling %s after the collection: %w", img.tag, err))
			continue
		}
		if !bytes.Equal(got.Bytes(), img.manifest) {
			b.fail(fLive, b.berth, fmt.Errorf("manifest %s differs after the collection", img.tag))
			continue
		}
		n, err := b.berth.pullBlob(ctx, repoGCLive, img.layer)
		if err == nil && n != gcLiveLayer {
			err = fmt.Errorf("layer of %s: %d of %d bytes", img.tag, n, gcLiveLayer)
		}
		if err != nil {
			b.fail(fLive, b.berth, fmt.Errorf("pulling %s's layer after the collection: %w", img.tag, err))
		}
	}
	return d, len(images), nil
}

// distEligible is the last line of Distribution's garbage-collect.
var distEligible = regexp.MustCompile(`(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible for deletion`)

// collectDist runs Distribution's offline garbage-collect on its config.
func (b *bench) collectDist(ctx context.Context, want int) (time.Duration, error) {
	c := b.cfg
	start := time.Now()
	cmd := exec.CommandContext(ctx, c.distBin, "garbage-collect", c.distConfig)
	cmd.Env = append(cmd.Environ(), "OTEL_TRACES_EXPORTER=none")
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("registry garbage-collect: %w: %s", err, tail(out, 600))
	}
	m := distEligible.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("registry garbage-collect printed no summary: %s", tail(out, 600))
	}
	if n, _ := strconv.Atoi(string(m[2])); n < want {
		return 0, fmt.Errorf("registry garbage-collect found %d blobs eligible for deletion, want at least %d", n, want)
	}
	return d, nil
}

// probeGone asks for some of the collected blobs: each must be gone.
func (b *bench) probeGone(ctx context.Context, r *reg, f *figure, blobs []garbageBlob) {
	step := max(1, len(blobs)/gcProbe)
	for i := 0; i < len(blobs); i += step {
		resp, err := r.do(ctx, http.MethodHead, r.path("/v2/"+repoGC+"/blobs/"+blobs[i].digest), nil, nil, 0, http.StatusNotFound, nil)
		if err != nil {
			if resp != nil {
				err = fmt.Errorf("blob %s still answers %d after the collection", blobs[i].digest, resp.StatusCode)
			}
			b.fail(f, r, err)
		}
	}
}

func tail(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
