// Command bench measures Berth and CNCF Distribution side by side in one
// run: each scenario runs against both registries back to back, the order
// alternating per repetition, and the report gives each figure's median,
// its spread over the repetitions and the Berth/Distribution ratio, next to
// the machine's own limits measured in the same run.
//
// scripts/bench starts both registries and runs this program; see
// bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	berthURL, distURL   string
	berthPID, distPID   int
	berthData, distData string
	berthLog, distLog   string
	distVersion         string
	berthRev            string
	workdir             string
	region              string

	reps          int
	blobSize      int64
	chunkSize     int64
	duration      time.Duration
	clients       []int
	images        int
	imageClients  []int
	layerSize     int64
	layers        int
	tags          int
	tagsPage      int
	apiImages     int
	apiPage       int
	apiClients    int
	batch         int
	batchCalls    int
	limitSize     int64
	loopbackRound int
	jsonPath      string
	timeout       time.Duration
	only          map[string]bool // scenarios to run; empty: all but gc
	prefault      bool

	// Storage, as the report describes it.
	berthStorage, distStorage string

	// The garbage collection scenario runs the registries' own collectors.
	gcBlobs    int
	gcBlobSize int64
	berthBin   string // berth, for `berth admin gc`
	distBin    string // Distribution's registry, for `registry garbage-collect`
	distConfig string // Distribution's config file
}

// scenarioNames are what -only accepts, in the order a repetition runs them.
var scenarioNames = []string{"limits", "blobs", "manifests", "images", "tags", "api", "gc"}

// runs reports whether scenario name is part of this run. gc runs only
// when named: it needs the registries' binaries (scripts/bench passes them).
func (c *config) runs(name string) bool {
	if len(c.only) == 0 {
		return name != "gc"
	}
	return c.only[name]
}

func main() {
	os.Exit(run())
}

func run() int {
	var c config
	var clients, imageClients, blobSize, chunkSize, layerSize, limitSize, gcBlobSize, only string
	flag.StringVar(&c.berthURL, "berth", "", "Berth base URL (http://127.0.0.1:PORT)")
	flag.StringVar(&c.distURL, "dist", "", "Distribution base URL (http://127.0.0.1:PORT)")
	flag.IntVar(&c.berthPID, "berth-pid", 0, "Berth's process id, for its RSS")
	flag.IntVar(&c.distPID, "dist-pid", 0, "Distribution's process id, for its RSS")
	flag.StringVar(&c.berthData, "berth-data", "", "Berth's data directory (for the report)")
	flag.StringVar(&c.distData, "dist-data", "", "Distribution's storage directory (for the report)")
	flag.StringVar(&c.berthLog, "berth-log", "", "Berth's log file, scanned for errors at the end")
	flag.StringVar(&c.distLog, "dist-log", "", "Distribution's log file, scanned for errors at the end")
	flag.StringVar(&c.distVersion, "dist-version", "v3", "Distribution version (for the report)")
	flag.StringVar(&c.berthRev, "berth-rev", "", "which Berth this is, e.g. a commit (for the report)")
	flag.StringVar(&c.workdir, "workdir", os.TempDir(), "directory on the registries' filesystem for the fsync test")
	flag.StringVar(&c.region, "region", "us-east-1", "Berth's region")
	flag.IntVar(&c.reps, "reps", 5, "interleaved repetitions")
	flag.StringVar(&blobSize, "blob-size", "256MiB", "size of the large blob")
	flag.StringVar(&chunkSize, "chunk-size", "8MiB", "PATCH chunk size of the chunked push")
	flag.DurationVar(&c.duration, "duration", 2*time.Second, "how long each manifest HEAD/GET load runs")
	flag.StringVar(&clients, "clients", "1,16,64", "concurrent clients of the manifest HEAD/GET loads")
	flag.IntVar(&c.images, "images", 96, "small images pushed per measurement")
	flag.StringVar(&imageClients, "image-clients", "1,8", "concurrent clients of the small-image push")
	flag.StringVar(&layerSize, "layer-size", "1MiB", "layer size of the small images")
	flag.IntVar(&c.layers, "layers", 3, "layers per small image")
	flag.IntVar(&c.tags, "tags", 2000, "tag PUTs before tags/list")
	flag.IntVar(&c.tagsPage, "tags-page", 0, "n of the first tags/list request (0: none, the registry's default)")
	flag.IntVar(&c.apiImages, "api-images", 10000, "images in the repository DescribeImages walks")
	flag.IntVar(&c.apiPage, "api-page", 1000, "DescribeImages maxResults")
	flag.IntVar(&c.apiClients, "api-clients", 8, "concurrent clients pushing the API repository's manifests")
	flag.IntVar(&c.batch, "batch", 100, "image ids per BatchGetImage")
	flag.IntVar(&c.batchCalls, "batch-calls", 10, "BatchGetImage calls per repetition")
	flag.StringVar(&limitSize, "limit-size", "256MiB", "buffer size of the sha256 and fsync limits")
	flag.IntVar(&c.loopbackRound, "loopback-rounds", 4, "times the limit buffer is sent over loopback TCP")
	flag.StringVar(&c.jsonPath, "json", "", "also write the report as JSON to this file")
	flag.DurationVar(&c.timeout, "timeout", 30*time.Minute, "give up after this long")
	flag.BoolVar(&c.prefault, "prefault", true, "touch the free memory once before measuring (see bench/prefault.go)")
	flag.StringVar(&only, "only", "", "run only these scenarios, comma-separated: "+strings.Join(scenarioNames, ",")+" (default: all but gc)")
	flag.StringVar(&c.berthStorage, "berth-storage", "embedded default (SQLite, local files)", "Berth's storage (for the report)")
	flag.StringVar(&c.distStorage, "dist-storage", "filesystem storage driver", "Distribution's storage (for the report)")
	flag.IntVar(&c.gcBlobs, "gc-blobs", 10000, "unreferenced blobs the gc scenario collects")
	flag.StringVar(&gcBlobSize, "gc-blob-size", "4KiB", "size of each of them")
	flag.StringVar(&c.berthBin, "berth-bin", "", "Berth's binary, for berth admin gc (gc scenario)")
	flag.StringVar(&c.distBin, "dist-bin", "", "Distribution's registry binary, for registry garbage-collect (gc scenario)")
	flag.StringVar(&c.distConfig, "dist-config", "", "Distribution's config file (gc scenario)")
	flag.Parse()

	var err error
	for _, p := range []struct {
		s string
		v *int64
	}{{blobSize, &c.blobSize}, {chunkSize, &c.chunkSize}, {layerSize, &c.layerSize}, {limitSize, &c.limitSize}, {gcBlobSize, &c.gcBlobSize}} {
		if *p.v, err = parseSize(p.s); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 2
		}
	}
	if c.clients, err = parseInts(clients); err == nil {
		c.imageClients, err = parseInts(imageClients)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	if only != "" {
		c.only = map[string]bool{}
		for _, n := range strings.Split(only, ",") {
			n = strings.TrimSpace(n)
			if !slices.Contains(scenarioNames, n) {
				fmt.Fprintf(os.Stderr, "bench: -only: unknown scenario %q (want some of %s)\n", n, strings.Join(scenarioNames, ","))
				return 2
			}
			c.only[n] = true
		}
	}
	if c.berthURL == "" || c.distURL == "" {
		fmt.Fprintln(os.Stderr, "bench: -berth and -dist are required (scripts/bench starts both registries and passes them)")
		return 2
	}
	if c.reps < 1 || c.batch > c.apiImages || c.chunkSize <= 0 || c.blobSize <= 0 {
		fmt.Fprintln(os.Stderr, "bench: need -reps ≥ 1, -batch ≤ -api-images, positive sizes")
		return 2
	}
	if c.runs("gc") && (c.berthBin == "" || c.distBin == "" || c.distConfig == "" || c.berthData == "" || c.gcBlobs < 1) {
		fmt.Fprintln(os.Stderr, "bench: the gc scenario needs -berth-bin, -berth-data, -dist-bin, -dist-config and -gc-blobs ≥ 1")
		return 2
	}
	akid, secret := os.Getenv("BERTH_ACCESS_KEY_ID"), os.Getenv("BERTH_SECRET_ACCESS_KEY")
	if akid == "" || secret == "" {
		fmt.Fprintln(os.Stderr, "bench: BERTH_ACCESS_KEY_ID and BERTH_SECRET_ACCESS_KEY must hold Berth's root credentials")
		return 2
	}

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	b := &bench{cfg: c, res: newResults(), start: time.Now(), reportedKiB: -1}
	maxConns := max(128, maxInt(c.clients)*2)
	if b.berth, err = newReg("Berth", c.berthURL, c.berthPID, maxConns); err == nil {
		b.dist, err = newReg("Distribution", c.distURL, c.distPID, maxConns)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	if err := b.berth.loginBerth(ctx, c.region, akid, secret); err != nil {
		fmt.Fprintln(os.Stderr, "bench: logging in to Berth:", err)
		return 1
	}
	b.progress("logged in to Berth with GetAuthorizationToken (SigV4)")
	if err := b.run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		b.fatal = err.Error()
		b.report()
		return 1
	}
	code := b.report()
	return code
}

func maxInt(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a list of positive numbers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseSize reads 256MiB, 8MiB, 4096, 1GiB, 512KiB.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suf) {
			t, mult = strings.TrimSuffix(t, u.suf), u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number with an optional KiB/MiB/GiB", s)
	}
	return n * mult, nil
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func sameFilesystem(paths ...string) (bool, error) {
	var dev uint64
	for i, p := range paths {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			return false, err
		}
		if i > 0 && uint64(st.Dev) != dev {
			return false, nil
		}
		dev = uint64(st.Dev)
	}
	return true, nil
}
