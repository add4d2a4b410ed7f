package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

func runCmd(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}

// sample is one measurement of one scanner on one image.
type sample struct {
	total  time.Duration // Berth: push start → COMPLETE; osv-scanner: its run
	push   time.Duration // Berth: the push alone
	cpu    time.Duration
	maxRSS int64
	// rssBefore is Berth's resident memory before the push.
	rssBefore int64
}

// runBench measures, for the real-content image and a large one, Berth's
// push → COMPLETE against osv-scanner's run on the image's archive, each
// with its peak resident memory, o.reps times, the two back to back with
// the first alternating.
func runBench(ctx context.Context, o options, b *berth, real *image, dbDir string, importTook time.Duration, counts string) error {
	started := time.Now()
	images := []*image{real}
	if o.largeMiB > 0 {
		t := time.Now()
		large, err := buildLargeImage(o, real)
		if err != nil {
			return err
		}
		log.Printf("generated %s in %s", large, time.Since(t).Round(time.Second))
		images = append(images, large)
	}
	type row struct {
		img          *image
		berth, osv   []sample
		berthSame    bool
		osvSame      bool
		berthFinding int
		osvFinding   int
	}
	var rows []*row
	var loads []string // the 1-minute load average before each repetition
	realBerth, realOSV := set(nil), set(nil)
	for _, img := range images {
		r := &row{img: img, berthSame: true, osvSame: true}
		rows = append(rows, r)
		for rep := range o.reps {
			if avg, err := os.ReadFile("/proc/loadavg"); err == nil {
				loads = append(loads, strings.Fields(string(avg))[0])
			}
			berthFirst := rep%2 == 0
			for _, side := range []bool{berthFirst, !berthFirst} {
				if side {
					repo := fmt.Sprintf("bench-%s-%d", img.name, rep)
					s, found, err := measureBerth(ctx, b, img, repo)
					if err != nil {
						return err
					}
					log.Printf("%s rep %d, Berth: push → COMPLETE %s (push %s), peak RSS %.1f MiB, %d findings",
						img.name, rep+1, s.total.Round(time.Millisecond), s.push.Round(time.Millisecond), mib(s.maxRSS), len(found))
					r.berth = append(r.berth, s)
					r.berthFinding = len(found)
					if realBerth == nil {
						realBerth = found
					} else if !sameSet(realBerth, found) {
						r.berthSame = false
					}
				} else {
					run, err := runOSVScanner(ctx, o.osvScanner, img.archive, dbDir, filepath.Join(o.work, "osv-scanner-bench.json"))
					if err != nil {
						return err
					}
					log.Printf("%s rep %d, osv-scanner: %s, peak RSS %.1f MiB, %d findings",
						img.name, rep+1, run.wall.Round(time.Millisecond), mib(run.maxRSS), len(run.set))
					r.osv = append(r.osv, sample{total: run.wall, cpu: run.cpu, maxRSS: run.maxRSS})
					r.osvFinding = len(run.set)
					if realOSV == nil {
						realOSV = run.set
					} else if !sameSet(realOSV, run.set) {
						r.osvSame = false
					}
				}
			}
		}
	}

	// The report.
	fmt.Printf("\nBerth's scan vs osv-scanner, same images, same OSV data\n")
	fmt.Printf("date:        %s (took %s)\n", time.Now().UTC().Format(time.RFC3339), time.Since(started).Round(time.Second))
	fmt.Printf("machine:     nproc %d (%s), memory %s, %s/%s\n", runtime.NumCPU(), cpuModel(), memTotal(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("repetitions: %d, Berth and osv-scanner back to back, the first alternating\n", o.reps)
	fmt.Printf("noise:       1-min load average before each repetition %s (other work on the machine shows here)\n", strings.Join(loads, ", "))
	fmt.Printf("data:        %s (golang.org/x/vulndb %s and hand-written records); berth vulndb import took %s\n",
		counts, o.goVulnDBVersion, importTook.Round(time.Millisecond))
	fmt.Printf("Berth:       berth serve (SQLite, local files) on loopback; a new repository per push, scan on push;\n")
	fmt.Printf("             time from the first blob upload to the first DescribeImageScanFindings that says COMPLETE (polled every 50 ms);\n")
	fmt.Printf("             peak RSS = the server's VmHWM, reset before the push (push and scan)\n")
	out, _ := runCmd(ctx, o.osvScanner, "--version")
	fmt.Printf("osv-scanner: %s scan image --archive --offline (the same zips); wall time and max RSS of the process\n",
		strings.TrimPrefix(strings.SplitN(string(out), "\n", 2)[0], "osv-scanner version: "))
	fmt.Printf("units:       median (min–max) over the repetitions; ratio = Berth / osv-scanner\n")
	for _, r := range rows {
		fmt.Printf("image:       %s\n", r.img)
	}
	fmt.Println()
	tw := newTable("image", "figure", "unit", "Berth", "osv-scanner", "ratio")
	for _, r := range rows {
		name := r.img.name
		bt, ot := durations(r.berth, func(s sample) time.Duration { return s.total }), durations(r.osv, func(s sample) time.Duration { return s.total })
		tw.add(name, "push → COMPLETE / osv-scanner run", "s", spread(bt), spread(ot), ratioF(medianF(bt), medianF(ot)))
		bp := durations(r.berth, func(s sample) time.Duration { return s.push })
		bs := durations(r.berth, func(s sample) time.Duration { return s.total - s.push })
		tw.add("", "of which the push", "s", spread(bp), "—", "")
		tw.add("", "of which the scan (push answered → COMPLETE)", "s", spread(bs), "—", ratioF(medianF(bs), medianF(ot)))
		bc, oc := durations(r.berth, func(s sample) time.Duration { return s.cpu }), durations(r.osv, func(s sample) time.Duration { return s.cpu })
		tw.add("", "CPU (user + system)", "s", spread(bc), spread(oc), ratioF(medianF(bc), medianF(oc)))
		br, or := sizes(r.berth, func(s sample) int64 { return s.maxRSS }), sizes(r.osv, func(s sample) int64 { return s.maxRSS })
		tw.add("", "peak RSS (Berth: the server during push and scan)", "MiB", spread(br), spread(or), ratioF(medianF(br), medianF(or)))
		tw.add("", "RSS of the idle server before the push", "MiB", spread(sizes(r.berth, func(s sample) int64 { return s.rssBefore })), "—", "")
		tw.add("", "findings (the same set in every run of both images?)", "", fmt.Sprintf("%d (%s)", r.berthFinding, yesNo(r.berthSame)),
			fmt.Sprintf("%d (%s)", r.osvFinding, yesNo(r.osvSame)), "")
	}
	tw.print(os.Stdout)
	for _, r := range rows {
		if !r.berthSame || !r.osvSame {
			return fmt.Errorf("%s: a scanner's findings differ between repetitions or from the real-content image's", r.img.name)
		}
	}
	return nil
}

// measureBerth pushes img to a new repository and waits for its scan,
// watching the server's memory and CPU.
func measureBerth(ctx context.Context, b *berth, img *image, repo string) (sample, set, error) {
	var s sample
	// Forget the server's peak so far: VmHWM then counts from here.
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", b.pid), []byte("5"), 0); err != nil {
		return s, nil, fmt.Errorf("resetting Berth's peak RSS: %w", err)
	}
	cpu0, err := procCPU(b.pid)
	if err != nil {
		return s, nil, err
	}
	before, err := procStatus(b.pid, "VmRSS")
	if err != nil {
		return s, nil, err
	}
	digest, t, err := b.pushAndWait(ctx, img, repo, "v1", map[string]string{"berth.bench.repository": repo})
	if err != nil {
		return s, nil, err
	}
	cpu1, err := procCPU(b.pid)
	if err != nil {
		return s, nil, err
	}
	hwm, err := procStatus(b.pid, "VmHWM")
	if err != nil {
		return s, nil, err
	}
	s = sample{total: t.complete, push: t.pushed, cpu: cpu1 - cpu0, maxRSS: hwm, rssBefore: before}
	found, err := b.findingSet(ctx, repo, digest)
	return s, found, err
}

func procStatus(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// procCPU is a process's user + system time so far.
func procCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100, nil // USER_HZ
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

func sameSet(a, b set) bool {
	if len(a) != len(b) {
		return false
	}
	for f := range a {
		if _, ok := b[f]; !ok {
			return false
		}
	}
	return true
}

// buildLargeImage is the real-content image with layers of generated data
// on top, up to mib MiB compressed: files of 12 KiB on average, half random
// bytes and half text, as large_test.go in internal/scan/inventory makes
// them. The findings stay those of the real-content image.
func buildLargeImage(o options, real *image) (*image, error) {
	dir := filepath.Join(o.work, "large")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	img := &image{name: fmt.Sprintf("large-%dmib", o.largeMiB), layers: append([]layer(nil), real.layers...)}
	var have int64
	for _, l := range img.layers {
		have += l.size
	}
	const fillers = 6
	per := (int64(o.largeMiB)<<20 - have) / fillers
	chacha := rand.NewChaCha8([32]byte{7})
	rng := rand.New(chacha)
	files := 0
	for l := range fillers {
		lw, err := newLayerWriter(filepath.Join(dir, fmt.Sprintf("layer-data-%d", l)))
		if err != nil {
			return nil, err
		}
		for i := 0; lw.count < per; i++ {
			name := fmt.Sprintf("srv/data/l%d/d%03d/f%06d", l, i%500, i)
			n := int64(rng.ExpFloat64() * 12 * 1024)
			var r io.Reader = io.LimitReader(chacha, n)
			if i%2 == 1 {
				r = &letters{rng: rng, left: n}
			}
			if err := lw.file(name, 0o644, r, n); err != nil {
				return nil, err
			}
			files++
		}
		ly, err := lw.close()
		if err != nil {
			return nil, err
		}
		img.layers = append(img.layers, ly)
	}
	img.note = fmt.Sprintf("the real-content image's 3 layers and %d layers of %d generated files", fillers, files)
	if err := img.writeArchive(filepath.Join(dir, "image.tar"), "berth.test/large:v1"); err != nil {
		return nil, err
	}
	return img, nil
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

// ---- statistics and the table ----

func durations(ss []sample, f func(sample) time.Duration) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = f(s).Seconds()
	}
	return out
}

func sizes(ss []sample, f func(sample) int64) []float64 {
	out := make([]float64, len(ss))
	for i, s := range ss {
		out[i] = mib(f(s))
	}
	return out
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func medianF(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func spread(v []float64) string {
	if len(v) == 0 {
		return "—"
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return fmt.Sprintf("%s (%s–%s)", num(medianF(s)), num(s[0]), num(s[len(s)-1]))
}

func num(f float64) string {
	switch {
	case f >= 100:
		return strconv.FormatFloat(f, 'f', 0, 64)
	case f >= 10:
		return strconv.FormatFloat(f, 'f', 1, 64)
	default:
		return strconv.FormatFloat(f, 'f', 2, 64)
	}
}

func ratioF(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64)
}

type table struct{ rows [][]string }

func newTable(header ...string) *table { return &table{rows: [][]string{header}} }

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) print(w io.Writer) {
	widths := make([]int, len(t.rows[0]))
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for n, r := range t.rows {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c + strings.Repeat(" ", widths[i]-len([]rune(c))+2))
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if n == 0 {
			var d strings.Builder
			for i := range widths {
				d.WriteString(strings.Repeat("-", widths[i]) + "  ")
			}
			fmt.Fprintln(w, strings.TrimRight(d.String(), " "))
		}
	}
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "?"
}

func memTotal() string {
	data, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return fmt.Sprintf("%.1f GiB", kb/(1<<20))
		}
	}
	return "?"
}
