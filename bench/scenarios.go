package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

const (
	repoBlobs     = "bench/blobs"
	repoManifests = "bench/manifests"
	repoImages    = "bench/images"
	repoAPI       = "bench/api"
)

func repoTags(rep int) string { return fmt.Sprintf("bench/tags-%d", rep) }

// reqError is one failed request, as the report lists it.
type reqError struct {
	Registry string `json:"registry"`
	Scenario string `json:"scenario"`
	Request  string `json:"request"`
	Status   int    `json:"status,omitempty"`
	Message  string `json:"message"`
	Count    int    `json:"count"`
}

type bench struct {
	cfg         config
	res         *results
	berth, dist *reg
	start       time.Time

	errMu    sync.Mutex
	errs     []*reqError // distinct failures, with how often each happened
	errIndex map[reqError]*reqError
	errCount map[string]int // by registry
	coldNote string
	fatal    string    // why the run stopped early
	loads    []float64 // 1-minute load average at the start of each repetition
	stealPct float64   // CPU time stolen by the hypervisor during the repetitions
	busyPct  float64   // CPU time not idle during the repetitions
	apiSetup time.Duration
	hwm      map[string]float64
	prefault string // what the memory pre-touch did
	// reportedKiB is how much free memory the guest handed back to the
	// host during the repetitions (free page reporting), -1 if unknown.
	reportedKiB int64
	smallDigs   map[string][][]string // (rep, clients) → per image, per layer
}

func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

// fail records a failed request of scenario f against r.
func (b *bench) fail(f *figure, r *reg, err error) {
	if f != nil {
		b.res.addError(f, r.Name)
	}
	b.errMu.Lock()
	defer b.errMu.Unlock()
	if b.errCount == nil {
		b.errCount = map[string]int{}
	}
	b.errCount[r.Name]++
	e := reqError{Registry: r.Name, Message: err.Error()}
	if f != nil {
		e.Scenario = f.Scenario
	}
	var he *httpError
	if errors.As(err, &he) {
		e.Request, e.Status, e.Message = he.Method+" "+he.Path, he.Status, he.Message
	}
	if len(e.Message) > 300 {
		e.Message = e.Message[:300] + "…"
	}
	if b.errIndex == nil {
		b.errIndex = map[reqError]*reqError{}
	}
	if p, ok := b.errIndex[e]; ok {
		p.Count++
		return
	}
	if len(b.errs) < 200 {
		p := e
		p.Count = 1
		b.errIndex[e] = &p
		b.errs = append(b.errs, &p)
	}
}

// order is the registries in the order repetition rep runs them: the
// first registry alternates, so neither always runs on a warmer machine.
func (b *bench) order(rep int) []*reg {
	if rep%2 == 0 {
		return []*reg{b.berth, b.dist}
	}
	return []*reg{b.dist, b.berth}
}

func (b *bench) run(ctx context.Context) error {
	c := b.cfg
	if err := b.setup(ctx); err != nil {
		return err
	}
	if c.prefault {
		// Keep 2 GiB free for the registries and this program.
		p, err := prefaultMemory(2<<30, 64<<30)
		b.prefault = p.String()
		if err != nil {
			b.prefault = fmt.Sprintf("%s; stopped: %v", b.prefault, err)
		}
		b.progress("memory: %s", b.prefault)
	}
	var lbuf []byte
	if c.runs("limits") {
		lbuf = limitBuffer(c.limitSize)
	}
	cpu0, cpuOK := readCPUTimes()
	reported0 := reportedFreeKiB()
	defer func() {
		if r1 := reportedFreeKiB(); reported0 >= 0 && r1 >= reported0 {
			b.reportedKiB = r1 - reported0
		}
		if cpu1, ok := readCPUTimes(); ok && cpuOK && cpu1.total > cpu0.total {
			d := float64(cpu1.total - cpu0.total)
			b.stealPct = 100 * float64(cpu1.steal-cpu0.steal) / d
			b.busyPct = 100 * (1 - float64(cpu1.idle-cpu0.idle)/d)
		}
	}()
	for rep := 0; rep < c.reps; rep++ {
		if l := loadAvg1(); l >= 0 {
			b.loads = append(b.loads, l)
		}
		b.progress("repetition %d of %d (first: %s; load average %.2f)", rep+1, c.reps, b.order(rep)[0].Name, last(b.loads))
		if c.runs("limits") {
			b.limits(lbuf)
		}
		if c.runs("blobs") {
			if err := b.blobs(ctx, rep); err != nil {
				return err
			}
		}
		if c.runs("manifests") {
			b.manifestLoad(ctx, rep)
		}
		if c.runs("images") {
			b.smallImages(ctx, rep)
		}
		if c.runs("tags") {
			b.tagsScenario(ctx, rep)
		}
		if c.runs("api") {
			b.apiScenario(ctx, rep)
		}
		if c.runs("gc") {
			b.gcScenario(ctx, rep)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ran out of time: %w", err)
		}
	}
	b.hwm = map[string]float64{}
	for _, r := range []*reg{b.berth, b.dist} {
		if r.PID > 0 {
			if kb := procField(fmt.Sprintf("/proc/%d/status", r.PID), "VmHWM"); kb > 0 {
				b.hwm[r.Name] = float64(kb) / 1024
			}
		}
	}
	return nil
}

// setup creates Berth's repositories, pushes the image the manifest loads
// read, and fills the DescribeImages repository.
func (b *bench) setup(ctx context.Context) error {
	repos := []string{repoBlobs, repoManifests, repoImages, repoAPI, repoGC, repoGCLive}
	for rep := 0; rep < b.cfg.reps; rep++ {
		repos = append(repos, repoTags(rep))
	}
	for _, name := range repos {
		if err := b.berth.ensureRepo(ctx, name); err != nil {
			return err
		}
	}
	b.progress("created %d repositories in Berth with CreateRepository (SigV4)", len(repos))
	for _, r := range []*reg{b.berth, b.dist} {
		if _, err := pushSmallImage(ctx, r, repoManifests, "latest", 0x51ee, 1, 4096); err != nil {
			return fmt.Errorf("%s: pushing the manifest-load image: %w", r.Name, err)
		}
	}
	if !b.cfg.runs("api") {
		return nil
	}
	return b.apiSetupPush(ctx)
}

// pushSmallImage pushes a config, layers of layerSize from stream seeds
// seed.., and a manifest tagged tag; it returns the manifest.
func pushSmallImage(ctx context.Context, r *reg, repo, tag string, seed uint64, layers int, layerSize int64) ([]byte, error) {
	digs := make([]string, layers)
	for i := range digs {
		digs[i] = genDigest(seed+uint64(i), layerSize)
	}
	return pushImage(ctx, r, repo, tag, seed, digs, layerSize)
}

func pushImage(ctx context.Context, r *reg, repo, tag string, seed uint64, digs []string, layerSize int64) ([]byte, error) {
	ls := make([]descriptor, len(digs))
	for i, dg := range digs {
		if err := r.pushBlobLikeAClient(ctx, repo, dg, newGen(seed+uint64(i), 0, layerSize), layerSize); err != nil {
			return nil, err
		}
		ls[i] = descriptor{MediaType: mtLayer, Digest: dg, Size: layerSize}
	}
	cfg := configBlob(tag, ls)
	cd := descriptor{MediaType: mtConfig, Digest: bytesDigest(cfg), Size: int64(len(cfg))}
	if err := r.pushBlobLikeAClient(ctx, repo, cd.Digest, strings.NewReader(string(cfg)), cd.Size); err != nil {
		return nil, err
	}
	m := manifestBlob(cd, ls, nil)
	return m, r.putManifest(ctx, repo, tag, m)
}

// ---- machine limits ----

func (b *bench) limits(buf []byte) {
	c := b.cfg
	sz := sizeString(int64(len(buf)))
	f := b.res.limit("sha256 (crypto/sha256) over a "+sz+" buffer", "MB/s")
	b.res.add(f, "", sha256Throughput(buf))
	f = b.res.limit(fmt.Sprintf("loopback TCP, io.Copy of %s", sizeString(int64(len(buf))*int64(c.loopbackRound))), "MB/s")
	if v, err := loopbackThroughput(buf, c.loopbackRound); err == nil {
		b.res.add(f, "", v)
	} else {
		f.Note = "failed: " + err.Error()
	}
	f = b.res.limit("disk write "+sz+" + fsync, registries' filesystem", "MB/s")
	if v, err := diskThroughput(c.workdir, buf); err == nil {
		b.res.add(f, "", v)
	} else {
		f.Note = "failed: " + err.Error()
	}
	for _, how := range []struct {
		send fileSend
		name string
	}{
		{sendSendfile, "sendfile (zero-copy)"},
		{sendReadWrite, "read + write through a 1 MiB buffer"},
		{sendMapped, "write from an 8 MiB mapping"},
	} {
		f = b.res.limit(fmt.Sprintf("warm file to loopback TCP, %s ×%d, %s, 256 KiB reads", sz, c.loopbackRound, how.name), "MB/s")
		if v, err := fileToSocketThroughput(c.workdir, buf, c.loopbackRound, how.send); err == nil {
			b.res.add(f, "", v)
		} else {
			f.Note = "failed: " + err.Error()
		}
	}
	b.progress("limits: sha256 %s, loopback %s, disk+fsync %s, file to socket %s (sendfile) / %s (read+write) / %s (mapped) MB/s",
		num(last(b.res.limits[0].berth)), num(last(b.res.limits[1].berth)), num(last(b.res.limits[2].berth)),
		num(last(b.res.limits[3].berth)), num(last(b.res.limits[4].berth)), num(last(b.res.limits[5].berth)))
}

func last(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[len(xs)-1]
}

// ---- large blobs ----

// warmPulls is how many times the warm pull reads the blob per measurement.
const warmPulls = 4

func (b *bench) blobs(ctx context.Context, rep int) error {
	c := b.cfg
	sz := sizeString(c.blobSize)
	monoSeed, chunkSeed := uint64(1000+2*rep), uint64(1001+2*rep)
	monoDig, chunkDig := genDigest(monoSeed, c.blobSize), genDigest(chunkSeed, c.blobSize)

	fMono := b.res.fig("blob push "+sz+" monolithic (POST+PUT)", "MB/s", "higher")
	fMonoRSS := b.res.fig("peak RSS during the "+sz+" monolithic push", "MiB", "lower")
	fChunk := b.res.fig(fmt.Sprintf("blob push %s chunked (%s PATCHes)", sz, sizeString(c.chunkSize)), "MB/s", "higher")
	fChunkRSS := b.res.fig("peak RSS during the "+sz+" chunked push", "MiB", "lower")
	fCold := b.res.fig("blob pull "+sz+" cold (page cache dropped)", "MB/s", "higher")
	fWarm := b.res.fig(fmt.Sprintf("blob pull %s warm (%d pulls back to back)", sz, warmPulls), "MB/s", "higher")

	for _, r := range b.order(rep) {
		syscall.Sync()
		rss := sampleRSS(r.PID, 10*time.Millisecond)
		start := time.Now()
		err := r.pushMonolithic(ctx, repoBlobs, monoDig, newGen(monoSeed, 0, c.blobSize), c.blobSize)
		d := time.Since(start)
		peak := rss.Stop()
		if err != nil {
			b.fail(fMono, r, err)
			return fmt.Errorf("%s: monolithic push failed, nothing to pull: %w", r.Name, err)
		}
		b.res.add(fMono, r.Name, mbps(c.blobSize, d))
		if peak >= 0 {
			b.res.add(fMonoRSS, r.Name, peak)
		}
		b.progress("%s: monolithic push %s MB/s, peak RSS %s MiB", r.Name, num(mbps(c.blobSize, d)), num(peak))
	}
	for _, r := range b.order(rep) {
		syscall.Sync()
		rss := sampleRSS(r.PID, 10*time.Millisecond)
		start := time.Now()
		err := r.pushChunked(ctx, repoBlobs, chunkDig, chunkSeed, c.blobSize, c.chunkSize)
		d := time.Since(start)
		peak := rss.Stop()
		if err != nil {
			b.fail(fChunk, r, err)
			continue
		}
		b.res.add(fChunk, r.Name, mbps(c.blobSize, d))
		if peak >= 0 {
			b.res.add(fChunkRSS, r.Name, peak)
		}
		b.progress("%s: chunked push %s MB/s, peak RSS %s MiB", r.Name, num(mbps(c.blobSize, d)), num(peak))
	}
	for _, r := range b.order(rep) {
		if err := dropCaches(); err != nil {
			b.coldNote = "cold not measurable (" + err.Error() + ")"
			fCold.Note = b.coldNote
		} else {
			start := time.Now()
			n, err := r.pullBlob(ctx, repoBlobs, monoDig)
			d := time.Since(start)
			if err == nil && n != c.blobSize {
				err = fmt.Errorf("GET blob: got %d of %d bytes", n, c.blobSize)
			}
			if err != nil {
				b.fail(fCold, r, err)
			} else {
				b.res.add(fCold, r.Name, mbps(n, d))
			}
		}
		// One pull of a warm blob lasts about a tenth of a second, too
		// short to say much alone: the figure is several back to back.
		var n int64
		var err error
		start := time.Now()
		for range warmPulls {
			var got int64
			got, err = r.pullBlob(ctx, repoBlobs, monoDig)
			if err == nil && got != c.blobSize {
				err = fmt.Errorf("GET blob: got %d of %d bytes", got, c.blobSize)
			}
			if err != nil {
				break
			}
			n += got
		}
		d := time.Since(start)
		if err != nil {
			b.fail(fWarm, r, err)
			continue
		}
		b.res.add(fWarm, r.Name, mbps(n, d))
		b.progress("%s: pull cold %s, warm %s MB/s", r.Name, num(last(pick(fCold, r))), num(mbps(n, d)))
	}
	return nil
}

func pick(f *figure, r *reg) []float64 {
	if r.Name == "Distribution" {
		return f.dist
	}
	return f.berth
}

// ---- manifest HEAD/GET load ----

func (b *bench) manifestLoad(ctx context.Context, rep int) {
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		for _, n := range b.cfg.clients {
			name := fmt.Sprintf("manifest %s by tag, %d client", method, n)
			if n > 1 {
				name += "s"
			}
			fRate := b.res.fig(name+": throughput", "req/s", "higher")
			fP50 := b.res.fig(name+": p50", "ms", "lower")
			fP99 := b.res.fig(name+": p99", "ms", "lower")
			for _, r := range b.order(rep) {
				syscall.Sync() // no writeback of earlier scenarios during the load
				rate, lat := b.load(ctx, r, fRate, method, n)
				if len(lat) == 0 {
					continue
				}
				q := durQuantiles(lat, 0.5, 0.99)
				b.res.add(fRate, r.Name, rate)
				b.res.add(fP50, r.Name, q[0])
				b.res.add(fP99, r.Name, q[1])
				b.progress("%s: %s ×%d: %s req/s, p50 %s ms, p99 %s ms", r.Name, method, n, num(rate), num(q[0]), num(q[1]))
			}
		}
	}
}

// load runs n clients sending method to the load image's manifest for the
// configured duration, over r's keep-alive transport, after a short
// warm-up that opens every client's connection.
func (b *bench) load(ctx context.Context, r *reg, f *figure, method string, n int) (float64, []time.Duration) {
	u := r.path("/v2/" + repoManifests + "/manifests/latest").String()
	one := func() error {
		req, err := http.NewRequestWithContext(ctx, method, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", acceptMfst)
		if r.Auth != "" {
			req.Header.Set("Authorization", r.Auth)
		}
		resp, err := r.hc.Do(req)
		if err != nil {
			return &httpError{Method: method, Path: req.URL.Path, Message: err.Error()}
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			io.Copy(io.Discard, resp.Body)
			return &httpError{Method: method, Path: req.URL.Path, Status: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
		}
		var cw countWriter
		_, cerr := io.Copy(&cw, resp.Body)
		if cerr != nil {
			return &httpError{Method: method, Path: req.URL.Path, Status: resp.StatusCode, Message: cerr.Error()}
		}
		if method == http.MethodGet && cw == 0 {
			return &httpError{Method: method, Path: req.URL.Path, Status: resp.StatusCode, Message: "empty manifest body"}
		}
		return nil
	}
	var ready, done sync.WaitGroup
	startc := make(chan struct{})
	var deadline time.Time
	lats := make([][]time.Duration, n)
	for i := 0; i < n; i++ {
		ready.Add(1)
		done.Add(1)
		go func(i int) {
			defer done.Done()
			for range 3 {
				one()
			}
			ready.Done()
			<-startc
			lat := make([]time.Duration, 0, 4096)
			for {
				t0 := time.Now()
				if !t0.Before(deadline) || ctx.Err() != nil {
					break
				}
				err := one()
				if err != nil {
					b.fail(f, r, err)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			lats[i] = lat
		}(i)
	}
	ready.Wait()
	start := time.Now()
	deadline = start.Add(b.cfg.duration)
	close(startc)
	done.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	return float64(len(all)) / elapsed.Seconds(), all
}

// ---- whole small images ----

func (b *bench) smallImages(ctx context.Context, rep int) {
	c := b.cfg
	for ci, n := range c.imageClients {
		name := fmt.Sprintf("image push (config + %d × %s layers + manifest), %d client", c.layers, sizeString(c.layerSize), n)
		if n > 1 {
			name += "s"
		}
		f := b.res.fig(name, "images/s", "higher")
		// Stream seeds and digests, computed before the clock starts; the
		// same images go to both registries.
		seedOf := func(img int) uint64 {
			return 1<<40 | uint64(rep)<<32 | uint64(ci)<<24 | uint64(img)<<8
		}
		digs := make([][]string, c.images)
		for img := range digs {
			digs[img] = make([]string, c.layers)
			for l := range digs[img] {
				digs[img][l] = genDigest(seedOf(img)+uint64(l), c.layerSize)
			}
		}
		for _, r := range b.order(rep) {
			syscall.Sync()
			var next atomic.Int64
			var ok atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			for w := 0; w < n; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						img := int(next.Add(1)) - 1
						if img >= c.images || ctx.Err() != nil {
							return
						}
						tag := fmt.Sprintf("r%d-c%d-%04d", rep, n, img)
						if _, err := pushImage(ctx, r, repoImages, tag, seedOf(img), digs[img], c.layerSize); err != nil {
							b.fail(f, r, err)
							continue
						}
						ok.Add(1)
					}
				}()
			}
			wg.Wait()
			d := time.Since(start)
			if ok.Load() == 0 {
				continue
			}
			b.res.add(f, r.Name, float64(ok.Load())/d.Seconds())
			b.progress("%s: %d images with %d client(s): %s images/s", r.Name, ok.Load(), n, num(float64(ok.Load())/d.Seconds()))
		}
	}
}

// ---- tags ----

func (b *bench) tagsScenario(ctx context.Context, rep int) {
	c := b.cfg
	fPut := b.res.fig(fmt.Sprintf("tag PUT ×%d (same manifest, new tags), 1 client", c.tags), "PUT/s", "higher")
	fList := b.res.fig(fmt.Sprintf("tags/list of %d tags, all pages", c.tags), "ms", "lower")
	repo := repoTags(rep)
	for _, r := range b.order(rep) {
		m, err := pushSmallImage(ctx, r, repo, "base", 0x7a65+uint64(rep)<<8, 1, 4096)
		if err != nil {
			b.fail(fPut, r, err)
			continue
		}
		syscall.Sync()
		okc := 0
		start := time.Now()
		for i := 0; i < c.tags; i++ {
			if err := r.putManifest(ctx, repo, fmt.Sprintf("t%05d", i), m); err != nil {
				b.fail(fPut, r, err)
				continue
			}
			okc++
		}
		d := time.Since(start)
		if okc > 0 {
			b.res.add(fPut, r.Name, float64(okc)/d.Seconds())
		}
		start = time.Now()
		tags, pages, err := r.listTags(ctx, repo, c.tagsPage)
		dl := time.Since(start)
		if err == nil && len(tags) != okc+1 {
			err = fmt.Errorf("tags/list returned %d tags in %d pages, want %d", len(tags), pages, okc+1)
		}
		if err != nil {
			b.fail(fList, r, err)
			continue
		}
		b.res.add(fList, r.Name, float64(dl)/float64(time.Millisecond))
		b.progress("%s: %d tag PUTs %s/s; tags/list %d tags in %d page(s), %s ms", r.Name, okc, num(float64(okc)/d.Seconds()), len(tags), pages, num(float64(dl)/float64(time.Millisecond)))
	}
}

// ---- ECR API, Berth only ----

func (b *bench) apiTag(i int) string { return fmt.Sprintf("i%06d", i) }

// apiSetupPush fills the API repository with distinct tiny manifests: the
// same config and layer, different annotations, each under its own tag.
func (b *bench) apiSetupPush(ctx context.Context) error {
	c := b.cfg
	r := b.berth
	var f *figure // failures are listed without a figure
	if _, err := pushSmallImage(ctx, r, repoAPI, "base", 0xa91, 1, 1024); err != nil {
		return fmt.Errorf("Berth: pushing the API repository's base image: %w", err)
	}
	ld := genDigest(0xa91, 1024)
	ls := []descriptor{{MediaType: mtLayer, Digest: ld, Size: 1024}}
	cfg := configBlob("base", ls)
	cd := descriptor{MediaType: mtConfig, Digest: bytesDigest(cfg), Size: int64(len(cfg))}
	b.progress("Berth: pushing %d manifests to %s with %d clients", c.apiImages, repoAPI, c.apiClients)
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c.apiClients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= c.apiImages || ctx.Err() != nil {
					return
				}
				m := manifestBlob(cd, ls, map[string]string{"org.example.bench.index": fmt.Sprint(i)})
				if err := r.putManifest(ctx, repoAPI, b.apiTag(i), m); err != nil {
					failed.Add(1)
					b.fail(f, r, err)
				}
			}
		}()
	}
	wg.Wait()
	b.apiSetup = time.Since(start)
	if failed.Load() > 0 {
		return fmt.Errorf("Berth: %d of %d manifest PUTs into %s failed", failed.Load(), c.apiImages, repoAPI)
	}
	b.progress("Berth: %d manifests in %s (%s PUT/s)", c.apiImages, b.apiSetup.Round(time.Millisecond), num(float64(c.apiImages)/b.apiSetup.Seconds()))
	return nil
}

func (b *bench) apiScenario(ctx context.Context, rep int) {
	c := b.cfg
	r := b.berth
	total := c.apiImages + 1 // and the base image
	fPage := b.res.fig(fmt.Sprintf("DescribeImages, one page of maxResults=%d (repo of %d images)", c.apiPage, total), "ms/call", "lower")
	fWalk := b.res.fig(fmt.Sprintf("DescribeImages, all pages of %d images", total), "ms", "lower")
	fBatch := b.res.fig(fmt.Sprintf("BatchGetImage of %d image ids (tags)", c.batch), "ms/call", "lower")
	fSetup := b.res.fig(fmt.Sprintf("setup: %d manifest PUTs (tiny, distinct), %d clients, once", c.apiImages, c.apiClients), "PUT/s", "higher")
	for _, f := range []*figure{fPage, fWalk, fBatch, fSetup} {
		f.BerthOnly = true
	}
	if rep == 0 && b.apiSetup > 0 {
		b.res.add(fSetup, r.Name, float64(c.apiImages)/b.apiSetup.Seconds())
	}
	var calls []float64
	seen := 0
	var token *string
	start := time.Now()
	for {
		t0 := time.Now()
		out, err := r.ecr.DescribeImages(ctx, &ecr.DescribeImagesInput{
			RepositoryName: aws.String(repoAPI),
			MaxResults:     aws.Int32(int32(c.apiPage)),
			NextToken:      token,
		})
		if err != nil {
			b.fail(fPage, r, fmt.Errorf("DescribeImages: %w", err))
			break
		}
		calls = append(calls, float64(time.Since(t0))/float64(time.Millisecond))
		seen += len(out.ImageDetails)
		if token = out.NextToken; token == nil {
			break
		}
	}
	walk := time.Since(start)
	if seen != total {
		b.fail(fWalk, r, fmt.Errorf("DescribeImages: walked %d images, want %d", seen, total))
	} else {
		b.res.add(fWalk, r.Name, float64(walk)/float64(time.Millisecond))
	}
	if len(calls) > 0 {
		b.res.add(fPage, r.Name, summarize(calls).Median)
	}
	rng := rand.New(rand.NewPCG(uint64(rep), 0xba7c4))
	var bcalls []float64
	for k := 0; k < c.batchCalls; k++ {
		ids := make([]ecrtypes.ImageIdentifier, 0, c.batch)
		for _, i := range rng.Perm(c.apiImages)[:c.batch] {
			ids = append(ids, ecrtypes.ImageIdentifier{ImageTag: aws.String(b.apiTag(i))})
		}
		t0 := time.Now()
		out, err := r.ecr.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repoAPI), ImageIds: ids})
		d := time.Since(t0)
		if err == nil && (len(out.Images) != c.batch || len(out.Failures) != 0) {
			err = fmt.Errorf("got %d images and %d failures, want %d images", len(out.Images), len(out.Failures), c.batch)
		}
		if err != nil {
			b.fail(fBatch, r, fmt.Errorf("BatchGetImage: %w", err))
			continue
		}
		bcalls = append(bcalls, float64(d)/float64(time.Millisecond))
	}
	if len(bcalls) > 0 {
		b.res.add(fBatch, r.Name, summarize(bcalls).Median)
	}
	b.progress("Berth: DescribeImages %d calls, %s ms/page, walk %s ms; BatchGetImage %s ms/call",
		len(calls), num(last(fPage.berth)), num(last(fWalk.berth)), num(last(fBatch.berth)))
}
