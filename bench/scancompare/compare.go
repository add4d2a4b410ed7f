package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// finding is what the two scanners are compared on: a package (by its
// ecosystem without the release, its name as installed and its version)
// and the id of the OSV record that affects it.
type finding struct {
	ecosystem, pkg, version, id string
}

func (f finding) String() string {
	return fmt.Sprintf("%s %s %s %s", f.ecosystem, f.pkg, f.version, f.id)
}

// set maps each finding to a note for the report (a severity, "unimportant").
type set map[finding]string

var pep503 = regexp.MustCompile(`[-_.]+`)

// add puts f in the set in one spelling for both scanners: the ecosystem
// without its release ("Debian:12" is "Debian"), and a PyPI name as PEP 503
// normalises it (an installed dist-info says "Django", osv-scanner reports
// "django"; both are the same package).
func (s set) add(f finding, note string) {
	f.ecosystem, _, _ = strings.Cut(f.ecosystem, ":")
	if f.ecosystem == "PyPI" {
		f.pkg = strings.ToLower(pep503.ReplaceAllString(f.pkg, "-"))
	}
	s[f] = note
}

func (s set) sorted() []finding {
	out := make([]finding, 0, len(s))
	for f := range s {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

func writeSet(path string, s set) error {
	var b strings.Builder
	for _, f := range s.sorted() {
		fmt.Fprintf(&b, "%s\t%s\n", f, s[f])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// osvRun is one run of osv-scanner.
type osvRun struct {
	set    set
	wall   time.Duration
	cpu    time.Duration
	maxRSS int64 // bytes
}

// runOSVScanner scans a docker archive offline with the zips under
// dbDir/osv-scalibr, and reads its JSON report.
func runOSVScanner(ctx context.Context, bin, archive, dbDir, out string) (*osvRun, error) {
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, bin, "scan", "image", "--archive", "--offline", "--local-db-path", dbDir,
		"--format", "json", "--output-file", out, archive)
	cmd.Stderr = &stderr
	// Its image layers are unpacked under the temporary directory.
	cmd.Env = append(os.Environ(), "TMPDIR="+dbDir)
	start := time.Now()
	err := cmd.Run()
	run := &osvRun{wall: time.Since(start)}
	var exit *exec.ExitError
	// 1 is "vulnerabilities found".
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		return nil, fmt.Errorf("osv-scanner: %v\n%s", err, tail(stderr.String(), 3000))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		run.maxRSS = ru.Maxrss << 10 // KiB on Linux
		run.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var rep struct {
		Results []struct {
			Packages []struct {
				Package struct {
					Name          string `json:"name"`
					OSPackageName string `json:"os_package_name"`
					Version       string `json:"version"`
					Ecosystem     string `json:"ecosystem"`
				} `json:"package"`
				Vulnerabilities []struct {
					ID string `json:"id"`
				} `json:"vulnerabilities"`
				Groups []struct {
					IDs      []string `json:"ids"`
					Analysis map[string]struct {
						Unimportant bool `json:"unimportant"`
					} `json:"experimental_analysis"`
				} `json:"groups"`
			} `json:"packages"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("osv-scanner's JSON: %w", err)
	}
	run.set = set{}
	for _, r := range rep.Results {
		for _, p := range r.Packages {
			// An OS package is reported under its source package's name
			// (the name Debian's records use), with the installed binary
			// package's in os_package_name; Berth names the binary one.
			name := p.Package.Name
			if p.Package.OSPackageName != "" {
				name = p.Package.OSPackageName
			}
			unimportant := map[string]bool{}
			for _, g := range p.Groups {
				for id, a := range g.Analysis {
					unimportant[id] = a.Unimportant
				}
			}
			for _, v := range p.Vulnerabilities {
				note := ""
				if unimportant[v.ID] {
					note = "unimportant (hidden from osv-scanner's table)"
				}
				run.set.add(finding{ecosystem: p.Package.Ecosystem, pkg: name, version: p.Package.Version, id: v.ID}, note)
			}
		}
	}
	return run, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// result is a comparison.
type result struct {
	same                    []finding
	explained               []explainedDiff
	berthOnly, osvOnly      []finding
	perEcosystem            map[string]int
	berthTotal, osvTotal    int
	missingEcosystemsInBoth []string
}

type explainedDiff struct {
	finding
	side, why string
}

// mustFind are the ecosystems the image holds vulnerable packages of: a
// comparison that found nothing in one of them compared nothing there.
var mustFind = []string{"Debian", "Go", "PyPI", "npm"}

func compare(berth, osv set) *result {
	r := &result{perEcosystem: map[string]int{}, berthTotal: len(berth), osvTotal: len(osv)}
	for _, f := range berth.sorted() {
		if _, ok := osv[f]; ok {
			r.same = append(r.same, f)
			r.perEcosystem[f.ecosystem]++
			continue
		}
		if why := explain("berth", f); why != "" {
			r.explained = append(r.explained, explainedDiff{f, "Berth only", why})
			continue
		}
		r.berthOnly = append(r.berthOnly, f)
	}
	for _, f := range osv.sorted() {
		if _, ok := berth[f]; ok {
			continue
		}
		if why := explain("osv-scanner", f); why != "" {
			r.explained = append(r.explained, explainedDiff{f, "osv-scanner only", why})
			continue
		}
		r.osvOnly = append(r.osvOnly, f)
	}
	for _, eco := range mustFind {
		if r.perEcosystem[eco] == 0 {
			r.missingEcosystemsInBoth = append(r.missingEcosystemsInBoth, eco)
		}
	}
	return r
}

func (r *result) print(w io.Writer) {
	fmt.Fprintf(w, "Berth: %d findings; osv-scanner: %d; in both: %d", r.berthTotal, r.osvTotal, len(r.same))
	var ecos []string
	for eco, n := range r.perEcosystem {
		ecos = append(ecos, fmt.Sprintf("%s %d", eco, n))
	}
	sort.Strings(ecos)
	fmt.Fprintf(w, " (%s)\n", strings.Join(ecos, ", "))
	for _, d := range r.explained {
		fmt.Fprintf(w, "  explained, %s: %s — %s\n", d.side, d.finding, d.why)
	}
	for _, f := range r.berthOnly {
		fmt.Fprintf(w, "  DIFFERENCE, Berth only: %s\n", f)
	}
	for _, f := range r.osvOnly {
		fmt.Fprintf(w, "  DIFFERENCE, osv-scanner only: %s\n", f)
	}
}

func (r *result) err() error {
	var msgs []string
	if n := len(r.berthOnly) + len(r.osvOnly); n > 0 {
		msgs = append(msgs, fmt.Sprintf("%d unexplained differences (Berth only %d, osv-scanner only %d)", n, len(r.berthOnly), len(r.osvOnly)))
	}
	if len(r.missingEcosystemsInBoth) > 0 {
		msgs = append(msgs, "no finding in both for "+strings.Join(r.missingEcosystemsInBoth, ", ")+": the image or the data lost its vulnerable packages")
	}
	if len(msgs) > 0 {
		return errors.New(strings.Join(msgs, "; "))
	}
	return nil
}
