package inventory

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// The inventory of a large image, measured: time and the peak resident
// memory of a process that does nothing else. Opt in, as it writes and
// reads a gigabyte:
//
//	BERTH_INVENTORY_LARGE_MIB=1024 go test -run TestLargeImage -v ./internal/scan/inventory
//
// BERTH_INVENTORY_LARGE_DIR keeps the generated image between runs.
func TestLargeImage(t *testing.T) {
	mib, _ := strconv.Atoi(os.Getenv("BERTH_INVENTORY_LARGE_MIB"))
	if mib <= 0 {
		t.Skip("set BERTH_INVENTORY_LARGE_MIB (e.g. 1024) to measure the inventory of a large image")
	}
	dir := os.Getenv("BERTH_INVENTORY_LARGE_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, fmt.Sprintf("image-%dmib", mib))
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		start := time.Now()
		must(t, os.MkdirAll(dir, 0o755))
		writeLargeImage(t, dir, int64(mib)<<20)
		t.Logf("generated the image in %s", time.Since(start).Round(time.Second))
	}
	var blobBytes int64
	entries, err := os.ReadDir(filepath.Join(dir, "blobs"))
	must(t, err)
	for _, e := range entries {
		info, err := e.Info()
		must(t, err)
		blobBytes += info.Size()
	}
	info, _ := os.ReadFile(filepath.Join(dir, "info.txt"))
	t.Logf("image: %d blobs, %.1f MiB; %s", len(entries), float64(blobBytes)/(1<<20), info)

	// Each measurement is a child process, so that its peak memory is the
	// inventory's and not the generator's.
	baseline := runChild(t, dir, "baseline")
	run := runChild(t, dir, "inventory")
	t.Logf("baseline (test binary, source opened, no inventory): max RSS %.1f MiB", float64(baseline.maxRSS)/(1<<20))
	t.Logf("inventory: %s wall, %s user+sys CPU, max RSS %.1f MiB; %s",
		run.wall.Round(time.Millisecond), run.cpu.Round(time.Millisecond), float64(run.maxRSS)/(1<<20), run.report)
}

type childRun struct {
	wall, cpu time.Duration
	maxRSS    int64
	report    string
}

func runChild(t *testing.T, dir, mode string) childRun {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLargeImageChild$", "-test.v")
	cmd.Env = append(os.Environ(), "BERTH_INVENTORY_CHILD="+mode, "BERTH_INVENTORY_CHILD_DIR="+dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("child %s: %v\n%s", mode, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	r := childRun{
		wall:   wall,
		cpu:    cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(),
		maxRSS: ru.Maxrss * 1024, // kilobytes on Linux
	}
	for _, line := range strings.Split(string(out), "\n") {
		if _, after, ok := strings.Cut(line, "REPORT "); ok {
			r.report = after + r.report
		}
		if _, after, ok := strings.Cut(line, "msg=\"inventory taken\" "); ok {
			r.report += "\n    " + after
		}
	}
	return r
}

// TestLargeImageChild is the measured process of TestLargeImage.
func TestLargeImageChild(t *testing.T) {
	mode, dir := os.Getenv("BERTH_INVENTORY_CHILD"), os.Getenv("BERTH_INVENTORY_CHILD_DIR")
	if mode == "" {
		t.Skip("run by TestLargeImage")
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	must(t, err)
	src := Source{Blobs: dirBlobs(filepath.Join(dir, "blobs"))}
	if mode == "baseline" {
		return
	}
	var peakHeap uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	scratch := t.TempDir()
	start := time.Now()
	res, err := Take(context.Background(), src, manifest, MediaTypeOCIManifest, Options{ScratchDir: scratch, Logger: testLogger(t)})
	took := time.Since(start)
	close(stop)
	<-sampled
	must(t, err)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	img := res.Images[0]
	fmt.Printf("REPORT %d layers, %d packages, took %s, peak heap in use %.1f MiB, allocated %.1f MiB in all, %d GC cycles\n",
		img.Layers, len(img.Packages), took.Round(time.Millisecond), float64(peakHeap)/(1<<20), float64(ms.TotalAlloc)/(1<<20), ms.NumGC)
	for _, w := range []string{"Debian:12 libssl3 3.0.17-1~deb12u2", "Go golang.org/x/text 0.3.0", "npm lodash 4.17.15", "PyPI urllib3 1.24.1"} {
		if _, ok := keys(img.Packages)[w]; !ok {
			t.Errorf("missing %s", w)
		}
	}
}

// dirBlobs is a Blobs over files named by their digests' hex.
type dirBlobs string

func (d dirBlobs) Open(_ context.Context, dg digest.Digest) (io.ReadSeekCloser, int64, error) {
	f, err := os.Open(filepath.Join(string(d), dg.Encoded()))
	if err != nil {
		return nil, 0, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, info.Size(), nil
}

// writeLargeImage writes an image of about size compressed bytes into
// dir: eight gzip'd layers of many files (small and medium, half random
// bytes and half text, which compresses as source code does), the Debian
// root and the packages of TestImage, a hundred MiB binary that is not a
// Go one (it is spooled and read, the worst case), and, in the top layer,
// whiteouts of a tenth of the files below. No layer is ever in memory.
func writeLargeImage(t *testing.T, dir string, size int64) {
	t.Helper()
	blobs := filepath.Join(dir, "blobs")
	must(t, os.MkdirAll(blobs, 0o755))
	chacha := rand.NewChaCha8([32]byte{1})
	rng := rand.New(chacha)
	const layers = 8
	perLayer := size / (layers - 1) // the top layer holds whiteouts only
	files := 0
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
	}
	var layerDescs []desc
	var diffIDs []string
	var deleted []string
	for l := range layers {
		lw := newLayerWriter(t, blobs)
		var extra []entry
		switch l {
		case 0:
			extra = debianRoot(t)
		case layers - 2:
			extra = []entry{
				exe("usr/local/bin/app", goBinary(t)),
				distInfo(site, "requests", "2.19.0"),
				distInfo(site, "urllib3", "1.24.1"),
				npmPackage(nm, "lodash", "4.17.15"),
				npmPackage(nm, "minimist", "1.2.0"),
			}
			for i := range 2000 {
				extra = append(extra, npmPackage(nm, fmt.Sprintf("dep-%04d", i), "1.0.0"))
			}
		case layers - 1:
			for _, p := range deleted {
				d, b := splitName(p)
				extra = append(extra, whiteout(d, b))
			}
		}
		for _, e := range extra {
			lw.addEntry(e)
		}
		if l == 1 {
			lw.add("opt/vendor/bin/huge", 0o755, io.MultiReader(strings.NewReader("\x7fELF"), io.LimitReader(chacha, 100<<20-4)), 100<<20)
		}
		for i := 0; lw.compressed() < perLayer && l < layers-1; i++ {
			name := fmt.Sprintf("srv/data/l%d/d%03d/f%06d", l, i%500, i)
			n := int64(rng.ExpFloat64() * 12 * 1024) // mean 12 KiB
			var r io.Reader = io.LimitReader(chacha, n)
			if i%2 == 1 {
				r = &letters{rng: rng, left: n}
			}
			lw.add(name, 0o644, r, n)
			files++
			if i%10 == 3 {
				deleted = append(deleted, name)
			}
		}
		d, diffID, n := lw.close()
		layerDescs = append(layerDescs, desc{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: d, Size: n})
		diffIDs = append(diffIDs, diffID)
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	must(t, err)
	cd := digest.FromBytes(config)
	must(t, os.WriteFile(filepath.Join(blobs, cd.Encoded()), config, 0o644))
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": MediaTypeOCIManifest,
		"config": desc{MediaType: "application/vnd.oci.image.config.v1+json", Digest: cd.String(), Size: int64(len(config))},
		"layers": layerDescs,
	})
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o644))
	info := fmt.Sprintf("%d layers, %d data files, %d of them deleted by whiteouts in the top layer, plus the packages' files and a 100 MiB executable", layers, files, len(deleted))
	must(t, os.WriteFile(filepath.Join(dir, "info.txt"), []byte(info), 0o644))
}

// letters are random lowercase words: text that gzip shrinks by about
// half, as it does source code and documentation.
type letters struct {
	rng  *rand.Rand
	left int64
}

func (l *letters) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	for i := range p {
		if c := l.rng.IntN(32); c < 26 {
			p[i] = byte('a' + c)
		} else {
			p[i] = ' '
		}
	}
	l.left -= int64(len(p))
	return len(p), nil
}

// layerWriter streams a tar, gzip'd, to a file, hashing both.
type layerWriter struct {
	t        testing.TB
	f        *os.File
	count    *countWriter
	blobHash hash.Hash
	diffHash hash.Hash
	zw       *gzip.Writer
	tw       *tar.Writer
	dirs     map[string]bool
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newLayerWriter(t testing.TB, dir string) *layerWriter {
	f, err := os.CreateTemp(dir, "layer-")
	must(t, err)
	lw := &layerWriter{t: t, f: f, blobHash: sha256.New(), diffHash: sha256.New(), dirs: map[string]bool{}}
	lw.count = &countWriter{w: io.MultiWriter(f, lw.blobHash)}
	lw.zw, err = gzip.NewWriterLevel(lw.count, gzip.BestSpeed)
	must(t, err)
	lw.tw = tar.NewWriter(io.MultiWriter(lw.zw, lw.diffHash))
	return lw
}

func (lw *layerWriter) compressed() int64 { return lw.count.n }

func (lw *layerWriter) addEntry(e entry) {
	switch e.typ {
	case tar.TypeDir, tar.TypeSymlink:
		lw.parents(e.name)
		must(lw.t, lw.tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, ModTime: time.Unix(0, 0)}))
	default:
		lw.add(e.name, e.mode, strings.NewReader(string(e.body)), int64(len(e.body)))
	}
}

func (lw *layerWriter) add(name string, mode int64, r io.Reader, size int64) {
	lw.parents(name)
	must(lw.t, lw.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: size, ModTime: time.Unix(0, 0)}))
	_, err := io.Copy(lw.tw, r)
	must(lw.t, err)
}

func (lw *layerWriter) parents(name string) {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		d := strings.Join(parts[:i], "/") + "/"
		if !lw.dirs[d] {
			lw.dirs[d] = true
			must(lw.t, lw.tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)}))
		}
	}
}

// close finishes the layer and names its file by its digest.
func (lw *layerWriter) close() (blobDigest, diffID string, size int64) {
	must(lw.t, lw.tw.Close())
	must(lw.t, lw.zw.Close())
	must(lw.t, lw.f.Close())
	hexDigest := hex.EncodeToString(lw.blobHash.Sum(nil))
	must(lw.t, os.Rename(lw.f.Name(), filepath.Join(filepath.Dir(lw.f.Name()), hexDigest)))
	return "sha256:" + hexDigest, "sha256:" + hex.EncodeToString(lw.diffHash.Sum(nil)), lw.count.n
}
